"""``python -m snnhw``: the command line."""

from snnhw.cli import main

main()
