"""``GCPCompiler``: a placed pipeline -> a Pulumi Python project for Google Cloud.

The compiler never imports pulumi: it builds a :class:`~glacier_gcp.model.GCPModel`
(checked names, packaging, conditional bucket access), prints it as ``__main__.py`` plus
``workflow.yaml`` (the Workflows definition, function URLs and job names filled in at deploy
time) and adds the project files, the README and the bundle. ``pulumi up`` does the rest.
"""

from __future__ import annotations

import os
import re
from dataclasses import replace

from glacier.compilation.base import CompileInput, Compiler, StackBuild
from glacier.compilation.infrastructure import DatasetPlan, ResolvedResource, Stack, TaskPlan
from glacier.compilation.projection import spec_on
from glacier.errors import CompilationError
from glacier_gcp import handoff, remote
from glacier_gcp.cost import monthly_cost
from glacier_gcp.model import GCPModel, ModelOptions, build_model
from glacier_gcp.program import render_program
from glacier_gcp.project import project_files
from glacier_gcp.schedule import DEFAULT_TIME_ZONE

_PROJECT = re.compile(r"[a-z][a-z0-9-]{4,28}[a-z0-9]")
_REGION = re.compile(r"[a-z]+-[a-z]+\d+")


class GCPCompiler(Compiler):
    """Compile a pipeline to a Google Cloud stack (a Pulumi Python project: GCS, IAM, Cloud
    Functions / Cloud Run jobs, Workflows, Cloud Scheduler)."""

    provider = "gcp"

    def __init__(
        self,
        project: str | None,
        region: str = "us-central1",
        *,
        intermediate_expiry_days: int = 7,
        noncurrent_days: int = 30,
    ) -> None:
        if project is not None and (
            not isinstance(project, str) or not _PROJECT.fullmatch(project)
        ):
            msg = (
                "GCPCompiler: project must be a Google Cloud project id (6-30 lowercase letters, "
                f"digits and '-', starting with a letter), found {project!r}"
            )
            raise CompilationError(msg)
        if not isinstance(region, str) or not _REGION.fullmatch(region):
            raise CompilationError(
                f"GCPCompiler: region must look like 'us-central1', found {region!r}"
            )
        for name, value in (
            ("intermediate_expiry_days", intermediate_expiry_days),
            ("noncurrent_days", noncurrent_days),
        ):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise CompilationError(f"GCPCompiler: {name} must be an int >= 1, found {value!r}")
        self.options = ModelOptions(
            project, region, intermediate_expiry_days, noncurrent_days, DEFAULT_TIME_ZONE
        )

    @property
    def project(self) -> str | None:
        return self.options.project

    @property
    def region(self) -> str:
        return self.options.region

    @classmethod
    def from_env(cls) -> GCPCompiler:
        """Project from ``GOOGLE_CLOUD_PROJECT`` / ``CLOUDSDK_CORE_PROJECT`` (unset: the stack's
        ``gcp:project`` config), region from ``GOOGLE_CLOUD_REGION`` (default us-central1)."""
        project = os.environ.get("GOOGLE_CLOUD_PROJECT") or os.environ.get("CLOUDSDK_CORE_PROJECT")
        region = os.environ.get("GOOGLE_CLOUD_REGION") or "us-central1"
        return cls(project=project or None, region=region)

    def __repr__(self) -> str:
        return f"GCPCompiler(project={self.project!r}, region={self.region!r})"

    def build_stack(self, job: CompileInput) -> StackBuild:
        spec = job.spec
        gcp_spec = spec_on(spec, job.placement, "gcp")
        model = replace(build_model(gcp_spec, job.placement, self.options), spec=gcp_spec)
        model = handoff.linked(model, job.spec, job.placement)
        program = render_program(model)
        workflows = sum(1 for f in program if f.startswith("workflow"))
        files = project_files(replace(model, spec=spec), job.source, workflows)
        files.update(program)
        files.update(remote.stack_files(model, files))
        files["app/requirements.txt"] = handoff.requirement(
            model.handoff, files["app/requirements.txt"]
        )
        cost, assumptions = monthly_cost(model)
        stack = Stack(
            provider="gcp",
            files=dict(sorted(files.items())),
            resources=resources(model, workflows),
            tasks=task_plans(model),
            datasets=dataset_plans(model),
            monthly_cost_usd=cost,
            cost_assumptions=assumptions,
        )
        return StackBuild(stack=stack, warnings=model.warnings)


