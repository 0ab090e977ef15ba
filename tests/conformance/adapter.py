"""What a provider adapter tells the conformance suite: neutral facts about a generated stack.

The suite's tests never name a cloud. Each provider supplies one adapter (a module under
``conformance/providers/``) that compiles a pipeline for its cloud, runs the generated program
under Pulumi's mocks with the provider's real SDK, and translates what the program created
into the facts below. Adapters read generated output (the written files, the resources the
mocks recorded, the orchestrator's definition), never the compiler's internals, so they keep
working while the compiler is refactored.

Key patterns use ``*`` for "any characters" (IAM's and GCS conditions' sense); a location
recorded with a per-run part (``runs/{run_id}/x.parquet``) is reported as ``runs/*/x.parquet``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from glacier.compilation import Compiler

#: Grant modes the suite understands. An adapter reports anything else (a wildcard action,
#: an unknown permission on a storage container) as its own mode string, and the suite fails.
READ, WRITE, LIST = "read", "write", "list"


@dataclass(frozen=True)
class Location:
    """Where a dataset lives: a storage container (bucket) and a key pattern inside it."""

    container: str
    key: str


@dataclass(frozen=True)
class Grant:
    """One storage permission of an identity.

    ``key`` is a pattern: a dataset's key, ``key/*`` (a folder: delta tables), ``key*`` (a
    prefix condition), ``*`` (everything). ``read``: get the objects it matches; ``write``:
    create, overwrite or delete them (and read back what was written); ``list``: list the
    key names it matches. ``container`` ``"*"`` means every container.
    """

    container: str
    key: str
    mode: str


@dataclass(frozen=True)
class Identity:
    """A principal the stack creates: the tasks that run as it, and what it may touch."""

    name: str
    tasks: frozenset[str]
    grants: frozenset[Grant]
    secrets: frozenset[str]  # names of the secrets it may read


@dataclass(frozen=True)
class StorageFacts:
    """How one storage container the stack creates is locked down.

    ``None`` means the provider cannot be configured otherwise (its platform guarantees the
    property); the adapter must say why in ``platform_guarantees``.
    """

    container: str
    public_access_blocked: bool
    uniform_access: bool  # no per-object ACLs: access is decided by identity policies only
    encrypted_at_rest: bool | None
    tls_only: bool | None


@dataclass(frozen=True)
class LimitFact:
    """One measured size against the provider's hard limit (``limit`` is a slug)."""

    limit: str
    subject: str
    measured: int
    maximum: int


@dataclass(frozen=True)
class Bundle:
    """The function bundle: the folder deployed with the code, and what the cloud imports.

    ``entry_points``: ``module`` or ``module:callable`` strings the cloud runs (a handler, a
    container's ``python -m`` module). ``pipeline_ref``: ``module:attr`` of the pipeline.
    ``requirements``: distribution names (normalised) installed with the bundle or provided
    by the platform's runtime.
    """

    root: Path
    entry_points: frozenset[str]
    pipeline_ref: str
    requirements: frozenset[str]


class Deployed(Protocol):
    """A generated stack after its program ran under the mocks."""

    def storage(self) -> list[StorageFacts]:
        """Every storage container the stack creates."""
        ...

    def identities(self) -> list[Identity]:
        """Every identity the stack creates, with the tasks that run as it."""
        ...

    def locations(self) -> dict[str, dict[str, Location]]:
        """Per task: dataset -> the location the task is told to read or write."""
        ...

    def order(self) -> list[tuple[str, frozenset[str]]]:
        """Per occurrence of a task in the orchestrator's definition (read back from it): the
        tasks that have finished, on every successful path, before it starts."""
        ...

    def task_env(self) -> dict[str, dict[str, str]]:
        """Per task: the plain (non-secret) environment values the user gave, as deployed."""
        ...

    def limits(self) -> list[LimitFact]:
        """Every measured size, one fact per limited thing (a role, a function...)."""
        ...

    def bundle(self) -> Bundle: ...


class ProviderAdapter(Protocol):
    """One provider's side of the conformance suite (see docs/decisions/080)."""

    #: The stack's name in ``Infrastructure.stacks`` and its folder under ``infra.write``.
    name: str
    #: Limit slugs ``Deployed.limits`` measures (one test each, per pipeline size).
    limits: tuple[str, ...]
    #: Limits that only apply when the stack uses that kind of resource (may have no facts).
    optional_limits: frozenset[str]
    #: StorageFacts field -> why the platform guarantees it (the adapter reports ``None``).
    platform_guarantees: Mapping[str, str]

    def compiler(self) -> Compiler:
        """The provider's compiler with test defaults (region...)."""
        ...

    def deploy(self, stack_dir: Path) -> Deployed:
        """Run ``stack_dir``'s program under Pulumi's mocks with the real SDK."""
        ...

    def expressions(self, stack_dir: Path) -> list[str]:
        """Every expression the orchestrator evaluates in the generated definition (paths,
        intrinsic functions, templates), in document order: user text must never add one."""
        ...

    def known_gap(self, check: str, case: str) -> str | None:
        """The reason (naming the issue) when ``check`` is known to fail for ``case`` today;
        the suite marks that parametrization ``xfail(strict=True)`` so it flips when fixed."""
        ...
