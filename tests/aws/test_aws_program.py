"""The generated orders stack, executed under Pulumi's mocks with the real pulumi_aws SDK."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_compile import PIPELINES
from aws_mocks import ACCOUNT, STACK_HASH, Run, run_stack

from glacier.compilation import Infrastructure
from glacier.compilation.resolve import resolve
from glacier.loader import load_pipeline
from glacier_aws import AWSCompiler
from glacier_aws.deploy import lambda_env_bytes
from glacier_aws.model import ModelOptions, build_model

pytestmark = pytest.mark.slow

LOGS = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/glacier"
SECRET = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret"
FAMILY = f"orders-publish-{STACK_HASH}"  # the logical name and the stack's hash
DATA_BUCKETS = ["acme-orders-landing", "orders-by-customer", "orders-customers", "orders-report"]


def _all_states(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every state of a definition, those in Parallel branches included."""
    found: dict[str, dict[str, Any]] = {}
    for name, state in definition["States"].items():
        found[name] = state
        for branch in state.get("Branches", []):
            found.update(_all_states(branch))
    return found


def _statements(run: Run, role: str) -> list[tuple[str, list[str], list[str], object]]:
    return [
        (s["Sid"], s["Action"], s["Resource"], s.get("Condition"))
        for s in run.policy(role)["Statement"]
    ]


def test_every_bucket_is_private_encrypted_and_tls_only(orders_run: Run) -> None:
    buckets = {r.name for r in orders_run.of("aws:s3/bucket:Bucket")}
    assert buckets == {*DATA_BUCKETS, "orders-work", "orders-access-logs"}
    for name in buckets:
        block = orders_run.one(
            "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", name
        ).inputs
        assert all(
            block[k]
            for k in (
                "blockPublicAcls",
                "blockPublicPolicy",
                "ignorePublicAcls",
                "restrictPublicBuckets",
            )
        )
        owner = orders_run.one(
            "aws:s3/bucketOwnershipControls:BucketOwnershipControls", name
        ).inputs
        assert owner["rule"] == {"objectOwnership": "BucketOwnerEnforced"}
        sse = orders_run.one(
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            name,
        ).inputs
        assert sse["rules"] == [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]
        policy = json.loads(
            orders_run.one("aws:s3/bucketPolicy:BucketPolicy", name).inputs["policy"]
        )
        deny, *others = policy["Statement"]
        assert deny["Effect"] == "Deny" and deny["Condition"] == {
            "Bool": {"aws:SecureTransport": "false"}
        }
        # only the access-log bucket lets anyone else in: S3's log delivery, for these buckets
        assert [s["Sid"] for s in others] == (
            ["S3ServerAccessLogs"] if name == "orders-access-logs" else []
        )
    versioned = {r.name for r in orders_run.of("aws:s3/bucketVersioning:BucketVersioning")}
    assert versioned == set(DATA_BUCKETS)  # the intermediate bucket holds throwaway data


