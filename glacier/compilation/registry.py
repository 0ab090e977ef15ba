"""The provider plugin registry (entry-point group ``glacier.providers``).

Modelled on fsspec's ``registry.py``: an internal dict of loaded providers, exposed
read-only as :data:`registry` (a ``MappingProxyType``); the providers that ship in Glacier's
own distribution listed as lazy ``module:attr`` paths with the pip extra that installs their
SDKs; and any installed distribution can add a provider by declaring an entry point, with no
change to the core::

    [project.entry-points."glacier.providers"]
    mycloud = "glacier_mycloud:MyCloudProvider"

A provider is imported when it is first asked for. Everything the core wants from a cloud
goes through here: :func:`get_provider` by name, :func:`provider_for_url` by URL scheme, and
:func:`egress_price`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from functools import cache
from importlib.metadata import entry_points
from types import MappingProxyType
from typing import Any

from glacier.compilation.provider import Price, Provider
from glacier.errors import CompilationError, GlacierError, ProviderNotInstalledError

ENTRY_POINT_GROUP = "glacier.providers"

#: The providers of Glacier's own distribution: their import path and the pip extra with
#: their deploy-time SDKs. Also declared as entry points, and listed here because some
#: installs carry no such metadata (a function bundle vendors the packages as plain source).
#: The one place the core names them.
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
    _by_scheme.cache_clear()


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
        msg = f"provider {name!r} is not available: {module_name} has no {attr!r} ({exc}){hint}"
        raise ProviderNotInstalledError(msg) from exc
    provider = obj() if isinstance(obj, type) else obj
    if not isinstance(provider, Provider) or provider.name != name:
        msg = (
            f"provider {name!r} ({target}) does not implement glacier.compilation.Provider "
            f"under that name; found {provider!r}"
        )
        raise ProviderNotInstalledError(msg)
    return provider


def _target(name: str) -> tuple[str, str]:
    """(``module:attr``, pip extra) of provider ``name``: a built-in from its table, any other
    from its entry point; a ProviderNotInstalledError listing the known names otherwise."""
    if name in BUILTIN_PROVIDERS:
        return BUILTIN_PROVIDERS[name]
    target = _entry_point_targets().get(name, "")
    if not target:
        known = ", ".join(available_providers())
        msg = f"unknown provider {name!r}; known providers: {known}"
        raise ProviderNotInstalledError(msg)
    return target, f"glacier[{name}]"


def get_provider(name: str) -> Provider:
    """The provider called ``name``, imported on first use; ProviderNotInstalledError, with
    the pip command that fixes it, when its package is missing or broken."""
    if name in _registry:
        return _registry[name]
    _registry[name] = _load(name, *_target(name))
    _by_scheme.cache_clear()  # a provider that appeared since the index was built
    return _registry[name]


def installed_providers() -> list[Provider]:
    """Every available provider that loads (a missing optional package is skipped)."""
    found = []
    for name in available_providers():
        try:
            found.append(get_provider(name))
        except ProviderNotInstalledError:
            continue
    return found


def built_providers() -> list[str]:
    """The names of the installed providers that compile (not declarations only)."""
    return [p.name for p in installed_providers() if p.compiles]


@cache
def _by_scheme() -> dict[str, str]:
    return {s.lower(): p.name for p in installed_providers() for s in p.schemes}


def provider_for_url(url: str) -> Provider | None:
    """The provider whose object store ``url`` points at (by its scheme), or None for a
    local path."""
    if "://" not in url or url.startswith("file://"):
        return None
    name = _by_scheme().get(url.split("://", 1)[0].lower())
    return None if name is None else get_provider(name)


def egress_price(name: str) -> Price | None:
    """Internet egress out of provider ``name``, as that provider declares it; None when no
    provider of that name is available (its compiler was used without a provider package)."""
    if name not in available_providers():
        return None
    return get_provider(name).egress


def no_compiler_class(what: str, cloud: str, package: str, declarations: str) -> CompilationError:
    """The error of a compiler class whose provider ships declarations only
    (``XCompiler(...)``), naming the compilers that are built."""
    names = []
    for name in built_providers():
        try:
            compiler = get_provider(name).compiler()
        except GlacierError:
            continue
        cls = type(compiler)
        names.append(f"{cls.__module__.partition('.')[0]}.{cls.__name__}")
    return CompilationError(
        f"{what}: compiling to {cloud} is not built in this Glacier version ({package} "
        f"provides the {declarations} declarations, usable in local and remote runs); "
        f"compile with a built provider: {', '.join(names) or 'none installed'}"
    )


def check_storage_hints(name: str, hints: Mapping[str, object]) -> None:
    """Have provider ``name``'s package check storage hints given for it, such as
    ``{"storage_class": "GLACIER_IR"}``: its ``check_storage_hints`` raises a ValueError naming
    a bad one; ProviderNotInstalledError when the package is missing.

    The package (``glacier_gcp`` for ``glacier_gcp:GCPProvider``) is asked directly: a
    provider whose compiler is not built yet still knows its storage classes.
    """
    _hint_checker(name)(hints)


@cache
def _hint_checker(name: str) -> Callable[[Mapping[str, object]], None]:
    module_name = _target(name)[0].partition(":")[0]
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
    "built_providers",
    "check_storage_hints",
    "egress_price",
    "get_provider",
    "installed_providers",
    "no_compiler_class",
    "provider_for_url",
    "register_provider",
    "registry",
]