def resources(model: GCPModel, workflows: int = 1) -> tuple[ResolvedResource, ...]:
    """The resources the stack creates (and the buckets it only looks up, as
    ``existing_gcs_bucket``), for ``infra.resources`` and the plan; ``workflows``: how many
    workflows the DAG is spread over (the first runs it, the others run parts of it)."""
    found = [
        ResolvedResource("gcp", "gcs_bucket" if b.create else "existing_gcs_bucket",
                         b.explicit_name or b.logical, {
            "datasets": list(b.datasets), "purpose": b.purpose, "versioning": b.versioning,
            "storage_class": b.storage_class, "soft_delete_seconds": b.soft_delete_seconds,
            "existing": not b.create,
        })
        for b in model.buckets
    ]  # fmt: skip
    for d in model.tasks:
        kind = "cloud_function" if d.packaging == "function" else "cloud_run_job"
        props: dict[str, object] = {"task": d.task.name, "memory": d.size.memory,
                                    "timeout": d.size.timeout}  # fmt: skip
        if d.packaging == "job":
            props["cpu"] = d.size.cpu
        found.append(ResolvedResource("gcp", kind, d.logical, props))
        found.append(ResolvedResource("gcp", "service_account", d.account, {"task": d.task.name}))
    if not model.tasks:
        return tuple(found)
    name = model.spec.name
    found.append(ResolvedResource("gcp", "service_account", model.accounts["workflow"], {}))
    found.append(
        ResolvedResource("gcp", "workflow", name, {"tasks": [t.task.name for t in model.tasks]})
    )
    for number in range(2, workflows + 1):
        props = {"runs": f"parts of workflow {name} as its child executions"}
        found.append(ResolvedResource("gcp", "workflow", f"{name}-{number}", props))
    if model.schedule:
        found.append(ResolvedResource("gcp", "service_account", model.accounts["scheduler"], {}))
        found.append(ResolvedResource("gcp", "scheduler_job", name, {"cron": model.schedule}))
    found += handoff.resources(model)
    return tuple(found)


def dataset_plans(model: GCPModel) -> tuple[DatasetPlan, ...]:
    """Each dataset's bucket and key; says where ephemeral data goes."""
    keys = {ds: key for t in model.tasks for ds, (_, key) in t.locations.items()}
    plans = []
    for b in model.buckets:
        bucket = b.explicit_name or f"<{b.logical}-*>"
        for ds in b.datasets:
            note = ""
            if b.purpose == "intermediate":
                days = model.options.intermediate_expiry_days
                note = (
                    "ephemeral: placed in the pipeline-owned intermediate bucket, one copy per "
                    f"run, deleted after {days} days"
                )
            plans.append(DatasetPlan(ds, "gcp", f"gs://{bucket}/{keys.get(ds, '')}", note))
    return tuple(sorted(plans, key=lambda p: p.dataset))


def task_plans(model: GCPModel) -> tuple[TaskPlan, ...]:
    plans = []
    for d in model.tasks:
        permissions = [f"service account {d.account}: {b.describe()}" for b in d.bindings]
        permissions += [
            f"service account {d.account}: roles/secretmanager.secretAccessor on secret "
            f"{model.secrets[name][1]}"
            for name in sorted(set(d.secrets.values()))
        ]
        invoke = (
            "roles/run.invoker on its function"
            if d.packaging == "function"
            else ("roles/run.jobsExecutorWithOverrides on its job")
        )
        permissions.append(f"workflow service account {model.accounts['workflow']}: {invoke}")
        packaging = "Cloud Function (2nd gen)" if d.packaging == "function" else "Cloud Run job"
        plans.append(TaskPlan(d.task.name, "gcp", packaging, d.size.reason, tuple(permissions)))
    return tuple(plans)


__all__ = ["GCPCompiler"]
