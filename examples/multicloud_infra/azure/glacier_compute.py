"""Compute and orchestration building blocks (copied into the stack as glacier_compute.py).

Functions are Python Function Apps on the Flex Consumption plan (one app per task, so each
runs as its own identity), deployed from a package in their own deployment container and
reachable only with a token for their own audience from the workflow's identity (App Service
authentication). Jobs are Container Apps jobs (manual trigger, no retries of their own: the
Logic App's attempts own them) in one consumption environment, pulling the bundle's image
with their identity. The Logic App runs as its own identity, which may start exactly the
pipeline's jobs and call exactly its functions.
"""

from __future__ import annotations

import json
import re
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import pulumi
from glacier_infra import Account, Context, role_assignment, storage_account, unique_name
from pulumi_azure_native import app, containerregistry, logic, managedidentity, storage, web

BLOB_DATA_OWNER = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b"  # the Functions host's own storage
BLOB_DATA_CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
ACR_PULL = "7f951dda-4ed3-4680-a7ca-43fe172d538d"
JOBS_OPERATOR = "b9a307c4-5aa3-4b52-ba60-2b17c136cd7b"  # Container Apps Jobs Operator
PYTHON_VERSION = "3.12"


def function_host(ctx: Context, name: str, *, base: str, task: str) -> Account:
    """One function's own host storage account (its locks, keys and deployment package):
    apart from the data, so its host access reaches no dataset, and apart from the other
    functions', whose host containers have the same fixed names (``azure-webjobs-hosts``,
    ``azure-webjobs-secrets``): a container-scoped role could not tell two apps apart."""
    return storage_account(ctx, name, account_name=unique_name(ctx, base, task),
                           versioning=False)  # fmt: skip


def function(
    ctx: Context,
    name: str,
    *,
    task: str,
    host_base: str,
    identity: managedidentity.UserAssignedIdentity,
    caller: managedidentity.UserAssignedIdentity,
    package: Any,
    memory: int,
    timeout: int,
    environment: Mapping[str, Any],
    secrets: Mapping[str, Any] | None = None,
    after: Sequence[pulumi.Resource] = (),
) -> web.WebApp:
    """A task's Function App: its own FC1 plan, identity and host storage account (Storage
    Blob Data Owner there and nowhere else), the package uploaded to its deployment
    container, HTTPS only, callable only by ``caller``'s identity."""
    host = function_host(ctx, f"{name}-storage", base=host_base, task=task)
    box = storage.BlobContainer(f"{name}-deploy", account_name=host.name,  # type: ignore[call-overload]
                                resource_group_name=ctx.resource_group, public_access="None",
                                opts=ctx.opts())  # fmt: skip
    owner = role_assignment(ctx, f"{name}-host", scope=host.id, role=BLOB_DATA_OWNER,
                            principal=identity.principal_id,
                            description=f"glacier {task}: its own Functions host storage")  # fmt: skip
    uploader = role_assignment(ctx, f"{name}-upload", scope=box.id, role=BLOB_DATA_CONTRIBUTOR,
                               principal=ctx.deployer, description="the deployer uploads the package")  # fmt: skip
    storage.Blob(f"{name}-package", account_name=host.name, resource_group_name=ctx.resource_group,
                 container_name=box.name, blob_name="released-package.zip",
                 source=pulumi.FileAsset(package.path), content_md5=package.md5,
                 opts=ctx.opts(uploader))  # fmt: skip
    plan = web.AppServicePlan(f"{name}-plan", resource_group_name=ctx.resource_group,
                              location=ctx.location, kind="functionapp", reserved=True,
                              sku={"name": "FC1", "tier": "FlexConsumption"}, opts=ctx.opts())  # fmt: skip
    settings = {
        "AzureWebJobsStorage__accountName": host.name,
        "AzureWebJobsStorage__credential": "managedidentity",
        "AzureWebJobsStorage__clientId": identity.client_id,
        "AZURE_CLIENT_ID": identity.client_id,
        # App Service authentication admits only the workflow's identity: no function key
        "GLACIER_HTTP_AUTH_LEVEL": "anonymous",
        **environment,
        **(secrets or {}),
    }
    assigned = {"type": "UserAssigned", "user_assigned_identities": [identity.id]}
    site = web.WebApp(  # type: ignore[call-overload]
        name,
        resource_group_name=ctx.resource_group,
        location=ctx.location,
        kind="functionapp,linux",
        server_farm_id=plan.id,
        https_only=True,
        identity=assigned,
        key_vault_reference_identity=identity.id,
        site_config={"app_settings": [{"name": k, "value": v} for k, v in settings.items()],
                     "min_tls_version": "1.2", "ftps_state": "Disabled"},
        function_app_config={
            "deployment": {"storage": {
                "type": "blobContainer",
                "value": pulumi.Output.concat(host.blob_endpoint, box.name),
                "authentication": {"type": "UserAssignedIdentity",
                                   "user_assigned_identity_resource_id": identity.id},
            }},
            "runtime": {"name": "python", "version": PYTHON_VERSION},
            "scale_and_concurrency": {"instance_memory_mb": memory, "maximum_instance_count": 40},
        },
        tags={**ctx.tags, "glacier-task": task, "glacier-timeout": str(timeout)},
        opts=ctx.opts(owner, *after),
    )  # fmt: skip
    web.WebAppAuthSettingsV2(  # type: ignore[call-overload]
        f"{name}-auth",
        name=site.name,
        resource_group_name=ctx.resource_group,
        platform={"enabled": True},
        global_validation={"require_authentication": True,
                           "unauthenticated_client_action": "Return401"},
        identity_providers={"azure_active_directory": {
            "enabled": True,
            "registration": {"client_id": identity.client_id,
                             "open_id_issuer": pulumi.Output.concat(
                                 "https://sts.windows.net/", ctx.tenant_id, "/v2.0")},
            "validation": {"allowed_audiences": [identity.client_id],
                           "default_authorization_policy": {
                               "allowed_principals": {"identities": [caller.principal_id]}}},
        }},
        opts=ctx.opts(),
    )  # fmt: skip
    return site


