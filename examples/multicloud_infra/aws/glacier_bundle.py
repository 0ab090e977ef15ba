"""Build a Lambda bundle at deploy time: the app folder plus its dependencies for Lambda.

Runs inside ``pulumi up`` (stdlib only). ``app/requirements-lambda.txt`` is installed with
``pip install --platform manylinux_2_<N>_<arch> ... --only-binary=:all: --target`` (every
glibc from 2.17 up to the runtime's: 2.34 on Amazon Linux 2023, python3.12 and later; 2.26
before) so the wheels match Lambda's Linux and CPU whatever machine deploys; pip does not
widen one platform tag to older glibc versions itself. Then everything is zipped with fixed
timestamps so the same inputs give the same archive (and no needless Lambda update). The
build is cached under ``.glacier-build/<hash of inputs>/``. A folder without Glacier's runtime
(a stack committed without its generated ``app/glacier*/`` folders) is refused with the fix.

Set ``GLACIER_BUNDLE_DEPS=skip`` to zip the app folder without installing dependencies:
the tests do this to run the program under Pulumi's mocks without downloading anything.
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

#: Lambda's limit on a function's unzipped code and layers.
MAX_UNZIPPED_BYTES = 250 * 1024 * 1024
_ARCHES = {"arm64": "aarch64", "x86_64": "x86_64"}


def platform_tags(python_version: str, architecture: str) -> list[str]:
    """The manylinux tags a Lambda Python runtime can load, newest glibc first."""
    major, minor = (int(p) for p in python_version.split(".")[:2])
    glibc = 34 if (major, minor) >= (3, 12) else 26  # Amazon Linux 2023 / Amazon Linux 2
    arch = _ARCHES[architecture]
    return [f"manylinux_2_{v}_{arch}" for v in range(glibc, 16, -1)] + [f"manylinux2014_{arch}"]


_EPOCH = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class BuiltBundle:
    """A zip ready to upload, and its base64 sha256 (Lambda's ``source_code_hash``)."""

    path: str
    sha256: str
    unzipped_bytes: int


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


def _digest(app: Path, python_version: str, architecture: str) -> str:
    h = hashlib.sha256(f"{python_version}/{architecture}".encode())
    for path in _files(app):
        h.update(str(path.relative_to(app)).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:16]


def _install(requirements: Path, target: Path, python_version: str, architecture: str) -> None:
    platforms = [
        a for tag in platform_tags(python_version, architecture) for a in ("--platform", tag)
    ]
    command = [
        sys.executable, "-m", "pip", "install", "--quiet", "--no-compile", *platforms,
        "--implementation", "cp", "--python-version", python_version, "--only-binary=:all:",
        "--target", str(target), "-r", str(requirements),
    ]  # fmt: skip
    subprocess.run(command, check=True)


def _zip(sources: list[Path], dest: Path) -> int:
    total = 0
    with zipfile.ZipFile(dest, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        entries = sorted((str(p.relative_to(root)), p) for root in sources for p in _files(root))
        for name, path in entries:
            info = zipfile.ZipInfo(name, date_time=_EPOCH)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            data = path.read_bytes()
            total += len(data)
            archive.writestr(info, data)
    return total


#: What every bundle holds besides the user's code: the manifest and Glacier's runtime.
RUNTIME_FILES = ("manifest.json", "glacier/__init__.py", "glacier_aws/runtime.py")


def require_runtime(app_dir: str) -> None:
    """Refuse a bundle folder without Glacier's runtime: a stack checked in without its
    git-ignored ``app/glacier*/`` folders (a fresh clone) would deploy code that cannot start."""
    missing = [f for f in RUNTIME_FILES if not (Path(app_dir) / f).is_file()]
    if missing:
        msg = (
            f"the function bundle {app_dir}/ has no {missing[0]}, so its functions could not "
            "start (a stack committed without the generated app/glacier*/ folders, e.g. a "
            "fresh clone); regenerate the stack with `glacier compile <pipeline> --target aws "
            "--out <folder>`, then run pulumi up"
        )
        raise RuntimeError(msg)


def build_lambda_bundle(app_dir: str, *, python_version: str, architecture: str) -> BuiltBundle:
    """Zip ``app_dir`` with its ``requirements-lambda.txt`` installed for Lambda; the zip."""
    require_runtime(app_dir)
    app = Path(app_dir).resolve()
    skip = os.environ.get("GLACIER_BUNDLE_DEPS", "") == "skip"
    key = _digest(app, python_version, architecture) + ("-nodeps" if skip else "")
    build = app.parent / ".glacier-build" / key
    archive = build / "bundle.zip"
    if not archive.exists():
        shutil.rmtree(build, ignore_errors=True)
        deps = build / "deps"
        deps.mkdir(parents=True)
        if not skip:
            _install(app / "requirements-lambda.txt", deps, python_version, architecture)
        size = _zip([app, deps], build / "bundle.zip.tmp")
        if size > MAX_UNZIPPED_BYTES:
            msg = (
                f"the Lambda bundle is {size / 2**20:.0f} MB unzipped, over Lambda's 250 MB limit; "
                "trim app/requirements-lambda.txt or run the tasks on Fargate (compute.container())"
            )
            raise RuntimeError(msg)
        os.replace(build / "bundle.zip.tmp", archive)
    data = archive.read_bytes()
    sha = base64.b64encode(hashlib.sha256(data).digest()).decode()
    with zipfile.ZipFile(archive) as z:
        unzipped = sum(i.file_size for i in z.infolist())
    return BuiltBundle(path=str(archive), sha256=sha, unzipped_bytes=unzipped)


__all__ = ["MAX_UNZIPPED_BYTES", "BuiltBundle", "build_lambda_bundle", "require_runtime"]
