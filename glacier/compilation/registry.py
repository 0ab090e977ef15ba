"""The provider plugin registry (entry-point group ``glacier.providers``).

Modelled on fsspec's ``registry.py``: an internal dict of loaded providers, exposed
read-only as :data:`registry` (a ``MappingProxyType``); built-in providers listed as lazy
``module:attr`` paths with the extra that installs them; and any installed distribution can
add a provider by declaring an entry point, with no change to the core::

    [project.entry-points."glacier.providers"]
    mycloud = "glacier_mycloud:MyCloudProvider"

Importing a provider is deferred until it is asked for, so ``import glacier`` never pulls in
a cloud package.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Mapping
from importlib.metadata import entry_points
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from glacier.errors import CompilationError, ProviderNotInstalledError

if TYPE_CHECKING:
    from glacier.compilation.base import Compiler

ENTRY_POINT_GROUP = "glacier.providers"


@runtime_checkable
class Provider(Protocol):
    """What a provider package registers: its name, a compiler factory and its egress price."""

    name: str
    #: Rough internet egress price, used for cross-cloud transfer warnings.
    egress_cost_per_gb_usd: float

    def compiler(self) -> Compiler:
        """A compiler configured from the environment (``XCompiler.from_env()``)."""
        ...


#: Providers Glacier ships, as lazy import paths plus the pip extra that installs them.
BUILTIN_PROVIDERS: MappingProxyType[str, tuple[str, str]] = MappingProxyType(
    {
        "aws": ("glacier_aws:AWSProvider", "glacier[aws]"),
        "gcp": ("glacier_gcp:GCPProvider", "glacier[gcp]"),
        "azure": ("glacier_azure:AzureProvider", "glacier[azure]"),
    }
)

_registry: dict[str, Provider] = {}
#: Providers loaded so far, read-only. Use :func:`get_provider` to load one.
registry: MappingProxyType[str, Provider] = MappingProxyType(_registry)


def register_provider(name: str, provider: Provider | str, *, clobber: bool = False) -> None:
    """Add a provider object (or a lazy ``module:attr`` path) under ``name``."""
    if name in _registry and not clobber:
        msg = f"provider {name!r} is already registered; pass clobber=True to replace it"
        raise ValueError(msg)
    _registry[name] = _load(name, provider, "") if isinstance(provider, str) else provider


def _entry_point_targets() -> dict[str, str]:
    return {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}


def available_providers() -> list[str]:
    """Every provider name Glacier can try to load: built-ins, entry points, registered."""
    return sorted(set(BUILTIN_PROVIDERS) | set(_entry_point_targets()) | set(_registry))


def _load(name: str, target: str, extra: str) -> Provider:
    module_name, _, attr = target.partition(":")
    hint = f"; install it with `pip install {extra}`" if extra else ""
    try:
        obj: Any = importlib.import_module(module_name)
        for part in filter(None, attr.split(".")):
            obj = getattr(obj, part)
    except ImportError as exc:
        msg = f"provider {name!r} is not installed: importing {target} failed ({exc}){hint}"
        raise ProviderNotInstalledError(msg) from exc
    except AttributeError as exc:
        if BUILTIN_PROVIDERS.get(name, ("",))[0] == target:
            raise ProviderNotInstalledError(_not_built_message(name, module_name)) from exc
        msg = f"provider {name!r} is not available: {module_name} has no {attr!r} ({exc}){hint}"
        raise ProviderNotInstalledError(msg) from exc
    provider = obj() if isinstance(obj, type) else obj
    if not isinstance(provider, Provider):
        msg = f"provider {name!r} ({target}) does not implement glacier.compilation.Provider"
        raise ProviderNotInstalledError(msg)
    return provider


def _is_built(target: str) -> bool:
    module_name, _, attr = target.partition(":")
    try:
        return hasattr(importlib.import_module(module_name), attr)
    except ImportError:
        return False


def _not_built_message(name: str, module_name: str) -> str:
    """A built-in provider whose package ships only as a placeholder in this version.

    Installing the extra cannot help here (the package is already installed), so the
    message says so and names the providers that do work.
    """
    built = [n for n, (t, _) in BUILTIN_PROVIDERS.items() if n != name and _is_built(t)]
    return (
        f"provider {name!r} is not built yet in this Glacier version ({module_name} declares "
        f"its storage and compute, usable in local and remote runs, but has no compiler); use "
        f"a built provider: {', '.join(built) or 'none installed'}"
    )


def unbuilt_compiler(what: str, cloud: str, package: str, declarations: str) -> CompilationError:
    """The error of a compiler API.md names whose provider is not built in this version
    (``GCPCompiler(...)``, ``AzureCompiler(...)``)."""
    return CompilationError(
        f"{what}: compiling to {cloud} is not built in this Glacier version ({package} "
        f"provides the {declarations} declarations, usable in local and remote runs); "
        "compile with a built provider: glacier_aws.AWSCompiler"
    )


def get_provider(name: str) -> Provider:
    """The provider called ``name``, imported on first use.

    Raises ProviderNotInstalledError, with the pip command that fixes it, when the
    package is missing, and saying so when a built-in provider is not built yet (its
    package is only a placeholder in this version).
    """
    if name in _registry:
        return _registry[name]
    target, extra = BUILTIN_PROVIDERS.get(name, ("", ""))
    target = _entry_point_targets().get(name, target)
    if not target:
        known = ", ".join(available_providers())
        msg = f"unknown provider {name!r}; known providers: {known}"
        raise ProviderNotInstalledError(msg)
    _registry[name] = _load(name, target, extra or f"glacier[{name}]")
    return _registry[name]


def check_storage_hints(name: str, hints: Mapping[str, object]) -> None:
    """Have provider ``name``'s package check storage hints given for it, such as
    ``{"storage_class": "GLACIER_IR"}``: its ``check_storage_hints`` raises a ValueError naming
    a bad one.

    The package is the module of the provider's entry point (``glacier_gcp`` for
    ``glacier_gcp:GCPProvider``), asked directly: a provider whose compiler is not built yet
    still knows its storage classes. Raises ProviderNotInstalledError when it is missing.
    """
    _hint_checker(name)(hints)


@functools.cache
def _hint_checker(name: str) -> Callable[[Mapping[str, object]], None]:
    target = _entry_point_targets().get(name) or BUILTIN_PROVIDERS.get(name, ("", ""))[0]
    module_name = target.partition(":")[0]
    if not module_name:
        msg = f"unknown provider {name!r}; known providers: {', '.join(available_providers())}"
        raise ProviderNotInstalledError(msg)
    try:
        package = importlib.import_module(module_name)
    except ImportError as exc:
        msg = f"provider {name!r} is not installed: importing {module_name} failed ({exc})"
        raise ProviderNotInstalledError(msg) from exc
    check: Callable[[Mapping[str, object]], None] | None = getattr(
        package, "check_storage_hints", None
    )
    if check is None:
        msg = f"provider {name!r} ({module_name}) takes no storage hints; remove them"
        raise ValueError(msg)
    return check


__all__ = [
    "BUILTIN_PROVIDERS",
    "ENTRY_POINT_GROUP",
    "Provider",
    "available_providers",
    "check_storage_hints",
    "get_provider",
    "register_provider",
    "registry",
    "unbuilt_compiler",
]
