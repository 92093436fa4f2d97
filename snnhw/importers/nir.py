"""NIR graphs as snnhw networks: the mapping, its error bound, and the refusals.

A NIR graph stores continuous-time neurons (``τ dv/dt = (v_leak − v) + r·I``)
and no time step. Given ``dt``, an integrator and a reset, each
``Affine``/``Linear`` → ``LIF``/``IF``/``LI`` pair of a feed-forward chain becomes
one snnhw layer:

* the per-step decay β (``1 − dt/τ`` for Euler, ``e^(−dt/τ)`` for the exact
  integrator) becomes the shift leak ``k`` (``β = 1 − 2^−k``) or the ``pow2``
  leak (``β = 2^−k``) whose time constant is closest; IF has no leak;
* the input gain (``dt·r/τ``, ``r·(1 − e^(−dt/τ))``, ``dt·r`` for IF) is folded
  into the weights, together with one power-of-two scale ``2^e`` per layer, the
  largest that fits the weights into the weight width and the threshold into
  the potential width;
* NIR fires on ``v > v_threshold``, snnhw on ``V ≥ θ``: the integer threshold is
  ``floor(2^e·v_threshold) + 1``.

The report (:class:`ImportReport`) gives every choice and the effective
time-constant error per layer. ``docs/importing.md`` is the user's guide.
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from snnhw._io import atomic_write_bytes
from snnhw.errors import ImportRefused, InputError
from snnhw.ir import InputSpec, Layer, LayerKind, Leak, LeakKind, Network, Readout, Reset

__all__ = ["DEFAULT_EXPORT_DT", "METADATA_KEY", "PRESETS", "ImportOptions", "ImportReport", "LayerMapping", "Preset",
           "agreement", "export_graph", "import_graph", "import_nir", "read_graph", "reference_run", "write_nir"]

log = logging.getLogger(__name__)

#: Time-constant error (relative) above which the import warns.
WARN_TAU_ERROR = 0.10
#: The graph metadata key under which an exported network's config travels (JSON).
METADATA_KEY = "snnhw.network"
#: The time step an export assumes unless told: snnTorch's, so that its importer reads β back.
DEFAULT_EXPORT_DT = 1e-4


@dataclass(frozen=True)
class Preset:
    """What a framework's NIR export means: its time step, integrator and reset."""

    dt: float | None
    integrator: str
    reset: str
    note: str


#: The conventions of the frameworks whose exports have been checked.
PRESETS: dict[str, Preset] = {
    "snntorch": Preset(1e-4, "euler", "subtract",
                       "snnTorch 1.0 exports with dt = 1e-4 s, tau = dt/(1 - beta), r = tau/dt, and writes its "
                       "subtract-reset neurons as reset-to-zero"),
    "norse": Preset(1e-3, "euler", "zero",
                    "Norse exports tau = 1/tau_mem_inv and r = 1 for its Euler step of dt = 1e-3 s, and resets to "
                    "v_reset; its LIFCell (current-based) exports as CubaLIF, which is refused: use LIFBoxCell"),
    "sinabs": Preset(1.0, "exp", "subtract",
                     "Sinabs exports tau_mem in time steps and r = 1; its LIF decays by exp(-1/tau) and scales the "
                     "input by 1 - exp(-1/tau) (norm_input), and its IAF and LIF subtract the threshold at the spike"),
    "steps": Preset(1.0, "euler", "zero", "time constants counted in time steps (dt = 1)"),
}


@dataclass(frozen=True)
class ImportOptions:
    """How to turn a NIR graph into integers. ``None`` means: from the preset, or the default."""

    time_steps: int
    dt: float | None = None
    preset: str | None = None
    integrator: str | None = None
    reset: str | None = None
    input_bits: int = 8
    input_scale: float | None = None
    weight_bits: int = 8
    potential_bits: int = 16
    amplitude_bits: int = 1
    readout: str | None = None
    name: str | None = None
    tolerance: float = 0.5


@dataclass
class LayerMapping:
    """How one NIR synapse-and-neuron pair became an snnhw layer."""

    name: str
    nodes: tuple[str, str]
    neuron: str
    beta: float | None
    leak: str
    tau_s: float | None
    tau_effective_s: float | None
    tau_error: float
    gain: float | list[float]
    scale_exponent: int
    threshold: float | None
    threshold_int: int
    weight_range: tuple[int, int]


