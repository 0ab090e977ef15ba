"""Azure-specific storage: ``BlobStorage(container, account=...)`` pins a dataset to a container.

A local run with ``LocalExecutor(storage="remote")`` reads and writes
``az://<container>/<prefix><name>.<ext>`` through Polars' cloud IO (the account comes from
``account`` or the executor's storage options). Compiling to Azure is not built in this
Glacier version: compiling a pipeline that uses BlobStorage needs a compiler with an
``azure`` provider, and otherwise is a CompilationError naming the dataset.
"""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass
from typing import ClassVar

from glacier.checks import check_key_prefix, check_name, check_one_of, normalize
from glacier.compilation.layout import normalize_prefix
from glacier.compilation.naming import OBJECT_KEY_PREFIX
from glacier.storage import StorageResource
from glacier_azure.hints import TIERS
from glacier_azure.naming import AZURE_CONTAINER, AZURE_STORAGE_ACCOUNT


@dataclass(frozen=True)
class BlobStorage(StorageResource):
    """An Azure Blob Storage container (in ``account``) and a key prefix in it."""

    kind: ClassVar[str] = "object_storage"
    provider: ClassVar[str | None] = "azure"

    container: str
    _: KW_ONLY
    account: str | None = None
    prefix: str = ""
    tier: str | None = None

    def __post_init__(self) -> None:
        check_name(self, "container", AZURE_CONTAINER)
        check_name(self, "account", AZURE_STORAGE_ACCOUNT, optional=True)
        check_key_prefix(self, "prefix")
        check_name(self, "prefix", OBJECT_KEY_PREFIX)
        normalize(self, prefix=normalize_prefix(self.prefix))
        check_one_of(self, "tier", TIERS, optional=True)

    def describe(self) -> str:
        account = f"{self.account}/" if self.account else ""
        return f"az://{account}{self.container}/{self.prefix}"


__all__ = ["BlobStorage"]
