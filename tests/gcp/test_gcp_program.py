"""The generated orders stack, executed under Pulumi's mocks with the real pulumi_gcp SDK."""

from __future__ import annotations

import base64
import json

import pytest
import yaml
from gcp_mocks import PROJECT, Run

pytestmark = pytest.mark.slow

BUCKET = "gcp:storage/bucket:Bucket"
MEMBER = "gcp:storage/bucketIAMMember:BucketIAMMember"
FUNCTION = "gcp:cloudfunctionsv2/function:Function"
JOB = "gcp:cloudrunv2/job:Job"
ACCOUNT = "gcp:serviceaccount/account:Account"
WEEK = 7 * 24 * 3600


def _email(account: str) -> str:
    return f"serviceAccount:{account}@{PROJECT}.iam.gserviceaccount.com"


def test_every_bucket_is_locked_down_and_existing_ones_are_looked_up(orders_run: Run) -> None:
    buckets = {r.name: r.inputs for r in orders_run.of(BUCKET)}
    assert sorted(buckets) == [
        "acme-orders-report", "orders-audit", "orders-by-customer", "orders-customers", "orders-work",
    ]  # fmt: skip
    for name, inputs in buckets.items():
        assert inputs["uniformBucketLevelAccess"] is True, name
        assert inputs["publicAccessPrevention"] == "enforced", name
    landing = [args for token, args in orders_run.mocks.calls if token.endswith("getBucket")]
    assert landing == [{"name": "acme-orders-landing"}]  # looked up, never created
    assert not any(
        m.inputs["member"] in ("allUsers", "allAuthenticatedUsers") for m in orders_run.of(MEMBER)
    )


def test_versions_soft_delete_classes_and_lifecycle_follow_the_hints(orders_run: Run) -> None:
    buckets = {r.name: r.inputs for r in orders_run.of(BUCKET)}
    work = buckets["orders-work"]
    assert work["versioning"] == {"enabled": False} and work["forceDestroy"] is True
    assert work["softDeletePolicy"] == {"retentionDurationSeconds": 0}
    assert work["lifecycleRules"][0] == {
        "action": {"type": "Delete"}, "condition": {"age": 7, "matchesPrefixes": ["runs/"]},
    }  # fmt: skip
    by_customer = buckets["orders-by-customer"]
    assert by_customer["storageClass"] == "NEARLINE" and by_customer["versioning"] == {
        "enabled": True
    }
    assert by_customer["softDeletePolicy"] == {"retentionDurationSeconds": WEEK}
    assert by_customer["forceDestroy"] is False
    rules = by_customer["lifecycleRules"]
    assert {
        "action": {"type": "Delete"},
        "condition": {"daysSinceNoncurrentTime": 30, "withState": "ARCHIVED"},
    } in rules
    assert {"action": {"type": "Delete"},
            "condition": {"age": 365, "matchesPrefixes": ["by_customer.parquet"]}} in rules  # fmt: skip
    assert buckets["acme-orders-report"]["storageClass"] == "COLDLINE"
    assert buckets["acme-orders-report"]["name"] == "acme-orders-report"
    assert buckets["orders-audit"]["versioning"] == {"enabled": False}  # versioning=False


def _grants(run: Run, account: str) -> list[tuple[str, str, str]]:
    return sorted(
        (m.inputs["bucket"], m.inputs["role"], m.inputs["condition"]["expression"])
        for m in run.of(MEMBER)
        if m.inputs["member"] == _email(account)
    )


