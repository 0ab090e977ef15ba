"""The rules Azure holds its names to, checked when a resource is declared."""

from __future__ import annotations

import re

from glacier.compilation.naming import OBJECT_KEY_PREFIX, NameRule

AZURE_CONTAINER = NameRule(
    "Azure Blob container",
    63,
    re.compile(r"(?!.*--)[a-z0-9][a-z0-9-]*[a-z0-9]"),
    "lowercase letters, digits and '-', starting and ending with a letter or digit, no '--'",
    min_len=3,
)
AZURE_STORAGE_ACCOUNT = NameRule(
    "Azure storage account", 24, re.compile(r"[a-z0-9]+"), "lowercase letters and digits", min_len=3
)

#: Every rule by the kind of name (listed on the provider object).
NAME_RULES = {
    "container": AZURE_CONTAINER,
    "storage_account": AZURE_STORAGE_ACCOUNT,
    "key_prefix": OBJECT_KEY_PREFIX,
}

__all__ = ["AZURE_CONTAINER", "AZURE_STORAGE_ACCOUNT", "NAME_RULES"]
