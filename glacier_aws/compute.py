"""AWS-specific compute: ``Lambda(...)`` and ``Fargate(...)`` pin a task to that service.

Limits are checked on creation (Lambda: 128-10240 MB, at most 900 s; Fargate: the CPU and
memory pairs AWS accepts), so a task that cannot deploy fails where it is declared.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from glacier.compute import ComputeResource, EnvValue, _check_env
from glacier.model import Field, field_validator, model_validator

LAMBDA_MAX_TIMEOUT = 900
LAMBDA_MAX_MEMORY = 10240

#: vCPU -> allowed memory (MiB) for Fargate tasks.
FARGATE_SIZES: dict[float, tuple[int, ...]] = {
    0.25: (512, 1024, 2048),
    0.5: tuple(range(1024, 4097, 1024)),
    1.0: tuple(range(2048, 8193, 1024)),
    2.0: tuple(range(4096, 16385, 1024)),
    4.0: tuple(range(8192, 30721, 1024)),
    8.0: tuple(range(16384, 61441, 4096)),
    16.0: tuple(range(32768, 122881, 8192)),
}


def fargate_size(cpu: float, memory: int) -> tuple[float, int] | None:
    """The smallest Fargate (vCPU, MiB) pair with at least ``cpu`` and ``memory``, or None."""
    for size_cpu, memories in FARGATE_SIZES.items():
        if size_cpu >= cpu:
            for size_memory in memories:
                if size_memory >= memory:
                    return size_cpu, size_memory
    return None


class Lambda(ComputeResource):
    """An AWS Lambda function."""

    kind: ClassVar[str] = "serverless"
    provider: ClassVar[str | None] = "aws"

    memory: int = Field(default=1024, ge=128, le=LAMBDA_MAX_MEMORY, description="MiB")
    timeout: int = Field(default=300, ge=1, le=LAMBDA_MAX_TIMEOUT, description="seconds")
    layers: tuple[str, ...] = ()
    reserved_concurrency: int | None = Field(default=None, ge=0)
    architecture: Literal["arm64", "x86_64"] = "arm64"
    runtime: str = Field(default="python3.12", pattern=r"^python3\.\d{1,2}$")
    env: dict[str, EnvValue] = Field(default_factory=dict)

    _env = field_validator("env")(classmethod(lambda cls, v: _check_env(v)))

    @field_validator("layers")
    @classmethod
    def _layers(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for arn in v:
            if not arn.startswith("arn:aws") or ":layer:" not in arn:
                raise ValueError(f"layers must be Lambda layer version ARNs; found {arn!r}")
        return v

    def describe(self) -> str:
        return f"lambda({self.memory} MB, {self.timeout}s)"


class Fargate(ComputeResource):
    """An ECS Fargate task."""

    kind: ClassVar[str] = "container"
    provider: ClassVar[str | None] = "aws"

    cpu: float = 1.0
    memory: int = Field(default=2048, description="MiB")
    image: str | None = None
    architecture: Literal["x86_64", "arm64"] = "x86_64"
    ephemeral_storage: int = Field(default=21, ge=21, le=200, description="GiB")
    env: dict[str, EnvValue] = Field(default_factory=dict)

    _env = field_validator("env")(classmethod(lambda cls, v: _check_env(v)))

    @model_validator(mode="after")
    def _size(self) -> Fargate:
        allowed = FARGATE_SIZES.get(self.cpu)
        if allowed is None or self.memory not in allowed:
            fit = fargate_size(self.cpu, self.memory)
            hint = f"; the nearest valid size is cpu={fit[0]:g}, memory={fit[1]}" if fit else ""
            msg = (
                f"Fargate(cpu={self.cpu:g}, memory={self.memory}) is not a size Fargate offers: "
                f"cpu must be one of {', '.join(f'{c:g}' for c in FARGATE_SIZES)} with its "
                f"memory range{hint}"
            )
            raise ValueError(msg)
        return self

    def describe(self) -> str:
        return f"fargate({self.cpu:g} vCPU, {self.memory} MB)"


__all__ = [
    "FARGATE_SIZES",
    "LAMBDA_MAX_MEMORY",
    "LAMBDA_MAX_TIMEOUT",
    "Fargate",
    "Lambda",
    "fargate_size",
]
