"""Compute and orchestration building blocks (copied into the stack as glacier_compute.py).

Functions are 2nd gen Cloud Functions built from the bundle's source archive, reachable only
from inside Google Cloud (ingress internal) and invokable only by the workflow's service
account; jobs are Cloud Run jobs running the bundle's image. Neither is deletion-protected:
they hold no data, and ``pulumi destroy`` must be able to remove them.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, cast

import pulumi
import pulumi_gcp as gcp
from glacier_infra import Context, member

#: The runtime handler every function runs (``main.py`` in the bundle imports it).
ENTRY_POINT = "handler"
#: The workflow's service account may run exactly these jobs, with per-run overrides.
JOB_RUNNER_ROLE = "roles/run.jobsExecutorWithOverrides"


def function_source(
    ctx: Context, name: str, *, bucket: Any, built: Any
) -> gcp.storage.BucketObject:
    """Upload the bundle's source archive (named after its content, so a change redeploys)."""
    return gcp.storage.BucketObject(
        name,
        bucket=bucket.name,
        name=f"artifacts/{name}-{built.md5[:12]}.zip",
        source=pulumi.FileAsset(built.path),
        opts=ctx.opts(),
    )


def _secret_env(ctx: Context, secrets: Mapping[str, str]) -> list[dict[str, Any]]:
    return [
        {"key": var, "project_id": ctx.project, "secret": sid, "version": "latest"}
        for var, sid in secrets.items()
    ]


def function(
    ctx: Context,
    name: str,
    *,
    account: gcp.serviceaccount.Account,
    source: gcp.storage.BucketObject,
    runtime: str,
    memory: int,
    timeout: int,
    environment: Mapping[str, Any],
    secrets: Mapping[str, str] | None = None,
    after: Sequence[pulumi.Resource] = (),
) -> gcp.cloudfunctionsv2.Function:
    """A task's function: the shared bundle, the runtime handler, its own service account;
    one request per instance (a task run owns its instance), internal ingress only."""
    return gcp.cloudfunctionsv2.Function(
        name,
        location=ctx.region,
        build_config={
            "runtime": runtime,
            "entry_point": ENTRY_POINT,
            "source": {"storage_source": {"bucket": source.bucket, "object": source.name}},
        },
        service_config={
            "available_memory": f"{memory}Mi",
            "timeout_seconds": timeout,
            "max_instance_request_concurrency": 1,
            "ingress_settings": "ALLOW_INTERNAL_ONLY",
            "all_traffic_on_latest_revision": True,
            "service_account_email": account.email,
            "environment_variables": dict(environment),
            "secret_environment_variables": cast(Any, _secret_env(ctx, secrets or {})) or None,
        },
        opts=ctx.opts(*after),
    )


def repository(ctx: Context, name: str) -> gcp.artifactregistry.Repository:
    """The Artifact Registry repository of the stack's job image."""
    return gcp.artifactregistry.Repository(
        name, repository_id=name, format="DOCKER", location=ctx.region, opts=ctx.opts()
    )


def container_image(
    ctx: Context, name: str, *, repository: gcp.artifactregistry.Repository, context: str
) -> pulumi.Output[str]:
    """The bundle's image, built from ``context`` and pushed; its reference by digest."""
    import pulumi_docker_build as docker_build

    host = f"{ctx.region}-docker.pkg.dev"
    url = pulumi.Output.concat(host, "/", ctx.project, "/", repository.repository_id, "/", name)
    token = gcp.organizations.get_client_config_output(opts=ctx.invoke()).access_token
    image = docker_build.Image(
        name,
        context={"location": context},
        platforms=cast(Any, ["linux/amd64"]),
        push=True,
        tags=[pulumi.Output.concat(url, ":latest")],
        registries=[{"address": host, "username": "oauth2accesstoken", "password": token}],
        opts=pulumi.ResourceOptions(depends_on=[repository]),
    )
    return pulumi.Output.concat(url, "@", image.digest)


def job(
    ctx: Context,
    name: str,
    *,
    task: str,
    account: gcp.serviceaccount.Account,
    image: Any,
    cpu: float,
    memory: int,
    timeout: int,
    environment: Mapping[str, Any],
    secrets: Mapping[str, str] | None = None,
    after: Sequence[pulumi.Resource] = (),
) -> gcp.cloudrunv2.Job:
    """A Cloud Run job running ``python -m glacier_gcp.runtime --task <task>`` once per run.

    Cloud Run retries nothing itself (``max_retries`` 0): the workflow's retry policy owns
    retries, so a task is tried exactly as often as its ``retries`` say.
    """
    envs: list[dict[str, Any]] = [{"name": k, "value": v} for k, v in environment.items()]
    envs += [
        {"name": var, "value_source": {"secret_key_ref": {"secret": sid, "version": "latest"}}}
        for var, sid in (secrets or {}).items()
    ]
    container = {
        "image": image,
        "commands": ["python", "-m", "glacier_gcp.runtime", "--task", task],
        "envs": envs,
        "resources": {"limits": {"cpu": f"{cpu:g}", "memory": f"{memory}Mi"}},
    }
    return gcp.cloudrunv2.Job(
        name,
        location=ctx.region,
        deletion_protection=False,
        template=cast(
            Any,
            {
                "task_count": 1,
                "template": {
                    "containers": [container],
                    "service_account": account.email,
                    "timeout": f"{timeout}s",
                    "max_retries": 0,
                },
            },
        ),
        opts=ctx.opts(*after),
    )