@dataclass
class ImportReport:
    """Everything the import chose, for ``NET.npz.import.json`` and the printed summary."""

    source: str
    dt: float
    dt_source: str
    integrator: str
    reset: str
    preset: str | None
    input_bits: int
    input_scale: float
    readout: str
    layers: list[LayerMapping] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    calibration: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


def _type(node: Any) -> str:
    return type(node).__name__


def read_graph(path: str | os.PathLike[str]) -> Any:
    """Read a NIR file, refusing anything that is not one in a single line."""
    try:
        import nir
    except ImportError:  # pragma: no cover - the extra is part of `all`
        raise InputError("reading NIR needs the `nir` package: pip install 'snnhw[nir]'", source=str(path)) from None
    if not Path(path).is_file():
        raise InputError("no such file", source=str(path))
    try:
        return nir.read(str(path), type_check=False)  # snnTorch writes 0-d parameters, which the check refuses
    except Exception as err:  # nir and h5py raise many kinds of errors for a bad file
        raise ImportRefused(f"not a NIR file ({type(err).__name__}: {err})".replace("\n", " ")[:200],
                            source=str(path)) from None


def _chain(graph: Any, source: str) -> list[tuple[str, Any]]:
    """The graph's nodes from input to output, refusing all that is not a feed-forward chain."""
    nodes = dict(graph.nodes)
    succ: dict[str, list[str]] = {n: [] for n in nodes}
    pred: dict[str, list[str]] = {n: [] for n in nodes}
    for a, b in graph.edges:
        if a not in nodes or b not in nodes:
            raise ImportRefused("edge to or from a node that does not exist", key=f"edges.{a}->{b}", source=source)
        succ[a].append(b)
        pred[b].append(a)
    for name, node in nodes.items():
        if _type(node) == "NIRGraph":
            raise ImportRefused("nested graphs (as recurrent layers write them) are not supported; "
                                "snnhw takes feed-forward chains only", key=f"nodes.{name}", source=source)
    # cycles: a depth-first search from every node
    state: dict[str, int] = {}

    def visit(n: str) -> None:
        state[n] = 1
        for m in succ[n]:
            if state.get(m) == 1:
                raise ImportRefused("recurrent edge: snnhw takes feed-forward chains only", key=f"edges.{n}->{m}",
                                    source=source)
            if m not in state:
                visit(m)
        state[n] = 2

    for n in sorted(nodes):
        if n not in state:
            visit(n)
    for n in sorted(nodes):
        if len(succ[n]) > 1:
            raise ImportRefused(f"branch: the node feeds {len(succ[n])} nodes; snnhw takes feed-forward chains only",
                                key=f"nodes.{n}", source=source)
        if len(pred[n]) > 1:
            raise ImportRefused(f"merge: {len(pred[n])} nodes feed the node; snnhw takes feed-forward chains only",
                                key=f"nodes.{n}", source=source)
    starts = [n for n in sorted(nodes) if not pred[n]]
    if len(starts) != 1 or _type(nodes[starts[0]]) != "Input":
        raise ImportRefused("the graph must start at exactly one Input node", key="nodes", source=source,
                            value=starts)
    order = [starts[0]]
    while succ[order[-1]]:
        order.append(succ[order[-1]][0])
    missing = sorted(set(nodes) - set(order))
    if missing:
        raise ImportRefused("node not connected to the input's chain", key=f"nodes.{missing[0]}", source=source)
    return [(n, nodes[n]) for n in order]


_REFUSED = {
    "CubaLIF": "CubaLIF (current-based) neurons are not supported: snnhw neurons integrate their input directly",
    "CubaLI": "CubaLI neurons are not supported: snnhw neurons integrate their input directly",
    "Delay": "Delay is not supported: snnhw layers have no synaptic delays",
    "Threshold": "a standalone Threshold is not supported; spiking comes from LIF or IF nodes",
    "Conv1d": "convolutions are not supported; flatten them into Affine layers first",
    "Conv2d": "convolutions are not supported; flatten them into Affine layers first",
    "SumPool2d": "pooling is not supported",
    "AvgPool2d": "pooling is not supported",
    "Scale": "Scale nodes are not supported",
}


