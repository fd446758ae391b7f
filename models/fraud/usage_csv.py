"""The usage CSV interchange (DESIGN.md, Contracts), read in blocks with bounded memory.

`record_id,subscriber,started_at,service,direction,counterpart,counterpart_country,
duration_s,volume_bytes,cell_id,imei,roaming,charge`; started_at is ISO 8601 UTC, roaming
0|1. `record_id` and `charge` may be left out (scoring does not need them).

A file is read block by block (a few tens of MB at a time, cut at line ends), so a
big file never sits in memory whole; each block is checked before polars sees it
(domain.csvfiles: UTF-8, a line at most 64 KiB, quotes closed on their line), and a
file that fails is one line naming the row and column. Lines that cannot be records
(wrong number of fields, a bad date, a negative duration, an unknown service...) are
skipped, counted and described by line number in `BadLines`; a file without the
columns it needs is an error naming line 1. One record per line: quoted fields may
hold commas, not newlines. Files written here go through domain.csvfiles.write_csv, so
a cell a spreadsheet would run as a formula is written as text.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from domain.csvfiles import CsvBlocks, open_csv, write_csv
from domain.errors import DomainError

COLUMNS = (
    "record_id",
    "subscriber",
    "started_at",
    "service",
    "direction",
    "counterpart",
    "counterpart_country",
    "duration_s",
    "volume_bytes",
    "cell_id",
    "imei",
    "roaming",
    "charge",
)
#: The columns scoring needs; the others may be absent.
REQUIRED = tuple(c for c in COLUMNS if c not in ("record_id", "charge"))
LABEL_COLUMNS = ("subscriber", "kind", "since")
SERVICES = ("voice", "sms", "data")
DIRECTIONS = ("out", "in")
BLOCK_BYTES = 16 * 1024 * 1024
#: How many skipped lines are described one by one.
EXAMPLES = 5

#: The typed frame every reader returns and features.py consumes.
FRAME_SCHEMA = {
    "subscriber": pl.String,
    "started_at": pl.Int64,  # epoch seconds, UTC
    "service": pl.String,
    "direction": pl.String,
    "counterpart": pl.String,
    "counterpart_country": pl.String,
    "duration_s": pl.Int64,
    "volume_bytes": pl.Int64,
    "cell_id": pl.String,
    "imei": pl.String,
    "roaming": pl.Boolean,
}


class UsageFileError(DomainError):
    """A usage or labels file that cannot be read at all."""


@dataclass
class BadLines:
    """Lines skipped while reading a file: how many, and the first few described."""

    path: str
    count: int = 0
    examples: list[tuple[int, str]] = field(default_factory=list)

    def add(self, lines: Iterable[tuple[int, str]], count: int) -> None:
        self.count += count
        for item in lines:
            if len(self.examples) >= EXAMPLES:
                break
            self.examples.append(item)

    def describe(self) -> list[str]:
        """One line per example, then how many more there were."""
        out = [f"{self.path} line {n}: {why}" for n, why in self.examples]
        if self.count > len(self.examples):
            out.append(f"... and {self.count - len(self.examples):,} more lines skipped")
        return out


def frame_from_columns(columns: Mapping[str, Any]) -> pl.DataFrame:
    """A typed usage frame from column arrays (the generator's, or a caller's)."""
    data = dict(columns)
    if "subscriber" not in data and "subscription_id" in data:
        data["subscriber"] = np.asarray(data["subscription_id"]).astype(str)
    missing = [c for c in REQUIRED if c not in data]
    if missing:
        raise UsageFileError(
            f"usage frame: missing column(s) {', '.join(missing)}",
            hint=f"a usage frame needs: {', '.join(REQUIRED)}",
        )
    frame = pl.DataFrame({c: data[c] for c in REQUIRED})
    return frame.with_columns(
        pl.col(c).cast(t) for c, t in FRAME_SCHEMA.items() if frame.schema[c] != t
    )


# -- reading ------------------------------------------------------------------------------


def _header(path: Path, names: list[str]) -> list[str]:
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise UsageFileError(
            f"{path} line 1: missing column(s) {', '.join(missing)}",
            hint="the first line must name the columns: " + ",".join(COLUMNS),
        )
    return names


def _field_counts(data: bytes) -> np.ndarray:
    """Fields per line of a block (a last line without a newline included); blank = 0."""
    arr = np.frombuffer(data, dtype=np.uint8)
    ends = np.flatnonzero(arr == 10)
    if arr.size and arr[-1] != 10:
        ends = np.append(ends, arr.size)
    commas = np.flatnonzero(arr == 44)
    upto = np.searchsorted(commas, ends)
    counts = np.diff(upto, prepend=0) + 1
    # A comma inside quotes separates nothing. Every line's quotes close (checked before),
    # so quotes pair up in order, each pair around quoted text; only pairs with something
    # between them ("" is the common case) can hold a comma.
    quotes = np.flatnonzero(arr == 34)
    opens, closes = quotes[0::2], quotes[1::2]
    opens = opens[: closes.size]
    wide = closes - opens > 1
    if wide.any():
        opens, closes = opens[wide], closes[wide]
        inside = np.searchsorted(commas, closes) - np.searchsorted(commas, opens)
        held = inside > 0
        if held.any():
            line = np.searchsorted(ends, opens[held])
            counts -= np.bincount(line, weights=inside[held], minlength=counts.size).astype(
                counts.dtype
            )
    starts = np.concatenate([[0], ends[:-1] + 1])
    blank = (ends - starts) <= 1  # "" or "\r"
    return np.where(blank, 0, counts)


def _epoch_seconds(col: pl.Expr) -> pl.Expr:
    text = col.str.strip_chars().str.replace(" ", "T", literal=True).str.replace(r"Z$", "+00:00")
    with_tz = text.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%#z", strict=False, time_zone="UTC")
    naive = text.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f", strict=False).dt.replace_time_zone("UTC")
    return pl.coalesce(with_tz, naive).dt.epoch("s")


def _parse_block(
    data: bytes, names: list[str], first_line: int, bad: BadLines
) -> pl.DataFrame | None:
    try:
        raw = pl.read_csv(
            io.BytesIO(data),
            has_header=False,
            new_columns=names,
            schema={n: pl.String for n in names},
            truncate_ragged_lines=True,
            quote_char='"',
        )
    except pl.exceptions.PolarsError as exc:
        raise UsageFileError(
            _polars_said(exc, bad.path, data, first_line),
            hint='a quoted field ends at its closing quote: "like this",next field',
        ) from None
    raw = raw.with_columns(_line=pl.int_range(first_line, first_line + raw.height, dtype=pl.Int64))
    counts = _field_counts(data)[: raw.height]
    raw = raw.with_columns(_fields=pl.Series(counts))
    # Blank lines hold no record: nothing to report.
    raw = raw.filter(pl.any_horizontal(pl.col(n).is_not_null() for n in names))
    s = pl.col
    # The interchange's own spelling parses fast; anything else ISO 8601 takes the long way.
    fast = raw.select(
        s("started_at").str.to_datetime("%Y-%m-%dT%H:%M:%SZ", strict=False).dt.epoch("s")
    ).to_series()
    if fast.null_count() > raw.filter(s("started_at").is_null()).height:
        fast = raw.select(_epoch_seconds(s("started_at"))).to_series()
    raw = raw.with_columns(_t=fast)
    typed = raw.select(
        s("_line"),
        s("_fields"),
        subscriber=s("subscriber").str.strip_chars(),
        started_at=s("_t"),
        started_raw=s("started_at"),
        service=s("service").str.strip_chars().str.to_lowercase(),
        direction=s("direction").str.strip_chars().str.to_lowercase(),
        counterpart=s("counterpart").str.strip_chars().fill_null("").str.strip_prefix("+"),
        counterpart_country=s("counterpart_country").str.strip_chars().fill_null(""),
        duration_s=s("duration_s").str.strip_chars().cast(pl.Int64, strict=False),
        duration_raw=s("duration_s"),
        volume_bytes=s("volume_bytes")
        .str.strip_chars()
        .fill_null("0")
        .cast(pl.Int64, strict=False),
        cell_id=s("cell_id").str.strip_chars().fill_null(""),
        imei=s("imei").str.strip_chars().fill_null(""),
        roaming=s("roaming")
        .str.strip_chars()
        .str.to_lowercase()
        .replace_strict(
            {"0": False, "1": True, "false": False, "true": True},
            default=None,
            return_dtype=pl.Boolean,
        ),
        roaming_raw=s("roaming"),
    )
    expected = len(names)
    why = (
        pl.when(s("_fields") != expected)
        .then(pl.format("{} fields, expected {}", s("_fields"), pl.lit(expected)))
        .when(s("subscriber").is_null() | (s("subscriber") == ""))
        .then(pl.lit("no subscriber"))
        .when(s("started_at").is_null())
        .then(pl.format("started_at {} is not an ISO 8601 UTC time", _quoted("started_raw")))
        .when(~s("service").is_in(SERVICES) | s("service").is_null())
        .then(pl.format("service {} is not voice, sms or data", _quoted("service")))
        .when(~s("direction").is_in(DIRECTIONS) | s("direction").is_null())
        .then(pl.format("direction {} is not out or in", _quoted("direction")))
        .when(s("duration_s").is_null())
        .then(pl.format("duration_s {} is not a whole number", _quoted("duration_raw")))
        .when(s("duration_s") < 0)
        .then(pl.format("duration_s {} is negative", s("duration_s")))
        .when(s("volume_bytes").is_null() | (s("volume_bytes") < 0))
        .then(pl.lit("volume_bytes is not a whole number of 0 or more"))
        .when(s("roaming").is_null())
        .then(pl.format("roaming {} is not 0 or 1", _quoted("roaming_raw")))
    )
    typed = typed.with_columns(_why=why)
    rejected = typed.filter(s("_why").is_not_null())
    if rejected.height:
        head = rejected.head(EXAMPLES).select("_line", "_why").rows()
        bad.add(((int(n), str(w)) for n, w in head), rejected.height)
    good = typed.filter(s("_why").is_null()).select(list(FRAME_SCHEMA))
    return good if good.height else None


def _polars_said(exc: Exception, path: str, data: bytes, first_line: int) -> str:
    """One line from a polars error: the line it names (by its byte offset) and its reason."""
    text = str(exc)
    offset = re.search(r"offset in the file is (\d+) bytes", text)
    if offset:
        line = first_line + data.count(b"\n", 0, int(offset.group(1)))
        where = f"line {line:,}"
    else:
        last = first_line + data.count(b"\n") - (1 if data.endswith(b"\n") else 0)
        where = f"lines {first_line:,}-{last:,}"
    original = re.search(r"Original error: ```(.*?)```", text, re.S)
    reason = (original.group(1) if original else text).strip().splitlines() or [type(exc).__name__]
    return f"{path} {where}: cannot be read as CSV: {reason[-1].strip()[:200]}"


def _quoted(name: str) -> pl.Expr:
    return pl.format("'{}'", pl.col(name).fill_null(""))


def read_usage_csv(
    path: str | Path, bad: BadLines | None = None, block_bytes: int = BLOCK_BYTES
) -> Iterator[pl.DataFrame]:
    """Typed usage frames from a CSV file, one per block; skipped lines go to `bad`."""
    p = Path(path)
    bad = bad if bad is not None else BadLines(str(p))
    with open_csv(p) as f:
        blocks = CsvBlocks(
            f, str(p), block_bytes=block_bytes, hint="the columns: " + ",".join(COLUMNS)
        )
        names = _header(p, blocks.header)
        for block in blocks:
            frame = _parse_block(block.data, names, block.row, bad)
            if frame is not None:
                yield frame


def write_usage_csv(frames: Iterable[pl.DataFrame], path: str | Path) -> int:
    """Write usage frames as the CSV interchange; returns the records written."""
    written = 0
    with Path(path).open("wb") as f:
        for k, frame in enumerate(frames):
            out = frame.select(
                record_id=pl.int_range(written + 1, written + 1 + frame.height, dtype=pl.Int64)
                if "record_id" not in frame.columns
                else pl.col("record_id"),
                subscriber=pl.col("subscriber"),
                started_at=pl.from_epoch(pl.col("started_at"), "s").dt.strftime(
                    "%Y-%m-%dT%H:%M:%SZ"
                ),
                service=pl.col("service"),
                direction=pl.col("direction"),
                counterpart=pl.col("counterpart"),
                counterpart_country=pl.col("counterpart_country"),
                duration_s=pl.col("duration_s"),
                volume_bytes=pl.col("volume_bytes"),
                cell_id=pl.col("cell_id"),
                imei=pl.col("imei"),
                roaming=pl.col("roaming").cast(pl.Int8),
                charge=pl.col("charge") if "charge" in frame.columns else pl.lit(""),
            )
            write_csv(f, out, include_header=k == 0)
            written += frame.height
        if written == 0:
            f.write((",".join(COLUMNS) + "\n").encode())
    return written


# -- labels -------------------------------------------------------------------------------


def read_labels_csv(path: str | Path) -> pl.DataFrame:
    """Fraud labels `subscriber,kind,since`: one line per fraudulent subscriber.

    Subscribers not listed count as ordinary. An `is_fraud` column (0|1) may list
    ordinary ones too (an analyst's dismissals). A missing `since` reads as "before
    the window".
    """
    from domain.fraud.choices import FraudKind

    p = Path(path)
    with open_csv(p) as f:
        blocks = CsvBlocks(f, str(p), hint="labels need the columns: " + ",".join(LABEL_COLUMNS))
        names = blocks.header
        missing = [c for c in ("subscriber", "kind") if c not in names]
        if missing:
            raise UsageFileError(
                f"{p} line 1: missing column(s) {', '.join(missing)}",
                hint="labels need the columns: " + ",".join(LABEL_COLUMNS),
            )
        body = b"".join(block.data for block in blocks)
    try:
        raw = pl.read_csv(
            io.BytesIO(body),
            has_header=False,
            new_columns=names,
            schema={n: pl.String for n in names},
            truncate_ragged_lines=True,
        )
    except pl.exceptions.NoDataError:
        raw = pl.DataFrame(schema={n: pl.String for n in names})
    except pl.exceptions.PolarsError as exc:
        said = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise UsageFileError(
            f"{p}: cannot be read as CSV ({said})",
            hint="labels need the columns: " + ",".join(LABEL_COLUMNS) + ", one line each",
        ) from None
    kinds = [k.value for k in FraudKind]
    is_fraud = (
        pl.col("is_fraud").str.strip_chars().is_in(["1", "true", "True"])
        if "is_fraud" in raw.columns
        else pl.lit(True)
    )
    since = (
        _epoch_seconds(pl.col("since")).fill_null(0)
        if "since" in raw.columns
        else pl.lit(0, dtype=pl.Int64)
    )
    frame = raw.select(
        subscriber=pl.col("subscriber").str.strip_chars(),
        is_fraud=is_fraud,
        kind=pl.col("kind").str.strip_chars().fill_null(""),
        since=since,
    ).with_row_index("_line", offset=2)
    unknown = frame.filter(pl.col("is_fraud") & ~pl.col("kind").is_in(kinds))
    if unknown.height:
        n, kind = unknown.row(0)[0], unknown["kind"][0]
        raise UsageFileError(
            f"{p} line {n}: unknown fraud kind {kind!r}", hint=f"use one of: {', '.join(kinds)}"
        )
    return frame.drop("_line").unique("subscriber", keep="last", maintain_order=True)


def write_labels_csv(labels: pl.DataFrame, path: str | Path) -> int:
    """Write `subscriber,kind,since` (since as ISO 8601 UTC)."""
    out = labels.select(
        "subscriber",
        "kind",
        since=pl.from_epoch(pl.col("since"), "s").dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    write_csv(Path(path), out)
    return out.height
