"""Generic compute resources and ``Secret`` references.

``compute.local()``, ``compute.container(...)`` and ``compute.serverless(...)`` say how much a
task needs, not where it runs: a compiler maps them onto its provider (Lambda or Fargate on
AWS, ...), and a local run executes every task in process.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from glacier.checks import Checked, check_pattern, check_range, check_type, fail, normalize
from glacier.resources import Resource

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: Python runtimes as ``python3.<minor>``.
PYTHON_RUNTIME = r"python3\.\d{1,2}"


@dataclass(frozen=True)
class Secret(Checked):
    """A reference to a secret in the target's secret store; its value never leaves it."""

    secret: str

    def __post_init__(self) -> None:
        check_pattern(
            self,
            "secret",
            r"[A-Za-z0-9][A-Za-z0-9/_+=.@-]{0,127}",
            "a secret name of 1-128 letters, digits and /_+=.@- starting with a letter or digit",
        )

    @property
    def name(self) -> str:
        return self.secret

    def __repr__(self) -> str:
        return f"Secret({self.secret!r})"


EnvValue = str | Secret


def check_env(owner: object, field: str = "env") -> dict[str, EnvValue]:
    """``owner.<field>`` as a dict sorted by name, once every name is a valid environment
    variable name and every value a str or a :class:`Secret`."""
    env = getattr(owner, field)
    if not isinstance(env, Mapping):
        fail(owner, field, f"{field} must be a dict of name -> str or Secret, found {env!r}")
    for key, value in env.items():
        if not isinstance(key, str) or not _ENV_NAME.fullmatch(key):
            fail(owner, field, f"environment variable name {key!r} must match {_ENV_NAME.pattern}")
        if not isinstance(value, str | Secret):
            msg = f"{field}[{key!r}] must be a str or glacier.Secret, found {value!r}"
            fail(owner, field, msg)
    return dict(sorted(env.items()))


class ComputeResource(Resource):
    """Base of every compute resource."""

    role: ClassVar[Literal["storage", "compute", "resource"]] = "compute"

    def secrets(self) -> tuple[Secret, ...]:
        """The secrets this compute's environment references, sorted by name."""
        env: Mapping[str, Any] = getattr(self, "env", {}) or {}
        found = {v.secret: v for v in env.values() if isinstance(v, Secret)}
        return tuple(found[k] for k in sorted(found))


@dataclass(frozen=True, kw_only=True)
class Local(ComputeResource):
    """Run in the current process (and, in the cloud, as the provider's serverless function)."""

    kind: ClassVar[str] = "local"
    workers: int = 1

    def __post_init__(self) -> None:
        check_range(self, "workers", int, ge=1)

    def describe(self) -> str:
        return "local"


@dataclass(frozen=True, kw_only=True)
class Container(ComputeResource):
    """A container with the given resources."""

    kind: ClassVar[str] = "container"
    image: str | None = None
    cpu: float = 1.0
    memory: int = 2048  # MiB
    gpu: int = 0
    env: dict[str, EnvValue] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_type(self, "image", str, optional=True)
        check_range(self, "cpu", float, gt=0)
        check_range(self, "memory", int, gt=0)
        check_range(self, "gpu", int, ge=0)
        normalize(self, cpu=float(self.cpu), env=check_env(self))

    def describe(self) -> str:
        return f"container({self.cpu:g} vCPU, {self.memory} MB)"


@dataclass(frozen=True, kw_only=True)
class Serverless(ComputeResource):
    """A serverless function with the given memory and timeout."""

    kind: ClassVar[str] = "serverless"
    memory: int = 1024  # MiB
    timeout: int = 300  # seconds
    runtime: str = "python3.12"
    env: dict[str, EnvValue] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_range(self, "memory", int, gt=0)
        check_range(self, "timeout", int, gt=0)
        check_pattern(self, "runtime", PYTHON_RUNTIME, "a Python runtime such as 'python3.12'")
        normalize(self, env=check_env(self))

    def describe(self) -> str:
        return f"serverless({self.memory} MB, {self.timeout}s)"


def local(workers: int = 1) -> Local:
    """Run in process locally; the provider's default function in the cloud."""
    return Local(workers=workers)


def container(
    image: str | None = None,
    cpu: float = 1.0,
    memory: int = 2048,
    gpu: int = 0,
    env: dict[str, EnvValue] | None = None,
) -> Container:
    """A container task (ECS Fargate, Cloud Run job, Container Apps job)."""
    return Container(image=image, cpu=cpu, memory=memory, gpu=gpu, env=env or {})


def serverless(
    memory: int = 1024,
    timeout: int = 300,
    runtime: str = "python3.12",
    env: dict[str, EnvValue] | None = None,
) -> Serverless:
    """A serverless function task (Lambda, Cloud Functions gen2, Azure Functions)."""
    return Serverless(memory=memory, timeout=timeout, runtime=runtime, env=env or {})


__all__ = [
    "PYTHON_RUNTIME",
    "ComputeResource",
    "Container",
    "EnvValue",
    "Local",
    "Secret",
    "Serverless",
    "check_env",
    "container",
    "local",
    "serverless",
]
