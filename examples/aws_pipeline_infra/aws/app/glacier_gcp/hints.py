"""What GCP knows about storing objects: its GCS storage classes, and the hints it accepts.

``ObjectStorage(gcp_storage_class=...)`` and ``GCS(storage_class=...)`` are checked against
:data:`STORAGE_CLASSES`; the core asks :func:`check_storage_hints` through the provider registry.
"""

from __future__ import annotations

from collections.abc import Mapping

from glacier.storage import check_hints

#: GCS storage classes.
STORAGE_CLASSES = ("STANDARD", "NEARLINE", "COLDLINE", "ARCHIVE")
#: Hint name -> allowed values.
STORAGE_HINTS: Mapping[str, tuple[str, ...]] = {"storage_class": STORAGE_CLASSES}


def check_storage_hints(hints: Mapping[str, object]) -> None:
    """Raise a ValueError naming the first hint GCP does not know or whose value it refuses."""
    check_hints("GCP", hints, STORAGE_HINTS)


__all__ = ["STORAGE_CLASSES", "STORAGE_HINTS", "check_storage_hints"]
