"""GCP-specific compute: ``CloudFunction(...)`` and ``CloudRun(...)`` pin a task to that service.

Local runs accept them (they describe where a task runs in the cloud, not how it runs on a
laptop). Compiling to GCP is not built in this Glacier version: a pipeline using them needs a
compiler with a ``gcp`` provider, and otherwise is a CompilationError naming the task.
"""

from __future__ import annotations

from typing import ClassVar

from glacier.compute import ComputeResource, EnvValue, _check_env
from glacier.model import Field, field_validator


class CloudFunction(ComputeResource):
    """A Cloud Functions (2nd gen) function."""

    kind: ClassVar[str] = "serverless"
    provider: ClassVar[str | None] = "gcp"

    memory: int = Field(default=1024, ge=128, le=32768, description="MiB")
    timeout: int = Field(default=540, ge=1, le=3600, description="seconds")
    runtime: str = Field(default="python312", pattern=r"^python3\d{1,2}$")
    env: dict[str, EnvValue] = Field(default_factory=dict)

    _env = field_validator("env")(classmethod(lambda cls, v: _check_env(v)))

    def describe(self) -> str:
        return f"cloud function({self.memory} MB, {self.timeout}s)"


class CloudRun(ComputeResource):
    """A Cloud Run job."""

    kind: ClassVar[str] = "container"
    provider: ClassVar[str | None] = "gcp"

    cpu: float = Field(default=1.0, gt=0, le=8)
    memory: int = Field(default=2048, ge=512, le=32768, description="MiB")
    image: str | None = None
    timeout: int = Field(default=3600, gt=0, description="seconds")
    env: dict[str, EnvValue] = Field(default_factory=dict)

    _env = field_validator("env")(classmethod(lambda cls, v: _check_env(v)))

    def describe(self) -> str:
        return f"cloud run({self.cpu:g} vCPU, {self.memory} MB)"


__all__ = ["CloudFunction", "CloudRun"]
