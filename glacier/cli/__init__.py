"""The ``glacier`` command line: ``glacier <command> REF [options]``.

Each command lives in its own module exposing ``add_parser(subparsers)`` (which adds the
parser of every command name :data:`COMMANDS` maps to that module) and ``run(args) -> int``.
Modules are imported lazily: ``glacier validate`` does not import the compilers. A
:class:`~glacier.errors.GlacierError` prints as one ``error: ...`` line on stderr and exits 1;
``--debug`` shows the traceback instead. When the reader of stdout goes away
(``glacier graph REF | head -1``) the command stops quietly with exit status 141, as a
command killed by SIGPIPE does.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback
import warnings
from collections.abc import Sequence
from types import ModuleType
from typing import Any

from glacier.errors import GlacierError, GlacierWarning

#: (command name, module implementing it). Several names may share one module.
COMMANDS: tuple[tuple[str, str], ...] = (
    ("validate", "glacier.cli.validate"),
    ("graph", "glacier.cli.graph"),
    ("init", "glacier.cli.init"),
    ("run", "glacier.cli.run"),
    ("show", "glacier.cli.show"),
    ("compile", "glacier.cli.compile"),
    ("plan", "glacier.cli.compile"),
)


def _version() -> str:
    from glacier import __version__

    return __version__


def _import(module_name: str) -> ModuleType | None:
    """The command module, or None when it is not installed (a command still being built)."""
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:
            return None
        raise


def build_parser(only: str | None = None) -> tuple[argparse.ArgumentParser, dict[str, ModuleType]]:
    """The argument parser; with ``only``, just that command's module is imported."""
    parser = argparse.ArgumentParser(
        prog="glacier",
        description="Validate, draw, run and compile Glacier pipelines.",
        epilog="REF is path/to/file.py[:attr] or package.module[:attr].",
    )
    parser.add_argument("--version", action="version", version=f"glacier {_version()}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    by_command: dict[str, ModuleType] = {}
    loaded: dict[str, ModuleType] = {}
    for command, module_name in COMMANDS:
        if only is not None and command != only:
            continue
        if module_name not in loaded:
            module = _import(module_name)
            if module is None:
                continue
            module.add_parser(subparsers)
            loaded[module_name] = module
        by_command[command] = loaded[module_name]
    return parser, by_command


def _command_in(argv: Sequence[str]) -> str | None:
    """The first positional argument, when it names a known command."""
    names = {name for name, _ in COMMANDS}
    for arg in argv:
        if not arg.startswith("-"):
            return arg if arg in names else None
    return None


def _one_line(exc: BaseException) -> str:
    return " ".join(line.strip() for line in str(exc).splitlines() if line.strip())


def _pipe_closed() -> int:
    """The reader of stdout went away (``glacier graph ... | head``): stop quietly, as a
    command killed by SIGPIPE does (exit 141), without an error line or a flush failure at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # stdout without a file descriptor (captured, replaced)
        pass
    return 141


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: Any = None,
    line: str | None = None,
) -> None:
    """A Glacier warning is one ``warning: ...`` line; others print as Python prints them."""
    if issubclass(category, GlacierWarning):
        print(f"warning: {_one_line(Exception(str(message)))}", file=sys.stderr)
    else:
        _python_show(message, category, filename, lineno, file, line)


_python_show = warnings.showwarning


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``glacier`` console script and ``python -m glacier``."""
    warnings.showwarning = _show_warning
    args_list = list(sys.argv[1:] if argv is None else argv)
    # --debug may come after the command too (`glacier run x.py --debug`).
    cut = args_list.index("--") if "--" in args_list else len(args_list)
    debug = "--debug" in args_list[:cut]
    args_list = [a for i, a in enumerate(args_list) if not (i < cut and a == "--debug")]
    parser, commands = build_parser(_command_in(args_list))
    try:
        args = parser.parse_args(args_list)
    except SystemExit as exc:  # --help, --version, usage errors: argparse already printed
        return exc.code if isinstance(exc.code, int) else 2
    args.debug = debug
    try:
        code = int(commands[args.command].run(args) or 0)
        sys.stdout.flush()  # a closed pipe shows up here, not at interpreter exit
        return code
    except BrokenPipeError:
        return _pipe_closed()
    except GlacierError as exc:
        if debug:
            traceback.print_exc()
        print(f"error: {_one_line(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if debug:
            traceback.print_exc()
        msg = f"error: internal error: {type(exc).__name__}: {_one_line(exc)}"
        print(msg + ("" if debug else " (rerun with --debug for the traceback)"), file=sys.stderr)
        return 1


__all__ = ["COMMANDS", "build_parser", "main"]
