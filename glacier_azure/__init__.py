"""Glacier's Azure provider package: Blob Storage and Functions / Container Apps compute.

``BlobStorage``, ``AzureFunction`` and ``ContainerApp`` are real, validated declarations:
pipelines use them as storage and compute, and ``LocalExecutor(storage="remote")`` reads and
writes their ``az://`` URLs. Compiling to Azure is not built in this Glacier version:
``AzureCompiler(...)`` and ``--target azure`` say so in one clear error.
"""

from __future__ import annotations

from typing import Any, NoReturn

from glacier.errors import CompilationError


def _not_built(what: str) -> NoReturn:
    msg = (
        f"{what}: compiling to Azure is not built in this Glacier version (glacier_azure "
        "provides the BlobStorage, AzureFunction and ContainerApp declarations, usable in local "
        "and remote runs); compile with a built provider: glacier_aws.AWSCompiler"
    )
    raise CompilationError(msg)


class AzureCompiler:
    """API.md section 6 names it; it is not built in this version (see the module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        _not_built("AzureCompiler(...)")

    @classmethod
    def from_env(cls) -> AzureCompiler:
        _not_built("AzureCompiler.from_env()")


__all__ = ["AzureCompiler"]
