"""Where a dataset's data lives inside a folder, bucket or container: the one key layout.

Local runs, remote runs, the compilers (which derive permissions from these keys) and the
cloud runtime (which reads and writes exactly these objects) all name data through this
module, so they cannot disagree:

- a stored dataset is one object, or for a folder format (``delta``) one folder of objects:
  ``<prefix><name>.<ext>``, where the prefix is the storage's ``prefix`` as a folder;
- an ephemeral dataset of a cloud run lives under a per-run folder of the pipeline's
  intermediate storage, ``runs/{run_id}/<name>.<ext>``, so concurrent runs never share data
  and one expiry rule on ``runs/`` removes it; ``{run_id}`` is filled in at run time
  (:mod:`glacier.runtime.locations`).
"""

from __future__ import annotations

from typing import Any, Protocol

#: Placeholder in location templates, replaced by the run id at run time.
RUN_ID_PLACEHOLDER = "{run_id}"
#: Key prefix of ephemeral datasets in the intermediate storage (target of the expiry rule).
EPHEMERAL_PREFIX = "runs/"
#: Formats stored as a folder of objects (a table and its transaction log), not one object.
FOLDER_FORMATS = frozenset({"delta"})


class LaidOut(Protocol):
    """What the layout reads of a dataset (the IR's dataset node)."""

    @property
    def name(self) -> str: ...

    @property
    def format(self) -> str: ...

    @property
    def extension(self) -> str: ...

    @property
    def storage(self) -> Any: ...


def normalize_prefix(prefix: str) -> str:
    """``"raw"``, ``"/raw"`` and ``"raw/"`` all mean the folder ``"raw/"``; ``""`` is the root."""
    cleaned = prefix.strip("/")
    return f"{cleaned}/" if cleaned else ""


def file_name(ds: LaidOut) -> str:
    """``<name>.<ext>``: the dataset's object (or folder) name in any folder."""
    return f"{ds.name}.{ds.extension}"


def dataset_key(ds: LaidOut, prefix: str = "") -> str:
    """The object key of a dataset: ``"<prefix><name>.<ext>"`` (the prefix as a folder)."""
    return f"{normalize_prefix(prefix)}{file_name(ds)}"


def storage_prefix(ds: LaidOut) -> str:
    """The key prefix a dataset's storage declares (its ``prefix`` option), or ``""``."""
    if ds.storage is None:
        return ""
    return str(ds.storage.config.get("prefix", ""))


def stored_key(ds: LaidOut) -> str:
    """The key of a stored dataset in its own bucket or container."""
    return dataset_key(ds, storage_prefix(ds))


def ephemeral_key(ds: LaidOut) -> str:
    """The key template of an ephemeral dataset in the intermediate storage of a cloud run."""
    return f"{EPHEMERAL_PREFIX}{RUN_ID_PLACEHOLDER}/{file_name(ds)}"


def cloud_key(ds: LaidOut) -> str:
    """The key (template) a compiled pipeline gives ``ds``: ephemeral or stored."""
    return ephemeral_key(ds) if ds.storage is None else stored_key(ds)


def dataset_uri(ds: LaidOut, base: str) -> str:
    """``<base>/<name>.<ext>`` for a local folder or a URL base (``scheme://bucket/prefix``)."""
    base = str(base)
    return f"{base.rstrip('/')}/{file_name(ds)}" if base else file_name(ds)


def key_pattern(key: str) -> str:
    """A key template as a pattern matching the key of every run (``{run_id}`` -> ``*``)."""
    return key.replace(RUN_ID_PLACEHOLDER, "*")


__all__ = [
    "EPHEMERAL_PREFIX",
    "FOLDER_FORMATS",
    "RUN_ID_PLACEHOLDER",
    "LaidOut",
    "cloud_key",
    "dataset_key",
    "dataset_uri",
    "ephemeral_key",
    "file_name",
    "key_pattern",
    "normalize_prefix",
    "storage_prefix",
    "stored_key",
]
