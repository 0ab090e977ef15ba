"""A rough monthly cost estimate for a GCP stack, with its prices and assumptions spelled out.

Prices are us-central1 (Tier 1) on-demand list prices, each a :class:`Price` with the date
it was read and where to check it again; the free tiers are left out (an estimate that errs
high). Usage is assumed, not measured: each task runs once per scheduled run for
``ASSUMED_TASK_SECONDS`` (or its timeout if shorter), each stored dataset holds
``ASSUMED_GB_PER_DATASET``. Good enough to compare designs, not a bill.
"""

from __future__ import annotations

from glacier.compilation.cron import runs_per_month
from glacier.compilation.provider import Price
from glacier_gcp.model import GCPModel

_AS_OF = "2026-11"
_RUN = "https://cloud.google.com/run/pricing"
#: Cloud Run functions (2nd gen) bill as Cloud Run services with request-based billing.
FUNCTION_VCPU_SECOND = Price(0.000024, "vCPU-second", _AS_OF, _RUN)
FUNCTION_GIB_SECOND = Price(0.0000025, "GiB-second", _AS_OF, _RUN)
FUNCTION_REQUEST = Price(0.0000004, "request", _AS_OF, _RUN)
#: Cloud Run jobs bill instance time.
JOB_VCPU_SECOND = Price(0.000018, "vCPU-second", _AS_OF, _RUN)
JOB_GIB_SECOND = Price(0.000002, "GiB-second", _AS_OF, _RUN)
WORKFLOW_STEP = Price(
    0.00001, "internal step", _AS_OF, "https://cloud.google.com/workflows/pricing"
)
WORKFLOW_CALL = Price(
    0.000025, "external HTTP call", _AS_OF, "https://cloud.google.com/workflows/pricing"
)
SCHEDULER_JOB = Price(0.10, "job-month", _AS_OF, "https://cloud.google.com/scheduler/pricing")
STORAGE_GB_MONTH = {
    "STANDARD": Price(0.020, "GB-month", _AS_OF, "https://cloud.google.com/storage/pricing"),
    "NEARLINE": Price(0.010, "GB-month", _AS_OF, "https://cloud.google.com/storage/pricing"),
    "COLDLINE": Price(0.004, "GB-month", _AS_OF, "https://cloud.google.com/storage/pricing"),
    "ARCHIVE": Price(0.0012, "GB-month", _AS_OF, "https://cloud.google.com/storage/pricing"),
}
#: The vCPUs a 2nd gen function gets for its memory (MiB, up to): Google's published tiers.
FUNCTION_CPU = (
    (256, 0.167),
    (512, 0.333),
    (1024, 0.583),
    (2048, 1.0),
    (8192, 2.0),
    (16384, 4.0),
    (32768, 8.0),
)
#: Workflow steps per task call (the call, its try, the report) and per run (init, done).
STEPS_PER_TASK, STEPS_PER_RUN = 4, 2
ASSUMED_TASK_SECONDS = 60
ASSUMED_GB_PER_DATASET = 1.0


def function_cpu(memory: int) -> float:
    """The vCPUs Google gives a 2nd gen function of ``memory`` MiB."""
    return next((cpu for limit, cpu in FUNCTION_CPU if memory <= limit), 8.0)


def monthly_cost(model: GCPModel) -> tuple[float, str]:
    """(USD per month, the assumptions behind it)."""
    runs = runs_per_month(model.schedule)
    compute = 0.0
    for d in model.tasks:
        seconds = min(ASSUMED_TASK_SECONDS, d.size.timeout)
        gib = d.size.memory / 1024
        if d.packaging == "function":
            per_run = (
                seconds
                * (
                    function_cpu(d.size.memory) * FUNCTION_VCPU_SECOND.usd
                    + gib * FUNCTION_GIB_SECOND.usd
                )
                + FUNCTION_REQUEST.usd
            )
        else:
            per_run = seconds * (d.size.cpu * JOB_VCPU_SECOND.usd + gib * JOB_GIB_SECOND.usd)
        compute += runs * per_run
    orchestration = 0.0
    if model.tasks:
        steps = STEPS_PER_TASK * len(model.tasks) + STEPS_PER_RUN
        orchestration = runs * (steps * WORKFLOW_STEP.usd + len(model.tasks) * WORKFLOW_CALL.usd)
    if model.schedule:
        orchestration += SCHEDULER_JOB.usd
    # Data in buckets the pipeline does not own (GCS(create=False)) is billed to their owner.
    storage = sum(
        len(b.datasets) * ASSUMED_GB_PER_DATASET * STORAGE_GB_MONTH[b.storage_class].usd
        for b in model.buckets
        if b.purpose == "data" and b.create
    )
    why = (
        f"{runs:,.0f} runs/month, {ASSUMED_TASK_SECONDS}s per task run, "
        f"{ASSUMED_GB_PER_DATASET:g} GB per stored dataset; us-central1 list prices of {_AS_OF}, "
        "free tiers left out"
    )
    return round(compute + orchestration + storage, 2), why


__all__ = ["monthly_cost"]
