"""``glacier validate REF``: load a pipeline, validate it, and summarise its shape."""

from __future__ import annotations

import argparse
from typing import Any

from glacier.loader import load_pipeline
from glacier.visualize import counts


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "validate",
        help="check a pipeline and summarise it",
        description="Load a pipeline, validate its DAG and print tasks, stages, sources and sinks.",
    )
    parser.add_argument(
        "ref", metavar="REF", help="path/to/file.py[:attr] or package.module[:attr]"
    )


def run(args: argparse.Namespace) -> int:
    pipeline = load_pipeline(args.ref).validate()
    stages = pipeline.stages()
    print(f"pipeline {pipeline.name!r} ({pipeline.source}) is valid")
    print(f"  {counts(pipeline.tasks, pipeline.datasets, stages)}")
    print("  sources: " + (", ".join(d.name for d in pipeline.sources) or "none"))
    print("  sinks:   " + (", ".join(d.name for d in pipeline.sinks) or "none"))
    for number, stage in enumerate(stages, start=1):
        print(f"  stage {number}: " + ", ".join(t.name for t in stage))
    return 0
