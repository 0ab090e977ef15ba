"""What Azure knows about storing objects: its Blob access tiers, and the hints it accepts.

``ObjectStorage(azure_tier=...)`` and ``BlobStorage(tier=...)`` are checked against
:data:`TIERS`; the core asks :func:`check_storage_hints` through the provider registry.
"""

from __future__ import annotations

from collections.abc import Mapping

from glacier.storage import check_hints

#: Azure Blob Storage access tiers.
TIERS = ("Hot", "Cool", "Cold", "Archive")
#: Hint name -> allowed values.
STORAGE_HINTS: Mapping[str, tuple[str, ...]] = {"tier": TIERS}


def check_storage_hints(hints: Mapping[str, object]) -> None:
    """Raise a ValueError naming the first hint Azure does not know or whose value it refuses."""
    check_hints("Azure", hints, STORAGE_HINTS)


__all__ = ["STORAGE_HINTS", "TIERS", "check_storage_hints"]
