"""MkDocs hook: docstrings name code with Sphinx roles (``:class:`~glacier.ir.PipelineIR```),
which Markdown shows as ``:class:`` followed by code. The page shows just the code, and a
``~`` target by its last name (``PipelineIR``), as Sphinx would.
"""

from __future__ import annotations

import re
from typing import Any

_ROLE = re.compile(r":(?:class|func|meth|data|attr|mod|exc|obj):<code>(~?)([^<]*)</code>")


def _code(match: re.Match[str]) -> str:
    short, target = match.group(1), match.group(2)
    return f"<code>{target.rsplit('.', 1)[-1] if short else target}</code>"


def on_page_content(html: str, **_: Any) -> str:
    return _ROLE.sub(_code, html)
