"""One resource model and one IR: every resource is a frozen dataclass that checks itself, its
IR holds every field, and ``pipeline.spec()`` is the one IR, JSON round-trippable exactly."""

from __future__ import annotations

import dataclasses
import importlib
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import glacier
import glacier.compilation
import glacier.resources
import glacier_aws
import glacier_aws.hints
from glacier import Dataset, Pipeline, PipelineIR, Secret, compute, task
from glacier.compilation.registry import check_storage_hints
from glacier.errors import ProviderNotInstalledError, ResourceError
from glacier.ir import ResourceIR, from_json, to_json
from glacier.storage import LocalFS, ObjectStorage
from glacier_aws.compute import Fargate, Lambda
from glacier_aws.storage import S3
from glacier_azure.compute import AzureFunction, ContainerApp
from glacier_azure.storage import BlobStorage
from glacier_gcp.compute import CloudFunction, CloudRun
from glacier_gcp.storage import GCS

#: Every resource class, with the arguments it requires.
CLASSES: list[tuple[type, dict[str, Any]]] = [
    (compute.Local, {}), (compute.Container, {}), (compute.Serverless, {}), (ObjectStorage, {}),
    (LocalFS, {}), (S3, {"bucket": "my-bucket"}), (Lambda, {}), (Fargate, {}),
    (GCS, {"bucket": "my-bucket"}), (CloudFunction, {}), (CloudRun, {}),
    (BlobStorage, {"container": "data"}), (AzureFunction, {}), (ContainerApp, {}),
]  # fmt: skip
IDS = [c.__name__ for c, _ in CLASSES]
PACKAGE = Path(glacier.__file__).parent


def test_spec_is_the_one_immutable_ir() -> None:
    raw, out = Dataset("raw", ObjectStorage()), Dataset("out")

    @task(compute=Lambda(memory=512))
    def step(data: raw) -> out:
        return data

    pipeline = Pipeline([step], name="one-ir")
    spec = pipeline.spec()
    assert type(spec) is PipelineIR and dataclasses.is_dataclass(spec)
    assert pipeline.spec() is spec
    assert from_json(to_json(spec)) == spec
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.task("step").retries = 3  # type: ignore[misc]
    assert not (PACKAGE / "spec.py").exists()  # no second IR


@pytest.mark.parametrize(("cls", "required"), CLASSES, ids=IDS)
def test_resources_are_frozen_dataclasses_whose_ir_holds_every_field(
    cls: type, required: dict[str, Any]
) -> None:
    resource = cls(**required)
    assert dataclasses.is_dataclass(resource)
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(resource, dataclasses.fields(resource)[0].name, None)
    config = resource.to_ir().config
    assert list(config) == [f.name for f in dataclasses.fields(resource)]
    assert config == glacier.resources.as_json(resource)


def test_no_pydantic_look_alike_and_no_lazy_imports_for_it() -> None:
    assert not (PACKAGE / "model.py").exists()
    assert not hasattr(ResourceIR, "option")  # readers index config, which holds every field
    for module in (glacier.compilation, glacier.resources):
        assert "__getattr__" not in vars(module), module.__name__
    # glacier_aws loads one name on first use, its compiler (see the next test), and no other.
    assert glacier_aws.AWSCompiler is importlib.import_module("glacier_aws.compiler").AWSCompiler
    with pytest.raises(AttributeError, match="module 'glacier_aws' has no attribute 'Nope'"):
        _ = glacier_aws.Nope  # type: ignore[attr-defined]


_HINT_PROBE = """
import importlib
import sys

registry = importlib.import_module("glacier.compilation.registry")

def scan(**kwargs):
    raise AssertionError("the installed distributions' entry points were read")

registry.entry_points = scan
from glacier.storage import ObjectStorage
ObjectStorage("infrequent", aws_storage_class="INTELLIGENT_TIERING")
print(" ".join(sorted(m for m in sys.modules if m.startswith("glacier_aws"))))
"""


