"""``glacier graph REF [--format mermaid|dot|text] [--output FILE]``: draw a pipeline.

An output file ending in ``.svg`` or ``.png`` is rendered by Graphviz; any other output file
receives the text (its format taken from ``--format``, else from the extension: ``.mmd``,
``.dot``/``.gv``, ``.txt``; Mermaid otherwise), except an extension of another image or
document format (``.jpg``, ``.pdf``, ``.svgz``, ``.html``...), which is refused rather than
filled with text.
"""

from __future__ import annotations

import argparse
from typing import Any

from glacier.loader import load_pipeline
from glacier.visualize import FORMATS, render, write_graph


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "graph",
        help="draw a pipeline (mermaid, dot, text, SVG or PNG)",
        description="Print the pipeline's DAG, or write it to a file; .svg/.png render an image.",
    )
    parser.add_argument(
        "ref", metavar="REF", help="path/to/file.py[:attr] or package.module[:attr]"
    )
    parser.add_argument("--format", choices=FORMATS, default=None, help="default: mermaid")
    parser.add_argument("--output", "-o", metavar="FILE", default=None, help="write to FILE")


def run(args: argparse.Namespace) -> int:
    spec = load_pipeline(args.ref).spec()
    if args.output is None:
        print(render(spec, args.format or "mermaid"), end="")
        return 0
    written = write_graph(spec, args.output, args.format, labels=("--format ", "--output "))
    print(f"wrote {written}")
    return 0
