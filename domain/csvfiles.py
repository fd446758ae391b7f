"""CSV files read within bounds, and written safe to open in a spreadsheet.

Reading. Before a parser (polars, the csv module) sees any of a file, `CsvBlocks`
scans it in chunks of 1 MiB, never holding more than a block of whole records, and
checks that:

- it is UTF-8 (a byte-order mark at the start is allowed);
- no record is longer than `MAX_RECORD_BYTES` (64 KiB): a usage record is about 130
  bytes and a payment about 60, so a longer one is a broken file, and a 300 MB "line"
  is refused after its first chunk instead of being read whole;
- every quote is closed: on the line it opens (one record per line, the usage
  interchange) or by the end of the record (`multiline`, a field may hold a newline);
- there is a header row.

The first problem found is one line naming the file, the row (the header is row 1; a
record with newlines inside quotes is one row) and, where it has one, the column (the
character on that row, and the field's name). Blocks hand on whole records only.

Writing. `write_csv` is the one writer of CSV files meant for people (scores, exports,
tables attached in Slack). A text cell a spreadsheet would take for a formula (it starts
with = + - @, a tab or a carriage return) gets a leading single quote, as OWASP advises
against CSV injection. Numbers stay numbers: numeric columns are written as they are,
and a text cell that is a plain number (-12.50, +919812345678) is not a formula.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, cast

from domain.errors import DomainError

if TYPE_CHECKING:
    import polars as pl

#: The longest record (line, or row with quoted newlines) read, in bytes.
MAX_RECORD_BYTES = 64 * 1024
#: How much of a file is scanned at a time.
CHUNK_BYTES = 1024 * 1024
#: Blocks of whole records handed on are about this big.
BLOCK_BYTES = 16 * 1024 * 1024
#: Cells starting with one of these are formulas to a spreadsheet (OWASP, CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: A plain number: a spreadsheet reads it as a number, never as a formula.
PLAIN_NUMBER = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
_PLAIN_NUMBER = re.compile(PLAIN_NUMBER)
_QUOTE, _COMMA, _NEWLINE = 34, 44, 10
_BOM = b"\xef\xbb\xbf"


class CsvFileError(DomainError):
    """A CSV file that cannot be read: the message names the file, row and column."""


@dataclass(frozen=True)
class CsvBlock:
    """Whole records of a checked file: `row` is the first one's row (the header is 1)."""

    row: int
    data: bytes


def open_csv(path: str | Path) -> IO[bytes]:
    """The file opened for `CsvBlocks`, or one line saying why it cannot be."""
    try:
        return Path(path).open("rb")
    except OSError as exc:
        raise CsvFileError(
            f"cannot read {path}: {exc.strerror or exc}", hint="check the path"
        ) from None


