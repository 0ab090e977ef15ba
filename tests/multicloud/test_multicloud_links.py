"""Cross-cloud links: which task reaches which data, least privilege, and the deploy order."""

from __future__ import annotations

import os
from pathlib import Path

import mc_handoff
import mc_spread
import pytest

from glacier.compilation import resolve
from glacier.compilation.links import accesses_from, deploy_order, remote_accesses
from glacier.errors import CompilationError


def test_each_remote_access_carries_exactly_the_tasks_grants() -> None:
    spec = mc_spread.pipeline.spec()
    (access,) = remote_accesses(spec, resolve(spec, "gcp", ("aws", "gcp")))
    assert (access.task, access.task_provider, access.dataset, access.provider) == (
        "clean", "gcp", "orders", "aws",
    )  # fmt: skip
    assert [(g.mode, g.pattern) for g in access.grants] == [
        ("read", "orders.parquet"), ("list", "orders.parquet"),
    ]  # fmt: skip


def test_data_stacks_deploy_before_the_stacks_that_reach_into_them() -> None:
    spec = mc_handoff.pipeline.spec()
    accesses = remote_accesses(spec, resolve(spec, "aws", ("aws", "gcp")))
    assert deploy_order(["gcp", "aws"], accesses) == ["aws", "gcp"]


def test_stacks_reaching_into_each_other_are_refused() -> None:
    spec = mc_handoff.roundtrip.spec()
    accesses = remote_accesses(spec, resolve(spec, "aws", ("aws", "gcp")))
    with pytest.raises(
        CompilationError, match=r"stacks aws, gcp each have tasks that read or write"
    ):
        deploy_order(["aws", "gcp"], accesses)


def test_a_link_without_federation_names_task_dataset_and_what_is_missing() -> None:
    spec = mc_spread.pipeline.spec()
    placement = resolve(spec, "gcp", ("aws", "gcp"))
    with pytest.raises(
        CompilationError,
        match=r"task 'clean' \(gcp\) reads dataset 'orders', stored on 'aws'; a gcp task cannot "
        r"reach another provider's data \(no workload identity federation from gcp to aws is "
        r"built yet\): store the dataset on 'gcp', or run the task on 'aws'",
    ):
        accesses_from(spec, placement, "gcp", ())


def test_a_provider_declares_the_clouds_its_tasks_reach(monkeypatch: pytest.MonkeyPatch) -> None:
    """The multi-cloud compiler checks every link against the task provider's ``reaches``
    before any stack is built: a third provider joins by declaring it."""
    from glacier.compilation import MultiCloudCompiler
    from glacier_aws import AWSCompiler
    from glacier_gcp import GCPCompiler
    from glacier_gcp.provider import GCPProvider

    assert GCPProvider.reaches == ("aws",)
    monkeypatch.setattr(GCPProvider, "reaches", ())
    compiler = MultiCloudCompiler(
        providers={"aws": AWSCompiler(), "gcp": GCPCompiler("demo-project")}, default_provider="gcp"
    )
    with pytest.raises(CompilationError, match=r"a gcp task cannot reach another provider's data"):
        mc_spread.pipeline.compile(compiler)


def test_an_ephemeral_dataset_read_on_another_provider_is_refused() -> None:
    """Each orchestrator names its own runs: the reader would look under another run id."""
    from glacier.compilation import MultiCloudCompiler
    from glacier_aws import AWSCompiler
    from glacier_gcp import GCPCompiler

    compiler = MultiCloudCompiler(
        providers={"aws": AWSCompiler(), "gcp": GCPCompiler("demo-project")}, default_provider="aws"
    )
    with pytest.raises(
        CompilationError,
        match=r"dataset 'handed' is ephemeral \(kept per run in the aws stack's intermediate "
        r"bucket\) but task 'score' runs on gcp, whose runs have their own ids",
    ):
        mc_handoff.passing.compile(compiler)


def test_the_web_identity_exchange_needs_the_role_and_audience(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import tempfile

    from glacier.runtime.adapter import ConfigurationError
    from glacier_gcp.federation import web_identity

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    assert web_identity({}, fetch=lambda audience: "never") is None  # not asked for: nothing
    with pytest.raises(
        ConfigurationError, match="needs AWS_ROLE_ARN and GLACIER_WEB_IDENTITY_AUDIENCE"
    ):
        web_identity({"GLACIER_WEB_IDENTITY": "google"}, fetch=lambda audience: "never")
    env = {"GLACIER_WEB_IDENTITY": "google", "AWS_ROLE_ARN": "arn:aws:iam::1:role/r",
           "GLACIER_WEB_IDENTITY_AUDIENCE": "sts.amazonaws.com", "GLACIER_TASK": "clean"}  # fmt: skip
    path = web_identity(env, fetch=lambda audience: f"token-for-{audience}")
    assert path is not None and Path(path).read_text() == "token-for-sts.amazonaws.com"
    assert (env["AWS_WEB_IDENTITY_TOKEN_FILE"], env["AWS_ROLE_SESSION_NAME"]) == (
        path,
        "glacier-clean",
    )
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"  # readable by the task only
