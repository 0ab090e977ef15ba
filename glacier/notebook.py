"""HTML pieces for notebook views: a pipeline's DAG, tables, dataset previews.

Jupyter (and VS Code, Colab...) display an object through its ``_repr_mimebundle_``: a dict
from MIME type to content. ``Pipeline``, ``RunResult`` and ``Infrastructure`` each give
``text/html`` and a ``text/plain`` fallback for front ends that show text only, built from
the pieces here (which take plain values, so this module imports none of those classes).
A view never raises: a pipeline that does not validate shows its error, a dataset that
cannot be read shows why, and a missing Graphviz falls back to the text graph with one line
saying how to get the picture.

User text (names, paths, error messages) reaches the HTML only through ``html.escape``; the
pipeline's SVG is Graphviz's own output for the escaped DOT source (see glacier.visualize).
"""

from __future__ import annotations

import html
import io
from collections.abc import Callable, Iterable
from typing import Any

import polars as pl

from glacier.errors import GlacierError
from glacier.ir import PipelineIR

MimeBundle = dict[str, str]
GRAPHVIZ_HINT = (
    "Install Graphviz (apt-get install graphviz, brew install graphviz or conda install "
    "graphviz) to see this graph as a picture."
)
_STYLE = "font-family: sans-serif; font-size: 13px"


def escape(text: object) -> str:
    """``text`` safe inside HTML elements and quoted attributes."""
    return html.escape(str(text), quote=True)


def table(header: Iterable[str], rows: Iterable[Iterable[object]]) -> str:
    """An HTML table; every cell escaped."""
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def pre(text: str) -> str:
    """Preformatted, escaped text."""
    return f"<pre>{escape(text)}</pre>"


def div(kind: str, body: str) -> str:
    """The outer element of a view, classed ``glacier-<kind>``."""
    return f'<div class="glacier-{kind}" style="{_STYLE}">{body}</div>'


def plain_text(renderable: Any, width: int = 100) -> str:
    """What rich prints for ``renderable``, as text without colours (the text/plain view)."""
    from rich.console import Console

    console = Console(file=io.StringIO(), width=width, color_system=None, record=True)
    console.print(renderable)
    return console.export_text()


def graph_bundle(spec: PipelineIR) -> MimeBundle:
    """The DAG as inline SVG (Graphviz), or as the text graph when Graphviz is missing."""
    from glacier.visualize import render, to_svg

    text = render(spec, "text")
    try:
        svg = to_svg(spec)
        note = GRAPHVIZ_HINT
    except GlacierError as exc:  # dot is installed but failed: show the text and say why
        svg, note = None, str(exc)
    body = svg if svg is not None else pre(text) + f"<p><em>{escape(note)}</em></p>"
    return {"text/plain": text, "text/html": div("pipeline", body)}


def text_bundle(kind: str, text: str) -> MimeBundle:
    """A view that is only text (e.g. a pipeline that does not validate shows its error)."""
    return {"text/plain": text, "text/html": div(kind, pre(text))}


def preview(read: Callable[[], pl.DataFrame]) -> str:
    """The HTML of the frame ``read`` returns, or why it could not be read: a preview never
    breaks the view it is part of."""
    try:
        frame = read()
    except Exception as exc:
        return f"<p><em>cannot preview: {escape(type(exc).__name__)}: {escape(exc)}</em></p>"
    return frame._repr_html_()


__all__ = [
    "GRAPHVIZ_HINT",
    "div",
    "escape",
    "graph_bundle",
    "plain_text",
    "pre",
    "preview",
    "table",
    "text_bundle",
]
