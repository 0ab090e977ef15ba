"""Generated Workflows definitions, checked and executed by workflows-emulator.

Every definition the GCP compiler writes for the sample pipelines validates against the
emulator's Workflows schema; the emulator then runs definitions (as deployed: URLs filled
in) against local HTTP stubs standing in for the functions and jobs, and the stubs record
when each task ran: each after its producers, parallel branches at the same time, a
failing-then-succeeding task tried again, a task failing for good not retried.
"""

from __future__ import annotations

import json
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

from glacier.loader import load_pipeline

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
            time.sleep(STUB_SECONDS)
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


def _deployed(name: str, tmp_path: Path, stub_url: str) -> tuple[Path, Any]:
    """The sample's workflow as deployed (under the mocks), its task URLs pointing at stubs."""
    infra = compile_ref(name)
    run = run_stack(infra.write(tmp_path / name) / "gcp")
    (workflow,) = run.of("gcp:workflows/workflow:Workflow")
    text = workflow.inputs["sourceContents"]
    for r in run.of("gcp:cloudfunctionsv2/function:Function") + run.of("gcp:cloudrunv2/job:Job"):
        if r.type.endswith("Function"):
            env, ref = r.inputs["serviceConfig"]["environmentVariables"], run.outputs(r)["url"]
        else:
            (container,) = r.inputs["template"]["template"]["containers"]
            env = {e["name"]: e["value"] for e in container["envs"] if "value" in e}
            ref = run.mocks.created[(r.type, r.name)][0]
        text = text.replace(json.dumps(ref), json.dumps(f"{stub_url}/{env['GLACIER_TASK']}"))
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
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