def test_each_task_may_touch_exactly_its_keys(orders_run: Run) -> None:
    objects = "projects/_/buckets/{}/objects/"
    prefix = 'api.getAttribute("storage.googleapis.com/objectListPrefix", "")'
    landing = objects.format("acme-orders-landing")
    work = objects.format("orders-work-1a2b3c4")
    assert _grants(orders_run, "orders-validate") == [
        ("acme-orders-landing", "roles/storage.objectViewer",
         f'resource.name == "{landing}incoming/orders.parquet" || '
         f'{prefix}.startsWith("incoming/orders.parquet")'),
        ("orders-work-1a2b3c4", "roles/storage.objectUser",
         f'(resource.name.startsWith("{work}runs/") && resource.name.endsWith("/valid.parquet"))'),
    ]  # fmt: skip
    enrich = _grants(orders_run, "orders-enrich")
    assert [(b, r) for b, r, _ in enrich] == [
        ("orders-by-customer-1a2b3c4", "roles/storage.objectUser"),
        ("orders-customers-1a2b3c4", "roles/storage.objectViewer"),
        ("orders-work-1a2b3c4", "roles/storage.objectViewer"),
    ]
    assert enrich[2][2] == (
        f'(resource.name.startsWith("{work}runs/") && resource.name.endsWith("/valid.parquet")) || '
        f'({prefix}.startsWith("runs/") && {prefix}.endsWith("/valid.parquet"))'
    )
    report = objects.format("acme-orders-report")
    assert _grants(orders_run, "orders-publish")[0] == (
        "acme-orders-report", "roles/storage.objectUser",
        f'resource.name.startsWith("{report}report.delta/") || {prefix}.startsWith("report.delta")',
    )  # fmt: skip
    assert _grants(orders_run, "orders-workflow") == []
    assert _grants(orders_run, "orders-scheduler") == []


def test_functions_are_internal_private_and_run_the_shared_handler(orders_run: Run) -> None:
    validate = orders_run.one(FUNCTION, "orders-validate").inputs
    assert validate["buildConfig"]["entryPoint"] == "handler"
    assert validate["buildConfig"]["runtime"] == "python312"
    source = validate["buildConfig"]["source"]["storageSource"]
    assert source["bucket"] == "orders-work-1a2b3c4" and source["object"].startswith("artifacts/")
    config = validate["serviceConfig"]
    assert config["ingressSettings"] == "ALLOW_INTERNAL_ONLY"
    assert (config["availableMemory"], config["timeoutSeconds"]) == ("2048Mi", 120)
    assert config["serviceAccountEmail"] == _email("orders-validate").removeprefix(
        "serviceAccount:"
    )
    assert config["environmentVariables"]["MODE"] == "prod"
    assert json.loads(config["environmentVariables"]["GLACIER_LOCATIONS"]) == {
        "orders": "gs://acme-orders-landing/incoming/orders.parquet",
        "valid": "gs://orders-work-1a2b3c4/runs/{run_id}/valid.parquet",
    }
    invokers = orders_run.of("gcp:cloudrunv2/serviceIamMember:ServiceIamMember")
    assert sorted(i.name for i in invokers) == ["orders-enrich-invoker", "orders-validate-invoker"]
    for i in invokers:
        assert i.inputs["role"] == "roles/run.invoker"
        assert i.inputs["member"] == _email("orders-workflow")
    assert (
        orders_run.one(
            "gcp:cloudrunv2/serviceIamMember:ServiceIamMember", "orders-enrich-invoker"
        ).inputs["name"]
        == f"projects/{PROJECT}/locations/us-central1/services/orders-enrich-1a2b3c4"
    )


def test_container_and_long_tasks_run_as_jobs_without_their_own_retries(orders_run: Run) -> None:
    jobs = {r.name: r.inputs for r in orders_run.of(JOB)}
    assert sorted(jobs) == ["orders-audit", "orders-publish"]  # audit: timeout 3000 s > 1800 s
    publish = jobs["orders-publish"]
    assert publish["deletionProtection"] is False
    template = publish["template"]["template"]
    assert template["maxRetries"] == 0
    (container,) = template["containers"]
    assert container["commands"] == ["python", "-m", "glacier_gcp.runtime", "--task", "publish"]
    assert container["resources"]["limits"] == {"cpu": "2", "memory": "8192Mi"}
    secret = [e for e in container["envs"] if e["name"] == "TOKEN"]
    assert secret == [{"name": "TOKEN",
                       "valueSource": {"secretKeyRef": {"secret": "orders-token", "version": "latest"}}}]  # fmt: skip
    runners = orders_run.of("gcp:cloudrunv2/jobIamMember:JobIamMember")
    assert {(r.inputs["role"], r.inputs["member"]) for r in runners} == {
        ("roles/run.jobsExecutorWithOverrides", _email("orders-workflow"))
    }


