"""Glacier's GCP provider package: GCS storage and Cloud Functions / Cloud Run compute.

``GCS``, ``CloudFunction`` and ``CloudRun`` are real, validated declarations: pipelines use them
as storage and compute, and ``LocalExecutor(storage="remote")`` reads and writes their
``gs://`` URLs. Compiling to GCP (Workflows, IAM, functions) is not built in this Glacier
version: ``GCPCompiler(...)`` and ``--target gcp`` say so in one clear error.
"""

from __future__ import annotations

from typing import Any, NoReturn

from glacier.errors import CompilationError


def _not_built(what: str) -> NoReturn:
    msg = (
        f"{what}: compiling to GCP is not built in this Glacier version (glacier_gcp provides "
        "the GCS, CloudFunction and CloudRun declarations, usable in local and remote runs); "
        "compile with a built provider: glacier_aws.AWSCompiler"
    )
    raise CompilationError(msg)


class GCPCompiler:
    """API.md section 6 names it; it is not built in this version (see the module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        _not_built("GCPCompiler(...)")

    @classmethod
    def from_env(cls) -> GCPCompiler:
        _not_built("GCPCompiler.from_env()")


__all__ = ["GCPCompiler"]
