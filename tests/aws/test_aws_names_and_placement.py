"""Stacks Pulumi would refuse at deploy time are refused at compile time instead.

Clashing logical names (one Pulumi URN for two resources), variables assigned twice in the
program, container repository names ECR rejects, AWS tasks wired to data on another
provider, and a multi-cloud AWS stack that only stores data (no state machine to run).
"""

from __future__ import annotations

import ast
import collections
import json
import re
from pathlib import Path

import pytest
from aws_compile import compile_ref
from aws_mocks import run_stack

from glacier import Dataset, Pipeline, Secret, compute
from glacier.compilation import (
    CompileInput,
    Compiler,
    MultiCloudCompiler,
    ResolvedResource,
    Stack,
    StackBuild,
    resolve,
)
from glacier.compilation.sources import locate_source
from glacier.compute import ComputeResource
from glacier.errors import CompilationError
from glacier.storage import ObjectStorage, StorageResource
from glacier_aws import S3, AWSCompiler, Lambda
from glacier_aws.deploy import TASK_VAR_SUFFIXES
from glacier_aws.naming import Namer


class FakeStorage(StorageResource):
    kind = "object_storage"
    provider = "fake"


class FakeFunction(ComputeResource):
    kind = "serverless"
    provider = "fake"


class FakeCompiler(Compiler):
    provider = "fake"
    egress_cost_per_gb_usd = 0.12

    def build_stack(self, job: CompileInput) -> StackBuild:
        tasks = job.placement.tasks_on("fake")
        return StackBuild(
            Stack(
                "fake", {"main.txt": "x\n"}, tuple(ResolvedResource("fake", "fn", t) for t in tasks)
            )
        )


def _pipeline(
    tasks: list[tuple[str, object, list[Dataset], Dataset | None]],
    name: str = "p",
    schedule: str | None = None,
) -> Pipeline:
    """A module-level pipeline (the compiler bundles this module) from (task, compute, ins, out)."""
    pipeline = Pipeline(name=name, schedule=schedule)
    globals()["pipeline_under_test"] = pipeline
    for task_name, resource, inputs, output in tasks:
        namespace: dict[str, object] = {}
        params = ", ".join(f"in_{i}" for i in range(len(inputs)))
        exec(f"def {task_name}({params}): return None", namespace)  # a real signature
        fn = namespace[task_name]
        fn.__annotations__ = {f"in_{i}": ds for i, ds in enumerate(inputs)} | {"return": output}  # type: ignore[attr-defined]
        fn.__module__ = __name__  # type: ignore[attr-defined]
        pipeline.task(compute=resource)(fn)  # type: ignore[arg-type]
    return pipeline


def _ds(name: str, storage: object | None = None) -> Dataset:
    return Dataset(name, storage=storage if storage is not None else ObjectStorage())  # type: ignore[arg-type]


# -- logical names and program variables ------------------------------------------------------


@pytest.mark.parametrize(
    ("tasks", "schedule", "message"),
    [
        (
            [("states", compute.serverless(), [], _ds("a"))],
            None,
            "task 'states' needs the IAM role 'p-states', which the state machine of pipeline 'p' already uses",
        ),
        (
            [("schedule", compute.serverless(), [], _ds("a"))],
            "0 1 * * *",
            "task 'schedule' needs the IAM role 'p-schedule', which the schedule of pipeline 'p' already uses",
        ),
        (
            [("t", compute.serverless(), [], _ds("work"))],
            None,
            "dataset 'work' needs the S3 bucket 'p-work', which the intermediate bucket of pipeline 'p' already uses",
        ),
        (
            [
                ("t", compute.serverless(), [], _ds("raw")),
                ("u", compute.serverless(), [], _ds("other", S3("p-raw"))),
            ],
            None,
            "dataset 'other' needs the S3 bucket 'p-raw', which dataset 'raw' already uses",
        ),
        (
            [
                ("x", compute.container(), [], _ds("a")),
                ("x_exec", compute.serverless(), [], _ds("b")),
            ],
            None,
            "task 'x' (its execution role) needs the IAM role 'p-x-exec', which task 'x_exec' already uses",
        ),
    ],
)
def test_two_resources_with_one_pulumi_name_are_refused(
    tasks: list[tuple[str, object, list[Dataset], Dataset | None]],
    schedule: str | None,
    message: str,
) -> None:
    """`pulumi up` would stop at "duplicate resource URN"; the compiler says which names clash."""
    with pytest.raises(CompilationError, match=re.escape(message)):
        _pipeline(tasks, schedule=schedule).compile(AWSCompiler())


def test_no_program_variable_is_assigned_twice() -> None:
    """A secret's variable once shadowed a task's role variable: the function got the role's ARN."""
    out = _ds("out")
    pipeline = _pipeline(
        [("secret_db", compute.serverless(env={"DB_PASS": Secret("db_role")}), [], out)]
    )
    program = pipeline.compile(AWSCompiler()).stacks["aws"].files["__main__.py"]
    assigned = collections.Counter(
        t.id
        for node in ast.parse(program).body
        if isinstance(node, ast.Assign)
        for t in node.targets
        if isinstance(t, ast.Name)
    )
    assert [name for name, n in assigned.items() if n > 1] == []
    assert "gi.secret(ctx, 'db_role')" in program


