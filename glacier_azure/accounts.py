"""The storage accounts and containers of an Azure stack, and how each is protected.

Versioning is a property of a whole account on Azure, so datasets are grouped by it: the
**data** account (created when a stored dataset keeps versions) has blob versioning on and a
lifecycle rule deleting versions ``noncurrent_days`` after they were replaced; the **work**
account (always created) keeps no versions and holds the ``work`` container (each run's
ephemeral data under ``runs/``, deleted after a few days) and the containers of stored
datasets that asked for no versions (``deployments`` is kept free for packages). Function
packages and the Functions host's state live in one account per function (see the stack's
``glacier_compute.function_host``), so a function's host access reaches no data. A
``BlobStorage(account=...)`` names an account of its own (created, or with ``create=False``
only looked up). Every account the stack creates allows HTTPS only, TLS 1.2 at least, no
public blob access and no shared keys (identities only); tiers and retention come from the
datasets' hints as lifecycle rules on their keys.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from glacier.compilation.layout import EPHEMERAL_PREFIX, stored_key
from glacier.compilation.naming import Namer, check
from glacier.errors import CompilationError
from glacier.ir import DatasetIR, PipelineIR
from glacier_azure.naming import AZURE_CONTAINER, account_base, short_name

#: What a generic access pattern means on Azure when no explicit tier is given. Archive blobs
#: are offline (a read needs hours of rehydration first), so "archive" means Cold here.
ACCESS_PATTERN_TIER = {"frequent": "Hot", "infrequent": "Cool", "archive": "Cold"}
#: Lifecycle action of each tier below Hot.
TIER_ACTIONS = {"Cool": "tierToCool", "Cold": "tierToCold"}
WORK_CONTAINER, DEPLOYMENTS_CONTAINER = "work", "deployments"


@dataclass(frozen=True)
class ContainerPlan:
    """One blob container: its name, the datasets in it, whether the stack creates it."""

    var: str
    name: str
    datasets: tuple[str, ...]
    create: bool = True


@dataclass(frozen=True)
class AccountPlan:
    """One storage account: a generated name (``base`` + a deploy-time suffix) or an explicit
    one, its containers and its lifecycle rules."""

    var: str
    role: str  # "data", "work" or "named"
    base: str | None
    explicit_name: str | None
    versioning: bool
    create: bool
    containers: tuple[ContainerPlan, ...] = ()
    rules: tuple[dict[str, Any], ...] = field(default_factory=tuple)

    @property
    def shown(self) -> str:
        return self.explicit_name or f"{self.base}<suffix>"

    @property
    def datasets(self) -> tuple[str, ...]:
        return tuple(d for c in self.containers for d in c.datasets)


def tier(ds: DatasetIR) -> str:
    """The access tier a dataset's blobs are kept in."""
    assert ds.storage is not None
    config = ds.storage.config
    chosen = config.get("tier") if ds.storage.provider == "azure" else config.get("azure_tier")
    chosen = chosen or ACCESS_PATTERN_TIER[str(config.get("access_pattern", "frequent"))]
    if chosen == "Archive":
        msg = (
            f"dataset {ds.name!r} asks for the Archive tier, whose blobs are offline (a read "
            "needs hours of rehydration), so no task could read it; choose Cold or Cool"
        )
        raise CompilationError(msg)
    return str(chosen)


def _placement(ds: DatasetIR) -> tuple[str, str, bool, bool]:
    """(account key, container, versioning, create) of a stored dataset."""
    assert ds.storage is not None
    config = ds.storage.config
    if ds.storage.provider == "azure":
        versioning, create = bool(config.get("versioning", True)), bool(config.get("create", True))
        account = config.get("account") or ("data" if versioning else "work")
        return str(account), str(config["container"]), versioning and create, create
    versioning = bool(config.get("versioning", True))
    container = short_name(AZURE_CONTAINER, ds.name)
    return ("data" if versioning else "work"), container, versioning, True


def _rules(datasets: Sequence[DatasetIR], containers: dict[str, str], versioning: bool,
           noncurrent_days: int) -> list[dict[str, Any]]:  # fmt: skip
    rules: list[dict[str, Any]] = []
    if versioning:
        rules.append(_rule("noncurrent", {"version": {"delete": {
            "daysAfterCreationGreaterThan": noncurrent_days}}}))  # fmt: skip
    for n, ds in enumerate(datasets, start=1):
        prefix = [f"{containers[ds.name]}/{stored_key(ds)}"]
        chosen = tier(ds)
        if chosen in TIER_ACTIONS:
            action = {TIER_ACTIONS[chosen]: {"daysAfterModificationGreaterThan": 0}}
            rules.append(_rule(f"tier{n}", {"baseBlob": action}, prefix))
        assert ds.storage is not None
        retention = ds.storage.config.get("retention_days")
        if retention is not None:
            action = {"delete": {"daysAfterModificationGreaterThan": int(retention)}}
            rules.append(_rule(f"retain{n}", {"baseBlob": action}, prefix))
    return rules


