"""Azure-specific storage: ``BlobStorage(container, account=...)`` pins a dataset to a container.

A local run with ``LocalExecutor(storage="remote")`` reads and writes
``az://<container>/<prefix><name>.<ext>`` through Polars' cloud IO (the account comes from
``account`` or the executor's storage options). Compiling to Azure is not built in this
Glacier version: compiling a pipeline that uses BlobStorage needs a compiler with an
``azure`` provider, and otherwise is a CompilationError naming the dataset.
"""

from __future__ import annotations

from typing import ClassVar

from glacier.compilation.naming import OBJECT_KEY_PREFIX
from glacier.model import field_validator
from glacier.storage import AZURE_TIERS, StorageResource, folder_prefix, one_of
from glacier_azure.naming import AZURE_CONTAINER, AZURE_STORAGE_ACCOUNT


class BlobStorage(StorageResource):
    """An Azure Blob Storage container (in ``account``) and a key prefix in it."""

    kind: ClassVar[str] = "object_storage"
    provider: ClassVar[str | None] = "azure"

    container: str
    account: str | None = None
    prefix: str = ""
    tier: str | None = None

    def __init__(self, container: str | None = None, /, **data: object) -> None:
        if container is not None:
            data["container"] = container
        super().__init__(**data)

    @field_validator("container")
    @classmethod
    def _container(cls, v: str) -> str:
        return AZURE_CONTAINER.check_field("container", v)

    @field_validator("account")
    @classmethod
    def _account(cls, v: str | None) -> str | None:
        return None if v is None else AZURE_STORAGE_ACCOUNT.check_field("account", v)

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, v: str) -> str:
        return folder_prefix(OBJECT_KEY_PREFIX.check_field("prefix", v))

    @field_validator("tier")
    @classmethod
    def _tier(cls, v: str | None) -> str | None:
        return one_of(v, AZURE_TIERS, "tier")

    def describe(self) -> str:
        account = f"{self.account}/" if self.account else ""
        return f"az://{account}{self.container}/{self.prefix}"


__all__ = ["BlobStorage"]
