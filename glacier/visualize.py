"""Drawing a pipeline: Mermaid, Graphviz DOT and plain text, and SVG/PNG through Graphviz.

Everything here reads the IR (:class:`~glacier.ir.PipelineIR`), never the user's objects,
so a graph shows exactly what executors and compilers will see. Tasks and datasets are
different node shapes (a box for a task, a cylinder for a stored dataset, a dashed rounded
node for an ephemeral one); every label shows the storage or compute kind.

User text (paths, image names, descriptions) reaches a graph only through the escaping
function of the target format, so quotes, brackets, ``<``, ``#`` or newlines in a string can
neither break the syntax nor inject markup.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
from collections.abc import Callable, Sized
from pathlib import Path

from glacier.errors import GlacierError
from glacier.ir import DatasetIR, PipelineIR, ResourceIR, TaskIR

FORMATS = ("mermaid", "dot", "text")
IMAGE_SUFFIXES = (".svg", ".png")
_DOT_TIMEOUT_S = 120
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


# -- labels (format-neutral) -------------------------------------------------------------------


def _kind(resource: ResourceIR) -> str:
    kind = resource.type.replace("_", " ")
    if resource.provider and resource.provider not in ("local", *kind.split()):
        kind += f" ({resource.provider})"
    return kind


def storage_label(ds: DatasetIR) -> str:
    """``ephemeral``, or the storage kind with its location and format, e.g.
    ``object storage (aws), bkt, parquet``."""
    storage = ds.storage
    if storage is None:
        return "ephemeral"
    config = storage.config  # every field of the resource; which ones depends on its class
    parts = [_kind(storage)]
    pattern = config.get("access_pattern")
    if pattern not in (None, "frequent"):
        parts.append(str(pattern))
    location = config.get("bucket") or config.get("container")
    if location:
        prefix = config.get("prefix")
        parts.append(f"{location}/{prefix}" if prefix else str(location))
    base_path = config.get("base_path")
    if base_path:
        parts.append(str(base_path))
    parts.append(ds.format)
    return ", ".join(parts)


def compute_label(t: TaskIR) -> str:
    """The compute kind and size, e.g. ``serverless, 1024 MB, 300 s`` or ``container, 2 vCPU``."""
    config = t.compute.config  # every field of the resource; which ones depends on its class
    parts = [_kind(t.compute)]
    cpu, memory = config.get("cpu"), config.get("memory")
    if isinstance(cpu, int | float):
        parts.append(f"{cpu:g} vCPU")
    if memory is not None:
        parts.append(f"{memory} MB")
    if config.get("gpu"):
        parts.append(f"{config['gpu']} GPU")
    if config.get("timeout") is not None:
        parts.append(f"{config['timeout']} s")
    if config.get("workers") not in (None, 1):
        parts.append(f"{config['workers']} workers")
    if config.get("image"):
        parts.append(str(config["image"]))
    if t.retries:
        parts.append(f"retries {t.retries}")
    return ", ".join(parts)


def _clean(text: str) -> str:
    """Newlines normalised to ``\\n``, other control characters made visible as ``?``."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("?", text)


# -- mermaid ----------------------------------------------------------------------------------


def _mermaid_escape(text: str) -> str:
    """Text for inside a quoted Mermaid label: markup characters as numeric entity codes."""
    out = []
    for ch in _clean(text):
        if ch in '"#%&<>`\\{}[]()|;':
            out.append(f"#{ord(ch)};")
        elif ch == "\n":
            out.append("<br/>")
        else:
            out.append(ch)
    return "".join(out)


def _mermaid(spec: PipelineIR) -> str:
    lines = ["flowchart LR"]
    for ds in spec.datasets:
        label = _mermaid_escape(f"{ds.name}\n{storage_label(ds)}")
        shape = ('(["', '"])') if ds.ephemeral else ('[("', '")]')
        lines.append(f"    ds_{ds.name}{shape[0]}{label}{shape[1]}")
    for t in spec.tasks:
        label = _mermaid_escape(f"{t.name}\n{compute_label(t)}")
        lines.append(f'    task_{t.name}["{label}"]')
    for t in spec.tasks:
        lines.extend(f"    ds_{i.dataset} --> task_{t.name}" for i in t.inputs)
        lines.extend(f"    task_{t.name} --> ds_{out}" for out in t.outputs)
        lines.extend(f"    task_{dep} -. depends on .-> task_{t.name}" for dep in t.depends_on)
    lines += [
        "    classDef task fill:#e8f0fe,stroke:#3b5998,color:#111;",
        "    classDef stored fill:#fff4e0,stroke:#b07d12,color:#111;",
        "    classDef ephemeral fill:#f5f5f5,stroke:#888,stroke-dasharray:4 3,color:#111;",
    ]
    groups = {
        "task": [f"task_{t.name}" for t in spec.tasks],
        "stored": [f"ds_{d.name}" for d in spec.datasets if not d.ephemeral],
        "ephemeral": [f"ds_{d.name}" for d in spec.datasets if d.ephemeral],
    }
    lines.extend(f"    class {','.join(ids)} {cls};" for cls, ids in groups.items() if ids)
    return "\n".join(lines) + "\n"


