"""``glacier compile REF --target T`` and ``glacier plan REF --target T``.

``compile`` writes the Pulumi projects (``<out>/<provider>/``, ``<out>/README.md``);
``plan`` compiles in memory and prints what would be deployed (resources, each task's
packaging and permissions, cross-cloud transfers, the cost estimate), writing nothing.
Compilers are found through the provider registry, so a missing provider package is a
one-line error with the pip command that installs it. ``--region`` chooses the region a
single-provider stack is compiled for (the default of its deploy-time region config); without
it the provider reads its environment, and both commands print which region they used and why.
"""

from __future__ import annotations

import argparse
import inspect
from typing import Any

from glacier.compilation import (
    Compiler,
    Infrastructure,
    MultiCloudCompiler,
    available_providers,
    get_provider,
)
from glacier.compilation.registry import built_providers
from glacier.errors import CompilationError
from glacier.loader import load_pipeline
from glacier.pipeline import Pipeline
from glacier.project import load_config, pipeline_file


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "ref",
        metavar="REF",
        nargs="?",
        default=None,
        help="path/to/file.py[:attr] or package.module[:attr] (default: the project config's pipeline)",
    )
    targets = [*available_providers(), "multi"]  # every provider the registry knows
    parser.add_argument(
        "--target",
        default=None,
        choices=targets,
        help="the cloud to compile for (default: the config's target, or the only provider "
        "that compiles here)",
    )
    parser.add_argument(
        "--default",
        metavar="PROVIDER",
        help="with --target multi: the provider generic resources go to (required there)",
    )
    parser.add_argument(
        "--region",
        help="the region to compile for (default: from the environment, e.g. AWS_REGION); "
        "the stack's region config can still change it at deploy time",
    )


def add_parser(subparsers: Any) -> None:
    compile_ = subparsers.add_parser(
        "compile",
        help="compile a pipeline to Pulumi projects",
        description="Compile a pipeline to one Pulumi project per provider under --out.",
    )
    _common(compile_)
    compile_.add_argument(
        "--out", default="infra", metavar="DIR", help="output folder (default: infra)"
    )
    plan = subparsers.add_parser(
        "plan",
        help="show what compiling would deploy, writing nothing",
        description="Resources, per-task packaging and permissions, transfers and cost; writes nothing.",
    )
    _common(plan)


def _providers_used(pipeline: Pipeline, default: str) -> list[str]:
    spec = pipeline.spec()
    found = {default}
    found |= {t.compute.provider for t in spec.tasks if t.compute.provider}
    found |= {d.storage.provider for d in spec.datasets if d.storage and d.storage.provider}
    return sorted(found - {"local"})


def _single(target: str, region: str | None) -> Compiler:
    """``target``'s compiler, for ``region`` when given (a provider's ``compiler(region=...)``)."""
    provider = get_provider(target)
    if region is None:
        return provider.compiler()  # type: ignore[no-any-return]
    if "region" not in inspect.signature(provider.compiler).parameters:
        msg = f"--region: provider {target!r} takes no region when compiling; remove --region"
        raise CompilationError(msg)
    return provider.compiler(region=region)  # type: ignore[no-any-return]


def compiler_for(
    target: str, default: str | None, pipeline: Pipeline, region: str | None = None
) -> Compiler:
    """The compiler ``--target``/``--default``/``--region`` ask for, loaded through the
    provider registry."""
    if target != "multi":
        if default not in (None, target):
            raise CompilationError(
                f"--default {default} only applies to --target multi (got --target {target})"
            )
        return _single(target, region)
    if region is not None:
        msg = (
            "--region applies to a single --target; for --target multi give each provider's "
            "compiler its region in Python (MultiCloudCompiler(providers={...}))"
        )
        raise CompilationError(msg)
    if default is None:
        raise CompilationError(
            "--target multi needs --default PROVIDER (where generic resources go)"
        )
    providers = {name: get_provider(name).compiler() for name in _providers_used(pipeline, default)}
    return MultiCloudCompiler(providers=providers, default_provider=default)


def region_lines(compiler: Compiler, from_flag: bool) -> list[str]:
    """``aws: region eu-west-1 (from AWS_REGION)``: per compiler with a region, which one it
    compiles for and why (a region taken from the environment is never silent)."""
    found = compiler.providers if isinstance(compiler, MultiCloudCompiler) else {"": compiler}
    lines = []
    for name, one in sorted(found.items()):
        region = getattr(one, "region", None)
        if region is None:
            continue
        source = "--region" if from_flag else getattr(one, "region_source", "its default")
        lines.append(f"{name or one.provider}: region {region} (from {source})")
    return lines


def default_target(pipeline: Pipeline) -> tuple[str, str]:
    """The project config's ``target``, else the one installed provider that compiles; with
    where it came from."""
    config = load_config(pipeline_file(pipeline))
    if config.target is not None:
        known = [*available_providers(), "multi"]
        if config.target not in known:
            msg = f"{config.file}: target {config.target!r} is not a provider; choose one of {', '.join(known)}"
            raise CompilationError(msg)
        return config.target, f"target in {config.file}"
    built = built_providers()
    if len(built) == 1:
        return built[0], "the only provider that compiles here"
    found = ", ".join(built) or "none"
    msg = (
        f"--target is needed: the providers that compile here are {found}; pass --target "
        f'{"|".join(built) or "aws"} or set target = "..." in the project\'s glacier.toml'
    )
    raise CompilationError(msg)


def _compile(args: argparse.Namespace) -> Infrastructure:
    from glacier.cli.run import resolve_ref

    pipeline = load_pipeline(resolve_ref(args.ref))
    target = args.target
    if target is None:
        target, why = default_target(pipeline)
        print(f"target: {target} (from {why})")
    compiler = compiler_for(target, args.default, pipeline, args.region)
    infra = pipeline.compile(compiler)
    for line in region_lines(compiler, args.region is not None):
        print(line)
    return infra


def run(args: argparse.Namespace) -> int:
    infra = _compile(args)
    if args.command == "plan":
        print(infra.plan(), end="")
        return 0
    try:
        out = infra.write(args.out)
    except OSError as exc:  # a file where the folder goes, no permission, full disk...
        reason = exc.strerror or str(exc)
        where = f" ({exc.filename})" if exc.filename else ""
        msg = f"cannot write the stacks to {args.out!r}: {reason}{where}; choose another --out DIR"
        raise CompilationError(msg) from exc
    print(infra.summary(), end="")
    for provider in sorted(infra.stacks):
        print(f"wrote {out / provider} ({len(infra.stacks[provider].files)} files)")
    if len(infra.stacks) > 1:  # several stacks: their order matters, the guide says it
        print(f"deploy: follow {out / 'README.md'} (the stacks' order, configuration and run)")
        return 0
    first = sorted(infra.stacks)[0]
    guide = "README.md" in infra.stacks[first].files
    before = f"follow {out / first / 'README.md'} (prerequisites first), then " if guide else ""
    print(f"deploy: {before}cd {out / first} && pulumi up")
    return 0


__all__ = ["add_parser", "compiler_for", "run"]
