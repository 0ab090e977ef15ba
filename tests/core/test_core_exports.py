"""The public surface, pinned (httpx's tests/test_exported_members.py idea)."""

from __future__ import annotations

import types

import glacier
import glacier.errors

PUBLIC = [
    "CompilationError", "CycleError", "Dataset", "DefinitionError", "DuplicateProducerError",
    "GlacierError", "LocalExecutor", "Pipeline", "PipelineIR", "RunResult", "SchemaError",
    "Secret", "Task", "__version__", "compute", "errors", "get_logger", "storage", "task",
]  # fmt: skip


def test_all_is_pinned() -> None:
    assert glacier.__all__ == PUBLIC


def test_every_exported_name_resolves() -> None:
    for name in glacier.__all__:
        assert getattr(glacier, name) is not None, name


def test_nothing_public_is_left_out_of_all() -> None:
    # Submodules become attributes once imported; only the documented ones are public.
    public = {
        name
        for name, value in vars(glacier).items()
        if not name.startswith("_")
        and not isinstance(value, types.ModuleType)
        and name != "annotations"
    }
    assert public <= set(glacier.__all__), public - set(glacier.__all__)


def test_exported_objects_belong_to_glacier() -> None:
    for name in glacier.__all__:
        value = getattr(glacier, name)
        module = getattr(value, "__module__", None) or getattr(value, "__name__", "")
        if not isinstance(value, str):
            assert module.startswith("glacier"), (name, module)


def test_errors_module_surface() -> None:
    assert glacier.errors.__all__ == [
        "CompilationError", "CycleError", "DefinitionError", "DuplicateProducerError", "GlacierError",
        "GlacierWarning", "InputError", "MissingSecretError", "MissingSourcesError", "PipelineReferenceError", "ProviderNotInstalledError", "ResourceError", "SchemaError", "TaskFailedError",
        "TaskSchemaError", "WriteConflictError",
    ]  # fmt: skip
    bases = (glacier.errors.GlacierError, glacier.errors.GlacierWarning)
    for name in glacier.errors.__all__:
        assert issubclass(getattr(glacier.errors, name), bases)


def test_unknown_attribute() -> None:
    try:
        glacier.NoSuchThing  # type: ignore[attr-defined]  # noqa: B018
    except AttributeError as exc:
        assert "module 'glacier' has no attribute 'NoSuchThing'" in str(exc)
    else:
        raise AssertionError("expected AttributeError")
