"""Compiling pipelines to infrastructure code: the provider-neutral machinery.

Provider packages (``glacier_aws``, ...) implement :class:`Compiler`; this package holds what
they share: the plugin registry, resource placement, the safe code generator, cloud naming
rules and the :class:`Infrastructure` result. It imports no cloud SDK.
"""

from __future__ import annotations

from glacier.compilation.base import CompileInput, Compiler, StackBuild
from glacier.compilation.infrastructure import (
    CompilationWarning,
    CrossCloudTransfer,
    Infrastructure,
    ResolvedResource,
    Stack,
    TaskPlan,
)
from glacier.compilation.multicloud import MultiCloudCompiler
from glacier.compilation.registry import (
    ENTRY_POINT_GROUP,
    Provider,
    available_providers,
    get_provider,
    register_provider,
    registry,
)
from glacier.compilation.resolve import Placement, resolve

__all__ = [
    "ENTRY_POINT_GROUP",
    "CompilationWarning",
    "CompileInput",
    "Compiler",
    "CrossCloudTransfer",
    "Infrastructure",
    "MultiCloudCompiler",
    "Placement",
    "Provider",
    "ResolvedResource",
    "Stack",
    "StackBuild",
    "TaskPlan",
    "available_providers",
    "get_provider",
    "register_provider",
    "registry",
    "resolve",
]