def _vector(node: Any, attr: str, size: int, name: str, source: str) -> np.ndarray:
    value = getattr(node, attr, None)
    if value is None:
        return np.zeros(size)
    arr = np.asarray(value, dtype=np.float64).reshape(-1)
    if arr.size == 1:
        arr = np.full(size, float(arr[0]))
    if arr.size != size:
        raise ImportRefused(f"has {arr.size} values for a layer of {size} neurons", key=f"nodes.{name}.{attr}",
                            source=source)
    if not np.all(np.isfinite(arr)):
        raise ImportRefused("must be finite", key=f"nodes.{name}.{attr}", source=source)
    return arr


def _tau_of(beta: float, dt: float, integrator: str) -> float:
    """The time constant that a per-step decay β stands for."""
    if beta >= 1.0:
        return math.inf
    return dt / (1.0 - beta) if integrator == "euler" else -dt / math.log(beta)


def _leak_for(beta: float, tau: float, dt: float, integrator: str, potential_bits: int) -> tuple[Leak, float, float]:
    """The shift or pow2 leak whose time constant is closest to ``tau``: (leak, τ_eff, relative error)."""
    best: tuple[float, Leak, float] | None = None
    for k in range(1, potential_bits):
        for kind, b in ((LeakKind.SHIFT, 1.0 - 2.0 ** -k), (LeakKind.POW2, 2.0 ** -k)):
            if kind is LeakKind.POW2 and k == 1:
                continue  # the same decay as shift 1
            t_eff = _tau_of(b, dt, integrator)
            err = abs(t_eff - tau) / tau
            if best is None or err < best[0] - 1e-15:
                best = (err, Leak(kind, k), t_eff)
    assert best is not None
    return best[1], best[2], best[0]


def _resolve_options(graph: Any, options: ImportOptions, source: str) -> tuple[float, str, str, str, str | None]:
    """dt (and where it came from), integrator, reset, preset."""
    preset = PRESETS.get(options.preset) if options.preset else None
    if options.preset and preset is None:
        raise InputError(f"unknown preset; choose one of {', '.join(PRESETS)}", key="--preset", value=options.preset)
    integrator = options.integrator or (preset.integrator if preset else "euler")
    reset = options.reset or (preset.reset if preset else "zero")
    if integrator not in ("euler", "exp"):
        raise InputError("must be euler or exp", key="--integrator", value=integrator)
    if reset not in ("zero", "subtract"):
        raise InputError("must be zero or subtract", key="--reset", value=reset)
    if options.dt is not None:
        if not options.dt > 0:
            raise InputError("must be > 0", key="--dt", value=options.dt)
        return options.dt, "--dt", integrator, reset, options.preset
    if preset is not None and preset.dt is not None:
        return preset.dt, f"preset {options.preset}", integrator, reset, options.preset
    ratios = []
    for node in graph.nodes.values():
        if _type(node) in ("LIF", "LI"):
            tau = np.asarray(node.tau, dtype=np.float64).reshape(-1)
            r = np.asarray(node.r, dtype=np.float64).reshape(-1)
            ratios.extend((tau / r).tolist())
    if ratios and np.allclose(ratios, ratios[0], rtol=1e-6, atol=0) and ratios[0] > 0:
        return float(ratios[0]), "inferred: every LIF has tau/r = dt (as snnTorch writes)", integrator, reset, None
    raise InputError("NIR stores no time step: pass --dt SECONDS or a --preset (it can be inferred only where "
                     "every LIF has the same tau/r)", key="--dt", source=source)


