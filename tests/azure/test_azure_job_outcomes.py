"""A job's outcome object decides whether the Logic App starts it again (decision 145).

After an execution ends Failed the definition reads ``runs/<run id>/_outcomes/<task>.json``
from the work container with the workflow's identity, and gives up at once only when that
object names this execution and says ``"retryable":false``; anything else (retryable, an
earlier execution's outcome, none, an unreadable one) is tried again up to the task's
``retries``. The outcomes the tests serve are the bytes the runtime writes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from logic_interpreter import execute
from test_azure_workflow import OUTCOMES, _definition, _diamond

from glacier_azure import runtime

START = "/start?api-version=2024-03-01"


def _written(tmp_path: Path, m: pytest.MonkeyPatch, execution: str, exit_code: int) -> str:
    """The outcome text ``python -m glacier_azure.runtime`` writes for a failed task (exit
    ``exit_code``: 65 not retryable, 75 retryable) in execution ``execution``."""
    failure = runtime.ConfigurationError("no") if exit_code == 65 else TimeoutError("slow")
    m.setattr(runtime, "run", lambda task, event: (_ for _ in ()).throw(failure))
    tmp_path.mkdir(exist_ok=True)
    m.setenv("GLACIER_OUTCOME", str(tmp_path / "{run_id}.json"))
    m.setenv("CONTAINER_APP_JOB_EXECUTION_NAME", execution)
    m.setenv("AZURE_CLIENT_ID", "client")
    assert runtime.main(["--task", "c", "--run-id", "r1"]) == exit_code
    return (tmp_path / "r1.json").read_text()


def _job(outcome: Callable[[str], tuple[int, Any]], states: list[str]) -> Callable[..., Any]:
    """An HTTP stand-in: job ``c`` ends each execution in the next of ``states``; the outcome
    blob answers ``outcome(latest execution)``; functions succeed."""
    starts: list[str] = []
    found = iter(states)

    def http(method: str, uri: str, body: Any) -> tuple[int, Any]:
        if uri.startswith(OUTCOMES):
            assert method == "GET" and uri.endswith("/_outcomes/c.json"), uri
            return outcome(f"x{len(starts)}")
        if uri.endswith(START):
            starts.append(uri)
            return 202, {"id": f"/jobs/c/executions/x{len(starts)}", "name": f"x{len(starts)}"}
        if "/executions/" in uri:
            return 200, {"properties": {"status": next(found)}}
        return 200, {"task": body["task"]}

    http.starts = starts  # type: ignore[attr-defined]
    return http


def test_a_non_retryable_job_failure_is_not_started_again_and_fails_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    texts = {x: _written(tmp_path / x, monkeypatch, x, 65) for x in ("x1", "x2")}
    http = _job(lambda latest: (200, texts[latest]), ["Failed"] * 4)
    run = execute(_definition(_diamond(c_retries=3)), http)
    assert len(http.starts) == 1  # type: ignore[attr-defined]
    assert run.failed is not None and "task c" in run.failed and "task_d" not in run.status


def test_a_retryable_job_failure_is_started_again_up_to_its_retries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    texts = {x: _written(tmp_path / x, monkeypatch, x, 75) for x in ("x1", "x2", "x3")}
    http = _job(lambda latest: (200, texts[latest]), ["Failed"] * 3)
    run = execute(_definition(_diamond(c_retries=2)), http)
    assert len(http.starts) == 3 and run.failed is not None  # type: ignore[attr-defined]
    http = _job(lambda latest: (200, texts[latest]), ["Failed", "Succeeded"])
    run = execute(_definition(_diamond(c_retries=2)), http)
    assert len(http.starts) == 2 and run.failed is None  # type: ignore[attr-defined]
    assert run.status["task_d"] == "Succeeded"


def test_an_earlier_executions_outcome_is_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run resumed with the same run id finds the last run's non-retryable verdict in the
    blob; its new execution was killed before writing one: that is retried, not final."""
    old = _written(tmp_path, monkeypatch, "x0-earlier", 65)
    http = _job(lambda latest: (200, old), ["Failed", "Failed", "Succeeded"])
    run = execute(_definition(_diamond(c_retries=2)), http)
    assert len(http.starts) == 3 and run.failed is None  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "answer",
    [(404, "<Error><Code>BlobNotFound</Code></Error>"), (200, "not json"), (200, None),
     (403, {"error": "AuthorizationPermissionMismatch"})],
)  # fmt: skip
def test_a_missing_or_unreadable_outcome_counts_as_retryable(answer: tuple[int, Any]) -> None:
    http = _job(lambda latest: answer, ["Failed", "Failed"])
    run = execute(_definition(_diamond(c_retries=1)), http)
    assert len(http.starts) == 2 and run.failed is not None  # type: ignore[attr-defined]


def test_the_outcome_is_read_with_the_workflows_identity_for_storage() -> None:
    loop = _definition(_diamond())["actions"]["task_c_run"]
    read = loop["actions"]["task_c_outcome"]
    inputs = read["inputs"]
    assert inputs["method"] == "GET" and inputs["headers"]["x-ms-version"] >= "2017-11-09"
    assert inputs["uri"] == f"{OUTCOMES}/runs/@{{variables('run_id')}}/_outcomes/c.json"
    assert inputs["authentication"] == {"type": "ManagedServiceIdentity",
                                        "identity": "<<workflow_identity.id>>",
                                        "audience": "https://storage.azure.com/"}  # fmt: skip
    assert read["runAfter"] == {"task_c_wait": ["Succeeded"]}
    verdict = loop["actions"]["task_c_verdict"]
    assert set(verdict["runAfter"]["task_c_outcome"]) >= {"Succeeded", "Failed"}
    assert "task_c_verdict" in loop["expression"]
    assert json.loads(json.dumps(loop))  # plain JSON
