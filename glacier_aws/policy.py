"""Least-privilege IAM statements: the data flow's grants, in IAM's terms.

The data grants come from :mod:`glacier.compilation.grants` (a task reads exactly its inputs'
objects, writes and reads back exactly its outputs', lists only their keys); this module
renders them as S3 statements on keys, not buckets (ephemeral data only under ``runs/*/``),
and adds what only AWS needs: a task writes its own log group, reads its own secrets and
uses its datasets' KMS keys only through S3; the state machine runs only its own container
tasks. ``"*"`` appears only for X-Ray, ECR's token call and Step Functions' log delivery,
which AWS does not let you scope. Statements reference generated variables (``Arn``): the
compiler writes them to ``policies.json`` with a ``"${...}"`` placeholder per variable
(:mod:`glacier_aws.iam`, which also measures them), and ``glacier plan`` describes them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from glacier.compilation.grants import Grant, Mode, task_grants

if TYPE_CHECKING:
    from glacier_aws.deploy import TaskDeploy

ArnKind = Literal[
    "objects", "bucket", "arn", "log_streams", "secret", "any", "literal", "family",
    "cluster_tasks", "sync_rule",
]  # fmt: skip

#: A KMS key ARN or alias ARN: ``arn:<partition>:kms:<region>:<account>:key/<id>|alias/<name>``.
KMS_KEY_ARN = re.compile(
    r"arn:(?:aws|aws-cn|aws-us-gov|aws-iso|aws-iso-[bef]|aws-eusc):kms:[a-z]{2}(?:-[a-z]+)+-\d:\d{12}:"
    r"(?:key/(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})"
    r"|alias/[A-Za-z0-9/_-]{1,250})"
)

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


def kms_key_region(arn: str) -> str:
    """The region of a KMS key or alias ARN (S3 encrypts only with a key in its region)."""
    return arn.split(":")[3]


#: What each kind of ARN's placeholder ends with: ``"${<var>.<attribute>}"``.
_ATTRIBUTE = {"family": "family", "cluster_tasks": "tasks", "sync_rule": "sync_rule"}


@dataclass(frozen=True)
class Arn:
    """An ARN the generated program computes from a variable (or ``"*"``, or literal text).

    ``objects``: ``<var>``'s bucket ARN, ``/`` and ``key`` (a key or key pattern);
    ``log_streams``: every stream of ``<var>``'s log group; ``family``: every revision of
    the task definition ``<var>``; ``cluster_tasks``: every task running on the cluster
    ``<var>``; ``sync_rule``: the EventBridge rule ``runTask.sync`` uses in the cluster's
    account; ``bucket``, ``secret``, ``arn``: ``<var>``'s own ARN.
    """

    kind: ArnKind
    var: str = ""
    key: str = ""

    @property
    def token(self) -> str | None:
        """The name of the value the program fills in for this ARN (None: literal text)."""
        if self.kind in ("any", "literal"):
            return None
        return f"{self.var}.{_ATTRIBUTE.get(self.kind, 'arn')}"

    def text(self) -> str:
        """The ARN as ``policies.json`` holds it: ``"${<token>}"`` and what follows it."""
        if self.kind == "any":
            return "*"
        if self.kind == "literal":
            return self.var
        filled = "${" + str(self.token) + "}"
        if self.kind == "objects":
            return f"{filled}/{self.key}"
        return f"{filled}:*" if self.kind == "log_streams" else filled

    def describe(self) -> str:
        if self.kind == "objects":
            return f"arn:aws:s3:::<{self.var}>/{self.key}"
        if self.kind == "bucket":
            return f"arn:aws:s3:::<{self.var}>"
        if self.kind == "log_streams":
            return f"<{self.var} log group ARN>:*"
        if self.kind in ("secret", "arn"):
            return f"<{self.var} ARN>"
        if self.kind == "family":
            return f"<{self.var} task definition family ARN>:*"
        if self.kind == "cluster_tasks":
            return f"<tasks on {self.var}>"
        if self.kind == "sync_rule":
            return "<StepFunctionsGetEventsForECSTaskRule ARN>"
        if self.kind == "literal":
            return self.var
        return "*"


Condition = Mapping[str, Mapping[str, "str | Arn | Sequence[str]"]]


@dataclass(frozen=True)
class Statement:
    """One Allow statement; condition values may be ARNs the program fills in."""

    sid: str
    actions: tuple[str, ...]
    resources: tuple[Arn, ...]
    condition: Condition | None = None

    def arns(self) -> list[Arn]:
        """Every ARN in the statement: its resources, then its condition values."""
        found = list(self.resources)
        for tests in (self.condition or {}).values():
            found.extend(v for v in tests.values() if isinstance(v, Arn))
        return found

    def document(self) -> dict[str, Any]:
        """The statement as IAM stores it (``policies.json``), ARNs as placeholders."""
        found: dict[str, Any] = {
            "Sid": self.sid,
            "Effect": "Allow",
            "Action": list(self.actions),
            "Resource": [r.text() for r in self.resources],
        }
        if self.condition:
            found["Condition"] = {
                test: {k: _condition_value(v) for k, v in values.items()}
                for test, values in self.condition.items()
            }
        return found

    def describe(self) -> str:
        where = ", ".join(r.describe() for r in self.resources)
        text = f"{', '.join(self.actions)} on {where}"
        for values in (self.condition or {}).values():
            for key, value in values.items():
                if isinstance(value, list | tuple):
                    text += f" (prefixes {', '.join(value)})"
                else:
                    shown = value.describe() if isinstance(value, Arn) else value
                    text += f" ({key} {shown})"
        return text


def _condition_value(value: str | Arn | Sequence[str]) -> Any:
    if isinstance(value, Arn):
        return value.text()
    return value if isinstance(value, str) else list(value)


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
        # Once each: a task may take one dataset in two parameters.
        Statement(
            sid,
            actions,
            tuple(dict.fromkeys(Arn("objects", g.container, g.pattern) for g in objects)),
        )
    ]
    for i, bucket in enumerate(sorted(listing)):
        condition = {"StringLike": {"s3:prefix": sorted(set(listing[bucket]))}}
        found.append(
            Statement(
                f"{'List' + sid}{i or ''}", ("s3:ListBucket",), (Arn("bucket", bucket),), condition
            )
        )
    return found


#: The domain of each partition's service endpoints (``kms:ViaService`` names S3 by it).
_DOMAINS = {
    "aws": "amazonaws.com", "aws-cn": "amazonaws.com.cn", "aws-us-gov": "amazonaws.com",
    "aws-iso": "c2s.ic.gov", "aws-iso-b": "sc2s.sgov.gov", "aws-iso-e": "cloud.adc-e.uk",
    "aws-iso-f": "csp.hci.ic.gov", "aws-eusc": "amazonaws.eu",
}  # fmt: skip


def dataset_key_statements(grants: Sequence[Grant], keys: Mapping[str, str]) -> list[Statement]:
    """The KMS rights for the task's datasets that ``keys`` maps to a customer-managed key:
    ``kms:Decrypt`` to read, and ``kms:GenerateDataKey`` too to write (a multipart upload
    and the read-back decrypt); on that key only, and only through S3 in its region."""
    uses: dict[str, set[str]] = {}
    for g in grants:
        if g.mode != "list" and g.dataset in keys:
            uses.setdefault(keys[g.dataset], set()).add(g.mode)
    found = []
    for i, key in enumerate(sorted(uses)):
        write = "write" in uses[key]
        actions = ("kms:Decrypt", "kms:GenerateDataKey") if write else ("kms:Decrypt",)
        _, partition, _, region, account, resource = key.split(":", 5)
        tests: dict[str, dict[str, Any]] = {
            "StringEquals": {"kms:ViaService": f"s3.{region}.{_DOMAINS[partition]}"}
        }
        if resource.startswith("alias/"):  # IAM matches the key's ARN, never an alias's
            key = f"arn:{partition}:kms:{region}:{account}:key/*"
            tests["ForAnyValue:StringEquals"] = {"kms:ResourceAliases": resource}
        found.append(Statement(f"UseKey{i or ''}", actions, (Arn("literal", key),), tests))
    return found


def task_statements(
    d: TaskDeploy,
    formats: Mapping[str, str],
    secrets: Mapping[str, str],
    keys: Mapping[str, str] | None = None,
) -> tuple[Statement, ...]:
    """The task role's statements: its data grants (see :mod:`glacier.compilation.grants`)
    and their KMS keys, and for Lambda its logs, secrets and tracing.

    ``formats`` maps every dataset name to its format (built once per pipeline: looking
    datasets up in the spec per task made compiling a wide pipeline quadratic); ``keys``
    maps each dataset stored with ``S3(kms_key=...)`` to its key.
    """
    grants = task_grants(d.task.input_datasets, d.task.outputs, d.locations, formats)
    found = _data_statements(grants, "read") + _data_statements(grants, "write")
    found += dataset_key_statements(grants, keys or {})
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


def machine_statements(containers: Sequence[TaskDeploy]) -> tuple[Statement, ...]:
    """The state machine role's statements: run only these container tasks' definitions on
    its own cluster, track and stop only its cluster's tasks, pass only their roles and only
    to ECS, manage only the rule ``runTask.sync`` waits with; deliver logs and traces.

    It invokes no function through this role: each function's resource policy names the
    role instead (``glacier_compute.state_machine``), so this policy does not grow with the
    number of Lambda tasks. Log delivery comes first: CreateStateMachine checks it.
    """
    delivery = (
        "logs:CreateLogDelivery", "logs:DeleteLogDelivery", "logs:DescribeLogGroups",
        "logs:DescribeResourcePolicies", "logs:GetLogDelivery", "logs:ListLogDeliveries",
        "logs:PutResourcePolicy", "logs:UpdateLogDelivery",
    )  # fmt: skip
    tracing = (
        "xray:GetSamplingRules",
        "xray:GetSamplingTargets",
        "xray:PutTelemetryRecords",
        "xray:PutTraceSegments",
    )
    # Step Functions' log delivery and X-Ray APIs do not support resource-level permissions.
    found = [
        Statement("DeliverLogs", delivery, (Arn("any"),)),
        Statement("Tracing", tracing, (Arn("any"),)),
    ]
    if containers:
        families = tuple(Arn("family", f"{d.var}_task") for d in containers)
        on_cluster = {"ArnEquals": {"ecs:cluster": Arn("arn", "cluster")}}
        found.append(Statement("RunTasks", ("ecs:RunTask",), families, on_cluster))
        running = (Arn("cluster_tasks", "cluster"),)
        found.append(Statement("TrackTasks", ("ecs:DescribeTasks", "ecs:StopTask"), running))
        roles = tuple(
            Arn("arn", f"{d.var}{end}") for d in containers for end in ("_role", "_exec_role")
        )
        to_ecs = {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}
        found.append(Statement("PassTaskRoles", ("iam:PassRole",), roles, to_ecs))
        sync = ("events:DescribeRule", "events:PutRule", "events:PutTargets")
        found.append(Statement("SyncTasks", sync, (Arn("sync_rule", "cluster"),)))
    return tuple(found)


__all__ = [
    "KMS_KEY_ARN",
    "Arn",
    "Statement",
    "dataset_key_statements",
    "ecr_repository_arn",
    "execution_statements",
    "kms_key_region",
    "machine_statements",
    "secret_statements",
    "task_statements",
]
