"""Generated Workflows definitions, checked and executed by workflows-emulator.

Every definition the GCP compiler writes for the sample pipelines validates against the
emulator's Workflows schema; the emulator then runs definitions (as deployed: URLs filled
in) against local HTTP stubs standing in for the functions and jobs, and the stubs record
when each task ran: each after its producers, parallel branches at the same time, a
failing-then-succeeding task tried again, a task failing for good not retried.
"""

from __future__ import annotations

import json
import re
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from gcp_compile import PIPELINES, compile_ref
from gcp_mocks import run_stack

import glacier_gcp.split
import glacier_gcp.workflow
from glacier.loader import load_pipeline
from glacier_gcp import GCPCompiler

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
EMULATOR = ROOT / ".venv-workflows" / "bin" / "python"
HARNESS = Path(__file__).resolve().parent / "workflows_harness.py"
SAMPLES = ("gcp_orders", "gcp_retries", "runtime_shop", "conformance_features", "conformance_crossed",
           "conformance_hostile:pipeline")  # fmt: skip
STUB_SECONDS = 0.4


def _emulator() -> Path:
    assert EMULATOR.exists(), (
        f"{EMULATOR} is missing: `make tools` installs workflows-emulator there"
    )
    return EMULATOR


@dataclass
class Stubs:
    """Local stand-ins for the deployed tasks: what each answers, and when each ran."""

    answers: dict[str, list[tuple[int, dict[str, Any]]]] = field(default_factory=dict)
    calls: list[tuple[str, float, float]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    seconds: float = STUB_SECONDS
    #: Tasks whose stubs each wait (up to 10 s) until all of them have started: siblings that
    #: really run in parallel all start, while ones run in series show up as a 10 s wait.
    together: list[set[str]] = field(default_factory=list)
    arrived: set[str] = field(default_factory=set)
    met: threading.Condition = field(default_factory=threading.Condition)

    def meet(self, task: str) -> None:
        group = next((g for g in self.together if task in g), None)
        if group is None:
            return
        with self.met:
            self.arrived.add(task)
            self.met.notify_all()
            self.met.wait_for(lambda: group <= self.arrived, timeout=10)

    def answer(self, task: str) -> tuple[int, dict[str, Any]]:
        with self.lock:
            queue = self.answers.get(task) or []
            return (
                queue.pop(0)
                if len(queue) > 1
                else (queue[0] if queue else (200, {"status": "succeeded"}))
            )


@pytest.fixture()
def stubs() -> Iterator[tuple[Stubs, str]]:
    state = Stubs()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            started = time.monotonic()
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            assert body.get("run_id") == "execution-1", body
            task = self.path.strip("/")
            state.meet(task)
            time.sleep(state.seconds)
            status, reply = state.answer(task)
            data = json.dumps(reply).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            with state.lock:
                state.calls.append((task, started, time.monotonic()))

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def _deployed_stack(stack: Path, tmp_path: Path, stub_url: str) -> Path:
    """The stack's workflows as deployed (under the mocks), task URLs pointing at stubs, as
    the harness takes them: ``{"main": name, "workflows": {name: definition}}``."""
    run = run_stack(stack)
    refs = {}
    for r in run.of("gcp:cloudfunctionsv2/function:Function") + run.of("gcp:cloudrunv2/job:Job"):
        if r.type.endswith("Function"):
            env, ref = r.inputs["serviceConfig"]["environmentVariables"], run.outputs(r)["url"]
        else:
            (container,) = r.inputs["template"]["template"]["containers"]
            env = {e["name"]: e["value"] for e in container["envs"] if "value" in e}
            ref = run.mocks.created[(r.type, r.name)][0]
        refs[json.dumps(ref)] = json.dumps(f"{stub_url}/{env['GLACIER_TASK']}")
    pattern = re.compile("|".join(re.escape(ref) for ref in sorted(refs, key=len, reverse=True)))
    workflows = {
        run.outputs(w)["name"]: pattern.sub(lambda m: refs[m.group(0)], w.inputs["sourceContents"])
        for w in run.of("gcp:workflows/workflow:Workflow")
    }
    (main,) = [name for name, text in workflows.items() if "\ndag:\n" in text]
    path = tmp_path / f"{stack.parent.name}.json"
    path.write_text(json.dumps({"main": main, "workflows": workflows}))
    return path


def _deployed(name: str, tmp_path: Path, stub_url: str) -> tuple[Path, Any]:
    """The sample's workflows as deployed, with the pipeline."""
    infra = compile_ref(name)
    path = _deployed_stack(infra.write(tmp_path / name) / "gcp", tmp_path, stub_url)
    return path, load_pipeline(str(PIPELINES / f"{name}.py"))


def _run(path: Path) -> dict[str, Any]:
    done = subprocess.run([str(_emulator()), str(HARNESS), "run", str(path)], capture_output=True,
                          text=True, timeout=300)  # fmt: skip
    lines = done.stdout.strip().splitlines()
    assert lines, f"the emulator printed nothing:\n{done.stderr[-3000:]}"
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def test_every_generated_workflow_validates_against_the_schema(tmp_path: Path) -> None:
    paths = []
    for name in SAMPLES:
        infra = compile_ref(name)
        path = tmp_path / f"{name.partition(':')[0]}.yaml"
        path.write_text(infra.stacks["gcp"].files["workflow.yaml"])
        paths.append(str(path))
    example = ROOT / "examples" / "gcp_pipeline_infra" / "gcp" / "workflow.yaml"
    done = subprocess.run([str(_emulator()), str(HARNESS), "validate", *paths, str(example)],
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]


def test_tasks_run_after_their_producers_and_branches_in_parallel(
    stubs: tuple[Stubs, str], tmp_path: Path
) -> None:
    state, url = stubs
    state.together = [{"audit", "clean_events", "user_profile"}, {"sessionize", "daily_counts"}]
    path, pipeline = _deployed("conformance_features", tmp_path, url)
    outcome = _run(path)
    assert outcome.get("result", {}).get("status") == "succeeded", outcome
    runs = {task: (start, end) for task, start, end in state.calls}
    assert sorted(runs) == sorted(t.name for t in pipeline.tasks) and len(state.calls) == len(runs)
    for task in pipeline.tasks:
        for up in pipeline.upstream(task, direct=True):
            assert runs[up.name][1] <= runs[task.name][0], (
                f"{task.name} started before {up.name} ended"
            )
    # Independent tasks overlap: the DAG's roots, and sessionize beside daily_counts (a part
    # run as a child execution of the workflow, nested three parallel levels deep).
    for a, b in (
        ("audit", "clean_events"),
        ("clean_events", "user_profile"),
        ("sessionize", "daily_counts"),
    ):
        assert runs[a][0] < runs[b][1] and runs[b][0] < runs[a][1], f"{a} and {b} did not overlap"


def test_a_failing_then_succeeding_task_is_tried_again(
    stubs: tuple[Stubs, str], tmp_path: Path
) -> None:
    state, url = stubs
    state.answers["flaky"] = [
        (500, {"error": "OSError", "retryable": True}),
        (200, {"status": "succeeded"}),
    ]
    path, _ = _deployed("gcp_retries", tmp_path, url)
    outcome = _run(path)
    assert outcome.get("result", {}).get("status") == "succeeded", outcome
    assert [task for task, _, _ in state.calls] == ["flaky", "flaky", "after"]


def test_a_non_retryable_error_is_not_tried_again(stubs: tuple[Stubs, str], tmp_path: Path) -> None:
    state, url = stubs
    state.answers["flaky"] = [(500, {"error": "SchemaError", "retryable": False})]
    path, _ = _deployed("gcp_retries", tmp_path, url)
    outcome = _run(path)
    assert outcome.get("error") and "result" not in outcome, outcome
    assert [task for task, _, _ in state.calls] == ["flaky"]


def _large_pipeline(folder: Path, tree: int, chain: int) -> Path:
    """A pipeline of ``tree + 1 + chain`` tasks: a binary tree (``t<i>`` reads its parent's
    ``d<(i-1)//2>``, one retry each), ``gather`` reading every leaf (a wide fan-in), then a
    chain."""
    lines = [
        "from glacier import Dataset, Pipeline, compute",
        "from glacier.storage import ObjectStorage",
        'pipeline = Pipeline(name="big")',
        'd0 = Dataset("d0", storage=ObjectStorage())',
    ]
    for i in range(1, tree + 1):
        lines += [f'd{i} = Dataset("d{i}")', "@pipeline.task(retries=1)",
                  f"def t{i}(x: d{(i - 1) // 2}) -> d{i}:", "    return x"]  # fmt: skip
    leaves = [i for i in range(1, tree + 1) if 2 * i + 1 > tree]
    lines += ['c0 = Dataset("c0")', "@pipeline.task(compute=compute.container())",
              f"def gather({', '.join(f'x{i}: d{i}' for i in leaves)}) -> c0:",
              f"    return x{leaves[0]}"]  # fmt: skip
    for i in range(1, chain + 1):
        lines += [f'c{i} = Dataset("c{i}")', "@pipeline.task()",
                  f"def c_{i}(x: c{i - 1}) -> c{i}:", "    return x"]  # fmt: skip
    path = folder / "big_pipeline.py"
    path.write_text("\n".join(lines) + "\n")
    return path


def _split_stack(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str, tree: int, chain: int
) -> tuple[Any, Path, str]:
    """A pipeline split over several workflows (the limits shrunk: the emulator needs minutes
    for 1,000 tasks, and the conformance suite reads the 1,000-task stacks' order back), as
    deployed, and a task whose step is in a workflow other than the first."""
    monkeypatch.setattr(glacier_gcp.workflow, "PACK_BUDGET", 30_000)
    monkeypatch.setattr(glacier_gcp.split, "MAX_INLINE_TASKS", 20)
    pipeline = load_pipeline(str(_large_pipeline(tmp_path, tree=tree, chain=chain)))
    files = pipeline.compile(GCPCompiler("demo-project")).write(tmp_path / "big") / "gcp"
    definitions = sorted(files.glob("workflow*.yaml"))
    assert len(definitions) > 1
    path = _deployed_stack(files, tmp_path, url)
    given = json.loads(path.read_text())
    assert len(given["workflows"]) == len(definitions)
    for name, text in given["workflows"].items():
        assert len(text.encode()) <= 128_000, f"workflow {name}: {len(text.encode()):,} bytes"
    later = [n for n in given["workflows"] if n != given["main"]][-1]
    deep = re.findall(re.escape(url) + r"/(\w+)", given["workflows"][later])
    by_name = {t.name: t for t in pipeline.tasks}
    deep = [t for t in deep if pipeline.downstream(by_name[t])]
    assert deep, f"no task with downstream tasks runs in workflow {later}"
    return pipeline, path, deep[0]


def test_a_pipeline_split_over_several_workflows_runs_in_dag_order(
    stubs: tuple[Stubs, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state, url = stubs
    state.seconds = 0.02
    state.together = [{"t1", "t2"}]
    pipeline, path, deep = _split_stack(tmp_path, monkeypatch, url, tree=109, chain=40)
    assert len(pipeline.tasks) == 150
    state.answers[deep] = [(500, {"error": "OSError", "retryable": True}), (200, {})]
    outcome = _run(path)
    assert outcome.get("result", {}).get("status") == "succeeded", outcome
    runs = {task: (start, end) for task, start, end in state.calls}
    assert len(runs) == 150 and len(state.calls) == 151  # the deep task tried twice
    assert [t for t, _, _ in state.calls].count(deep) == 2
    for task in pipeline.tasks:
        for up in pipeline.upstream(task, direct=True):
            assert runs[up.name][1] <= runs[task.name][0], (
                f"{task.name} began before {up.name} ended"
            )
    assert runs["t1"][0] < runs["t2"][1] and runs["t2"][0] < runs["t1"][1], "siblings in series"


def test_a_non_retryable_error_in_a_later_workflow_fails_the_run_once(
    stubs: tuple[Stubs, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state, url = stubs
    state.seconds = 0.01
    pipeline, path, deep = _split_stack(tmp_path, monkeypatch, url, tree=40, chain=60)
    state.answers[deep] = [(500, {"error": "SchemaError", "retryable": False})]
    outcome = _run(path)
    assert outcome.get("error") and "result" not in outcome, outcome
    called = [t for t, _, _ in state.calls]
    assert called.count(deep) == 1
    (task,) = [t for t in pipeline.tasks if t.name == deep]
    later = {t.name for t in pipeline.downstream(task)}
    assert later and not later & set(called), "tasks after the failed one ran"


def test_the_plan_lists_every_workflow_of_a_large_pipeline(tmp_path: Path) -> None:
    pipeline = load_pipeline(str(_large_pipeline(tmp_path, tree=848, chain=151)))
    infra = pipeline.compile(GCPCompiler("demo-project"))
    files = infra.stacks["gcp"].files
    definitions = sorted(f for f in files if f.startswith("workflow"))
    assert len(definitions) > 1
    workflows = [r.name for r in infra.resources if r.kind == "workflow"]
    assert workflows == ["big", *(f"big-{n}" for n in range(2, len(definitions) + 1))]
    assert sorted(definitions) == sorted(
        ["workflow.yaml", *(f"workflow-{n}.yaml" for n in range(2, len(definitions) + 1))]
    )
    assert (
        f"- {len(definitions) - 1} more workflow(s) (`workflow-2.yaml` and on)"
        in files["README.md"]
    )
