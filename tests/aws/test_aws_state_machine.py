"""The stack's ``state_machine.json``: placeholders filled at deploy time, and nothing else."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from aws_mocks import ACCOUNT, STACK_HASH, Run, run_stack
from golden_files import deployable_copy

from glacier.compilation import Infrastructure

GOLDEN = Path(__file__).resolve().parent / "golden" / "orders" / "aws"
PLACEHOLDER = re.compile(r"\$\{[a-z_][a-z0-9_.]*\}")
VALIDATOR = Path(__file__).resolve().parents[2] / "node_modules" / ".bin" / "asl-validator"


def _deployed(run: Run) -> dict[str, Any]:
    return json.loads(run.one("aws:sfn/stateMachine:StateMachine", "orders").inputs["definition"])


def _pairs(template: Any, deployed: Any, path: str = "$") -> list[tuple[str, str, Any]]:
    """(path, placeholder, deployed value) for every placeholder; asserts the rest is equal."""
    if isinstance(template, str) and PLACEHOLDER.fullmatch(template):
        return [(path, template, deployed)]
    if isinstance(template, dict):
        assert isinstance(deployed, dict) and list(deployed) == list(template), path
        return [p for k in template for p in _pairs(template[k], deployed[k], f"{path}.{k}")]
    if isinstance(template, list):
        assert isinstance(deployed, list) and len(deployed) == len(template), path
        return [p for i, t in enumerate(template) for p in _pairs(t, deployed[i], f"{path}[{i}]")]
    assert template == deployed, path
    return []


@pytest.mark.slow
def test_deployed_definition_is_the_file_with_each_placeholder_filled(
    orders_infra: Infrastructure, orders_run: Run
) -> None:
    template = json.loads(orders_infra.stacks["aws"].files["state_machine.json"])
    filled = {p: value for _, p, value in _pairs(template, _deployed(orders_run))}
    function = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:orders"
    assert filled == {
        "${validate_fn.arn}": f"{function}-validate-1a2b3c4",
        "${enrich_fn.arn}": f"{function}-enrich-1a2b3c4",
        "${cluster.arn}": f"arn:aws:ecs:us-east-1:{ACCOUNT}:cluster/orders-1a2b3c4",
        "${publish_task.task_definition.arn}": (
            f"arn:aws:ecs:us-east-1:{ACCOUNT}:task-definition/orders-publish-{STACK_HASH}:1"
        ),
        "${network.subnet_ids}": ["subnet-a", "subnet-b"],
        "${network.security_group_ids}": ["orders-tasks-id"],
        "${network.assign_public_ip}": "ENABLED",
    }


@pytest.mark.slow
def test_deployed_definition_passes_asl_validator(orders_run: Run, tmp_path: Path) -> None:
    path = tmp_path / "deployed.json"
    path.write_text(json.dumps(_deployed(orders_run)))
    done = subprocess.run(
        [str(VALIDATOR), "--json-path", str(path)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


def _stack_with(tmp_path: Path, edit: Any) -> Path:
    stack = deployable_copy(GOLDEN, tmp_path / "aws")
    definition = json.loads((stack / "state_machine.json").read_text())
    edit(definition)
    (stack / "state_machine.json").write_text(json.dumps(definition, indent=2))
    return stack


@pytest.mark.slow
def test_placeholders_inside_text_or_keys_are_left_alone(tmp_path: Path) -> None:
    def edit(definition: dict[str, Any]) -> None:
        definition["Comment"] = "calls ${validate_fn.arn} first"
        definition["States"]["validate"]["Parameters"]["Payload"]["${enrich_fn.arn}"] = "x"

    deployed = _deployed(run_stack(_stack_with(tmp_path, edit)))
    assert deployed["Comment"] == "calls ${validate_fn.arn} first"
    assert deployed["States"]["validate"]["Parameters"]["Payload"]["${enrich_fn.arn}"] == "x"
    assert deployed["States"]["validate"]["Parameters"]["FunctionName"].endswith("validate-1a2b3c4")


@pytest.mark.slow
def test_a_stale_definition_file_fails_the_deploy(tmp_path: Path) -> None:
    def edit(definition: dict[str, Any]) -> None:
        definition["States"]["validate"]["Parameters"]["FunctionName"] = "${gone_fn.arn}"

    with pytest.raises(
        ValueError,
        match=r"state_machine.json: placeholders without a value \['gone_fn.arn'\], values "
        r"without a placeholder \['validate_fn.arn'\]; compile the pipeline again",
    ):
        run_stack(_stack_with(tmp_path, edit))


def _states(definition: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for state in definition["States"].values():
        found.append(state)
        for branch in state.get("Branches", []):
            found.extend(_states(branch))
    return found


@pytest.mark.slow
def test_deterministic_task_errors_are_never_retried(orders_run: Run) -> None:
    # A schema violation or a wrong return shape fails the same way every time: the first
    # retrier stops it before the task's own States.ALL retrier would back off and repeat it.
    retried = [s for s in _states(_deployed(orders_run)) if any(
        "States.ALL" in r["ErrorEquals"] for r in s.get("Retry", []))]  # fmt: skip
    assert retried, "the orders pipeline has a task with retries"
    for state in retried:
        first, last = state["Retry"][0], state["Retry"][-1]
        assert first == {
            "ErrorEquals": [
                "SchemaError",
                "DefinitionError",
                "PipelineReferenceError",
                "TaskFailedError",
                "ConfigurationError",
                "InvalidRunIdError",
            ],
            "MaxAttempts": 0,
        }
        assert last["ErrorEquals"] == ["States.ALL"] and last["MaxAttempts"] > 0


def test_a_definition_over_the_step_functions_limit_is_a_compilation_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from aws_compile import compile_ref

    from glacier.errors import CompilationError
    from glacier_aws import program

    text = compile_ref("aws_orders").stacks["aws"].files["state_machine.json"]
    deployed = len(json.dumps(json.loads(text)))
    monkeypatch.setattr(program, "MAX_DEFINITION_CHARS", 1)
    with pytest.raises(CompilationError, match=r"would be up to [\d,]+ characters") as caught:
        compile_ref("aws_orders")
    found = re.search(r"up to ([\d,]+)", str(caught.value))
    assert found is not None
    worst = int(found.group(1).replace(",", ""))
    placeholders = len(PLACEHOLDER.findall(text))
    assert deployed < worst < deployed + placeholders * 400  # each ARN or id list at its longest
    monkeypatch.setattr(program, "MAX_DEFINITION_CHARS", worst - 1)
    with pytest.raises(CompilationError, match=r"pipeline 'orders': its Step Functions definition"):
        compile_ref("aws_orders")
    monkeypatch.setattr(program, "MAX_DEFINITION_CHARS", worst)
    compile_ref("aws_orders")
