"""The rules Google Cloud holds its names to, checked when a resource is declared."""

from __future__ import annotations

import re

from glacier.compilation.naming import OBJECT_KEY_PREFIX, NameRule

GCS_BUCKET = NameRule(
    "GCS bucket",
    63,
    re.compile(r"(?!goog)(?!.*g[o0][o0]gle)(?!\d+\.\d+\.\d+\.\d+$)[a-z0-9][a-z0-9._-]*[a-z0-9]"),
    "lowercase letters, digits, '-', '_' and '.', starting and ending with a letter or digit, "
    "not an IP address, not starting with 'goog' or containing 'google' (dotted names up to "
    "222 characters are not supported)",
    min_len=3,
)

#: Every rule by the kind of name (listed on the provider object).
NAME_RULES = {"bucket": GCS_BUCKET, "key_prefix": OBJECT_KEY_PREFIX}

__all__ = ["GCS_BUCKET", "NAME_RULES"]
