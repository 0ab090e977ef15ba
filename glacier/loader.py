"""Finding a pipeline from a command-line reference: ``path/to/file.py[:attr]`` or ``pkg.mod[:attr]``.

A file is imported under a stable module name, not an anonymous one: when it sits inside a
package (folders with ``__init__.py``) it is imported by its dotted name with the package
root on ``sys.path``, otherwise by its file name with its folder on ``sys.path``. Either way
its tasks' ``__module__`` names a module that can be imported again later, which is what the
cloud runtime does inside a function bundle.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

from glacier.errors import GlacierError, PipelineReferenceError
from glacier.pipeline import Pipeline, stray_tasks, warn_stray_tasks
from glacier.task import Task

_FORMS = "expected path/to/file.py[:attr] or package.module[:attr]"

#: Files this loader imported, by module name: such a module may be replaced by another file
#: of the same name (two ``pipeline.py`` in different folders), a foreign module may not.
_LOADED: dict[str, Path] = {}


def split_ref(ref: str) -> tuple[str, str | None]:
    """``"a/b.py:build"`` -> ``("a/b.py", "build")``; a Windows drive colon is not an attr."""
    target, sep, attr = ref.rpartition(":")
    if sep and attr and all(part.isidentifier() for part in attr.split(".")) and target:
        return target, attr
    return ref, None


def _is_file_ref(target: str) -> bool:
    return target.endswith(".py") or "/" in target or os.sep in target or Path(target).is_file()


def _module_name_for(path: Path) -> tuple[str, Path]:
    """The dotted module name of a file and the folder that must be on ``sys.path``."""
    parts = [path.stem]
    folder = path.parent
    while (folder / "__init__.py").is_file() and folder.name.isidentifier():
        parts.insert(0, folder.name)
        folder = folder.parent
    return ".".join(parts), folder


def _a(noun: str) -> str:
    """``"a Dataset"``, ``"an int"``."""
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"


def _import_error(ref: str, exc: BaseException) -> PipelineReferenceError:
    msg = (
        f"cannot import {ref!r}: {type(exc).__name__}: {exc}; fix the error in the module "
        "(run with --debug for the traceback)"
    )
    return PipelineReferenceError(msg)


def _exec_file(name: str, path: Path, ref: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise PipelineReferenceError(f"cannot import {ref!r}: {path} is not a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except GlacierError:
        sys.modules.pop(name, None)
        raise
    except Exception as exc:
        sys.modules.pop(name, None)
        raise _import_error(ref, exc) from exc
    _LOADED[name] = path
    return module


def _same_file(module: ModuleType, path: Path) -> bool:
    file = getattr(module, "__file__", None)
    return file is not None and Path(file).resolve() == path


def _load_file(target: str, ref: str) -> ModuleType:
    path = Path(target).expanduser().resolve()
    if not path.is_file():
        what = "is a folder" if path.is_dir() else "does not exist"
        if path.suffix != ".py" and path.with_name(path.name + ".py").is_file():
            what += f" (did you mean {target + '.py'!r}?)"
        raise PipelineReferenceError(f"pipeline file {target!r} {what}; {_FORMS}")
    if path.suffix != ".py":
        raise PipelineReferenceError(f"pipeline file {target!r} is not a .py file; {_FORMS}")
    name, root = _module_name_for(path)
    if not all(part.isidentifier() for part in name.split(".")):
        msg = f"pipeline file {target!r}: {path.stem!r} is not a valid module name; rename the file (letters, digits, '_')"
        raise PipelineReferenceError(msg)
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    existing = sys.modules.get(name)
    if existing is not None:
        if _same_file(existing, path):
            return existing
        if name not in _LOADED:
            msg = (
                f"pipeline file {target!r} would be imported as module {name!r}, but that name is "
                f"already the module {getattr(existing, '__file__', None) or name}; rename the file"
            )
            raise PipelineReferenceError(msg)
    if "." in name:
        return _import_dotted(name, ref, path)
    return _exec_file(name, path, ref)


def _import_dotted(name: str, ref: str, path: Path | None = None) -> ModuleType:
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if path is None and (name == missing or name.startswith(missing + ".")):
            msg = (
                f"no module named {exc.name!r} (from {ref!r}); check the spelling and that it is "
                f"importable from {os.getcwd()} or PYTHONPATH; for a file, pass path/to/file.py"
            )
            raise PipelineReferenceError(msg) from exc
        raise _import_error(ref, exc) from exc
    except GlacierError:
        raise
    except Exception as exc:
        raise _import_error(ref, exc) from exc
    if path is not None and not _same_file(module, path):
        msg = (
            f"pipeline file {ref!r} should be module {name!r}, but importing {name!r} gives "
            f"{getattr(module, '__file__', None)}; another package of that name shadows it"
        )
        raise PipelineReferenceError(msg)
    return module


def _load_module(target: str, ref: str) -> ModuleType:
    if not all(part.isidentifier() for part in target.split(".")):
        raise PipelineReferenceError(f"{ref!r} is not a pipeline reference; {_FORMS}")
    # The `glacier` console script does not put the working directory on sys.path the way
    # `python -m` does; a project's own modules must be importable either way.
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    return _import_dotted(target, ref)


def _pipelines_in(module: ModuleType) -> dict[str, Pipeline]:
    found: dict[str, Pipeline] = {}
    for name, value in vars(module).items():
        if isinstance(value, Pipeline) and not any(p is value for p in found.values()):
            found[name] = value
    return found


def _resolve_attr(module: ModuleType, attr: str, ref: str) -> Pipeline:
    obj: object = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            names = ", ".join(_pipelines_in(module)) or "none"
            msg = f"{ref!r}: module {module.__name__!r} has no attribute {attr!r}; its pipelines: {names}"
            raise PipelineReferenceError(msg)
        obj = getattr(obj, part)
    if callable(obj) and not isinstance(obj, Pipeline | Task | type):
        try:
            obj = obj()
        except GlacierError:
            raise
        except Exception as exc:
            msg = f"{ref!r}: calling {attr}() to build the pipeline failed: {type(exc).__name__}: {exc}"
            raise PipelineReferenceError(msg) from exc
    if not isinstance(obj, Pipeline):
        msg = (
            f"{ref!r}: {attr!r} is {_a(type(obj).__name__)}, not a Pipeline; point at a Pipeline or "
            "a function with no arguments that returns one"
        )
        raise PipelineReferenceError(msg)
    return obj


def _find_only(module: ModuleType, ref: str) -> tuple[str, Pipeline]:
    found = _pipelines_in(module)
    if len(found) == 1:
        return next(iter(found.items()))
    if not found:
        msg = (
            f"{ref!r}: module {module.__name__!r} defines no Pipeline; define one at module level "
            "(pipeline = Pipeline(...)) or point at a function returning one (REF:build)"
        )
        raise PipelineReferenceError(msg)
    names = ", ".join(sorted(found))
    msg = f"{ref!r}: module {module.__name__!r} defines several pipelines ({names}); choose one with {ref}:<name>"
    raise PipelineReferenceError(msg)


def _display_path(target: str) -> str:
    path = Path(target).expanduser().resolve()
    try:
        return path.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def load_pipeline(ref: str) -> Pipeline:
    """The Pipeline a ``file.py[:attr]`` / ``module[:attr]`` reference names.

    ``attr`` may name a Pipeline or a function with no arguments returning one; without it
    the module must hold exactly one Pipeline. Sets ``pipeline.source`` to the normalised
    reference (``path/relative/to/cwd.py:attr`` or ``pkg.mod:attr``).
    """
    if not isinstance(ref, str) or not ref.strip():
        raise PipelineReferenceError(f"empty pipeline reference; {_FORMS}")
    target, attr = split_ref(ref.strip())
    is_file = _is_file_ref(target)
    module = _load_file(target, ref) if is_file else _load_module(target, ref)
    warn_stray_tasks(module)
    if attr is None:
        attr, pipeline = _find_only(module, ref)
    else:
        pipeline = _resolve_attr(module, attr, ref)
    pipeline.source = f"{_display_path(target) if is_file else target}:{attr}"
    return pipeline


__all__ = ["load_pipeline", "split_ref", "stray_tasks"]