# -- dot --------------------------------------------------------------------------------------


def _dot_escape(text: str) -> str:
    """A double-quoted DOT string. Backslashes are doubled so Graphviz escapes (\\N, \\G, \\l)
    in user text stay literal; newlines become DOT's centred line break."""
    text = _clean(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{text}"'


def _dot_tooltip(text: str) -> str:
    """A DOT string for a ``tooltip``. Graphviz unescapes a tooltip twice (a backslash pass,
    then the ``\\N``/``\\G`` substitution), so a backslash is written four times: ``\\N`` in
    a description stays ``\\N`` in the SVG instead of becoming the node's name."""
    return _dot_escape(_clean(text).replace("\\", "\\\\"))


def _dot(spec: PipelineIR) -> str:
    title = spec.name + (f"\n{spec.description}" if spec.description else "")
    lines = [
        f"digraph {_dot_escape(spec.name)} {{",
        f"  graph [rankdir=LR, labelloc=t, fontname=Helvetica, label={_dot_escape(title)}];",
        "  node [fontname=Helvetica, fontsize=11];",
        "  edge [color=gray40];",
    ]
    for ds in spec.datasets:
        style = 'shape=box, style="rounded,dashed,filled", fillcolor=gray96'
        if not ds.ephemeral:
            style = "shape=cylinder, style=filled, fillcolor=lightgoldenrod1"
        label = _dot_escape(f"{ds.name}\n{storage_label(ds)}")
        tooltip = _dot_tooltip(ds.description or ds.name)
        lines.append(f'  "ds:{ds.name}" [{style}, label={label}, tooltip={tooltip}];')
    for t in spec.tasks:
        label = _dot_escape(f"{t.name}\n{compute_label(t)}")
        tooltip = _dot_tooltip(t.description or t.name)
        lines.append(
            f'  "task:{t.name}" [shape=box, style=filled, fillcolor=lightsteelblue1, '
            f"label={label}, tooltip={tooltip}];"
        )
    for t in spec.tasks:
        lines.extend(f'  "ds:{i.dataset}" -> "task:{t.name}";' for i in t.inputs)
        lines.extend(f'  "task:{t.name}" -> "ds:{out}";' for out in t.outputs)
        lines.extend(
            f'  "task:{dep}" -> "task:{t.name}" [style=dashed, label="depends on"];'
            for dep in t.depends_on
        )
    lines.append("}")
    return "\n".join(lines) + "\n"


# -- text -------------------------------------------------------------------------------------


def _text_escape(text: str) -> str:
    """One line of plain text: newlines, tabs and other control characters shown escaped."""
    return _clean(text).replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t")


def _text(spec: PipelineIR) -> str:
    by_name = {t.name: t for t in spec.tasks}
    datasets = {d.name: d for d in spec.datasets}

    def ds_line(name: str) -> str:
        return f"{name} [{_text_escape(storage_label(datasets[name]))}]"

    header = f"pipeline {spec.name}: {counts(spec.tasks, spec.datasets, spec.stages)}"
    lines = [header + (f", schedule {spec.schedule}" if spec.schedule else "")]
    if spec.description:
        lines.append(f"  {_text_escape(spec.description)}")
    lines.append("sources: " + (", ".join(ds_line(d.name) for d in spec.sources) or "none"))
    for number, stage in enumerate(spec.stages, start=1):
        lines.append(f"stage {number}:")
        for name in stage:
            t = by_name[name]
            lines.append(f"  {t.name} ({_text_escape(compute_label(t))})")
            lines.extend(f"    <- {ds_line(i.dataset)}" for i in t.inputs)
            lines.extend(f"    -> {ds_line(out)}" for out in t.outputs)
            lines.extend(f"    after {dep}" for dep in t.depends_on)
    sinks = [d.name for d in spec.datasets if not d.consumers]
    lines.append("sinks: " + (", ".join(ds_line(n) for n in sinks) or "none"))
    return "\n".join(lines) + "\n"


_RENDERERS: dict[str, Callable[[PipelineIR], str]] = {
    "mermaid": _mermaid,
    "dot": _dot,
    "text": _text,
}


def render(spec: PipelineIR, format: str = "mermaid") -> str:
    """The pipeline as Mermaid flowchart, Graphviz DOT or plain text."""
    renderer = _RENDERERS.get(format)
    if renderer is None:
        msg = (
            f"pipeline {spec.name!r}: unknown graph format {format!r}; expected one of "
            f"{', '.join(FORMATS)} (or pass path='graph.svg' / 'graph.png' for an image)"
        )
        raise GlacierError(msg)
    return renderer(spec)


# -- images -----------------------------------------------------------------------------------


def _run_dot(source: str, image_format: str, target: Path) -> bytes:
    dot = shutil.which("dot")
    if dot is None:
        msg = (
            f"cannot write {target}: the Graphviz `dot` program is not on PATH; install Graphviz "
            "(apt-get install graphviz, brew install graphviz) or render text with "
            "format='dot' or format='mermaid'"
        )
        raise GlacierError(msg)
    try:
        done = subprocess.run(
            [dot, f"-T{image_format}"],
            input=source.encode(),
            capture_output=True,
            timeout=_DOT_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise GlacierError(f"cannot write {target}: running {dot} failed: {exc}") from exc
    if done.returncode != 0:
        err = done.stderr.decode(errors="replace").strip()
        raise GlacierError(f"cannot write {target}: {dot} exited {done.returncode}: {err}")
    return done.stdout


def counts(tasks: Sized, datasets: Sized, stages: Sized) -> str:
    """``"1 task, 3 datasets, 1 stage"``: the summary line of text output and ``validate``."""
    parts = ((len(tasks), "task"), (len(datasets), "dataset"), (len(stages), "stage"))
    return ", ".join(f"{n} {word}{'' if n == 1 else 's'}" for n, word in parts)


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file and a rename: all or nothing.

    An OS failure (a folder in the way, no permission) is a GlacierError naming the file, so
    ``glacier graph --output`` reports it in one line.
    """
    if path.is_dir():
        raise GlacierError(f"cannot write {path}: it is a folder; pass a file path")
    # a unique name opened with "x", not mkstemp: mkstemp's 0600 mode would survive the
    # rename, and an image is as readable as any file the user writes (umask applies)
    tmp = path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        f = open(tmp, "xb")  # noqa: SIM115 - closed by the with below
    except OSError as exc:
        raise GlacierError(f"cannot write {path}: {exc.strerror or exc}") from exc
    try:
        with f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise GlacierError(f"cannot write {path}: {exc.strerror or exc}") from exc
        raise


def write_image(spec: PipelineIR, path: str | Path) -> Path:
    """Render the pipeline to an SVG or PNG (chosen by extension) with Graphviz ``dot``."""
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in IMAGE_SUFFIXES:
        msg = (
            f"cannot write {target}: unsupported image extension {target.suffix!r}; expected "
            f"{' or '.join(IMAGE_SUFFIXES)} (for text, use format='mermaid', 'dot' or 'text')"
        )
        raise GlacierError(msg)
    data = _run_dot(_dot(spec), suffix[1:], target)
    write_atomic(target, data)
    return target


def to_svg(spec: PipelineIR) -> str | None:
    """The pipeline as an inline ``<svg>`` element, or None when Graphviz is not installed.

    For HTML views (notebooks): the XML prolog and doctype ``dot`` writes are dropped, since
    an SVG inside HTML must start at its ``<svg>`` tag.
    """
    if shutil.which("dot") is None:
        return None
    image = _run_dot(_dot(spec), "svg", Path(f"{spec.name}.svg")).decode()
    return image[image.find("<svg") :]


#: Text files by extension (any other extension but the image ones gets Mermaid).
TEXT_SUFFIXES = {
    ".mmd": "mermaid",
    ".mermaid": "mermaid",
    ".dot": "dot",
    ".gv": "dot",
    ".txt": "text",
}
#: Image and document formats Glacier does not render: text written there would be broken.
OTHER_IMAGE_SUFFIXES = frozenset(
    [".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".webp", ".ico", ".pdf", ".eps", ".ps",
     ".svgz", ".html", ".htm"]
)  # fmt: skip


def write_graph(
    spec: PipelineIR,
    path: str | Path,
    format: str | None = None,
    *,
    labels: tuple[str, str] = ("format=", "path="),
) -> Path:
    """Write the pipeline's graph to ``path``: an image for ``.svg``/``.png`` (Graphviz), else
    the text in ``format`` (default: from the extension, ``.mmd``, ``.dot``/``.gv``, ``.txt``;
    Mermaid otherwise). Another image or document extension is refused rather than filled
    with text, and so is a text ``format`` with an image path. ``labels`` names the two
    arguments in messages (the CLI passes ``("--format ", "--output ")``)."""
    target = Path(path)
    suffix = target.suffix.lower()
    fmt_label, path_label = labels
    if suffix in IMAGE_SUFFIXES:
        if format is not None:
            msg = (
                f"{fmt_label}{format} asks for text, but {path_label}{target} is an image "
                f"({target.suffix} is rendered by Graphviz); drop {fmt_label.strip(' =')}, or "
                "write the text to a file ending in .mmd, .dot or .txt"
            )
            raise GlacierError(msg)
        return write_image(spec, target)
    if suffix in OTHER_IMAGE_SUFFIXES:
        msg = (
            f"cannot write {target}: {target.suffix} is not a format glacier graph writes; "
            "use .svg or .png for an image, or .mmd, .dot or .txt for text"
        )
        raise GlacierError(msg)
    write_atomic(target, render(spec, format or TEXT_SUFFIXES.get(suffix, "mermaid")).encode())
    return target


__all__ = [
    "FORMATS",
    "IMAGE_SUFFIXES",
    "compute_label",
    "render",
    "storage_label",
    "to_svg",
    "write_graph",
    "write_image",
]
