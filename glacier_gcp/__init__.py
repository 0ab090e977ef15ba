"""Glacier's GCP provider package: GCS storage and Cloud Functions / Cloud Run compute.

``GCS``, ``CloudFunction`` and ``CloudRun`` are real, validated declarations: pipelines use them
as storage and compute, and ``LocalExecutor(storage="remote")`` reads and writes their
``gs://`` URLs. Compiling to GCP (Workflows, IAM, functions) is not built in this Glacier
version: ``GCPCompiler(...)`` and ``--target gcp`` say so in one clear error.
"""

from __future__ import annotations

from typing import Any, NoReturn

from glacier.compilation.registry import no_compiler_class
from glacier_gcp.hints import check_storage_hints
from glacier_gcp.provider import GCPProvider


def _not_built(what: str) -> NoReturn:
    raise no_compiler_class(what, "GCP", "glacier_gcp", "GCS, CloudFunction and CloudRun")


class GCPCompiler:
    """The GCP compiler's public name; not built in this version (see the module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        _not_built("GCPCompiler(...)")

    @classmethod
    def from_env(cls) -> GCPCompiler:
        _not_built("GCPCompiler.from_env()")


__all__ = ["GCPCompiler", "GCPProvider", "check_storage_hints"]
