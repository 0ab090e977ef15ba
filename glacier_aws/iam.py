"""IAM policy documents as AWS stores them: the stack's ``policies.json``, measured and fitted.

Every role's statements (:mod:`glacier_aws.policy`) become policy documents, written as
JSON next to ``__main__.py`` with a ``"${name}"`` placeholder wherever the program fills in
an ARN at deploy time (``glacier_identity.role``). The compiler measures each document the way
IAM counts it, without whitespace, with every placeholder at the longest ARN it can stand
for: the longest partition and region, and each name at its longest (an auto-named
resource's name plus Pulumi's suffix, a pinned bucket name at S3's 63 (stack config may
change it), a log group's prefix plus the 26 characters AWS
appends, a task definition family as the stack names it). A role whose statements fit 10,240
characters keeps one inline policy; past that, statements fill it and then, in order,
customer-managed policies of 6,144 characters attached to the role (at most 10, IAM's
default quota), a statement larger than the room left split there by its resources (the
parts grant what it did). A role that would need more is a CompilationError naming the task
(or the state machine) and what to change.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from glacier.compilation.codegen import json_text
from glacier.compilation.infrastructure import CompilationWarning
from glacier.compilation.limits import fill
from glacier.compilation.naming import AUTONAME_SUFFIX, kebab
from glacier.errors import CompilationError
from glacier_aws.naming import S3_BUCKET
from glacier_aws.policy import Statement, execution_statements, machine_statements
from glacier_aws.provider import LIMITS

if TYPE_CHECKING:
    from glacier_aws.deploy import TaskDeploy
    from glacier_aws.model import AWSModel

#: All of one role's inline policies together, in characters without whitespace.
INLINE_CHARS = LIMITS["identity_inline_policy_chars"]
#: One customer-managed policy.
MANAGED_CHARS = LIMITS["identity_managed_policy_chars"]
#: Managed policies attached to one role: the default quota (adjustable up to 20).
MANAGED_PER_ROLE = LIMITS["identity_managed_policies"]
#: IAM roles in one account, by default (adjustable up to 5,000).
ROLES_PER_ACCOUNT = 1_000
#: Customer-managed policies in one account, by default (adjustable up to 5,000).
MANAGED_PER_ACCOUNT = 1_500
#: Warn in the plan once the stack alone takes this share of an account's default quotas.
QUOTA_WARNING_SHARE = 0.1

#: The stack's policy documents, next to ``__main__.py``.
POLICIES_FILE = "policies.json"
VERSION = "2012-10-17"
#: ``{"Version":"2012-10-17","Statement":[]}``: what a document adds to its statements.
_DOCUMENT = len(json.dumps({"Version": VERSION, "Statement": []}, separators=(",", ":")))
#: The longest fixed parts of an ARN: partition (aws-us-gov), region (us-isof-south-1, the
#: longest code today), account.
_PARTITION, _REGION, _ACCOUNT = "aws-us-gov", "us-isof-south-1", "123456789012"
#: Characters AWS appends to a ``name_prefix`` (log groups).
_PREFIX_SUFFIX = 26
#: A task definition family is its task's logical name, "-" and the stack's 8-character hash
#: (``glacier_compute.fargate_task``).
_FAMILY_SUFFIX = 9
_LOG_PREFIX = "/glacier/"
PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_.]*)\}")


@dataclass(frozen=True)
class RolePolicies:
    """One role's policies as deployed: its inline policy's statements, the statements of
    each managed policy attached to it, and their worst-case size in characters."""

    role: str
    inline: tuple[Statement, ...]
    managed: tuple[tuple[Statement, ...], ...] = ()
    chars: int = 0

    def documents(self) -> dict[str, Any]:
        """This role's entry in ``policies.json``."""
        found: dict[str, Any] = {"inline": _document(self.inline)}
        if self.managed:
            found["managed"] = [_document(chunk) for chunk in self.managed]
        return found

    def statements(self) -> Iterable[Statement]:
        yield from self.inline
        for chunk in self.managed:
            yield from chunk


def _document(statements: Sequence[Statement]) -> dict[str, Any]:
    return {"Version": VERSION, "Statement": [s.document() for s in statements]}


def _arn(service: str, resource: str, *, regional: bool = True) -> int:
    """The length of an ARN of ``service`` ending in ``resource``, at the longest partition
    and region."""
    region = _REGION if regional else ""
    return len(f"arn:{_PARTITION}:{service}:{region}:{_ACCOUNT}:{resource}")


def longest_arn_prefix(service: str, resource_type: str) -> int:
    """``arn:<partition>:<service>:<region>:<account>:<resource_type>`` at its longest: what an
    ARN adds to a resource's name (``function:`` for Lambda)."""
    return _arn(service, resource_type)


def _pinned(name: str) -> int:
    """The longest a pinned bucket name can be as deployed: any S3 name, since stack config
    (``glacier:bucketNames``) may change it per stack."""
    return S3_BUCKET.max_len


