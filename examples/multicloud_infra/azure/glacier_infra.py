"""Secure building blocks for a Glacier Azure stack (copied into the stack as glacier_infra.py).

The generated ``__main__.py`` says *what* the pipeline needs (storage accounts and
containers, per-task identities and their blob access, the functions and jobs, the Logic
App); these functions say *how* every such resource is made safely, the same way every
time: storage accounts with HTTPS only, TLS 1.2, no public blob access and no shared keys
(identities only); managed identities with no role but the assignments the program lists,
each blob assignment scoped to one container and narrowed by an ABAC condition to the
task's own keys; a Key Vault with RBAC authorization only.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi_azure_native import authorization, keyvault, managedidentity, resources, storage

#: Role definition ids used outside the blob data roles the program names.
KEY_VAULT_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
#: Hex characters of the stable suffix of generated globally unique names.
SUFFIX = 8


@dataclass(frozen=True)
class Context:
    """The pipeline, its location and resource group, and the subscription deployed to."""

    pipeline: str
    location: str
    resource_group: pulumi.Output[str]
    subscription_id: pulumi.Output[str]
    tenant_id: pulumi.Output[str]
    deployer: pulumi.Output[str]  # the object id running `pulumi up`
    tags: Mapping[str, str]

    def opts(self, *depends_on: pulumi.Resource, **more: Any) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(depends_on=list(depends_on), **more)

    def role(self, definition: str) -> pulumi.Output[str]:
        """A built-in role definition's full id in this subscription."""
        return pulumi.Output.concat(
            "/subscriptions/", self.subscription_id,
            "/providers/Microsoft.Authorization/roleDefinitions/", definition,
        )  # fmt: skip


def context(pipeline: str, *, location: str, resource_group: str | None = None) -> Context:
    """The stack's place: ``azure-native:location`` and ``glacier:resourceGroup`` (stack
    config) win over the compiler's values; without a resource group the stack creates one."""
    place = pulumi.Config("azure-native").get("location") or location
    group = pulumi.Config("glacier").get("resourceGroup") or resource_group
    tags = {"glacier-pipeline": pipeline}
    if group:
        name: pulumi.Output[str] = pulumi.Output.from_input(group)
    else:
        name = resources.ResourceGroup(pipeline, location=place, tags=tags).name
    client = authorization.get_client_config_output()
    return Context(pipeline, place, name, client.subscription_id, client.tenant_id,
                   client.object_id, tags)  # fmt: skip


def unique_name(ctx: Context, base: str, key: str = "") -> pulumi.Output[str]:
    """``base`` and a stable suffix of the subscription, resource group, base (and ``key``,
    for several names on one base): the same stack always gets the same name, two
    subscriptions (or groups) never the same one."""
    salt = f"/{key}" if key else ""
    return pulumi.Output.all(ctx.subscription_id, ctx.resource_group).apply(
        lambda found: (
            base
            + hashlib.sha256(f"{found[0]}/{found[1]}/{base}{salt}".encode()).hexdigest()[:SUFFIX]
        )
    )


# -- storage -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Account:
    """A storage account: its name, its id and its blob endpoint."""

    name: pulumi.Output[str]
    id: pulumi.Output[str]
    blob_endpoint: pulumi.Output[str]


def storage_account(
    ctx: Context,
    name: str,
    *,
    base: str | None = None,
    account_name: Any = None,
    versioning: bool,
    rules: Sequence[Mapping[str, Any]] = (),
    noncurrent_days: int = 30,
) -> Account:
    """A locked-down StorageV2 account: HTTPS only, TLS 1.2, no public blob access, no
    shared keys; versioning (and its cleanup rule) when asked; lifecycle rules."""
    chosen = account_name or unique_name(ctx, base or name)
    account = storage.StorageAccount(  # type: ignore[call-overload]
        name,
        account_name=chosen,
        resource_group_name=ctx.resource_group,
        location=ctx.location,
        kind="StorageV2",
        sku={"name": "Standard_LRS"},
        access_tier="Hot",
        enable_https_traffic_only=True,
        minimum_tls_version="TLS1_2",
        allow_blob_public_access=False,
        allow_shared_key_access=False,
        default_to_o_auth_authentication=True,
        tags=dict(ctx.tags),
        opts=ctx.opts(),
    )
    storage.BlobServiceProperties(
        f"{name}-blobs",
        account_name=account.name,
        resource_group_name=ctx.resource_group,
        blob_services_name="default",
        is_versioning_enabled=versioning,
        delete_retention_policy={"enabled": True, "days": 7},
        opts=ctx.opts(),
    )
    if rules:
        storage.ManagementPolicy(  # type: ignore[call-overload]
            f"{name}-lifecycle",
            account_name=account.name,
            resource_group_name=ctx.resource_group,
            management_policy_name="default",
            policy={"rules": [dict(r) for r in rules]},
            opts=ctx.opts(),
        )
    endpoint = account.primary_endpoints.apply(lambda e: e.blob)
    return Account(account.name, account.id, endpoint)


def existing_account(ctx: Context, name: str, account_name: str) -> Account:
    """An account this stack does not own (``BlobStorage(..., create=False)``): looked up in
    ``glacier:<account>-resource-group`` (default: the stack's group), never changed."""
    group = pulumi.Config("glacier").get(f"{account_name}-resource-group") or ctx.resource_group
    found = storage.get_storage_account_output(account_name=account_name, resource_group_name=group)
    return Account(found.name, found.id, found.primary_endpoints.apply(lambda e: e.blob))


