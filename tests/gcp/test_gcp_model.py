"""What the GCP compiler refuses, and what it decides, at compile time (no Pulumi)."""

from __future__ import annotations

import pytest

from glacier import Dataset, Pipeline, Secret, compute
from glacier.compilation.planning import Par, Seq
from glacier.compilation.resolve import resolve
from glacier.errors import CompilationError
from glacier.storage import ObjectStorage
from glacier_gcp import GCPCompiler
from glacier_gcp.compute import CloudFunction
from glacier_gcp.model import GCPModel, ModelOptions, build_model
from glacier_gcp.naming import account_id
from glacier_gcp.schedule import scheduler_expression
from glacier_gcp.workflow import MAX_BRANCHES, Part, fit


def _pipeline(**task: object) -> Pipeline:
    src = Dataset("src", storage=ObjectStorage())
    out = Dataset("out", storage=ObjectStorage())
    p = Pipeline(name="p-gcp")

    @p.task(**task)  # type: ignore[arg-type]
    def step(x: src) -> out:
        return x

    return p


def _model(p: Pipeline) -> GCPModel:
    """The GCP model of ``p`` (declared in a test, so not importable: the model, not a stack)."""
    spec = p.spec()
    options = ModelOptions("demo-project", "us-central1", 7, 30, "Etc/UTC")
    return build_model(spec, resolve(spec, "gcp", ("gcp",)), options)


def test_compiler_arguments_are_checked_and_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(CompilationError, match=r"project must be a Google Cloud project id .* 'X'"):
        GCPCompiler(project="X")
    with pytest.raises(
        CompilationError, match=r"region must look like 'us-central1', found 'moon'"
    ):
        GCPCompiler(project="demo-project", region="moon")
    monkeypatch.delenv("GOOGLE_CLOUD_PROJECT", raising=False)
    monkeypatch.setenv("CLOUDSDK_CORE_PROJECT", "from-gcloud")
    monkeypatch.setenv("GOOGLE_CLOUD_REGION", "europe-west1")
    assert (
        repr(GCPCompiler.from_env()) == "GCPCompiler(project='from-gcloud', region='europe-west1')"
    )
    monkeypatch.delenv("CLOUDSDK_CORE_PROJECT")
    assert GCPCompiler.from_env().project is None  # the stack's gcp:project config decides


def test_a_cloud_function_longer_than_workflows_waits_is_refused() -> None:
    p = _pipeline(compute=CloudFunction(timeout=3600))
    with pytest.raises(
        CompilationError, match=r"task 'step' has timeout=3600s but runs on CloudFunction"
    ):
        _model(p)


def test_generic_compute_too_long_for_a_function_runs_as_a_job() -> None:
    model = _model(_pipeline(compute=compute.serverless(timeout=3000)))
    (deploy,) = model.tasks
    assert deploy.packaging == "job" and "3000s > the 1800s" in deploy.size.reason
    assert [str(w) for w in model.warnings] == [f"task 'step': {deploy.size.reason}"]


def test_an_ephemeral_delta_table_is_refused_naming_it() -> None:
    src = Dataset("src", storage=ObjectStorage())
    mid = Dataset("mid", format="delta")
    out = Dataset("out", storage=ObjectStorage())
    p = Pipeline(name="p-gcp")

    @p.task()
    def a(x: src) -> mid:
        return x

    @p.task()
    def b(x: mid) -> out:
        return x

    with pytest.raises(CompilationError, match=r"dataset 'mid' is an ephemeral Delta table"):
        _model(p)


def test_secret_ids_follow_the_documented_rule_and_never_collide() -> None:
    p = _pipeline(compute=compute.serverless(env={"A": Secret("team/db"), "B": Secret("team.db")}))
    with pytest.raises(
        CompilationError, match=r"secrets 'team.db' and 'team/db' are both .* 'team-db'"
    ):
        _model(p)


def test_schedules_pass_through_unless_unix_cron_lacks_the_form() -> None:
    assert scheduler_expression("30 4 ? * MON-FRI") == "30 4 * * MON-FRI"
    with pytest.raises(CompilationError, match=r"day-of-month 'L' is not unix-cron"):
        scheduler_expression("0 0 L * *")


def test_service_account_ids_fit_and_stay_unique() -> None:
    long = account_id("pipeline-whose-name-is-as-long-as-allows", "first_task_whose_name")
    other = account_id("pipeline-whose-name-is-as-long-as-allows", "first_task_whose_other")
    assert (
        len(long) <= 30
        and long != other
        and long == account_id("pipeline-whose-name-is-as-long-as-allows", "first_task_whose_name")
    )
    assert account_id("orders", "validate") == "orders-validate"


def test_the_plan_fits_workflows_limits_without_extra_waits() -> None:
    class T:
        def __init__(self, name: str) -> None:
            self.name, self.upstream = name, ()

    wide = Par(tuple(T(f"t{i}") for i in range(25)))  # type: ignore[arg-type]
    parts: list[object] = []
    fitted = fit(wide, parts)  # type: ignore[arg-type]
    assert isinstance(fitted, Par) and len(fitted.branches) <= MAX_BRANCHES
    assert all(len(getattr(b, "branches", ())) <= MAX_BRANCHES for b in fitted.branches)
    assert sum(len(getattr(b, "branches", (b,))) for b in fitted.branches) == 25
    deep = Par((Seq((T("a"), Par((Seq((T("b"), Par((T("c"), T("d"))))), T("e"))))), T("f")))  # type: ignore[arg-type]
    parts = []
    fitted = fit(deep, parts)  # type: ignore[arg-type]
    assert len(parts) == 1 and isinstance(parts[0], Par)  # the third level: a child execution
    assert "Part(number=1)" in repr(fitted) and isinstance(Part(1), Part)