@pytest.mark.slow
def test_a_storage_hint_loads_only_the_providers_declarations() -> None:
    """Checking ``aws_storage_class`` (the quickstart has one) imports glacier_aws's
    declarations and hint list, not its compiler, and reads no entry-point metadata: both cost
    every ``glacier validate``/``run`` and every deployed function, and only compiling needs
    them (decision 085)."""
    env = {**os.environ, "PYTHONPATH": str(PACKAGE.parent)}
    done = subprocess.run(
        [sys.executable, "-c", _HINT_PROBE], capture_output=True, text=True, env=env, check=False
    )
    assert done.returncode == 0, done.stderr
    loaded = done.stdout.split()
    assert "glacier_aws.hints" in loaded and "glacier_aws.compiler" not in loaded, loaded


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: compute.serverless(memory="2048"), "Serverless: memory must be an int greater than 0, found '2048'"),
        (lambda: compute.serverless(memory=True), "Serverless: memory must be an int greater than 0, found True"),
        (lambda: compute.container(cpu="2"), "Container: cpu must be a number greater than 0, found '2'"),
        (lambda: compute.container(image=3), "Container: image must be a str or None, found 3"),
        (lambda: compute.serverless(env=["A"]), "Serverless: env must be a dict of name -> str or Secret, found ['A']"),
        (lambda: compute.Local(workers=1.0), "Local: workers must be an int at least 1, found 1.0"),
        (lambda: ObjectStorage(versioning="yes"), "ObjectStorage: versioning must be a bool, found 'yes'"),
        (lambda: ObjectStorage(aws_storage_class=3), "ObjectStorage: aws_storage_class must be a str or None, found 3"),
        (lambda: LocalFS(3), "LocalFS: base_path must be a str or PathLike, found 3"),
        (lambda: Secret(""), "Secret: secret must be a secret name of 1-128 letters, digits and /_+=.@- starting with a letter or digit, found ''"),
        (lambda: Secret("a" * 129), "Secret: secret must be a secret name of 1-128 letters"),
        (lambda: S3("my-bucket", prefix="a b"), "S3: prefix 'a b' does not match the S3 key prefix naming rule"),
        (lambda: S3("my-bucket", region="mars"), "S3: region must be an AWS region like 'us-east-1', found 'mars'"),
        (lambda: S3("my-bucket", storage_class="COLD"), "S3: storage_class must be one of 'STANDARD', 'INTELLIGENT_TIERING', "),
        (lambda: S3("my-bucket", create="no"), "S3: create must be a bool, found 'no'"),
        (lambda: S3("acme", create=False, object_lock_enabled=True), "S3: S3('acme', create=False) names a bucket this pipeline does not own"),
        (lambda: Lambda(memory=64), "Lambda: memory must be an int from 128 to 10240, found 64"),
        (lambda: Lambda(layers=["x"]), "Lambda: layers must be Lambda layer version ARNs, found 'x'"),
        (lambda: Lambda(layers="arn:aws:lambda:us-east-1:1:layer:x:1"), "Lambda: layers must be a tuple or list"),
        (lambda: Lambda(reserved_concurrency=-1), "Lambda: reserved_concurrency must be an int at least 0 or None, found -1"),
        (lambda: Lambda(architecture="x86"), "Lambda: architecture must be one of 'arm64', 'x86_64', found 'x86'"),
        (lambda: Lambda(runtime="python2.7"), "Lambda: runtime must be a Python runtime such as 'python3.12', found 'python2.7'"),
        (lambda: Fargate(cpu=3, memory=1), "Fargate: Fargate(cpu=3, memory=1) is not a size Fargate offers: cpu must be one of 0.25, 0.5, 1, 2, 4, 8, 16 with its memory range; the nearest valid size is cpu=4, memory=8192"),
        (lambda: Fargate(ephemeral_storage=10), "Fargate: ephemeral_storage must be an int from 21 to 200, found 10"),
        (lambda: GCS("lake", location="-x"), "GCS: location must be a location like 'US', 'EU' or 'us-central1', found '-x'"),
        (lambda: CloudFunction(runtime="python3.12"), "CloudFunction: runtime must be a Python runtime such as 'python312', found 'python3.12'"),
        (lambda: CloudRun(memory=256), "CloudRun: memory must be an int from 512 to 32768, found 256"),
        (lambda: BlobStorage("lake", account="Lake_1"), "BlobStorage: account 'Lake_1' does not match the Azure storage account naming rule"),
        (lambda: AzureFunction(memory=2048.0), "AzureFunction: memory must be one of 512, 2048, 4096, found 2048.0"),
        (lambda: ContainerApp(cpu=5), "ContainerApp: cpu must be a number greater than 0 and at most 4, found 5"),
    ],
)  # fmt: skip
def test_each_resource_says_what_is_wrong_in_one_line(make: Any, message: str) -> None:
    with pytest.raises(ResourceError, match=f"^{re.escape(message)}") as caught:
        make()
    assert "\n" not in str(caught.value)


def test_values_are_stored_in_one_canonical_form() -> None:
    assert type(compute.container(cpu=2).cpu) is float and Fargate(cpu=2, memory=4096).cpu == 2.0
    assert list(compute.serverless(env={"B": "1", "A": Secret("s")}).env) == ["A", "B"]
    assert (
        S3("my-bucket", prefix="/raw").prefix == "raw/" and GCS("lake", prefix="a").prefix == "a/"
    )
    assert LocalFS(Path("data")) == LocalFS("data") and LocalFS(Path("data")).base_path == "data"
    assert Lambda(layers=["arn:aws:lambda:us-east-1:1:layer:x:1"]).layers == (
        "arn:aws:lambda:us-east-1:1:layer:x:1",
    )
    assert compute.serverless(env={"T": Secret("t")}).to_ir().config["env"] == {
        "T": {"secret": "t"}
    }


def test_storage_hints_are_checked_by_their_provider_package(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert not hasattr(glacier.storage, "AWS_STORAGE_CLASSES")  # the core lists no cloud's classes
    assert ObjectStorage(aws_storage_class="GLACIER_IR").aws_storage_class == "GLACIER_IR"
    monkeypatch.setitem(
        glacier_aws.hints.STORAGE_HINTS, "storage_class", ("STANDARD", "EXPRESS_ONEZONE")
    )
    assert ObjectStorage(aws_storage_class="EXPRESS_ONEZONE").aws_storage_class == "EXPRESS_ONEZONE"
    with pytest.raises(
        ResourceError,
        match=r"^ObjectStorage: aws_storage_class: AWS has no storage_class 'GLACIER_IR'; "
        r"expected one of STANDARD, EXPRESS_ONEZONE$",
    ):
        ObjectStorage(aws_storage_class="GLACIER_IR")


def test_the_registry_asks_the_provider_package() -> None:
    check_storage_hints("gcp", {"storage_class": "NEARLINE"})  # no GCP compiler is needed
    with pytest.raises(ValueError, match=r"^Azure takes no storage hint 'colour'; it takes: tier$"):
        check_storage_hints("azure", {"colour": "blue"})
    with pytest.raises(ProviderNotInstalledError, match=r"^unknown provider 'nosuch'; known"):
        check_storage_hints("nosuch", {"x": 1})
