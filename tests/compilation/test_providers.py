"""The provider protocol and registry: what each provider declares, how a third-party
package plugs in, and that the core asks the registry instead of naming clouds."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any, ClassVar

import fsspec
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from glacier import Dataset, LocalExecutor, Pipeline
from glacier.compilation import CompileInput, Compiler, MultiCloudCompiler, Stack, StackBuild
from glacier.compilation.naming import NameRule
from glacier.compilation.provider import Price, Provider
from glacier.compilation.registry import (
    ENTRY_POINT_GROUP,
    available_providers,
    get_provider,
    provider_for_url,
    register_provider,
)
from glacier.compute import ComputeResource
from glacier.errors import DefinitionError
from glacier.storage import LocalFS, StorageResource
from glacier_aws import AWSCompiler
from glacier_aws.compute import Lambda
from glacier_aws.storage import S3

registry_module = importlib.import_module("glacier.compilation.registry")


@pytest.fixture
def clean_registry() -> Iterator[None]:
    """Providers a test registers are gone after it."""
    saved = dict(registry_module._registry)
    yield
    registry_module._registry.clear()
    registry_module._registry.update(saved)
    registry_module._by_scheme.cache_clear()


@dataclass(frozen=True)
class MemBucket(StorageResource):
    """A third-party provider's storage: a bucket in fsspec's in-memory filesystem."""

    kind: ClassVar[str] = "object_storage"
    provider: ClassVar[str | None] = "memcloud"

    bucket: str
    prefix: str = ""


class MemCloud:
    """A third-party provider: declarations only, its data served by fsspec."""

    name = "memcloud"
    package = "glacier_memcloud"
    runtime = ""
    schemes = ("memory",)
    storage_class = f"{__name__}.MemBucket"
    egress = Price(0.05, "GB", as_of="2026-11", source="https://example.invalid/memcloud")
    name_rules: Mapping[str, NameRule] = {}
    limits: Mapping[str, int] = {}
    compiles = False

    def compiler(self) -> Any:
        raise NotImplementedError

    def location(self, storage: Any, key: str) -> str:
        return f"memory://{storage.config['bucket']}/{key}"

    def storage_options(self, storage: Any, given: Mapping[str, str]) -> dict[str, str]:
        return {**given, "bucket": str(storage.config["bucket"])} if storage else dict(given)

    def filesystem(self, options: Mapping[str, str]) -> Any:
        return fsspec.filesystem("memory")


# -- discovery -------------------------------------------------------------------------------


@pytest.mark.usefixtures("clean_registry")
def test_a_provider_declared_as_an_entry_point_is_found(monkeypatch: pytest.MonkeyPatch) -> None:
    point = EntryPoint("memcloud", f"{__name__}:MemCloud", ENTRY_POINT_GROUP)
    real = registry_module.entry_points

    def entry_points(*, group: str) -> list[EntryPoint]:
        return [*real(group=group), point] if group == ENTRY_POINT_GROUP else real(group=group)

    monkeypatch.setattr(registry_module, "entry_points", entry_points)
    assert "memcloud" in available_providers()
    provider = get_provider("memcloud")
    assert isinstance(provider, MemCloud) and isinstance(provider, Provider)
    assert provider_for_url("memory://lake/x.parquet") is provider


def test_an_entry_point_naming_the_wrong_object_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    point = EntryPoint("oddcloud", "glacier.errors:GlacierError", ENTRY_POINT_GROUP)
    monkeypatch.setattr(registry_module, "entry_points", lambda *, group: [point])
    with pytest.raises(
        registry_module.ProviderNotInstalledError,
        match=r"provider 'oddcloud' \(glacier.errors:GlacierError\) does not implement "
        r"glacier.compilation.Provider under that name",
    ):
        get_provider("oddcloud")


@pytest.mark.parametrize("name", ["aws", "gcp", "azure"])
def test_each_builtin_provider_declares_what_the_core_asks(name: str) -> None:
    provider = get_provider(name)
    assert isinstance(provider, Provider) and provider.name == name
    assert importlib.import_module(provider.package).__name__ == f"glacier_{name}"
    assert provider.schemes and all(s.isalnum() for s in provider.schemes)
    assert provider.egress.usd > 0 and provider.egress.unit == "GB"
    assert provider.egress.source.startswith("https://") and provider.egress.as_of
    assert provider.name_rules and all(
        isinstance(r, NameRule) for r in provider.name_rules.values()
    )
    assert provider.compiles
    module, _, cls = provider.storage_class.rpartition(".")
    storage = getattr(importlib.import_module(module), cls)
    assert issubclass(storage, StorageResource) and storage.provider == name


def test_the_aws_runtime_entry_point_is_what_its_functions_call() -> None:
    aws = get_provider("aws")
    module, _, function = aws.runtime.partition(":")
    assert callable(getattr(importlib.import_module(module), function))
    helpers = Path(importlib.import_module("glacier_aws").__file__ or "").parent / "stack"
    assert f'handler="{module}.{function}"' in (helpers / "compute.py").read_text()
    assert aws.limits["function_timeout_seconds"] == 900


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("s3://bucket/key.parquet", "aws"),
        ("S3A://bucket/key", "aws"),
        ("gs://bucket/key", "gcp"),
        ("az://container/key", "azure"),
        ("abfss://container@account.dfs.core.windows.net/key", "azure"),
        ("/tmp/data/key.parquet", None),
        ("file:///tmp/key.parquet", None),
        ("https://example.com/key.parquet", None),
    ],
)
def test_url_schemes_belong_to_the_provider_that_declares_them(url: str, name: str | None) -> None:
    provider = provider_for_url(url)
    assert (provider.name if provider else None) == name


def test_azure_completes_storage_options_with_the_resources_account() -> None:
    from glacier_azure.storage import BlobStorage

    azure, storage = get_provider("azure"), BlobStorage("lake", account="acct").to_ir()
    assert azure.storage_options(storage, {}) == {"account_name": "acct"}
    assert azure.storage_options(storage, {"account_name": "other"}) == {"account_name": "other"}
    assert azure.storage_options(storage, {"azure_storage_use_emulator": "true"}) == {
        "azure_storage_use_emulator": "true"
    }
    assert azure.location(storage, "p/raw.parquet") == "az://lake/p/raw.parquet"


# -- a third-party provider plugs in without core changes ------------------------------------


@pytest.mark.usefixtures("clean_registry")
def test_a_third_party_provider_serves_remote_runs(tmp_path: Path) -> None:
    """Its URL scheme, locations and filesystem come from its provider object: the core had
    a fixed scheme map (``s3``/``gs``/``az``) and refused any other provider's options."""
    register_provider("memcloud", MemCloud())
    raw = Dataset("raw", storage=MemBucket(bucket="lake", prefix="in/"))
    doubled = Dataset("doubled", storage=MemBucket(bucket="lake"))
    pipeline = Pipeline(name="mem")

    @pipeline.task()
    def double(data: raw) -> doubled:
        return data.with_columns(pl.col("x") * 2)

    memory = fsspec.filesystem("memory")
    frame = pl.DataFrame({"x": [1, 2, 3]})
    memory.pipe_file("memory://lake/in/raw.parquet", _parquet(frame))
    executor = LocalExecutor(storage="remote", storage_options={"memcloud": {}}, root=tmp_path)
    result = pipeline.run(executor)
    assert result.path("doubled") == "memory://lake/doubled.parquet"
    written = pl.read_parquet(memory.cat_file("memory://lake/doubled.parquet"))
    assert_frame_equal(written, frame.with_columns(pl.col("x") * 2))
    memory.rm("memory://lake", recursive=True)