class CsvBlocks:
    """A CSV file's header, then its records in blocks, each block checked before it is handed on.

    `header` is the first row's names (stripped, lower case). Iterating yields `CsvBlock`s
    of whole records after the header; a problem raises `CsvFileError` when the scan
    reaches it, before the block that holds it is handed on.
    """

    def __init__(
        self,
        source: IO[bytes],
        name: str,
        *,
        multiline: bool = False,
        block_bytes: int = BLOCK_BYTES,
        max_record_bytes: int = MAX_RECORD_BYTES,
        chunk_bytes: int = CHUNK_BYTES,
        hint: str = "the first line must name the columns",
    ) -> None:
        self.name = name
        self.multiline = multiline
        self.block_bytes = block_bytes
        self.max_record_bytes = max_record_bytes
        self.chunk_bytes = min(chunk_bytes, block_bytes)
        self.header: list[str] = []
        self._source = source
        self._blocks = self._scan()
        first = next(self._blocks, None)
        #: The header row as it is in the file (without a byte-order mark).
        self.header_line = first.data if first is not None else b""
        names = _fields(self.header_line.decode("utf-8"))
        if not any(n.strip() for n in names):
            raise CsvFileError(f"{name}: the file is empty", hint=f"expected a header line: {hint}")
        self.header = [n.strip().lower() for n in names]

    def __iter__(self) -> Iterator[CsvBlock]:
        return self._blocks

    def text(self) -> str:
        """The whole file as text, header first, every block checked (for small files)."""
        return self.header_line.decode() + "".join(block.data.decode() for block in self)

    # -- the scan ------------------------------------------------------------------------

    def _scan(self) -> Iterator[CsvBlock]:
        import numpy as np

        buf = bytearray()  # records not yet handed on, then the record being read
        base = 0  # file offset of buf[0] (after a byte-order mark)
        row = 1  # the row of buf's first record
        rec_start = 0  # file offset where the record being read starts
        in_quote = False
        utf8_tail = b""  # an incomplete UTF-8 sequence cut by the chunk's end
        header_sent = False
        block_row = 2  # the row of the next block's first record
        offset = 0
        first = True
        while True:
            chunk = self._source.read(self.chunk_bytes)
            if first:
                first = False
                if chunk.startswith(_BOM):
                    chunk = chunk[len(_BOM) :]
            final = not chunk
            arr = np.frombuffer(chunk, dtype=np.uint8)
            quotes = np.flatnonzero(arr == _QUOTE)
            newlines = np.flatnonzero(arr == _NEWLINE)
            odd = ((np.searchsorted(quotes, newlines) + int(in_quote)) & 1).astype(bool)
            ends = newlines[~odd] if self.multiline else newlines
            ends_abs = ends.astype(np.int64) + offset
            problems: list[tuple[int, int, str]] = []  # (file offset, row, what)
            # A line that ends inside a quote: one record per line, so the quote is open.
            if not self.multiline and odd.any():
                k = int(np.argmax(odd))
                problems.append((int(newlines[k]) + offset, row + k, "quote"))
            # Records too long, and the record still being read when it already is.
            starts = np.concatenate(([rec_start], ends_abs[:-1] + 1))
            long = np.flatnonzero(ends_abs - starts > self.max_record_bytes)
            if long.size:
                k = int(long[0])
                problems.append((int(starts[k]) + self.max_record_bytes, row + k, "long"))
            tail_start = int(ends_abs[-1]) + 1 if ends.size else rec_start
            if offset + len(chunk) - tail_start > self.max_record_bytes:
                problems.append((tail_start + self.max_record_bytes, row + int(ends.size), "long"))
            # UTF-8, decoded to check only; an incomplete sequence at the end waits.
            data = utf8_tail + chunk
            try:
                data.decode("utf-8")
                utf8_tail = b""
            except UnicodeDecodeError as exc:
                if not final and exc.end == len(data) and exc.reason == "unexpected end of data":
                    utf8_tail = data[exc.start :]
                else:
                    at = offset - len(utf8_tail) + exc.start
                    k = int(np.searchsorted(ends_abs, at))
                    problems.append((at, row + k, f"utf8:{data[exc.start]:02x}"))
            if final:
                tail = buf[rec_start - base :]
                if in_quote and (self.multiline or tail.strip()):
                    problems.append((offset, row, "unclosed"))
            if problems:
                buf.extend(chunk)
                at, bad_row, what = min(problems)
                raise self._problem(buf, base, ends_abs, rec_start, at, bad_row, what)
            buf.extend(chunk)
            if quotes.size:
                in_quote = bool((int(in_quote) + quotes.size) & 1)
            if ends.size:
                row += int(ends.size)
                rec_start = int(ends_abs[-1]) + 1
            offset += len(chunk)
            # Hand on the header alone, then blocks of whole records.
            if not header_sent and (ends.size or final):
                header_sent = True
                cut = (int(ends_abs[0]) + 1 if ends.size else offset) - base
                yield CsvBlock(1, _take(buf, cut))
                del buf[:cut]
                base += cut
            if header_sent and (len(buf) >= self.block_bytes or final):
                cut = (offset if final else rec_start) - base
                data = _take(buf, cut)
                if data and not data.isspace():
                    yield CsvBlock(block_row, data)
                del buf[:cut]
                base += cut
                block_row = row
            if final:
                return

    def _problem(
        self,
        buf: bytearray,
        base: int,
        ends_abs: Any,
        rec_start: int,
        at: int,
        row: int,
        what: str,
    ) -> CsvFileError:
        """The one line saying what is wrong where."""
        import numpy as np

        # Where the record holding `at` starts: after the last record end before it.
        k = int(np.searchsorted(ends_abs, at))
        start = int(ends_abs[k - 1]) + 1 if k > 0 else rec_start
        if not self.header and base == 0 and len(ends_abs) and row > 1:
            # The header is in this very chunk: name the fields from it.
            self.header = [
                n.strip().lower() for n in _fields(buf[: ends_abs[0]].decode(errors="replace"))
            ]
        if what == "long":
            kib = self.max_record_bytes / 1024
            limit = f"{self.max_record_bytes:,} bytes" + (f" ({kib:.0f} KiB)" if kib >= 1 else "")
            record = bytes(buf[start - base : at - base])
            if self.multiline and record.count(b'"') % 2:  # a quote left open ran on
                where = self._where(row, record[: _open_quote(record)])
                return CsvFileError(
                    f"{self.name}: {where}: the quote here is not closed within {limit}",
                    hint='close the quote; a quote inside a quoted field is written twice ("")',
                )
            if b"\r" in record:  # classic Mac line ends: no \n anywhere
                return CsvFileError(
                    f"{self.name}: row {row:,} runs on for {limit} with line ends that are "
                    "a carriage return alone (CR), which CSV readers do not take",
                    hint="save the file with LF or CRLF line ends (Windows or Unix CSV)",
                )
            return CsvFileError(
                f"{self.name}: row {row:,} is longer than {limit}, the most a record may be",
                hint="one record per line; is this the CSV file you meant?",
            )
        record = bytes(buf[start - base : at - base + 1])
        if what.startswith("utf8:"):
            prefix = record[: at - start]
            where = self._where(row, prefix)
            return CsvFileError(
                f"{self.name}: {where}: not UTF-8 (byte 0x{what[5:]})",
                hint="save the file as UTF-8 (a spreadsheet's 'CSV UTF-8')",
            )
        opened = _open_quote(record)
        where = self._where(row, record[:opened])
        if what == "quote" or not self.multiline:
            return CsvFileError(
                f"{self.name}: {where}: the quote here is not closed on that line",
                hint='close the quote; a quote inside a quoted field is written twice ("")',
            )
        return CsvFileError(
            f"{self.name}: {where}: the quote here is never closed",
            hint='close the quote; a quote inside a quoted field is written twice ("")',
        )

    def _where(self, row: int, prefix: bytes) -> str:
        """ "row R, column C (field)" for the character just after `prefix` on row R."""
        column = len(prefix.decode("utf-8", errors="replace")) + 1
        field = _field_index(prefix)
        if row == 1 or field >= len(self.header):
            named = f"field {field + 1}"
        else:
            named = self.header[field] or f"field {field + 1}"
        return f"row {row:,}, column {column:,} ({named})"


