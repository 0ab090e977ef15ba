"""``glacier graph REF [--format mermaid|dot|text] [--output FILE]``: draw a pipeline.

An output file ending in ``.svg`` or ``.png`` is rendered by Graphviz; any other output file
receives the text (its format taken from ``--format``, else from the extension: ``.mmd``,
``.dot``/``.gv``, ``.txt``; Mermaid otherwise), except an extension of another image or
document format (``.jpg``, ``.pdf``, ``.svgz``, ``.html``...), which is refused rather than
filled with text.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from glacier.errors import GlacierError
from glacier.loader import load_pipeline
from glacier.visualize import FORMATS, IMAGE_SUFFIXES, render, write_atomic, write_image

_BY_SUFFIX = {".mmd": "mermaid", ".mermaid": "mermaid", ".dot": "dot", ".gv": "dot", ".txt": "text"}
#: Image formats Glacier does not render: text written there would be a broken image.
_OTHER_IMAGES = frozenset(
    [
        ".jpg",
        ".jpeg",
        ".gif",
        ".bmp",
        ".tif",
        ".tiff",
        ".webp",
        ".ico",
        ".pdf",
        ".eps",
        ".ps",
        ".svgz",
        ".html",
        ".htm",
    ]
)


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
    output = Path(args.output) if args.output else None
    if output is not None and output.suffix.lower() in IMAGE_SUFFIXES:
        if args.format is not None:
            msg = (
                f"--format {args.format} asks for text, but --output {output} is an image "
                f"({output.suffix} is rendered by Graphviz); drop --format, or write the text to a "
                "file ending in .mmd, .dot or .txt"
            )
            raise GlacierError(msg)
        print(f"wrote {write_image(spec, output)}")
        return 0
    suffix = output.suffix.lower() if output is not None else ""
    if output is not None and suffix in _OTHER_IMAGES:
        msg = (
            f"cannot write {output}: {output.suffix} is not a format glacier graph writes; "
            "use .svg or .png for an image, or .mmd, .dot or .txt for text"
        )
        raise GlacierError(msg)
    text = render(spec, args.format or _BY_SUFFIX.get(suffix, "mermaid"))
    if output is None:
        print(text, end="")
    else:
        write_atomic(output, text.encode())
        print(f"wrote {output}")
    return 0
