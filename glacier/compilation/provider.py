"""The provider protocol: everything the core asks of a cloud, in one place.

The core never names a cloud. What one cloud knows (its URL schemes, storage class and storage
options, its name rules, limits and prices, its compiler, the package and entry point its functions run
from) lives in its provider package, behind :class:`Provider`. A package plugs in by
exposing an object that satisfies it under the ``glacier.providers`` entry-point group
(:mod:`glacier.compilation.registry`); each built-in provider package's ``provider``
module is a worked example.

Everything crossing this boundary is plain data (strings, numbers, mappings, the IR's
dataclasses), so a provider needs nothing from the core beyond the names imported here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from glacier.errors import ProviderNotInstalledError

if TYPE_CHECKING:
    from glacier.compilation.naming import NameRule
    from glacier.ir import ResourceIR


@dataclass(frozen=True)
class Price:
    """A list price, with the date it was read and where: prices change, the source says
    where to check the figure again."""

    usd: float
    unit: str
    as_of: str
    source: str

    def __post_init__(self) -> None:
        if not isinstance(self.usd, int | float) or self.usd < 0:
            msg = f"Price: usd must be a number >= 0, found {self.usd!r}"
            raise ValueError(msg)


@runtime_checkable
class Provider(Protocol):
    """What a provider package implements (see ``docs/decisions/075-provider-protocol.md``).

    Attributes are plain data; the methods take and return plain data too.
    """

    #: The provider's key: resources' ``provider``, stack folders, ``--target``.
    name: str
    #: The importable package the provider ships; function bundles vendor it.
    package: str
    #: ``module:function`` a deployed task's function calls (the bundle's entry point).
    runtime: str
    #: URL schemes of its object store; the first is the one Glacier writes.
    schemes: tuple[str, ...]
    #: Its object-storage resource class as users import it (``"glacier_aws.storage.S3"``):
    #: what an error names when a URL of its schemes is given where a local folder is expected.
    storage_class: str
    #: Internet egress out of this cloud, per GB (cross-provider transfer warnings). A
    #: provider may also declare ``inter_region``, a Price per GB between two of its regions
    #: (read by :mod:`glacier.compilation.prices`; without it such transfers show no price).
    egress: Price
    #: Optional: ``reaches``, the providers whose data its tasks can read and write in a
    #: multi-cloud compile (it renders :class:`glacier.compilation.links.RemoteAccess` records
    #: as federated identities); a link to any other provider is a CompilationError.
    #: Its naming rules, by the kind of name (``"bucket"``, ``"function"``...).
    name_rules: Mapping[str, NameRule]
    #: Its hard limits the compiler respects, by name (``"function_memory_mb"``...).
    limits: Mapping[str, int]
    #: False for a package that declares resources but has no compiler yet.
    compiles: bool

    def compiler(self, region: str | None = None) -> Any:
        """A compiler for ``region``, or without one configured from the environment
        (``XCompiler.from_env()``): a ``glacier.compilation.base.Compiler``, typed loosely so
        that resources can look providers up (LocalFS names the right storage class for a URL)
        without the core's resource layer depending on the compiler layer. ``glacier compile
        --region`` passes ``region``; a provider without regions may omit the parameter."""
        ...

    def location(self, storage: ResourceIR, key: str) -> str:
        """The URL of object ``key`` in the bucket or container ``storage`` declares."""
        ...

    def storage_options(
        self, storage: ResourceIR | None, given: Mapping[str, str]
    ) -> dict[str, str]:
        """The options Polars' cloud IO needs for ``storage``: the user's ``given`` ones plus
        what the resource itself says (an account, a region)."""
        ...

    def filesystem(self, options: Mapping[str, str]) -> Any | None:
        """An fsspec filesystem when ``options`` need one (an endpoint Polars' native client
        cannot reach), else None: Polars reads and writes the URL itself."""
        ...


def no_compiler(name: str, package: str, built: list[str]) -> ProviderNotInstalledError:
    """The error of ``compiler()`` on a provider that ships declarations only.

    Installing anything cannot help (the package is installed), so the message says so and
    names the providers that do compile.
    """
    return ProviderNotInstalledError(
        f"provider {name!r} is not built yet in this Glacier version ({package} declares "
        f"its storage and compute, usable in local and remote runs, but has no compiler); use "
        f"a built provider: {', '.join(built) or 'none installed'}"
    )


__all__ = ["Price", "Provider", "no_compiler"]
