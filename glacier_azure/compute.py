"""Azure-specific compute: ``AzureFunction(...)`` and ``ContainerApp(...)`` pin a task to that
service.

Local runs accept them (they describe where a task runs in the cloud, not how it runs on a
laptop). Compiling to Azure is not built in this Glacier version: a pipeline using them needs
a compiler with an ``azure`` provider, and otherwise is a CompilationError naming the task.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from glacier.compute import ComputeResource, EnvValue, _check_env
from glacier.model import Field, field_validator


class AzureFunction(ComputeResource):
    """An Azure Functions function (Flex Consumption plan instance memory sizes)."""

    kind: ClassVar[str] = "serverless"
    provider: ClassVar[str | None] = "azure"

    memory: Literal[512, 2048, 4096] = Field(default=2048, description="MiB")
    timeout: int = Field(default=600, gt=0, description="seconds")
    env: dict[str, EnvValue] = Field(default_factory=dict)

    _env = field_validator("env")(classmethod(lambda cls, v: _check_env(v)))

    def describe(self) -> str:
        return f"azure function({self.memory} MB, {self.timeout}s)"


class ContainerApp(ComputeResource):
    """An Azure Container Apps job."""

    kind: ClassVar[str] = "container"
    provider: ClassVar[str | None] = "azure"

    cpu: float = Field(default=1.0, gt=0, le=4)
    memory: int = Field(default=2048, gt=0, description="MiB")
    image: str | None = None
    timeout: int = Field(default=1800, gt=0, description="seconds")
    env: dict[str, EnvValue] = Field(default_factory=dict)

    _env = field_validator("env")(classmethod(lambda cls, v: _check_env(v)))

    def describe(self) -> str:
        return f"container app({self.cpu:g} vCPU, {self.memory} MB)"


__all__ = ["AzureFunction", "ContainerApp"]
