"""Packaging choices, naming rules and placement errors of the AWS compiler."""

from __future__ import annotations

import pytest

from glacier import Dataset, Pipeline, Secret, compute
from glacier.errors import CompilationError
from glacier.storage import LocalFS, ObjectStorage
from glacier_aws import AWSCompiler, Fargate, Lambda
from glacier_aws.cost import runs_per_month
from glacier_aws.lifecycle import bucket_lifecycle

src = Dataset("src", storage=ObjectStorage())
dst = Dataset("dst", storage=ObjectStorage())


def _compile(
    compute_resource: object,
    name: str = "p",
    out: Dataset = dst,
    timeout: float | None = None,
    task: str = "work",
):
    # Built inside the test module at import time would make one pipeline per case; instead
    # register the pipeline on this module so the compiler can find it (as a user module would).
    pipeline = Pipeline(name=name)
    globals()["pipeline_under_test"] = pipeline

    @pipeline.task(compute=compute_resource, timeout=timeout, name=task)
    def work(data: src) -> out:  # type: ignore[valid-type]
        return data

    return pipeline.compile(AWSCompiler())


def test_long_running_serverless_task_moves_to_fargate_and_says_so() -> None:
    infra = _compile(compute.serverless(memory=2048, timeout=1200))
    (plan,) = infra.stacks["aws"].tasks
    assert plan.packaging == "ECS Fargate task"
    assert "timeout 1200s > Lambda's 900s" in plan.reason
    assert [str(w) for w in infra.warnings] == [f"task 'work': {plan.reason}"]
    assert "timeout 1200s > Lambda's 900s" in infra.plan()


def test_big_memory_task_moves_to_fargate() -> None:
    (plan,) = _compile(compute.serverless(memory=16384)).stacks["aws"].tasks
    assert "memory 16384 MB > Lambda's 10240 MB" in plan.reason


def test_task_timeout_counts_against_lambda_limit() -> None:
    (plan,) = _compile(compute.local(), timeout=3600).stacks["aws"].tasks
    assert plan.packaging == "ECS Fargate task"


def test_a_task_touching_a_delta_table_moves_to_fargate_and_says_why() -> None:
    table = Dataset("table", storage=ObjectStorage(), format="delta")
    infra = _compile(compute.serverless(), out=table)
    (plan,) = infra.stacks["aws"].tasks
    assert plan.packaging == "ECS Fargate task"
    assert plan.reason == (
        "serverless compute does not fit Lambda (Delta table 'table': deltalake's wheels "
        "(~120 MB) and Polars' (~165 MB) exceed Lambda's 250 MB unzipped limit); runs on ECS "
        "Fargate instead"
    )
    assert [str(w) for w in infra.warnings] == [f"task 'work': {plan.reason}"]
    files = infra.stacks["aws"].files  # the image gets deltalake, the Lambda bundle does not
    assert "deltalake==" in files["app/requirements.txt"]
    assert "deltalake" not in files["app/requirements-lambda.txt"]
    with pytest.raises(
        CompilationError,
        match=r"task 'work' reads or writes the Delta table 'table' but runs on Lambda\(\.\.\.\): "
        r"deltalake's wheels .* give it Fargate\(\.\.\.\) compute, or store the dataset as parquet",
    ):
        _compile(Lambda(), out=table)


def test_local_compute_is_a_lambda_function() -> None:
    infra = _compile(compute.local())
    assert [r.kind for r in infra.resources if r.kind == "lambda_function"] == ["lambda_function"]


def test_gpu_request_is_a_clear_error() -> None:
    with pytest.raises(
        CompilationError, match="task 'work' asks for gpu=1, but ECS Fargate has no GPUs"
    ):
        _compile(compute.container(gpu=1))


def test_localfs_cannot_be_compiled() -> None:
    with pytest.raises(
        CompilationError,
        match=r"dataset 'local_out' uses LocalFS\('./x'\).*use storage=ObjectStorage\(\)",
    ):
        _compile(compute.local(), out=Dataset("local_out", storage=LocalFS("./x")))


