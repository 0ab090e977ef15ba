"""Compile the sample pipelines for the AWS tests.

A module of its own (not ``conftest``): test modules import these names, and a bare
``from conftest import ...`` resolves to whichever ``conftest`` module pytest loaded first
when several test folders run in one session.
"""

from __future__ import annotations

from pathlib import Path

from glacier.compilation import Infrastructure
from glacier.loader import load_pipeline
from glacier_aws import AWSCompiler

PIPELINES = Path(__file__).resolve().parent.parent / "pipelines"


def compile_ref(name: str, **options: object) -> Infrastructure:
    return load_pipeline(str(PIPELINES / f"{name}.py")).compile(AWSCompiler(**options))  # type: ignore[arg-type]
