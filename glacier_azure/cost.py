"""A rough monthly cost estimate for an Azure stack, with its prices and assumptions spelled
out.

Prices are East US pay-as-you-go list prices, each a :class:`Price` with the date it was read
and where to check it again; free grants are left out (an estimate that errs high). Usage is
assumed, not measured: each task runs once per scheduled run for ``ASSUMED_TASK_SECONDS`` (or
its timeout if shorter), each stored dataset holds ``ASSUMED_GB_PER_DATASET``. Good enough to
compare designs, not a bill.
"""

from __future__ import annotations

from glacier.compilation.cron import runs_per_month
from glacier.compilation.provider import Price
from glacier_azure.accounts import tier
from glacier_azure.model import AzureModel

_AS_OF = "2026-11"
_FUNCTIONS = "https://azure.microsoft.com/pricing/details/functions/"
_APPS = "https://azure.microsoft.com/pricing/details/container-apps/"
_LOGIC = "https://azure.microsoft.com/pricing/details/logic-apps/"
_BLOB = "https://azure.microsoft.com/pricing/details/storage/blobs/"
#: Flex Consumption bills instance memory while executing, and executions.
FUNCTION_GB_SECOND = Price(0.000026, "GB-second", _AS_OF, _FUNCTIONS)
FUNCTION_EXECUTION = Price(0.0000004, "execution", _AS_OF, _FUNCTIONS)
JOB_VCPU_SECOND = Price(0.000024, "vCPU-second", _AS_OF, _APPS)
JOB_GIB_SECOND = Price(0.000003, "GiB-second", _AS_OF, _APPS)
#: Consumption Logic Apps bill each action execution (built-in actions).
LOGIC_ACTION = Price(0.000025, "action execution", _AS_OF, _LOGIC)
TIER_GB_MONTH = {
    "Hot": Price(0.0208, "GB-month", _AS_OF, _BLOB),
    "Cool": Price(0.0152, "GB-month", _AS_OF, _BLOB),
    "Cold": Price(0.0036, "GB-month", _AS_OF, _BLOB),
}
ASSUMED_TASK_SECONDS = 60
ASSUMED_GB_PER_DATASET = 1.0
#: Polls of a job's execution per run (every 30 s for the assumed task time).
POLLS_PER_JOB = 2


def monthly_cost(model: AzureModel, actions: int | None = None) -> tuple[float, str]:
    """(USD per month, the assumptions behind it)."""
    runs = runs_per_month(model.schedule)
    compute = 0.0
    for d in model.tasks:
        seconds = min(ASSUMED_TASK_SECONDS, d.size.timeout)
        gib = d.size.memory / 1024
        if d.packaging == "function":
            per_run = seconds * gib * FUNCTION_GB_SECOND.usd + FUNCTION_EXECUTION.usd
        else:
            per_run = seconds * (d.size.cpu * JOB_VCPU_SECOND.usd + gib * JOB_GIB_SECOND.usd)
        compute += runs * per_run
    executed = (actions or 0) + POLLS_PER_JOB * 2 * len(model.jobs)
    orchestration = runs * executed * LOGIC_ACTION.usd
    storage = 0.0
    for ds in model.spec.datasets:
        account = next((a for a in model.accounts if ds.name in a.datasets), None)
        if ds.storage is not None and account is not None and account.create:
            storage += ASSUMED_GB_PER_DATASET * TIER_GB_MONTH[tier(ds)].usd
    why = (
        f"{runs:,.0f} runs/month, {ASSUMED_TASK_SECONDS}s per task run, "
        f"{ASSUMED_GB_PER_DATASET:g} GB per stored dataset; East US list prices of {_AS_OF}, "
        "free grants left out"
    )
    return round(compute + orchestration + storage, 2), why


__all__ = ["monthly_cost"]
