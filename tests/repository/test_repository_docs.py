"""The repository's documentation: self-contained, linked, and ARCHITECTURE.md a short map.

Everything a user or a maintainer needs is in the repository: README.md (start),
ARCHITECTURE.md (layers, the life of one pipeline, where to start reading, how to add a
provider, why each dependency is there) and docs/decisions/ (one short record per decision).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pytest itself depends on tomli before Python 3.11
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]
ARCHITECTURE = ROOT / "ARCHITECTURE.md"
DECISIONS = ROOT / "docs" / "decisions"
INDEX = DECISIONS / "README.md"
#: Folders and files whose text users and maintainers read.
TREES = (
    "glacier",
    "glacier_aws",
    "glacier_gcp",
    "glacier_azure",
    "tests",
    "examples",
    "benchmarks",
)
FILES = ("README.md", "ARCHITECTURE.md", "Makefile", "pyproject.toml")
#: Pointers to design notes kept outside the repository (written so this file does not match).
OUTSIDE = re.compile(r"\bAPI\.md\b|\.\./shared\b|shared[/]design")
RECORD_NAME = re.compile(r"(\d{3})-[a-z0-9]+(?:-[a-z0-9]+)*\.md")
LINK = re.compile(r"\]\(([^)\s]+)\)")


def _texts() -> list[Path]:
    found = [ROOT / name for name in FILES]
    for tree in (*TREES, "docs"):
        found += [
            p
            for p in sorted((ROOT / tree).rglob("*"))
            if p.suffix in (".py", ".md", ".toml", ".txt") and "__pycache__" not in p.parts
        ]
    return found


def _records() -> list[Path]:
    assert INDEX.is_file(), "docs/decisions/README.md (the index of decision records) is missing"
    return sorted(p for p in DECISIONS.glob("*.md") if p != INDEX)


def test_nothing_points_outside_the_repository() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in _texts()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    assert not offenders, (
        "these lines point at design notes outside the repository; say what is meant in place, "
        "or point at ARCHITECTURE.md, docs/ or a module: " + ", ".join(offenders)
    )


def test_architecture_is_a_short_map() -> None:
    text = ARCHITECTURE.read_text(encoding="utf-8")
    size = len(text.encode())
    assert size < 10_000, (
        f"ARCHITECTURE.md is {size:,} bytes; keep it a map under 10 KB and move decisions into "
        "docs/decisions/"
    )
    headings = re.findall(r"^## (.+)$", text, flags=re.MULTILINE)
    assert headings == [
        "Layers",
        "The life of one pipeline",
        "Where to start reading",
        "Adding a provider",
        "Dependencies",
        "Decisions",
    ]
    assert "glacier.providers" in text


def test_every_dependency_is_explained() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    requirements = [*project["build-system"]["requires"], *project["project"]["dependencies"]]
    for extra in project["project"]["optional-dependencies"].values():
        requirements += extra
    names = {re.split(r"[\[<>=!~ ]", r, maxsplit=1)[0] for r in requirements} - {"glacier"}
    table = ARCHITECTURE.read_text(encoding="utf-8").split("## Dependencies", 1)[1]
    rows = [line.split("|")[1] for line in table.splitlines() if line.startswith("| ")]
    explained = {n.strip() for row in rows for n in re.split(r",|\(on ", row.replace(")", ""))}
    explained = {re.split(r"\[", n, maxsplit=1)[0] for n in explained}
    missing = sorted(names - explained)
    assert not missing, f"ARCHITECTURE.md's dependency table does not say why: {missing}"


def test_decision_records_have_the_form() -> None:
    records = _records()
    assert records, "docs/decisions/ holds no records"
    numbers = []
    for path in records:
        name = RECORD_NAME.fullmatch(path.name)
        assert name, f"{path.name}: expected NNN-<slug>.md (lowercase words joined by '-')"
        numbers.append(name.group(1))
        text = path.read_text(encoding="utf-8")
        assert text.startswith(f"# {name.group(1)}. "), f"{path.name}: title '# NNN. <what>'"
        sections = re.findall(r"^## (.+)$", text, flags=re.MULTILINE)
        assert sections == ["Context", "Decision", "Consequences"], (path.name, sections)
    duplicates = sorted({n for n in numbers if numbers.count(n) > 1})
    assert not duplicates, f"two records share a number: {duplicates}"


def test_the_index_lists_every_record_and_the_map_links_the_index() -> None:
    linked = set(LINK.findall(INDEX.read_text(encoding="utf-8")))
    unlisted = [p.name for p in _records() if p.name not in linked]
    assert not unlisted, f"docs/decisions/README.md does not list: {unlisted}"
    text = ARCHITECTURE.read_text(encoding="utf-8")
    assert "docs/decisions/README.md" in LINK.findall(text)
    existing = {RECORD_NAME.fullmatch(p.name).group(1) for p in _records()}  # type: ignore[union-attr]
    cited = {
        n for group in re.findall(r"\[(\d{3}[-, \d]*)\]", text) for n in re.findall(r"\d{3}", group)
    }
    assert cited <= existing, f"ARCHITECTURE.md cites records that do not exist: {cited - existing}"


@pytest.mark.parametrize("doc", ["README.md", "ARCHITECTURE.md", "docs"])
def test_relative_links_resolve(doc: str) -> None:
    assert (ROOT / doc).exists(), f"{doc} is missing"
    paths = sorted((ROOT / doc).rglob("*.md")) if (ROOT / doc).is_dir() else [ROOT / doc]
    broken = [
        f"{path.relative_to(ROOT)}: {target}"
        for path in paths
        for target in LINK.findall(path.read_text(encoding="utf-8"))
        if not re.match(r"[a-z]+:|#", target)
        and not (path.parent / target.split("#", 1)[0]).exists()
    ]
    assert not broken, f"links to files that do not exist: {broken}"


def test_make_targets_the_readme_names_exist() -> None:
    targets = set(re.findall(r"^([a-z][a-z-]*):", (ROOT / "Makefile").read_text(), re.MULTILINE))
    named = set(re.findall(r"`make ([a-z][a-z-]*)", (ROOT / "README.md").read_text()))
    named |= set(re.findall(r"^make ([a-z][a-z-]*)", (ROOT / "README.md").read_text(), re.M))
    assert named and named <= targets, (
        f"README.md names make targets that do not exist: {named - targets}"
    )
