"""Zip the function package at deploy time (copied into the stack as glacier_bundle.py).

Runs inside ``pulumi up`` (stdlib only). A Flex Consumption Function App is deployed from a
zip in its deployment container and builds it remotely: ``requirements.txt`` at the
archive's root is installed by the build, so the archive holds ``app/`` as it is (the
manifest, the user's modules, the vendored Glacier packages and ``function_app.py``, the
entry point). Entries are sorted and time-stamped alike, so the same app gives the same
archive (and no needless redeploy).
"""

from __future__ import annotations

import hashlib
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

#: The largest package this stack uploads (Flex Consumption's own limit is larger).
MAX_SOURCE_BYTES = 100 * 1024 * 1024
_EPOCH = (1980, 1, 1, 0, 0, 0)
#: Not part of the source: the deploy's own build folder, caches, the image's Dockerfile.
_SKIPPED = ("__pycache__", ".glacier-build")


@dataclass(frozen=True)
class BuiltSource:
    """A source archive ready to upload, and its hex md5 (names the uploaded object)."""

    path: str
    md5: str


def _files(root: Path) -> list[Path]:
    return sorted(
        p
        for p in root.rglob("*")
        if p.is_file() and not any(part in _SKIPPED for part in p.relative_to(root).parts)
    )


def build_function_package(app_dir: str) -> BuiltSource:
    """Zip ``app_dir`` deterministically into ``<app>/../.glacier-build/``; the archive."""
    app = Path(app_dir).resolve()
    build = app.parent / ".glacier-build"
    build.mkdir(exist_ok=True)
    tmp = build / "source.zip.tmp"
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in _files(app):
            info = zipfile.ZipInfo(path.relative_to(app).as_posix(), date_time=_EPOCH)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    size = tmp.stat().st_size
    if size > MAX_SOURCE_BYTES:
        tmp.unlink()
        msg = (
            f"the function package is {size / 2**20:.0f} MB zipped, over the 100 MB this stack "
            "uploads; move large files out of the pipeline's modules"
        )
        raise RuntimeError(msg)
    digest = hashlib.md5(tmp.read_bytes(), usedforsecurity=False).hexdigest()
    final = build / f"package-{digest[:12]}.zip"
    os.replace(tmp, final)
    return BuiltSource(path=str(final), md5=digest)


__all__ = ["MAX_SOURCE_BYTES", "BuiltSource", "build_function_package"]
