"""What Glacier's core knows of Azure: the object registered as the ``azure`` provider.

Blob Storage is usable in local and remote runs today; compiling to Azure is not built in
this version, so :meth:`AzureProvider.compiler` says so (``compiles`` is False).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NoReturn

from glacier.compilation.provider import Price, no_compiler
from glacier_azure.naming import NAME_RULES

if TYPE_CHECKING:
    from glacier.ir import ResourceIR

#: Internet egress out of Azure (Microsoft's network, North America and Europe), first paid
#: tier (after the free 100 GB, up to 10 TB a month).
EGRESS = Price(
    0.087,
    "GB",
    as_of="2026-11",
    source="https://azure.microsoft.com/pricing/details/bandwidth/",
)

#: Storage option keys that already name the account (or the local emulator's).
_ACCOUNT_KEYS = frozenset({"account_name", "azure_storage_account_name", "azure_account_name"})


class AzureProvider:
    """Glacier's Azure provider: Blob Storage; Functions and Container Apps declarations."""

    name = "azure"
    package = "glacier_azure"
    runtime = "glacier_azure.runtime:respond"  # function_app.py's HTTP function calls it
    schemes = ("az", "azure", "abfs", "abfss")
    storage_class = "glacier_azure.storage.BlobStorage"
    egress = EGRESS
    name_rules = MappingProxyType(NAME_RULES)
    limits: Mapping[str, int] = MappingProxyType({})  # declared with the compiler
    compiles = False

    def compiler(self, region: str | None = None) -> NoReturn:
        """Compiling to Azure is not built in this version: a one-line error saying so."""
        from glacier.compilation.registry import built_providers

        raise no_compiler(self.name, self.package, built_providers())

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


__all__ = ["EGRESS", "AzureProvider"]