def invoker(
    ctx: Context, name: str, *, function: gcp.cloudfunctionsv2.Function, account: Any
) -> gcp.cloudrunv2.ServiceIamMember:
    """``account`` may invoke ``function`` (run.invoker on its Cloud Run service), nothing else."""
    return gcp.cloudrunv2.ServiceIamMember(
        name,
        location=ctx.region,
        name=function.service_config.service,
        role="roles/run.invoker",
        member=member(account),
        opts=ctx.opts(),
    )


def job_runner(
    ctx: Context, name: str, *, job: gcp.cloudrunv2.Job, account: Any
) -> gcp.cloudrunv2.JobIamMember:
    """``account`` may run ``job`` with per-run overrides, and no other job."""
    return gcp.cloudrunv2.JobIamMember(
        name,
        location=ctx.region,
        name=job.name,
        role=JOB_RUNNER_ROLE,
        member=member(account),
        opts=ctx.opts(),
    )


#: A placeholder is a whole double-quoted YAML value naming a program variable.
PLACEHOLDER = re.compile(r'"<<([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)>>"')


def workflow_definition(path: str, values: Mapping[str, Any]) -> pulumi.Output[str]:
    """The definition in ``path`` with each ``"<<name>>"`` value replaced by its resolved value.

    Only whole quoted values that are exactly a placeholder are replaced, each by a JSON
    string (a valid YAML scalar), so no resolved URL or name can change the document's
    structure. Placeholders and values must match one to one: a stale file fails the deploy
    instead of deploying a workflow that calls the wrong functions.
    """
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    used = set(PLACEHOLDER.findall(text))
    if used != set(values):
        missing, unused = sorted(used - set(values)), sorted(set(values) - used)
        msg = (
            f"{path}: placeholders without a value {missing}, values without a placeholder "
            f"{unused}; compile the pipeline again so {path} and __main__.py agree"
        )
        raise ValueError(msg)
    if not values:
        return pulumi.Output.from_input(text)
    resolved = pulumi.Output.all(**values)
    return resolved.apply(
        lambda found: PLACEHOLDER.sub(lambda m: json.dumps(str(found[m.group(1)])), text)
    )


def workflow(
    ctx: Context,
    name: str,
    *,
    definition: pulumi.Output[str],
    account: gcp.serviceaccount.Account,
    after: Sequence[pulumi.Resource] = (),
    starts_children: bool = False,
) -> gcp.workflows.Workflow:
    """The orchestrator, running as ``account`` (which may call only the pipeline's tasks).

    ``starts_children``: the definition runs parts of a deeply nested DAG as child executions
    of itself, so ``account`` may start workflow executions (Workflows has no per-workflow
    IAM: ``roles/workflows.invoker`` on the project, which reads no data).
    """
    if starts_children:
        grant = gcp.projects.IAMMember(
            f"{name}-children",
            project=ctx.project,
            role="roles/workflows.invoker",
            member=member(account),
            opts=ctx.opts(),
        )
        after = [*after, grant]
    return gcp.workflows.Workflow(
        name,
        region=ctx.region,
        description=f"Glacier pipeline {ctx.pipeline}: runs its DAG with retries",
        service_account=account.email,
        source_contents=definition,
        deletion_protection=False,
        opts=ctx.opts(*after),
    )


def schedule(
    ctx: Context,
    name: str,
    *,
    workflow: gcp.workflows.Workflow,
    account: gcp.serviceaccount.Account,
    cron: str,
) -> gcp.cloudscheduler.Job:
    """A Cloud Scheduler job starting a workflow execution on ``cron``.

    The time zone is ``glacier:timeZone`` (default Etc/UTC). Workflows has no per-workflow
    IAM, so ``account`` is granted ``roles/workflows.invoker`` on the project: it can start
    executions and nothing else (it reads no data). A failed start is not retried: a retry
    after a start that did happen would run the pipeline twice.
    """
    time_zone = pulumi.Config("glacier").get("timeZone") or "Etc/UTC"
    grant = gcp.projects.IAMMember(
        name,
        project=ctx.project,
        role="roles/workflows.invoker",
        member=member(account),
        opts=ctx.opts(),
    )
    body = json.dumps({"argument": "{}"})
    return gcp.cloudscheduler.Job(
        name,
        region=ctx.region,
        schedule=cron,
        time_zone=time_zone,
        retry_config={"retry_count": 0},
        http_target={
            "http_method": "POST",
            "uri": pulumi.Output.concat(
                "https://workflowexecutions.googleapis.com/v1/", workflow.id, "/executions"
            ),
            "body": base64.b64encode(body.encode()).decode(),
            "headers": {"Content-Type": "application/json"},
            "oauth_token": {
                "service_account_email": account.email,
                "scope": "https://www.googleapis.com/auth/cloud-platform",
            },
        },
        opts=ctx.opts(grant),
    )
