"""Run an Azure stack whose tasks reach AWS data under Pulumi mocks, with the real
``pulumi_azure_native`` and ``pulumi_aws`` SDKs.

The Azure mocks are the Azure tests' own (identity lists become maps, unknown invokes
raise); AWS resources are answered as the AWS tests' mocks answer them (an IAM OIDC
provider with the ARN AWS gives it), and a ``StackReference`` with the referenced stack's
recorded exports.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from mc_mocks import Reference, _load, aws_mocks

azure_mocks = _load("azure", "azure_mocks")
OIDC = "aws:iam/openIdConnectProvider:OpenIdConnectProvider"


@dataclass
class AzureLinkedMocks(azure_mocks.StackMocks):  # type: ignore[misc, name-defined]
    """The Azure mocks, plus AWS resources and StackReferences."""

    peers: dict[str, dict[str, Any]] = field(default_factory=dict)
    references: list[Reference] = field(default_factory=list)

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        if args.typ == "pulumi:pulumi:StackReference":
            name = str(args.inputs["name"])
            outputs = self.peers[name]  # a KeyError names a stack nobody deployed
            self.references.append(Reference(name, outputs))
            return name, {"name": name, "outputs": outputs, "secretOutputNames": []}
        if args.typ.startswith(("aws:", "pulumi:providers:aws")):
            inputs = dict(args.inputs)
            self.resources.append(azure_mocks.Recorded(args.typ, args.name, inputs))
            outputs = {**inputs, **aws_mocks._outputs(args.typ, args.name, inputs)}
            if args.typ == OIDC:
                host = str(inputs["url"]).removeprefix("https://")
                outputs["arn"] = f"arn:aws:iam::{aws_mocks.ACCOUNT}:oidc-provider/{host}"
            self.created[(args.typ, args.name)] = (f"{args.name}-id", outputs)
            return f"{args.name}-id", outputs
        return super().new_resource(args)  # type: ignore[no-any-return]


HELPERS = ("glacier_aws_federation", "glacier_aws_entra")


def run_azure_linked(
    stack_dir: Path, peers: dict[str, dict[str, Any]], config: dict[str, str] | None = None
) -> tuple[Any, AzureLinkedMocks]:
    """Run an Azure stack whose tasks reach another stack's data; ``peers``: stack name ->
    its exports."""
    original = azure_mocks.StackMocks
    made: list[AzureLinkedMocks] = []

    def factory() -> AzureLinkedMocks:
        made.append(AzureLinkedMocks(peers=peers))
        return made[-1]

    azure_mocks.StackMocks = factory
    for name in HELPERS:
        sys.modules.pop(name, None)
    try:
        run = azure_mocks.run_stack(stack_dir, config)
    finally:
        azure_mocks.StackMocks = original
        for name in HELPERS:
            sys.modules.pop(name, None)
    return run, made[0]


__all__ = ["OIDC", "AzureLinkedMocks", "azure_mocks", "run_azure_linked"]
