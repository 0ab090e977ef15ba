"""Azure-specific compute: ``AzureFunction(...)`` and ``ContainerApp(...)`` pin a task to that
service.

Local runs accept them (they describe where a task runs in the cloud, not how it runs on a
laptop). The Azure compiler deploys an ``AzureFunction`` task as a Function App on the Flex
Consumption plan and a ``ContainerApp`` task as a Container Apps job; compiling them for
another provider only is a CompilationError naming the task.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Literal

from glacier.checks import check_one_of, check_range, check_type, normalize
from glacier.compute import ComputeResource, EnvValue, check_env

#: Flex Consumption plan instance memory sizes (MiB).
FUNCTION_MEMORY_SIZES = (512, 2048, 4096)


@dataclass(frozen=True, kw_only=True)
class AzureFunction(ComputeResource):
    """An Azure Functions function (Flex Consumption plan instance memory sizes)."""

    kind: ClassVar[str] = "serverless"
    provider: ClassVar[str | None] = "azure"

    memory: Literal[512, 2048, 4096] = 2048  # MiB
    timeout: int = 120  # seconds: a Logic App waits at most 120 s for a function
    env: dict[str, EnvValue] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_one_of(self, "memory", FUNCTION_MEMORY_SIZES)
        check_range(self, "timeout", int, gt=0)
        normalize(self, env=check_env(self))

    def describe(self) -> str:
        return f"azure function({self.memory} MB, {self.timeout}s)"


@dataclass(frozen=True, kw_only=True)
class ContainerApp(ComputeResource):
    """An Azure Container Apps job."""

    kind: ClassVar[str] = "container"
    provider: ClassVar[str | None] = "azure"

    cpu: float = 1.0
    memory: int = 2048  # MiB
    image: str | None = None
    timeout: int = 1800  # seconds
    env: dict[str, EnvValue] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_range(self, "cpu", float, gt=0, le=4)
        check_range(self, "memory", int, gt=0)
        check_type(self, "image", str, optional=True)
        check_range(self, "timeout", int, gt=0)
        normalize(self, cpu=float(self.cpu), env=check_env(self))

    def describe(self) -> str:
        return f"container app({self.cpu:g} vCPU, {self.memory} MB)"


__all__ = ["FUNCTION_MEMORY_SIZES", "AzureFunction", "ContainerApp"]
