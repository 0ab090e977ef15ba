"""What Glacier's core knows of Azure: the object registered as the ``azure`` provider.

Everything here is declared data (see :class:`glacier.compilation.provider.Provider`); the
compiler itself is imported only when asked for.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from glacier.compilation.provider import Price
from glacier_azure.naming import NAME_RULES

if TYPE_CHECKING:
    from glacier.ir import ResourceIR
    from glacier_azure.compiler import AzureCompiler

#: Internet egress out of Azure (Microsoft's network, North America and Europe), first paid
#: tier (after the free 100 GB, up to 10 TB a month).
EGRESS = Price(
    0.087,
    "GB",
    as_of="2026-11",
    source="https://azure.microsoft.com/pricing/details/bandwidth/",
)

#: Hard limits the compiler holds tasks and definitions to.
LIMITS: Mapping[str, int] = MappingProxyType(
    {
        "function_memory_mb": 4096,
        "function_timeout_seconds": 120,  # what a Logic App waits for one HTTP call
        "orchestrator_actions": 500,
        "orchestrator_action_name_chars": 80,
        "storage_account_name_chars": 24,
    }
)

#: Storage option keys that already name the account (or the local emulator's).
_ACCOUNT_KEYS = frozenset({"account_name", "azure_storage_account_name", "azure_account_name"})


class AzureProvider:
    """Glacier's Azure provider: Blob Storage, Functions (Flex Consumption), Container Apps
    jobs, Logic Apps."""

    name = "azure"
    package = "glacier_azure"
    runtime = "glacier_azure.runtime:respond"  # function_app.py's HTTP function calls it
    schemes = ("az", "azure", "abfs", "abfss")
    storage_class = "glacier_azure.storage.BlobStorage"
    egress = EGRESS
    name_rules = MappingProxyType(NAME_RULES)
    limits = LIMITS
    compiles = True
    #: Clouds whose data an Azure task reaches in a multi-cloud stack (web identity
    #: federation: glacier_azure/remote.py).
    reaches = ("aws",)

    def compiler(self, region: str | None = None) -> AzureCompiler:
        """An AzureCompiler for ``region`` (a location), else configured from the environment
        (AZURE_LOCATION, AZURE_RESOURCE_GROUP)."""
        from glacier_azure.compiler import AzureCompiler

        compiler = AzureCompiler.from_env()
        if region is None:
            return compiler
        return AzureCompiler(location=region, resource_group=compiler.resource_group)

    def location(self, storage: ResourceIR, key: str) -> str:
        """``az://<container>/<key>`` (the account travels in the storage options)."""
        return f"az://{storage.config['container']}/{key}"

    def storage_options(
        self, storage: ResourceIR | None, given: Mapping[str, str]
    ) -> dict[str, str]:
        """The user's options, plus ``account_name`` from ``BlobStorage(account=...)`` when
        they name no account (and do not target the emulator)."""
        options = dict(given)
        account = storage.config.get("account") if storage is not None else None
        emulator = options.get("azure_storage_use_emulator") == "true"
        if account and not (_ACCOUNT_KEYS & set(options)) and not emulator:
            options["account_name"] = str(account)
        return options

    def filesystem(self, options: Mapping[str, str]) -> Any | None:
        """None: Polars' native Azure client reaches every endpoint (Azurite included)."""
        return None

    def __repr__(self) -> str:
        return "<AzureProvider>"


__all__ = ["EGRESS", "LIMITS", "AzureProvider"]