def test_every_created_bucket_logs_its_requests(orders_run: Run) -> None:
    """S3 server access logs of every bucket the stack owns go to the access-log bucket, under
    the bucket's name, and only S3's log delivery may write there, only for those buckets
    and only on behalf of this account (CKV_AWS_18)."""
    logged = {r.name: r.inputs for r in orders_run.of("aws:s3/bucketLogging:BucketLogging")}
    assert set(logged) == {*DATA_BUCKETS, "orders-work"}
    for name, inputs in logged.items():
        assert inputs["bucket"] == f"{name}-id"
        assert inputs["targetBucket"] == "orders-access-logs-id"
        assert inputs["targetPrefix"] == f"{name}/"
    policy = json.loads(
        orders_run.one("aws:s3/bucketPolicy:BucketPolicy", "orders-access-logs").inputs["policy"]
    )
    delivery = policy["Statement"][1]
    assert delivery["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert delivery["Action"] == "s3:PutObject"
    sources = delivery["Condition"]["ArnLike"]["aws:SourceArn"]
    assert sorted(sources) == sorted(
        f"arn:aws:s3:::{b}" if b == "acme-orders-landing" else f"arn:aws:s3:::{b}-1a2b3c4"
        for b in logged
    )
    assert delivery["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT}
    rules = orders_run.one(
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "orders-access-logs"
    ).inputs["rules"]
    assert [r["id"] for r in rules] == ["abort-incomplete-uploads", "expire-access-logs"]
    assert rules[1]["expiration"] == {"days": 30}  # as long as the task logs


def test_explicit_bucket_name_and_lifecycle_hints(orders_run: Run) -> None:
    assert (
        orders_run.one("aws:s3/bucket:Bucket", "acme-orders-landing").inputs["bucket"]
        == "acme-orders-landing"
    )
    rules = {
        r.name: r.inputs["rules"]
        for r in orders_run.of("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
    }
    by_customer = _rule(rules["orders-by-customer"], "dataset-by_customer")
    assert by_customer["filter"] == {"prefix": "by_customer.parquet"}
    assert by_customer["transitions"] == [{"days": 30, "storageClass": "STANDARD_IA"}]
    assert by_customer["expiration"] == {"days": 365}
    assert _rule(rules["orders-report"], "dataset-report")["transitions"] == [
        {"days": 0, "storageClass": "INTELLIGENT_TIERING"}
    ]
    expiry = _rule(rules["orders-work"], "expire-runs")
    assert expiry["filter"] == {"prefix": "runs/"} and expiry["expiration"] == {"days": 7}


def _rule(rules: list[dict[str, Any]], rule_id: str) -> dict[str, Any]:
    (found,) = [r for r in rules if r["id"] == rule_id]
    return found


def test_validate_role_reads_its_input_and_writes_its_output_only(orders_run: Run) -> None:
    assert _statements(orders_run, "orders-validate") == [
        (
            "ReadInputs",
            ["s3:GetObject"],
            ["arn:aws:s3:::acme-orders-landing/incoming/orders.parquet"],
            None,
        ),
        (
            "ListReadInputs",
            ["s3:ListBucket"],
            ["arn:aws:s3:::acme-orders-landing"],
            {"StringLike": {"s3:prefix": ["incoming/orders.parquet", "incoming/orders.parquet/*"]}},
        ),
        (
            "WriteOutputs",
            ["s3:PutObject", "s3:AbortMultipartUpload", "s3:GetObject"],
            ["arn:aws:s3:::orders-work-1a2b3c4/runs/*/valid.parquet"],
            None,
        ),
        (
            "WriteLogs",
            ["logs:CreateLogStream", "logs:PutLogEvents"],
            [f"{LOGS}/orders-validate-1a2b3c4:*"],
            None,
        ),
        ("Tracing", ["xray:PutTelemetryRecords", "xray:PutTraceSegments"], ["*"], None),
    ]


def test_enrich_role_reads_its_own_secret(orders_run: Run) -> None:
    statements = {
        sid: (actions, resources)
        for sid, actions, resources, _ in _statements(orders_run, "orders-enrich")
    }
    assert statements["ReadInputs"] == (
        ["s3:GetObject"],
        [
            "arn:aws:s3:::orders-work-1a2b3c4/runs/*/valid.parquet",
            "arn:aws:s3:::orders-customers-1a2b3c4/customers.csv",
        ],
    )
    assert statements["WriteOutputs"] == (
        ["s3:PutObject", "s3:AbortMultipartUpload", "s3:GetObject"],
        ["arn:aws:s3:::orders-by-customer-1a2b3c4/by_customer.parquet"],
    )
    assert statements["ReadSecrets"] == (
        ["secretsmanager:GetSecretValue"],
        [f"{SECRET}:orders/api-key-AbCdEf"],
    )


def test_fargate_roles_split_data_access_from_image_logs_and_secrets(orders_run: Run) -> None:
    task = {sid: (a, r) for sid, a, r, _ in _statements(orders_run, "orders-publish")}
    assert task["WriteOutputs"] == (
        ["s3:PutObject", "s3:AbortMultipartUpload", "s3:GetObject", "s3:DeleteObject"],
        ["arn:aws:s3:::orders-report-1a2b3c4/report.delta/*"],
    )
    assert "ReadSecrets" not in task and "WriteLogs" not in task
    execution = {sid: (a, r) for sid, a, r, _ in _statements(orders_run, "orders-publish-exec")}
    assert execution["ReadSecrets"] == (
        ["secretsmanager:GetSecretValue"],
        [f"{SECRET}:orders/token-AbCdEf"],
    )
    repository = f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/orders-x86-64-1a2b3c4"
    assert execution["PullImage"][1] == [repository]


def test_no_task_role_has_a_wildcard_action_or_unscoped_resource(orders_run: Run) -> None:
    allowed_star = {"Tracing", "PullToken", "DeliverLogs"}
    for role in orders_run.of("aws:iam/rolePolicy:RolePolicy"):
        for s in json.loads(role.inputs["policy"])["Statement"]:
            assert all("*" not in a for a in s["Action"]), (role.name, s)
            if "*" in s["Resource"]:
                assert s["Sid"] in allowed_star, (role.name, s)


def test_lambda_wiring(orders_run: Run) -> None:
    fn = orders_run.one("aws:lambda/function:Function", "orders-enrich").inputs
    assert fn["handler"] == "glacier_aws.runtime.handler"
    assert (fn["runtime"], fn["memorySize"], fn["timeout"], fn["architectures"]) == (
        "python3.12",
        4096,
        600,
        ["arm64"],
    )
    assert fn["role"] == f"arn:aws:iam::{ACCOUNT}:role/orders-enrich-1a2b3c4"
    assert fn["tracingConfig"] == {"mode": "Active"}
    assert fn["loggingConfig"]["logGroup"] == "/glacier/orders-enrich-1a2b3c4"
    env = fn["environment"]["variables"]
    assert json.loads(env["GLACIER_LOCATIONS"]) == {
        "by_customer": "s3://orders-by-customer-1a2b3c4/by_customer.parquet",
        "customers": "s3://orders-customers-1a2b3c4/customers.csv",
        "valid": "s3://orders-work-1a2b3c4/runs/{run_id}/valid.parquet",
    }
    assert env["GLACIER_TASK"] == "enrich" and env["GLACIER_MANIFEST"] == "manifest.json"
    assert env["GLACIER_SECRET_ARN_API_KEY"] == f"{SECRET}:orders/api-key-AbCdEf"
    bundle = orders_run.one("aws:s3/bucketObjectv2:BucketObjectv2", "orders-python312-arm64").inputs
    assert (fn["s3Bucket"], fn["s3Key"]) == (bundle["bucket"], bundle["key"])
    assert bundle["key"].startswith("artifacts/")


def test_fargate_wiring(orders_run: Run) -> None:
    definition = orders_run.one("aws:ecs/taskDefinition:TaskDefinition", "orders-publish").inputs
    assert (definition["cpu"], definition["memory"], definition["requiresCompatibilities"]) == (
        "2048",
        "8192",
        ["FARGATE"],
    )
    assert definition["taskRoleArn"].endswith("role/orders-publish-1a2b3c4")
    assert definition["executionRoleArn"].endswith("role/orders-publish-exec-1a2b3c4")
    (container,) = json.loads(definition["containerDefinitions"])
    assert container["command"] == ["python", "-m", "glacier_aws.runtime", "--task", "publish"]
    assert container["secrets"] == [{"name": "TOKEN", "valueFrom": f"{SECRET}:orders/token-AbCdEf"}]
    assert container["image"].endswith("@sha256:" + "0" * 64)
    logs = container["logConfiguration"]
    assert logs["logDriver"] == "awslogs"
    assert logs["options"]["awslogs-group"] == "/glacier/orders-publish-1a2b3c4"


def test_state_machine_runs_only_its_fargate_tasks_on_its_cluster(orders_run: Run) -> None:
    machine = orders_run.one("aws:sfn/stateMachine:StateMachine", "orders").inputs
    publish = _all_states(json.loads(machine["definition"]))["publish"]
    assert publish["Resource"] == "arn:aws:states:::ecs:runTask.sync"
    cluster = f"arn:aws:ecs:us-east-1:{ACCOUNT}:cluster/orders-1a2b3c4"
    params = publish["Parameters"]
    assert (params["LaunchType"], params["Cluster"]) == ("FARGATE", cluster)
    assert params["NetworkConfiguration"]["AwsvpcConfiguration"]["Subnets"] == [
        "subnet-a",
        "subnet-b",
    ]
    (override,) = params["Overrides"]["ContainerOverrides"]
    assert override["Environment"] == [{"Name": "GLACIER_RUN_ID", "Value.$": "$.run_id"}]
    found = {s["Sid"]: s for s in orders_run.policy("orders-states")["Statement"]}
    assert found["RunTasks"]["Resource"] == [
        f"arn:aws:ecs:us-east-1:{ACCOUNT}:task-definition/{FAMILY}:*"
    ]
    assert found["RunTasks"]["Condition"] == {"ArnEquals": {"ecs:cluster": cluster}}
    assert found["TrackTasks"]["Resource"] == [
        f"arn:aws:ecs:us-east-1:{ACCOUNT}:task/orders-1a2b3c4/*"
    ]
    roles = [f"arn:aws:iam::{ACCOUNT}:role/orders-publish{s}-1a2b3c4" for s in ("", "-exec")]
    assert found["PassTaskRoles"]["Resource"] == roles
    assert found["PassTaskRoles"]["Condition"] == {
        "StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}
    }
    assert found["SyncTasks"]["Resource"] == [
        f"arn:aws:events:us-east-1:{ACCOUNT}:rule/StepFunctionsGetEventsForECSTaskRule"
    ]


def test_state_machine_invokes_only_its_functions_and_is_scheduled(orders_run: Run) -> None:
    machine = orders_run.one("aws:sfn/stateMachine:StateMachine", "orders").inputs
    states = _all_states(json.loads(machine["definition"]))
    assert states["validate"]["Parameters"]["FunctionName"].endswith(
        "function:orders-validate-1a2b3c4"
    )
    assert states["publish"]["Parameters"]["TaskDefinition"].endswith(f"task-definition/{FAMILY}:1")
    assert machine["tracingConfiguration"] == {"enabled": True}
    # Each function's own resource policy names the machine's role, once: the role's
    # policies do not list (or grow with) the functions, and grant no Lambda action at all.
    role_arn = f"arn:aws:iam::{ACCOUNT}:role/orders-states-1a2b3c4"
    permissions = orders_run.of("aws:lambda/permission:Permission")
    assert sorted(p.name for p in permissions) == ["orders-enrich", "orders-validate"]
    for p in permissions:
        assert p.inputs["action"] == "lambda:InvokeFunction"
        assert p.inputs["principal"] == role_arn
        assert (
            p.inputs["function"] == f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{p.name}-1a2b3c4"
        )
        assert "qualifier" not in p.inputs  # the unqualified function the definition names
    actions = [a for _, a, _, _ in _statements(orders_run, "orders-states")]
    assert not [a for found in actions for a in found if a.startswith("lambda:")]
    waits = orders_run.waits_for("aws:sfn/stateMachine:StateMachine", "orders")
    assert {("aws:lambda/permission:Permission", p.name) for p in permissions} <= waits
    rule = orders_run.one("aws:cloudwatch/eventRule:EventRule", "orders").inputs
    assert rule["scheduleExpression"] == "cron(0 2 * * ? *)"
    target = orders_run.one("aws:cloudwatch/eventTarget:EventTarget", "orders").inputs
    assert target["arn"] == f"arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:orders-1a2b3c4"
    start = {sid: (a, r) for sid, a, r, _ in _statements(orders_run, "orders-schedule")}
    assert start == {"StartRun": (["states:StartExecution"], [target["arn"]])}


def test_stack_outputs(orders_run: Run) -> None:
    assert orders_run.exports["buckets"]["orders"] == "acme-orders-landing"
    assert orders_run.exports["state_machine_arn"].endswith(":stateMachine:orders-1a2b3c4")
    assert orders_run.exports["start_run"].startswith(
        "aws stepfunctions start-execution --region us-east-1"
    )
    assert orders_run.exports["region"] == "us-east-1"
    assert orders_run.exports["log_groups"] == {
        task: f"/glacier/orders-{task}-1a2b3c4" for task in ("validate", "enrich", "publish")
    }


def test_resources_aws_checks_at_creation_wait_for_what_they_need(orders_run: Run) -> None:
    """CreateStateMachine fails unless its role may already deliver logs ("The state machine IAM
    Role is not authorized to access the Log Destination"): the machine must wait for the role's
    inline policy, not only for the role. Functions and task definitions wait for their log
    groups (which must exist, with retention, before anything logs to them)."""
    role = ("aws:iam/role:Role", "orders-states")
    policy = ("aws:iam/rolePolicy:RolePolicy", "orders-states")
    logs = ("aws:cloudwatch/logGroup:LogGroup", "orders-states")
    machine = orders_run.waits_for("aws:sfn/stateMachine:StateMachine", "orders")
    assert {role, policy, logs} <= machine
    target = orders_run.waits_for("aws:cloudwatch/eventTarget:EventTarget", "orders")
    assert ("aws:iam/rolePolicy:RolePolicy", "orders-schedule") in target
    for fn in ("orders-validate", "orders-enrich"):
        waits = orders_run.waits_for("aws:lambda/function:Function", fn)
        assert {("aws:cloudwatch/logGroup:LogGroup", fn), ("aws:iam/role:Role", fn)} <= waits
    task = orders_run.waits_for("aws:ecs/taskDefinition:TaskDefinition", "orders-publish")
    assert ("aws:cloudwatch/logGroup:LogGroup", "orders-publish") in task
    for group in orders_run.of("aws:cloudwatch/logGroup:LogGroup"):
        assert group.inputs["retentionInDays"] == 30, group.name


def test_state_machine_logs_to_a_vended_logs_group(orders_run: Run) -> None:
    """Log delivery is granted by one per-account CloudWatch Logs resource policy (5,120
    characters); near full, it only covers /aws/vendedlogs/, so elsewhere a later stack's
    machine fails to create. Task log groups stay under /glacier/."""
    group = orders_run.one("aws:cloudwatch/logGroup:LogGroup", "orders-states").inputs
    assert group["namePrefix"] == "/aws/vendedlogs/states/orders-states-"
    machine = orders_run.one("aws:sfn/stateMachine:StateMachine", "orders").inputs
    assert machine["loggingConfiguration"]["logDestination"] == (
        f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/vendedlogs/states/orders-states-1a2b3c4:*"
    )
    tasks = orders_run.one("aws:cloudwatch/logGroup:LogGroup", "orders-publish").inputs
    assert tasks["namePrefix"] == "/glacier/orders-publish-"


def _awsvpc(run: Run) -> dict[str, object]:
    machine = run.one("aws:sfn/stateMachine:StateMachine", "orders").inputs
    publish = _all_states(json.loads(machine["definition"]))["publish"]
    return publish["Parameters"]["NetworkConfiguration"]["AwsvpcConfiguration"]


def test_fargate_network_defaults_to_the_default_vpc_with_public_ips(orders_run: Run) -> None:
    (group,) = orders_run.of("aws:ec2/securityGroup:SecurityGroup")
    assert group.inputs["vpcId"] == "vpc-0default"
    assert [e["cidrBlocks"] for e in group.inputs["egress"]] == [["0.0.0.0/0"]]
    assert not group.inputs.get("ingress")
    assert _awsvpc(orders_run) == {
        "Subnets": ["subnet-a", "subnet-b"],
        "SecurityGroups": [f"{group.name}-id"],
        "AssignPublicIp": "ENABLED",
    }


def test_fargate_network_is_configurable(
    orders_infra: Infrastructure, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Accounts without a default VPC (or with private subnets) set the network in config."""
    root = orders_infra.write(tmp_path_factory.mktemp("orders-network")) / "aws"
    subnets = {"glacier:subnetIds": '["subnet-p1", "subnet-p2"]'}
    run = run_stack(root, subnets)
    (group,) = run.of("aws:ec2/securityGroup:SecurityGroup")
    assert group.inputs["vpcId"] == "vpc-0configured"  # the configured subnets' VPC
    assert _awsvpc(run) == {
        "Subnets": ["subnet-p1", "subnet-p2"],
        "SecurityGroups": [f"{group.name}-id"],
        "AssignPublicIp": "DISABLED",
    }
    assert "aws:ec2/getVpc:getVpc" not in [token for token, _ in run.mocks.calls]
    config = {**subnets, "glacier:securityGroupIds": '["sg-1"]', "glacier:assignPublicIp": "true"}
    run = run_stack(root, config)
    assert not run.of("aws:ec2/securityGroup:SecurityGroup")
    assert _awsvpc(run) == {
        "Subnets": ["subnet-p1", "subnet-p2"],
        "SecurityGroups": ["sg-1"],
        "AssignPublicIp": "ENABLED",
    }


def test_compile_time_lambda_env_size_is_the_deployed_size(orders_run: Run) -> None:
    """The 4 KB check measures exactly what the stack deploys (secret ARNs: longest partition)."""
    spec = load_pipeline(str(PIPELINES / "aws_orders.py")).spec()
    model = build_model(spec, resolve(spec, "aws", ("aws",)), ModelOptions("us-east-1", 7, 30))
    for d in model.lambdas:
        fn = orders_run.one("aws:lambda/function:Function", d.logical).inputs
        env = fn["environment"]["variables"]
        deployed = sum(len(k.encode()) + len(v.encode()) for k, v in env.items())
        longer_partition = len("aws-us-gov") - len("aws")
        assert lambda_env_bytes(d, list(model.buckets), "us-east-1") == (
            deployed + longer_partition * len(d.secrets)
        ), d.task.name


IMAGE_PIPELINE = """
from glacier import Dataset, Pipeline, compute
from glacier.storage import ObjectStorage

src = Dataset("src", storage=ObjectStorage())
mid = Dataset("mid", storage=ObjectStorage())
dst = Dataset("dst", storage=ObjectStorage())
pipeline = Pipeline(name="img")

@pipeline.task(compute=compute.container(image="210987654321.dkr.ecr.eu-west-1.amazonaws.com/team/etl:v3"))
def private(data: src) -> mid:
    return data

@pipeline.task(compute=compute.container(image="ghcr.io/acme/etl:v3"))
def public(data: mid) -> dst:
    return data
"""


def test_fargate_image_from_private_ecr_can_be_pulled(tmp_path: Path) -> None:
    """An ``image=`` in a private ECR repository needs the pull permissions the stack's own
    image gets, on that repository; an image elsewhere gets no ECR permission at all."""
    module = tmp_path / "img_pipeline.py"
    module.write_text(IMAGE_PIPELINE)
    infra = load_pipeline(str(module)).compile(AWSCompiler())
    run = run_stack(infra.write(tmp_path / "out") / "aws")
    assert not run.of("aws:ecr/repository:Repository")
    assert not run.of("docker-build:index:Image")
    private = {s["Sid"]: s for s in run.policy("img-private-exec")["Statement"]}
    assert private["PullToken"]["Action"] == ["ecr:GetAuthorizationToken"]
    assert private["PullImage"]["Resource"] == [
        "arn:aws:ecr:eu-west-1:210987654321:repository/team/etl"
    ]
    public = {s["Sid"] for s in run.policy("img-public-exec")["Statement"]}
    assert public == {"WriteLogs"}
    (container,) = json.loads(
        run.one("aws:ecs/taskDefinition:TaskDefinition", "img-private").inputs[
            "containerDefinitions"
        ]
    )
    assert container["image"] == "210987654321.dkr.ecr.eu-west-1.amazonaws.com/team/etl:v3"
