"""Build a Lambda bundle at deploy time: the app folder plus its dependencies for Lambda.

Runs inside ``pulumi up`` (stdlib only). Dependencies are installed with
``pip install --platform manylinux2014_<arch> --only-binary=:all: --target`` so the wheels
match Lambda's Linux and CPU whatever machine deploys, then everything is zipped with fixed
timestamps so the same inputs give the same archive (and no needless Lambda update). The
build is cached under ``.glacier-build/<hash of inputs>/``.

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
_PLATFORMS = {"arm64": "manylinux2014_aarch64", "x86_64": "manylinux2014_x86_64"}
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
    command = [
        sys.executable, "-m", "pip", "install", "--quiet", "--no-compile",
        "--platform", _PLATFORMS[architecture], "--implementation", "cp",
        "--python-version", python_version, "--only-binary=:all:",
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


def build_lambda_bundle(app_dir: str, *, python_version: str, architecture: str) -> BuiltBundle:
    """Zip ``app_dir`` with its ``requirements.txt`` installed for Lambda; returns the zip."""
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
            _install(app / "requirements.txt", deps, python_version, architecture)
        size = _zip([app, deps], build / "bundle.zip.tmp")
        if size > MAX_UNZIPPED_BYTES:
            msg = (
                f"the Lambda bundle is {size / 2**20:.0f} MB unzipped, over Lambda's 250 MB limit; "
                "trim app/requirements.txt or run the tasks on Fargate (compute.container())"
            )
            raise RuntimeError(msg)
        os.replace(build / "bundle.zip.tmp", archive)
    data = archive.read_bytes()
    sha = base64.b64encode(hashlib.sha256(data).digest()).decode()
    with zipfile.ZipFile(archive) as z:
        unzipped = sum(i.file_size for i in z.infolist())
    return BuiltBundle(path=str(archive), sha256=sha, unzipped_bytes=unzipped)


__all__ = ["MAX_UNZIPPED_BYTES", "BuiltBundle", "build_lambda_bundle"]
