"""CSV files read within bounds and written safe for spreadsheets (domain.csvfiles).

Each bad file is one line naming the file, the row and the column; a huge line is
refused after its first chunk, in a few MB; a formula-looking cell is written as text.
"""

from __future__ import annotations

import csv
import io
import time
import tracemalloc
from pathlib import Path
from typing import IO

import polars as pl
import pytest

from bot.cli import main
from domain.csvfiles import (
    MAX_RECORD_BYTES,
    CsvBlocks,
    CsvFileError,
    read_csv_text,
    spreadsheet_safe,
    write_csv,
)
from models.fraud.synthetic import synthetic_usage
from models.fraud.usage_csv import (
    BadLines,
    read_labels_csv,
    read_usage_csv,
    write_labels_csv,
    write_usage_csv,
)

HEADER = (
    "record_id,subscriber,started_at,service,direction,counterpart,counterpart_country,"
    "duration_s,volume_bytes,cell_id,imei,roaming,charge\n"
)
GOOD = "1,911,2026-10-01T00:00:01Z,voice,out,919812345678,IN,60,0,C1,353328110000001,0,\n"


def usage_file(tmp_path: Path, body: bytes, rows: int = 1_203) -> Path:
    """A usage CSV: the header, `rows - 1` good records, then `body`."""
    path = tmp_path / "usage.csv"
    path.write_bytes((HEADER + GOOD * (rows - 1)).encode() + body)
    return path


def refusal(path: Path, **kw: int) -> CsvFileError:
    with pytest.raises(CsvFileError) as exc:
        list(read_usage_csv(path, **kw))
    return exc.value


class CountingReader(io.RawIOBase):
    """A real file, read through a count of the bytes handed out."""

    def __init__(self, f: IO[bytes]) -> None:
        self.f, self.handed = f, 0

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        data = self.f.read(n)
        self.handed += len(data)
        return data


# -- reading ------------------------------------------------------------------------------


def test_bad_utf8_names_the_row_column_field_and_byte(tmp_path: Path) -> None:
    # Row 1,204: "1,911,…,voice,out,é€9" then 0xff: column 41 counts characters, not bytes.
    row = GOOD.replace("919812345678", "é€9@12345678").encode().replace(b"@", b"\xff")
    path = usage_file(tmp_path, row)
    err = refusal(path)
    assert str(err) == f"{path}: row 1,204, column 41 (counterpart): not UTF-8 (byte 0xff)"
    assert "UTF-8" in err.hint
    # The same when the bad byte is in a later chunk, and when a chunk cuts a character in two.
    for chunk in (64, 1_000, 4_096):
        with path.open("rb") as f, pytest.raises(CsvFileError) as exc:
            list(CsvBlocks(f, str(path), chunk_bytes=chunk))
        assert str(exc.value) == str(err)


def test_a_truncated_character_at_the_end_is_named(tmp_path: Path) -> None:
    path = usage_file(tmp_path, GOOD.rstrip("\n").encode() + "é".encode()[:1], rows=3)
    assert str(refusal(path)).endswith(": row 4, column 80 (charge): not UTF-8 (byte 0xc3)")


def test_a_byte_order_mark_is_allowed(tmp_path: Path) -> None:
    path = tmp_path / "usage.csv"
    path.write_bytes(b"\xef\xbb\xbf" + (HEADER + GOOD * 3).encode())
    assert sum(f.height for f in read_usage_csv(path)) == 3


def test_an_unclosed_quote_names_the_row_and_column_where_it_opens(tmp_path: Path) -> None:
    path = usage_file(tmp_path, GOOD.replace(",C1,", ',"C1,').encode() + GOOD.encode() * 50)
    err = refusal(path)
    assert str(err) == (
        f"{path}: row 1,204, column 59 (cell_id): the quote here is not closed on that line"
    )
    assert '""' in err.hint
    # The last line, with no newline after it, too.
    path = usage_file(tmp_path, GOOD.replace("IN,", '"IN,').rstrip("\n").encode(), rows=2)
    assert str(refusal(path)).endswith(
        ": row 3, column 51 (counterpart_country): the quote here is not closed on that line"
    )


def test_quoted_fields_may_hold_commas_and_doubled_quotes(tmp_path: Path) -> None:
    path = usage_file(
        tmp_path, GOOD.replace(",C1,", ',"C1, north ""A""",').encode() + GOOD.encode(), rows=2
    )
    frame = pl.concat(list(read_usage_csv(path)))
    assert frame["cell_id"].to_list() == ["C1", 'C1, north "A"', "C1"]


