"""``glacier compile REF --target T`` and ``glacier plan REF --target T``.

``compile`` writes the Pulumi projects (``<out>/<provider>/``, ``<out>/README.md``);
``plan`` compiles in memory and prints what would be deployed (resources, each task's
packaging and permissions, cross-cloud transfers, the cost estimate), writing nothing.
Compilers are found through the provider registry, so a missing provider package is a
one-line error with the pip command that installs it.
"""

from __future__ import annotations

import argparse
from typing import Any

from glacier.compilation import (
    Compiler,
    Infrastructure,
    MultiCloudCompiler,
    available_providers,
    get_provider,
)
from glacier.errors import CompilationError
from glacier.loader import load_pipeline
from glacier.pipeline import Pipeline


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "ref", metavar="REF", help="path/to/file.py[:attr] or package.module[:attr]"
    )
    targets = [*available_providers(), "multi"]  # every provider the registry knows
    parser.add_argument("--target", required=True, choices=targets, help="the cloud to compile for")
    parser.add_argument(
        "--default",
        metavar="PROVIDER",
        help="with --target multi: the provider generic resources go to (required there)",
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


def compiler_for(target: str, default: str | None, pipeline: Pipeline) -> Compiler:
    """The compiler ``--target``/``--default`` ask for, loaded through the provider registry."""
    if target != "multi":
        if default not in (None, target):
            raise CompilationError(
                f"--default {default} only applies to --target multi (got --target {target})"
            )
        return get_provider(target).compiler()
    if default is None:
        raise CompilationError(
            "--target multi needs --default PROVIDER (where generic resources go)"
        )
    providers = {name: get_provider(name).compiler() for name in _providers_used(pipeline, default)}
    return MultiCloudCompiler(providers=providers, default_provider=default)


def _compile(args: argparse.Namespace) -> Infrastructure:
    pipeline = load_pipeline(args.ref)
    return pipeline.compile(compiler_for(args.target, args.default, pipeline))


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
    print(f"deploy: cd {out / sorted(infra.stacks)[0]} && pulumi up")
    return 0


__all__ = ["add_parser", "compiler_for", "run"]
