"""The GCP adapter: reads a generated GCP stack's recorded resources as neutral facts.

Everything here comes from generated output: the resources ``__main__.py`` created under
Pulumi's mocks with the real ``pulumi_gcp`` SDK (their inputs, and the emails, URLs and ids
the mocks answered, which is how one resource refers to another), the Workflows definition
the workflow was given, and the files of the bundle.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from glacier.compilation import Compiler
from glacier_gcp import GCPCompiler

from ..adapter import LIST, READ, WRITE, Bundle, Grant, Identity, LimitFact, Location, StorageFacts
from . import gcp_workflow

_GCP_TESTS = str(Path(__file__).resolve().parents[2] / "gcp")  # the GCP tests' Pulumi mocks
if _GCP_TESTS not in sys.path:
    sys.path.append(_GCP_TESTS)
from gcp_mocks import Recorded, Run, run_stack  # noqa: E402

BUCKET = "gcp:storage/bucket:Bucket"
BUCKET_MEMBER = "gcp:storage/bucketIAMMember:BucketIAMMember"
ACCOUNT = "gcp:serviceaccount/account:Account"
FUNCTION = "gcp:cloudfunctionsv2/function:Function"
JOB = "gcp:cloudrunv2/job:Job"
WORKFLOW = "gcp:workflows/workflow:Workflow"
SECRET_MEMBER = "gcp:secretmanager/secretIamMember:SecretIamMember"
#: Bucket roles and the grant mode their object clauses give.
_ROLE_MODES = {"roles/storage.objectViewer": READ, "roles/storage.objectUser": WRITE}
#: What Google's build installs beside the bundle (functions-framework and its Flask).
PLATFORM_PACKAGES = frozenset({"functions-framework", "flask", "werkzeug", "gunicorn"})
_OBJECT = re.compile(r'resource\.name == "projects/_/buckets/([^/"]+)/objects/([^"]*)"')
_FOLDER = re.compile(
    r'resource\.name\.startsWith\("projects/_/buckets/([^/"]+)/objects/([^"]*)/"\)'
)
_PER_RUN = re.compile(
    r'\(resource\.name\.startsWith\("projects/_/buckets/([^/"]+)/objects/([^"]*)"\) && '
    r'resource\.name\.endsWith\("([^"]*)"\)\)'
)
_PREFIX = r'api\.getAttribute\("storage\.googleapis\.com/objectListPrefix", ""\)'
_LIST = re.compile(_PREFIX + r'\.startsWith\("([^"]*)"\)')
_LIST_PER_RUN = re.compile(
    r"\(" + _PREFIX + r'\.startsWith\("([^"]*)"\) && ' + _PREFIX + r'\.endsWith\("([^"]*)"\)\)'
)
#: Google Cloud's limits, as it counts them.
WORKFLOW_SOURCE_BYTES = 128_000
PARALLEL_BRANCHES, PARALLEL_NESTING, SWITCH_CONDITIONS = 10, 2, 50
ENV_VALUE_BYTES = 32_768
BUCKET_POLICY_PRINCIPALS = 1_500
#: IAM: logical operators in one condition; bindings of one role and principal on a resource.
CONDITION_OPERATORS, CONDITIONAL_BINDINGS = 12, 20
#: type -> longest name Google Cloud accepts (auto-names: the logical name plus 8).
NAME_LIMITS = {BUCKET: 63, FUNCTION: 49, JOB: 49, WORKFLOW: 64}


def _function_env(r: Recorded) -> dict[str, str]:
    if r.type == FUNCTION:
        return dict((r.inputs.get("serviceConfig") or {}).get("environmentVariables") or {})
    (container,) = r.inputs["template"]["template"]["containers"]
    return {e["name"]: e["value"] for e in container.get("envs", ()) if "value" in e}


def _clause_grants(clause: str, mode: str) -> Grant:
    """One alternative of a condition as a grant (an unknown one as its own mode)."""
    if found := _OBJECT.fullmatch(clause):
        return Grant(found[1], found[2], mode)
    if found := _FOLDER.fullmatch(clause):
        return Grant(found[1], f"{found[2]}/*", mode)
    if found := _PER_RUN.fullmatch(clause):
        return Grant(found[1], f"{found[2]}*{found[3]}", mode)
    return Grant("*", "*", f"unknown condition {clause!r}")


def _binding_grants(binding: Recorded) -> Iterator[Grant]:
    bucket, role = binding.inputs["bucket"], binding.inputs["role"]
    mode = _ROLE_MODES.get(role, role)
    condition = binding.inputs.get("condition")
    if not condition:
        yield Grant(bucket, "*", mode)
        if mode in (READ, WRITE):
            yield Grant(bucket, "*", LIST)
        return
    for clause in condition["expression"].split(" || "):
        if found := _LIST.fullmatch(clause):
            yield Grant(bucket, f"{found[1]}*", LIST)
        elif found := _LIST_PER_RUN.fullmatch(clause):
            yield Grant(bucket, f"{found[1]}*{found[2]}", LIST)
        else:
            grant = _clause_grants(clause, mode)
            assert grant.container in (bucket, "*"), f"{clause} names another bucket than {bucket}"
            yield grant


@dataclass
class GCPDeployed:
    """One GCP stack's program run under the mocks."""

    run: Run
    stack_dir: Path

    def outputs(self, r: Recorded) -> dict[str, Any]:
        return self.run.outputs(r)

    @cached_property
    def task_resources(self) -> dict[str, Recorded]:
        """Task name -> the function or job that runs it."""
        found: dict[str, Recorded] = {}
        for r in self.run.of(FUNCTION) + self.run.of(JOB):
            task = _function_env(r)["GLACIER_TASK"]
            assert task not in found, f"task {task!r} has two functions or jobs"
            found[task] = r
        return found

    @cached_property
    def manifest(self) -> dict[str, Any]:
        return json.loads((self.stack_dir / "app" / "manifest.json").read_text())

    # -- storage -------------------------------------------------------------------------

    def storage(self) -> list[StorageFacts]:
        public = {"allUsers", "allAuthenticatedUsers"}
        everyone = {
            r.inputs["bucket"] for r in self.run.of(BUCKET_MEMBER) if r.inputs["member"] in public
        }
        return [
            StorageFacts(
                container=self.outputs(b)["name"],
                public_access_blocked=b.inputs.get("publicAccessPrevention") == "enforced"
                and self.outputs(b)["name"] not in everyone,
                uniform_access=b.inputs.get("uniformBucketLevelAccess") is True,
                encrypted_at_rest=None,
                tls_only=None,
            )
            for b in self.run.of(BUCKET)
        ]

    # -- identities ----------------------------------------------------------------------

    def _runs_as(self, r: Recorded) -> str:
        if r.type == FUNCTION:
            return str(r.inputs["serviceConfig"]["serviceAccountEmail"])
        return str(r.inputs["template"]["template"]["serviceAccount"])

    def _secret_names(self) -> dict[str, str]:
        """Secret Manager id -> the Glacier secret name (the documented id rule, inverted)."""
        names = {
            value["secret"]
            for task in self.manifest["tasks"]
            for value in (task["compute"]["config"].get("env") or {}).values()
            if isinstance(value, dict)
        }
        return {re.sub(r"[^A-Za-z0-9_-]", "-", n): n for n in names}

    def identities(self) -> list[Identity]:
        secret_names = self._secret_names()
        found = []
        for account in self.run.of(ACCOUNT):
            email = self.outputs(account)["email"]
            member = f"serviceAccount:{email}"
            tasks = {t for t, r in self.task_resources.items() if self._runs_as(r) == email}
            grants = {
                g for b in self.run.of(BUCKET_MEMBER) if b.inputs["member"] == member
                for g in _binding_grants(b)
            }  # fmt: skip
            written = {(g.container, g.key) for g in grants if g.mode == WRITE}
            grants = {g for g in grants if not (g.mode == READ and (g.container, g.key) in written)}
            secrets = {
                secret_names[s.inputs["secretId"].rsplit("/", 1)[-1]]
                for s in self.run.of(SECRET_MEMBER)
                if s.inputs["member"] == member
            }
            found.append(Identity(email, frozenset(tasks), frozenset(grants), frozenset(secrets)))
        return found

    # -- data flow, orchestration, environment -------------------------------------------

    def locations(self) -> dict[str, dict[str, Location]]:
        found: dict[str, dict[str, Location]] = {}
        for task, r in self.task_resources.items():
            raw = json.loads(_function_env(r)["GLACIER_LOCATIONS"])
            found[task] = {}
            for dataset, url in raw.items():
                bucket, _, key = url.removeprefix("gs://").partition("/")
                found[task][dataset] = Location(bucket, re.sub(r"\{[a-z_]+\}", "*", key))
        return found

    @cached_property
    def definitions(self) -> dict[str, dict[str, Any]]:
        """Each deployed workflow's definition, by its name."""
        return {
            self.outputs(w)["name"]: yaml.safe_load(w.inputs["sourceContents"])
            for w in self.run.of(WORKFLOW)
        }

    @cached_property
    def main_workflow(self) -> str:
        """The name of the workflow that runs the DAG (the others run its parts)."""
        (main,) = [name for name, d in self.definitions.items() if "dag" in d]
        return main

    def order(self) -> list[tuple[str, frozenset[str]]]:
        by_ref: dict[str, str] = {}
        for task, r in self.task_resources.items():
            out = self.outputs(r)
            by_ref[
                out["url"] if r.type == FUNCTION else self.run.mocks.created[(r.type, r.name)][0]
            ] = task

        def task_of(args: dict[str, Any]) -> str | None:
            ref = args.get("url") or args.get("job")
            if ref is None:
                return None
            assert ref in by_ref, f"a step calls {ref!r}, which no recorded function or job is"
            return by_ref[ref]

        return gcp_workflow.finished_before(self.definitions, self.main_workflow, task_of)

    def task_env(self) -> dict[str, dict[str, str]]:
        return {
            task: {k: v for k, v in _function_env(r).items() if not k.startswith("GLACIER_")}
            for task, r in self.task_resources.items()
        }

    def limits(self) -> list[LimitFact]:
        return list(_limit_facts(self))

    def bundle(self) -> Bundle:
        entry_points = set()
        for r in self.run.of(FUNCTION):
            entry_points.add(f"main:{r.inputs['buildConfig']['entryPoint']}")
        for r in self.run.of(JOB):
            (container,) = r.inputs["template"]["template"]["containers"]
            command = container["commands"]
            assert command[:2] == ["python", "-m"], command
            entry_points.add(command[2])
        root = self.stack_dir / "app"
        return Bundle(root, frozenset(entry_points), self.manifest["source"], _requirements(root))