def test_namer_keeps_derived_variables_free() -> None:
    namer = Namer()
    assert namer.take("x_exec", TASK_VAR_SUFFIXES) == "x_exec"
    assert namer.take("x", TASK_VAR_SUFFIXES) == "x_2"  # x_exec_role is x_exec's role
    assert namer.take("x_exec_role") == "x_exec_role_2"


@pytest.mark.parametrize("name", ["a_", "a-", "a--b", "a-_b"])
def test_container_repository_name_ecr_rejects_is_refused(name: str) -> None:
    pipeline = _pipeline([("t", compute.container(), [], _ds("out"))], name=name)
    with pytest.raises(CompilationError, match=r"ECR repository naming rule.*rename the pipeline"):
        pipeline.compile(AWSCompiler())
    # A pre-built image needs no repository: nothing to refuse.
    _pipeline([("t", compute.container(image="python:3.12"), [], _ds("out"))], name=name).compile(
        AWSCompiler()
    )


def test_reserved_bucket_prefix_from_the_pipeline_name_is_refused() -> None:
    pipeline = _pipeline([("t", compute.serverless(), [], _ds("out"))], name="amzn-s3-demo-x")
    with pytest.raises(CompilationError, match=r"S3 bucket naming rule.*'amzn-s3-demo-'"):
        pipeline.compile(AWSCompiler())


# -- multi-cloud -------------------------------------------------------------------------------


def _multi(default: str) -> MultiCloudCompiler:
    return MultiCloudCompiler(
        providers={"aws": AWSCompiler(), "fake": FakeCompiler()}, default_provider=default
    )


def test_aws_task_writing_data_placed_on_another_provider_is_a_clear_error() -> None:
    """It was a KeyError (an internal error) deep in the AWS model."""
    raw, res = _ds("raw"), _ds("res", FakeStorage())
    pipeline = _pipeline([("extract", Lambda(), [], raw), ("process", FakeFunction(), [raw], res)])
    with pytest.raises(
        CompilationError,
        match=r"task 'extract' \(aws\) writes dataset 'raw', placed on 'fake'; an AWS task can only "
        r"read and write data stored on AWS: give the dataset S3\(...\) storage",
    ):
        pipeline.compile(_multi("fake"))
    infra = pipeline.compile(_multi("aws"))  # raw on AWS: read across clouds, and said so
    (transfer,) = infra.transfers
    assert str(transfer) == "raw: extract (aws) -> process (fake), est. $0.09/GB egress"


def test_aws_task_reading_data_on_another_provider_names_task_and_dataset() -> None:
    mid, out = _ds("mid", FakeStorage()), _ds("out")
    pipeline = _pipeline([("make", FakeFunction(), [], mid), ("use", Lambda(), [mid], out)])
    with pytest.raises(
        CompilationError, match=r"task 'use' \(aws\) reads dataset 'mid', placed on 'fake'"
    ):
        pipeline.compile(_multi("aws"))


@pytest.mark.slow
def test_storage_only_aws_stack_has_no_state_machine(tmp_path: Path) -> None:
    """Step Functions refuses a machine without tasks (its error states are unreachable)."""
    src, res = _ds("src", S3("glacier-test-src")), _ds("res", FakeStorage())
    pipeline = _pipeline([("process", FakeFunction(), [src], res)], schedule="0 1 * * *")
    infra = pipeline.compile(_multi("fake"))
    stack = infra.stacks["aws"]
    assert "state_machine.json" not in stack.files
    assert {r.kind for r in stack.resources} == {"s3_bucket"}
    assert "src: (source) (aws) -> process (fake)" in infra.summary()
    run = run_stack(infra.write(tmp_path) / "aws")
    assert run.of("aws:sfn/stateMachine:StateMachine") == []
    assert run.of("aws:cloudwatch/eventRule:EventRule") == []
    assert set(run.exports) == {"region", "buckets", "work_bucket"}
    assert "This stack holds storage only" in stack.files["README.md"]


def test_a_gcs_dataset_under_the_aws_compiler_names_it_and_the_missing_provider() -> None:
    # the public contract: a provider-specific resource for a provider the compiler lacks
    with pytest.raises(
        CompilationError,
        match=r"dataset 'mirrored' uses GCS\(object_storage\), which needs provider 'gcp', "
        r"but this compiler targets aws",
    ):
        compile_ref("aws_with_gcs")


def test_aws_tasks_around_a_task_on_another_provider_keep_their_order() -> None:
    """``use`` waits for ``start`` through ``make`` (fake); the AWS state machine keeps that
    order although ``make`` is not in it (it was a KeyError)."""
    first, mid, out = _ds("first", S3("glacier-first")), _ds("mid", S3("glacier-mid")), _ds("out")
    pipeline = _pipeline(
        [
            ("start", Lambda(), [], first),
            ("make", FakeFunction(), [first], mid),
            ("use", Lambda(), [mid], out),
        ]
    )
    # One execution per provider cannot run start, then make, then use: refused, not run early.
    with pytest.raises(CompilationError, match=r"tasks go back and forth between providers"):
        pipeline.compile(_multi("aws"))
    spec = pipeline.spec()
    placement = resolve(spec, "aws", ("aws", "fake"))
    built = AWSCompiler().build_stack(
        CompileInput(spec, placement, locate_source(pipeline.validated()))
    )
    machine = json.loads(built.stack.files["state_machine.json"])
    assert machine["States"]["start"]["Next"] == "use"
    assert machine["States"]["use"]["Next"] == "Succeeded"