def _rule(name: str, actions: dict[str, Any], prefixes: list[str] | None = None) -> dict[str, Any]:
    filters: dict[str, Any] = {"blobTypes": ["blockBlob"]}
    if prefixes:
        filters["prefixMatch"] = prefixes
    return {"name": name, "enabled": True, "type": "Lifecycle",
            "definition": {"actions": actions, "filters": filters}}  # fmt: skip


def plan_accounts(spec: PipelineIR, on_azure: Sequence[str], namer: Namer, *,
                  noncurrent_days: int, expiry_days: int) -> list[AccountPlan]:  # fmt: skip
    """The stack's accounts: data (when a stored dataset keeps versions), named ones, and
    work (always: ephemeral data)."""
    groups: dict[str, dict[str, list[DatasetIR]]] = {"work": {WORK_CONTAINER: []}}
    settings: dict[str, set[tuple[bool, bool]]] = {}
    for ds in spec.datasets:
        if ds.name not in on_azure:
            continue
        if ds.storage is None:
            groups["work"][WORK_CONTAINER].append(ds)
            continue
        account, container, versioning, create = _placement(ds)
        if account == "work" and container in (WORK_CONTAINER, DEPLOYMENTS_CONTAINER):
            msg = (
                f"dataset {ds.name!r} would be stored in container {container!r} of the work "
                "account, which holds the pipeline's intermediate data; rename the dataset or "
                "give it BlobStorage(...) with another container"
            )
            raise CompilationError(msg)
        groups.setdefault(account, {}).setdefault(container, []).append(ds)
        settings.setdefault(account, set()).add((versioning, create))
    plans = []
    for key in sorted(groups, key=lambda k: (k not in ("data", "work"), k)):
        plans.append(_account(spec, key, groups[key], settings.get(key, set()), namer,
                              noncurrent_days, expiry_days))  # fmt: skip
    return plans


def _account(spec: PipelineIR, key: str, containers: dict[str, list[DatasetIR]],
             settings: set[tuple[bool, bool]], namer: Namer, noncurrent_days: int,
             expiry_days: int) -> AccountPlan:  # fmt: skip
    named = key not in ("data", "work")
    if named and len(settings) > 1:
        names = ", ".join(d.name for group in containers.values() for d in group)
        msg = (
            f"datasets {names} share storage account {key!r} but declare different versioning "
            "or create settings (versioning belongs to a whole account on Azure); make them equal"
        )
        raise CompilationError(msg)
    versioning, create = settings.pop() if named else (key == "data", True)
    found = []
    by_name: dict[str, str] = {}
    for container in sorted(containers):
        group = containers[container]
        owner = f"dataset {group[0].name!r}" if group else f"pipeline {spec.name!r}"
        check(AZURE_CONTAINER, container, owner)
        for ds in group:
            by_name[ds.name] = container
        found.append(ContainerPlan(namer.take(f"{key}_{container}_container"), container,
                                   tuple(d.name for d in group), create))  # fmt: skip
    stored = [d for group in containers.values() for d in group if d.storage is not None]
    rules = _rules(stored, by_name, versioning, noncurrent_days) if create else []
    if key == "work":
        prefix = f"{WORK_CONTAINER}/{EPHEMERAL_PREFIX}"
        action = {"baseBlob": {"delete": {"daysAfterModificationGreaterThan": expiry_days}}}
        rules.insert(0, _rule("expireRuns", action, [prefix]))
    return AccountPlan(
        var=namer.take(f"{'named_' + key if named else key}_account"),
        role="named" if named else key,
        base=None if named else account_base(spec.name, key[0]),
        explicit_name=key if named else None,
        versioning=versioning,
        create=create,
        containers=tuple(found),
        rules=tuple(rules),
    )


__all__ = [
    "ACCESS_PATTERN_TIER",
    "DEPLOYMENTS_CONTAINER",
    "WORK_CONTAINER",
    "AccountPlan",
    "ContainerPlan",
    "plan_accounts",
    "tier",
]
