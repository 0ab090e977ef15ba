"""visualize: Mermaid, DOT and text renderings, SVG/PNG through Graphviz, and hostile user strings."""

from __future__ import annotations

import re
import stat
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from glacier import Dataset, Pipeline, compute, task
from glacier.errors import GlacierError
from glacier.storage import LocalFS, ObjectStorage
from glacier.visualize import _mermaid_escape, render, write_image

HOSTILE = "a \"q\" 's' [b] (c) {d} <i>x</i> & #1; %% `t` | \\N \\l ; end\nsecond line\r\nthird"
SVG = "{http://www.w3.org/2000/svg}"


def _pipeline(text: str = "plain") -> Pipeline:
    raw = Dataset("raw", storage=ObjectStorage("infrequent"))
    local = Dataset("local", storage=LocalFS(f"./{text}"), format="csv", description=text)
    mid = Dataset("mid", description=text)
    wide, narrow = Dataset("wide", storage=ObjectStorage()), Dataset("narrow")

    @task(compute=compute.container(image=f"img:{text}", cpu=2, memory=4096), retries=2)
    def prepare(data: raw, extra: local) -> mid:
        return data

    @task(compute=compute.serverless(memory=512, timeout=60), description=text)
    def split(data: mid, cut: int = 1) -> tuple[wide, narrow]:
        return data, data

    @task(depends_on=[split])
    def notify() -> None:
        return None

    return Pipeline([prepare, split, notify], name="viz", description=text, schedule="0 1 * * *")


# -- mermaid -----------------------------------------------------------------------------------

NODE = re.compile(r'^    (ds|task)_([a-z][a-z0-9_]*)(\[\("|\(\["|\[")([^"\n]*)("\)\]|"\]\)|"\])$')
EDGE = re.compile(r"^    (ds|task)_[a-z0-9_]+ (-->|-\. depends on \.->) (ds|task)_[a-z0-9_]+$")
STYLE = re.compile(r"^    (classDef [a-z]+ [^\n]+;|class [a-z0-9_,]+ (task|stored|ephemeral);)$")


def _unescape_mermaid(label: str) -> str:
    return re.sub(r"#(\d+);", lambda m: chr(int(m.group(1))), label.replace("<br/>", "\n"))


def _mermaid_nodes(text: str) -> dict[str, tuple[str, str]]:
    lines = text.splitlines()
    assert lines[0] == "flowchart LR"
    nodes = {}
    for line in lines[1:]:
        node = NODE.match(line)
        if node:
            nodes[f"{node.group(1)}_{node.group(2)}"] = (
                node.group(3),
                _unescape_mermaid(node.group(4)),
            )
        else:
            assert EDGE.match(line) or STYLE.match(line), line
    return nodes


def test_mermaid_shapes_labels_and_edges() -> None:
    text = _pipeline().visualize()
    nodes = _mermaid_nodes(text)
    assert nodes["task_prepare"] == (
        '["',
        "prepare\ncontainer, 2 vCPU, 4096 MB, img:plain, retries 2",
    )
    assert nodes["task_split"] == ('["', "split\nserverless, 512 MB, 60 s")
    assert nodes["task_notify"] == ('["', "notify\nlocal")
    assert nodes["ds_raw"] == ('[("', "raw\nobject storage, infrequent, parquet")  # cylinder
    assert nodes["ds_local"] == ('[("', "local\nlocal fs, ./plain, csv")
    assert nodes["ds_mid"] == ('(["', "mid\nephemeral")  # stadium: not stored
    for edge in ("ds_raw --> task_prepare", "task_prepare --> ds_mid", "task_split --> ds_wide",
                 "task_split --> ds_narrow", "task_split -. depends on .-> task_notify"):  # fmt: skip
        assert f"    {edge}\n" in text
    assert "    class ds_mid,ds_narrow ephemeral;\n" in text
    assert "    class task_prepare,task_split,task_notify task;\n" in text


def test_mermaid_hostile_strings_stay_inside_their_labels() -> None:
    nodes = _mermaid_nodes(_pipeline(HOSTILE).visualize("mermaid"))
    clean = HOSTILE.replace("\r\n", "\n")
    assert nodes["ds_local"][1] == f"local\nlocal fs, ./{clean}, csv"
    assert nodes["task_prepare"][1].startswith(f"prepare\ncontainer, 2 vCPU, 4096 MB, img:{clean}")


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_mermaid_escape_round_trips_any_text(text: str) -> None:
    escaped = _mermaid_escape(text)
    markup_free = escaped.replace("<br/>", "")
    assert not set(markup_free) & set('"<>`[](){}|\n\r%'), escaped
    expected = re.sub(
        r"[\x00-\x08\x0b-\x1f\x7f]", "?", text.replace("\r\n", "\n").replace("\r", "\n")
    )
    # Entity codes and <br/> are the only markup left; decoding gives the text back.
    assert _unescape_mermaid(escaped.replace("<br/>", "\n")) == expected


