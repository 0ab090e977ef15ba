"""The project's helpers, re-exported (so this ``__init__`` runs, and must be bundled)."""

from __future__ import annotations

from bundle_shop.helpers.rules import positive

__all__ = ["positive"]