def key_vault_reference(vault: Any, secret_name: str) -> pulumi.Output[str]:
    """An app setting resolved from Key Vault by the app's identity."""
    return pulumi.Output.concat("@Microsoft.KeyVault(VaultName=", vault.name, ";SecretName=",
                                secret_name, ")")  # fmt: skip


# -- jobs --------------------------------------------------------------------------------------


def registry(ctx: Context, name: str) -> containerregistry.Registry:
    """The stack's image registry: no admin user (pulls and pushes with Entra ID tokens)."""
    return containerregistry.Registry(
        name, resource_group_name=ctx.resource_group, location=ctx.location,
        sku={"name": "Basic"}, admin_user_enabled=False, opts=ctx.opts(),
    )  # fmt: skip


def acr_refresh_token(server: str, tenant: str, token: str) -> str:
    """An ACR refresh token for the deployer's Entra ID token (what ``az acr login`` does)."""
    body = urllib.parse.urlencode({"grant_type": "access_token", "service": server,
                                   "tenant": tenant, "access_token": token}).encode()  # fmt: skip
    request = urllib.request.Request(f"https://{server}/oauth2/exchange", data=body)
    with urllib.request.urlopen(request, timeout=60) as answer:
        return str(json.loads(answer.read())["refresh_token"])


def container_image(ctx: Context, name: str, *, registry: containerregistry.Registry,
                    context: str) -> pulumi.Output[str]:  # fmt: skip
    """The bundle's image, built from ``context`` and pushed; its reference by digest."""
    import pulumi_docker_build as docker_build
    from pulumi_azure_native import authorization

    token = authorization.get_client_token_output().token
    password = pulumi.Output.all(registry.login_server, ctx.tenant_id, token).apply(
        lambda found: acr_refresh_token(found[0], found[1], found[2])
    )
    url = pulumi.Output.concat(registry.login_server, "/", name)
    image = docker_build.Image(  # type: ignore[call-overload]
        name, context={"location": context}, platforms=["linux/amd64"], push=True,
        tags=[pulumi.Output.concat(url, ":latest")],
        registries=[{"address": registry.login_server,
                     "username": "00000000-0000-0000-0000-000000000000",
                     "password": pulumi.Output.secret(cast(Any, password))}],
    )  # fmt: skip
    return pulumi.Output.concat(url, "@", image.digest)


def environment(ctx: Context, name: str) -> app.ManagedEnvironment:
    """The Container Apps environment of the stack's jobs (consumption only)."""
    return app.ManagedEnvironment(
        name, resource_group_name=ctx.resource_group, location=ctx.location,
        workload_profiles=[{"name": "Consumption", "workload_profile_type": "Consumption"}],
        tags=dict(ctx.tags), opts=ctx.opts(),
    )  # fmt: skip


@dataclass(frozen=True)
class Job:
    """A deployed job: its resource, id, and the image and environment each start passes."""

    job: app.Job
    id: pulumi.Output[str]
    image: Any
    env: pulumi.Output[list[dict[str, Any]]]


