"""The hostile-string corpus stays inert: user text never becomes code or an expression.

The hostile pipeline and its benign twin (same pipeline, plain text) compile to files that
differ only in the values of string constants: Python files parse to the same tree, JSON and
YAML files to the same structure, Markdown files to the same prose and the same shell commands
(user text may only be a quoted word), every other file is the same bytes. And the text reaches
the stack intact: each task's environment, as deployed, is exactly what the user wrote.
"""

from __future__ import annotations

import ast
import json
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from glacier import Dataset, Pipeline, Secret, compute
from glacier.errors import DefinitionError
from glacier.loader import load_pipeline

from .cases import BENIGN, HOSTILE, Case, params
from .conftest import Stacks

CASES = params("hostile", [HOSTILE])
MASK = "<text>"


def _corpus(pipeline: Pipeline) -> tuple[str, ...]:
    corpus: tuple[str, ...] = pipeline.tasks[0].fn.__globals__["HOSTILE"]
    return corpus


def _masked(node: Any) -> Any:
    """A parsed document with every string (keys included) replaced by one placeholder; an
    object's members in a canonical order (a compiler may sort them by the user's text)."""
    if isinstance(node, dict):
        return sorted(([_masked(k), _masked(v)] for k, v in node.items()), key=repr)
    if isinstance(node, list):
        return [_masked(v) for v in node]
    return MASK if isinstance(node, str) else node


class _MaskStrings(ast.NodeTransformer):
    """String constants, and variable names (a compiler may derive them from a secret's or a
    dataset's name, validated as identifiers), become one placeholder."""

    def visit_Constant(self, node: ast.Constant) -> ast.Constant:
        return ast.Constant(MASK) if isinstance(node.value, (str, bytes)) else node

    def visit_Name(self, node: ast.Name) -> ast.Name:
        return ast.Name(id="_", ctx=node.ctx)


def _shell_shape(line: str) -> list[str]:
    """A shell command line with every word masked: only its operators (``;``, ``|``,
    ``&&``, ``(``...) and its number of words are left, which quoting keeps user text out of."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = "#"
    return [t if t and set(t) <= set(lexer.punctuation_chars) else MASK for t in lexer]


def _markdown_shape(text: str) -> list[Any]:
    """Prose lines as they are (user text may appear only in commands), each line of a
    fenced code block as its shell shape."""
    shape: list[Any] = []
    fenced = False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
            shape.append(line)
        else:
            shape.append(_shell_shape(line) if fenced else line)
    return shape


def _shape(name: str, text: bytes) -> Any:
    """What must not change in file ``name`` when only user text changes."""
    suffix = Path(name).suffix
    if suffix == ".py":
        return ast.dump(_MaskStrings().visit(ast.parse(text)))
    if suffix == ".json":
        return _masked(json.loads(text))
    if suffix in (".yaml", ".yml"):
        return _masked(list(yaml.safe_load_all(text)))
    if suffix == ".md":
        return _markdown_shape(text.decode() if isinstance(text, bytes) else text)
    return text


def _strings(name: str, text: bytes) -> Iterator[str]:
    """Every whole string value of a Python, JSON or YAML file."""
    suffix = Path(name).suffix
    if suffix == ".py":
        tree = ast.parse(text)
        yield from (
            n.value
            for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str)
        )
    elif suffix in (".json", ".yaml", ".yml"):
        todo: list[Any] = (
            [json.loads(text)] if suffix == ".json" else list(yaml.safe_load_all(text))
        )
        while todo:
            node = todo.pop()
            if isinstance(node, str):
                yield node
            elif isinstance(node, dict):
                todo += [*node.keys(), *node.values()]
            elif isinstance(node, list):
                todo += node


@pytest.mark.parametrize(("provider", "case"), CASES)
def test_hostile_text_changes_no_code_and_no_structure(
    stacks: Stacks, provider: str, case: Case
) -> None:
    hostile, benign = stacks.get(provider, case), stacks.get(provider, BENIGN)
    ours, theirs = hostile.files, benign.files
    assert sorted(ours) == sorted(theirs)
    changed = [n for n in ours if _shape(n, ours[n]) != _shape(n, theirs[n])]
    assert not changed, f"user text changed the code or structure of {changed}"


@pytest.mark.parametrize(("provider", "case"), CASES)
def test_hostile_text_adds_no_orchestrator_expression(
    stacks: Stacks, provider: str, case: Case
) -> None:
    hostile, benign = stacks.get(provider, case), stacks.get(provider, BENIGN)
    found = hostile.adapter.expressions(hostile.stack_dir)
    assert found, "the reader finds no expression at all: it reads nothing"
    assert found == benign.adapter.expressions(benign.stack_dir)


@pytest.mark.parametrize(("provider", "case"), CASES)
def test_hostile_text_reaches_the_stack_intact(stacks: Stacks, provider: str, case: Case) -> None:
    built = stacks.get(provider, case)
    corpus = _corpus(built.pipeline)
    written = {s for name, text in built.files.items() for s in _strings(name, text)}
    assert set(corpus) <= written, [t for t in corpus if t not in written]
    env = {f"VAR_{i}": text for i, text in enumerate(corpus)}
    assert built.deployed.task_env() == {"clean": env, "publish": env}


def test_hostile_names_are_refused_where_text_becomes_a_name() -> None:
    """Provider-neutral: names are validated before any compiler sees them."""
    for text in _corpus(load_pipeline(HOSTILE.ref)):
        with pytest.raises(DefinitionError, match=r"Dataset name .* is invalid"):
            Dataset(text)
        with pytest.raises(DefinitionError, match=r"Pipeline name .* is invalid"):
            Pipeline(name=text)
        with pytest.raises(DefinitionError, match="is not a cron expression"):
            Pipeline(name="p", schedule=text)
        with pytest.raises(ValueError, match="secret must be a secret name"):
            Secret(text)
        with pytest.raises(ValueError, match="environment variable name"):
            compute.serverless(env={text: "x"})
