"""Hostile strings: rejected with a clear error, or inert constants in the generated program."""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import pytest
from aws_compile import PIPELINES, compile_ref
from aws_mocks import run_stack
from golden_files import deployable_copy

from glacier import Dataset, Pipeline, Secret, compute
from glacier.compilation import codegen
from glacier.errors import DefinitionError
from glacier.loader import load_pipeline
from glacier_aws import program
from glacier_aws.storage import S3

HOSTILE = load_pipeline(str(PIPELINES / "aws_hostile.py")).tasks[0].fn.__globals__["HOSTILE"]
GOLDEN = Path(__file__).resolve().parent / "golden" / "hostile" / "aws"
ALLOWED_CALLS = ("gi.", "gid.", "gc.", "glacier_bundle.", "pulumi.")


def _program() -> ast.Module:
    return ast.parse(compile_ref("aws_hostile").stacks["aws"].files["__main__.py"])


def test_program_imports_only_its_own_modules() -> None:
    imports = [a.name for n in ast.walk(_program()) if isinstance(n, ast.Import) for a in n.names]
    assert imports == [
        "pulumi",
        "glacier_bundle",
        "glacier_compute",
        "glacier_identity",
        "glacier_infra",
    ]
    assert not any(isinstance(n, ast.ImportFrom) for n in ast.walk(_program()))


def test_every_call_is_to_a_known_building_block() -> None:
    for node in ast.walk(_program()):
        if isinstance(node, ast.Call):
            assert ast.unparse(node.func).startswith(ALLOWED_CALLS), ast.unparse(node.func)
    kinds = {type(n).__name__ for n in ast.walk(_program())}
    assert kinds.isdisjoint({"FunctionDef", "Lambda", "JoinedStr", "Subscript", "BinOp", "Starred"})


def test_env_values_are_constants_equal_to_the_inputs() -> None:
    constants = [n.value for n in ast.walk(_program()) if isinstance(n, ast.Constant)]
    for text in HOSTILE:
        assert constants.count(text) == 1, text
    # Descriptions and metadata stay in the manifest; they never reach the program.
    program = compile_ref("aws_hostile").stacks["aws"].files["__main__.py"]
    assert "os.system" not in program.replace(repr(HOSTILE[0]), "")


def test_program_parses_to_exactly_the_tree_the_compiler_built(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    built: list[ast.Module] = []
    real = program.render_module

    def recording(docstring: str, sections: Any, banner: str) -> str:
        built.append(codegen.module_tree(docstring, sections))
        return real(docstring, sections, banner)

    monkeypatch.setattr(program, "render_module", recording)
    text = compile_ref("aws_hostile").stacks["aws"].files["__main__.py"]
    (tree,) = built
    assert codegen.same_tree(ast.parse(text), tree)


def test_manifest_round_trips_the_hostile_text() -> None:
    manifest = json.loads(compile_ref("aws_hostile").stacks["aws"].files["app/manifest.json"])
    raw = next(d for d in manifest["datasets"] if d["name"] == "raw")
    assert raw["description"] == HOSTILE[0] + HOSTILE[1]
    assert raw["metadata"][HOSTILE[3]] == [HOSTILE[4], {"k": HOSTILE[5]}]


@pytest.mark.slow
def test_hostile_golden_program_runs_and_passes_values_through(tmp_path: Path) -> None:
    run = run_stack(deployable_copy(GOLDEN, tmp_path / "aws"))
    env = run.one("aws:lambda/function:Function", "hostile-clean").inputs["environment"][
        "variables"
    ]
    assert [env[f"VAR_{i}"] for i in range(len(HOSTILE))] == list(HOSTILE)


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_names_schedules_and_secrets_are_rejected(text: str) -> None:
    with pytest.raises(DefinitionError, match=r"Dataset name .* is invalid"):
        Dataset(text)
    with pytest.raises(DefinitionError, match="is not a cron expression"):
        Pipeline(name="p", schedule=text)
    with pytest.raises(DefinitionError, match=r"Pipeline name .* is invalid"):
        Pipeline(name=text)
    with pytest.raises(ValueError, match="Secret: secret must be a secret name of 1-128"):
        Secret(text)
    with pytest.raises(ValueError, match=r"S3 bucket naming rule|characters"):
        S3(text)
    with pytest.raises(ValueError, match=r"S3 key prefix naming rule|glob character"):
        S3("fine-bucket", prefix=text)
    with pytest.raises(ValueError, match="environment variable name"):
        compute.serverless(env={text: "x"})