def import_graph(graph: Any, options: ImportOptions, *, source: str = "<graph>") -> tuple[Network, ImportReport]:
    """Map a NIR graph to an snnhw network.

    Parameters
    ----------
    graph:
        A ``nir.NIRGraph`` whose nodes form one feed-forward chain
        ``Input → (Affine|Linear → LIF|IF)… → [Affine|Linear → LI] → Output``.
    options:
        Time step, integrator, reset, widths and the input scale.
    source:
        The file name, for error messages.

    Returns
    -------
    (Network, ImportReport)

    Raises
    ------
    ImportRefused
        For anything the chain or the integer semantics cannot represent, naming the node and the rule.
    """
    meta = dict(getattr(graph, "metadata", None) or {})
    if METADATA_KEY in meta:
        return _from_snnhw_export(graph, str(meta[METADATA_KEY]), source)
    dt, dt_source, integrator, reset, preset = _resolve_options(graph, options, source)
    chain = _chain(graph, source)
    body = [(n, node) for n, node in chain if _type(node) not in ("Input", "Output", "Flatten")]
    for n, node in body:
        if _type(node) in _REFUSED:
            raise ImportRefused(_REFUSED[_type(node)], key=f"nodes.{n}", source=source)
    pairs: list[tuple[tuple[str, Any], tuple[str, Any]]] = []
    i = 0
    while i < len(body):
        (sn, syn) = body[i]
        if _type(syn) not in ("Affine", "Linear"):
            raise ImportRefused(f"expected an Affine or Linear node here, found {_type(syn)}", key=f"nodes.{sn}",
                                source=source)
        if i + 1 >= len(body):
            raise ImportRefused("a synapse must be followed by a LIF, IF or LI node", key=f"nodes.{sn}", source=source)
        (nn, neu) = body[i + 1]
        if _type(neu) not in ("LIF", "IF", "LI", "I"):
            raise ImportRefused(f"expected a LIF, IF or LI node after {sn}, found {_type(neu)}", key=f"nodes.{nn}",
                                source=source)
        pairs.append(((sn, syn), (nn, neu)))
        i += 2
    if not pairs:
        raise ImportRefused("no Affine/Linear → LIF/IF layer found", key="nodes", source=source)
    for _, (nn, neu) in pairs[:-1]:
        if _type(neu) in ("LI", "I"):
            raise ImportRefused(f"{_type(neu)} neurons do not spike: only the last layer may be one (the potential "
                                "readout)", key=f"nodes.{nn}", source=source)
    B, Wb, P = options.input_bits, options.weight_bits, options.potential_bits
    if not 1 <= B <= 16:
        raise InputError("must be 1 … 16", key="--input-bits", value=B)
    input_scale = options.input_scale if options.input_scale is not None else 1.0 / ((1 << B) - 1)
    if not input_scale > 0:
        raise InputError("must be > 0", key="--input-scale", value=input_scale)
    last_kind = _type(pairs[-1][1][1])
    readout = options.readout or ("potential" if last_kind in ("LI", "I") else "spike_count")
    report = ImportReport(source=source, dt=dt, dt_source=dt_source, integrator=integrator, reset=reset,
                          preset=preset, input_bits=B, input_scale=input_scale, readout=readout)
    if preset is not None:
        report.notes.append(PRESETS[preset].note)
    wmax, pmax = (1 << (Wb - 1)) - 1, (1 << (P - 1)) - 1
    layers: list[Layer] = []
    n_in = None
    for li, ((sn, syn), (nn, neu)) in enumerate(pairs):
        weight = np.asarray(syn.weight, dtype=np.float64)
        if weight.ndim != 2:
            raise ImportRefused("weights must be a matrix (out × in)", key=f"nodes.{sn}.weight", source=source,
                                value=list(weight.shape))
        size, fan_in = weight.shape
        if n_in is not None and fan_in != n_in:
            raise ImportRefused(f"takes {fan_in} inputs but the layer before has {n_in} neurons",
                                key=f"nodes.{sn}.weight", source=source)
        n_in = size
        bias = _vector(syn, "bias", size, sn, source) if _type(syn) == "Affine" else np.zeros(size)
        kind = _type(neu)
        r = _vector(neu, "r", size, nn, source) if kind != "I" else np.ones(size)
        if np.any(r <= 0):
            raise ImportRefused("must be > 0", key=f"nodes.{nn}.r", source=source)
        v_reset = getattr(neu, "v_reset", None)
        if v_reset is not None and np.any(np.asarray(v_reset, dtype=np.float64) != 0):
            raise ImportRefused("non-zero v_reset is not supported: snnhw resets to 0 or subtracts the threshold",
                                key=f"nodes.{nn}.v_reset", source=source)
        if kind in ("LIF", "LI"):
            tau = _vector(neu, "tau", size, nn, source)
            v_leak = _vector(neu, "v_leak", size, nn, source)
            if np.any(v_leak != 0):
                raise ImportRefused("non-zero v_leak is not supported", key=f"nodes.{nn}.v_leak", source=source)
            if np.any(tau <= dt):
                raise ImportRefused(f"tau must exceed dt = {dt:g} s", key=f"nodes.{nn}.tau", source=source,
                                    value=float(tau.min()))
            if not np.allclose(tau, tau[0], rtol=1e-9, atol=0):
                raise ImportRefused("neurons of one layer need different leaks (tau differs); snnhw has one leak "
                                    "per layer", key=f"nodes.{nn}.tau", source=source)
            t0 = float(tau[0])
            beta = 1.0 - dt / t0 if integrator == "euler" else math.exp(-dt / t0)
            gain = dt * r / tau if integrator == "euler" else r * (1.0 - np.exp(-dt / tau))
            leak, t_eff, err = _leak_for(beta, t0, dt, integrator, P)
        else:  # IF and I: no leak
            t0, beta, t_eff, err = math.inf, 1.0, math.inf, 0.0
            gain = dt * r
            leak = Leak()
        if err > options.tolerance:
            raise ImportRefused(f"the closest leak gives tau = {t_eff:.4g} s for tau = {t0:.4g} s, an error of "
                                f"{100 * err:.1f} % above the tolerance of {100 * options.tolerance:.0f} % "
                                "(--tolerance)", key=f"nodes.{nn}.tau", source=source)
        if err > WARN_TAU_ERROR:
            report.warnings.append(f"{nn}: time constant {t0:.4g} s becomes {t_eff:.4g} s ({100 * err:.1f} % off)")
        spiking = kind in ("LIF", "IF")
        w_eff = weight * gain[:, None] * (input_scale if li == 0 else 1.0)
        b_eff = bias * gain
        theta: float | None = None
        if spiking:
            thr = _vector(neu, "v_threshold", size, nn, source)
            if np.any(thr <= 0):
                raise ImportRefused("must be > 0", key=f"nodes.{nn}.v_threshold", source=source)
            ratio = np.log2(thr / thr[0])
            if not np.allclose(ratio, np.round(ratio), rtol=0, atol=1e-9):
                raise ImportRefused("thresholds that no power-of-two scaling of the rows makes equal; snnhw has one "
                                    "threshold per layer", key=f"nodes.{nn}.v_threshold", source=source)
            # scale row n by 2^(−ratio_n): its threshold becomes thr[0], its spikes stay the same
            row = np.exp2(-np.round(ratio))
            w_eff = w_eff * row[:, None]
            b_eff = b_eff * row
            theta = float(thr[0])
        a = float(np.max(np.abs(w_eff))) if w_eff.size else 0.0
        limits = []
        if a > 0:
            limits.append(math.floor(math.log2(wmax / a)))
        if theta is not None:
            limits.append(math.floor(math.log2((pmax - 1) / theta)))
        bmax = float(np.max(np.abs(b_eff))) if b_eff.size else 0.0
        if bmax > 0:
            limits.append(math.floor(math.log2(pmax / bmax)))
        e = min(limits) if limits else 0
        S = 2.0 ** e
        w_int = np.clip(np.rint(w_eff * S), -wmax - 1, wmax).astype(np.int64)
        b_int = np.clip(np.rint(b_eff * S), -pmax - 1, pmax).astype(np.int64)
        theta_int = min(pmax, math.floor(theta * S) + 1) if theta is not None else pmax
        if theta is not None and theta_int < 8:
            report.warnings.append(f"{nn}: the integer threshold is {theta_int}; the weights' range leaves the "
                                   "threshold few levels (raise --weight-bits)")
        has_bias = bool(np.any(b_int != 0))
        name = nn if nn.isidentifier() else f"layer{li}"
        layers.append(Layer(name=name, kind=LayerKind.ENCODER if li == 0 else LayerKind.DENSE, size=size,
                            weight_bits=Wb, potential_bits=P, threshold=int(theta_int), leak=leak,
                            reset=Reset(reset) if spiking else Reset.ZERO,
                            amplitude_bits=options.amplitude_bits, weight=w_int,
                            bias=b_int if has_bias else None))
        report.layers.append(LayerMapping(
            name=name, nodes=(sn, nn), neuron=kind, beta=beta, leak=leak.kind.value + (f":{leak.shift}" if leak.shift
                                                                                       else ""),
            tau_s=None if math.isinf(t0) else t0, tau_effective_s=None if math.isinf(t_eff) else t_eff,
            tau_error=err, gain=float(gain[0]) if np.allclose(gain, gain[0]) else [float(g) for g in gain],
            scale_exponent=e, threshold=theta, threshold_int=int(theta_int),
            weight_range=(int(w_int.min()), int(w_int.max()))))
    first_in = np.asarray(pairs[0][0][1].weight).shape[1]
    name = options.name or Path(source).stem or "imported"
    network = Network(name=name, time_steps=options.time_steps, input=InputSpec(size=int(first_in), bits=B),
                      readout=Readout(readout), layers=layers)
    for w in report.warnings:
        log.warning("%s", w)
    return network, report


