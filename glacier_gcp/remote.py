"""The lines of a GCP stack that let its tasks reach data stored on another cloud.

A multi-cloud compile may place a task on GCP that reads or writes a dataset stored in S3
(:mod:`glacier.compilation.links`). Its stack then reads the AWS stack's bucket names
through a ``StackReference`` (``aws_peer``), creates for the task an IAM role in that
account trusting only the task's service account (``glacier_aws_federation.google_access``,
least privilege from the neutral grants), adds the datasets' ``s3://`` URLs to the task's
``GLACIER_LOCATIONS`` and tells the runtime to exchange its Google ID token for the role
(:mod:`glacier_gcp.federation`).
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from glacier.compilation.codegen import Ref, Section, assign, call, import_
from glacier_gcp.model import GCPModel, TaskDeploy

#: The deploy-time helper the stack imports, and where it comes from.
HELPER = ("glacier_aws_federation.py", "glacier_aws/stack/links/federation.py")
#: What the stack installs besides its own requirements when a task reaches AWS.
REQUIREMENT = "pulumi-aws>=6,<7\n"


def reaches_out(model: GCPModel) -> bool:
    """Whether the stack reads the AWS stack: a task's data, or the hand-off's target."""
    return any(d.remote for d in model.tasks) or model.handoff == "aws"


def setup(model: GCPModel) -> list[Section]:
    """The import and the reference to the AWS data stack, when a task needs them."""
    if not reaches_out(model):
        return []
    return [
        Section([import_("glacier_aws_federation", "xc")]),
        Section([assign("aws_peer", call("xc.peer", model.spec.name))]),
    ]


def stack_files(model: GCPModel, files: Mapping[str, str]) -> dict[str, str]:
    """The helper module and the AWS SDK, added to ``files`` when a task reaches AWS."""
    if not reaches_out(model):
        return {}
    dest, _ = HELPER
    package = importlib.import_module("glacier_aws")  # installed: its data is placed there
    source = Path(package.__file__ or "").parent / "stack" / "links" / "federation.py"
    with open(source, encoding="utf-8", newline="") as fh:
        helper = fh.read()
    return {dest: helper, "requirements.txt": files["requirements.txt"] + REQUIREMENT}


def statements(d: TaskDeploy) -> list[ast.stmt]:
    """The task's role in the data's account, after its service account exists."""
    if not d.remote:
        return []
    datasets = {a.dataset: a.key for a in d.remote}
    grants = [[g.dataset, g.pattern, g.mode, g.folder] for a in d.remote for g in a.grants]
    return [
        assign(f"{d.var}_remote", call(
            "xc.google_access", f"{d.logical}-aws", peer=Ref("aws_peer"),
            account=Ref(f"{d.var}_sa"), datasets=datasets, grants=grants,
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
    merged["AWS_ROLE_ARN"] = Ref(f"{d.var}_remote", "role.arn")
    merged["AWS_REGION"] = Ref(f"{d.var}_remote", "region")
    merged["GLACIER_WEB_IDENTITY"] = "google"
    merged["GLACIER_WEB_IDENTITY_AUDIENCE"] = Ref("xc", "AUDIENCE")
    return merged


__all__ = [
    "HELPER",
    "REQUIREMENT",
    "environment",
    "reaches_out",
    "setup",
    "stack_files",
    "statements",
]
