"""A module whose import fails (a missing dependency)."""

from __future__ import annotations

import glacier_no_such_dependency  # noqa: F401
