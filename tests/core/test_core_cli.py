"""The command line: validate and graph, exit codes, one-line errors, --debug tracebacks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from glacier.cli import COMMANDS, build_parser, main

ROOT = Path(__file__).resolve().parents[2]


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_validate_summarises_the_pipeline(
    capsys: pytest.CaptureFixture[str], pipelines_dir: Path
) -> None:
    code, out, err = _run(capsys, "validate", str(pipelines_dir / "core_future.py"))
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].startswith("pipeline 'future' (") and lines[0].endswith(
        "core_future.py:pipeline) is valid"
    )
    assert lines[1:] == [
        "  4 tasks, 6 datasets, 4 stages",
        "  sources: customers, orders",
        "  sinks:   small",
        "  stage 1: clean_orders",
        "  stage 2: enrich",
        "  stage 3: split",
        "  stage 4: report",
    ]


def test_validate_errors_are_one_line_without_traceback(
    capsys: pytest.CaptureFixture[str], pipelines_dir: Path
) -> None:
    code, out, err = _run(capsys, "validate", str(pipelines_dir / "core_cycle.py"))
    assert (code, out) == (1, "")
    assert (
        err
        == "error: pipeline 'cyclic' has a cycle: a -> b -> c -> a; a task cannot depend, directly or through other tasks, on its own output: break the cycle by writing a new dataset\n"
    )
    code, _, err = _run(capsys, "validate", str(pipelines_dir / "core_two.py"))
    assert code == 1 and err.startswith("error: ") and "several pipelines (first, second)" in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_debug_shows_the_traceback(capsys: pytest.CaptureFixture[str], pipelines_dir: Path) -> None:
    code, _, err = _run(capsys, "validate", str(pipelines_dir / "core_broken.py"), "--debug")
    assert code == 1
    assert "Traceback (most recent call last)" in err and "glacier_no_such_dependency" in err
    assert err.rstrip().splitlines()[-1].startswith("error: cannot import")


def test_graph_formats_to_stdout(capsys: pytest.CaptureFixture[str], pipelines_dir: Path) -> None:
    ref = f"{pipelines_dir / 'core_future.py'}:pipeline"
    code, out, _ = _run(capsys, "graph", ref)
    assert code == 0 and out.startswith("flowchart LR\n") and "task_clean_orders" in out
    code, out, _ = _run(capsys, "graph", ref, "--format", "dot")
    assert code == 0 and out.startswith('digraph "future" {')
    code, out, _ = _run(capsys, "graph", ref, "--format", "text")
    assert code == 0 and out.startswith(
        "pipeline future: 4 tasks, 6 datasets, 4 stages, schedule 0 2 * * *\n"
    )


def test_graph_output_files(
    capsys: pytest.CaptureFixture[str], pipelines_dir: Path, tmp_path: Path
) -> None:
    ref = str(pipelines_dir / "core_plain.py")
    for name, start in [
        ("g.svg", b"<?xml"),
        ("g.png", b"\x89PNG"),
        ("g.dot", b"digraph"),
        ("g.mmd", b"flowchart"),
        ("g.txt", b"pipeline plain"),
    ]:
        code, out, err = _run(capsys, "graph", ref, "--output", str(tmp_path / "out" / name))
        assert (code, err) == (0, ""), err
        assert out == f"wrote {tmp_path / 'out' / name}\n"
        assert (tmp_path / "out" / name).read_bytes().startswith(start), name
    code, _, _ = _run(capsys, "graph", ref, "-o", str(tmp_path / "forced.txt"), "--format", "dot")
    assert code == 0 and (tmp_path / "forced.txt").read_text().startswith("digraph")


def test_graph_errors(
    capsys: pytest.CaptureFixture[str], pipelines_dir: Path, tmp_path: Path
) -> None:
    ref = str(pipelines_dir / "core_plain.py")
    code, _, err = _run(capsys, "graph", ref, "--output", str(tmp_path / "g.svg.txt"))
    assert code == 0  # any extension that is no image receives text
    code, _, err = _run(capsys, "graph", str(tmp_path / "missing.py"))
    assert (
        code == 1
        and err
        == f"error: pipeline file '{tmp_path / 'missing.py'}' does not exist; expected path/to/file.py[:attr] or package.module[:attr]\n"
    )
    code, _, err = _run(capsys, "graph", ref, "--format", "svg")
    assert code == 2 and "invalid choice: 'svg'" in err


def test_usage_help_and_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "--help")
    assert (
        code == 0
        and "validate" in out
        and "graph" in out
        and "REF is path/to/file.py[:attr]" in out
    )
    code, _, err = _run(capsys)
    assert code == 2 and "the following arguments are required: COMMAND" in err
    code, _, err = _run(capsys, "frobnicate")
    assert code == 2 and "invalid choice: 'frobnicate'" in err
    code, out, _ = _run(capsys, "--version")
    assert code == 0 and out.startswith("glacier ")


def test_registry_imports_only_the_command_asked_for() -> None:
    _, commands = build_parser("validate")
    assert list(commands) == ["validate"]
    _, everything = build_parser()
    listed = {name for name, _ in COMMANDS}
    assert {"validate", "graph"} <= set(everything) <= listed


def test_registry_skips_a_module_that_does_not_exist_yet(monkeypatch: pytest.MonkeyPatch) -> None:
    import glacier.cli as cli

    monkeypatch.setattr(cli, "COMMANDS", (*cli.COMMANDS, ("future", "glacier.cli.not_written_yet")))
    _, commands = cli.build_parser()
    assert "future" not in commands and "validate" in commands


def test_internal_errors_are_one_line_too(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, pipelines_dir: Path
) -> None:
    import glacier.cli.validate as validate

    def boom(ref: str) -> None:
        raise RuntimeError("kaput\nsecond line")

    monkeypatch.setattr(validate, "load_pipeline", boom)
    code, _, err = _run(capsys, "validate", str(pipelines_dir / "core_plain.py"))
    assert code == 1
    assert (
        err
        == "error: internal error: RuntimeError: kaput second line (rerun with --debug for the traceback)\n"
    )


@pytest.mark.slow
@pytest.mark.parametrize("launcher", ["module", "script"])
def test_real_processes(launcher: str, pipelines_dir: Path) -> None:
    cmd = (
        [sys.executable, "-m", "glacier"]
        if launcher == "module"
        else [str(Path(sys.executable).parent / "glacier")]
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    ok = subprocess.run(
        [*cmd, "validate", str(pipelines_dir / "core_plain.py")],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
    )
    assert ok.returncode == 0 and "is valid" in ok.stdout, ok.stderr
    bad = subprocess.run(
        [*cmd, "graph", str(pipelines_dir / "core_cycle.py")],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
    )
    assert bad.returncode == 1 and bad.stdout == ""
    assert (
        bad.stderr.startswith("error: pipeline 'cyclic' has a cycle: a -> b -> c -> a")
        and "Traceback" not in bad.stderr
    )
    by_module = subprocess.run(
        [*cmd, "validate", "examples.quickstart"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
    )
    assert (
        by_module.returncode == 0 and "(examples.quickstart:pipeline) is valid" in by_module.stdout
    ), by_module.stderr


@pytest.mark.parametrize("name", ["g.jpg", "g.JPEG", "g.pdf", "g.svgz", "g.html"])
def test_graph_refuses_image_formats_it_cannot_render(
    capsys: pytest.CaptureFixture[str], pipelines_dir: Path, tmp_path: Path, name: str
) -> None:
    # Mermaid text in a file named .jpg (or .pdf, .svgz) would be a broken image
    target = tmp_path / name
    code, out, err = _run(capsys, "graph", str(pipelines_dir / "core_plain.py"), "-o", str(target))
    assert (code, out) == (1, "")
    suffix = Path(name).suffix
    assert err == (
        f"error: cannot write {target}: {suffix} is not a format glacier graph writes; "
        "use .svg or .png for an image, or .mmd, .dot or .txt for text\n"
    )
    assert not target.exists()


@pytest.mark.slow
def test_a_closed_stdout_pipe_ends_quietly(pipelines_dir: Path) -> None:
    # `glacier graph REF | head -1`: the reader leaves early; no "internal error", no
    # "Exception ignored ... BrokenPipeError" at exit, and SIGPIPE's conventional status
    proc = subprocess.Popen(
        [sys.executable, "-m", "glacier", "graph", str(pipelines_dir / "core_plain.py")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert (proc.wait(timeout=60), err) == (141, "")
