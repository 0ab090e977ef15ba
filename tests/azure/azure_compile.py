"""Compile a sample pipeline for Azure (a module of its own: ``from conftest import ...``
resolves to whichever ``conftest`` module pytest loaded first)."""

from __future__ import annotations

from pathlib import Path

from glacier.compilation import Infrastructure
from glacier.loader import load_pipeline
from glacier_azure import AzureCompiler

PIPELINES = Path(__file__).resolve().parent.parent / "pipelines"


def compile_ref(name: str, **options: object) -> Infrastructure:
    """Compile ``tests/pipelines/<name>.py`` (``name`` may end ``:attr``) for Azure."""
    module, _, attr = name.partition(":")
    ref = str(PIPELINES / f"{module}.py") + (f":{attr}" if attr else "")
    return load_pipeline(ref).compile(AzureCompiler(**options))  # type: ignore[arg-type]
