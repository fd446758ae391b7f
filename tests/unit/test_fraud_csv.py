"""The usage CSV interchange: round trip, and bad lines named by number, never lost."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from models.fraud.synthetic import synthetic_usage
from models.fraud.usage_csv import (
    BadLines,
    UsageFileError,
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


def test_round_trip_keeps_every_record(tmp_path: Path) -> None:
    frame, labels = synthetic_usage(150, seed=2, records_per_subscriber=30, fraud_share=0.05)
    path = tmp_path / "usage.csv"
    assert write_usage_csv([frame.slice(0, 1000), frame.slice(1000)], path) == frame.height
    bad = BadLines(str(path))
    # Small blocks: records are cut across block boundaries and must all come back.
    back = pl.concat(list(read_usage_csv(path, bad, block_bytes=4096)))
    assert bad.count == 0
    assert back.equals(frame)
    write_labels_csv(labels, tmp_path / "labels.csv")
    read = read_labels_csv(tmp_path / "labels.csv")
    assert read["subscriber"].to_list() == labels["subscriber"].to_list()
    assert read["since"].to_list() == labels["since"].to_list()


def test_bad_lines_are_skipped_counted_and_named(tmp_path: Path) -> None:
    path = tmp_path / "usage.csv"
    path.write_text(
        HEADER
        + GOOD  # line 2
        + GOOD.replace("2026-10-01T00:00:01Z", "2026-13-01T00:00:01Z")  # 3: bad date
        + GOOD.replace(",60,", ",-5,")  # 4: negative duration
        + "4,911,2026-10-01T00:00:01Z,voice,out\n"  # 5: too few fields
        + "\n"  # 6: blank, not a record
        + GOOD.replace("voice", "fax")  # 7: unknown service
        + GOOD.replace(",0,\n", ",2,\n")  # 8: roaming not 0/1
        + GOOD.replace("2026-10-01T00:00:01Z", "2026-10-01 05:30:01+05:30")  # 9: fine
    )
    bad = BadLines(str(path))
    frame = pl.concat(list(read_usage_csv(path, bad)))
    assert frame.height == 2
    assert frame["started_at"].to_list() == [1_790_812_801, 1_790_812_801]
    assert bad.count == 5
    lines = dict(bad.examples)
    assert set(lines) == {3, 4, 5, 7, 8}
    assert "started_at '2026-13-01T00:00:01Z'" in lines[3]
    assert "negative" in lines[4]
    assert "5 fields, expected 13" in lines[5]
    assert "service 'fax'" in lines[7]
    assert "roaming '2'" in lines[8]
    assert bad.describe()[0].startswith(f"{path} line 3:")


def test_more_bad_lines_than_examples_say_how_many_more(tmp_path: Path) -> None:
    path = tmp_path / "usage.csv"
    path.write_text(HEADER + GOOD.replace(",60,", ",-1,") * 12)
    bad = BadLines(str(path))
    assert list(read_usage_csv(path, bad)) == []
    assert bad.count == 12
    assert bad.describe()[-1] == "... and 7 more lines skipped"


def test_missing_columns_name_line_1(tmp_path: Path) -> None:
    path = tmp_path / "usage.csv"
    path.write_text("subscriber,started_at,service\n911,2026-10-01T00:00:01Z,voice\n")
    with pytest.raises(UsageFileError) as exc:
        list(read_usage_csv(path))
    assert str(exc.value).startswith(f"{path} line 1: missing column(s) direction, counterpart")
    assert "record_id,subscriber" in exc.value.hint


def test_unknown_fraud_kind_in_labels_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "labels.csv"
    path.write_text("subscriber,kind,since\n911,irsf,2026-10-01T00:00:00Z\n912,wangiri,\n")
    with pytest.raises(UsageFileError, match="line 3: unknown fraud kind 'wangiri'"):
        read_labels_csv(path)
