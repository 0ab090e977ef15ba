"""The Azure deployment model: names, placement of datasets in accounts, sizes and the errors
a stack Azure would refuse gets at compile time instead."""

from __future__ import annotations

import re
from typing import Any

import pytest

from glacier import Dataset, Pipeline, Secret, compute
from glacier.compilation.resolve import resolve
from glacier.errors import CompilationError, DefinitionError
from glacier.storage import ObjectStorage
from glacier_azure import AzureCompiler
from glacier_azure.compute import AzureFunction
from glacier_azure.model import AzureModel, ModelOptions, build_model
from glacier_azure.naming import AZURE_STORAGE_ACCOUNT, account_base, secret_name
from glacier_azure.storage import BlobStorage

OPTIONS = ModelOptions("eastus", None, 7, 30, "UTC")


def _model(*datasets: Dataset, compute_: Any = None, name: str = "shop") -> AzureModel:
    """One task reading ``datasets[0]`` and writing the others."""
    p = Pipeline(name=name)
    source, *outputs = datasets

    def body(x: Any) -> Any:
        return x

    body.__annotations__ = {
        "x": source,
        "return": tuple[tuple(outputs)] if len(outputs) > 1 else outputs[0],
    }
    p.task(compute=compute_ or compute.serverless(timeout=60), name="work_it")(body)
    spec = p.spec()
    return build_model(spec, resolve(spec, "azure", ("azure",)), OPTIONS)


def test_generated_account_names_fit_azure_and_stay_stable() -> None:
    for pipeline in ("a", "orders", "x" * 40, "a-b_c9"):
        base = account_base(pipeline, "d")
        assert AZURE_STORAGE_ACCOUNT.problem(base + "0" * 8) is None, base
        assert base == account_base(pipeline, "d")
    assert account_base("orders", "d") != account_base("orders", "w")


def test_datasets_are_grouped_by_versioning_and_named_accounts() -> None:
    model = _model(
        Dataset("raw", storage=BlobStorage("drop", account="partnerdrop", create=False)),
        Dataset("kept", storage=ObjectStorage()),
        Dataset("scratch", storage=ObjectStorage(versioning=False)),
        Dataset("temp"),
    )
    by_role = {a.role: a for a in model.accounts}
    assert sorted(by_role) == ["data", "named", "work"]
    assert by_role["data"].versioning and not by_role["work"].versioning
    assert {c.name: c.datasets for c in by_role["work"].containers} == {
        "scratch": ("scratch",), "work": ("temp",)}  # fmt: skip
    named = by_role["named"]
    assert named.explicit_name == "partnerdrop" and not named.create and named.rules == ()


def test_an_account_with_conflicting_versioning_is_refused() -> None:
    with pytest.raises(
        CompilationError, match=r"share storage account 'lake' but declare different versioning"
    ):
        _model(
            Dataset("a", storage=BlobStorage("one", account="lake")),
            Dataset("b", storage=BlobStorage("two", account="lake", versioning=False)),
        )


def test_a_dataset_cannot_take_the_work_container() -> None:
    with pytest.raises(
        CompilationError, match=r"dataset 'work' would be stored in container 'work'"
    ):
        _model(
            Dataset("src", storage=ObjectStorage()),
            Dataset("work", storage=ObjectStorage(versioning=False)),
        )


def test_the_archive_tier_is_refused_because_nothing_could_read_it() -> None:
    with pytest.raises(CompilationError, match=r"dataset 'cold' asks for the Archive tier"):
        _model(
            Dataset("src", storage=ObjectStorage()),
            Dataset("cold", storage=BlobStorage("cold", tier="Archive")),
        )


def test_an_existing_container_needs_its_account() -> None:
    with pytest.raises(DefinitionError, match=r"create=False\) names a container .* add account="):
        BlobStorage("drop", create=False)


def test_a_function_that_outlasts_the_logic_apps_call_is_refused() -> None:
    with pytest.raises(
        CompilationError, match=r"timeout=300s but runs on AzureFunction.*ContainerApp"
    ):
        _model(Dataset("src", storage=ObjectStorage()), Dataset("out", storage=ObjectStorage()),
               compute_=AzureFunction(timeout=300))  # fmt: skip


def test_long_serverless_tasks_become_jobs_and_say_why() -> None:
    model = _model(Dataset("src", storage=ObjectStorage()), Dataset("out", storage=ObjectStorage()),
                   compute_=compute.serverless(timeout=900))  # fmt: skip
    (task,) = model.tasks
    assert task.packaging == "job" and "900s > the 120s a Logic App waits" in task.size.reason
    assert [w.message for w in model.warnings] == [task.size.reason]


def test_reserved_environment_names_are_refused() -> None:
    with pytest.raises(
        CompilationError, match=r"environment variable 'WEBSITE_X' uses a reserved prefix"
    ):
        _model(Dataset("src", storage=ObjectStorage()), Dataset("out", storage=ObjectStorage()),
               compute_=compute.serverless(timeout=60, env={"WEBSITE_X": "1"}))  # fmt: skip


def test_key_vault_secret_names_fit_and_stay_distinct() -> None:
    long_a, long_b = "a" * 130, "a" * 129 + "b"
    assert len(secret_name(long_a)) == 127 and secret_name(long_a) != secret_name(long_b)
    assert secret_name("orders/api-key") == "orders-api-key"
    with pytest.raises(
        CompilationError, match=r"secrets 'a\.b' and 'a_b' are both Key Vault secret 'a-b'"
    ):
        _model(Dataset("src", storage=ObjectStorage()), Dataset("out", storage=ObjectStorage()),
               compute_=compute.serverless(timeout=60, env={"X": Secret("a.b"), "Y": Secret("a_b")}))  # fmt: skip


def test_compiler_arguments_are_checked() -> None:
    with pytest.raises(
        CompilationError,
        match=r"location must be an Azure region name like 'eastus', found 'East US'",
    ):
        AzureCompiler(location="East US")
    with pytest.raises(CompilationError, match=r"resource group name 'bad\.' does not match"):
        AzureCompiler(resource_group="bad.")
    assert (
        repr(AzureCompiler("westeurope", "rg"))
        == "AzureCompiler(location='westeurope', resource_group='rg')"
    )


def test_from_env_reads_location_and_resource_group(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_LOCATION", "northeurope")
    monkeypatch.setenv("AZURE_RESOURCE_GROUP", "data-rg")
    compiler = AzureCompiler.from_env()
    assert (compiler.location, compiler.resource_group) == ("northeurope", "data-rg")
    assert re.fullmatch(r"[a-z]+", compiler.location)