def import_nir(path: str | os.PathLike[str], options: ImportOptions) -> tuple[Network, ImportReport]:
    """Read the NIR file ``path`` and map it; see :func:`import_graph`."""
    return import_graph(read_graph(path), options, source=str(path))


def reference_run(graph: Any, x: np.ndarray, *, dt: float, time_steps: int, integrator: str = "euler",
                  reset: str = "zero", subtract_after_leak: bool = True) -> tuple[list[np.ndarray], np.ndarray]:
    """Run a NIR chain in floating point, as its equations read with ``dt`` and the integrator.

    Each step, each layer: ``v ← β·v + g·(W·s + b)``; a spiking layer fires where
    ``v > v_threshold`` and then resets to 0 (``zero``) or subtracts the threshold
    (``subtract``: at the next step, after the leak, as snnTorch does, unless
    ``subtract_after_leak`` is false). The input ``x`` (float, ``(N, n_in)``) is
    the current of every step (direct encoding).

    Returns
    -------
    (spikes, final)
        ``spikes[i]``: ``(N, T, size_i)`` booleans of the spiking layers; ``final``: the
        last layer's potential after the last step.
    """
    chain = [node for _, node in _chain(graph, "<graph>") if _type(node) not in ("Input", "Output", "Flatten")]
    x = np.asarray(x, dtype=np.float64)
    N = x.shape[0]
    params = []
    for syn, neu in zip(chain[0::2], chain[1::2], strict=True):
        W = np.asarray(syn.weight, dtype=np.float64)
        size = W.shape[0]
        b = np.asarray(syn.bias, dtype=np.float64).reshape(-1) if _type(syn) == "Affine" else np.zeros(size)
        kind = _type(neu)
        r = np.broadcast_to(np.asarray(getattr(neu, "r", 1.0), dtype=np.float64).reshape(-1), (size,))
        if kind in ("LIF", "LI"):
            tau = np.broadcast_to(np.asarray(neu.tau, dtype=np.float64).reshape(-1), (size,))
            beta = 1.0 - dt / tau if integrator == "euler" else np.exp(-dt / tau)
            gain = dt * r / tau if integrator == "euler" else r * (1.0 - np.exp(-dt / tau))
        else:
            beta, gain = np.ones(size), dt * r
        thr = (np.broadcast_to(np.asarray(neu.v_threshold, dtype=np.float64).reshape(-1), (size,))
               if kind in ("LIF", "IF") else None)
        params.append((W, b, beta, gain, thr))
    v = [np.zeros((N, p[0].shape[0])) for p in params]
    fired = [np.zeros((N, p[0].shape[0]), dtype=bool) for p in params]
    spikes = [np.zeros((N, time_steps, p[0].shape[0]), dtype=bool) for p in params if p[4] is not None]
    for t in range(time_steps):
        s = x
        k = 0
        for i, (W, b, beta, gain, thr) in enumerate(params):
            v[i] = beta * v[i] + gain * (s @ W.T + b)
            if thr is None:
                continue
            if reset == "subtract" and subtract_after_leak:
                v[i] = v[i] - thr * fired[i]
            out = v[i] > thr
            if reset == "zero":
                v[i] = np.where(out, 0.0, v[i])
            elif not subtract_after_leak:
                v[i] = v[i] - thr * out
            fired[i] = out
            spikes[k][:, t] = out
            k += 1
            s = out.astype(np.float64)
    return spikes, v[-1]


