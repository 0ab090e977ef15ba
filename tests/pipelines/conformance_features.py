"""A provider-neutral pipeline for the conformance suite: every feature a stack must carry.

Sources in two formats, an ephemeral dataset, a folder format (delta), fan-out, fan-in, an
explicit ordering edge (``depends_on``), an independent branch, secrets on serverless and
container compute, a parameter and a schedule. Its DAG is series-parallel:

    events -> clean_events -> clean -> sessionize   -> sessions ---\\
                                    -> daily_counts -> daily ------+-> build_report -> report
    users  -> user_profile -> user_stats ---------------------------/   (after sessionize)
    events -> audit -> audit_log
"""

from __future__ import annotations

import polars as pl

from glacier import Dataset, Pipeline, Secret, compute
from glacier.storage import ObjectStorage

events = Dataset("events", storage=ObjectStorage(), format="ndjson")
users = Dataset("users", storage=ObjectStorage(), format="csv")
clean = Dataset("clean")
sessions = Dataset("sessions", storage=ObjectStorage(), format="delta")
daily = Dataset("daily", storage=ObjectStorage("infrequent"), format="ipc")
user_stats = Dataset("user_stats", storage=ObjectStorage())
report = Dataset("report", storage=ObjectStorage(retention_days=90))
audit_log = Dataset("audit_log", storage=ObjectStorage(versioning=False))

pipeline = Pipeline(name="features", schedule="30 3 * * 1-5")


@pipeline.task(
    compute=compute.serverless(env={"TOKEN": Secret("features/token"), "MODE": "strict"}),
    retries=1,
)
def clean_events(raw: events, min_amount: float = 0.0) -> clean:
    return raw.filter(pl.col("amount") > min_amount)


@pipeline.task(compute=compute.container(env={"DB_PASSWORD": Secret("features/db")}))
def sessionize(rows: clean) -> sessions:
    return rows.group_by("user_id").agg(pl.len().alias("events"))


@pipeline.task()
def daily_counts(rows: clean) -> daily:
    return rows.group_by("day").agg(pl.len().alias("events"))


@pipeline.task(compute=compute.serverless(memory=512))
def user_profile(people: users) -> user_stats:
    return people.select("user_id", "country")


@pipeline.task(depends_on=[sessionize])
def build_report(counts: daily, stats: user_stats) -> report:
    return counts.join(stats, how="cross")


@pipeline.task()
def audit(raw: events) -> audit_log:
    return raw.select(pl.len().alias("rows"))
