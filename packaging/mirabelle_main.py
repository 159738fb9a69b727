"""Entry point of the PyInstaller bundle: the same command line as `mirabelle`."""

import multiprocessing

from mirabelle.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()
    raise SystemExit(main())
