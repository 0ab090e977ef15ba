"""Placement, missing providers, transfers (every crossing, none where data stays), their
exact text, prices from the one table, and the monthly estimate."""

from __future__ import annotations

import mc_azure
import mc_spread
import pytest

from glacier import Dataset, Pipeline
from glacier.compilation import CompileInput, MultiCloudCompiler, resolve
from glacier.compilation.infrastructure import CrossCloudTransfer, Infrastructure, Stack
from glacier.compilation.prices import price_table, transfer_price
from glacier.compilation.sources import PipelineSource
from glacier.compilation.transfers import find_transfers, monthly_transfer_cost
from glacier.errors import CompilationError
from glacier.storage import ObjectStorage
from glacier_aws import AWSCompiler
from glacier_aws.compute import Lambda
from glacier_aws.storage import S3
from glacier_gcp import GCPCompiler


def _multi(default: str = "aws") -> MultiCloudCompiler:
    return MultiCloudCompiler(
        providers={"aws": AWSCompiler(region="us-east-1"), "gcp": GCPCompiler("demo-project")},
        default_provider=default,
    )


def _transfers(pipeline: Pipeline, default: str = "aws") -> list[CrossCloudTransfer]:
    compiler = _multi(default)
    spec = pipeline.spec()
    placement = resolve(spec, default, compiler.targets())
    return compiler.transfers(CompileInput(spec, placement, PipelineSource("m:p")))


def test_placement_specific_to_their_provider_generic_to_the_default() -> None:
    spec = mc_spread.pipeline.spec()
    placement = resolve(spec, "aws", ("aws", "gcp"))
    assert dict(placement.tasks) == {"clean": "gcp", "summarise": "aws", "publish": "gcp"}
    assert dict(placement.datasets) == {
        "orders": "aws", "cleaned": "aws", "totals": "gcp", "report": "aws",
    }  # fmt: skip
    flipped = resolve(spec, "gcp", ("aws", "gcp"))
    assert flipped.tasks["summarise"] == "gcp" and flipped.datasets["cleaned"] == "gcp"


def test_a_provider_specific_resource_without_its_compiler_names_resource_and_provider() -> None:
    with pytest.raises(
        CompilationError,
        match=r"dataset 'archive' uses BlobStorage\(object_storage\), which needs provider "
        r"'azure', but this compiler targets aws, gcp; add a 'azure' compiler",
    ):
        mc_azure.pipeline.compile(_multi())


def test_a_transfer_for_every_crossing_with_regions_and_prices() -> None:
    found = _transfers(mc_spread.pipeline, "aws")
    assert [str(t) for t in found] == [  # datasets by name
        "cleaned: clean (gcp) -> cleaned storage (aws), est. $0.12/GB egress",
        "orders: (source) (aws) -> clean (gcp), est. $0.09/GB egress",
        "report: publish (gcp) -> report storage (aws), est. $0.12/GB egress",
        "totals: summarise (aws) -> totals storage (gcp), est. $0.09/GB egress",
    ]
    assert [(t.from_region, t.to_region) for t in found] == [
        ("us-central1", "us-east-1"), ("us-east-1", "us-central1"),
        ("us-central1", "us-east-1"), ("us-east-1", "us-central1"),
    ]  # fmt: skip


def test_no_transfer_where_data_stays_put() -> None:
    pipeline = Pipeline(name="stays")
    out = Dataset("out", storage=ObjectStorage())

    @pipeline.task(compute=Lambda())
    def copy(rows: mc_spread.orders) -> out:  # type: ignore[valid-type]
        return rows

    assert _transfers(pipeline, "aws") == []


def test_cross_region_within_one_provider_is_a_transfer() -> None:
    far = Dataset("far", storage=S3("eu-archive", region="eu-west-1"))
    pipeline = Pipeline(name="regions")

    @pipeline.task(compute=Lambda())
    def archive(rows: mc_spread.orders) -> far:  # type: ignore[valid-type]
        return rows

    (transfer,) = _transfers(pipeline, "aws")
    assert str(transfer) == (
        "far: archive (aws us-east-1) -> far storage (aws eu-west-1), est. $0.02/GB inter-region"
    )


