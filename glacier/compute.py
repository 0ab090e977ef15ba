"""Generic compute resources and ``Secret`` references.

``compute.local()``, ``compute.container(...)`` and ``compute.serverless(...)`` say how much a
task needs, not where it runs: a compiler maps them onto its provider (AWS: Lambda for local
and serverless, ECS Fargate for container), and a local run executes every task in process.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from glacier.model import Field, Model, field_validator
from glacier.resources import Resource

_ENV_NAME_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")


class Secret(Model):
    """A reference to a secret in the target's secret store; its value never leaves it."""

    secret: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9/_+=.@-]*$")

    def __init__(self, name: str, /) -> None:
        super().__init__(secret=name)

    @property
    def name(self) -> str:
        return self.secret

    def __repr__(self) -> str:
        return f"Secret({self.secret!r})"


EnvValue = str | Secret


def _check_env(env: dict[str, Any]) -> dict[str, Any]:
    for key, value in env.items():
        if not key or key[0].isdigit() or not set(key) <= _ENV_NAME_CHARS:
            msg = f"environment variable name {key!r} must match [A-Za-z_][A-Za-z0-9_]*"
            raise ValueError(msg)
        if not isinstance(value, str | Secret):
            msg = f"environment variable {key!r} must be a str or glacier.Secret, found {type(value).__name__}"
            raise ValueError(msg)
    return dict(sorted(env.items()))


class ComputeResource(Resource):
    """Base of every compute resource."""

    role: ClassVar[Literal["storage", "compute", "resource"]] = "compute"

    def secrets(self) -> tuple[Secret, ...]:
        """The secrets this compute's environment references, sorted by name."""
        env = getattr(self, "env", {}) or {}
        found = {v.secret: v for v in env.values() if isinstance(v, Secret)}
        return tuple(found[k] for k in sorted(found))


class Local(ComputeResource):
    """Run in the current process (and, in the cloud, as the provider's serverless function)."""

    kind: ClassVar[str] = "local"
    workers: int = Field(default=1, ge=1)

    def describe(self) -> str:
        return "local"


class Container(ComputeResource):
    """A container with the given resources."""

    kind: ClassVar[str] = "container"
    image: str | None = None
    cpu: float = Field(default=1.0, gt=0)
    memory: int = Field(default=2048, gt=0, description="MiB")
    gpu: int = Field(default=0, ge=0)
    env: dict[str, EnvValue] = Field(default_factory=dict)

    _env = field_validator("env")(classmethod(lambda cls, v: _check_env(v)))

    def describe(self) -> str:
        return f"container({self.cpu:g} vCPU, {self.memory} MB)"


class Serverless(ComputeResource):
    """A serverless function with the given memory and timeout."""

    kind: ClassVar[str] = "serverless"
    memory: int = Field(default=1024, gt=0, description="MiB")
    timeout: int = Field(default=300, gt=0, description="seconds")
    runtime: str = Field(default="python3.12", pattern=r"^python3\.\d{1,2}$")
    env: dict[str, EnvValue] = Field(default_factory=dict)

    _env = field_validator("env")(classmethod(lambda cls, v: _check_env(v)))

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
    "ComputeResource",
    "Container",
    "Local",
    "Secret",
    "Serverless",
    "container",
    "local",
    "serverless",
]
