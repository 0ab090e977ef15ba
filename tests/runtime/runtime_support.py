"""Helpers the runtime tests import (a unique module name: every test folder has a conftest)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

PIPELINES = Path(__file__).resolve().parent.parent / "pipelines"
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def load_module(name: str) -> ModuleType:
    """Import ``tests/pipelines/<name>.py`` under its own name (as a bundle would import it)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, PIPELINES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
