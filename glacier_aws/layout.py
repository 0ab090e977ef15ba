"""Where each dataset of a compiled pipeline lives in S3: the shared key layout on buckets.

The compiler derives bucket policies and IAM scopes from these locations and the runtime
reads and writes exactly these URIs (passed in ``GLACIER_LOCATIONS``), so both come from
one function. The keys are :mod:`glacier.compilation.layout`'s; this module only puts them
in buckets: a storage-backed dataset in its own bucket (``S3(bucket, prefix)`` datasets in
theirs, generic ``ObjectStorage`` datasets in one the stack creates for them), an ephemeral
one in the pipeline's intermediate bucket. Kept free of pulumi and boto3: it runs inside
Lambda too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from glacier.compilation.layout import LaidOut, cloud_key
from glacier.errors import CompilationError
from glacier.ir import PipelineIR, TaskIR


def dataset_location(ds: LaidOut, bucket: str) -> str:
    """The ``s3://`` URI template of one dataset in ``bucket``."""
    return f"s3://{bucket}/{cloud_key(ds)}"


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


__all__ = ["dataset_location", "dataset_locations", "task_locations"]
