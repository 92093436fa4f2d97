"""Option helpers and error handling shared by every command group."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from snnhw.errors import InputError, SnnhwError
from snnhw.ir import Network

__all__ = ["Group", "build_options", "fail", "int_list", "resolve_build_option", "table", "with_progress", "writable"]


class Group(click.Group):
    """A click group that turns snnhw errors and I/O errors into one line and exit 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SnnhwError as err:
            fail(str(err))
        except (OSError, MemoryError) as err:
            name = getattr(err, "filename", None)
            reason = getattr(err, "strerror", None) or str(err) or type(err).__name__
            fail(f"{name}: {reason}" if name else reason)


def fail(message: str) -> None:
    click.echo(f"snnhw: error: {message}", err=True)
    sys.exit(2)


def writable(path: Path) -> Path:
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise InputError("the output directory does not exist", source=str(path))
    if path.is_dir():
        raise InputError("is a directory; give a file path", source=str(path))
    return path



def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(r[c]) for r in [header, *rows]) for c in range(len(header))]
    lines = ["  ".join(cell.rjust(w) if cell[:1].isdigit() else cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in [header, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def build_options(func):
    func = click.option("--cores", type=click.IntRange(min=1), default=None,
                        help="Cores per layer (clamped to each layer's size); overrides the build file. Used by the simulator engines, generate and synth.")(func)
    func = click.option("--lanes", type=click.IntRange(min=1), default=None,
                        help="Lanes per core (clamped to each core's size); overrides the build file. Used by the simulator engines, generate and synth.")(func)
    func = click.option("--build", "build_file", type=click.Path(path_type=Path), default=None,
                        help="Build configuration JSON (see docs/architecture.md). Used by the simulator engines, generate and synth.")(func)
    return func


def dataset_options(func):
    """``--dataset`` (its test split) and ``--data`` (the MNIST folder)."""
    func = click.option("--data", type=click.Path(path_type=Path), default=None,
                        help="MNIST folder of the four IDX files [default: $SNNHW_MNIST_DIR, else "
                             "../shared/data/mnist].")(func)
    return click.option("--dataset", type=click.Choice(["mnist", "digits"]), required=True,
                        help="Data set (its test split).")(func)


def resolve_build_option(network: Network, build_file: Path | None, lanes: int | None, cores: int | None) -> Any:
    from snnhw.rtl.build import load_build, resolve_build

    config = load_build(build_file) if build_file is not None else None
    return resolve_build(network, config, lanes=lanes, cores=cores,
                         source=str(build_file) if build_file is not None else None)


def with_progress(job, total: int, label: str) -> Any:
    from tqdm import tqdm

    with tqdm(total=total, desc=label, unit="sample", disable=None, file=sys.stderr, leave=False) as bar:
        return job(bar.update)


def int_list(text: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise click.BadParameter(f"must be comma-separated integers, got {text!r}") from None
    if not values or min(values) < 1:
        raise click.BadParameter(f"must be comma-separated integers ≥ 1, got {text!r}")
    return values
