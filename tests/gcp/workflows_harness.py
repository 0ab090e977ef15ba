"""Validate and run generated Cloud Workflows definitions with workflows-emulator.

Run by ``test_gcp_workflows.py`` in the emulator's own venv (``make tools`` creates
``.venv-workflows``)::

    python workflows_harness.py validate FILE...      # each against the emulator's schema
    python workflows_harness.py run FILE              # execute main({}) and print the result

For a run, three things Workflows does in Google Cloud are stood in for, all in the copy
run, never in the file: OIDC auth (the emulator has none) is dropped from ``http.post``;
the Cloud Run jobs connector becomes an ``http.post`` to the job's (stub) URL; a part run
as a child execution becomes a direct call of its subworkflow. The emulator tags a non-2xx
answer ``HTTPError``; Workflows tags it ``HttpError``, and so does this harness; and its
``get_type`` is taught its own map class.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import requests
import yaml
from jsonschema import validate
from workflows_emulator import main as emulator
from workflows_emulator.lib import helpers, http_utils
from workflows_emulator.utils import ContextDict

RUN_JOB = "googleapis.run.v2.projects.locations.jobs.run"


class HttpError(requests.HTTPError):
    """What Workflows calls a non-2xx answer (the tag is the class name)."""


_request = http_utils.request


def _tagged_request(*args: Any, **kwargs: Any) -> Any:
    try:
        return _request(*args, **kwargs)
    except requests.HTTPError as exc:
        raise HttpError(*exc.args, response=exc.response) from None


http_utils.request = _tagged_request
#: The emulator's ``get_type`` does not know its own map class (a dict subclass).
helpers.TYPE_LOOKUP[ContextDict] = "map"


def _stand_in(steps: list[dict[str, Any]]) -> None:
    for step in steps:
        ((_, body),) = step.items()
        if "try" in body:
            _stand_in([{"try": body["try"]}])
        call = body.get("call")
        if call == "http.post":
            body["args"].pop("auth", None)
        elif call == RUN_JOB:
            body["call"] = "http.post"
            body["args"] = {"url": "${job}", "body": {"run_id": "${run_id}"}, "timeout": 60}
        elif call == "run_part":
            body["call"] = f"part_{body['args']['part']}"
            body["args"] = {"run_id": body["args"]["run_id"]}
        if "parallel" in body:
            for branch in body["parallel"]["branches"]:
                for inner in branch.values():
                    _stand_in(inner["steps"])
        if "steps" in body:
            _stand_in(body["steps"])


def _run(path: str) -> int:
    with open(path, encoding="utf-8") as fh:
        document = yaml.safe_load(fh)
    validate(document, emulator.WORKFLOW_SCHEMA)
    for name, sub in document.items():
        _stand_in(sub["steps"])
        if name.startswith(
            "run_job_"
        ):  # the connector's result is an execution, the stub's a reply
            sub["steps"][-1] = {"report": {"return": "${execution.body}"}}
    os.environ["GOOGLE_CLOUD_WORKFLOW_EXECUTION_ID"] = "execution-1"
    try:
        result = emulator.execute_workflow(document, {"args": {}})
    except Exception as exc:
        payload = getattr(exc, "payload", None)
        print(json.dumps({"error": type(exc).__name__, "payload": payload}, default=str))
        return 1
    print(json.dumps({"result": result}, default=str))
    return 0


def main(argv: list[str]) -> int:
    mode, *paths = argv
    if mode == "validate":
        for path in paths:
            with open(path, encoding="utf-8") as fh:
                validate(yaml.safe_load(fh), emulator.WORKFLOW_SCHEMA)
        return 0
    return _run(paths[0])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