def test_warnings_print_in_the_documented_format() -> None:
    transfers = _transfers(mc_spread.pipeline, "aws")
    infra = Infrastructure("spread", {"aws": Stack("aws", {})}, list(transfers))
    assert (
        "CROSS-PROVIDER DATA TRANSFERS DETECTED\n"
        "  - cleaned: clean (gcp) -> cleaned storage (aws), est. $0.12/GB egress\n"
        "  - orders: (source) (aws) -> clean (gcp), est. $0.09/GB egress\n"
    ) in infra.summary()


def test_prices_come_from_one_dated_table_with_sources() -> None:
    egress = transfer_price("aws", "gcp", cross_region=False)
    assert egress is not None and (egress.usd, egress.as_of) == (0.09, "2026-11")
    assert transfer_price("gcp", "aws", cross_region=False).usd == 0.12  # type: ignore[union-attr]
    assert transfer_price("aws", "aws", cross_region=False) is None  # data stays: free
    assert transfer_price("nowhere", "aws", cross_region=False) is None
    rows = price_table(["aws", "gcp"])
    assert [(r.provider, r.scope) for r in rows] == [
        ("aws", "internet egress"), ("aws", "inter-region"),
        ("gcp", "internet egress"), ("gcp", "inter-region"),
    ]  # fmt: skip
    assert all(r.price.source.startswith("https://") for r in rows)


def test_monthly_cost_from_the_size_hint_and_the_schedule() -> None:
    spec = mc_spread.pipeline.spec()
    transfers = find_transfers(
        spec, resolve(spec, "aws", ("aws", "gcp")), {"aws": "us-east-1", "gcp": "us-central1"}
    )
    cost = monthly_transfer_cost(spec, transfers)
    # daily: 30 runs; orders 50 GB at $0.09, three 1 GB transfers at 0.12 + 0.09 + 0.12
    assert cost.usd == round(30 * (50 * 0.09 + 0.12 + 0.09 + 0.12), 2)
    assert "GB per run from metadata['expected_gb'] (1 dataset(s) hinted" in cost.assumptions


def test_a_bad_size_hint_is_a_clear_error() -> None:
    bad = Dataset("bad", storage=S3("bad-hint"), metadata={"expected_gb": "lots"})
    pipeline = Pipeline(name="hint")

    @pipeline.task(compute=mc_spread.CloudFunction())
    def read(rows: bad) -> mc_spread.report:  # type: ignore[valid-type]
        return rows

    spec = pipeline.spec()
    transfers = find_transfers(spec, resolve(spec, "aws", ("aws", "gcp")), {})
    with pytest.raises(CompilationError, match=r"dataset 'bad': metadata\['expected_gb'\] must be"):
        monthly_transfer_cost(spec, transfers)


def test_a_single_provider_compile_reports_its_cross_region_transfers() -> None:
    import mc_regions

    infra = mc_regions.pipeline.compile(AWSCompiler(region="us-east-1"))
    (transfer,) = infra.transfers
    assert str(transfer) == (
        "far: archive (aws us-east-1) -> far storage (aws eu-west-1), est. $0.02/GB inter-region"
    )
    assert "CROSS-REGION DATA TRANSFERS DETECTED\n  - far: archive" in infra.summary()
    assert infra.transfer_cost_usd == round(30 * 1 * 0.02, 2)


def test_a_multi_region_holding_the_region_is_not_a_transfer() -> None:
    from glacier.compilation.transfers import same_region

    assert same_region("US", "us-central1") and same_region("us-east-1", "US-EAST-1")
    assert not same_region("us-east-1", "eu-west-1") and not same_region("us", "europe-west1")
