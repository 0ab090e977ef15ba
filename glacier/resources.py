"""The base every storage and compute resource shares, generic or provider-specific.

A resource is a frozen dataclass that checks its own arguments when it is created (its
``__post_init__`` calls the small checks of :mod:`glacier.checks`) and raises
:class:`~glacier.errors.ResourceError` for bad ones. It crosses the core/provider boundary as
a :class:`glacier.ir.ResourceIR`: its kind, provider, the dotted path of its class and every
field value as JSON data (defaults included), so compilers read ``config["memory"]`` without
knowing the class's defaults, and without the core importing a provider package.

A provider package declares its own resources the same way::

    @dataclass(frozen=True)
    class Bucket(StorageResource):
        kind: ClassVar[str] = "object_storage"
        provider: ClassVar[str | None] = "mycloud"

        name: str
        _: KW_ONLY
        prefix: str = ""

        def __post_init__(self) -> None:
            check_pattern(self, "name", r"[a-z0-9-]{3,63}", "3-63 lowercase letters, digits or '-'")
            check_type(self, "prefix", str)
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar, Literal

from glacier.checks import Checked
from glacier.errors import ResourceError
from glacier.ir import ResourceIR


def as_json(value: Any) -> Any:
    """A field value as JSON data: dataclasses (a ``Secret``) as dicts of their fields,
    tuples as lists; what ``ResourceIR.config`` holds and reads back from JSON unchanged."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: as_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {k: as_json(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [as_json(v) for v in value]
    return value


class Resource(Checked):
    """A storage or compute declaration: a frozen, self-checking, provider-aware dataclass."""

    #: What kind of resource this is, e.g. "object_storage", "serverless".
    kind: ClassVar[str] = "resource"
    #: "storage" or "compute": the role a resource plays in a pipeline.
    role: ClassVar[Literal["storage", "compute", "resource"]] = "resource"
    #: The provider a specific resource is bound to; None means generic.
    provider: ClassVar[str | None] = None

    def get_type(self) -> str:
        """The resource kind, e.g. ``"object_storage"`` or ``"serverless"``."""
        return self.kind

    def get_provider(self) -> str | None:
        """The provider this resource is bound to, or None for a generic resource."""
        return self.provider

    def supports_provider(self, name: str) -> bool:
        """Whether this resource can be placed on provider ``name``."""
        return self.provider is None or self.provider == name

    def to_ir(self) -> ResourceIR:
        """This resource as provider-neutral IR: every field, defaults included, as JSON."""
        cls = type(self)
        return ResourceIR(
            type=self.kind,
            role=self.role,
            provider=self.provider,
            cls=f"{cls.__module__}:{cls.__qualname__}",
            config=as_json(self),
        )

    def describe(self) -> str:
        """A short label for graphs and plans, such as ``serverless(1024 MB, 300s)``."""
        return self.kind


__all__ = ["Resource", "ResourceError", "as_json"]