def longest_values(model: AWSModel) -> dict[str, int]:
    """The longest text each placeholder of ``model``'s policies can be filled with."""
    found: dict[str, int] = {}
    for b in model.buckets:
        name = _pinned(b.explicit_name) if b.explicit_name else len(b.logical) + AUTONAME_SUFFIX
        found[f"{b.var}.arn"] = len(f"arn:{_PARTITION}:s3:::") + name
    for secret, var in model.secrets.items():  # Secrets Manager adds "-" and 6 characters
        found[f"{var}.arn"] = _arn("secretsmanager", f"secret:{secret}-xxxxxx")
    for d in model.tasks:
        group = len(f"{_LOG_PREFIX}{d.logical}-") + _PREFIX_SUFFIX
        found[f"{d.var}_logs.arn"] = _arn("logs", "log-group:") + group
        role = len(d.logical) + AUTONAME_SUFFIX
        found[f"{d.var}_role.arn"] = _arn("iam", "role/", regional=False) + role
        if d.packaging == "fargate":
            exec_role = len(d.logical) + len("-exec") + AUTONAME_SUFFIX
            found[f"{d.var}_exec_role.arn"] = _arn("iam", "role/", regional=False) + exec_role
            family = len(d.logical) + _FAMILY_SUFFIX
            found[f"{d.var}_task.family"] = _arn("ecs", "task-definition/:*") + family
    for arch in sorted({d.architecture for d in model.containers}):
        repository = len(kebab(model.spec.name, arch)) + AUTONAME_SUFFIX
        found[f"image_{arch}.repository.arn"] = _arn("ecr", "repository/") + repository
    cluster = len(model.spec.name) + AUTONAME_SUFFIX  # auto-named after the pipeline
    found["cluster.arn"] = _arn("ecs", "cluster/") + cluster
    found["cluster.tasks"] = _arn("ecs", "task//*") + cluster
    found["cluster.sync_rule"] = _arn("events", "rule/StepFunctionsGetEventsForECSTaskRule")
    return found


#: ``json.dumps(..., separators=...)`` builds an encoder per call; this one is built once.
_compact = json.JSONEncoder(separators=(",", ":")).encode


def _size(value: Any, longest: Mapping[str, int]) -> int:
    """``value`` as IAM counts it: JSON without whitespace, placeholders at their longest."""
    text = _compact(value)
    return len(text) + sum(longest[t] - len(t) - 3 for t in PLACEHOLDER.findall(text))


def _split(
    statement: Statement, room: int, longest: Mapping[str, int]
) -> tuple[Statement, Statement] | None:
    """``statement`` as a first part taking at most ``room`` characters (and a comma) and
    the rest: its resources split between them, or with one resource its list condition
    (``s3:prefix``). The same access, as the union of the parts; None when no part fits."""
    condition = statement.condition or {}
    lists = [(t, k) for t, values in condition.items() for k in values if _is_list(values[k])]
    if len(statement.resources) > 1:
        items: list[Any] = list(statement.resources)
        texts = [r.text() for r in statement.resources]

        def holding(part: list[Any]) -> Statement:
            return replace(statement, resources=tuple(part))

    elif lists:
        test, key = lists[0]
        items = texts = list(condition[test][key])  # type: ignore[arg-type]

        def holding(part: list[Any]) -> Statement:
            return replace(statement, condition={**condition, test: {**condition[test], key: part}})

    else:
        return None
    budget = room - _size(holding([]).document(), longest)  # items and their commas
    taken = 0
    for text in texts:
        budget -= _size(text, longest) + 1
        if budget < 0:
            break
        taken += 1
    if taken == 0 or taken == len(items):
        return None
    rest = holding(items[taken:])
    return holding(items[:taken]), replace(rest, sid=_next_part(statement.sid))


def _is_list(value: object) -> bool:
    return isinstance(value, list | tuple)


_PART = re.compile(r"(.*)Part(\d+)")


def _next_part(sid: str) -> str:
    """The Sid of the next part of a split statement (``ReadInputs``, ``ReadInputsPart2``,
    ``ReadInputsPart3``...): IAM wants each Sid unique within a policy, and the parts are
    measured with the Sid they keep."""
    found = _PART.fullmatch(sid)
    return f"{found[1]}Part{int(found[2]) + 1}" if found else f"{sid}Part2"


