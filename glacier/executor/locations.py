"""Where each dataset lives in a local run, and with which storage options it is reached.

Local mode (the default) keeps every storage-backed dataset on this machine:

- ``LocalFS(base_path)`` datasets: exactly ``<base_path>/<name>.<ext>``;
- every other storage (``ObjectStorage``, ``S3``, ``GCS``, ``BlobStorage``...):
  ``<root>/datasets/<name>.<ext>``.

Remote mode (``LocalExecutor(storage="remote")``) reads and writes the real object URLs:
``S3(bucket, prefix)`` -> ``s3://<bucket>/<prefix><name>.<ext>``, ``GCS`` -> ``gs://...``,
``BlobStorage(container, account, prefix)`` -> ``az://<container>/<prefix><name>.<ext>``;
generic ``ObjectStorage`` datasets have no bucket of their own, so they go under
``remote_base`` (``<remote_base>/<name>.<ext>``). ``LocalFS`` stays local either way.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from glacier.errors import DefinitionError
from glacier.io import dataset_uri, provider_of
from glacier.ir import DatasetIR

_SCHEMES = {"aws": "s3", "gcp": "gs", "azure": "az"}


class Locator:
    """Maps datasets to URIs and URIs to the storage options of their provider."""

    def __init__(
        self,
        root: str,
        *,
        remote: bool = False,
        remote_base: str | None = None,
        storage_options: Mapping[str, Mapping[str, str]] | None = None,
    ) -> None:
        self.root = str(root)
        self.remote = remote
        self.remote_base = remote_base
        self.storage_options = {k: dict(v) for k, v in (storage_options or {}).items()}
        unknown = sorted(set(self.storage_options) - {"aws", "gcp", "azure"})
        if unknown:
            msg = (
                f"storage_options has unknown provider {unknown[0]!r}; expected keys 'aws', "
                "'gcp' or 'azure', each mapping to that provider's options"
            )
            raise DefinitionError(msg)

    def uri(self, ds: DatasetIR) -> str | None:
        """The dataset's location, or None when it is ephemeral."""
        storage = ds.storage
        if storage is None:
            return None
        if storage.type == "local_fs":
            return os.path.join(str(storage.config["base_path"]), f"{ds.name}.{ds.extension}")
        if not self.remote:
            return dataset_uri(ds, os.path.join(self.root, "datasets"))
        return self._remote_uri(ds)

    def _remote_uri(self, ds: DatasetIR) -> str:
        storage = ds.storage
        assert storage is not None
        provider = storage.provider
        if provider is None:
            if not self.remote_base:
                msg = (
                    f"dataset {ds.name!r} uses generic ObjectStorage(), which has no bucket of its "
                    "own; remote runs need a base URL for it: "
                    "LocalExecutor(storage='remote', remote_base='s3://bucket/prefix')"
                )
                raise DefinitionError(msg)
            return dataset_uri(ds, self.remote_base)
        scheme = _SCHEMES.get(provider)
        bucket = storage.config.get("container" if provider == "azure" else "bucket")
        if scheme is None or not bucket:
            msg = (
                f"dataset {ds.name!r}: cannot locate storage {storage.cls} (provider {provider!r}) "
                "in a remote run; expected an S3, GCS or BlobStorage resource with a bucket/container"
            )
            raise DefinitionError(msg)
        return f"{scheme}://{bucket}/{storage.config.get('prefix', '')}{ds.name}.{ds.extension}"

    def options(self, uri: str, ds: DatasetIR | None = None) -> dict[str, str] | None:
        """Storage options for ``uri``'s provider (None for local paths)."""
        provider = provider_of(uri)
        if provider is None:
            return None
        opts = dict(self.storage_options.get(provider, {}))
        account = ds.storage.config.get("account") if ds is not None and ds.storage else None
        if provider == "azure" and account and not _has_account(opts):
            opts["account_name"] = str(account)
        return opts or None


def _has_account(opts: Mapping[str, str]) -> bool:
    keys = {"account_name", "azure_storage_account_name", "azure_account_name"}
    return bool(keys & set(opts)) or opts.get("azure_storage_use_emulator") == "true"
