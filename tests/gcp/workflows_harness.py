"""Validate and run generated Cloud Workflows definitions with workflows-emulator.

Run by ``test_gcp_workflows.py`` in the emulator's own venv (``make tools`` creates
``.venv-workflows``)::

    python workflows_harness.py validate FILE...      # each against the emulator's schema
    python workflows_harness.py run FILE              # execute main({}) and print the result

``FILE`` is one definition (YAML), or a JSON object ``{"main": name, "workflows": {name:
text}}``: a pipeline's workflows as deployed, ``main`` the one running the DAG.

For a run, three things Workflows does in Google Cloud are stood in for, all in the copy
run, never in the files: OIDC auth (the emulator has none) is dropped from ``http.post``;
the Cloud Run jobs connector becomes an ``http.post`` to the job's (stub) URL; a part run
as a child execution of a workflow becomes a call of that workflow's ``main`` (copied as
``main_<n>`` into the one document the emulator runs) with the ``part`` and ``run_id``
arguments, so its dispatch to the part is what runs. The emulator tags a non-2xx
answer ``HTTPError``; Workflows tags it ``HttpError``, and so does this harness; and its
``get_type`` is taught its own map class.
"""

from __future__ import annotations

import copy
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
THIS_WORKFLOW = '${sys.get_env("GOOGLE_CLOUD_WORKFLOW_ID")}'


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


def _stand_in(steps: list[dict[str, Any]], mains: dict[str, str], here: str) -> None:
    """Stand in for auth, the jobs connector and child executions (see the module docstring);
    ``mains``: workflow name -> the subworkflow its ``main`` became; ``here``: this one's."""
    for step in steps:
        ((_, body),) = step.items()
        if "try" in body:
            _stand_in([{"try": body["try"]}], mains, here)
        call = body.get("call")
        if call == "http.post":
            body["args"].pop("auth", None)
        elif call == RUN_JOB:
            body["call"] = "http.post"
            body["args"] = {"url": "${job}", "body": {"run_id": "${run_id}"}, "timeout": 60}
        elif call == "run_part":
            args = body["args"]
            workflow = here if args["workflow"] == THIS_WORKFLOW else args["workflow"]
            body["call"] = mains[workflow]
            body["args"] = {"args": {"part": args["part"], "run_id": args["run_id"]}}
        if "parallel" in body:
            for branch in body["parallel"]["branches"]:
                for inner in branch.values():
                    _stand_in(inner["steps"], mains, here)
        if "steps" in body:
            _stand_in(body["steps"], mains, here)


def _merged(path: str) -> dict[str, Any]:
    """The one document the emulator runs: every workflow's subworkflows, stood in for."""
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    if path.endswith(".json"):
        given = json.loads(text)
        main, workflows = (
            given["main"],
            {n: yaml.safe_load(t) for n, t in given["workflows"].items()},
        )
    else:
        main, workflows = "main", {"main": yaml.safe_load(text)}
    mains = {name: f"main_{n}" for n, name in enumerate(workflows)}
    merged: dict[str, Any] = {}
    for name, document in workflows.items():
        validate(document, emulator.WORKFLOW_SCHEMA)
        for sub_name, sub in document.items():
            _stand_in(sub["steps"], mains, name)
            if sub_name.startswith("run_job_"):  # the connector gives an execution, a stub a reply
                sub["steps"][-1] = {"report": {"return": "${execution.body}"}}
            key = mains[name] if sub_name == "main" else sub_name
            assert merged.get(key, sub) == sub, f"{name}: {sub_name} differs between workflows"
            merged[key] = sub
    return {"main": copy.deepcopy(merged[mains[main]]), **merged}


def _run(path: str) -> int:
    document = _merged(path)
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