def _limit_facts(stack: GCPDeployed) -> Iterator[LimitFact]:
    for workflow in stack.run.of(WORKFLOW):
        source = workflow.inputs["sourceContents"]
        yield LimitFact(
            "workflows-definition", workflow.name, len(source.encode()), WORKFLOW_SOURCE_BYTES
        )
        widths, depth = gcp_workflow.parallel_shape(yaml.safe_load(source))
        for i, width in enumerate(widths):
            yield LimitFact(
                "workflows-parallel-branches", f"parallel {i + 1}", width, PARALLEL_BRANCHES
            )
        yield LimitFact("workflows-parallel-nesting", workflow.name, depth, PARALLEL_NESTING)
        for where, count in gcp_workflow.switch_sizes(yaml.safe_load(source)):
            yield LimitFact(
                "workflows-switch-conditions", f"{workflow.name} {where}", count, SWITCH_CONDITIONS
            )
    for task, r in stack.task_resources.items():
        for key, value in _function_env(r).items():
            yield LimitFact("env-value", f"{task} {key}", len(value.encode()), ENV_VALUE_BYTES)
    principals: dict[str, int] = {}
    for member in stack.run.of(BUCKET_MEMBER):
        principals[member.inputs["bucket"]] = principals.get(member.inputs["bucket"], 0) + 1
    for bucket, count in principals.items():
        yield LimitFact("gcs-bucket-policy-principals", bucket, count, BUCKET_POLICY_PRINCIPALS)
    same: dict[tuple[str, str, str], int] = {}
    for b in stack.run.of(BUCKET_MEMBER):
        key = (b.inputs["bucket"], b.inputs["role"], b.inputs["member"])
        same[key] = same.get(key, 0) + 1
        expression = (b.inputs.get("condition") or {}).get("expression", "")
        operators = len(re.findall(r"&&|\|\|", expression))
        yield LimitFact("iam-condition-operators", b.name, operators, CONDITION_OPERATORS)
    for (bucket, role, member), count in same.items():
        subject = f"{member} {role} on {bucket}"
        yield LimitFact("iam-conditional-bindings", subject, count, CONDITIONAL_BINDINGS)
    for r in stack.run.mocks.resources:
        if r.type in NAME_LIMITS:
            length = len(stack.outputs(r)["name"])
            yield LimitFact("resource-names", f"{r.type} {r.name}", length, NAME_LIMITS[r.type])
    for account in stack.run.of(ACCOUNT):
        yield LimitFact(
            "resource-names", f"{ACCOUNT} {account.name}", len(account.inputs["accountId"]), 30
        )