def test_reserved_env_prefix_is_rejected() -> None:
    with pytest.raises(CompilationError, match="'GLACIER_TASK' uses the reserved prefix"):
        _compile(compute.serverless(env={"GLACIER_TASK": "x"}))


def test_names_too_long_for_lambda_are_rejected_before_generation() -> None:
    msg = r"task 'w{20}': Lambda function name 'a{40}-w{20}' is 61 characters; .*1-56 characters .*shorten"
    with pytest.raises(CompilationError, match=msg):
        _compile(compute.local(), name="a" * 40, task="w" * 20)


def test_aws_specific_compute_is_honoured() -> None:
    (plan,) = _compile(Fargate(cpu=0.5, memory=1024)).stacks["aws"].tasks
    assert plan.packaging == "ECS Fargate task"
    (plan,) = _compile(Lambda(memory=512, timeout=60, architecture="x86_64")).stacks["aws"].tasks
    assert plan.packaging == "AWS Lambda function"


def test_task_timeout_over_lambda_limit_on_explicit_lambda_is_an_error() -> None:
    with pytest.raises(
        CompilationError,
        match=r"task 'work' has timeout=1200s but runs on Lambda\(\.\.\.\).*Fargate\(\.\.\.\)",
    ):
        _compile(Lambda(timeout=60), timeout=1200)


def test_fargate_and_lambda_limits_are_checked_on_creation() -> None:
    with pytest.raises(ValueError, match=r"nearest valid size is cpu=1, memory=2048"):
        Fargate(cpu=1, memory=1000)
    with pytest.raises(
        ValueError, match="Lambda: timeout must be an int from 1 to 900, found 1000"
    ):
        Lambda(timeout=1000)


def test_secret_values_never_appear_only_their_names() -> None:
    infra = _compile(compute.serverless(env={"KEY": Secret("team/key")}))
    program = infra.stacks["aws"].files["__main__.py"]
    assert "gi.secret(ctx, 'team/key')" in program
    assert "'GLACIER_SECRET_ARN_KEY': secret_team_key.arn" in program


def test_compiler_options_are_validated() -> None:
    with pytest.raises(CompilationError, match="region must look like 'us-east-1'"):
        AWSCompiler(region="moon")
    with pytest.raises(CompilationError, match="log_retention_days must be one of"):
        AWSCompiler(log_retention_days=2)


