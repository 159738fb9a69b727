"""The `mirabelle` command: subcommands import their module only when run, so `info` and
`predict` never load Qt."""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from mirabelle import __version__
from mirabelle.errors import MirabelleError

# subcommand -> module exposing `add_arguments(parser)` and `run(args) -> int`.
# Command modules import nothing heavy at module level.
COMMANDS = {
    "info": "mirabelle.commands.info",
    "predict": "mirabelle.commands.predict",
    "train": "mirabelle.commands.train",
    "demo": "mirabelle.commands.demo",
    "screenshot": "mirabelle.commands.screenshot",
    "extract": "mirabelle.commands.extract",
    "moments": "mirabelle.commands.moments",
    "pv": "mirabelle.commands.pv",
}
# `mirabelle [CUBE ...]` with no subcommand opens the desktop application.
GUI_COMMAND = "mirabelle.commands.gui"


def _build_parser(name: str | None) -> tuple[argparse.ArgumentParser, object]:
    if name is None:
        module = importlib.import_module(GUI_COMMAND)
        parser = argparse.ArgumentParser(
            prog="mirabelle",
            description="Open SITELLE cubes in the Mirabelle window. Subcommands: "
            + ", ".join(COMMANDS) + " (see `mirabelle SUBCOMMAND --help`).",
        )
        parser.add_argument("--version", action="version", version=f"mirabelle {__version__}")
    else:
        module = importlib.import_module(COMMANDS[name])
        parser = argparse.ArgumentParser(prog=f"mirabelle {name}", description=module.__doc__)
    module.add_arguments(parser)
    return parser, module


DEBUG_OPTION = "--debug"
"""Anywhere on the command line: let unexpected exceptions through with their traceback."""


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status.

    The boundary of every command: a `MirabelleError` is one line, an unexpected exception
    is one line plus the hint to rerun with ``--debug``, a closed pipe ends quietly.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = DEBUG_OPTION in argv or os.environ.get("MIRABELLE_DEBUG") == "1"
    argv = [arg for arg in argv if arg != DEBUG_OPTION]
    name = argv[0] if argv and argv[0] in COMMANDS else None
    parser, module = _build_parser(name)
    args = parser.parse_args(argv[1:] if name else argv)
    try:
        status = int(module.run(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's exit
        return status
    except MirabelleError as exc:
        print(f"mirabelle: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("mirabelle: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `mirabelle info CUBE | head -2`: the reader has what it wanted
        _silence_stdout()
        return 0
    except MemoryError:
        if debug:
            raise
        print("mirabelle: error: out of memory (the input is larger than this machine can hold; "
              f"rerun with {DEBUG_OPTION} for the traceback)", file=sys.stderr)
        return 3
    except Exception as exc:
        if debug:
            raise
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else "no message"
        print(f"mirabelle: internal error: {type(exc).__name__}: {text} "
              f"(rerun with {DEBUG_OPTION} for the traceback and report it)", file=sys.stderr)
        return 3


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass
