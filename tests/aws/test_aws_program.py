"""The generated orders stack, executed under Pulumi's mocks with the real pulumi_aws SDK."""

from __future__ import annotations

import json

from aws_mocks import ACCOUNT, Run

LOGS = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/glacier"
SECRET = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret"
DATA_BUCKETS = ["acme-orders-landing", "orders-by-customer", "orders-customers", "orders-report"]


def _statements(run: Run, role: str) -> list[tuple[str, list[str], list[str], object]]:
    return [
        (s["Sid"], s["Action"], s["Resource"], s.get("Condition"))
        for s in run.policy(role)["Statement"]
    ]


def test_every_bucket_is_private_encrypted_and_tls_only(orders_run: Run) -> None:
    buckets = {r.name for r in orders_run.of("aws:s3/bucket:Bucket")}
    assert buckets == {*DATA_BUCKETS, "orders-work"}
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
        (deny,) = policy["Statement"]
        assert deny["Effect"] == "Deny" and deny["Condition"] == {
            "Bool": {"aws:SecureTransport": "false"}
        }
    versioned = {r.name for r in orders_run.of("aws:s3/bucketVersioning:BucketVersioning")}
    assert versioned == set(DATA_BUCKETS)  # the intermediate bucket holds throwaway data


def test_explicit_bucket_name_and_lifecycle_hints(orders_run: Run) -> None:
    assert (
        orders_run.one("aws:s3/bucket:Bucket", "acme-orders-landing").inputs["bucket"]
        == "acme-orders-landing"
    )
    rules = {
        r.name: r.inputs["rules"]
        for r in orders_run.of("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
    }
    by_customer = rules["orders-by-customer"][1]
    assert by_customer["filter"] == {"prefix": "by_customer.parquet"}
    assert by_customer["transitions"] == [{"days": 30, "storageClass": "STANDARD_IA"}]
    assert by_customer["expiration"] == {"days": 365}
    assert rules["orders-report"][1]["transitions"] == [
        {"days": 0, "storageClass": "INTELLIGENT_TIERING"}
    ]
    (expiry,) = rules["orders-work"]
    assert expiry["filter"] == {"prefix": "runs/"} and expiry["expiration"] == {"days": 7}


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
    assert execution["PullImage"][1] == [f"arn:aws:ecr:us-east-1:{ACCOUNT}:orders-x86-64"]


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
    publish = json.loads(machine["definition"])["States"]["publish"]
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
        f"arn:aws:ecs:us-east-1:{ACCOUNT}:task-definition/orders-publish:*"
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
    states = json.loads(machine["definition"])["States"]
    assert states["validate"]["Parameters"]["FunctionName"].endswith(
        "function:orders-validate-1a2b3c4"
    )
    assert states["publish"]["Parameters"]["TaskDefinition"].endswith(
        "task-definition/orders-publish:1"
    )
    assert machine["tracingConfiguration"] == {"enabled": True}
    invoke = {sid: r for sid, _, r, _ in _statements(orders_run, "orders-states")}["InvokeTasks"]
    arns = [
        f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:orders-{t}-1a2b3c4"
        for t in ("validate", "enrich")
    ]
    assert invoke == arns + [f"{a}:*" for a in arns]
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
