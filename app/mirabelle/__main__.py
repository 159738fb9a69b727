"""`python -m mirabelle` runs the same command line as `mirabelle`."""

from mirabelle.cli import main

if __name__ == "__main__":  # importing this module (e.g. walking the package) must not start the app
    raise SystemExit(main())
