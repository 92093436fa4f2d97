"""Data and libraries: ``fetch``."""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["fetch_cmd"]


@click.command("fetch")
@click.argument("what", type=click.Choice(["mnist", "asap7"]))
@click.option("--dir", "directory", type=click.Path(path_type=Path), default=None,
              help="Folder to fetch into [default: the cache: $SNNHW_CACHE, else the user cache directory].")
def fetch_cmd(what: str, directory: Path | None) -> None:
    """Fetch MNIST or the ASAP7 libraries, verify them and cache them.

    Every file is checked against the SHA-256 of its decompressed contents that
    snnhw pins; files already cached are kept. Commands that need the data run
    the same fetch on first use. Sources: SNNHW_MNIST_URL / SNNHW_ASAP7_URL (a
    base URL holding the files under their usual names), else the public mirrors.
    """
    from snnhw.fetch import BUNDLES, fetch

    folder = fetch(what, directory)
    bundle = BUNDLES[what]
    size = sum(f.size for f in bundle.files)
    click.echo(f"{bundle.title}: {len(bundle.files)} files, {size / 1e6:.1f} MB, verified, in {folder}")
    click.echo(f"licence: {bundle.licence}")
