"""`python -m mirabelle` runs the same command line as `mirabelle`."""

from mirabelle.cli import main

raise SystemExit(main())
