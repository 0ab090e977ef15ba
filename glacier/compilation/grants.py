"""Each task's data access, derived from the data flow: what least privilege means anywhere.

A task may read exactly its inputs and write exactly its outputs; nothing else. The rules,
the same on every cloud:

- **read** each input's object (or, for a folder format, the objects in its folder);
- **write** each output's object or folder objects (writing includes reading back what was
  written: row counts are measured on the written data, and a folder format's writer reads
  its own log);
- **list** each input's key, and each folder-format output's key: a reader checks that the
  data is there, and a folder format's writer finds its own files.

Keys are the layout's (:mod:`glacier.compilation.layout`); a per-run key grants every run
(``{run_id}`` becomes ``*``). A provider renders the grants in its own terms (IAM
statements, role bindings with conditions, role assignments); ``container`` is whatever the
provider passed in for the dataset's bucket (a name or a generated variable).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from glacier.checks import key_prefix_problem
from glacier.compilation.layout import FOLDER_FORMATS, RUN_ID_PLACEHOLDER, key_pattern
from glacier.errors import CompilationError

Mode = Literal["read", "write", "list"]


@dataclass(frozen=True)
class Grant:
    """Access of one ``mode`` to the objects of ``dataset`` matching ``pattern`` in
    ``container``.

    For read and write, ``pattern`` matches object keys (``raw.csv``, ``runs/*/t.parquet``,
    ``table.delta/*``); for list, it is the key prefix the listing may ask for (the object or
    folder key itself: a provider adds the folder form it needs). ``folder`` says the dataset
    is a folder of objects, so writing it replaces and deletes objects inside it.
    """

    dataset: str
    container: str
    pattern: str
    mode: Mode
    folder: bool = False


def dataset_grants(
    dataset: str, container: str, key: str, fmt: str, mode: Literal["read", "write"]
) -> tuple[Grant, ...]:
    """The grants reading or writing one dataset at ``key`` in ``container`` takes."""
    folder = fmt in FOLDER_FORMATS
    prefix = key_pattern(key)
    objects = Grant(dataset, container, f"{prefix}/*" if folder else prefix, mode, folder)
    if mode == "read" or folder:
        return (objects, Grant(dataset, container, prefix, "list", folder))
    return (objects,)


def task_grants(
    inputs: Sequence[str],
    outputs: Sequence[str],
    locations: Mapping[str, tuple[str, str]],
    formats: Mapping[str, str],
) -> tuple[Grant, ...]:
    """Every grant one task needs: its inputs' (in order), then its outputs'. ``locations``:
    each dataset's (container, key template)."""
    found: list[Grant] = []
    for name in inputs:
        container, key = locations[name]
        found.extend(dataset_grants(name, container, key, formats[name], "read"))
    for name in outputs:
        container, key = locations[name]
        found.extend(dataset_grants(name, container, key, formats[name], "write"))
    return tuple(found)


def check_keys(locations: Mapping[str, tuple[str, str]]) -> None:
    """Every dataset's key is safe and no two datasets' keys overlap in one container.

    ``locations`` maps each dataset to its (container, key template), the container as the
    user knows it (a bucket name). Overlapping keys, equal or one inside the other as a
    folder (a Delta table's folder ``x.delta/`` holding another dataset's
    ``x.delta/part.parquet``), are a CompilationError naming both datasets: writing one
    would replace or delete the other's objects, and each task's grants would cover the
    other's data. A key with glob characters or ``.``/``..`` segments (possible only in an
    IR not built from checked resources) is refused the same way a storage prefix is.
    """
    owners: dict[tuple[str, str], str] = {}
    for name in sorted(locations):
        container, key = locations[name]
        problem = key_prefix_problem(key.replace(RUN_ID_PLACEHOLDER, "run"))
        if problem is not None:
            raise CompilationError(f"dataset {name!r}: key {key!r} in {container!r} {problem}")
        first = owners.setdefault((container, key), name)
        if first != name:
            msg = (
                f"datasets {first!r} and {name!r} are both stored at {key!r} in {container!r}, "
                "so each would overwrite the other; give one of them another prefix or name"
            )
            raise CompilationError(msg)
    for name in sorted(locations):
        container, key = locations[name]
        parts = key.split("/")
        for end in range(1, len(parts)):
            outer = owners.get((container, "/".join(parts[:end])))
            if outer is not None:
                msg = (
                    f"datasets {outer!r} and {name!r} overlap in {container!r}: {name!r} is "
                    f"stored at {key!r}, inside {outer!r}'s folder {'/'.join(parts[:end])!r}/, "
                    f"so writing {outer!r} would replace or delete it and {outer!r}'s grants "
                    "would cover it; give one of them another prefix or name"
                )
                raise CompilationError(msg)


__all__ = ["Grant", "Mode", "check_keys", "dataset_grants", "task_grants"]
