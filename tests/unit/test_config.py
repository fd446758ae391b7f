"""The settings model: the shipped file, interpolation, and one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from domain.config import PROJECT_ROOT, ConfigError, Role, load_settings, parse_settings

SHIPPED = PROJECT_ROOT / "config.yaml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return path


def problems(path: Path, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as exc:
        load_settings(path, env=env or {})
    return exc.value.problems


def test_shipped_config_has_one_demo_user_per_role() -> None:
    settings = load_settings(SHIPPED, env={})
    roles = {name: set(u.roles) for name, u in settings.users.items()}
    assert roles == {
        "alice": {Role.ENGINEER},
        "bob": {Role.ENGINEER},
        "carol": {Role.CARE_AGENT},
        "dave": {Role.MANAGER},
        "erin": {Role.FRAUD_ANALYST},
        "root": {Role.ADMIN},
    }
    assert settings.server.port == 3000
    assert settings.slack.api_url == "https://slack.com/api/"
    assert not settings.slack.socket_mode
    assert settings.database_url == f"sqlite:///{PROJECT_ROOT / 'var' / 'switchboard.db'}"


def test_environment_fills_variables_and_secrets_stay_hidden() -> None:
    env = {
        "SWITCHBOARD_DATABASE_URL": "postgresql://sb:pw@127.0.0.1/sb",
        "SLACK_BOT_TOKEN": "xoxb-secret-token",
        "SLACK_APP_TOKEN": "xapp-1-token",
        "SWITCHBOARD_PORT": "3100",
        "SLACK_API_URL": "http://127.0.0.1:9999/api/",
    }
    settings = load_settings(SHIPPED, env=env)
    assert settings.database.url == "postgresql://sb:pw@127.0.0.1/sb"
    assert settings.server.port == 3100
    assert settings.slack.socket_mode
    assert settings.slack.bot_token is not None
    assert settings.slack.bot_token.get_secret_value() == "xoxb-secret-token"
    assert "xoxb-secret-token" not in repr(settings)
    assert settings.slack.api_url == "http://127.0.0.1:9999/api/"


def test_settings_are_frozen() -> None:
    settings = load_settings(SHIPPED, env={})
    with pytest.raises(ValidationError):
        settings.server.port = 1  # type: ignore[misc]


def test_missing_variable_names_file_key_and_variable(tmp_path: Path) -> None:
    path = write(tmp_path, "slack:\n  bot_token: ${NOT_SET_ANYWHERE}\n")
    assert problems(path) == [
        f"{path}: slack.bot_token: environment variable NOT_SET_ANYWHERE is not set"
    ]


def test_default_applies_when_variable_is_empty(tmp_path: Path) -> None:
    path = write(tmp_path, "server:\n  port: ${PORT_X:-3200}\n")
    assert load_settings(path, env={"PORT_X": ""}).server.port == 3200
    assert load_settings(path, env={"PORT_X": "3300"}).server.port == 3300


def test_unknown_key_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, "server:\n  prot: 3000\n")
    assert problems(path) == [f"{path}: server.prot: unknown key"]


def test_wrong_type_names_the_key_and_value(tmp_path: Path) -> None:
    path = write(tmp_path, "server:\n  port: lots\nbilling:\n  tax_rate: 7\n")
    got = problems(path)
    assert len(got) == 2
    assert got[0].startswith(f"{path}: server.port: Input should be a valid integer")
    assert "'lots'" in got[0]
    assert got[1].startswith(f"{path}: billing.tax_rate: Input should be less than or equal to 1")


def test_nested_list_errors_carry_their_index(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "digests:\n  - name: daily\n    cron: '0 8 * *'\n    sections: [network]\n",
    )
    (line,) = problems(path)
    assert line.startswith(f"{path}: digests[0].cron: cron needs 5 fields")


def test_unknown_role_and_time_zone(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "users:\n  zed: {roles: [wizard]}\n"
        "automation:\n  change_windows: [{start: '00:00', end: '06:00', timezone: Mars/Base}]\n",
    )
    got = problems(path)
    assert any(p.startswith(f"{path}: users.zed.roles[0]: Input should be 'engineer'") for p in got)
    assert any("unknown time zone 'Mars/Base'" in p for p in got)


def test_broken_yaml_names_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "server:\n  port: 3000\n  host: [127.0.0.1\n")
    (line,) = problems(path)
    assert line.startswith(f"{path}:4:1: not valid YAML")


def test_missing_file(tmp_path: Path) -> None:
    assert problems(tmp_path / "nope.yaml") == [f"{tmp_path / 'nope.yaml'}: no such config file"]


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    assert problems(write(tmp_path, "- a\n- b\n")) == [
        f"{tmp_path / 'config.yaml'}: the top level must be a mapping of sections"
    ]


def test_duplicate_slack_ids_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "users:\n  a: {slack_id: U1}\n  b: {slack_id: U1}\n")
    (line,) = problems(path)
    assert "slack_id U1 is given to more than one user" in line


def test_relative_sqlite_path_is_relative_to_the_config_file(tmp_path: Path) -> None:
    path = write(tmp_path, "database:\n  url: sqlite:///data/x.db\n")
    settings = parse_settings({"database": {"url": "sqlite:///data/x.db"}}, path, env={})
    assert settings.database_url == f"sqlite:///{tmp_path / 'data' / 'x.db'}"


def test_the_readme_config_reference_is_the_generated_one() -> None:
    from bot.config_reference import END, START, reference
    from domain.config import PROJECT_ROOT

    readme = (PROJECT_ROOT / "README.md").read_text()
    shown = readme.split(START, 1)[1].split(END, 1)[0].strip()
    assert shown == reference().strip(), "run: switchboard config reference, and paste it"


def test_the_fraud_model_folder_is_resolved_once_against_the_config_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """/fraud check, the scoring job and the CLI all load the model from the folder the
    file names, whatever the working directory (chat used to read it relative to it)."""
    from bot.bootstrap import build_services
    from domain.db import Database
    from models.fraud.artifact import ModelMissing

    site = tmp_path / "site"
    site.mkdir()
    path = write(site, "fraud:\n  model_dir: models/fraud\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    settings = load_settings(path, env={})
    assert settings.fraud.model_dir == str(site / "models" / "fraud")
    assert load_settings(
        write(tmp_path, "fraud:\n  model_dir: /srv/m\n"), env={}
    ).fraud.model_dir == ("/srv/m")
    db = Database(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        desk = build_services(settings, db).fraud
        assert desk.model_dir == site / "models" / "fraud"
        with pytest.raises(ModelMissing, match=f"no fraud model in {site / 'models' / 'fraud'}"):
            desk.model()
    finally:
        db.dispose()
