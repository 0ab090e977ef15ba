"""Glacier's AWS provider: S3 storage, Lambda and Fargate compute, and the AWS compiler.

Importing this package never imports pulumi or boto3: the same package runs inside Lambda
(``glacier_aws.runtime``), where neither is needed. The compiler generates Pulumi program
*text*; only the generated program imports pulumi.

``AWSCompiler`` is imported on first use. The package is imported by every pipeline that
gives ``ObjectStorage`` an ``aws_storage_class`` hint (the hint is checked here) and by every
deployed function; the compiler is three quarters of its import time (about 15 ms of 20 ms
of CPU), which only ``glacier compile`` and ``glacier plan`` need.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from glacier_aws.compute import Fargate, Lambda
from glacier_aws.hints import check_storage_hints
from glacier_aws.provider import AWSProvider
from glacier_aws.storage import S3

if TYPE_CHECKING:
    from glacier_aws.compiler import AWSCompiler


def __getattr__(name: str) -> Any:
    if name == "AWSCompiler":
        from glacier_aws.compiler import AWSCompiler

        return AWSCompiler
    raise AttributeError(f"module 'glacier_aws' has no attribute {name!r}")


__all__ = ["S3", "AWSCompiler", "AWSProvider", "Fargate", "Lambda", "check_storage_hints"]