@pytest.mark.usefixtures("clean_registry")
def test_localfs_names_the_storage_class_of_the_provider_a_url_belongs_to() -> None:
    """The class comes from the provider: the core's fixed table of three raised a KeyError
    for any other provider's URL."""
    register_provider("memcloud", MemCloud())
    with pytest.raises(
        DefinitionError,
        match=rf"found the URL 'memory://lake/in'; for memory:// data use {__name__}.MemBucket",
    ):
        LocalFS("memory://lake/in")


def _parquet(frame: pl.DataFrame) -> bytes:
    import io

    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    return buffer.getvalue()


@pytest.mark.usefixtures("clean_registry")
def test_bundles_vendor_every_installed_provider_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The AWS bundle listed the GCP and Azure packages by name; it now asks the registry."""
    package = tmp_path / "glacier_memcloud"
    package.mkdir()
    (package / "__init__.py").write_text('"""A third-party provider package."""\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    register_provider("memcloud", MemCloud())
    files = _compiled_pipeline().stacks["aws"].files
    assert files["app/glacier_memcloud/__init__.py"] == '"""A third-party provider package."""\n'
    for name in ("glacier", "glacier_aws", "glacier_gcp", "glacier_azure"):
        assert f"app/{name}/__init__.py" in files
    sys.modules.pop("glacier_memcloud", None)


@pytest.mark.usefixtures("clean_registry")
def test_cross_provider_transfers_use_the_price_the_provider_declares() -> None:
    """Egress prices were set in three places (the compiler class, its base, the provider);
    the provider's declaration is now the one source."""
    register_provider("memcloud", MemCloud())
    raw = Dataset("mem_raw", storage=MemBucket(bucket="lake"))
    out = Dataset("mem_out", storage=S3("glacier-mem-out"))
    pipeline = _module_pipeline(raw, out, MemFunction())
    compiler = MultiCloudCompiler(
        providers={"aws": AWSCompiler(), "memcloud": MemCompiler()}, default_provider="aws"
    )
    (transfer,) = pipeline.compile(compiler).transfers
    assert (transfer.from_provider, transfer.to_provider) == ("memcloud", "aws")
    assert transfer.est_cost_per_gb_usd == 0.05
    assert str(transfer).endswith("est. $0.05/GB egress")


class MemFunction(ComputeResource):
    kind = "serverless"
    provider = "memcloud"


class MemCompiler(Compiler):
    """A compiler for memcloud that builds an empty stack."""

    provider = "memcloud"

    def build_stack(self, job: CompileInput) -> StackBuild:
        return StackBuild(Stack("memcloud", {}))


def _module_pipeline(raw: Dataset, out: Dataset, compute: ComputeResource) -> Pipeline:
    """A module-level pipeline (the compiler bundles this module) copying ``raw`` to ``out``."""
    pipeline = Pipeline(name="copy")
    globals()["pipeline_under_test"] = pipeline

    @pipeline.task(compute=compute)
    def copy(data: raw) -> out:  # type: ignore[valid-type]
        return data

    return pipeline


def _compiled_pipeline() -> Any:
    raw = Dataset("landing", storage=S3("glacier-landing"))
    out = Dataset("copied", storage=S3("glacier-copied"))
    return _module_pipeline(raw, out, Lambda()).compile(AWSCompiler())
