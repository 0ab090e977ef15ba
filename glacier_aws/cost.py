"""A rough monthly cost estimate for an AWS stack, with its assumptions spelled out.

Prices are us-east-1 on-demand list prices; usage is assumed, not measured: each task runs
once per scheduled run for ``ASSUMED_TASK_SECONDS`` (or its timeout if shorter) and each
stored dataset holds ``ASSUMED_GB_PER_DATASET``. Good enough to compare designs, not a bill.
"""

from __future__ import annotations

import re

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


def _field_count(field: str, size: int) -> float:
    """How many values of a cron field fire (an approximation for lists/ranges/steps)."""
    if field in ("*", "?"):
        return size
    count = 0.0
    for item in field.split(","):
        step_match = re.fullmatch(r"(.+)/(\d+)", item)
        base, step = (step_match.group(1), int(step_match.group(2))) if step_match else (item, 1)
        bounds = re.fullmatch(r"(\d+)-(\d+)", base)
        if base == "*":
            count += size / step
        elif bounds:
            count += (int(bounds.group(2)) - int(bounds.group(1))) // step + 1
        else:
            count += 1
    return min(count, size)


def runs_per_month(schedule: str | None) -> float:
    """Scheduled runs in a 30-day month (30 when there is no schedule: one manual run a day)."""
    if not schedule:
        return UNSCHEDULED_RUNS_PER_MONTH
    minute, hour, dom, month, dow = schedule.split()
    per_day = _field_count(minute, 60) * _field_count(hour, 24)
    days = 30.0
    if dow not in ("*", "?"):
        days = 30 * _field_count(dow, 7) / 7
    elif dom not in ("*", "?"):
        days = _field_count(dom, 30)
    return per_day * days * _field_count(month, 12) / 12


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
        f"{ASSUMED_GB_PER_DATASET:g} GB per stored dataset; us-east-1 list prices"
    )
    return round(total, 2), why


__all__ = ["monthly_cost", "runs_per_month"]
