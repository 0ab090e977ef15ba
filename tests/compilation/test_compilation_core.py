"""The provider-neutral compiler machinery: registry, placement, codegen, naming, write()."""

from __future__ import annotations

import ast
import importlib
import os
from collections.abc import Iterator
from pathlib import Path
from types import MappingProxyType

import pytest

from glacier import Dataset, Pipeline, compute
from glacier.compilation import (
    CompileInput,
    Compiler,
    CrossCloudTransfer,
    Infrastructure,
    MultiCloudCompiler,
    Stack,
    StackBuild,
    codegen,
    get_provider,
    naming,
    register_provider,
    registry,
    resolve,
)
from glacier.compilation.infrastructure import ResolvedResource
from glacier.compilation.provider import Price, Provider
from glacier.errors import CompilationError, ProviderNotInstalledError
from glacier.storage import ObjectStorage
from glacier_aws import S3, AWSCompiler
from glacier_aws import naming as aws_naming

#: The registry module itself (``glacier.compilation.registry`` is the read-only mapping).
registry_module = importlib.import_module("glacier.compilation.registry")

# -- registry --------------------------------------------------------------------------------


@pytest.fixture
def clean_registry() -> Iterator[None]:
    """Providers a test registers are gone after it."""
    saved = dict(registry_module._registry)
    yield
    registry_module._registry.clear()
    registry_module._registry.update(saved)
    registry_module._by_scheme.cache_clear()


def test_registry_is_read_only_and_loads_aws_through_its_entry_point() -> None:
    assert isinstance(registry, MappingProxyType)
    provider = get_provider("aws")
    assert provider.name == "aws" and registry["aws"] is provider
    assert isinstance(provider.compiler(), AWSCompiler)
    with pytest.raises(TypeError):
        registry["x"] = provider  # type: ignore[index]


def test_missing_provider_names_the_pip_command(monkeypatch: pytest.MonkeyPatch) -> None:
    builtins = {
        **registry_module.BUILTIN_PROVIDERS,
        "nosuch": ("glacier_nosuch:P", "glacier[nosuch]"),
    }
    monkeypatch.setattr(registry_module, "BUILTIN_PROVIDERS", MappingProxyType(builtins))
    with pytest.raises(
        ProviderNotInstalledError,
        match=r"provider 'nosuch' is not installed: .*`pip install glacier\[nosuch\]`",
    ):
        get_provider("nosuch")
    with pytest.raises(
        ProviderNotInstalledError, match="unknown provider 'nope'; known providers: aws, azure, gcp"
    ):
        get_provider("nope")


class FakeProvider:
    """A third-party provider's declarations, as its package would expose them."""

    name = "fake"
    package = "tests"
    runtime = ""
    schemes = ("fake",)
    storage_class = "tests.FakeStorage"
    egress = Price(0.12, "GB", as_of="2026-11", source="https://example.invalid/prices")
    name_rules: dict[str, naming.NameRule] = {}
    limits: dict[str, int] = {}
    compiles = True

    def compiler(self) -> Compiler:
        return FakeCompiler()

    def location(self, storage: object, key: str) -> str:
        return f"fake://bucket/{key}"

    def storage_options(self, storage: object, given: dict[str, str]) -> dict[str, str]:
        return dict(given)

    def filesystem(self, options: object) -> None:
        return None


@pytest.mark.usefixtures("clean_registry")
def test_third_party_provider_can_register() -> None:
    register_provider("fake", FakeProvider(), clobber=True)
    assert get_provider("fake").name == "fake"
    assert isinstance(get_provider("fake"), Provider)
    with pytest.raises(ValueError, match="already registered"):
        register_provider("fake", FakeProvider())


# -- placement -------------------------------------------------------------------------------

raw = Dataset("raw", storage=ObjectStorage())
pinned = Dataset("pinned", storage=S3("my-pinned-bucket"))
scratch = Dataset("scratch")
pipeline = Pipeline(name="mixed")


@pipeline.task()
def extract() -> raw:
    return None


@pipeline.task(compute=compute.serverless())
def step(data: raw) -> scratch:
    return data


@pipeline.task()
def keep(data: scratch) -> pinned:
    return data


class FakeCompiler(Compiler):
    """A second provider: records what it was asked to build."""

    provider = "fake"

    def build_stack(self, job: CompileInput) -> StackBuild:
        tasks = job.placement.tasks_on("fake")
        files = {"main.txt": "\n".join(tasks) + "\n"}
        return StackBuild(
            Stack("fake", files, tuple(ResolvedResource("fake", "fn", t) for t in tasks))
        )


def test_generic_goes_to_default_specific_to_its_provider() -> None:
    placed = resolve(pipeline.spec(), "fake", ("aws", "fake"))
    assert dict(placed.datasets) == {"pinned": "aws", "raw": "fake", "scratch": "fake"}
    assert set(placed.tasks.values()) == {"fake"}


