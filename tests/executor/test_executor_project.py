"""Project configuration (glacier.toml / [tool.glacier]), ``--env``, ``glacier init``,
``glacier show`` and the default ``--target``: a newcomer's project, through the CLI."""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl
import pytest

from glacier.cli import main
from glacier.errors import DefinitionError

PIPELINE = """
import polars as pl
from glacier import Dataset, Pipeline
from glacier.storage import ObjectStorage

orders = Dataset("orders", format="csv")
big = Dataset("big", storage=ObjectStorage())
pipeline = Pipeline(name="proj")

@pipeline.task()
def keep_big(data: orders, at_least: float = 0.0) -> big:
    return data.filter(pl.col("amount") >= at_least)
"""

CONFIG = """
pipeline = "src/flow.py"
root = "state"

[inputs]
orders = "data/orders.csv"

[params]
"keep_big.at_least" = 2.0

[env.prod]
root = "state-prod"
params = { "keep_big.at_least" = 5.0 }
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder (config, pipeline in src/, data in data/) and a cwd elsewhere."""
    proj = tmp_path / "proj"
    (proj / "src").mkdir(parents=True)
    (proj / "data").mkdir()
    (proj / "src" / "flow.py").write_text(PIPELINE)
    (proj / "glacier.toml").write_text(CONFIG)
    pl.DataFrame({"amount": [1.0, 3.0, 6.0]}).write_csv(proj / "data" / "orders.csv")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    return proj


def _big(root: Path) -> list[float]:
    return pl.read_parquet(root / "datasets" / "big.parquet")["amount"].to_list()


def test_config_supplies_inputs_params_and_root_anchored_to_its_folder(project, capsys):
    assert main(["run", str(project / "src" / "flow.py"), "--no-progress"]) == 0
    assert _big(project / "state") == [3.0, 6.0]  # at_least=2 from [params]
    assert not (Path.cwd() / ".glacier").exists() and not (Path.cwd() / "state").exists()
    capsys.readouterr()
    # from another working directory: the same root, so the task is fresh and skipped
    os.chdir(project / "data")
    assert main(["run", "../src/flow.py", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "skipped" in out and "succeeded" not in out


def test_run_without_ref_uses_the_configured_pipeline(project, capsys):
    os.chdir(project / "src")
    assert main(["run", "--no-progress"]) == 0
    assert _big(project / "state") == [3.0, 6.0]


def test_env_overlays_root_and_params_and_flags_win(project, capsys):
    os.chdir(project)
    assert main(["run", "--env", "prod", "--no-progress"]) == 0
    assert _big(project / "state-prod") == [6.0]
    flag = ["run", "--env", "prod", "--param", "keep_big.at_least=0", "--no-progress"]
    assert main(flag) == 0
    assert _big(project / "state-prod") == [1.0, 3.0, 6.0]
    assert main(["run", "--env", "staging"]) == 1
    err = capsys.readouterr().err
    assert "--env staging" in err and "environments: prod" in err


def test_python_api_reads_the_config_and_env(project):
    from glacier.loader import load_pipeline

    pipeline = load_pipeline(str(project / "src" / "flow.py"))
    result = pipeline.run(env="prod")
    assert result["big"].collect()["amount"].to_list() == [6.0]
    assert result.path("big") == str(project / "state-prod" / "datasets" / "big.parquet")


def test_pyproject_tool_glacier_and_unknown_keys(tmp_path):
    from glacier.project import load_config

    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.glacier]\nroot = "r"\n[tool.glacier.inputs]\na = "s3://b/a.csv"\n'
    )
    sub = tmp_path / "pkg" / "deep"
    sub.mkdir(parents=True)
    config = load_config(sub)
    assert config.root == str(tmp_path / "r") and config.inputs == {"a": "s3://b/a.csv"}
    (tmp_path / "glacier.toml").write_text('roots = "typo"\n')
    with pytest.raises(DefinitionError, match=r"unknown key 'roots'; known keys: .*root"):
        load_config(sub)


def test_init_then_run_in_an_empty_folder_then_show(tmp_path, monkeypatch, capsys):
    empty = tmp_path / "fresh_project"
    empty.mkdir()
    monkeypatch.chdir(empty)
    assert main(["init"]) == 0
    for name in ("glacier.toml", "pipeline.py", "data/orders.csv", "tests/test_pipeline.py"):
        assert (empty / name).is_file(), name
    assert main(["run", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "succeeded" in out and str(empty / ".glacier" / "datasets" / "totals.parquet") in out
    assert main(["show", "totals", "--head", "1"]) == 0
    shown = capsys.readouterr().out
    assert "first 1 rows" in shown and "ada" in shown
    assert main(["init"]) == 1  # never overwrites
    assert "already exist" in capsys.readouterr().err


@pytest.mark.slow
def test_scaffolded_test_passes(tmp_path, monkeypatch):
    import subprocess
    import sys

    monkeypatch.chdir(tmp_path)
    assert main(["init"]) == 0
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_target_defaults_to_the_only_compiling_provider_or_the_config(project, capsys, monkeypatch):
    import glacier.cli.compile as compile_cli

    os.chdir(project)
    (project / "src" / "flow.py").write_text(
        PIPELINE.replace(
            'Dataset("orders", format="csv")',
            'Dataset("orders", format="csv", storage=ObjectStorage())',
        )
    )
    monkeypatch.setattr(compile_cli, "built_providers", lambda: ["aws"])
    assert main(["plan"]) == 0
    assert "target: aws (from the only provider that compiles here)" in capsys.readouterr().out
    monkeypatch.setattr(compile_cli, "built_providers", lambda: ["aws", "gcp"])
    assert main(["plan"]) == 1
    assert "--target is needed" in capsys.readouterr().err
    (project / "glacier.toml").write_text('target = "gcp"\n' + CONFIG)
    assert main(["plan"]) == 0
    assert "target: gcp (from target in" in capsys.readouterr().out


def test_configured_params_and_inputs_are_checked_naming_the_file(project, capsys):
    os.chdir(project)
    (project / "glacier.toml").write_text(
        CONFIG.replace('"keep_big.at_least"', '"keep_big.atleast"', 1)
    )
    assert main(["run", "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "glacier.toml: params names 'keep_big.atleast'" in err and "has no parameter" in err
    (project / "glacier.toml").write_text(CONFIG.replace("orders =", "order =", 1))
    assert main(["run", "--no-progress"]) == 1
    assert "inputs names 'order', which is not a source" in capsys.readouterr().err