def test_from_env_reads_the_region(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    assert AWSCompiler.from_env().region == "eu-west-1"


@pytest.mark.parametrize(
    ("cron", "runs"),
    [
        (None, 30),
        ("0 2 * * *", 30),
        ("*/15 * * * *", 2880),
        ("0 9 * * 1-5", 30 * 5 / 7),
        ("0 0 1 * *", 1),
    ],
)
def test_cost_estimate_counts_runs(cron: str | None, runs: float) -> None:
    assert runs_per_month(cron) == pytest.approx(runs)


@pytest.mark.parametrize(("given", "canonical"), [("raw", "raw/"), ("/a/b/", "a/b/"), ("", "")])
def test_s3_prefix_is_one_canonical_folder(given: str, canonical: str) -> None:
    from glacier.compilation.layout import dataset_key
    from glacier_aws.storage import S3

    storage = S3("my-bucket", prefix=given)
    assert storage.prefix == canonical
    spec = Dataset("sales", storage=storage).to_ir()
    assert dataset_key(spec, storage.prefix) == f"{canonical}sales.parquet"


def test_plan_says_where_each_dataset_lives_and_that_ephemeral_data_expires() -> None:
    scratch = Dataset("scratch")
    pipeline = Pipeline(name="withscratch")
    globals()["pipeline_with_scratch"] = pipeline

    @pipeline.task()
    def first(data: src) -> scratch:  # type: ignore[valid-type]
        return data

    @pipeline.task()
    def second(data: scratch) -> dst:  # type: ignore[valid-type]
        return data

    plan = pipeline.compile(AWSCompiler(intermediate_expiry_days=3)).plan()
    assert "  dst (aws): s3://<withscratch-dst-*>/dst.parquet\n" in plan
    assert (
        "  scratch (aws): s3://<withscratch-work-*>/runs/{run_id}/scratch.parquet (ephemeral: "
        "placed in the pipeline-owned intermediate bucket, one copy per run, expires after 3 days)"
    ) in plan


def _lifecycle(storage: ObjectStorage) -> list[dict[str, object]]:
    """The lifecycle rules of a bucket holding one dataset a task writes with ``storage``."""
    pipeline = Pipeline(name="life")
    kept = Dataset("kept", storage=storage)

    @pipeline.task()
    def keep(data: src) -> kept:  # type: ignore[valid-type]
        return data

    return list(bucket_lifecycle([pipeline.spec().dataset("kept")]))


def test_short_retention_expires_without_an_s3_rejected_transition() -> None:
    # S3 rejects a rule whose expiration day is not after its transition day.
    short = _lifecycle(ObjectStorage("infrequent", retention_days=14))[1]
    assert short["expiration"] == {"days": 14} and "transitions" not in short
    long = _lifecycle(ObjectStorage("infrequent", retention_days=31))[1]
    assert long["transitions"] == [{"days": 30, "storage_class": "STANDARD_IA"}]
    assert long["expiration"] == {"days": 31}


def test_a_dataset_a_task_reads_cannot_go_to_a_restore_only_class() -> None:
    cold = Dataset("cold", storage=ObjectStorage(aws_storage_class="DEEP_ARCHIVE"))
    pipeline = Pipeline(name="cold")
    globals()["pipeline_under_test"] = pipeline

    @pipeline.task()
    def read(data: cold) -> dst:  # type: ignore[valid-type]
        return data

    with pytest.raises(
        CompilationError,
        match=r"dataset 'cold' is read by task\(s\) read, but its S3 storage class DEEP_ARCHIVE "
        r"must be restored before any read.*use GLACIER_IR",
    ):
        pipeline.compile(AWSCompiler())
    assert _lifecycle(ObjectStorage(aws_storage_class="DEEP_ARCHIVE"))[1]["transitions"] == [
        {"days": 0, "storage_class": "DEEP_ARCHIVE"}
    ]  # a sink may archive: no task reads it


def test_container_too_big_for_fargate_names_the_limit() -> None:
    with pytest.raises(
        CompilationError,
        match=r"task 'work': no Fargate size offers cpu=32.0 and memory=2048 \(largest: 16 vCPU",
    ):
        _compile(compute.container(cpu=32))


def test_lambda_environment_over_4kb_is_refused_at_compile_time() -> None:
    """Lambda rejects more than 4 KB of environment at deploy time, minutes into pulumi up."""
    fits = {"NOTE": "x" * 3600}
    _compile(compute.serverless(env=fits))  # what the stack adds still fits
    with pytest.raises(CompilationError, match=r"task 'work'.* bytes.*4096-byte limit"):
        _compile(compute.serverless(env={"NOTE": "x" * 4000}))
    (plan,) = _compile(compute.container(env={"NOTE": "x" * 4000})).stacks["aws"].tasks
    assert plan.packaging == "ECS Fargate task"  # no such limit on Fargate


@pytest.mark.parametrize(
    ("key", "why"),
    [("AWS_REGION", "reserved by the Lambda runtime"), ("X", "naming rule"), ("_X", "naming rule")],
)
def test_env_names_lambda_refuses_are_refused_at_compile_time(key: str, why: str) -> None:
    with pytest.raises(
        CompilationError, match=rf"task 'work': environment variable '{key}' .*{why}"
    ):
        _compile(compute.serverless(env={key: "v"}))
    with pytest.raises(CompilationError, match=rf"'{key}' .*{why}"):
        _compile(compute.serverless(env={key: Secret("s")}))
    _compile(compute.container(env={key: "v"}))  # ECS takes any name
