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

import importlib
from typing import TYPE_CHECKING, Any

from glacier.compilation.provider import Price

# Eager: light, and ``registry``/``resolve`` must be those objects, not the submodules of
# the same names.
from glacier.compilation.registry import (
    ENTRY_POINT_GROUP,
    Provider,
    available_providers,
    get_provider,
    register_provider,
    registry,
)
from glacier.compilation.resolve import Placement, resolve

if TYPE_CHECKING:
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

#: Where each name lives. Loaded on first use: provider packages import the naming rules
#: (``glacier.compilation.naming``) when they define their storage classes, and that must not
#: pull in the compiler machinery (and pydantic, through the IR models) for a local run.
_EXPORTS = {
    "CompileInput": "base",
    "Compiler": "base",
    "StackBuild": "base",
    "CompilationWarning": "infrastructure",
    "CrossCloudTransfer": "infrastructure",
    "Infrastructure": "infrastructure",
    "ResolvedResource": "infrastructure",
    "Stack": "infrastructure",
    "TaskPlan": "infrastructure",
    "MultiCloudCompiler": "multicloud",
}


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        module = importlib.import_module(f"glacier.compilation.{_EXPORTS[name]}")
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
