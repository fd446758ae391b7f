"""Camouflaged fraud for training: `camouflage` thins each fraud line's pattern to about
`keep` of its records and lays it over the ordinary usage of a paired customer (never a
look-alike), re-keyed to the fraud line; ordinary lines and the labels stay as they were."""

from __future__ import annotations

import polars as pl

from models.fraud.synthetic import synthetic_usage
from models.fraud.training import LOOKALIKE_PREFIX, camouflage

#: What identifies a record apart from the line, handset and cell it is on.
EVENT = ["started_at", "service", "direction", "counterpart", "duration_s", "volume_bytes"]


def test_fraud_is_thinned_onto_a_customers_usage_and_ordinary_lines_stay() -> None:
    plain, labels = synthetic_usage(1500, 3, days=14)
    before = labels.clone()
    mixed = camouflage(plain, labels, keep=0.25, seed=3)
    assert mixed.columns == plain.columns
    assert labels.equals(before)

    lines = labels.select("subscriber", "since")
    fraud_lines = pl.col("subscriber").is_in(labels["subscriber"].implode())
    key = ["subscriber", *EVENT]
    assert mixed.filter(~fraud_lines).sort(key).equals(plain.filter(~fraud_lines).sort(key))

    own_fraud = plain.join(lines, on="subscriber").filter(pl.col("started_at") >= pl.col("since"))
    on_lines = mixed.filter(fraud_lines)
    kept = on_lines.join(own_fraud.select(key), on=key, how="semi")
    share = kept.height / own_fraud.height
    assert 0.22 < share < 0.28, share
    # Every label still holds: each fraud line carries some of its pattern.
    assert kept["subscriber"].n_unique() == labels.height

    # The rest of each fraud line is one ordinary customer's usage, whole from the line's
    # first record on: calls, SMS and data, on a handset of the same model but its own.
    customers = plain.filter(~fraud_lines)
    copied = on_lines.join(own_fraud.select(key), on=key, how="anti")
    owners = copied.join(
        customers.select(pl.col("subscriber").alias("owner"), *EVENT, pl.col("imei").alias("was")),
        on=EVENT,
    )
    assert owners.height >= copied.height
    paired = owners.group_by("subscriber").agg(
        owner=pl.col("owner").mode().first(), n=pl.len(), services=pl.col("service").n_unique()
    )
    assert paired.height == labels.height
    assert not paired["owner"].str.starts_with(LOOKALIKE_PREFIX).any()
    assert (paired["services"] == 3).mean() > 0.8  # a short stretch may lack one
    same = owners.join(paired.select("subscriber", "owner"), on=["subscriber", "owner"])
    assert same.select(pl.col("subscriber"), *EVENT).unique().height == copied.height
    assert (same["imei"] != same["was"]).all()
    assert (same["imei"].str.slice(0, 8) == same["was"].str.slice(0, 8)).all()

    # Drawn per line: some lines' fraud takes the customer's handset, others keep their own.
    fraud_on_customer_handset = kept.join(
        copied.select("subscriber", "imei").unique(), on=["subscriber", "imei"], how="semi"
    )["subscriber"].n_unique()
    assert 0 < fraud_on_customer_handset < labels.height
