"""The ``snnhw`` command line.

One module per command group (:mod:`~snnhw.cli.network`, :mod:`~snnhw.cli.simulate`,
:mod:`~snnhw.cli.hardware`, :mod:`~snnhw.cli.board`, :mod:`~snnhw.cli.learn`, :mod:`~snnhw.cli.convert`, :mod:`~snnhw.cli.data`, :mod:`~snnhw.cli.sweep`,
:mod:`~snnhw.cli.demo`), the shared option
helpers in :mod:`snnhw.cli.options`. Every command prints ``--help``; user errors print one line
``snnhw: error: FILE: KEY: RULE, got VALUE`` on standard error and exit with status 2, never a
traceback. Outputs are written atomically.
"""

from __future__ import annotations

import logging

import click

from snnhw import __version__
from snnhw.cli.board import board
from snnhw.cli.convert import export_cmd, import_cmd
from snnhw.cli.data import fetch_cmd
from snnhw.cli.demo import demo
from snnhw.cli.hardware import generate, pack_cmd, report, synth
from snnhw.cli.learn import eval_cmd, train
from snnhw.cli.network import info, networks, random_cmd
from snnhw.cli.options import Group
from snnhw.cli.power import power_cmd
from snnhw.cli.simulate import run
from snnhw.cli.sweep import sweep_cmd
from snnhw.cli.verify import verify_cmd

__all__ = ["cli", "main"]


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="snnhw")
@click.option("-v", "--verbose", count=True, help="More log output (-v info, -vv debug).")
def cli(verbose: int) -> None:
    """snnhw: spiking-network accelerators from trained networks.

    Networks are snnhw.network/1 files (.npz) or the names of bundled networks
    (see `snnhw networks`). Run `snnhw COMMAND --help` for each command.
    """
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")


for _command in (info, run, generate, synth, report, random_cmd, eval_cmd, train, networks, demo, import_cmd,
                 export_cmd, fetch_cmd, sweep_cmd, board, power_cmd, verify_cmd, pack_cmd):
    cli.add_command(_command)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``snnhw`` console script."""
    cli.main(args=argv, prog_name="snnhw")


if __name__ == "__main__":  # pragma: no cover
    main()
