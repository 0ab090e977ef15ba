"""A rough monthly cost estimate for an AWS stack, with its assumptions spelled out.

Prices are us-east-1 on-demand list prices, the only table here: a stack compiled for another
region says it is priced as us-east-1 rather than pass those prices off as its region's.
Usage is assumed, not measured: each task runs
once per scheduled run for ``ASSUMED_TASK_SECONDS`` (or its timeout if shorter) and each
stored dataset holds ``ASSUMED_GB_PER_DATASET``. Good enough to compare designs, not a bill.

What the stack keeps besides the data is counted too: the old versions a versioned bucket
keeps (each run overwrites a task's outputs; a version stays ``noncurrent_version_days``), the
container images ECR keeps (``KEPT_IMAGES`` per repository) and, when turned on, Container
Insights' metrics. Server access logs (a few hundred bytes per request) are below a cent.
"""

from __future__ import annotations

from glacier.compilation.cron import Cron
from glacier.ir import DatasetIR
from glacier_aws.model import AWSModel

#: Images an ECR repository keeps (glacier_compute's lifecycle policy keeps this many).
KEPT_IMAGES = 10

LAMBDA_GB_SECOND_USD = {"arm64": 0.0000133334, "x86_64": 0.0000166667}
LAMBDA_REQUEST_USD = 0.0000002
FARGATE_VCPU_HOUR_USD = {"arm64": 0.03238, "x86_64": 0.04048}
FARGATE_GB_HOUR_USD = {"arm64": 0.00356, "x86_64": 0.004445}
STEP_FUNCTIONS_TRANSITION_USD = 0.000025
S3_STANDARD_GB_MONTH_USD = 0.023
LOG_GROUP_GB_USD = 0.50
ASSUMED_TASK_SECONDS = 60
ASSUMED_GB_PER_DATASET = 1.0
UNSCHEDULED_RUNS_PER_MONTH = 30
#: The region the prices above are for.
PRICED_REGION = "us-east-1"
ECR_GB_MONTH_USD = 0.10
ASSUMED_IMAGE_GB = 0.5  # python:3.12-slim, Polars, pydantic (deltalake: more)
#: Container Insights publishes custom metrics, billed per metric-month and pro rata for the
#: hours they are published: about 8 per cluster and 8 per task definition family.
CLOUDWATCH_METRIC_MONTH_USD = 0.30
INSIGHTS_METRICS_PER_CLUSTER = 8
INSIGHTS_METRICS_PER_FAMILY = 8
HOURS_PER_MONTH = 720


def runs_per_month(schedule: str | None) -> float:
    """Scheduled runs in a 30-day month (30 when there is no schedule: one manual run a day).

    Counts the values each field of the parsed schedule selects: a restricted day-of-week
    fires on that share of a month's days, else a restricted day-of-month on that many days.
    """
    if not schedule:
        return UNSCHEDULED_RUNS_PER_MONTH
    cron = Cron.parse(schedule)
    per_day = cron.minute.count() * cron.hour.count()
    days = 30.0
    if cron.day_of_week.restricted:
        days = 30 * cron.day_of_week.count() / 7
    elif cron.day_of_month.restricted:
        days = min(cron.day_of_month.count(), 30)
    return per_day * days * cron.month.count() / 12


def monthly_cost(model: AWSModel) -> tuple[float, str]:
    """(USD per month, the assumptions behind it)."""
    runs = runs_per_month(model.schedule)
    compute = 0.0
    for d in model.tasks:
        seconds = min(ASSUMED_TASK_SECONDS, d.timeout) if d.timeout else ASSUMED_TASK_SECONDS
        gb = d.memory / 1024
        if d.packaging == "lambda":
            compute += runs * (
                seconds * gb * LAMBDA_GB_SECOND_USD[d.architecture] + LAMBDA_REQUEST_USD
            )
        else:
            hours = max(seconds, 60) / 3600
            arch = d.architecture
            compute += (
                runs
                * hours
                * (d.cpu * FARGATE_VCPU_HOUR_USD[arch] + gb * FARGATE_GB_HOUR_USD[arch])
            )
    # A stack without tasks has no state machine (program.render_program): no transitions.
    steps = len(model.tasks) * 2 + 4 if model.tasks else 0
    transitions = runs * steps * STEP_FUNCTIONS_TRANSITION_USD
    # Data in buckets the pipeline does not own (S3(create=False)) is billed to their owner.
    stored = sum(len(b.datasets) for b in model.buckets if b.purpose == "data" and b.create)
    storage = stored * ASSUMED_GB_PER_DATASET * S3_STANDARD_GB_MONTH_USD
    kept, kept_why = _kept(model, runs)
    total = compute + transitions + storage + kept
    why = (
        f"{runs:,.0f} runs/month, {ASSUMED_TASK_SECONDS}s per task run, "
        f"{ASSUMED_GB_PER_DATASET:g} GB per stored dataset; {prices_for(model.region)}"
    )
    return round(total, 2), why + kept_why


def _kept(model: AWSModel, runs: float) -> tuple[float, str]:
    """(USD per month, what it assumes) for what the stack keeps besides the data: old
    versions of the outputs tasks overwrite, container images, Container Insights."""
    options = model.options
    noncurrent = options.noncurrent_version_days if options else None
    gb_versions = 0.0
    retention = {d.name: _retention(d) for d in model.spec.datasets}
    written = {o for d in model.tasks for o in d.task.outputs}
    for b in model.buckets:
        if b.purpose != "data" or not b.create or not b.versioning:
            continue
        for ds in set(b.datasets) & written:
            # a run's overwrite makes one old version, kept ``days`` (S3 acts on the earlier
            # of noncurrent_version_days and the dataset's retention_days)
            days = min(d for d in (noncurrent, retention[ds]) if d) if noncurrent else 30
            gb_versions += ASSUMED_GB_PER_DATASET * runs * days / 30
    cost = gb_versions * S3_STANDARD_GB_MONTH_USD
    repositories = len({d.architecture for d in model.containers if not d.image})
    cost += repositories * KEPT_IMAGES * ASSUMED_IMAGE_GB * ECR_GB_MONTH_USD
    why = ""
    if gb_versions:
        why = f"; {gb_versions:,.0f} GB of old versions kept"
        if noncurrent is None:
            why += " (a month's: kept forever, they grow every month)"
    if repositories:
        why += f"; {KEPT_IMAGES} images of {ASSUMED_IMAGE_GB:g} GB per ECR repository"
    if options is not None and options.container_insights and model.containers:
        cost += _insights(model, runs)
        why += "; Container Insights metrics"
    return cost, why


def _retention(ds: DatasetIR) -> int | None:
    days = ds.storage.config.get("retention_days") if ds.storage is not None else None
    return int(days) if days else None


def _insights(model: AWSModel, runs: float) -> float:
    """Container Insights' metrics, pro rata for the hours tasks run (each run's tasks in
    one hour per task family, at most every hour of the month)."""
    hours = min(runs, HOURS_PER_MONTH) / HOURS_PER_MONTH
    families = len(model.containers)
    metrics = INSIGHTS_METRICS_PER_CLUSTER + INSIGHTS_METRICS_PER_FAMILY * families
    return metrics * CLOUDWATCH_METRIC_MONTH_USD * hours


def prices_for(region: str) -> str:
    """Which prices an estimate for ``region`` uses, said plainly."""
    if region == PRICED_REGION:
        return f"{region} list prices"
    return f"priced as {PRICED_REGION} (no price table for {region})"


__all__ = ["PRICED_REGION", "monthly_cost", "prices_for", "runs_per_month"]
