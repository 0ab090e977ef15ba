"""What Glacier's core knows of AWS: the object registered as the ``aws`` provider.

Everything here is declared data (see :class:`glacier.compilation.provider.Provider`); the
compiler itself is imported only when asked for.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from glacier.compilation.provider import Price
from glacier_aws.compute import LAMBDA_MAX_MEMORY, LAMBDA_MAX_TIMEOUT
from glacier_aws.naming import NAME_RULES

if TYPE_CHECKING:
    from glacier.ir import ResourceIR
    from glacier_aws.compiler import AWSCompiler

#: Data transfer out of AWS to the internet, first paid tier (up to 10 TB a month).
EGRESS = Price(
    0.09,
    "GB",
    as_of="2026-11",
    source="https://aws.amazon.com/ec2/pricing/on-demand/#Data_Transfer",
)

#: Data transfer between two AWS regions (us-east-1 to another US region), per GB.
INTER_REGION = Price(
    0.02,
    "GB",
    as_of="2026-11",
    source="https://aws.amazon.com/ec2/pricing/on-demand/#Data_Transfer_within_the_same_AWS_Region",
)

#: Hard limits the compiler holds tasks and definitions to.
LIMITS: Mapping[str, int] = MappingProxyType(
    {
        "function_memory_mb": LAMBDA_MAX_MEMORY,
        "function_timeout_seconds": LAMBDA_MAX_TIMEOUT,
        "function_environment_bytes": 4096,
        "orchestrator_definition_chars": 1_048_576,
        # IAM, in characters without whitespace: one role's inline policies together, one
        # customer-managed policy; and managed policies per role (the default quota).
        "identity_inline_policy_chars": 10_240,
        "identity_managed_policy_chars": 6_144,
        "identity_managed_policies": 10,
    }
)


class AWSProvider:
    """Glacier's AWS provider: S3, Lambda, ECS Fargate, Step Functions."""

    name = "aws"
    package = "glacier_aws"
    runtime = "glacier_aws.runtime:handler"
    schemes = ("s3", "s3a")
    storage_class = "glacier_aws.storage.S3"
    egress = EGRESS
    inter_region = INTER_REGION
    name_rules = MappingProxyType(NAME_RULES)
    limits = LIMITS
    compiles = True

    def compiler(self, region: str | None = None) -> AWSCompiler:
        """An AWSCompiler for ``region``, else configured from the environment (AWS_REGION...)."""
        from glacier_aws.compiler import AWSCompiler  # the compiler's model reads LIMITS here

        return AWSCompiler.from_env() if region is None else AWSCompiler(region=region)

    def location(self, storage: ResourceIR, key: str) -> str:
        """``s3://<bucket>/<key>``."""
        return f"s3://{storage.config['bucket']}/{key}"

    def storage_options(
        self, storage: ResourceIR | None, given: Mapping[str, str]
    ) -> dict[str, str]:
        """The user's options as given: credentials and region come from the environment."""
        return dict(given)

    def filesystem(self, options: Mapping[str, str]) -> Any | None:
        """None: Polars' native S3 client reaches every endpoint (moto, MinIO included)."""
        return None

    def __repr__(self) -> str:
        return "<AWSProvider>"


__all__ = ["EGRESS", "INTER_REGION", "LIMITS", "AWSProvider"]