def _take(buf: bytearray, n: int) -> bytes:
    """The first `n` bytes of `buf`, copied once."""
    with memoryview(buf) as view:
        return bytes(view[:n])


def _fields(line: str) -> list[str]:
    return next(csv.reader([line.strip("\r\n")]), [])


def _field_index(prefix: bytes) -> int:
    """Which field (0-based) the byte after `prefix` is in: commas outside quotes before it."""
    field, quoted = 0, False
    for b in prefix:
        if b == _QUOTE:
            quoted = not quoted
        elif b == _COMMA and not quoted:
            field += 1
    return field


def _open_quote(record: bytes) -> int:
    """The offset of the quote that opens the field left open at the end of `record`."""
    opened, closed, quoted = 0, -2, False
    for i, b in enumerate(record):
        if b != _QUOTE:
            continue
        if quoted:
            quoted, closed = False, i
        else:
            quoted = True
            if i != closed + 1:  # "" inside a quoted field does not open a new one
                opened = i
    return opened


def read_csv_text(path: str | Path, *, multiline: bool = False, hint: str = "") -> str:
    """A whole CSV file as text after the checks, or one line saying where it breaks."""
    with open_csv(path) as f:
        return CsvBlocks(f, str(path), multiline=multiline, hint=hint or "a header line").text()


# -- writing ------------------------------------------------------------------------------


def spreadsheet_safe(cell: object) -> object:
    """A text cell a spreadsheet would run as a formula, quoted to stay text; others as given."""
    if (
        isinstance(cell, str)
        and cell.startswith(FORMULA_STARTS)
        and not _PLAIN_NUMBER.fullmatch(cell)
    ):
        return "'" + cell
    return cell


def write_csv(
    target: str | Path | IO[bytes],
    rows: pl.DataFrame | Iterable[Sequence[object]],
    *,
    header: Sequence[str] | None = None,
    include_header: bool = True,
) -> None:
    """Write a CSV file for people: a polars frame, or `header` and rows; formulas escaped.

    A frame's text columns are escaped as `spreadsheet_safe` escapes a cell; its numeric
    columns are the project's own numbers and are written as they are.
    """
    if hasattr(rows, "write_csv"):  # a polars frame, without importing polars to ask
        _write_frame(target, cast("pl.DataFrame", rows), include_header)
        return
    if isinstance(target, str | Path):
        with Path(target).open("wb") as f:
            _write_rows(f, rows, header if include_header else None)
    else:
        _write_rows(target, rows, header if include_header else None)


def _write_rows(
    f: IO[bytes], rows: Iterable[Sequence[object]], header: Sequence[str] | None
) -> None:
    text = io.TextIOWrapper(f, encoding="utf-8", newline="")
    try:
        writer = csv.writer(text)  # CRLF, as RFC 4180; a field with a CR alone is quoted
        if header is not None:
            writer.writerow([spreadsheet_safe(c) for c in header])
        for row in rows:
            writer.writerow([spreadsheet_safe(c) for c in row])
        text.flush()
    finally:
        text.detach()


def _write_frame(target: str | Path | IO[bytes], frame: pl.DataFrame, include_header: bool) -> None:
    import polars as pl

    starts = f"^[{re.escape(''.join(FORMULA_STARTS))}]"
    safe = frame.with_columns(pl.col(pl.Categorical, pl.Enum).cast(pl.String))
    safe = safe.with_columns(
        pl.when(pl.col(c).str.contains(starts) & ~pl.col(c).str.contains(f"^{PLAIN_NUMBER}$"))
        .then(pl.lit("'") + pl.col(c))
        .otherwise(pl.col(c))
        .alias(c)
        for c, t in safe.schema.items()
        if t == pl.String
    )
    # polars quotes a field holding a newline, a comma or a quote, not one holding a
    # carriage return alone; such a frame is written with all its text quoted.
    carriage = any(
        safe.select(pl.col(c).str.contains("\r", literal=True).any()).item()
        for c, t in safe.schema.items()
        if t == pl.String
    )
    if isinstance(target, str | Path):
        target = Path(target)
    safe.write_csv(
        target,
        include_header=include_header,
        quote_style="non_numeric" if carriage else "necessary",
    )
