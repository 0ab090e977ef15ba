"""The base every storage and compute resource shares, generic or provider-specific.

A resource is an immutable :class:`glacier.model.Model` (declared like a pydantic model, and
judged by pydantic whenever its arguments are not plainly valid) that validates itself on
creation. It crosses the core/provider boundary as a :class:`glacier.spec.ResourceSpec` (or its
:class:`glacier.ir.ResourceIR` twin): plain JSON data plus the
dotted path of the class that made it, so a provider package can rebuild its own objects
without the core importing it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Literal

from glacier.model import Model

if TYPE_CHECKING:
    from glacier.ir import ResourceIR
    from glacier.resource_error import ResourceError
    from glacier.spec import ResourceSpec

#: Providers the core knows by name. Third-party providers may add more (see glacier.providers).
KNOWN_PROVIDERS = ("aws", "gcp", "azure")


def __getattr__(name: str) -> Any:
    if name == "ResourceError":  # loaded on first use: it imports pydantic-core
        from glacier.resource_error import ResourceError

        return ResourceError
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class Resource(Model):
    """A storage or compute declaration: frozen, validated, provider-aware."""

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
        """This resource as provider-neutral IR (see glacier.ir)."""
        from glacier.ir import ResourceIR

        cls = type(self)
        return ResourceIR(
            type=self.kind,
            role=self.role,
            provider=self.provider,
            cls=f"{cls.__module__}:{cls.__qualname__}",
            config=self.model_dump(mode="json"),
        )

    def to_spec(self) -> ResourceSpec:
        """This resource as the pydantic IR model (see glacier.spec)."""
        from glacier.spec import ResourceSpec

        return ResourceSpec.from_ir(self.to_ir())

    def describe(self) -> str:
        """A short human label such as ``s3`` or ``serverless(1024MB)`` for graphs and plans."""
        return self.kind


__all__ = ["KNOWN_PROVIDERS", "Resource", "ResourceError"]