def _requirements(root: Path) -> frozenset[str]:
    names = set(PLATFORM_PACKAGES)
    for line in (root / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            names.add(re.split(r"[\s<>=!~;\[@]", line, maxsplit=1)[0])
    return frozenset(re.sub(r"[-_.]+", "-", n).lower() for n in names)


class GCPAdapter:
    """The GCP side of the conformance suite."""

    name = "gcp"
    limits = (
        "workflows-definition",
        "workflows-parallel-branches",
        "workflows-parallel-nesting",
        "workflows-switch-conditions",
        "env-value",
        "gcs-bucket-policy-principals",
        "iam-condition-operators",
        "iam-conditional-bindings",
        "resource-names",
    )
    optional_limits = frozenset({"workflows-parallel-branches"})
    platform_guarantees: Mapping[str, str] = {
        "encrypted_at_rest": "GCS encrypts every object at rest with Google-managed keys",
        "tls_only": "the GCS JSON and XML APIs accept HTTPS only",
    }

    def compiler(self) -> Compiler:
        return GCPCompiler(project="demo-project", region="us-central1")

    def deploy(self, stack_dir: Path) -> GCPDeployed:
        return GCPDeployed(run_stack(stack_dir), stack_dir)

    def expressions(self, stack_dir: Path) -> list[str]:
        return [
            e
            for path in sorted(stack_dir.glob("workflow*.yaml"))
            for e in gcp_workflow.expressions(yaml.safe_load(path.read_text()))
        ]

    def known_gap(self, check: str, case: str) -> str | None:
        return None


ADAPTER = GCPAdapter()
