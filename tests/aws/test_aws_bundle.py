"""The deploy-time Lambda bundle, built for real: pip fetches the Lambda platform's wheels
(manylinux aarch64, CPython 3.12) from the package index, as `pulumi up` does."""

from __future__ import annotations

import importlib.util
import sys
import zipfile
from pathlib import Path
from types import ModuleType

import pytest

from glacier.loader import load_pipeline
from glacier_aws import AWSCompiler
from glacier_aws.stack.bundle import platform_tags

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "aws_pipeline.py"
EM_AARCH64 = 183  # ELF e_machine of 64-bit ARM


def _bundle_module(stack: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "glacier_bundle_under_test", stack / "glacier_bundle.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks its module up there
    spec.loader.exec_module(module)
    return module


def test_platform_tags_cover_every_glibc_the_runtime_can_load() -> None:
    tags = platform_tags("3.12", "arm64")
    assert tags[0] == "manylinux_2_34_aarch64" and tags[-1] == "manylinux2014_aarch64"
    assert "manylinux_2_24_aarch64" in tags  # arro3-core (deltalake's) publishes only this one
    assert platform_tags("3.11", "x86_64")[0] == "manylinux_2_26_x86_64"  # Amazon Linux 2


@pytest.mark.slow
def test_lambda_bundle_installs_linux_arm64_wheels_and_fits_lambda(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GLACIER_BUNDLE_DEPS", raising=False)  # install for real
    stack = load_pipeline(str(EXAMPLE)).compile(AWSCompiler()).write(tmp_path) / "aws"
    bundle = _bundle_module(stack)
    built = bundle.build_lambda_bundle(
        str(stack / "app"), python_version="3.12", architecture="arm64"
    )
    assert 50 * 2**20 < built.unzipped_bytes < bundle.MAX_UNZIPPED_BYTES
    with zipfile.ZipFile(built.path) as archive:
        names = set(archive.namelist())
        assert {"manifest.json", "glacier_aws/runtime.py", "glacier/runtime/runner.py"} <= names
        native = [
            n for n in names if n.endswith(".so") and n.startswith(("_polars", "pydantic_core"))
        ]
        assert {n.split("/")[0] for n in native} >= {"_polars_runtime_32", "pydantic_core"}
        for name in native:
            header = archive.open(name).read(20)
            assert header[:4] == b"\x7fELF", name
            assert int.from_bytes(header[18:20], "little") == EM_AARCH64, name
        assert sum(i.file_size for i in archive.infolist()) == built.unzipped_bytes
    again = bundle.build_lambda_bundle(
        str(stack / "app"), python_version="3.12", architecture="arm64"
    )
    assert again == built  # cached by the hash of its inputs: no second download
