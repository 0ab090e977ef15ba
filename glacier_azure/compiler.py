"""``AzureCompiler``: a placed pipeline -> a Pulumi Python project for Azure.

The compiler never imports pulumi: it builds an :class:`~glacier_azure.model.AzureModel`
(checked names, packaging, conditioned blob access), prints it as ``__main__.py`` plus
``workflow.json`` (the Logic App definition, host names and ids filled in at deploy time) and
adds the project files, the README and the bundle. ``pulumi up`` does the rest.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import replace

from glacier.compilation.base import CompileInput, Compiler, StackBuild
from glacier.compilation.infrastructure import DatasetPlan, ResolvedResource, Stack, TaskPlan
from glacier.compilation.naming import check
from glacier.compilation.projection import spec_on
from glacier.errors import CompilationError
from glacier_azure import remote
from glacier_azure.cost import monthly_cost
from glacier_azure.model import AzureModel, ModelOptions, build_model
from glacier_azure.naming import RESOURCE_GROUP
from glacier_azure.program import WORKFLOW_FILE, render_program
from glacier_azure.project import project_files
from glacier_azure.schedule import DEFAULT_TIME_ZONE
from glacier_azure.workflow import count_actions

_LOCATION = re.compile(r"[a-z][a-z0-9]{2,30}")


class AzureCompiler(Compiler):
    """Compile a pipeline to an Azure stack (a Pulumi Python project: storage accounts,
    managed identities, Function Apps / Container Apps jobs, a Logic App, Key Vault)."""

    provider = "azure"

    def __init__(
        self,
        location: str = "eastus",
        resource_group: str | None = None,
        *,
        intermediate_expiry_days: int = 7,
        noncurrent_days: int = 30,
    ) -> None:
        if not isinstance(location, str) or not _LOCATION.fullmatch(location):
            msg = f"AzureCompiler: location must be an Azure region name like 'eastus', found {location!r}"
            raise CompilationError(msg)
        if resource_group is not None:
            if not isinstance(resource_group, str):
                msg = f"AzureCompiler: resource_group must be a str, found {resource_group!r}"
                raise CompilationError(msg)
            check(RESOURCE_GROUP, resource_group, "AzureCompiler")
        for name, value in (
            ("intermediate_expiry_days", intermediate_expiry_days),
            ("noncurrent_days", noncurrent_days),
        ):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise CompilationError(
                    f"AzureCompiler: {name} must be an int >= 1, found {value!r}"
                )
        self.options = ModelOptions(location, resource_group, intermediate_expiry_days,
                                    noncurrent_days, DEFAULT_TIME_ZONE)  # fmt: skip

    @property
    def location(self) -> str:
        return self.options.location

    @property
    def resource_group(self) -> str | None:
        return self.options.resource_group

    @classmethod
    def from_env(cls) -> AzureCompiler:
        """Location from ``AZURE_LOCATION`` (default eastus), resource group from
        ``AZURE_RESOURCE_GROUP`` (unset: the stack creates one)."""
        location = os.environ.get("AZURE_LOCATION") or "eastus"
        return cls(location=location, resource_group=os.environ.get("AZURE_RESOURCE_GROUP") or None)

    def __repr__(self) -> str:
        return f"AzureCompiler(location={self.location!r}, resource_group={self.resource_group!r})"

    def build_stack(self, job: CompileInput) -> StackBuild:
        spec = job.spec
        azure_spec = spec_on(spec, job.placement, "azure")
        model = replace(build_model(azure_spec, job.placement, self.options), spec=azure_spec)
        files = project_files(replace(model, spec=spec), job.source)
        files.update(render_program(model))
        files.update(remote.stack_files(model, files))
        actions = count_actions(json.loads(files[WORKFLOW_FILE])["actions"]) if model.tasks else 0
        cost, assumptions = monthly_cost(model, actions)
        stack = Stack(
            provider="azure",
            files=dict(sorted(files.items())),
            resources=resources(model),
            tasks=task_plans(model),
            datasets=dataset_plans(model),
            monthly_cost_usd=cost,
            cost_assumptions=assumptions,
        )
        return StackBuild(stack=stack, warnings=model.warnings)


def resources(model: AzureModel) -> tuple[ResolvedResource, ...]:
    """The resources the stack creates (and the accounts it only looks up)."""
    found = []
    for a in model.accounts:
        kind = "storage_account" if a.create else "existing_storage_account"
        found.append(ResolvedResource("azure", kind, a.shown, {
            "role": a.role, "versioning": a.versioning, "existing": not a.create,
            "containers": [c.name for c in a.containers], "datasets": list(a.datasets)}))  # fmt: skip
    for d in model.tasks:
        kind = "function_app" if d.packaging == "function" else "container_apps_job"
        props: dict[str, object] = {"task": d.task.name, "memory": d.size.memory,
                                    "timeout": d.size.timeout}  # fmt: skip
        if d.packaging == "job":
            props["cpu"] = d.size.cpu
        found.append(ResolvedResource("azure", kind, d.logical, props))
        found.append(ResolvedResource("azure", "managed_identity", f"{d.logical}-identity",
                                      {"task": d.task.name}))  # fmt: skip
    if model.secrets:
        found.append(ResolvedResource("azure", "key_vault", f"{model.spec.name}-vault",
                                      {"secrets": [kv for _, kv in model.secrets.values()]}))  # fmt: skip
    if model.tasks:
        found.append(ResolvedResource("azure", "logic_app", model.spec.name,
                                      {"tasks": [t.task.name for t in model.tasks],
                                       "schedule": model.schedule}))  # fmt: skip
    return tuple(found)


def dataset_plans(model: AzureModel) -> tuple[DatasetPlan, ...]:
    """Each dataset's account, container and key; says where ephemeral data goes."""
    keys = {ds: key for t in model.tasks for ds, (_, key) in t.locations.items()}
    plans = []
    for a in model.accounts:
        for c in a.containers:
            for ds in c.datasets:
                note = ""
                if a.role == "work" and c.name == "work":
                    days = model.options.intermediate_expiry_days
                    note = (
                        "ephemeral: placed in the pipeline-owned work container, one copy per "
                        f"run, deleted after {days} days"
                    )
                where = f"abfss://{c.name}@{a.shown}.dfs.core.windows.net/{keys.get(ds, '')}"
                plans.append(DatasetPlan(ds, "azure", where, note))
    return tuple(sorted(plans, key=lambda p: p.dataset))


def task_plans(model: AzureModel) -> tuple[TaskPlan, ...]:
    plans = []
    for d in model.tasks:
        who = f"identity {d.logical}-identity"
        permissions = [f"{who}: {a.describe()}" for a in d.assignments]
        permissions += [
            f"{who}: Key Vault Secrets User on secret {model.secrets[name][1]}"
            for name in sorted(set(d.secrets.values()))
        ]
        invoke = (
            "calls its function (App Service authentication admits only it)"
            if d.packaging == "function"
            else "Container Apps Jobs Operator on its job"
        )
        permissions.append(f"the Logic App's identity: {invoke}")
        packaging = (
            "Function App (Flex Consumption)" if d.packaging == "function" else "Container Apps job"
        )
        plans.append(TaskPlan(d.task.name, "azure", packaging, d.size.reason, tuple(permissions)))
    return tuple(plans)


__all__ = ["AzureCompiler"]
