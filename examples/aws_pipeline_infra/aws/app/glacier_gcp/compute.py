"""GCP-specific compute: ``CloudFunction(...)`` and ``CloudRun(...)`` pin a task to that service.

Local runs accept them (they describe where a task runs in the cloud, not how it runs on a
laptop). The GCP compiler deploys a ``CloudFunction`` task as a 2nd gen function and a
``CloudRun`` task as a Cloud Run job; compiling them for another provider only is a
CompilationError naming the task.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from glacier.checks import check_pattern, check_range, check_type, normalize
from glacier.compute import ComputeResource, EnvValue, check_env


@dataclass(frozen=True, kw_only=True)
class CloudFunction(ComputeResource):
    """A Cloud Functions (2nd gen) function."""

    kind: ClassVar[str] = "serverless"
    provider: ClassVar[str | None] = "gcp"

    memory: int = 1024  # MiB
    timeout: int = 540  # seconds
    runtime: str = "python312"
    env: dict[str, EnvValue] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_range(self, "memory", int, ge=128, le=32768)
        check_range(self, "timeout", int, ge=1, le=3600)
        check_pattern(self, "runtime", r"python3\d{1,2}", "a Python runtime such as 'python312'")
        normalize(self, env=check_env(self))

    def describe(self) -> str:
        return f"cloud function({self.memory} MB, {self.timeout}s)"


@dataclass(frozen=True, kw_only=True)
class CloudRun(ComputeResource):
    """A Cloud Run job."""

    kind: ClassVar[str] = "container"
    provider: ClassVar[str | None] = "gcp"

    cpu: float = 1.0
    memory: int = 2048  # MiB
    image: str | None = None
    timeout: int = 3600  # seconds
    env: dict[str, EnvValue] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_range(self, "cpu", float, gt=0, le=8)
        check_range(self, "memory", int, ge=512, le=32768)
        check_type(self, "image", str, optional=True)
        check_range(self, "timeout", int, gt=0)
        normalize(self, cpu=float(self.cpu), env=check_env(self))

    def describe(self) -> str:
        return f"cloud run({self.cpu:g} vCPU, {self.memory} MB)"


__all__ = ["CloudFunction", "CloudRun"]