def agreement(graph: Any, network: Network, report: ImportReport, x: np.ndarray) -> dict[str, Any]:
    """How far the imported network is from the NIR semantics on calibration inputs.

    ``x`` holds integer inputs (as every snnhw command takes them); the float
    reference sees ``x · input_scale``. The reference uses the import's ``dt``,
    integrator and reset; a subtract reset acts after the next leak where the
    preset is ``snntorch`` (snnTorch's order) and at the spike otherwise.

    Returns
    -------
    dict
        ``samples``; per layer ``spike_agreement`` (the fraction of (sample, step,
        neuron) entries that agree), ``first_divergence_step`` (``None`` if none),
        ``reference_spikes``, ``golden_spikes`` and ``saturations``; ``top1_agreement``.
    """
    from snnhw.model import simulate

    x = np.asarray(x)
    T = network.time_steps
    spikes, final = reference_run(graph, x.astype(np.float64) * report.input_scale, dt=report.dt, time_steps=T,
                                  integrator=report.integrator, reset=report.reset,
                                  subtract_after_leak=report.preset == "snntorch")
    trace = simulate(network, x)
    stats = trace.stats(network)
    layers = []
    n = len(x)
    for i, ref in enumerate(spikes):
        size = network.layers[i].size
        got = np.zeros((n, T, size), dtype=bool)
        events = trace.events[i]
        if len(events):
            got[events[:, 0], events[:, 1], events[:, 2]] = True
        diff = np.flatnonzero((got != ref).any(axis=(0, 2)))
        layers.append({"layer": network.layers[i].name,
                       "spike_agreement": float((got == ref).mean()) if got.size else 1.0,
                       "first_divergence_step": int(diff[0]) if diff.size else None,
                       "reference_spikes": int(ref.sum()), "golden_spikes": int(got.sum()),
                       "saturations": stats[i].saturations})
    if network.readout is Readout.POTENTIAL:
        ref_scores = final
    else:
        ref_scores = spikes[-1].sum(axis=1)
    ref_pred = np.argmax(ref_scores, axis=1)  # the smallest index among equal maxima, as the semantics say
    result = {"samples": int(n), "layers": layers,
              "top1_agreement": float((ref_pred == trace.predictions).mean()) if n else 1.0}
    report.calibration = result
    return result