def test_ragged_rows_are_named_quoted_or_not(tmp_path: Path) -> None:
    path = usage_file(
        tmp_path,
        (
            GOOD.replace(",C1,", ',"C1,x",')  # row 3: 13 fields, one holds a comma
            + GOOD.replace(",C1,", ',"C1",extra,')  # row 4: 14 fields, quoted
            + GOOD.replace(",C1,", ",C1,extra,")  # row 5: 14 fields
            + "5,911,2026-10-01T00:00:01Z\n"  # row 6: 3 fields
        ).encode(),
        rows=2,
    )
    bad = BadLines(str(path))
    assert sum(f.height for f in read_usage_csv(path, bad)) == 2
    assert bad.examples == [
        (4, "14 fields, expected 13"),
        (5, "14 fields, expected 13"),
        (6, "3 fields, expected 13"),
    ]


def test_a_field_with_text_after_its_closing_quote_is_one_line_from_polars(
    tmp_path: Path,
) -> None:
    path = usage_file(tmp_path, GOOD.replace(",C1,", ',"C1"x,').encode(), rows=40)
    with pytest.raises(Exception) as exc:
        list(read_usage_csv(path))
    assert str(exc.value) == (
        f'{path} line 41: cannot be read as CSV: Field `"C1"x` is not properly escaped.'
    )
    assert "\n" not in str(exc.value)


def test_a_1_mb_line_is_refused_after_its_first_chunk(tmp_path: Path) -> None:
    path = usage_file(tmp_path, b"9," + b"x" * 1_000_000 + b"\n" + GOOD.encode(), rows=2)
    with path.open("rb") as f:
        counted = CountingReader(f)
        with pytest.raises(CsvFileError) as exc:
            list(CsvBlocks(counted, str(path), chunk_bytes=64 * 1024))  # type: ignore[arg-type]
    assert str(exc.value) == (
        f"{path}: row 3 is longer than 65,536 bytes (64 KiB), the most a record may be"
    )
    assert counted.handed <= 3 * 64 * 1024  # not the whole line


def test_a_file_with_cr_only_line_ends_says_so(tmp_path: Path) -> None:
    """Classic Mac line ends (CR alone) make one long row: the refusal says why."""
    text = (HEADER + GOOD * 1_000).replace("\n", "\r")
    path = tmp_path / "usage.csv"
    path.write_bytes(text.encode())
    with path.open("rb") as f, pytest.raises(CsvFileError) as exc:
        list(CsvBlocks(f, str(path), chunk_bytes=64 * 1024))
    assert str(exc.value) == (
        f"{path}: row 1 runs on for 65,536 bytes (64 KiB) with line ends that are a "
        "carriage return alone (CR), which CSV readers do not take"
    )
    assert exc.value.hint == "save the file with LF or CRLF line ends (Windows or Unix CSV)"


