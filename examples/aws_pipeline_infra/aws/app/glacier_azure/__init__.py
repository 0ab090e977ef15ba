"""Glacier's Azure provider package: Blob Storage and Functions / Container Apps compute.

``BlobStorage``, ``AzureFunction`` and ``ContainerApp`` are real, validated declarations:
pipelines use them as storage and compute, and ``LocalExecutor(storage="remote")`` reads and
writes their ``az://`` URLs. Compiling to Azure is not built in this Glacier version:
``AzureCompiler(...)`` and ``--target azure`` say so in one clear error.
"""

from __future__ import annotations

from typing import Any, NoReturn

from glacier.compilation.registry import no_compiler_class
from glacier_azure.hints import check_storage_hints
from glacier_azure.provider import AzureProvider


def _not_built(what: str) -> NoReturn:
    raise no_compiler_class(
        what, "Azure", "glacier_azure", "BlobStorage, AzureFunction and ContainerApp"
    )


class AzureCompiler:
    """The Azure compiler's public name; not built in this version (see the module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        _not_built("AzureCompiler(...)")

    @classmethod
    def from_env(cls) -> AzureCompiler:
        _not_built("AzureCompiler.from_env()")


__all__ = ["AzureCompiler", "AzureProvider", "check_storage_hints"]
