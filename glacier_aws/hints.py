"""What AWS knows about storing objects: its S3 storage classes, and the hints it accepts.

``ObjectStorage(aws_storage_class=...)`` and ``S3(storage_class=...)`` are checked against
:data:`STORAGE_CLASSES`; the core asks :func:`check_storage_hints` through the provider registry.
"""

from __future__ import annotations

from collections.abc import Mapping

from glacier.storage import check_hints

#: S3 storage classes an object can be written in or moved to by a lifecycle rule.
STORAGE_CLASSES = (
    "STANDARD",
    "INTELLIGENT_TIERING",
    "STANDARD_IA",
    "ONEZONE_IA",
    "GLACIER_IR",
    "GLACIER",
    "DEEP_ARCHIVE",
)
#: Hint name -> allowed values.
STORAGE_HINTS: Mapping[str, tuple[str, ...]] = {"storage_class": STORAGE_CLASSES}


def check_storage_hints(hints: Mapping[str, object]) -> None:
    """Raise a ValueError naming the first hint AWS does not know or whose value it refuses."""
    check_hints("AWS", hints, STORAGE_HINTS)


__all__ = ["STORAGE_CLASSES", "STORAGE_HINTS", "check_storage_hints"]