# -- dot ---------------------------------------------------------------------------------------


def _svg_nodes(svg: bytes) -> dict[str, tuple[list[str], str | None]]:
    root = ET.fromstring(svg)
    found = {}
    for group in root.iter(f"{SVG}g"):
        if group.get("class") != "node":
            continue
        title = group.find(f"{SVG}title")
        assert title is not None and title.text is not None
        texts = [t.text or "" for t in group.iter(f"{SVG}text")]
        link = group.find(f".//{SVG}a")
        tooltip = link.get("{http://www.w3.org/1999/xlink}title") if link is not None else None
        found[title.text] = (texts, tooltip)
    return found


def test_dot_is_valid_graphviz_with_distinct_shapes(tmp_path: Path) -> None:
    dot = _pipeline().visualize("dot")
    assert dot.startswith('digraph "viz" {\n')
    assert (
        '"ds:raw" [shape=cylinder' in dot
        and '"ds:mid" [shape=box, style="rounded,dashed,filled"' in dot
    )
    assert '"task:prepare" [shape=box, style=filled, fillcolor=lightsteelblue1' in dot
    assert '"task:split" -> "task:notify" [style=dashed, label="depends on"];' in dot
    svg = write_image(_pipeline().spec(), tmp_path / "g.svg").read_bytes()
    nodes = _svg_nodes(svg)
    assert nodes["ds:raw"][0] == ["raw", "object storage, infrequent, parquet"]
    assert nodes["task:split"][0] == ["split", "serverless, 512 MB, 60 s"]


def test_dot_hostile_strings_survive_graphviz_verbatim(tmp_path: Path) -> None:
    pipeline = _pipeline(HOSTILE)
    svg = write_image(pipeline.spec(), tmp_path / "hostile.svg").read_bytes()
    nodes = _svg_nodes(svg)
    lines = HOSTILE.replace("\r\n", "\n").split("\n")
    assert nodes["ds:local"][0] == [
        "local",
        f"local fs, ./{lines[0]}",
        lines[1],
        f"{lines[2]}, csv",
    ]
    assert nodes["ds:mid"][1] is not None and "<i>x</i>" in nodes["ds:mid"][1]
    graph_title = [t.text for t in ET.fromstring(svg).iter(f"{SVG}text")][:4]
    assert graph_title == ["viz", lines[0], lines[1], lines[2]]


def test_dot_tooltips_keep_graphviz_escapes_literal(tmp_path: Path) -> None:
    # Graphviz unescapes tooltips twice: a description's \\N must not become the node's name
    text = "see \\N and \\G in C:\\data\\new \\\\ end\nline 2"
    svg = write_image(_pipeline(text).spec(), tmp_path / "t.svg").read_bytes()
    nodes = _svg_nodes(svg)
    assert nodes["ds:mid"][1] == text
    assert nodes["task:split"][1] == text


def test_dot_source_escapes_quotes_backslashes_and_newlines() -> None:
    dot = _pipeline('x"\\y\nz').visualize("dot")
    assert 'label="local\\nlocal fs, ./x\\"\\\\y\\nz, csv"' in dot


# -- text --------------------------------------------------------------------------------------


def test_text_rendering() -> None:
    assert _pipeline().visualize("text") == (
        "pipeline viz: 3 tasks, 5 datasets, 3 stages, schedule 0 1 * * *\n"
        "  plain\n"
        "sources: local [local fs, ./plain, csv], raw [object storage, infrequent, parquet]\n"
        "stage 1:\n"
        "  prepare (container, 2 vCPU, 4096 MB, img:plain, retries 2)\n"
        "    <- raw [object storage, infrequent, parquet]\n"
        "    <- local [local fs, ./plain, csv]\n"
        "    -> mid [ephemeral]\n"
        "stage 2:\n"
        "  split (serverless, 512 MB, 60 s)\n"
        "    <- mid [ephemeral]\n"
        "    -> wide [object storage, parquet]\n"
        "    -> narrow [ephemeral]\n"
        "stage 3:\n"
        "  notify (local)\n"
        "    after split\n"
        "sinks: narrow [ephemeral], wide [object storage, parquet]\n"
    )


