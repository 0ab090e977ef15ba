"""The Azure adapter: reads a generated Azure stack's recorded resources as neutral facts.

Everything here comes from generated output: the resources ``__main__.py`` created under
Pulumi's mocks with the real ``pulumi_azure_native`` SDK (their inputs, and the ids, client
ids and host names the mocks answered, which is how one resource refers to another), the
Logic App definitions the workflows were given (placeholders filled), and the bundle's files.
A storage container is named ``<account>/<container>`` (container names repeat across
accounts); grants are read back from each role assignment's scope and ABAC condition.

Two kinds of access are the platform's, not the data flow's, and are checked to be exactly
that before they are left out of the grants: a function's Storage Blob Data Owner on its own
Functions host account (the one its ``AzureWebJobsStorage__accountName`` names: host state
and its package, no dataset) and the job outcome objects (``runs/*/_outcomes/<task>.json``:
each job writes its own, the Logic App reads them all).
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import glacier_azure
from glacier.compilation import Compiler
from glacier_azure import AzureCompiler
from glacier_azure.naming import secret_name
from glacier_azure.workflow import count_actions

from ..adapter import LIST, READ, WRITE, Bundle, Grant, Identity, LimitFact, Location, StorageFacts

_AZURE_TESTS = str(Path(__file__).resolve().parents[2] / "azure")  # the Azure tests' mocks
if _AZURE_TESTS not in sys.path:
    sys.path.append(_AZURE_TESTS)
from azure_mocks import Recorded, Run, run_stack  # noqa: E402
from logic_order import finished_before  # noqa: E402

READER = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"
CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
OWNER = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b"
SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
_ROLE_MODES = {READER: READ, CONTRIBUTOR: WRITE, OWNER: WRITE}
_BLOBS = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs"
_CLAUSE = re.compile(
    r"@(Resource|Request)\[" + re.escape(_BLOBS) + r":(path|prefix)\] "
    r"(StringEquals|StringStartsWith|StringLike) '([^']*)'"
)
_SCOPE = re.compile(r"/storageAccounts/([^/]+)(?:/blobServices/default/containers/([^/]+))?$")
#: Azure's limits, as it counts them.
LOGIC_ACTIONS, ARM_REQUEST_BYTES = 500, 4_000_000
ACCOUNT_NAME, JOB_NAME = 24, 32
FUNCTIONS_PACKAGE = (
    "function_app (a Function App's entry point) imports azure-functions, which the bundle's "
    "requirements list (the Functions build installs it) but this test environment does not"
)
RUNTIME_PENDING = (
    "issue 13: glacier_azure.runtime (the functions' and jobs' entry point) is written by the "
    "Azure runtime work, merged separately; until then the bundle's entry point does not import"
)


def _outcome_grant(grant: Grant, tasks: frozenset[str]) -> bool:
    """``grant`` is a job's write of its own outcome, or (no task) the Logic App's read of all."""
    if "/_outcomes/" not in grant.key:
        return False
    if not tasks:
        return grant.mode in (READ, LIST) and grant.key == "runs/*/_outcomes/*"
    return grant.mode == WRITE and grant.key in {f"runs/*/_outcomes/{t}.json" for t in tasks}


def _env(r: Recorded) -> dict[str, str]:
    if r.type.endswith(":WebApp"):
        return {s["name"]: s["value"] for s in r.inputs["siteConfig"]["appSettings"]}
    (container,) = r.inputs["template"]["containers"]
    return {e["name"]: e["value"] for e in container["env"] if "value" in e}


def _grants(assignment: Recorded, container: str) -> Iterator[Grant]:
    role = assignment.inputs["roleDefinitionId"].rsplit("/", 1)[-1]
    mode = _ROLE_MODES.get(role, role)
    condition = assignment.inputs.get("condition")
    if not condition:
        yield Grant(container, "*", mode)
        yield Grant(container, "*", LIST)
        return
    found = _CLAUSE.findall(condition)
    assert found, f"unreadable condition {condition!r}"
    for _, attribute, operator, value in found:
        if attribute == "prefix":
            yield Grant(container, value if value.endswith("*") else f"{value}*", LIST)
        elif operator == "StringStartsWith":
            yield Grant(container, f"{value}*", mode)
        else:
            yield Grant(container, value, mode)


@dataclass
class AzureDeployed:
    """One Azure stack's program run under the mocks."""

    run: Run
    stack_dir: Path

    @cached_property
    def task_resources(self) -> dict[str, Recorded]:
        found: dict[str, Recorded] = {}
        for r in self.run.of("WebApp") + self.run.of("app:Job"):
            task = _env(r)["GLACIER_TASK"]
            assert task not in found, f"task {task!r} runs twice"
            found[task] = r
        return found

    @cached_property
    def manifest(self) -> dict[str, Any]:
        return json.loads((self.stack_dir / "app" / "manifest.json").read_text())

    def _container(self, scope: str) -> str:
        found = _SCOPE.search(scope)
        assert found, f"role assignment scope {scope!r} is no storage account or container"
        return f"{found[1]}/{found[2] or '*'}"

    def storage(self) -> list[StorageFacts]:
        facts = []
        accounts = {r.inputs["accountName"]: r.inputs for r in self.run.of("StorageAccount")}
        for box in self.run.of("BlobContainer"):
            account = accounts[box.inputs["accountName"]]
            facts.append(StorageFacts(
                container=f"{box.inputs['accountName']}/{self.run.outputs(box)['name']}",
                public_access_blocked=account["allowBlobPublicAccess"] is False
                and box.inputs.get("publicAccess") == "None",
                uniform_access=account["allowSharedKeyAccess"] is False,
                encrypted_at_rest=None,
                tls_only=account["enableHttpsTrafficOnly"] is True
                and account["minimumTlsVersion"] == "TLS1_2",
            ))  # fmt: skip
        return facts

    def _runs_as(self, r: Recorded) -> list[str]:
        return list(r.inputs["identity"]["userAssignedIdentities"])

    def _secret_names(self) -> dict[str, str]:
        names = {
            value["secret"]
            for task in self.manifest["tasks"]
            for value in (task["compute"]["config"].get("env") or {}).values()
            if isinstance(value, dict)
        }
        return {secret_name(n): n for n in names}

    def _check_own_hosts(self) -> None:
        """No two functions share a Functions host account (its Owner reaches the others')."""
        hosts = [_env(r).get("AzureWebJobsStorage__accountName") for r in self.run.of("WebApp")]
        shared = sorted({h for h in hosts if hosts.count(h) > 1})
        assert not shared, f"Functions host accounts {shared} serve more than one function"

    def identities(self) -> list[Identity]:
        self._check_own_hosts()
        secret_names = self._secret_names()
        found = []
        for ident in self.run.of("UserAssignedIdentity"):
            out = self.run.outputs(ident)
            tasks = {t for t, r in self.task_resources.items() if out["id"] in self._runs_as(r)}
            grants: set[Grant] = set()
            secrets = set()
            hosts = {_env(self.task_resources[t]).get("AzureWebJobsStorage__accountName")
                     for t in tasks} - {None}  # fmt: skip
            for a in self.run.of("RoleAssignment"):
                if a.inputs["principalId"] != out["principalId"]:
                    continue
                role = a.inputs["roleDefinitionId"].rsplit("/", 1)[-1]
                scope = (
                    self._container(a.inputs["scope"])
                    if "/Microsoft.Storage/" in a.inputs["scope"]
                    else ""
                )
                if role == SECRETS_USER:
                    secrets.add(secret_names[a.inputs["scope"].rsplit("/", 1)[-1]])
                elif role == OWNER and scope.endswith("/*") and scope[:-2] in hosts:
                    hosts.discard(scope[:-2])  # its own host account, once
                elif scope:
                    grants |= {
                        g for g in _grants(a, scope) if not _outcome_grant(g, frozenset(tasks))
                    }
            written = {(g.container, g.key) for g in grants if g.mode == WRITE}
            grants = {g for g in grants if not (g.mode == READ and (g.container, g.key) in written)}
            found.append(
                Identity(ident.name, frozenset(tasks), frozenset(grants), frozenset(secrets))
            )
        return found

    def locations(self) -> dict[str, dict[str, Location]]:
        found: dict[str, dict[str, Location]] = {}
        for task, r in self.task_resources.items():
            found[task] = {}
            for dataset, url in json.loads(_env(r)["GLACIER_LOCATIONS"]).items():
                box, _, key = url.removeprefix("abfss://").partition("/")
                container, _, host = box.partition("@")
                account = host.split(".", 1)[0]
                found[task][dataset] = Location(f"{account}/{container}",
                                                re.sub(r"\{[a-z_]+\}", "*", key))  # fmt: skip
        return found

    @cached_property
    def workflows(self) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
        """(the main definition, every child's by its id)."""
        by_id = {self.run.outputs(w)["id"]: w for w in self.run.of("Workflow")}
        children = {i: w.inputs["definition"] for i, w in by_id.items() if "-part-" in w.name}
        (main,) = [w.inputs["definition"] for w in by_id.values() if "-part-" not in w.name]
        return main, children

    def order(self) -> list[tuple[str, frozenset[str]]]:
        main, children = self.workflows
        return finished_before(main, children)

    def task_env(self) -> dict[str, dict[str, str]]:
        return {
            task: {k: v for k, v in _env(r).items() if not k.startswith(("GLACIER_", "AzureWebJobs"))
                   and k != "AZURE_CLIENT_ID"}
            for task, r in self.task_resources.items()
        }  # fmt: skip

    def limits(self) -> list[LimitFact]:
        return list(_limit_facts(self))

    def bundle(self) -> Bundle:
        entry_points = set()
        if self.run.of("WebApp"):
            entry_points.add("function_app:app")
        for r in self.run.of("app:Job"):
            (container,) = r.inputs["template"]["containers"]
            assert container["command"][:2] == ["python", "-m"], container["command"]
            entry_points.add(container["command"][2])
        root = self.stack_dir / "app"
        return Bundle(root, frozenset(entry_points), self.manifest["source"], _requirements(root))


