"""Least-privilege IAM statements: the data flow's grants, in IAM's terms.

The data grants come from :mod:`glacier.compilation.grants` (a task reads exactly its inputs'
objects, writes and reads back exactly its outputs', lists only their keys); this module
renders them as S3 statements on keys, not buckets (ephemeral data only under ``runs/*/``),
and adds what only AWS needs: a task writes its own log group and reads its own secrets.
``"*"`` appears only for X-Ray and ECR's token call, which AWS does not let you scope.
Statements reference generated variables (``Arn``) and are rendered twice: as code by the
program generator and as text by ``glacier plan``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from glacier.compilation.grants import Grant, Mode, task_grants

if TYPE_CHECKING:
    from glacier_aws.model import TaskDeploy

ArnKind = Literal["objects", "bucket", "arn", "log_streams", "secret", "any", "literal"]

#: A private ECR image: ``<account>.dkr.ecr.<region>.amazonaws.com[.cn]/<repo>[:tag|@digest]``.
ECR_IMAGE = re.compile(
    r"(?P<account>\d{12})\.dkr\.ecr(?:-fips)?\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?P<cn>\.cn)?"
    r"/(?P<repo>[a-z0-9]+(?:[._/-][a-z0-9]+)*)(?::[\w][\w.-]{0,127})?(?:@sha256:[0-9a-f]{64})?"
)


def ecr_repository_arn(image: str) -> str | None:
    """The repository ARN of a private ECR image reference (None for other registries)."""
    found = ECR_IMAGE.fullmatch(image)
    if found is None:
        return None
    region = found["region"]
    partition = "aws-cn" if found["cn"] else "aws-us-gov" if region.startswith("us-gov-") else "aws"
    return f"arn:{partition}:ecr:{region}:{found['account']}:repository/{found['repo']}"


@dataclass(frozen=True)
class Arn:
    """An ARN the generated program computes from a variable (or ``"*"``)."""

    kind: ArnKind
    var: str = ""
    key: str = ""

    def describe(self) -> str:
        if self.kind == "objects":
            return f"arn:aws:s3:::<{self.var}>/{self.key}"
        if self.kind == "bucket":
            return f"arn:aws:s3:::<{self.var}>"
        if self.kind == "log_streams":
            return f"<{self.var} log group ARN>:*"
        if self.kind in ("secret", "arn"):
            return f"<{self.var} ARN>"
        if self.kind == "literal":
            return self.var
        return "*"


@dataclass(frozen=True)
class Statement:
    """One Allow statement."""

    sid: str
    actions: tuple[str, ...]
    resources: tuple[Arn, ...]
    condition: Mapping[str, Any] | None = None

    def describe(self) -> str:
        where = ", ".join(r.describe() for r in self.resources)
        text = f"{', '.join(self.actions)} on {where}"
        if self.condition:
            prefixes = self.condition["StringLike"]["s3:prefix"]
            text += f" (prefixes {', '.join(prefixes)})"
        return text


def _data_statements(grants: Sequence[Grant], mode: Mode) -> list[Statement]:
    """The ``mode`` (read or write) grants as one object statement, plus one ListBucket
    statement per bucket for the list grants of the same datasets."""
    objects = [g for g in grants if g.mode == mode]
    if not objects:
        return []
    datasets = {g.dataset for g in objects}
    listing: dict[str, list[str]] = {}
    for g in grants:
        if g.mode == "list" and g.dataset in datasets:
            listing.setdefault(g.container, []).extend([g.pattern, f"{g.pattern}/*"])
    if mode == "write":
        # GetObject: the runtime reads each written object back to count its rows (Polars'
        # native S3 writes report none), and Delta reads its log; Delta also deletes files.
        delete = ("s3:DeleteObject",) if any(g.folder for g in objects) else ()
        actions = ("s3:PutObject", "s3:AbortMultipartUpload", "s3:GetObject", *delete)
        sid = "WriteOutputs"
    else:
        actions, sid = ("s3:GetObject",), "ReadInputs"
    found = [
        Statement(sid, actions, tuple(Arn("objects", g.container, g.pattern) for g in objects))
    ]
    for i, bucket in enumerate(sorted(listing)):
        condition = {"StringLike": {"s3:prefix": sorted(set(listing[bucket]))}}
        found.append(
            Statement(
                f"{'List' + sid}{i or ''}", ("s3:ListBucket",), (Arn("bucket", bucket),), condition
            )
        )
    return found


def task_statements(
    d: TaskDeploy, formats: Mapping[str, str], secrets: Mapping[str, str]
) -> tuple[Statement, ...]:
    """The task role's statements: its data grants (see :mod:`glacier.compilation.grants`),
    and for Lambda its logs, secrets and tracing.

    ``formats`` maps every dataset name to its format (built once per pipeline: looking
    datasets up in the spec per task made compiling a wide pipeline quadratic).
    """
    grants = task_grants(d.task.input_datasets, d.task.outputs, d.locations, formats)
    found = _data_statements(grants, "read") + _data_statements(grants, "write")
    if d.packaging == "lambda":
        found.append(
            Statement(
                "WriteLogs",
                ("logs:CreateLogStream", "logs:PutLogEvents"),
                (Arn("log_streams", f"{d.var}_logs"),),
            )
        )
        found.extend(secret_statements(d, secrets))
        found.append(
            Statement(
                "Tracing", ("xray:PutTelemetryRecords", "xray:PutTraceSegments"), (Arn("any"),)
            )
        )
    return tuple(found)


def secret_statements(d: TaskDeploy, secrets: Mapping[str, str]) -> list[Statement]:
    names = sorted(set(d.secrets.values()))
    if not names:
        return []
    return [
        Statement(
            "ReadSecrets",
            ("secretsmanager:GetSecretValue",),
            tuple(Arn("secret", secrets[n]) for n in names),
        )
    ]


def execution_statements(
    d: TaskDeploy, secrets: Mapping[str, str], repository: str | None
) -> tuple[Statement, ...]:
    """A Fargate task's execution role: pull its image, write its logs, fetch its secrets.

    ``repository`` is the variable of the stack's own ECR repository; an ``image=`` in a
    private ECR repository is pulled with the same actions on that repository's ARN.
    """
    found = [
        Statement(
            "WriteLogs",
            ("logs:CreateLogStream", "logs:PutLogEvents"),
            (Arn("log_streams", f"{d.var}_logs"),),
        )
    ]
    found.extend(secret_statements(d, secrets))
    own = ecr_repository_arn(d.image) if d.image else None
    pull_from = Arn("arn", repository) if repository else Arn("literal", own) if own else None
    if pull_from is not None:
        found.append(Statement("PullToken", ("ecr:GetAuthorizationToken",), (Arn("any"),)))
        pulls = (
            "ecr:BatchCheckLayerAvailability",
            "ecr:BatchGetImage",
            "ecr:GetDownloadUrlForLayer",
        )
        found.append(Statement("PullImage", pulls, (pull_from,)))
    return tuple(found)


__all__ = [
    "Arn",
    "Statement",
    "ecr_repository_arn",
    "execution_statements",
    "secret_statements",
    "task_statements",
]
