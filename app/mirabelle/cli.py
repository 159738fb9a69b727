"""The `mirabelle` command: subcommands import their module only when run, so `info` and
`predict` never load Qt."""

from __future__ import annotations

import argparse
import importlib
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


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    name = argv[0] if argv and argv[0] in COMMANDS else None
    parser, module = _build_parser(name)
    args = parser.parse_args(argv[1:] if name else argv)
    try:
        return int(module.run(args) or 0)
    except MirabelleError as exc:
        print(f"mirabelle: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("mirabelle: interrupted", file=sys.stderr)
        return 130
