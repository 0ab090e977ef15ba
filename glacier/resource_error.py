"""``ResourceError``: a resource declared with bad arguments.

Its own module because it subclasses pydantic's ``ValidationError``: importing this module
imports pydantic-core, which a run whose resources are all valid never needs
(``glacier.resources.ResourceError`` loads it on first use).
"""

from __future__ import annotations

from pydantic_core import ValidationError

from glacier.errors import DefinitionError


class ResourceError(DefinitionError, ValidationError):
    """A resource declared with bad arguments.

    Both a :class:`~glacier.errors.DefinitionError` (``except GlacierError`` catches it, and the
    command line prints it as one line) and a pydantic ``ValidationError`` (``.errors()`` lists
    each field's problem, in pydantic's words).
    """

    fields: tuple[str, ...] = ()

    def __str__(self) -> str:
        problems = []
        for error in self.errors():
            named = error.get("ctx", {}).get("class_name")
            where = ".".join(_part(part, named) for part in error["loc"]) or "arguments"
            text = error["msg"]
            if error["type"] == "value_error":  # Glacier's own validators say what they found
                text = text.removeprefix("Value error, ")
            elif error["type"] != "frozen_instance":
                text += f", found {error.get('input')!r}"
            if error["type"] == "extra_forbidden" and self.fields:
                text += f"; expected one of: {', '.join(self.fields)}"
            problems.append(f"{where}: {text}")
        return f"{self.title}: {'; '.join(problems)}"


def _part(part: str | int, class_name: str | None) -> str:
    """A location part as users name it: pydantic tags a union member by how it was checked
    (``is-instance[Secret]``, ``function-wrap[validate()]``); the member is ``Secret``."""
    text = str(part)
    if text.startswith("is-instance[") and text.endswith("]"):
        return text[len("is-instance[") : -1]
    if text.startswith("function-") and class_name:
        return class_name
    return text


__all__ = ["ResourceError"]
