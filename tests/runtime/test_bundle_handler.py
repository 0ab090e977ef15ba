"""A compiled multi-module project's bundle runs its task in a clean interpreter.

The project (``tests/pipelines/bundle_shop``) spans a package with helpers, imports ``yaml``
and imports a declared requirement (``idna``) by name at run time. The stack's ``app/`` is
imported by ``python -I -S`` (no environment paths, no user site, no ``.pth`` files: not this checkout's
editable install) with only the bundle on ``sys.path``, plus a finder that serves the
installed distributions the bundle's ``requirements-lambda.txt`` names (with their
dependencies) and those the Lambda runtime provides: what ``pip install -r`` gives the
function. The Lambda handler then runs the task against moto's S3.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from importlib import metadata

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from runtime_support import CREDENTIALS, PIPELINES, s3_locations, task_locations

from glacier.io import scan_dataset
from glacier.ir import from_json
from glacier.loader import load_pipeline
from glacier_aws import AWSCompiler

pytestmark = pytest.mark.slow

#: What the Lambda Python runtime provides without installing it.
PLATFORM = ("boto3",)

_HANDLER = """
import importlib.machinery, json, sys
app, tops, folders = json.loads(sys.argv[1])
sys.path.insert(0, app)

class Installed:
    @staticmethod
    def find_spec(name, path=None, target=None):
        if path is None and name in tops:
            return importlib.machinery.PathFinder.find_spec(name, folders)
        return None

sys.meta_path.append(Installed)
from glacier_aws import runtime
print(json.dumps(runtime.handler({"run_id": "run-1"}, None)))
"""


def _installed(requirements: str) -> tuple[list[str], list[str]]:
    """(top-level modules, folders) of the distributions ``requirements`` names, the
    platform's, and everything they require."""
    todo = [re.split(r"[\s<>=!~;\[@]", line, maxsplit=1)[0] for line in requirements.splitlines()]
    todo += PLATFORM
    names: set[str] = set()
    while todo:
        name = re.sub(r"[-_.]+", "-", todo.pop()).lower()
        if name in names:
            continue
        names.add(name)
        requires = metadata.distribution(name).requires or []
        todo += [re.split(r"[\s<>=!~;\[(]", r, maxsplit=1)[0] for r in requires if "extra" not in r]
    tops = [
        top
        for top, dists in metadata.packages_distributions().items()
        if {re.sub(r"[-_.]+", "-", d).lower() for d in dists} & names
    ]
    folders = sorted({str(metadata.distribution(n).locate_file("")) for n in names})
    return sorted(tops), folders


def test_the_bundle_of_a_multi_module_project_runs_its_task_in_a_clean_interpreter(
    tmp_path, s3, moto_endpoint, storage_options
):  # type: ignore[no-untyped-def]
    pipeline = load_pipeline(str(PIPELINES / "bundle_shop" / "pipeline.py"))
    stack = pipeline.compile(AWSCompiler()).write(tmp_path / "infra") / "aws"
    app = stack / "app"
    spec = from_json((app / "manifest.json").read_text())
    buckets = {"orders": "shop-orders", "valid_orders": "shop-valid-orders"}
    for bucket in buckets.values():
        s3.create_bucket(Bucket=bucket)
    locations = s3_locations(spec, buckets)
    orders = sys.modules["bundle_shop.pipeline"].sample_orders()
    buffer = io.BytesIO()
    orders.write_parquet(buffer)
    bucket, key = locations["orders"].removeprefix("s3://").split("/", 1)
    s3.put_object(Bucket=bucket, Key=key, Body=buffer.getvalue())

    tops, folders = _installed((app / "requirements-lambda.txt").read_text())
    env = {
        "GLACIER_TASK": "validate",
        "GLACIER_LOCATIONS": json.dumps(task_locations(spec.task("validate"), locations)),
        "GLACIER_MANIFEST": "manifest.json",
        "GLACIER_BUNDLE_ROOT": str(app),
        "GLACIER_STORAGE_OPTIONS": json.dumps(storage_options),
        "AWS_DEFAULT_REGION": "us-east-1",
        **{k.upper(): v for k, v in CREDENTIALS.items()},
    }
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", _HANDLER, json.dumps([str(app), tops, folders])],
        env=env,
        cwd=app,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:] + done.stdout[-2000:]
    report = json.loads(done.stdout.splitlines()[-1])
    assert report["status"] == "succeeded" and report["rows"] == 2

    written = scan_dataset(spec.dataset("valid_orders"), locations["valid_orders"], storage_options)
    expected = pl.DataFrame(
        {
            "order_id": [2, 3],
            "amount": [5.0, 10.0],
            "shop": ["bücher", "café"],
            "domain": ["xn--bcher-kva", "xn--caf-dma"],
        }
    )
    assert_frame_equal(written.collect(), expected, check_row_order=False)
