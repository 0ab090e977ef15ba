"""The base every storage and compute resource shares, generic or provider-specific.

A resource is an immutable pydantic model that validates itself on creation. It crosses the
core/provider boundary as a :class:`glacier.spec.ResourceSpec`: plain JSON data plus the
dotted path of the class that made it, so a provider package can rebuild its own objects
without the core importing it.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from glacier.errors import DefinitionError
from glacier.spec import ResourceSpec

#: Providers the core knows by name. Third-party providers may add more (see glacier.providers).
KNOWN_PROVIDERS = ("aws", "gcp", "azure")


class ResourceError(DefinitionError, ValidationError):
    """A resource declared with bad arguments.

    Both a :class:`~glacier.errors.DefinitionError` (``except GlacierError`` catches it, and the
    command line prints it as one line) and the pydantic ``ValidationError`` it replaces
    (``.errors()`` lists each field's problem).
    """

    fields: tuple[str, ...] = ()

    def __str__(self) -> str:
        problems = []
        for error in self.errors():
            where = ".".join(str(part) for part in error["loc"]) or "arguments"
            text = error["msg"]
            if error["type"] == "value_error":  # Glacier's own validators say what they found
                text = text.removeprefix("Value error, ")
            else:
                text += f", found {error.get('input')!r}"
            if error["type"] == "extra_forbidden" and self.fields:
                text += f"; expected one of: {', '.join(self.fields)}"
            problems.append(f"{where}: {text}")
        return f"{self.title}: {'; '.join(problems)}"


def raise_resource_error(model: type[BaseModel], exc: ValidationError) -> None:
    """Re-raise pydantic's error for ``model`` as a :class:`ResourceError`."""
    error = ResourceError.from_exception_data(exc.title, exc.errors())  # type: ignore[arg-type]
    error.fields = tuple(model.model_fields)
    raise error from None


class Resource(BaseModel):
    """A storage or compute declaration: frozen, validated, provider-aware."""

    # defer_build: a resource class builds its validator when first instantiated, so importing
    # glacier (which defines a dozen resource classes) stays cheap (ARCHITECTURE.md, Import time).
    model_config = ConfigDict(
        frozen=True, extra="forbid", arbitrary_types_allowed=False, defer_build=True
    )

    #: What kind of resource this is, e.g. "object_storage", "serverless".
    kind: ClassVar[str] = "resource"
    #: "storage" or "compute": the role a resource plays in a pipeline.
    role: ClassVar[Literal["storage", "compute", "resource"]] = "resource"
    #: The provider a specific resource is bound to; None means generic.
    provider: ClassVar[str | None] = None

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise_resource_error(type(self), exc)

    def get_type(self) -> str:
        """The resource kind, e.g. ``"object_storage"`` or ``"serverless"``."""
        return self.kind

    def get_provider(self) -> str | None:
        """The provider this resource is bound to, or None for a generic resource."""
        return self.provider

    def supports_provider(self, name: str) -> bool:
        """Whether this resource can be placed on provider ``name``."""
        return self.provider is None or self.provider == name

    def to_spec(self) -> ResourceSpec:
        """This resource as provider-neutral IR."""
        cls = type(self)
        # Validated, not ``from_checked``: pydantic's model_construct cannot take a field
        # named ``cls``. Building this one small validator costs ~1 ms once per process.
        return ResourceSpec(
            type=self.kind,
            role=self.role,
            provider=self.provider,
            cls=f"{cls.__module__}:{cls.__qualname__}",
            config=self.model_dump(mode="json"),
        )

    def describe(self) -> str:
        """A short human label such as ``s3`` or ``serverless(1024MB)`` for graphs and plans."""
        return self.kind

    def __repr_args__(self) -> Any:
        # Only the fields a user set: keeps reprs and error messages short.
        return [(k, v) for k, v in super().__repr_args__() if k in self.model_fields_set]
