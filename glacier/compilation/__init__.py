"""Compiling pipelines to infrastructure code: the provider-neutral core.

Provider packages implement :class:`Provider` (what the core asks of a cloud) and
:class:`Compiler`; this package holds what every cloud shares, once: the plugin registry
(``registry``), resource placement (``resolve``) and each provider's share of the DAG
(``projection``), planning the DAG into sequences and parallel branches (``planning``), data
grants from the data flow (``grants``), the key layout (``layout``), parsed schedules
(``cron``), naming rules (``naming``), the safe code generator (``codegen``) and the
:class:`Infrastructure` result. It never names a cloud and imports no cloud SDK.
"""

from __future__ import annotations

# Eager: light, and ``registry``/``resolve`` must be those objects, not the submodules of
# the same names.
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
from glacier.compilation.provider import Price
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
    "Price",
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