def fit_role(
    role: str, statements: Sequence[Statement], longest: Mapping[str, int], owner: str, fix: str
) -> RolePolicies:
    """``statements`` in one inline policy when they fit, else spread over managed ones."""
    whole = _size({"Version": VERSION, "Statement": [s.document() for s in statements]}, longest)
    if whole <= INLINE_CHARS:  # most roles: measured in one go
        return RolePolicies(role, tuple(statements), (), whole)
    # Each statement takes its size and a comma; a document its own overhead, less a comma.
    capacities = [INLINE_CHARS - _DOCUMENT + 1] + [MANAGED_CHARS - _DOCUMENT + 1] * MANAGED_PER_ROLE
    chunks = fill(
        statements,
        lambda s: _size(s.document(), longest) + 1,
        lambda s, room: _split(s, room, longest),
        capacities,
    )
    if chunks is None:
        most = INLINE_CHARS + MANAGED_CHARS * MANAGED_PER_ROLE
        msg = (
            f"{owner}: its IAM role {role!r} needs about {whole:,} characters of policy (ARNs at "
            f"their longest), more than a role can hold ({most:,}: {INLINE_CHARS:,} inline and "
            f"{MANAGED_PER_ROLE} managed policies of {MANAGED_CHARS:,}); {fix}"
        )
        raise CompilationError(msg)
    grouped = [tuple(chunk) for chunk in chunks]
    chars = sum(_size(_document(chunk), longest) for chunk in grouped)
    return RolePolicies(role, grouped[0], tuple(grouped[1:]), chars)


_TASK_FIX = (
    "give the task fewer inputs and outputs (split it into several tasks), or store its "
    "datasets in fewer buckets"
)


def fit_policies(model: AWSModel) -> AWSModel:
    """``model`` with every role's policies fitted, and a warning when the stack alone takes
    a noticeable share of the account's IAM quotas."""
    longest = longest_values(model)
    tasks = [_fit_task(model, d, longest) for d in model.tasks]
    machine = None
    if model.tasks:
        containers = [d for d in tasks if d.packaging == "fargate"]
        machine = fit_role(
            f"{model.spec.name}-states",
            machine_statements(containers),
            longest,
            f"pipeline {model.spec.name!r} (its state machine)",
            "run fewer container tasks in one pipeline (split it, or run some tasks on Lambda)",
        )
    found = replace(model, tasks=tuple(tasks), machine_role=machine)
    return replace(found, warnings=(*model.warnings, *quota_warnings(found)))


def _fit_task(model: AWSModel, d: TaskDeploy, longest: Mapping[str, int]) -> TaskDeploy:
    owner = f"task {d.task.name!r}"
    role = fit_role(d.logical, d.statements, longest, owner, _TASK_FIX)
    if d.packaging != "fargate":
        return replace(d, role=role)
    repository = None if d.image else f"image_{d.architecture}.repository"
    execution = execution_statements(d, model.secrets, repository)
    fix = "give the task fewer secrets"
    exec_role = fit_role(f"{d.logical}-exec", execution, longest, f"{owner} (execution)", fix)
    return replace(d, role=role, exec_role=exec_role)


def roles(model: AWSModel) -> list[RolePolicies]:
    """Every role whose policies ``policies.json`` holds, in the program's order."""
    found: list[RolePolicies] = []
    for d in model.tasks:
        found.extend(r for r in (d.role, d.exec_role) if r is not None)
    if model.machine_role is not None:
        found.append(model.machine_role)
    return found


def policies_json(model: AWSModel) -> str:
    """``policies.json``: each role's documents by its logical name, as IAM stores them."""
    return json_text({r.role: r.documents() for r in roles(model)}) + "\n"


def quota_warnings(model: AWSModel) -> list[CompilationWarning]:
    """A warning when the stack's roles or managed policies use more than a tenth of an
    account's default quota: with other stacks beside it, ``pulumi up`` may meet the limit."""
    counted = roles(model)
    count = len(counted) + (1 if model.schedule else 0)
    managed = sum(len(r.managed) for r in counted)
    found = []
    if count > ROLES_PER_ACCOUNT * QUOTA_WARNING_SHARE:
        found.append(
            CompilationWarning(
                f"pipeline {model.spec.name!r}",
                f"the stack creates {count:,} IAM roles (one per task, two per container task, "
                f"one for the state machine); an AWS account holds {ROLES_PER_ACCOUNT:,} roles by "
                "default, shared by every stack in it: check the IAM quota 'Roles per account' "
                "(adjustable up to 5,000) before pulumi up, or split the pipeline",
            )
        )
    if managed > MANAGED_PER_ACCOUNT * QUOTA_WARNING_SHARE:
        found.append(
            CompilationWarning(
                f"pipeline {model.spec.name!r}",
                f"the stack creates {managed:,} customer-managed IAM policies (roles whose grants "
                f"exceed {INLINE_CHARS:,} characters inline); an AWS account holds "
                f"{MANAGED_PER_ACCOUNT:,} by default: check the IAM quota 'Customer managed "
                "policies per account' before pulumi up",
            )
        )
    return found


__all__ = [
    "INLINE_CHARS",
    "MANAGED_CHARS",
    "MANAGED_PER_ROLE",
    "POLICIES_FILE",
    "ROLES_PER_ACCOUNT",
    "RolePolicies",
    "fit_policies",
    "fit_role",
    "longest_arn_prefix",
    "longest_values",
    "policies_json",
    "quota_warnings",
    "roles",
]
