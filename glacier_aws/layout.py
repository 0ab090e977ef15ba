"""Where each dataset of a compiled pipeline lives in S3: one layout shared by compiler and runtime.

The compiler derives bucket policies and IAM scopes from these keys and the runtime reads and
writes exactly these URIs, so both must come from one function. Kept free of pulumi and boto3:
it runs inside Lambda too.

Layout:

- a storage-backed dataset is one object (or, for ``delta``, one folder) per dataset:
  ``s3://<bucket>/<prefix><name>.<ext>``; ``S3(bucket, prefix)`` datasets use their prefix,
  generic ``ObjectStorage`` datasets get a bucket of their own and no prefix;
- an ephemeral dataset lives in the pipeline's intermediate bucket under a per-run folder,
  ``s3://<intermediate>/runs/{run_id}/<name>.<ext>``, so concurrent runs never share data and a
  lifecycle rule on ``runs/`` expires it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from glacier.errors import CompilationError
from glacier.ir import DatasetIR, PipelineIR, TaskIR
from glacier.runtime.locations import RUN_ID_PLACEHOLDER, check_run_id, resolve_location

#: Key prefix of ephemeral datasets in the intermediate bucket (target of the expiry rule).
EPHEMERAL_PREFIX = "runs/"


def normalize_prefix(prefix: str) -> str:
    """``"raw"``, ``"/raw"`` and ``"raw/"`` all mean the folder ``"raw/"``; ``""`` is the bucket root."""
    cleaned = prefix.strip("/")
    return f"{cleaned}/" if cleaned else ""


def dataset_key(ds: DatasetIR, prefix: str = "") -> str:
    """The object key of a dataset: ``"<prefix><name>.<ext>"`` (the prefix as a folder)."""
    return f"{normalize_prefix(prefix)}{ds.name}.{ds.extension}"


def storage_prefix(ds: DatasetIR) -> str:
    """The key prefix a dataset's storage declares (``S3(prefix=...)``), or ``""``."""
    if ds.storage is None:
        return ""
    return str(ds.storage.config.get("prefix", ""))  # ObjectStorage() has none


def dataset_location(ds: DatasetIR, bucket: str) -> str:
    """The ``s3://`` URI template of one dataset in ``bucket`` (see the module docstring)."""
    if ds.ephemeral:
        key = f"{EPHEMERAL_PREFIX}{RUN_ID_PLACEHOLDER}/{dataset_key(ds)}"
    else:
        key = dataset_key(ds, storage_prefix(ds))
    return f"s3://{bucket}/{key}"


def dataset_locations(spec: PipelineIR, buckets: Mapping[str, str]) -> dict[str, str]:
    """Dataset name -> ``s3://`` URI template for every dataset of ``spec``.

    ``buckets`` maps each dataset name to its bucket name (ephemeral datasets to the
    pipeline's intermediate bucket). Ephemeral URIs contain the ``{run_id}`` placeholder.
    """
    missing = [ds.name for ds in spec.datasets if ds.name not in buckets]
    if missing:
        msg = (
            f"pipeline {spec.name!r}: no bucket given for dataset(s) {', '.join(missing)}; "
            "expected a bucket name for every dataset (ephemeral ones -> the intermediate bucket)"
        )
        raise CompilationError(msg)
    return {ds.name: dataset_location(ds, buckets[ds.name]) for ds in spec.datasets}


def task_locations(task: TaskIR, locations: Mapping[str, str]) -> dict[str, str]:
    """The subset of ``locations`` one task touches (its inputs and outputs), sorted by name.

    This is what goes into the task's ``GLACIER_LOCATIONS`` environment variable.
    """
    names: Iterable[str] = (*task.input_datasets, *task.outputs)
    return {name: locations[name] for name in sorted(set(names))}


__all__ = [
    "EPHEMERAL_PREFIX",
    "RUN_ID_PLACEHOLDER",
    "check_run_id",
    "dataset_key",
    "dataset_location",
    "dataset_locations",
    "normalize_prefix",
    "resolve_location",
    "storage_prefix",
    "task_locations",
]
