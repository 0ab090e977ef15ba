"""The providers the conformance suite runs, each through its adapter module.

To add a provider, write ``<name>.py`` here exposing ``ADAPTER`` (a ``ProviderAdapter``) and
add its name to ``PROVIDERS``; every test of the suite then runs for it.
"""

from __future__ import annotations

import importlib

from ..adapter import ProviderAdapter

PROVIDERS: tuple[str, ...] = ("aws", "gcp", "azure")


def load(name: str) -> ProviderAdapter:
    """The adapter of provider ``name`` (its module is imported on first use)."""
    adapter: ProviderAdapter = importlib.import_module(f"{__name__}.{name}").ADAPTER
    return adapter