def test_secrets_are_readable_by_exactly_the_tasks_that_use_them(orders_run: Run) -> None:
    members = orders_run.of("gcp:secretmanager/secretIamMember:SecretIamMember")
    assert sorted((m.inputs["secretId"], m.inputs["member"]) for m in members) == [
        (f"projects/{PROJECT}/secrets/orders-api-key", _email("orders-enrich")),
        (f"projects/{PROJECT}/secrets/orders-token", _email("orders-publish")),
    ]
    enrich = orders_run.one(FUNCTION, "orders-enrich").inputs["serviceConfig"]
    assert enrich["secretEnvironmentVariables"] == [
        {"key": "API_KEY", "projectId": PROJECT, "secret": "orders-api-key", "version": "latest"}
    ]


def test_the_workflow_calls_the_deployed_tasks_and_the_schedule_starts_it(orders_run: Run) -> None:
    (workflow,) = orders_run.of("gcp:workflows/workflow:Workflow")
    assert workflow.inputs["serviceAccount"] == _email("orders-workflow").removeprefix(
        "serviceAccount:"
    )
    assert workflow.inputs["deletionProtection"] is False
    source = workflow.inputs["sourceContents"]
    assert '"<<' not in source  # every placeholder filled
    document = yaml.safe_load(source)
    steps = json.dumps(document["dag"])
    assert f"https://us-central1-{PROJECT}.cloudfunctions.net/orders-validate-1a2b3c4" in steps
    assert f"projects/{PROJECT}/locations/us-central1/jobs/orders-publish-1a2b3c4" in steps
    (job,) = orders_run.of("gcp:cloudscheduler/job:Job")
    target = job.inputs["httpTarget"]
    assert job.inputs["schedule"] == "0 2 * * 1-5" and job.inputs["timeZone"] == "Etc/UTC"
    assert target["uri"] == (
        "https://workflowexecutions.googleapis.com/v1/projects/demo-project/locations/"
        "us-central1/workflows/orders-1a2b3c4/executions"
    )
    assert target["oauthToken"]["serviceAccountEmail"].startswith("orders-scheduler@")
    assert json.loads(base64.b64decode(target["body"])) == {"argument": "{}"}
    (grant,) = orders_run.of("gcp:projects/iAMMember:IAMMember")
    assert (grant.inputs["role"], grant.inputs["member"]) == (
        "roles/workflows.invoker",
        _email("orders-scheduler"),
    )
    assert orders_run.exports["start_run"].startswith("gcloud workflows run orders-1a2b3c4")


def test_time_zone_and_project_come_from_stack_config(orders_infra, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from gcp_mocks import run_stack

    root = orders_infra.write(tmp_path)
    run = run_stack(
        root / "gcp", {"glacier:timeZone": "Europe/Paris", "gcp:project": "other-project"}
    )
    (job,) = run.of("gcp:cloudscheduler/job:Job")
    assert job.inputs["timeZone"] == "Europe/Paris"
    (provider,) = run.of("pulumi:providers:gcp")
    assert provider.inputs["project"] == "other-project"


def test_apis_are_enabled_and_left_enabled(orders_run: Run) -> None:
    services = {
        r.inputs["service"]: r.inputs for r in orders_run.of("gcp:projects/service:Service")
    }
    assert {"cloudfunctions.googleapis.com", "run.googleapis.com", "workflows.googleapis.com",
            "cloudscheduler.googleapis.com", "secretmanager.googleapis.com"} <= set(services)  # fmt: skip
    assert all(s["disableOnDestroy"] is False for s in services.values())