def test_provider_specific_resource_without_its_compiler_is_named() -> None:
    msg = r"dataset 'pinned' uses S3\(object_storage\), which needs provider 'aws', but this compiler targets fake"
    with pytest.raises(CompilationError, match=msg):
        resolve(pipeline.spec(), "fake", ("fake",))


@pytest.mark.usefixtures("clean_registry")
def test_multicloud_reports_cross_cloud_transfers() -> None:
    compiler = MultiCloudCompiler(providers={"fake": FakeCompiler()}, default_provider="fake")
    with pytest.raises(CompilationError, match="needs provider 'aws'"):
        pipeline.compile(compiler)
    compiler = MultiCloudCompiler(
        providers={"aws": AWSCompiler(), "fake": FakeCompiler()}, default_provider="fake"
    )
    register_provider("fake", FakeProvider(), clobber=True)  # its egress price
    job_spec = pipeline.spec()
    placement = resolve(job_spec, "fake", ("aws", "fake"))
    from glacier.compilation.sources import PipelineSource

    transfers = compiler.transfers(CompileInput(job_spec, placement, PipelineSource("m:p")))
    assert transfers == [
        CrossCloudTransfer(
            "pinned", "keep", "pinned storage", "fake", "aws", 0.12, None, "us-east-1"
        )
    ]
    infra = Infrastructure("mixed", {"fake": Stack("fake", {})}, list(transfers))
    assert (
        "CROSS-PROVIDER DATA TRANSFERS DETECTED\n  - pinned: keep (fake) -> pinned storage (aws), est. $0.12/GB egress"
        in infra.summary()
    )


def test_multicloud_validates_its_providers() -> None:
    with pytest.raises(
        CompilationError, match=r"default_provider 'gcp' is not one of the providers \['aws'\]"
    ):
        MultiCloudCompiler(providers={"aws": AWSCompiler()}, default_provider="gcp")
    with pytest.raises(CompilationError, match=r"providers\['gcp'\] is a 'aws' compiler"):
        MultiCloudCompiler(providers={"gcp": AWSCompiler()}, default_provider="gcp")


# -- code generation -------------------------------------------------------------------------


def test_render_module_prints_constants_and_refuses_bad_identifiers() -> None:
    evil = '"); import os #\n'
    text = codegen.render_module(
        "Doc.",
        [codegen.Section([codegen.assign("x", codegen.call("f.g", evil, -1, k=[1.5, None]))])],
        "Banner",
    )
    assert text.startswith('# Banner\n"""Doc."""\n')
    tree = ast.parse(text)
    assert [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)][1:3] == [evil, 1]
    for bad in ("os; import", "class", "a-b", ""):
        with pytest.raises(CompilationError, match="needs a Python identifier"):
            codegen.assign(bad, 1)
    with pytest.raises(CompilationError, match="cannot generate a constant"):
        codegen.value(object())


def test_long_calls_break_one_argument_per_line() -> None:
    call = codegen.call("f", *(f"argument-{i}" for i in range(10)))
    text = codegen.render_module("D.", [codegen.Section([codegen.expr(call)])], "B")
    assert max(len(line) for line in text.splitlines()) <= codegen.LINE_LENGTH
    assert "    'argument-9',\n)" in text


def test_printed_module_parses_to_the_tree_that_was_built() -> None:
    evil = '"); import os #\n'
    call = codegen.call("f.g", *(f"{evil}{i}" for i in range(8)), flag=True, n=-0.0, x=[None])
    sections = [codegen.Section([codegen.assign("x", call), codegen.expr(codegen.call("h"))])]
    text = codegen.render_module("D.", sections, "B")
    assert "\n    flag=True," in text  # broken over lines, one argument per line
    assert codegen.same_tree(ast.parse(text), codegen.module_tree("D.", sections))
    assert not codegen.same_tree(
        ast.parse(text.replace("True", "1")), codegen.module_tree("D.", sections)
    )


@pytest.mark.parametrize(
    ("printed", "mangled"),
    [
        ("flag=True", "flag=1"),  # equal as constants (True == 1) but a different program
        ("'a',\n    'b',", "'a'\n    'b',"),  # a lost comma: implicit string concatenation
        ("'a'", "'a'.upper()"),  # an extra call
    ],
)
def test_render_module_refuses_text_that_is_a_different_program(
    printed: str, mangled: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = codegen._statement

    def mangling(printer: object, node: ast.stmt) -> str:
        text = real(printer, node)  # type: ignore[arg-type]
        assert printed in text
        return text.replace(printed, mangled, 1)

    monkeypatch.setattr(codegen, "_statement", mangling)
    call = codegen.call("f", "a", "b", "c" * 90, flag=True)
    with pytest.raises(CompilationError, match="does not compile to the program that was built"):
        codegen.render_module("D.", [codegen.Section([codegen.expr(call)])], "B")


# -- naming ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "name", "fragment"),
    [
        (aws_naming.S3_BUCKET, "ab", "must be 3-63 characters"),
        (aws_naming.S3_BUCKET, "Upper-case", "lowercase letters"),
        (aws_naming.S3_BUCKET, "a" * 64, "must be 3-63 characters"),
        (aws_naming.S3_BUCKET, "xn--bucket", "naming rule"),
        (aws_naming.LAMBDA_FUNCTION, "a" * 65, "1-64 characters"),
        (aws_naming.IAM_ROLE, "bad role", "naming rule"),
        (aws_naming.STATE_MACHINE, "m" * 81, "1-80 characters"),
        (aws_naming.LOG_GROUP, "bad:group", "naming rule"),
    ],
)
def test_naming_rules(rule: naming.NameRule, name: str, fragment: str) -> None:
    with pytest.raises(CompilationError, match=f"thing: {rule.what} name .*{fragment}"):
        naming.check(rule, name, "thing")


