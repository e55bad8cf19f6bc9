"""`python -m hubbub` runs the command line, like the `hubbub` entry point."""

from hubbub.cli import main

raise SystemExit(main())
