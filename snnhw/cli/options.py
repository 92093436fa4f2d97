"""Option helpers and error handling shared by every command group."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from snnhw.errors import InputError, SnnhwError
from snnhw.ir import Network

__all__ = ["Group", "build_options", "fail", "fixed_option", "int_list", "loadable_options", "resolve_build_option", "resolve_design",
           "table", "with_progress", "writable"]


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


def loadable_options(func):
    """``--loadable`` and the capacity options of a programmable design (``snnhw generate``, ``board build``)."""
    func = click.option("--no-preload", is_flag=True,
                        help="Loadable: the design starts empty and takes no sample before a load (as an ASIC, "
                             "whose SRAMs have no initial values) [default: NET is preloaded and committed].")(func)
    func = click.option("--encoder-fan-in", type=click.IntRange(min=1), default=None,
                        help="Loadable: non-zero weights per encoder neuron the design holds [default: NET's "
                             "largest; implies --loadable].")(func)
    func = click.option("--max-time-steps", type=click.IntRange(min=1, max=65535), default=None,
                        help="Loadable: the largest T a loaded network may have [default: NET's; implies "
                             "--loadable].")(func)
    func = click.option("--capacity", "capacity", type=str, default=None, metavar="SIZES",
                        help="Loadable: neurons per layer, comma-separated (the last is the output size), or a "
                             "network file or name whose layer sizes set them [implies --loadable].")(func)
    return click.option("--loadable", is_flag=True,
                        help="A programmable design: every parameter is loaded at run time over its configuration "
                             "stream; sized for NET unless --capacity says more.")(func)


def resolve_design(network: Network, build_file: Path | None, lanes: int | None, cores: int | None, *,
                   loadable: bool, capacity: str | None, max_time_steps: int | None, encoder_fan_in: int | None,
                   no_preload: bool) -> tuple[Network, Any]:
    """The design's network and resolved build: ``network`` itself, or for a loadable design its capacity
    network (``network`` padded to ``capacity``) with ``network`` preloaded."""
    from snnhw.netfile import resolve_network
    from snnhw.program import capacity_network
    from snnhw.rtl.build import load_build, resolve_build

    loadable = loadable or capacity is not None or max_time_steps is not None or encoder_fan_in is not None
    if no_preload and not loadable:
        raise InputError("applies to a loadable design only (add --loadable)", key="--no-preload")
    config = load_build(build_file) if build_file is not None else {}
    design = network
    if loadable:
        sizes = None
        if capacity is not None:
            parts = capacity.split(",")
            sizes = ([int(p) for p in parts] if all(p.strip().isdigit() for p in parts)
                     else [layer.size for layer in resolve_network(capacity).layers])
        design = capacity_network(network, sizes, max_time_steps)
        config = {**config, "loadable": True, **({"encoder_fan_in": encoder_fan_in} if encoder_fan_in else {}),
                  **({"preloaded": False} if no_preload else {})}
    build = resolve_build(design, config or None, lanes=lanes, cores=cores,
                          source=str(build_file) if build_file is not None else None, time_steps=network.time_steps)
    return design, build


def dataset_options(func):
    """``--dataset`` (its test split) and ``--data`` (the MNIST folder)."""
    func = click.option("--data", type=click.Path(path_type=Path), default=None,
                        help="MNIST folder of the four IDX files [default: $SNNHW_MNIST_DIR, else "
                             "../shared/data/mnist].")(func)
    return click.option("--dataset", type=click.Choice(["mnist", "digits"]), required=True,
                        help="Data set (its test split).")(func)


def resolve_build_option(network: Network, build_file: Path | None, lanes: int | None, cores: int | None, *,
                         silicon: bool = False, fixed: bool = False) -> Any:
    """The build of ``--build``, ``--lanes`` and ``--cores``; ``silicon``: for an ASIC flow, whose default is
    the loadable design (:func:`snnhw.rtl.build.silicon_config`) unless ``fixed`` (``--fixed``)."""
    from snnhw.rtl.build import load_build, resolve_build, silicon_config

    config = load_build(build_file) if build_file is not None else None
    if fixed:
        if (config or {}).get("loadable"):
            raise InputError("contradicts the build file's \"loadable\": true", key="--fixed",
                             source=str(build_file))
        config = {**(config or {}), "loadable": False}
    elif silicon:
        config = silicon_config(config)
    return resolve_build(network, config, lanes=lanes, cores=cores,
                         source=str(build_file) if build_file is not None else None)


def fixed_option(func):
    """``--fixed``: an ASIC flow builds the fixed design instead of the loadable default."""
    return click.option("--fixed", is_flag=True,
                        help="ASAP7: the fixed design, its parameters as memory initial values (which silicon SRAM "
                             "does not have; an FPGA-style figure) [default: the loadable design, empty until "
                             "a network is loaded over s_axis_config].")(func)


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
