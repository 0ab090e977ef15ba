"""The rules Azure holds its names to, checked when a resource is declared or compiled.

Storage account names are the tight one: 3-24 lowercase letters and digits, unique across
all of Azure. The stack derives each account's name from a short readable base (``gl``, the
pipeline's letters and digits, a role letter) and a stable suffix computed at deploy time from
the subscription and resource group (:func:`account_base` here, the suffix in the stack's
``glacier_infra.account_name``), so the same stack always gets the same names and two
subscriptions never collide. Containers, jobs and apps are named from the pipeline and the
task or dataset, shortened with a hash of the full name when they would not fit.
"""

from __future__ import annotations

import hashlib
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
_KEBAB = re.compile(r"[a-z][a-z0-9-]*[a-z0-9]")
FUNCTION_APP = NameRule(
    "Azure Function App", 60, _KEBAB,
    "lowercase letters, digits and '-', starting with a letter, ending with a letter or digit",
    min_len=2,
)  # fmt: skip
CONTAINER_APP_JOB = NameRule(
    "Container Apps job", 32, re.compile(r"(?!.*--)[a-z][a-z0-9-]*[a-z0-9]"),
    "lowercase letters, digits and '-', starting with a letter, ending with a letter or digit, "
    "no '--'", min_len=2,
)  # fmt: skip
LOGIC_APP = NameRule(
    "Logic App workflow", 80, re.compile(r"[A-Za-z0-9_().-]*[A-Za-z0-9_()-]"),
    "letters, digits, '-', '_', '(', ')' and '.', not ending with '.'",
)  # fmt: skip
RESOURCE_GROUP = NameRule(
    "Azure resource group", 90, re.compile(r"[-\w._()]*[-\w_()]"),
    "letters, digits, '-', '_', '.', '(' and ')', not ending with '.'",
)  # fmt: skip
KEY_VAULT_SECRET = NameRule(
    "Key Vault secret", 127, re.compile(r"[A-Za-z0-9-]+"), "letters, digits and '-'"
)
#: Logic Apps refuses an action name over 80 characters.
ACTION = NameRule("Logic Apps action", 80, re.compile(r"[A-Za-z0-9_]+"), "letters, digits, '_'")

#: Every rule by the kind of name (listed on the provider object).
NAME_RULES = {
    "container": AZURE_CONTAINER,
    "storage_account": AZURE_STORAGE_ACCOUNT,
    "key_prefix": OBJECT_KEY_PREFIX,
    "function": FUNCTION_APP,
    "job": CONTAINER_APP_JOB,
    "orchestrator": LOGIC_APP,
    "resource_group": RESOURCE_GROUP,
    "secret": KEY_VAULT_SECRET,
}

#: Names the generated program itself uses (modules, shared objects).
RESERVED = frozenset(
    {"pulumi", "ai", "ac", "glacier_bundle", "ctx", "image", "registry", "environment",
     "workflow", "workflow_identity", "workflow_outcomes", "definition", "vault", "host",
     "package", "json", "os",
     "time_zone"}
)  # fmt: skip

#: Hex characters of the stable suffix the stack appends to a generated account name.
ACCOUNT_SUFFIX = 8
_HASH = 6


def account_base(pipeline: str, role: str) -> str:
    """The readable part of a generated storage account name: ``gl``, the pipeline's letters
    and digits, and a role letter; short enough for the deploy-time suffix."""
    room = AZURE_STORAGE_ACCOUNT.max_len - ACCOUNT_SUFFIX - 3
    return f"gl{re.sub(r'[^a-z0-9]', '', pipeline.lower())[:room]}{role}"


def short_name(rule: NameRule, *parts: str) -> str:
    """``parts`` joined kebab-case, lowercased; when too long, a prefix of it and a hash of
    the whole, so two long names never share one and the same names always give the same."""
    full = "-".join(p.replace("_", "-") for p in parts if p).lower()
    cleaned = re.sub(r"-+", "-", re.sub(r"[^a-z0-9-]", "-", full)).strip("-")
    if not cleaned[:1].isalpha():
        cleaned = f"g-{cleaned}".rstrip("-")
    if len(cleaned) < rule.min_len:
        cleaned = f"{cleaned}-{hashlib.sha256(full.encode()).hexdigest()[:_HASH]}"
    if len(cleaned) <= rule.max_len:
        return cleaned
    digest = hashlib.sha256(full.encode()).hexdigest()[:_HASH]
    return f"{cleaned[: rule.max_len - _HASH - 1].rstrip('-')}-{digest}"


def secret_name(name: str) -> str:
    """The Key Vault secret of ``glacier.Secret(name)``: every character Key Vault refuses in
    a secret name (anything but letters, digits and '-') becomes '-'; a name over Key Vault's
    127 characters keeps its start and a hash of the whole."""
    cleaned = re.sub(r"[^A-Za-z0-9-]", "-", name)
    if len(cleaned) <= 127:
        return cleaned
    return f"{cleaned[: 127 - _HASH - 1]}-{hashlib.sha256(name.encode()).hexdigest()[:_HASH]}"


__all__ = [
    "ACCOUNT_SUFFIX",
    "ACTION",
    "AZURE_CONTAINER",
    "AZURE_STORAGE_ACCOUNT",
    "CONTAINER_APP_JOB",
    "FUNCTION_APP",
    "KEY_VAULT_SECRET",
    "LOGIC_APP",
    "NAME_RULES",
    "RESERVED",
    "RESOURCE_GROUP",
    "account_base",
    "secret_name",
    "short_name",
]