@dataclass(frozen=True)
class Container:
    """A blob container: its account, its name and its resource id (role scopes)."""

    account: Account
    name: str
    id: pulumi.Output[str]


def container(ctx: Context, name: str, *, account: Account, container_name: str) -> Container:
    """A private container (no anonymous access) in ``account``."""
    made = storage.BlobContainer(  # type: ignore[call-overload]
        name,
        account_name=account.name,
        resource_group_name=ctx.resource_group,
        container_name=container_name,
        public_access="None",
        opts=ctx.opts(),
    )
    return Container(account, container_name, made.id)


def existing_container(ctx: Context, *, account: Account, container_name: str) -> Container:
    """A container of an account this stack does not own: its id, nothing created."""
    return Container(account, container_name,
                     pulumi.Output.concat(account.id, "/blobServices/default/containers/",
                                          container_name))  # fmt: skip


def location(box: Container, key: str) -> pulumi.Output[str]:
    """A blob's URL as the runtime reads it: ``abfss://<container>@<account>.dfs.core.windows.net/<key>``
    (the account in the URL: one task may touch several accounts)."""
    return pulumi.Output.concat("abfss://", box.name, "@", box.account.name,
                                ".dfs.core.windows.net/", key)  # fmt: skip


def locations(datasets: Mapping[str, Sequence[Any]]) -> pulumi.Output[str]:
    """``GLACIER_LOCATIONS``: JSON {dataset: :func:`location`}."""
    return pulumi.Output.json_dumps(
        {name: location(box, key) for name, (box, key) in datasets.items()}
    )


# -- identity and access -----------------------------------------------------------------------


def identity(ctx: Context, name: str) -> managedidentity.UserAssignedIdentity:
    """A user-assigned managed identity with no role of its own: only its assignments."""
    return managedidentity.UserAssignedIdentity(
        name, resource_group_name=ctx.resource_group, location=ctx.location,
        tags=dict(ctx.tags), opts=ctx.opts(),
    )  # fmt: skip


def role_assignment(
    ctx: Context,
    name: str,
    *,
    scope: Any,
    role: str,
    principal: Any,
    description: str,
    condition: str | None = None,
) -> authorization.RoleAssignment:
    """``role`` on ``scope`` for a service principal, narrowed by ``condition`` (ABAC 2.0)."""
    return authorization.RoleAssignment(
        name,
        scope=scope,
        role_definition_id=ctx.role(role),
        principal_id=principal,
        principal_type="ServicePrincipal",
        description=description,
        condition=condition,
        condition_version="2.0" if condition else None,
        opts=ctx.opts(),
    )


def blob_access(ctx: Context, name: str, *, container: Container, role: str,
                identity: managedidentity.UserAssignedIdentity, description: str,
                condition: str) -> authorization.RoleAssignment:  # fmt: skip
    """A blob data role on one container for a task's identity, limited to its keys."""
    return role_assignment(ctx, name, scope=container.id, role=role,
                           principal=identity.principal_id, description=description,
                           condition=condition)  # fmt: skip


def storage_options(identity: managedidentity.UserAssignedIdentity) -> pulumi.Output[str]:
    """``GLACIER_STORAGE_OPTIONS``: Polars' Azure options for the task's own identity."""
    return identity.client_id.apply(lambda client: json.dumps({"azure_client_id": client}))


# -- secrets -----------------------------------------------------------------------------------


def vault(ctx: Context, name: str, *, base: str) -> keyvault.Vault:
    """The pipeline's Key Vault: RBAC authorization only (no access policies), purge
    protection off so ``pulumi destroy`` can remove it, soft delete as Azure requires."""
    return keyvault.Vault(  # type: ignore[call-overload]
        name,
        vault_name=unique_name(ctx, base),
        resource_group_name=ctx.resource_group,
        location=ctx.location,
        properties={
            "tenant_id": ctx.tenant_id,
            "sku": {"family": "A", "name": "standard"},
            "enable_rbac_authorization": True,
            "enable_soft_delete": True,
            "soft_delete_retention_in_days": 7,
        },
        tags=dict(ctx.tags),
        opts=ctx.opts(),
    )


def secret(ctx: Context, name: str, *, vault: keyvault.Vault, secret_name: str) -> keyvault.Secret:
    """A secret the tasks read; its value is set after deploy (``az keyvault secret set``),
    never by the stack (the placeholder is ignored once the secret exists)."""
    return keyvault.Secret(
        name,
        vault_name=vault.name,
        resource_group_name=ctx.resource_group,
        secret_name=secret_name,
        properties={"value": "set-me-with-az-keyvault-secret-set"},
        opts=ctx.opts(ignore_changes=["properties"]),
    )


def secret_access(ctx: Context, name: str, *, secret: keyvault.Secret,
                  identity: managedidentity.UserAssignedIdentity) -> authorization.RoleAssignment:  # fmt: skip
    """Key Vault Secrets User on exactly one secret for a task's identity."""
    return role_assignment(ctx, name, scope=secret.id, role=KEY_VAULT_SECRETS_USER,
                           principal=identity.principal_id,
                           description="glacier task reads its secret")  # fmt: skip