def test_text_hostile_strings_cannot_add_lines() -> None:
    plain = _pipeline().visualize("text").splitlines()
    hostile = _pipeline(HOSTILE + "\x00\x1b[31m").visualize("text").splitlines()
    assert len(hostile) == len(plain)
    assert (
        "./a \"q\" 's' [b] (c) {d} <i>x</i> & #1; %% `t` | \\\\N \\\\l ; end\\nsecond line\\nthird??[31m"
        in hostile[2]
    )


def test_unknown_format() -> None:
    with pytest.raises(
        GlacierError,
        match=r"pipeline 'viz': unknown graph format 'svg'; expected one of mermaid, dot, text",
    ):
        render(_pipeline().spec(), "svg")


def test_visualize_validates_first() -> None:
    x, y = Dataset("x"), Dataset("y")

    @task()
    def there(data: x) -> y:
        return data

    @task()
    def back(data: y) -> x:
        return data

    with pytest.raises(GlacierError, match="has a cycle: back -> there -> back"):
        Pipeline([there, back]).visualize()


# -- images ------------------------------------------------------------------------------------


def test_svg_and_png_by_extension(tmp_path: Path) -> None:
    pipeline = _pipeline()
    svg = Path(pipeline.visualize(path=tmp_path / "deep" / "dir" / "dag.svg"))
    assert svg == tmp_path / "deep" / "dir" / "dag.svg"
    assert ET.fromstring(svg.read_bytes()).tag == f"{SVG}svg"
    png = Path(pipeline.visualize(path=str(tmp_path / "dag.PNG")))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dag.PNG", "deep"]  # no temp files left


def test_unsupported_extension(tmp_path: Path) -> None:
    with pytest.raises(
        GlacierError,
        match=r"cannot write .*dag.jpg: .jpg is not a format glacier graph writes; use .svg or "
        r".png for an image, or .mmd, .dot or .txt for text",
    ):
        _pipeline().visualize(path=tmp_path / "dag.jpg")
    assert not (tmp_path / "dag.jpg").exists()


def test_missing_dot_binary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(
        GlacierError, match=r"the Graphviz `dot` program is not on PATH; install Graphviz"
    ):
        _pipeline().visualize(path=tmp_path / "dag.svg")
    assert not (tmp_path / "dag.svg").exists()


def test_failing_dot_binary_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "bin" / "dot"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'syntax error in line 1' >&2\nexit 3\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", str(fake.parent))
    target = tmp_path / "dag.svg"
    target.write_text("previous")
    with pytest.raises(
        GlacierError, match=r"cannot write .*dag.svg: .*dot exited 3: syntax error in line 1"
    ):
        _pipeline().visualize(path=target)
    assert target.read_text() == "previous"


def test_images_are_written_with_the_users_umask_and_leave_no_temporaries(tmp_path) -> None:
    import os

    old = os.umask(0o022)
    try:
        path = write_image(_pipeline().spec(), tmp_path / "g.svg")
    finally:
        os.umask(old)
    assert oct(path.stat().st_mode & 0o777) == oct(0o644)  # mkstemp's 0600 used to survive
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.svg"]


def test_text_summary_counts_in_the_singular_and_plural() -> None:
    from glacier.visualize import counts

    assert counts([1], [], [1]) == "1 task, 0 datasets, 1 stage"
    assert counts([1, 2], [1], [1, 2, 3]) == "2 tasks, 1 dataset, 3 stages"


def test_visualize_with_a_path_writes_text_or_an_image_as_the_cli_does(tmp_path) -> None:
    pipeline = _pipeline()
    dot = Path(pipeline.visualize("dot", path=tmp_path / "g.dot"))
    assert dot.read_text() == pipeline.visualize("dot")
    assert Path(pipeline.visualize(path=tmp_path / "g.mmd")).read_text() == pipeline.visualize()
    assert Path(pipeline.visualize(path=tmp_path / "g.svg")).read_bytes().startswith(b"<?xml")
    with pytest.raises(
        GlacierError,
        match=r"format=text asks for text, but path=.*g2.svg is an image \(.svg is rendered by "
        r"Graphviz\); drop format, or write the text to a file ending in .mmd, .dot or .txt",
    ):
        pipeline.visualize("text", path=tmp_path / "g2.svg")
    with pytest.raises(GlacierError, match=r"\.jpg is not a format glacier graph writes"):
        pipeline.visualize(path=tmp_path / "g.jpg")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.dot", "g.mmd", "g.svg"]