def test_a_50_mb_line_is_refused_quickly_in_a_few_mb(tmp_path: Path) -> None:
    path = tmp_path / "usage.csv"
    with path.open("wb") as f:
        f.write((HEADER + GOOD).encode() + b"7,")
        for _ in range(50):
            f.write(b"9" * 1024 * 1024)
        f.write(b"\n" + GOOD.encode())
    tracemalloc.start()
    started = time.perf_counter()
    try:
        err = refusal(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - started < 1.0
    assert peak < 5 * 1024 * 1024, f"peak {peak:,} bytes"
    assert str(err).startswith(f"{path}: row 3 is longer than 65,536 bytes")
    assert MAX_RECORD_BYTES == 64 * 1024  # the bound README and the docstrings name


def test_an_empty_file_and_a_missing_file_are_one_line(tmp_path: Path) -> None:
    path = tmp_path / "usage.csv"
    path.write_bytes(b"")
    assert str(refusal(path)) == f"{path}: the file is empty"
    assert str(refusal(tmp_path / "nope.csv")).startswith(f"cannot read {tmp_path / 'nope.csv'}")


def test_records_come_back_whole_across_blocks(tmp_path: Path) -> None:
    frame, _ = synthetic_usage(60, seed=3, records_per_subscriber=20)
    path = tmp_path / "usage.csv"
    write_usage_csv([frame], path)
    with path.open("rb") as f:
        blocks = CsvBlocks(f, str(path), block_bytes=3_000, chunk_bytes=1_000)
        got = list(blocks)
    assert blocks.header == list(HEADER.strip().split(","))
    assert all(b.data.endswith(b"\n") for b in got)
    rows = [b.row for b in got]
    assert rows[0] == 2
    assert rows == [2 + sum(b.data.count(b"\n") for b in got[:k]) for k in range(len(got))]
    assert b"".join(b.data for b in got) == path.read_bytes()[len(HEADER) :]


def test_multiline_mode_names_the_row_where_an_unclosed_quote_opens(tmp_path: Path) -> None:
    path = tmp_path / "payments.csv"
    path.write_text(
        "reference,account,amount,received_at,method\n"
        'P1,BA1,10,2026-11-02,"upi\nand more",x\n'  # row 2 holds a newline: fine
        'P2,BA1,10,2026-11-02,"upi\n' + "P3,BA1,10,2026-11-02,upi\n" * 30
    )
    with pytest.raises(CsvFileError) as exc:
        read_csv_text(path, multiline=True)
    assert str(exc.value) == f"{path}: row 3, column 22 (method): the quote here is never closed"
    # In a big file the open quote runs into the record bound first; it is still named.
    path.write_text(
        "reference,account,amount,received_at,method\n"
        'P2,BA1,10,2026-11-02,"upi\n' + "P3,BA1,10,2026-11-02,upi\n" * 5_000
    )
    with pytest.raises(CsvFileError) as exc:
        read_csv_text(path, multiline=True)
    assert str(exc.value) == (
        f"{path}: row 2, column 22 (method): the quote here is not closed within "
        "65,536 bytes (64 KiB)"
    )


# -- writing ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ('=HYPERLINK("http://evil","x")', '\'=HYPERLINK("http://evil","x")'),
        ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("-12.50", "-12.50"),  # a negative amount is a number, not a formula
        ("+919812345678", "+919812345678"),
        ("1e-5", "1e-5"),
        ("plain", "plain"),
        ("", ""),
    ],
)
def test_a_formula_cell_is_written_as_text(cell: str, written: str) -> None:
    assert spreadsheet_safe(cell) == written
    rows = io.BytesIO()
    write_csv(rows, [[cell, -12.5]], header=["cell", "amount"])
    frame = io.BytesIO()
    write_csv(frame, pl.DataFrame({"cell": [cell], "amount": [-12.5]}))
    for out in (rows, frame):
        back = list(csv.reader(io.StringIO(out.getvalue().decode(), newline="")))
        assert back == [["cell", "amount"], [written, "-12.5"]]


def test_exports_escape_formulas_and_keep_numbers(tmp_path: Path) -> None:
    frame, labels = synthetic_usage(40, seed=4, records_per_subscriber=5)
    frame = frame.with_columns(
        cell_id=pl.lit('=HYPERLINK("http://x")'), imei=pl.lit("@SUM(1)")
    ).with_columns(charge=pl.lit(-12.5))
    path = tmp_path / "usage.csv"
    write_usage_csv([frame], path)
    rows = list(csv.DictReader(path.open(newline="")))
    assert {r["cell_id"] for r in rows} == {'\'=HYPERLINK("http://x")'}
    assert {r["imei"] for r in rows} == {"'@SUM(1)"}
    assert {r["charge"] for r in rows} == {"-12.5"}
    labels = labels.with_columns(subscriber=pl.lit("-1+1"))
    write_labels_csv(labels.head(1), tmp_path / "labels.csv")
    assert "'-1+1," in (tmp_path / "labels.csv").read_text()


def test_labels_are_checked_like_usage(tmp_path: Path) -> None:
    path = tmp_path / "labels.csv"
    path.write_bytes(b"subscriber,kind,since\n911,irsf,2026-10-01T00:00:00Z\n9\xfe2,irsf,\n")
    with pytest.raises(CsvFileError, match=r"row 3, column 2 \(subscriber\): not UTF-8"):
        read_labels_csv(path)


# -- the payments file, through the CLI ---------------------------------------------------


@pytest.mark.parametrize(
    ("body", "said"),
    [
        (b"P1,BA1,10,2026-11-02,up\xe9\n", "row 2, column 24 (method): not UTF-8 (byte 0xe9)"),
        (
            b'P1,BA1,"10,2026-11-02,upi\n',
            "row 2, column 8 (amount): the quote here is never closed",
        ),
        (b"P1,BA1,10,2026-11-02," + b"u" * 70_000 + b"\n", "row 2 is longer than 65,536 bytes"),
    ],
)
def test_a_bad_payment_file_is_one_line_and_a_hint(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    body: bytes,
    said: str,
) -> None:
    monkeypatch.setenv("SWITCHBOARD_DATABASE_URL", f"sqlite:///{tmp_path / 'pay.db'}")
    path = tmp_path / "payments.csv"
    path.write_bytes(b"reference,account,amount,received_at,method\n" + body)
    code = main(["billing", "payments", str(path)])
    out, err = capsys.readouterr()
    assert code == 1 and out == ""
    lines = err.splitlines()
    assert len(lines) == 2, err
    assert lines[0].startswith(f"error: {path}: {said}")
    assert lines[1].startswith("hint: ")
