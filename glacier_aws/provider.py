"""The object registered under the ``glacier.providers`` entry point as ``aws``."""

from __future__ import annotations

from glacier_aws.compiler import AWSCompiler


class AWSProvider:
    """Glacier's AWS provider: S3, Lambda, ECS Fargate, Step Functions."""

    name = "aws"
    #: Internet data transfer out of AWS, first 10 TB/month tier.
    egress_cost_per_gb_usd = 0.09

    def compiler(self) -> AWSCompiler:
        """An AWSCompiler configured from the environment (AWS_REGION...)."""
        return AWSCompiler.from_env()

    def __repr__(self) -> str:
        return "<AWSProvider>"


__all__ = ["AWSProvider"]
