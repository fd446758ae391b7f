"""/inventory through the router on seeded data, with live facts from the lab."""

from __future__ import annotations

from automation.lab.lab import Lab
from domain.db import Database
from tests.world import lab_router


def test_inventory_commands(lab_db: tuple[Database, Lab]) -> None:
    db, lab = lab_db
    router, access = lab_router(db)
    alice = access.user("alice")

    card = router.handle(alice, "/inventory show r1-mum")
    fields = {f.label: f.value for f in card.sections[0].fields}
    assert card.text == "r1-mum (lab)"
    assert fields["vendor / platform"] == "Cisco / cisco_ios"
    assert fields["management"].startswith("127.0.0.1:")
    assert [b.command for b in card.buttons] == [
        "/inventory interfaces r1-mum",
        "/inventory facts r1-mum",
    ]
    by_serial = router.handle(alice, f"/inventory show {fields['serial']}")
    assert by_serial.text == "r1-mum (lab)"

    typo = router.handle(alice, "/inventory show r1-mun")
    assert (typo.ok, typo.text, typo.hint) == (False, "no device 'r1-mun'", "did you mean r1-mum?")

    found = router.handle(alice, "/inventory search r1")
    assert found.tables[0].rows[0][0] == "r1-mum"  # the best match first
    everything = router.handle(alice, "/inventory search")
    assert everything.text.endswith("showing 1-15")
    assert everything.buttons[0].command == "/inventory search page=2"
    page2 = router.handle(alice, everything.buttons[0].command)
    assert page2.text.endswith("showing 16-30")
    assert router.handle(alice, "/inventory search role:access site:MUM-AND1").ok
    hostile = router.handle(alice, '''/inventory search "%' OR 1=1 --"''')
    assert hostile.ok and hostile.text.startswith("0 devices match")
    bad = router.handle(alice, "/inventory search role:wizard")
    assert not bad.ok and bad.text == "no role 'wizard'"

    site = router.handle(alice, "/inventory site mum-and1")
    assert site.text == "Site MUM-AND1" and "r1-mum" in {r[0] for r in site.tables[0].rows}

    ports = router.handle(alice, "/inventory interfaces r1-mum")
    assert ports.tables[0].rows[0][0] == "GigabitEthernet0/0/0"

    live = router.handle(alice, "/inventory facts r1-mum")
    assert live.ok, live.text
    assert {f.label: f.value for f in live.sections[0].fields}["vendor"] == "Cisco"
    lab.stop_device("r1-mum")
    down = router.handle(alice, "/inventory facts r1-mum")
    assert not down.ok and down.text.startswith("r1-mum does not answer on 127.0.0.1:")
    assert down.hint.startswith("check the device is up")

    refused = router.handle(access.user("carol"), "/inventory show r1-mum")
    assert refused.text == "/inventory show needs the engineer or manager role; you have care_agent"