def job(ctx: Context, name: str, *, task: str, environment: app.ManagedEnvironment,
        identity: managedidentity.UserAssignedIdentity, image: Any,
        registry: containerregistry.Registry | None, cpu: float, memory: int, timeout: int,
        variables: Mapping[str, Any], secrets: Mapping[str, Any] | None = None,
        after: Sequence[pulumi.Resource] = ()) -> Job:  # fmt: skip
    """A Container Apps job running ``python -m glacier_azure.runtime --task <task>``, started
    by the Logic App; Container Apps retries nothing itself (the workflow's attempts do)."""
    pulls: list[Any] = []
    if registry is not None:
        pulls.append(role_assignment(ctx, f"{name}-pull", scope=registry.id, role=ACR_PULL,
                                     principal=identity.principal_id,
                                     description=f"glacier {task} pulls its image"))  # fmt: skip
    refs = [{"name": f"s{i}", "key_vault_url": url, "identity": identity.id}
            for i, url in enumerate((secrets or {}).values())]  # fmt: skip
    env: list[Any] = [{"name": k, "value": v} for k, v in variables.items()]
    env += [{"name": var, "secret_ref": f"s{i}"} for i, var in enumerate(secrets or {})]
    made = app.Job(  # type: ignore[call-overload]
        name,
        job_name=name,
        resource_group_name=ctx.resource_group,
        location=ctx.location,
        environment_id=environment.id,
        identity={"type": "UserAssigned", "user_assigned_identities": [identity.id]},
        configuration={
            "trigger_type": "Manual",
            "replica_timeout": timeout,
            "replica_retry_limit": 0,
            "manual_trigger_config": {"parallelism": 1, "replica_completion_count": 1},
            "registries": [{"server": registry.login_server, "identity": identity.id}]
            if registry is not None else None,
            "secrets": refs or None,
        },
        template={"containers": [{
            "name": "task", "image": image,
            "command": ["python", "-m", "glacier_azure.runtime"], "args": ["--task", task],
            "env": env, "resources": {"cpu": cpu, "memory": f"{memory / 1024:g}Gi"},
        }]},
        tags={**ctx.tags, "glacier-task": task},
        opts=ctx.opts(*pulls, *after),
    )  # fmt: skip
    started = pulumi.Output.from_input(env).apply(
        lambda items: [{"name": e["name"], **({"value": e["value"]} if "value" in e
                                               else {"secretRef": e["secret_ref"]})} for e in items]
    )  # fmt: skip
    return Job(made, made.id, image, started)


def job_runner(ctx: Context, name: str, *, job: Job,
               caller: managedidentity.UserAssignedIdentity) -> Any:  # fmt: skip
    """The workflow's identity may start and read exactly this job's executions."""
    return role_assignment(ctx, name, scope=job.id, role=JOBS_OPERATOR,
                           principal=caller.principal_id,
                           description="the pipeline's Logic App starts this job")  # fmt: skip


# -- orchestration -----------------------------------------------------------------------------

#: A placeholder is ``<<name>>`` naming a program value: a whole JSON string, or inside one.
PLACEHOLDER = re.compile(r"<<([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)>>")
_WHOLE = re.compile(r'"<<([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)>>"')


def fill(text: str, found: Mapping[str, Any]) -> str:
    """``text`` with each whole-string placeholder replaced by its value as JSON (a list,
    a string...) and each embedded one by the value's JSON string content: no value can
    change the document's structure."""
    text = _WHOLE.sub(lambda m: json.dumps(found[m.group(1)]), text)
    return PLACEHOLDER.sub(lambda m: json.dumps(str(found[m.group(1)]))[1:-1], text)


def workflow_definition(path: str, values: Mapping[str, Any]) -> pulumi.Output[Any]:
    """The definition in ``path`` with its placeholders filled (see :func:`fill`).

    Placeholders and values must match one to one: a stale file fails the deploy instead of
    deploying a workflow that calls the wrong functions.
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
    return pulumi.Output.all(**values).apply(lambda found: json.loads(fill(text, found)))


def workflow(ctx: Context, name: str, *, definition: Any,
             identity: managedidentity.UserAssignedIdentity,
             after: Sequence[pulumi.Resource] = ()) -> logic.Workflow:  # fmt: skip
    """The Logic App (Consumption) running the DAG as its own identity."""
    return logic.Workflow(
        name,
        resource_group_name=ctx.resource_group,
        location=ctx.location,
        definition=definition,
        identity={"type": "UserAssigned", "user_assigned_identities": [identity.id]},
        state="Enabled",
        tags=dict(ctx.tags),
        opts=ctx.opts(*after),
    )


def time_zone(default: str) -> str:
    """The schedule's Windows time zone: ``glacier:timeZone`` config, else ``default``."""
    return pulumi.Config("glacier").get("timeZone") or default
