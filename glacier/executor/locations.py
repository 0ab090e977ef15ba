"""Where each dataset lives in a local run, and with which storage options it is reached.

Local mode (the default) keeps every storage-backed dataset on this machine:

- ``LocalFS(base_path)`` datasets: exactly ``<base_path>/<name>.<ext>``;
- every other storage (generic ``ObjectStorage`` or a provider's bucket):
  ``<root>/datasets/<name>.<ext>``.

Remote mode (``LocalExecutor(storage="remote")``) reads and writes the real object URLs: a
provider's storage resource is located by its provider (``<scheme>://<bucket>/<key>``, the
key from :mod:`glacier.compilation.layout`); generic ``ObjectStorage`` datasets have no
bucket of their own, so they go under ``remote_base`` (``<remote_base>/<name>.<ext>``).
``LocalFS`` stays local either way. Storage options are given per provider name and
completed by the provider (an account its resource names, for instance).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from glacier.compilation.layout import dataset_uri, file_name, stored_key
from glacier.compilation.registry import available_providers, get_provider, provider_for_url
from glacier.errors import DefinitionError, ProviderNotInstalledError
from glacier.ir import DatasetIR


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
        known = available_providers()
        unknown = sorted(set(self.storage_options) - set(known))
        if unknown:
            msg = (
                f"storage_options has unknown provider {unknown[0]!r}; expected keys among "
                f"{', '.join(repr(k) for k in known)}, each mapping to that provider's options"
            )
            raise DefinitionError(msg)

    def uri(self, ds: DatasetIR) -> str | None:
        """The dataset's location, or None when it is ephemeral."""
        storage = ds.storage
        if storage is None:
            return None
        if storage.type == "local_fs":
            return os.path.join(str(storage.config["base_path"]), file_name(ds))
        if not self.remote:
            return dataset_uri(ds, os.path.join(self.root, "datasets"))
        return self._remote_uri(ds)

    def _remote_uri(self, ds: DatasetIR) -> str:
        storage = ds.storage
        assert storage is not None
        if storage.provider is None:
            if not self.remote_base:
                msg = (
                    f"dataset {ds.name!r} uses generic ObjectStorage(), which has no bucket of its "
                    "own; remote runs need a base URL for it: "
                    "LocalExecutor(storage='remote', remote_base='<scheme>://bucket/prefix')"
                )
                raise DefinitionError(msg)
            return dataset_uri(ds, self.remote_base)
        try:
            provider = get_provider(storage.provider)
        except ProviderNotInstalledError as exc:
            msg = f"dataset {ds.name!r}: cannot locate storage {storage.cls} in a remote run: {exc}"
            raise DefinitionError(msg) from exc
        return provider.location(storage, stored_key(ds))

    def options(self, uri: str, ds: DatasetIR | None = None) -> dict[str, str] | None:
        """Storage options for ``uri``'s provider (None for local paths)."""
        provider = provider_for_url(uri)
        if provider is None:
            return None
        given = self.storage_options.get(provider.name, {})
        own = ds is not None and ds.storage is not None and ds.storage.provider == provider.name
        storage = ds.storage if own and ds is not None else None
        return provider.storage_options(storage, given) or None
