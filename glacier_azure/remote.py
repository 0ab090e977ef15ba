"""The lines of an Azure stack that let its tasks reach data stored on another cloud.

A multi-cloud compile may place a task on Azure that reads or writes a dataset stored in S3
(:mod:`glacier.compilation.links`). Its stack then reads the AWS stack's bucket names
through a ``StackReference`` (``aws_peer``), registers the tenant's Entra ID issuer as an
OpenID Connect provider in that account (``aws_trust``), creates for the task an IAM role
trusting only the principal id of the task's user-assigned identity, with a policy of
exactly the task's neutral grants (``glacier_aws_entra.entra_access``), adds the datasets'
``s3://`` URLs to the task's ``GLACIER_LOCATIONS`` and tells the runtime to trade its
identity's token for the role (:mod:`glacier_azure.federation`).
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from glacier.compilation.codegen import Ref, Section, assign, call, expr, import_
from glacier_azure.model import AzureModel, TaskDeploy

#: The deploy-time helpers the stack imports: (file in the stack, package, path inside it).
HELPERS = (
    ("glacier_aws_federation.py", "glacier_aws", "stack/links/federation.py"),
    ("glacier_aws_entra.py", "glacier_azure", "stack/aws_link.py"),
)
#: What the stack installs besides its own requirements when a task reaches AWS.
REQUIREMENT = "pulumi-aws>=6,<7\n"


#: The Logic App management API version the start command uses.
LOGIC_API = "2019-05-01"


def start_run(model: AzureModel) -> list[ast.stmt]:
    """The ``start_run`` output every stack of a multi-cloud pipeline exports: the command
    that fires the Logic App's trigger (``cd azure && $(pulumi stack output start_run)``)."""
    if not model.tasks:
        return []
    trigger = "schedule" if model.schedule else "manual"
    command = call("pulumi.Output.concat", "az rest --method post --url https://management.azure.com",
                   Ref("workflow", "id"), f"/triggers/{trigger}/run?api-version={LOGIC_API}")  # fmt: skip
    return [expr(call("pulumi.export", "start_run", command))]


def reaches_out(model: AzureModel) -> bool:
    return any(d.remote for d in model.tasks)


def setup(model: AzureModel) -> list[Section]:
    """The imports, the reference to the AWS data stack and the tenant's OIDC provider in
    its account, when a task needs them."""
    if not reaches_out(model):
        return []
    name = model.spec.name
    return [
        Section([import_("glacier_aws_federation", "xc"), import_("glacier_aws_entra", "xe")]),
        Section([
            assign("aws_peer", call("xc.peer", name)),
            assign("aws_trust", call("xe.entra_provider", f"{name}-entra", peer=Ref("aws_peer"),
                                     tenant=Ref("ctx", "tenant_id"), pipeline=name)),
        ]),
    ]  # fmt: skip


def _read(package: str, path: str) -> str:
    module = importlib.import_module(package)  # installed: its data is placed there
    with open(Path(module.__file__ or "").parent / path, encoding="utf-8", newline="") as fh:
        return fh.read()


def stack_files(model: AzureModel, files: Mapping[str, str]) -> dict[str, str]:
    """The helper modules and the AWS SDK, added to ``files`` when a task reaches AWS."""
    if not reaches_out(model):
        return {}
    found = {dest: _read(package, path) for dest, package, path in HELPERS}
    found["requirements.txt"] = files["requirements.txt"] + REQUIREMENT
    found["README.md"] = files["README.md"] + readme(model)
    return found


def readme(model: AzureModel) -> str:
    """The README's section on the tasks' access to AWS data: what it creates, what to set."""
    name = model.spec.name
    tasks = ", ".join(f"`{d.task.name}`" for d in model.tasks if d.remote)
    return "\n".join([
        "## Reaching AWS data",
        "",
        f"Task(s) {tasks} read or write data kept in the pipeline's AWS stack. This stack reads "
        f"that stack's `buckets` and `region` outputs (`<org>/{name}-aws/<this stack's name>`, "
        "or `glacier:peer.aws`) and creates there, with your AWS credentials (deploy with both "
        "clouds' credentials, after the AWS stack):",
        "",
        "- an IAM OpenID Connect provider for your tenant's Entra ID issuer "
        "(`https://sts.windows.net/<tenant>/`; `glacier:entraTokenVersion 2` for "
        "`https://login.microsoftonline.com/<tenant>/v2.0`), unless `glacier:awsOidcProvider` "
        "names an existing one (an account holds one provider per issuer);",
        "- per task, an IAM role only that task's managed identity may assume (the token's "
        "`sub` is its principal id, its `aud` the audience below), allowed exactly what the "
        "task reads and writes.",
        "",
        "The task asks its identity for a token for the audience `glacier:awsAudience` "
        f"(default `api://glacier-{name}-aws`): register an application with that application "
        "ID URI in the tenant first:",
        "",
        "```",
        f"az ad app create --display-name glacier-{name}-aws --identifier-uris api://glacier-{name}-aws",
        "pulumi config set glacier:awsAudience <its application ID URI>   # if not the default",
        "```",
        "",
    ])  # fmt: skip


def statements(d: TaskDeploy) -> list[ast.stmt]:
    """The task's role in the data's account, after its identity exists."""
    if not d.remote:
        return []
    datasets = {a.dataset: a.key for a in d.remote}
    grants = [[g.dataset, g.pattern, g.mode, g.folder] for a in d.remote for g in a.grants]
    return [
        assign(f"{d.var}_remote", call(
            "xe.entra_access", f"{d.logical}-aws", peer=Ref("aws_peer"), trusted=Ref("aws_trust"),
            identity=Ref(f"{d.var}_id"), datasets=datasets, grants=grants,
        ))
    ]  # fmt: skip


def environment(d: TaskDeploy, env: dict[str, Any]) -> dict[str, Any]:
    """``env`` with the remote datasets' URLs and the role to assume added."""
    if not d.remote:
        return env
    merged = dict(env)
    merged["GLACIER_LOCATIONS"] = call(
        "xc.locations", env["GLACIER_LOCATIONS"], Ref(f"{d.var}_remote", "locations")
    )
    merged["AZURE_CLIENT_ID"] = Ref(f"{d.var}_id", "client_id")  # whose token to ask for
    merged["AWS_ROLE_ARN"] = Ref(f"{d.var}_remote", "role.arn")
    merged["AWS_REGION"] = Ref(f"{d.var}_remote", "region")
    merged["GLACIER_WEB_IDENTITY"] = "azure"
    merged["GLACIER_WEB_IDENTITY_AUDIENCE"] = Ref("aws_trust", "audience")
    return merged


__all__ = [
    "HELPERS",
    "REQUIREMENT",
    "environment",
    "reaches_out",
    "setup",
    "stack_files",
    "statements",
]