def test_autoname_suffix_is_reserved() -> None:
    assert aws_naming.LAMBDA_FUNCTION.problem("a" * 57, naming.AUTONAME_SUFFIX) is not None
    assert aws_naming.LAMBDA_FUNCTION.problem("a" * 56, naming.AUTONAME_SUFFIX) is None


# -- write -----------------------------------------------------------------------------------


def _infra(text: str) -> Infrastructure:
    return Infrastructure("p", {"aws": Stack("aws", {"a.txt": text, "sub/b.txt": text})})


def test_write_replaces_a_stack_whole(tmp_path: Path) -> None:
    _infra("one").write(tmp_path)
    _infra("two").write(tmp_path)
    assert (tmp_path / "aws" / "sub" / "b.txt").read_text() == "two"
    assert (tmp_path / "README.md").read_text().startswith("# Generated infrastructure")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["README.md", "aws"]


def test_failed_write_leaves_the_previous_stack(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _infra("one").write(tmp_path)
    real_open = open

    def failing_open(path: object, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        if str(path).endswith("b.txt"):
            raise OSError("disk full")
        return real_open(path, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr("builtins.open", failing_open)
    with pytest.raises(OSError, match="disk full"):
        _infra("two").write(tmp_path)
    monkeypatch.undo()
    assert (tmp_path / "aws" / "a.txt").read_text() == "one"
    assert sorted(os.listdir(tmp_path)) == ["README.md", "aws"]  # no temp folder left behind


def test_stack_paths_must_stay_inside(tmp_path: Path) -> None:
    with pytest.raises(CompilationError, match="must be relative and stay inside the stack"):
        Infrastructure("p", {"aws": Stack("aws", {"../escape.txt": "x"})}).write(tmp_path)


def test_failed_swap_puts_the_previous_stack_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rename of the new stack into place fails after the old one was moved aside."""
    _infra("one").write(tmp_path)
    real_replace = os.replace

    def failing_replace(src: object, dst: object) -> None:
        if ".tmp-" in str(src) and str(dst).endswith("aws"):
            raise OSError("rename failed")
        real_replace(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="rename failed"):
        _infra("two").write(tmp_path)
    monkeypatch.undo()
    assert (tmp_path / "aws" / "a.txt").read_text() == "one"
    assert sorted(os.listdir(tmp_path)) == ["README.md", "aws"]


def test_failed_readme_write_leaves_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The temporary file exists when writing its text fails (a lone surrogate cannot be encoded).
    monkeypatch.setattr(Infrastructure, "readme", lambda self: "# README \udc80")
    with pytest.raises(UnicodeEncodeError):
        _infra("one").write(tmp_path)
    assert sorted(os.listdir(tmp_path)) == ["aws"]


def test_leftovers_of_a_crashed_write_do_not_block_the_next(tmp_path: Path) -> None:
    _infra("one").write(tmp_path)
    # What a write killed between its two renames leaves behind (any process id).
    stale = tmp_path / f".aws.old-{os.getpid()}"
    stale.mkdir()
    (stale / "a.txt").write_text("stale")
    _infra("two").write(tmp_path)
    assert (tmp_path / "aws" / "a.txt").read_text() == "two"


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_written_stack_has_the_usual_permissions(tmp_path: Path) -> None:
    """Not mkdtemp's private 0700: a CI job or a teammate's account can read the stack."""
    mask = os.umask(0o022)
    try:
        _infra("one").write(tmp_path)
    finally:
        os.umask(mask)
    assert (tmp_path / "aws").stat().st_mode & 0o777 == 0o755
    assert (tmp_path / "aws" / "sub").stat().st_mode & 0o777 == 0o755
    assert (tmp_path / "README.md").stat().st_mode & 0o777 == 0o644


def test_summary_of_a_stack_without_resources() -> None:
    assert "  fake: 0 resources\n" in Infrastructure("p", {"fake": Stack("fake", {})}).summary()


@pytest.mark.parametrize(
    "name",
    ["amzn-s3-demo-data", "data--x-s3", "data--table-s3", "data--ol-s3", "192.168.1.10"],
)
def test_bucket_names_s3_reserves_are_refused(name: str) -> None:
    with pytest.raises(CompilationError, match="S3 bucket naming rule"):
        naming.check(aws_naming.S3_BUCKET, name, "thing")
