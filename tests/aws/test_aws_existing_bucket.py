"""``S3(bucket, create=False)``: the stack looks an existing bucket up and never changes it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aws_compile import compile_ref
from aws_mocks import Run, run_stack

from glacier.compilation import Infrastructure
from glacier.errors import CompilationError
from glacier.loader import load_pipeline
from glacier.resources import ResourceError
from glacier_aws import AWSCompiler
from glacier_aws.storage import S3

BUCKET_PARTS = (
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketVersioning:BucketVersioning",
    "aws:s3/bucketPolicy:BucketPolicy",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
)


@pytest.fixture(scope="module")
def ext_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    infra = compile_ref("aws_existing_bucket")
    return run_stack(infra.write(tmp_path_factory.mktemp("ext")) / "aws")


@pytest.mark.slow
def test_existing_buckets_are_looked_up_not_created(ext_run: Run) -> None:
    created = {r.name for r in ext_run.of("aws:s3/bucket:Bucket")}
    assert created == {"ext-summary", "ext-work", "ext-access-logs"}
    lookups = [args for token, args in ext_run.mocks.calls if token == "aws:s3/getBucket:getBucket"]
    assert sorted(a["bucket"] for a in lookups) == ["acme-lake", "acme-landing"]
    assert ext_run.mocks.reads == []  # a data-source lookup, not a resource read
    for typ in BUCKET_PARTS:  # no policy, versioning, lifecycle... on a bucket it does not own
        assert not {r.name for r in ext_run.of(typ)} & {"acme-landing", "acme-lake"}, typ
    assert ext_run.exports["buckets"]["landing"] == "acme-landing"


@pytest.mark.slow
def test_tasks_get_exactly_their_keys_in_existing_buckets(ext_run: Run) -> None:
    statements = {s["Sid"]: s for s in ext_run.policy("ext-load")["Statement"]}
    assert statements["ReadInputs"]["Resource"] == ["arn:aws:s3:::acme-landing/in/landing.parquet"]
    assert statements["WriteOutputs"]["Resource"] == ["arn:aws:s3:::acme-lake/sales/lake.parquet"]
    fn = ext_run.one("aws:lambda/function:Function", "ext-load").inputs
    assert json.loads(fn["environment"]["variables"]["GLACIER_LOCATIONS"]) == {
        "landing": "s3://acme-landing/in/landing.parquet",
        "lake": "s3://acme-lake/sales/lake.parquet",
    }


def test_the_plan_says_which_buckets_exist_already() -> None:
    infra = compile_ref("aws_existing_bucket")
    existing = {r.name for r in infra.resources if r.kind == "existing_s3_bucket"}
    assert existing == {"acme-landing", "acme-lake"}
    assert all(r.properties["existing"] for r in infra.resources if r.name in existing)
    # the pipeline's own: a dataset's bucket, the work bucket and the access-log bucket
    assert "2 existing_s3_bucket" in infra.plan() and "3 s3_bucket" in infra.plan()


def test_an_existing_bucket_cannot_be_configured() -> None:
    with pytest.raises(ResourceError, match=r"S3\('acme', create=False\) names a bucket this"):
        S3("acme", create=False, storage_class="STANDARD_IA")
    with pytest.raises(ResourceError, match="cannot set its storage_class or object_lock_enabled"):
        S3("acme", create=False, object_lock_enabled=True)


def test_one_bucket_cannot_be_both_existing_and_created(tmp_path: Path) -> None:
    module = tmp_path / "mixed.py"
    module.write_text(
        "from glacier import Dataset, Pipeline\n"
        "from glacier_aws.storage import S3\n"
        "a = Dataset('a', storage=S3('acme-shared', prefix='a', create=False))\n"
        "b = Dataset('b', storage=S3('acme-shared', prefix='b'))\n"
        "pipeline = Pipeline(name='mixed')\n"
        "@pipeline.task()\n"
        "def move(x: a) -> b:\n"
        "    return x\n",
        encoding="utf-8",
    )
    with pytest.raises(CompilationError, match=r"share S3 bucket 'acme-shared'.*create settings"):
        load_pipeline(str(module)).compile(AWSCompiler())


def test_the_cost_estimate_leaves_existing_buckets_to_their_owner() -> None:
    from aws_compile import PIPELINES

    infra = compile_ref("aws_existing_bucket")
    text = (PIPELINES / "aws_existing_bucket.py").read_text(encoding="utf-8")
    owned = load_pipeline_text(text.replace(", create=False", ""))
    assert infra.stacks["aws"].monthly_cost_usd < owned.stacks["aws"].monthly_cost_usd


def load_pipeline_text(text: str) -> Infrastructure:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        module = Path(folder) / "ext_owned.py"
        module.write_text(text, encoding="utf-8")
        return load_pipeline(str(module)).compile(AWSCompiler())
