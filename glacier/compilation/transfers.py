"""Data that leaves a provider or a region: every transfer, its price, its monthly cost.

A transfer is an edge of the data flow whose two ends are in different places: a task reads
a dataset stored on another provider (or in another region of its own provider), or writes
one there. The edges come from :func:`glacier.compilation.projection.crossings` (across
providers) and from comparing regions (within one); each is priced from the one table in
:mod:`glacier.compilation.prices` by the side the data leaves.

The monthly cost is an estimate from a hint: a dataset's ``metadata={"expected_gb": N}`` is
the GB one run moves over each of its transfers (default :data:`ASSUMED_GB_PER_TRANSFER`,
the same 1 GB per dataset the providers' own estimates assume), times the runs a month the
pipeline's schedule makes (:func:`glacier.compilation.cron.runs_per_month`). Counted: egress
per GB at the first paid tier. Not counted: free tiers and volume discounts, the request
charges of the remote reads and writes, partial reads (a query reading a few columns of a
Parquet file moves less), retries, and private interconnects.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from glacier.compilation.cron import runs_per_month
from glacier.compilation.infrastructure import CrossCloudTransfer
from glacier.compilation.prices import transfer_price
from glacier.compilation.projection import crossings
from glacier.compilation.resolve import Placement
from glacier.errors import CompilationError
from glacier.ir import DatasetIR, PipelineIR

#: GB one run moves over a transfer when its dataset gives no ``expected_gb`` hint.
ASSUMED_GB_PER_TRANSFER = 1.0
#: The metadata key of the size hint.
SIZE_HINT = "expected_gb"


def compiler_region(compiler: object) -> str | None:
    """The region (or location) a provider compiler compiles for, when it has one."""
    for attribute in ("region", "location"):
        value = getattr(compiler, attribute, None)
        if isinstance(value, str) and value:
            return value
    return None


def dataset_region(ds: DatasetIR, provider: str, regions: Mapping[str, str | None]) -> str | None:
    """Where ``ds`` is stored: its storage's own ``region`` (or ``location``) when it names
    one, else the region its provider's compiler compiles for."""
    if ds.storage is not None:
        for key in ("region", "location"):
            value = ds.storage.config.get(key)
            if isinstance(value, str) and value:
                return value
    return regions.get(provider)


def same_region(a: str, b: str) -> bool:
    """Whether two locations are one for transfer pricing: equal ignoring case, or one a
    multi-region holding the other (``US`` and ``us-central1``): reads within a multi-region's
    own area are not billed as inter-region."""
    a, b = a.lower(), b.lower()
    return a == b or a.startswith(f"{b}-") or b.startswith(f"{a}-")


def _cross_region(
    spec: PipelineIR, placement: Placement, regions: Mapping[str, str | None]
) -> list[CrossCloudTransfer]:
    found = []
    for ds in spec.datasets:
        home = placement.datasets[ds.name]
        where = dataset_region(ds, home, regions)
        producer = ds.producer or "(source)"
        ends = [(ds.producer, True)] if ds.producer else []
        ends += [(c, False) for c in ds.consumers]
        for task, writes in ends:
            assert task is not None
            if placement.tasks[task] != home or where is None:
                continue  # across providers: the crossing covers it
            task_region = regions.get(home)
            if task_region is None or same_region(task_region, where):
                continue
            consumer = f"{ds.name} storage" if writes else task
            src, dst = (task_region, where) if writes else (where, task_region)
            found.append(_priced(ds.name, producer, consumer, (home, src), (home, dst)))
    return found


def _priced(
    dataset: str, producer: str, consumer: str, src: tuple[str, str | None],
    dst: tuple[str, str | None],
) -> CrossCloudTransfer:  # fmt: skip
    """The transfer from ``src`` to ``dst`` (provider, region), priced by the side it leaves."""
    price = transfer_price(src[0], dst[0], cross_region=src != dst)
    usd = None if price is None else price.usd
    return CrossCloudTransfer(dataset, producer, consumer, src[0], dst[0], usd, src[1], dst[1])


def find_transfers(
    spec: PipelineIR, placement: Placement, regions: Mapping[str, str | None]
) -> list[CrossCloudTransfer]:
    """Every transfer of ``spec`` placed as ``placement``, its compilers in ``regions``
    (provider -> region; None: unknown), across providers first, then across regions."""
    by_name = {d.name: d for d in spec.datasets}
    found = []
    for c in crossings(spec.datasets, placement):
        home = placement.datasets[c.dataset]
        stored = dataset_region(by_name[c.dataset], home, regions)
        reads = c.from_provider == home  # else a task writes into storage on another provider
        task_region = regions.get(c.to_provider if reads else c.from_provider)
        src, dst = (stored, task_region) if reads else (task_region, stored)
        found.append(
            _priced(c.dataset, c.producer, c.consumer, (c.from_provider, src), (c.to_provider, dst))
        )
    return found + _cross_region(spec, placement, regions)


def expected_gb(ds: DatasetIR) -> float:
    """The GB one run moves over each transfer of ``ds``: its size hint, else the default."""
    hint = ds.metadata.get(SIZE_HINT, ASSUMED_GB_PER_TRANSFER)
    if isinstance(hint, bool) or not isinstance(hint, int | float) or hint < 0:
        msg = (
            f"dataset {ds.name!r}: metadata[{SIZE_HINT!r}] must be a number of GB >= 0 (the data "
            f"one run moves), found {hint!r}; e.g. metadata={{{SIZE_HINT!r}: 20}}"
        )
        raise CompilationError(msg)
    return float(hint)


@dataclass(frozen=True)
class TransferCost:
    """The monthly cost of a pipeline's transfers and what it assumes."""

    usd: float
    assumptions: str


def monthly_transfer_cost(spec: PipelineIR, transfers: list[CrossCloudTransfer]) -> TransferCost:
    """Sum over ``transfers`` of price x GB per run x runs a month; says what it assumes."""
    if not transfers:
        return TransferCost(0.0, "")
    runs = runs_per_month(spec.schedule)
    by_name = {d.name: d for d in spec.datasets}
    usd = 0.0
    unpriced = 0
    gb_month = 0.0
    for t in transfers:
        gb = expected_gb(by_name[t.dataset]) * runs
        gb_month += gb
        if t.est_cost_per_gb_usd is None:
            unpriced += 1
        else:
            usd += gb * t.est_cost_per_gb_usd
    hinted = sum(1 for d in spec.datasets if SIZE_HINT in d.metadata)
    parts = [
        f"{len(transfers)} transfer(s), {gb_month:,.1f} GB a month at {runs:g} run(s) a month",
        f"GB per run from metadata[{SIZE_HINT!r}] ({hinted} dataset(s) hinted, "
        f"{ASSUMED_GB_PER_TRANSFER:g} GB otherwise)",
        "egress at the first paid tier; free tiers, request charges and partial reads not counted",
    ]
    if unpriced:
        parts.append(f"{unpriced} transfer(s) without a declared price not counted")
    return TransferCost(round(usd, 2), "; ".join(parts))


__all__ = [
    "ASSUMED_GB_PER_TRANSFER",
    "SIZE_HINT",
    "TransferCost",
    "compiler_region",
    "dataset_region",
    "expected_gb",
    "find_transfers",
    "monthly_transfer_cost",
    "same_region",
]
