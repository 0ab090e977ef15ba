"""Azure-specific storage: ``BlobStorage(container, account=...)`` pins a dataset to a container.

A local run with ``LocalExecutor(storage="remote")`` reads and writes
``az://<container>/<prefix><name>.<ext>`` through Polars' cloud IO (the account comes from
``account`` or the executor's storage options). The compiled Azure stack creates the
container (in the pipeline's storage account, or in ``account`` when one is named) and locks
it down; ``BlobStorage(container, account=..., create=False)`` names a container that exists
already: the stack grants the tasks access to their keys in it and changes nothing else.
"""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass
from typing import ClassVar

from glacier.checks import check_key_prefix, check_name, check_one_of, check_type, fail, normalize
from glacier.compilation.layout import normalize_prefix
from glacier.compilation.naming import OBJECT_KEY_PREFIX
from glacier.storage import StorageResource
from glacier_azure.hints import TIERS
from glacier_azure.naming import AZURE_CONTAINER, AZURE_STORAGE_ACCOUNT


@dataclass(frozen=True)
class BlobStorage(StorageResource):
    """An Azure Blob Storage container (in ``account``) and a key prefix in it: created and
    locked down by the compiled stack, or an existing one with ``create=False``."""

    kind: ClassVar[str] = "object_storage"
    provider: ClassVar[str | None] = "azure"

    container: str
    _: KW_ONLY
    account: str | None = None
    prefix: str = ""
    tier: str | None = None
    versioning: bool = True
    create: bool = True

    def __post_init__(self) -> None:
        check_name(self, "container", AZURE_CONTAINER)
        check_name(self, "account", AZURE_STORAGE_ACCOUNT, optional=True)
        check_key_prefix(self, "prefix")
        check_name(self, "prefix", OBJECT_KEY_PREFIX)
        normalize(self, prefix=normalize_prefix(self.prefix))
        check_one_of(self, "tier", TIERS, optional=True)
        for flag in ("versioning", "create"):
            check_type(self, flag, bool)
        if not self.create and self.account is None:
            msg = (
                f"BlobStorage({self.container!r}, create=False) names a container this pipeline "
                "does not own, so it needs the storage account holding it: add account=..."
            )
            fail(self, "account", msg)
        if not self.create and self.tier is not None:
            msg = (
                f"BlobStorage({self.container!r}, create=False) names a container this pipeline "
                "does not own, so it cannot set its tier; drop tier (the owner configures it)"
            )
            fail(self, "tier", msg)

    def describe(self) -> str:
        account = f"{self.account}/" if self.account else ""
        return f"az://{account}{self.container}/{self.prefix}"


__all__ = ["BlobStorage"]
