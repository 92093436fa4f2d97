"""Design-space sweeps: ``sweep``."""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["sweep_cmd"]


@click.command("sweep")
@click.argument("spec", metavar="SPEC.toml", type=click.Path(path_type=Path))
@click.option("--out", "out", required=True, type=click.Path(path_type=Path),
              help="Sweep directory: results.jsonl, summary.md, pareto.png, accuracy.png, runs/ and the cache.")
@click.option("--scheduler", default=None, help="Address of a running Dask scheduler (tcp://HOST:8786) "
              "[default: a local cluster of processes].")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Workers of the local cluster [default: one per core].")
@click.option("--resume", is_flag=True, help="Keep the points already in OUT/results.jsonl; run the rest.")
@click.option("--cache", "cache", type=click.Path(path_type=Path), default=None,
              help="Result and trained-network cache [default: OUT/cache].")
def sweep_cmd(spec: Path, out: Path, scheduler: str | None, workers: int | None, resume: bool,
              cache: Path | None) -> None:
    """Run a design-space sweep of SPEC.toml on Dask (docs/sweeps.md).

    Networks × build axes × targets (or an explicit list of points); each point
    trains (once per configuration), evaluates and synthesizes on a worker, and
    is written to OUT/results.jsonl as it finishes. Failed points are recorded
    and the sweep goes on.
    """
    from snnhw.sweep import expand, load_spec, run_sweep

    if scheduler and workers:
        raise click.UsageError("--workers sizes the local cluster; it cannot be used with --scheduler")
    parsed = load_spec(spec)
    points = expand(parsed)
    click.echo(f"{spec}: {len(points)} points on {scheduler or 'a local cluster'}")
    results = run_sweep(parsed, out, scheduler=scheduler, workers=workers, resume=resume, cache=cache)
    failed = sum(r["status"] != "ok" for r in results)
    cached = sum(bool(r.get("cached")) for r in results)
    click.echo(f"{len(results) - failed} ok ({cached} from the cache), {failed} failed; "
               f"{out / 'results.jsonl'}, {out / 'summary.md'}")
