"""Keys that cannot reach other data, and KMS keys used only as the data needs them.

An S3 prefix is a Polars glob and an IAM wildcard at once, so ``prefix="*"`` read (and was
granted) other teams' data; two datasets whose keys overlap in one bucket overwrote each
other's objects; an SSE-KMS bucket's tasks could not decrypt. (The prefix rule itself, shared
by every object store, is tested in ``tests/core/test_core_key_prefixes.py``.)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_mocks import run_stack

from glacier.compilation import Infrastructure
from glacier.errors import CompilationError
from glacier.loader import load_pipeline
from glacier.resources import ResourceError
from glacier_aws import AWSCompiler
from glacier_aws.storage import S3

KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ALIAS = "arn:aws:kms:us-east-1:123456789012:alias/team/lake"


def _compile(tmp_path: Path, body: str, name: str = "keys") -> Infrastructure:
    module = tmp_path / f"{name}.py"
    header = (
        "from glacier import Dataset, Pipeline, compute\n"
        "from glacier.storage import ObjectStorage\n"
        "from glacier_aws.storage import S3\n"
        f"pipeline = Pipeline(name={name!r})\n"
    )
    module.write_text(header + body, encoding="utf-8")
    return load_pipeline(str(module)).compile(AWSCompiler())


def _statements(infra: Infrastructure, role: str) -> dict[str, dict[str, Any]]:
    policies = json.loads(infra.stacks["aws"].files["policies.json"])[role]
    documents = [policies["inline"], *policies.get("managed", ())]
    return {s["Sid"]: s for doc in documents for s in doc["Statement"]}


# -- overlapping keys ----------------------------------------------------------------------


def test_a_dataset_inside_another_datasets_folder_is_refused_naming_both(tmp_path: Path) -> None:
    """A Delta table is the folder ``table.delta/``; a dataset stored under that prefix in the
    same bucket would be replaced (and deleted) by every write of the table."""
    body = (
        "src = Dataset('src', storage=S3('acme-lake', prefix='in'))\n"
        "table = Dataset('table', storage=S3('acme-lake'), format='delta')\n"
        "part = Dataset('part', storage=S3('acme-lake', prefix='table.delta'))\n"
        "@pipeline.task(compute=compute.container())\n"
        "def build(x: src) -> table:\n"
        "    return x\n"
        "@pipeline.task()\n"
        "def split(x: src) -> part:\n"
        "    return x\n"
    )
    with pytest.raises(CompilationError) as caught:
        _compile(tmp_path, body)
    message = str(caught.value)
    assert message.startswith("datasets 'table' and 'part' overlap in 'acme-lake': ")
    assert "'table.delta/part.parquet'" in message and "another prefix or name" in message
    assert "\n" not in message


def test_neighbouring_keys_that_do_not_overlap_compile(tmp_path: Path) -> None:
    body = (
        "src = Dataset('src', storage=S3('acme-lake', prefix='in'))\n"
        "table = Dataset('table', storage=S3('acme-lake'), format='delta')\n"
        "part = Dataset('part', storage=S3('acme-lake', prefix='table.delta2'))\n"
        "@pipeline.task(compute=compute.container())\n"
        "def build(x: src) -> table:\n"
        "    return x\n"
        "@pipeline.task()\n"
        "def split(x: src) -> part:\n"
        "    return x\n"
    )
    infra = _compile(tmp_path, body)
    locations = {d.dataset: d.location for d in infra.stacks["aws"].datasets}
    assert locations["part"] == "s3://acme-lake/table.delta2/part.parquet"


# -- KMS -------------------------------------------------------------------------------------

_KMS_PIPELINE = (
    "landing = Dataset('landing', storage=S3('acme-landing', prefix='in', create=False,\n"
    f"                                        kms_key={KEY!r}))\n"
    f"lake = Dataset('lake', storage=S3('acme-kms-lake', kms_key={ALIAS!r}))\n"
    "summary = Dataset('summary', storage=ObjectStorage())\n"
    "@pipeline.task()\n"
    "def load(x: landing) -> lake:\n"
    "    return x\n"
    "@pipeline.task()\n"
    "def summarize(x: lake) -> summary:\n"
    "    return x\n"
)


def test_readers_may_decrypt_and_writers_may_also_generate_data_keys(tmp_path: Path) -> None:
    """An existing SSE-KMS bucket (``create=False``): its readers get ``kms:Decrypt`` on that
    key only, only through S3 in the key's region; a writer gets ``kms:GenerateDataKey`` too.
    An alias ARN is matched the way IAM can: any key, conditioned on carrying the alias."""
    infra = _compile(tmp_path, _KMS_PIPELINE)
    via = {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}
    load = _statements(infra, "keys-load")
    assert [s for s in load if s.startswith("UseKey")] == ["UseKey", "UseKey1"]
    by_key = {s["Resource"][0]: s for sid, s in load.items() if sid.startswith("UseKey")}
    assert by_key[KEY]["Action"] == ["kms:Decrypt"] and by_key[KEY]["Condition"] == via
    aliased = by_key["arn:aws:kms:us-east-1:123456789012:key/*"]
    assert aliased["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert aliased["Condition"] == {
        **via,
        "ForAnyValue:StringEquals": {"kms:ResourceAliases": "alias/team/lake"},
    }
    summarize = _statements(infra, "keys-summarize")
    (use,) = [s for sid, s in summarize.items() if sid.startswith("UseKey")]
    assert use["Action"] == ["kms:Decrypt"]  # it only reads the lake; the summary is SSE-S3
    assert "kms" not in json.dumps(_statements(infra, "keys-states"))


def test_kms_statements_are_in_the_plan(tmp_path: Path) -> None:
    plan = _compile(tmp_path, _KMS_PIPELINE).plan()
    assert f"task role: kms:Decrypt on {KEY} (kms:ViaService s3.us-east-1.amazonaws.com)" in plan


@pytest.mark.slow
def test_a_bucket_the_stack_creates_encrypts_with_its_kms_key(tmp_path: Path) -> None:
    infra = _compile(tmp_path, _KMS_PIPELINE)
    run = run_stack(infra.write(tmp_path / "out") / "aws")
    sse = run.one(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "acme-kms-lake",
    ).inputs["rules"]
    assert sse == [
        {
            "applyServerSideEncryptionByDefault": {
                "sseAlgorithm": "aws:kms",
                "kmsMasterKeyId": ALIAS,
            },
            "bucketKeyEnabled": True,
        }
    ]
    work = run.one(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "keys-work",
    ).inputs["rules"]
    assert work == [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]
    keys = [
        s["Resource"] for s in run.policy("keys-load")["Statement"] if s["Sid"].startswith("Use")
    ]
    assert keys == [["arn:aws:kms:us-east-1:123456789012:key/*"], [KEY]]


@pytest.mark.parametrize(
    "key",
    [
        "1234abcd-12ab-34cd-56ef-1234567890ab",  # a key id: the policy needs the ARN
        "alias/team/lake",
        "arn:aws:kms:us-east-1:123456789012:key/*",
        "arn:aws:s3:::acme-lake",
        "arn:aws:kms:us-east-1:12345:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    ],
)
def test_kms_key_must_be_a_key_or_alias_arn(key: str) -> None:
    with pytest.raises(ResourceError, match=r"S3: kms_key must be a KMS key ARN .* found"):
        S3("acme-lake", kms_key=key)


def test_kms_key_must_be_in_the_buckets_region() -> None:
    with pytest.raises(
        ResourceError, match=r"kms_key .* is in us-east-1, but the bucket is in eu-west-1"
    ):
        S3("acme-lake", region="eu-west-1", kms_key=KEY)
    assert S3("acme-lake", region="us-east-1", kms_key=KEY).kms_key == KEY


def test_datasets_sharing_a_bucket_share_its_kms_key(tmp_path: Path) -> None:
    body = (
        f"a = Dataset('a', storage=S3('acme-lake', prefix='a', kms_key={KEY!r}))\n"
        "b = Dataset('b', storage=S3('acme-lake', prefix='b'))\n"
        "@pipeline.task()\n"
        "def move(x: a) -> b:\n"
        "    return x\n"
    )
    with pytest.raises(CompilationError, match=r"share S3 bucket 'acme-lake'.*kms_key"):
        _compile(tmp_path, body)
