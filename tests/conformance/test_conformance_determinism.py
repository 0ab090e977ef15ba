"""Compiling is deterministic: the same pipeline gives the same bytes in every file.

Each sample compiles in this process and in two fresh interpreters with different hash seeds
(so set and dict iteration orders differ), into different folders; every written file must be
byte-identical, and no file may hold the folder it was written to.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import glacier

from .cases import SAMPLES, provider_params
from .conftest import Stacks, written

pytestmark = pytest.mark.slow  # two fresh interpreters compile every sample

TESTS = Path(__file__).resolve().parents[1]
_COMPILE = """
import json, sys
from pathlib import Path
from glacier.loader import load_pipeline
from conformance.providers import load

provider, out, refs = sys.argv[1], Path(sys.argv[2]), json.loads(sys.argv[3])
adapter = load(provider)
for name, ref in refs.items():
    load_pipeline(ref).compile(adapter.compiler()).write(out / name)
"""


def _tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def _compile_elsewhere(provider: str, out: Path, seed: str) -> None:
    """Compile every sample in a fresh interpreter importing this checkout's glacier."""
    source = str(Path(glacier.__file__).resolve().parents[1])
    path = os.pathsep.join([source, str(TESTS), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": path}
    refs = json.dumps({case.name: case.ref for case in SAMPLES})
    subprocess.run(
        [sys.executable, "-c", _COMPILE, provider, str(out), refs], env=env, check=True, cwd=TESTS
    )


@pytest.mark.parametrize("provider", provider_params("determinism"))
def test_compiling_twice_gives_the_same_bytes(
    stacks: Stacks, provider: str, tmp_path: Path
) -> None:
    for seed in ("1", "2"):
        _compile_elsewhere(provider, tmp_path / seed, seed)
    for case in SAMPLES:
        here = stacks.get(provider, case).files
        assert here, f"{case}: nothing written"
        for seed in ("1", "2"):
            there = written(tmp_path / seed / case.name)
            assert sorted(there) == sorted(here), f"{case}: different files"
            differ = [name for name in here if here[name] != there[name]]
            assert not differ, f"{case}: files differ between compiles: {differ}"
        folder = str(stacks.get(provider, case).root).encode()
        leaked = [name for name, data in here.items() if folder in data]
        assert not leaked, f"{case}: files hold the folder they were written to: {leaked}"
