"""Open SITELLE cubes in the Mirabelle window (the default `mirabelle` command)."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="*", metavar="CUBE",
                        help="SITELLE cube(s) to open (HDF5 or FITS); the first one opens in the window")
    parser.add_argument("--install-desktop", action="store_true",
                        help="install the desktop entry, icon and MIME types for this user, then exit")
    parser.add_argument("--no-inference", action="store_true",
                        help="do not run the kinematics network when a cube opens")


def launch(paths: list[str], **options) -> int:
    """Open the main window on ``paths`` and run until it closes; options: ``run_inference``.

    Raises DisplayError (one sentence) when Qt could not open a window here.
    """
    from mirabelle.commands.display import check_display

    check_display()  # before Qt loads: Qt aborts with a core dump instead
    from mirabelle.ui.app import launch as _launch

    return _launch(list(paths), run_inference=options.get("run_inference"))


def run(args: argparse.Namespace) -> int:
    if args.install_desktop:
        from mirabelle.ui.desktop import install_desktop

        for line in install_desktop():
            print(line)
        return 0
    return launch(args.files, run_inference=False if args.no_inference else None)