def _limit_facts(stack: AzureDeployed) -> Iterator[LimitFact]:
    main, children = stack.workflows
    for name, doc in [("main", main), *children.items()]:
        yield LimitFact("logic-app-actions", name, count_actions(doc["actions"]), LOGIC_ACTIONS)
        size = len(json.dumps(doc).encode())
        yield LimitFact("logic-app-definition", name, size, ARM_REQUEST_BYTES)
    for a in stack.run.of("StorageAccount"):
        yield LimitFact("resource-names", a.name, len(a.inputs["accountName"]), ACCOUNT_NAME)
    for j in stack.run.of("app:Job"):
        yield LimitFact("resource-names", j.name, len(j.inputs["jobName"]), JOB_NAME)


def _requirements(root: Path) -> frozenset[str]:
    names = set()
    for line in (root / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            names.add(re.split(r"[\s<>=!~;\[@]", line, maxsplit=1)[0])
    return frozenset(re.sub(r"[-_.]+", "-", n).lower() for n in names)


class AzureAdapter:
    """The Azure side of the conformance suite."""

    name = "azure"
    limits = ("logic-app-actions", "logic-app-definition", "resource-names")
    optional_limits: frozenset[str] = frozenset()
    platform_guarantees: Mapping[str, str] = {
        "encrypted_at_rest": "Azure Storage encrypts every blob at rest (service-side encryption)",
    }

    def compiler(self) -> Compiler:
        return AzureCompiler(location="eastus")

    def deploy(self, stack_dir: Path) -> AzureDeployed:
        return AzureDeployed(run_stack(stack_dir), stack_dir)

    def expressions(self, stack_dir: Path) -> list[str]:
        found: list[str] = []
        for path in sorted(stack_dir.glob("workflow*.json")):
            _expressions(json.loads(path.read_text()), found)
        return found

    def known_gap(self, check: str, case: str) -> str | None:
        if check == "bundle" and not (Path(glacier_azure.__file__).parent / "runtime.py").exists():
            return RUNTIME_PENDING
        if check == "bundle" and case == "short" and not _has_azure_functions():
            return FUNCTIONS_PACKAGE
        return None


def _has_azure_functions() -> bool:
    try:
        return importlib.util.find_spec("azure.functions") is not None
    except ModuleNotFoundError:  # no ``azure`` namespace at all
        return False


def _expressions(node: Any, found: list[str]) -> None:
    """Every Logic Apps expression in a definition (``@...`` values and ``@{...}`` parts)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("expression",) and isinstance(value, dict):
                _expressions(value, found)
            else:
                _expressions(value, found)
    elif isinstance(node, list):
        for item in node:
            _expressions(item, found)
    elif isinstance(node, str) and "@" in node:
        if node.startswith("@") and not node.startswith("@{"):
            found.append(node)
        found.extend(re.findall(r"@\{[^}]*\}", node))


ADAPTER = AzureAdapter()
