"""Glacier's AWS provider: S3 storage, Lambda and Fargate compute, and the AWS compiler.

Importing this package never imports pulumi or boto3: the same package runs inside Lambda
(``glacier_aws.runtime``), where neither is needed. The compiler generates Pulumi program
*text*; only the generated program imports pulumi.
"""

from __future__ import annotations

from glacier_aws.compiler import AWSCompiler
from glacier_aws.compute import Fargate, Lambda
from glacier_aws.hints import check_storage_hints
from glacier_aws.provider import AWSProvider
from glacier_aws.storage import S3

__all__ = ["S3", "AWSCompiler", "AWSProvider", "Fargate", "Lambda", "check_storage_hints"]
