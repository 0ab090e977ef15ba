"""Run a pipeline's stacks under Pulumi mocks, in deploy order, feeding each stack's exports
to the StackReferences of the stacks deployed after it.

The real SDKs run the programs: ``pulumi_aws`` and ``pulumi_gcp`` (the GCP stack creates
each federated role in AWS). The mocks are the GCP and AWS tests' own (loaded from their
folders), plus a ``StackReference`` that answers with the referenced stack's recorded
exports and a Google service account's ``uniqueId``.
"""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pulumi

TESTS = Path(__file__).resolve().parents[1]


def _load(folder: str, name: str) -> ModuleType:
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, TESTS / folder / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


aws_mocks = _load("aws", "aws_mocks")
gcp_mocks = _load("gcp", "gcp_mocks")

UNIQUE_ID = "104857600000000000001"


@dataclass
class Reference:
    """A StackReference the program asked for, and the exports it was answered with."""

    name: str
    outputs: dict[str, Any]


@dataclass
class LinkedMocks(gcp_mocks.StackMocks):  # type: ignore[misc, name-defined]
    """The GCP mocks, plus AWS resources, service account unique ids and StackReferences."""

    peers: dict[str, dict[str, Any]] = field(default_factory=dict)
    references: list[Reference] = field(default_factory=list)

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        if args.typ == "pulumi:pulumi:StackReference":
            name = str(args.inputs["name"])
            outputs = self.peers[name]  # a KeyError names a stack nobody deployed
            self.references.append(Reference(name, outputs))
            return name, {"name": name, "outputs": outputs, "secretOutputNames": []}
        if args.typ.startswith(("aws:", "pulumi:providers:aws")):
            self.resources.append(gcp_mocks.Recorded(args.typ, args.name, dict(args.inputs)))
            outputs = {**args.inputs, **aws_mocks._outputs(args.typ, args.name, args.inputs)}
            self.created[(args.typ, args.name)] = (f"{args.name}-id", outputs)
            return f"{args.name}-id", outputs
        answer_id, outputs = super().new_resource(args)
        if args.typ == "gcp:serviceaccount/account:Account":
            outputs["uniqueId"] = UNIQUE_ID
        return answer_id, outputs


def run_linked(stack_dir: Path, peers: dict[str, dict[str, Any]]) -> Any:
    """Run a GCP stack whose tasks reach another stack's data; ``peers``: stack name ->
    its exports."""
    original = gcp_mocks.StackMocks
    made: list[LinkedMocks] = []

    def factory() -> LinkedMocks:
        made.append(LinkedMocks(peers=peers))
        return made[-1]

    gcp_mocks.StackMocks = factory
    sys.modules.pop("glacier_aws_federation", None)
    try:
        run = gcp_mocks.run_stack(stack_dir)
    finally:
        gcp_mocks.StackMocks = original
        sys.modules.pop("glacier_aws_federation", None)
    return run, made[0]


def run_aws(stack_dir: Path) -> Any:
    return aws_mocks.run_stack(stack_dir)


__all__ = ["UNIQUE_ID", "LinkedMocks", "Reference", "run_aws", "run_linked"]
