"""A rough monthly cost estimate for an AWS stack, with its assumptions spelled out.

Prices are us-east-1 on-demand list prices, the only table here: a stack compiled for another
region says it is priced as us-east-1 rather than pass those prices off as its region's.
Usage is assumed, not measured: each task runs
once per scheduled run for ``ASSUMED_TASK_SECONDS`` (or its timeout if shorter) and each
stored dataset holds ``ASSUMED_GB_PER_DATASET``. Good enough to compare designs, not a bill.
"""

from __future__ import annotations

from glacier.compilation.cron import Cron
from glacier_aws.model import AWSModel

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
    total = compute + transitions + storage
    why = (
        f"{runs:,.0f} runs/month, {ASSUMED_TASK_SECONDS}s per task run, "
        f"{ASSUMED_GB_PER_DATASET:g} GB per stored dataset; {prices_for(model.region)}"
    )
    return round(total, 2), why


def prices_for(region: str) -> str:
    """Which prices an estimate for ``region`` uses, said plainly."""
    if region == PRICED_REGION:
        return f"{region} list prices"
    return f"priced as {PRICED_REGION} (no price table for {region})"


__all__ = ["PRICED_REGION", "monthly_cost", "prices_for", "runs_per_month"]