def _from_snnhw_export(graph: Any, config_text: str, source: str) -> tuple[Network, ImportReport]:
    """An snnhw export read back: the config from the metadata, the integers from the synapses."""
    import json

    from snnhw.errors import NetworkError
    from snnhw.ir import _from_parts

    try:
        config = json.loads(config_text)
    except ValueError as err:
        raise ImportRefused(f"the snnhw metadata is not JSON ({err})", key=f"metadata.{METADATA_KEY}",
                            source=source) from None
    chain = [(n, node) for n, node in _chain(graph, source) if _type(node) in ("Affine", "Linear")]
    arrays: dict[str, np.ndarray] = {}
    for i, (_, syn) in enumerate(chain):
        arrays[f"layers.{i}.weight"] = np.rint(np.asarray(syn.weight, dtype=np.float64)).astype(np.int64)
        layers = config.get("layers") if isinstance(config, dict) else None
        if isinstance(layers, list) and i < len(layers) and isinstance(layers[i], dict) and layers[i].get("bias"):
            arrays[f"layers.{i}.bias"] = np.rint(np.asarray(syn.bias, dtype=np.float64)).astype(np.int64)
    try:
        network = _from_parts(config, lambda key: arrays[key], set(arrays))
    except NetworkError as err:
        raise err.within(None, source=source) from None
    report = ImportReport(source=source, dt=math.nan, dt_source=f"an snnhw export ({METADATA_KEY} metadata)",
                          integrator="euler", reset=network.layers[0].reset.value, preset=None,
                          input_bits=network.input.bits, input_scale=1.0, readout=network.readout.value)
    report.notes.append("read back exactly from the snnhw metadata and the integer weights")
    return network, report


def export_graph(network: Network, dt: float = DEFAULT_EXPORT_DT) -> tuple[Any, list[str]]:
    """The network as a NIR graph (1-D parameters only), and warnings for what NIR cannot express.

    Each layer is an ``Affine`` (integer weights as floats; zero bias without one)
    and a neuron: a shift-``k`` leak becomes ``LIF`` with ``τ = dt·2^k`` and
    ``r = 2^k`` (so that ``β = 1 − 2^−k`` and the input gain is 1 under Euler), a
    ``pow2`` leak ``τ = dt/(1 − 2^−k)``, ``r = τ/dt``; ``leak: none`` becomes ``IF``
    with ``r = 1/dt``; a potential readout's last layer becomes ``LI``. The
    threshold is ``θ − 1/2`` (integer potentials: ``V ≥ θ`` is ``V > θ − 1/2``),
    inputs are integers (scale 1). The network's config travels in the graph's
    metadata, so that :func:`import_graph` gives back the identical network.
    """
    import json

    import nir

    nodes: dict[str, Any] = {"input": nir.Input(input_type={"input": np.array([network.input.size])})}
    edges: list[tuple[str, str]] = []
    warnings: list[str] = []
    prev = "input"
    last = len(network.layers) - 1
    for i, layer in enumerate(network.layers):
        n = layer.size
        bias = layer.bias if layer.bias is not None else np.zeros(n, dtype=np.int64)
        nodes[f"syn{i}"] = nir.Affine(weight=np.asarray(layer.weight, dtype=np.float64),
                                      bias=np.asarray(bias, dtype=np.float64))
        k = layer.leak.shift or 0
        if layer.leak.kind is LeakKind.SHIFT:
            tau, r = dt * 2.0 ** k, 2.0 ** k
        elif layer.leak.kind is LeakKind.POW2:
            tau = dt / (1.0 - 2.0 ** -k)
            r = tau / dt
        else:
            tau, r = math.inf, 1.0 / dt
        potential = i == last and network.readout is Readout.POTENTIAL
        if potential:
            if math.isinf(tau):
                nodes[f"neuron{i}"] = nir.I(r=np.full(n, r))
            else:
                nodes[f"neuron{i}"] = nir.LI(tau=np.full(n, tau), r=np.full(n, r), v_leak=np.zeros(n))
        elif math.isinf(tau):
            nodes[f"neuron{i}"] = nir.IF(r=np.full(n, r), v_threshold=np.full(n, layer.threshold - 0.5),
                                         v_reset=np.zeros(n))
        else:
            nodes[f"neuron{i}"] = nir.LIF(tau=np.full(n, tau), r=np.full(n, r), v_leak=np.zeros(n),
                                          v_threshold=np.full(n, layer.threshold - 0.5), v_reset=np.zeros(n))
        if not potential and layer.reset is Reset.SUBTRACT:
            warnings.append(f"{layer.name}: NIR has no subtract reset; the graph says reset to 0 "
                            "(the metadata keeps the subtract reset)")
        if not potential and layer.amplitude_bits > 1 and layer.reset is Reset.SUBTRACT:
            warnings.append(f"{layer.name}: NIR spikes are binary; graded amplitudes "
                            f"({layer.amplitude_bits} bits) are kept only in the metadata")
        edges += [(prev, f"syn{i}"), (f"syn{i}", f"neuron{i}")]
        prev = f"neuron{i}"
    nodes["output"] = nir.Output(output_type={"output": np.array([network.layers[-1].size])})
    edges.append((prev, "output"))
    warnings.append("saturation at the potential width is not expressed in NIR")
    graph = nir.NIRGraph(nodes=nodes, edges=edges,
                         metadata={METADATA_KEY: json.dumps(network.to_config(), sort_keys=True),
                                   "snnhw.dt": float(dt)})
    return graph, warnings


def write_nir(graph: Any, path: str | os.PathLike[str]) -> None:
    """Write a NIR graph to ``path`` atomically (the HDF5 image is built in memory, then renamed into place)."""
    import io

    import nir

    buffer = io.BytesIO()
    nir.write(buffer, graph)
    atomic_write_bytes(path, buffer.getvalue())
