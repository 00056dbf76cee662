"""Independent NumPy reference of NEST 3.10's time-driven e-prop baseline (``*_bsshslm_2020``).

A second oracle next to NEST: it rebuilds a network from a fixture of
``Tests/Fixtures/nest/bsshslm`` (through ``python/tests/bsshslm_fixtures.py``; it never
imports NEST) and simulates it step by step following spec section 10 and the precise
timing written down in ``tools/bsshslm_semantics.md`` (the "S-" numbers in the comments
refer to that file). It reproduces NEST's recordings, spikes, losses and weights; run

    python3 tools/bsshslm_reference.py --check            # every fixture, prints agreement
    python3 tools/bsshslm_reference.py --check regression_reference flush

Models: ``parrot_neuron`` (input relay), ``eprop_iaf_bsshslm_2020``,
``eprop_iaf_adapt_bsshslm_2020``, ``eprop_readout_bsshslm_2020`` (mean_squared_error,
cross_entropy), ``eprop_synapse_bsshslm_2020`` (gradient descent, Adam),
``eprop_learning_signal_connection_bsshslm_2020``, ``rate_connection_delayed`` (target,
receptor 2; readout normalisation, receptor 1), ``spike_generator``, ``step_rate_generator``.
Delays must be one step (as NEST requires for e-prop). Resolution any (fixtures use 1 ms).

The per-neuron e-prop history is kept whole (no pruning is needed for learning); the history
bookkeeping of NEST (update marks and interval pruning, S-9) is modelled separately only to
reproduce the ``eprop_history_duration`` and ``learning_signal`` recordables, and every entry a
gradient reads is checked to exist in that model (NEST would throw otherwise).
"""

from __future__ import annotations

import argparse
import bisect
import importlib.util
import math
import os
import sys

import numpy as np

try:  # optional: only speeds up a first-order filter (same operations, same result)
    from scipy.signal import lfilter
except ImportError:  # pragma: no cover
    lfilter = None

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))

REC_MODELS = ("eprop_iaf_bsshslm_2020", "eprop_iaf_adapt_bsshslm_2020")
READOUT = "eprop_readout_bsshslm_2020"
SYN = "eprop_synapse_bsshslm_2020"
LS_CONN = "eprop_learning_signal_connection_bsshslm_2020"
RATE_CONN = "rate_connection_delayed"
DBL_MAX = sys.float_info.max

REC_DEFAULTS = {
    "C_m": 250.0, "c_reg": 0.0, "E_L": -70.0, "f_target": 10.0, "I_e": 0.0, "regular_spike_arrival": True,
    "surrogate_gradient_function": "piecewise_linear", "surrogate_gradient_height": 0.3, "surrogate_gradient_width": 1.0,
    "t_ref": 2.0, "tau_m": 10.0, "V_min": None, "V_th": -55.0, "V_m": None, "flush_event_send_interval": float("inf"),
    "adapt_beta": 1.0, "adapt_tau": 10.0, "adaptation": 0.0,
}
READOUT_DEFAULTS = {"C_m": 250.0, "E_L": 0.0, "I_e": 0.0, "loss": "mean_squared_error", "regular_spike_arrival": True, "tau_m": 10.0, "V_min": None, "V_m": None}
OPT_DEFAULTS = {"type": "gradient_descent", "batch_size": 1, "eta": 1e-4, "Wmin": -100.0, "Wmax": 100.0, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7}
ETA_INITIAL = 1e-4  # WeightOptimizer::eta_current_ before any optimisation (S-7)


def _load_fixture_module():
    name = "_bsshslm_fixtures"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, os.path.join(ROOT, "python", "tests", "bsshslm_fixtures.py"))
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def cmod(a, b):
    """C++ ``a % b`` for integers (result has the sign of a)."""
    r = abs(a) % b
    return -r if a < 0 else r


def steps_of(ms, dt):
    if not math.isfinite(ms):
        return None
    return int(round(ms / dt))


# ---------------------------------------------------------------------------------------------
# Surrogate gradients (spec 4; psi = 0 while refractory)
# ---------------------------------------------------------------------------------------------


def _sequential_sum(x):
    """Sum over axis 0 in order (NEST adds one step after the other; numpy's sum may pair up)."""
    return np.add.accumulate(x, axis=0)[-1] if x.shape[0] else np.zeros(x.shape[1:])


def _filter_z(z, alpha, pz):
    """z_bar_i = alpha * z_bar_{i-1} + pz * z_i for every target (columns), z_bar_{-1} = 0."""
    n = z.size
    if np.all(alpha == alpha[0]) and np.all(pz == pz[0]):
        a, p = float(alpha[0]), float(pz[0])
        out = np.empty(n)
        zb = 0.0
        for i in range(n):
            zb = a * zb + p * z[i]
            out[i] = zb
        return np.repeat(out[:, None], alpha.size, axis=1)
    out = np.empty((n, alpha.size))
    zb = np.zeros(alpha.size)
    for i in range(n):
        zb = alpha * zb + pz * z[i]
        out[i] = zb
    return out


def _filter_ebar(e, kappa):
    """e_bar_i = kappa * e_bar_{i-1} + (1 - kappa) * e_i per column, e_bar_{-1} = 0."""
    if lfilter is not None and np.all(kappa == kappa[0]):
        k = float(kappa[0])
        # scipy's first-order filter performs exactly these two products and one addition
        return lfilter([1.0 - k], [1.0, -k], e, axis=0)
    one_minus = 1.0 - kappa
    out = np.empty_like(e)
    eb = np.zeros(e.shape[1])
    for i in range(e.shape[0]):
        eb = kappa * eb + one_minus * e[i]
        out[i] = eb
    return out


def surrogate(name, r, v, theta, h, w):
    out = np.zeros_like(v)
    ok = r == 0
    d = v - theta
    if name == "piecewise_linear":
        out[ok] = (h * np.maximum(0.0, 1.0 - np.abs(d) / w))[ok]
    elif name == "exponential":
        for i in np.nonzero(ok)[0]:
            out[i] = h[i] * math.exp(-abs(d[i]) / w[i])
    elif name == "fast_sigmoid_derivative":
        for i in np.nonzero(ok)[0]:
            out[i] = h[i] * math.pow(1.0 + abs(d[i]) / w[i], -2.0)
    elif name == "arctan_derivative":
        for i in np.nonzero(ok)[0]:
            x = d[i] / w[i]
            out[i] = h[i] / (1.0 + x * x)  # NEST's std::pow(x, 2.0) is compiled to x * x
    else:
        raise ValueError(f"unknown surrogate_gradient_function {name!r}")
    return out


# ---------------------------------------------------------------------------------------------
# The simulator
# ---------------------------------------------------------------------------------------------


class _SynGroup:
    """The eprop synapses from one source neuron within one connection group.

    All of them see the same events, so the event bookkeeping (S-5) is shared; weights,
    gradients and optimizer moments are per synapse."""

    __slots__ = ("conn", "targets", "ids", "t_prev", "prev_flush", "t_prev_update", "t_next", "trigger", "isis",
                 "k", "n_opt", "eta_cur", "b1p", "b2p")

    def __init__(self, conn, targets, ids, T):
        self.conn = conn
        self.targets = targets
        self.ids = ids
        self.t_prev = 0  # t_spike_previous_
        self.prev_flush = False
        self.t_prev_update = 0
        self.t_next = T  # set when the synapse is created (Connect), S-5
        self.trigger = 0  # t_previous_trigger_spike_
        self.isis = []
        self.k = 1  # optimization_step_
        self.n_opt = 0
        self.eta_cur = ETA_INITIAL
        self.b1p = 1.0
        self.b2p = 1.0


class Reference:
    """Simulate one fixture (dict from ``bsshslm_fixtures.load``)."""

    #: Deliberate deviations, for experiments that show which rule matters (--experiments).
    OPTIONS = {
        "no_drop": "do not drop events whose stamp is an interval start of a recurrent target",
        "final_L": "let gradients read the final learning signals (array) instead of those written so far",
        "readout_boundary_next": "a readout-synapse event with stamp exactly E starts the next interval",
        "ignore_creation_order": "target generator value of amplitude time T used from readout step T always",
        "no_catchup": "Adam makes one step per optimisation however many intervals were skipped",
        "average_by_interval": "average_gradient divides by the update interval instead of the learning window",
        "keep_z_on_reset": "the reset at an interval start leaves the pending spike (z) of the last step",
        "no_lag": "readout_signal uses this step's voltage (no one-step lag)",
        "shift_L_2": "learning signal of stamp s written to entry s - 2 instead of s - 3",
        "flush_off": "no flush events (flush_event_send_interval infinite)",
    }

    def __init__(self, fx, options=None):
        self.fx = fx
        self.opt = dict(options or {})
        unknown = set(self.opt) - set(self.OPTIONS)
        if unknown:
            raise ValueError(f"unknown options {sorted(unknown)}")
        self.stats = {
            "events_dropped_at_interval_start": 0,
            "flush_events_sent": 0,
            "flush_events_ignored_after_flush": 0,
            "updates_triggered_by_flush": 0,
            "optimizations_after_flush": 0,
            "updates": 0,
            "updates_at_E_plus_1": 0,
            "updates_missing_last_L": 0,
            "readout_events_at_boundary": 0,
            "adam_catchup_steps": 0,
            "learning_signal_recordable_from_pruned_entry": 0,
        }
        self._late_reads = []
        k = fx["kernel"]
        self.dt = float(k["resolution"])
        self.T = steps_of(k["eprop_update_interval"], self.dt)
        self.W = steps_of(k["eprop_learning_window"], self.dt)
        self.reset = bool(k["eprop_reset_neurons_on_update"])
        self.S = steps_of(fx["sim_time_ms"], self.dt)
        self._build()

    # -- network -------------------------------------------------------------------------

    def _build(self):
        fx, dt = self.fx, self.dt
        self.node = {}  # population name -> (kind, offset)
        rec_params, out_params = [], []
        n_parrot = 0
        order = []
        for p in fx["populations"]:
            order.append(p["name"])
            m = p["model"]
            if m in REC_MODELS:
                self.node[p["name"]] = ("rec", len(rec_params))
                prm = dict(REC_DEFAULTS)
                prm.update(p["params"])
                prm["_adapt"] = m == REC_MODELS[1]
                rec_params.extend([prm] * p["n"])
            elif m == READOUT:
                self.node[p["name"]] = ("out", len(out_params))
                prm = dict(READOUT_DEFAULTS)
                prm.update(p["params"])
                out_params.extend([prm] * p["n"])
            elif m == "parrot_neuron":
                self.node[p["name"]] = ("parrot", n_parrot)
                n_parrot += p["n"]
            elif m == "spike_generator":
                self.node[p["name"]] = ("spike_generator", 0)
            elif m == "step_rate_generator":
                self.node[p["name"]] = ("rate_generator", 0)
            else:
                raise ValueError(f"model {m} not supported by the reference")
        self.n_rec, self.n_out, self.n_parrot = len(rec_params), len(out_params), n_parrot

        # Recurrent neuron constants (S-1). Voltages relative to E_L, as NEST stores them.
        def arr(key, params=rec_params):
            return np.array([float(q[key]) for q in params])

        if self.n_rec:
            E_L = arr("E_L")
            self.r_EL = E_L
            tau, C = arr("tau_m"), arr("C_m")
            self.r_alpha = np.array([math.exp(-dt / x) for x in tau])
            self.r_Pi = tau / C * (1.0 - self.r_alpha)
            self.r_Pz = np.where([bool(q["regular_spike_arrival"]) for q in rec_params], 1.0, 1.0 - self.r_alpha)
            self.r_vth = arr("V_th") - E_L
            self.r_vmin = np.array([-DBL_MAX if q["V_min"] is None else float(q["V_min"]) - q["E_L"] for q in rec_params])
            self.r_v0 = np.array([0.0 if q["V_m"] is None else float(q["V_m"]) - q["E_L"] for q in rec_params])
            self.r_Ie = arr("I_e")
            self.r_nref = np.array([steps_of(float(q["t_ref"]), dt) for q in rec_params], dtype=np.int64)
            self.r_creg = arr("c_reg")
            self.r_ftarget = arr("f_target") / 1000.0
            self.r_h = arr("surrogate_gradient_height")
            self.r_w = arr("surrogate_gradient_width")
            self.r_sg = [q["surrogate_gradient_function"] for q in rec_params]
            self.r_adapt = np.array([q["_adapt"] for q in rec_params])
            self.r_beta = np.where(self.r_adapt, arr("adapt_beta"), 0.0)
            self.r_rho = np.array([math.exp(-dt / float(q["adapt_tau"])) if q["_adapt"] else 0.0 for q in rec_params])
            self.r_a0 = np.where(self.r_adapt, arr("adaptation"), 0.0)
            fl = [steps_of(float(q["flush_event_send_interval"]), dt) for q in rec_params]
            if self.opt.get("flush_off"):
                fl = [None] * len(fl)
            self.r_flush = np.array([np.iinfo(np.int64).max if x is None else x for x in fl], dtype=np.int64)
        if self.n_out:
            E_L = arr("E_L", out_params)
            self.o_EL = E_L
            tau, C = arr("tau_m", out_params), arr("C_m", out_params)
            self.o_alpha = np.array([math.exp(-dt / x) for x in tau])
            self.o_Pi = tau / C * (1.0 - self.o_alpha)
            self.o_Pz = np.where([bool(q["regular_spike_arrival"]) for q in out_params], 1.0, 1.0 - self.o_alpha)
            self.o_vmin = np.array([-DBL_MAX if q["V_min"] is None else float(q["V_min"]) - q["E_L"] for q in out_params])
            self.o_v0 = np.array([0.0 if q["V_m"] is None else float(q["V_m"]) - q["E_L"] for q in out_params])
            self.o_Ie = arr("I_e", out_params)
            losses = {q["loss"] for q in out_params}
            if len(losses) != 1:
                raise ValueError("all readouts must use the same loss in the reference")
            self.o_ce = losses.pop() == "cross_entropy"

        # Node (gid) order: creation order. Used for the order of event delivery and for
        # the target generator timing (S-3).
        self.gen_first = None
        if "gen_target" in order and any(self.node[n][0] == "out" for n in order):
            first_out = min(i for i, n in enumerate(order) if self.node[n][0] == "out")
            self.gen_first = order.index(fx["targets"]["generator"]) < first_out if fx.get("targets") else None

        # Optimizer (common properties)
        sd = fx["synapse_defaults"]
        o = dict(OPT_DEFAULTS)
        o.update(sd.get("optimizer", {}))
        self.o_type = o["type"]
        self.B = int(o["batch_size"])
        self.eta = float(o["eta"])
        self.eta_first_change = self.eta if self.eta != OPT_DEFAULTS["eta"] else None  # S-7
        self.Wmin, self.Wmax = float(o["Wmin"]), float(o["Wmax"])
        self.b1, self.b2, self.eps = float(o["beta_1"]), float(o["beta_2"]), float(o["epsilon"])
        self.avg = bool(sd.get("average_gradient", False))

        # Connections
        self.groups = []  # eprop connection groups
        self.parrot_of_gen = None
        self.ls = []  # (readout idx array, rec idx array, weight array)
        self.norm = []  # (src readout, dst readout, weight)
        self.target_conn = None
        self.out_groups = {}  # (kind, idx) -> list of _SynGroup
        for c in fx["connections"]:
            pre = [self._resolve(c["pre"], i) for i in c["pre_idx"]]
            post = [self._resolve(c["post"], i) for i in c["post_idx"]]
            m = c["synapse_model"]
            if c["delay"] != dt:
                raise ValueError("the reference supports one-step delays only")
            if m == SYN:
                kinds = {p[0] for p in post}
                if len(kinds) != 1 or kinds.pop() not in ("rec", "out"):
                    raise ValueError(f"{c['name']}: eprop targets must be all recurrent or all readouts")
                tgt_kind = post[0][0]
                tau_r = float(c["params"].get("tau_m_readout", 10.0))
                g = {
                    "name": c["name"],
                    "target": tgt_kind,
                    "sigma": 2 if tgt_kind == "rec" else 3,  # get_shift() of the target (S-2)
                    "w": np.array(c["weight"], dtype=np.float64),
                    "kappa": np.full(len(pre), math.exp(-dt / tau_r)),
                    "post": np.array([p[1] for p in post], dtype=np.int64),
                    "pre": pre,
                }
                n = len(pre)
                g["g"] = np.zeros(n)  # gradient_ (synapse)
                g["G"] = np.zeros(n)  # cumulative_gradient_ (optimizer)
                g["m"] = np.zeros(n)
                g["v"] = np.zeros(n)
                self.groups.append(g)
                by_src = {}
                for j, p in enumerate(pre):
                    by_src.setdefault(p, []).append(j)
                for p, ids in by_src.items():
                    ids = np.array(ids, dtype=np.int64)
                    sg = _SynGroup(g, g["post"][ids], ids, self.T)
                    self.out_groups.setdefault(p, []).append(sg)
            elif m == LS_CONN:
                self.ls.append((np.array([p[1] for p in pre]), np.array([p[1] for p in post]), np.array(c["weight"], dtype=np.float64)))
            elif m == RATE_CONN:
                if c["receptor_type"] == 2:
                    self.target_conn = (np.array(c["pre_idx"]), np.array([p[1] for p in post]), np.array(c["weight"], dtype=np.float64))
                elif c["receptor_type"] == 1:
                    self.norm.append((np.array([p[1] for p in pre]), np.array([p[1] for p in post]), np.array(c["weight"], dtype=np.float64)))
                else:
                    raise ValueError("rate connections must use receptor 1 or 2")
            elif m == "static_synapse" and pre[0][0] == "spike_generator":
                self.parrot_of_gen = (np.array(c["pre_idx"]), np.array([p[1] for p in post]))
            else:
                raise ValueError(f"connection {c['name']} ({m}) not supported by the reference")
        # per sending readout (delivery order = readout order; targets unique per sender)
        self.ls_by_src = self._by_source(self.ls)
        self.norm_by_src = self._by_source(self.norm)
        # eprop indegree (history is only written for neurons with incoming eprop synapses)
        self.r_indeg = np.zeros(self.n_rec, dtype=np.int64)
        self.o_indeg = np.zeros(self.n_out, dtype=np.int64)
        for g in self.groups:
            np.add.at(self.r_indeg if g["target"] == "rec" else self.o_indeg, g["post"], 1)

    @staticmethod
    def _by_source(conns):
        out = []
        if not conns:
            return out
        src = np.concatenate([c[0] for c in conns])
        dst = np.concatenate([c[1] for c in conns])
        w = np.concatenate([c[2] for c in conns])
        for k in np.unique(src):
            sel = src == k
            if np.unique(dst[sel]).size != dst[sel].size:
                raise ValueError("several connections between the same pair are not supported")
            out.append((int(k), dst[sel], w[sel]))
        return out

    def _resolve(self, group, i):
        """(kind, index within kind) of neuron i of a group."""
        members = self.fx["groups"].get(group, [group])
        sizes = {p["name"]: p["n"] for p in self.fx["populations"]}
        for m in members:
            if i < sizes[m]:
                kind, off = self.node[m]
                return (kind, off + int(i))
            i -= sizes[m]
        raise IndexError(f"index out of group {group}")

    # -- history bookkeeping (only for eprop_history_duration / learning_signal, S-9) -------

    def _marks_init(self):
        self.marks = {"rec": [dict() for _ in range(self.n_rec)], "out": [dict() for _ in range(self.n_out)]}
        for g in self.groups:
            for j in g["post"]:
                d = self.marks[g["target"]][j]
                d[g["sigma"]] = d.get(g["sigma"], 0) + 1

    def _write_update(self, kind, targets, sigma, t_prev_update, t_cur, is_flush, prev_flush):
        for j in targets:
            d = self.marks[kind][j]
            if not is_flush:
                key = t_cur + sigma
                d[key] = d.get(key, 0) + 1
            if not prev_flush:
                key = t_prev_update + sigma
                if key in d:
                    d[key] -= 1
                    if d[key] == 0:
                        del d[key]

    def _erase(self, kind, j, present, offset):
        """erase_used_eprop_history at an interval start; ``present[t + offset, j]`` flags entry t."""
        d = self.marks[kind][j]
        if not d or not present[:, j].any():
            return
        keys = sorted(d)
        it = 0
        t = keys[0]
        while t <= keys[-1] and it < len(keys):
            if keys[it] == t:
                it += 1
            else:
                lo, hi = max(t + offset, 0), max(t + self.T + offset, 0)
                present[lo:hi, j] = False
            t += self.T
        present[: max(keys[0] + offset, 0), j] = False
        (self.r_count if kind == "rec" else self.o_count)[j] = present[:, j].sum()

    # -- synapse (S-5, S-6, S-7) ---------------------------------------------------------------

    def _process(self, sg, ts, is_flush):
        """One spike/flush event with stamp ts through the synapses ``sg``; returns the weights
        to transmit (None if nothing is transmitted)."""
        g = sg.conn
        T, sigma = self.T, g["sigma"]
        if sg.prev_flush:
            if is_flush:
                self.stats["flush_events_ignored_after_flush"] += 1
                return None
            sg.t_prev = ts
            sg.trigger = ts
        if g["target"] == "rec" and cmod(ts - sigma, T) == 0 and not self.opt.get("no_drop"):
            self.stats["events_dropped_at_interval_start"] += 1
            return None  # S-5.2: dropped, not transmitted, state otherwise untouched
        if sg.trigger == 0:
            sg.trigger = ts
        E = sg.t_next + sigma
        if sg.t_prev > 0:
            isi = min(ts, E) - min(sg.t_prev, E)
            if isi > 0:
                sg.isis.append(isi)
        ids = sg.ids
        if g["target"] == "out" and ts == E and not is_flush:
            self.stats["readout_events_at_boundary"] += 1
        boundary_next = self.opt.get("readout_boundary_next") and g["target"] == "out" and ts == E
        if ts > E or boundary_next:
            idx = (ts - sigma) // T
            self.stats["updates"] += 1
            self.stats["updates_triggered_by_flush"] += bool(is_flush)
            if g["target"] == "rec" and ts == E + 1 and sg.isis:
                self.stats["updates_at_E_plus_1"] += 1
                self._late_reads.append((E - 1, sg.targets))
            t_cur = idx * T
            self._write_update(g["target"], sg.targets, sigma, sg.t_prev_update, t_cur, is_flush, sg.prev_flush)
            if sg.isis and sg.t_prev > 0:
                g["g"][ids] += self._gradient(sg, g)
                sg.isis = []
            if not is_flush:
                self._optimize(sg, g, idx)
            sg.t_prev_update = t_cur
            sg.t_next = t_cur + T
            sg.trigger = ts
        elif not is_flush and sg.prev_flush:
            self.stats["optimizations_after_flush"] += 1
            idx = (ts - sigma) // T
            self._write_update(g["target"], sg.targets, sigma, sg.t_prev_update, idx * T, False, True)
            self._optimize(sg, g, idx)
        sg.prev_flush = is_flush
        if is_flush:
            return None
        sg.t_prev = ts
        return g["w"][ids]

    def _gradient(self, sg, g):
        """compute_gradient of the target neurons (S-6), vectorised over the targets.

        Every recursion runs step by step in NEST's order of operations (so the result is
        bit-identical); only independent targets are processed side by side."""
        J = sg.targets
        n = sum(sg.isis)
        t0 = sg.trigger
        if g["target"] == "rec":
            present, off = self.r_present, 0
        else:
            present, off = self.o_present, 1
        if not self.opt and not present[t0 + off : t0 + off + n, J].all():
            raise RuntimeError(f"gradient of {g['name']} reads a pruned history entry (NEST would throw)")
        z = np.zeros(n)
        pos = 0
        for isi in sg.isis:
            z[pos] = 1.0  # each presynaptic spike starts an ISI (z = 1 in its first step)
            pos += isi
        if g["target"] == "rec":
            alpha, pz = self.r_alpha[J], self.r_Pz[J]
        else:
            alpha, pz = self.o_alpha[J], self.o_Pz[J]
        zbar = _filter_z(z, alpha, pz)  # (n, |J|): z_bar = alpha * z_bar + P_z * z
        if g["target"] == "out":
            err = self.o_err[t0 + 1 : t0 + 1 + n, J]
            grad = _sequential_sum(err * zbar)
        else:
            psi = self.r_psi[t0 : t0 + n, J]
            L = (self.opt["final_L"] if self.opt.get("final_L") is not None else self.r_L)[t0 : t0 + n, J]
            kappa = g["kappa"][sg.ids]
            adaptive = self.r_adapt[J]
            e = psi * zbar
            if adaptive.any():
                # e = psi * (z_bar - beta * eps); eps = rho * eps + e  (adaptive targets)
                A = np.nonzero(adaptive)[0]
                beta, rho = self.r_beta[J][A], self.r_rho[J][A]
                eps = np.zeros(A.size)
                ea = np.empty((n, A.size))
                pa, za = psi[:, A], zbar[:, A]
                for i in range(n):
                    ei = pa[i] * (za[i] - beta * eps)
                    eps = rho * eps + ei
                    ea[i] = ei
                e[:, A] = ea
            ebar = _filter_ebar(e, kappa)  # e_bar = kappa * e_bar + (1 - kappa) * e
            grad = _sequential_sum(L * ebar)
            sum_e = _sequential_sum(e)
            reg = self._reg_lookup(sg.t_prev_update + 2 + self.T)[J]
            grad = grad + reg * sum_e
        if self.avg:
            grad = grad / (self.T if self.opt.get("average_by_interval") else self.W)
        return grad

    def _reg_lookup(self, t):
        k = bisect.bisect_left(self.reg_times, t)
        if k == len(self.reg_times):
            raise RuntimeError("firing-rate regularisation of an unfinished interval requested")
        return self.reg_values[k]

    def _optimize(self, sg, g, idx):
        ids = sg.ids
        if self.eta_first_change is not None and sg.n_opt == 0:
            sg.eta_cur = self.eta_first_change
        G = g["G"][ids] + g["g"][ids]
        g["g"][ids] = 0.0
        K = 1 + idx // self.B
        w = g["w"][ids]
        if sg.k < K:
            G = G / self.B
            if self.o_type == "gradient_descent":
                w = w - sg.eta_cur * G
                G = np.zeros_like(G)
            else:
                m, v = g["m"][ids], g["v"][ids]
                self.stats["adam_catchup_steps"] += K - sg.k - 1
                if self.opt.get("no_catchup"):
                    sg.k = K - 1
                while sg.k < K:
                    sg.b1p *= self.b1
                    sg.b2p *= self.b2
                    a = sg.eta_cur * math.sqrt(1.0 - sg.b2p) / (1.0 - sg.b1p)
                    m = self.b1 * m + (1.0 - self.b1) * G
                    v = self.b2 * v + (1.0 - self.b2) * G * G
                    w = w - a * m / (np.sqrt(v) + self.eps)
                    G = np.zeros_like(G)
                    sg.k += 1
                g["m"][ids], g["v"][ids] = m, v
            w = np.minimum(np.maximum(w, self.Wmin), self.Wmax)
            sg.eta_cur = self.eta
            sg.n_opt += 1
            sg.k = K
        g["G"][ids] = G
        g["w"][ids] = w

    # -- run ----------------------------------------------------------------------------------

    def run(self):
        fx, dt, T, W, S = self.fx, self.dt, self.T, self.W, self.S
        nR, nO = self.n_rec, self.n_out
        self._marks_init()
        # recurrent state and history (entry t at row t)
        v = self.r_v0.copy() if nR else np.zeros(0)
        r = np.zeros(nR, dtype=np.int64)
        z = np.zeros(nR)
        a = self.r_a0.copy() if nR else np.zeros(0)
        i_in = np.zeros(nR)
        n_spk = np.zeros(nR)
        last_event = np.zeros(nR, dtype=np.int64)
        self.r_psi = np.zeros((S + 1, nR))
        self.r_L = np.zeros((S + 3, nR))
        self.r_present = np.zeros((S + 1, nR), dtype=bool)
        self.r_count = np.zeros(nR)
        self.reg_times, self.reg_values = [], []
        # readouts (error history entry t at row t + 1: entries start at t = -1)
        ov = self.o_v0.copy() if nO else np.zeros(0)
        o_iin = np.zeros(nO)
        u = np.zeros(nO)
        y = np.zeros(nO)
        ystar = np.zeros(nO)
        e = np.zeros(nO)
        self.o_err = np.zeros((S + 2, nO))
        self.o_present = np.zeros((S + 2, nO), dtype=bool)
        self.o_count = np.zeros(nO)
        zin_r = np.zeros((S + 2, nR))
        zin_o = np.zeros((S + 2, nO))

        # parrot spikes: parrot p emits in step round(time/dt) (stamp + 1), S-3
        parrot_steps = {}
        if self.parrot_of_gen is not None and fx["input_spike_times"]:
            gen_idx, parrot_idx = self.parrot_of_gen
            for gi, pi in zip(gen_idx, parrot_idx):
                for tm in fx["input_spike_times"][gi]:
                    s = int(round(tm / dt))
                    parrot_steps.setdefault(s, {}).setdefault(int(pi), 0)
                    parrot_steps[s][int(pi)] += 1
        # target generators (S-3): value in effect at readout step t
        tgt = None
        if self.target_conn is not None:
            gidx, oidx, tw = self.target_conn
            times = np.rint(fx["target_times"] / dt).astype(np.int64)
            vals = fx["target_values"]
            tgt = (gidx, oidx, tw, times, vals)

        record = fx["record"]
        mm_out = {}
        for mm in record["multimeters"]:
            mm_out[mm["name"]] = {rname: [] for rname in mm["record_from"]}
            mm_out[mm["name"]]["_times"] = []
        spikes_t, spikes_s = [], []
        wr_pairs = record.get("weight_recorder", [])
        wr_lookup = {}
        for k, item in enumerate(wr_pairs):
            wr_lookup[(item["connection"], self._resolve(self._conn(item["connection"])["pre"], item["pre"]), self._resolve(self._conn(item["connection"])["post"], item["post"])[1])] = k
        wr_pair, wr_times, wr_w = [], [], []
        rec_group_kind = []
        if record.get("spike_recorder"):
            sizes = {p["name"]: p["n"] for p in fx["populations"]}
            for m in fx["groups"].get(record["spike_recorder"], [record["spike_recorder"]]):
                kind, off = self.node[m]
                rec_group_kind.extend(range(off, off + sizes[m]))
        rec_index = {ri: k for k, ri in enumerate(rec_group_kind)}

        self.recorded_rec = sorted({
            self._resolve(mm["population"], i)[1]
            for mm in record["multimeters"]
            if self.node[mm["population"]][0] == "rec" and "learning_signal" in mm["record_from"]
            for i in mm["neurons"]
        })
        events = []  # events emitted in the previous step: (order key, kind, idx, is_flush, multiplicity)
        e_prev = np.zeros(nO)
        u_prev = np.zeros(nO)
        u_sent = False
        for t in range(S):
            # (1) secondary events of step t-1 (stamp t): learning signals, normalisation (S-3)
            if t >= 1 and nO:
                entry = t - (2 if self.opt.get("shift_L_2") else 3)
                if entry >= 0:
                    # one event per readout, in readout order; each adds B_jk * e_k to entry
                    # t - 3 of its targets if that entry still exists
                    for src_k, dst, w in self.ls_by_src:
                        ok = self.r_present[entry, dst]
                        self.r_L[entry, dst[ok]] += w[ok] * e_prev[src_k]
            N = np.zeros(nO)
            if u_sent:
                for src_k, dst, w in self.norm_by_src:
                    N[dst] += w * u_prev[src_k]
            # (2) spike and flush events with stamp t, in sender (gid) order (S-3)
            for _, kind, idx, is_flush, mult in events:
                for sg in self.out_groups.get((kind, idx), ()):
                    w_tx = self._process(sg, t, is_flush)
                    if w_tx is None:
                        continue
                    buf = zin_r if sg.conn["target"] == "rec" else zin_o
                    buf[t, sg.targets] += w_tx * mult
                    if wr_lookup:
                        for jj, tj in enumerate(sg.targets):
                            key = (sg.conn["name"], (kind, idx), int(tj))
                            if key in wr_lookup:
                                # the weight_recorder stores an event of multiplicity m m times
                                wr_pair.extend([wr_lookup[key]] * mult)
                                wr_times.extend([t * dt] * mult)
                                wr_w.extend([float(w_tx[jj])] * mult)
            events = []
            # (3) node updates of step t
            for pi, cnt in sorted(parrot_steps.get(t, {}).items()):
                events.append((0, "parrot", pi, False, cnt))
            if nR:
                istep = cmod(t - 2, T)
                if istep == 0:
                    for j in range(nR):
                        self._erase("rec", j, self.r_present, 0)
                    if self.reset:
                        v[:] = 0.0
                        r[:] = 0
                        if not self.opt.get("keep_z_on_reset"):
                            z[:] = 0.0
                        a[self.r_adapt] = 0.0
                r = np.where(r > 0, r - 1, r)
                v = self.r_Pi * i_in + self.r_Pz * zin_r[t] + self.r_alpha * v
                v = v - self.r_vth * z
                v = np.maximum(v, self.r_vmin)
                a = np.where(self.r_adapt, self.r_rho * a + z, a)
                theta = np.where(self.r_adapt, self.r_vth + self.r_beta * a, self.r_vth)
                z = np.zeros(nR)
                psi = np.zeros(nR)
                for name in set(self.r_sg):
                    sel = np.array([s == name for s in self.r_sg])
                    psi[sel] = surrogate(name, r[sel], v[sel], theta[sel], self.r_h[sel], self.r_w[sel])
                spike = (v >= theta) & (r == 0)
                n_spk += spike
                z[spike] = 1.0
                r[spike] = self.r_nref[spike]
                last_event[spike] = t
                flush = (~spike) & (last_event > 0) & ((t - last_event) >= self.r_flush)
                last_event[flush] = t
                self.stats["flush_events_sent"] += int(flush.sum())
                for j in np.nonzero(spike | flush)[0]:
                    events.append((1, "rec", int(j), bool(flush[j]), 1))
                    if spike[j] and j in rec_index:
                        spikes_t.append((t + 1) * dt)
                        spikes_s.append(rec_index[j])
                has = self.r_indeg > 0
                self.r_present[t, has] = True
                self.r_count[has] += 1
                self.r_psi[t, has] = psi[has]
                if istep == T - 1:
                    self.reg_times.append(t + 1)
                    self.reg_values.append(self.r_creg * (n_spk / float(T) - self.r_ftarget * dt) / float(T))
                    n_spk = np.zeros(nR)
                # learning_signal recordable: entry lower_bound(t - 3) (S-9), recorded neurons only
                Lrec = np.zeros(nR)
                for j in self.recorded_rec:
                    if not has[j]:
                        continue
                    rows = np.nonzero(self.r_present[max(t - 3, 0) : t + 1, j])[0]
                    if rows.size and rows[0] > 0 and t >= 3:
                        self.stats["learning_signal_recordable_from_pruned_entry"] += 1
                    if rows.size:
                        Lrec[j] = self.r_L[max(t - 3, 0) + rows[0], j]
                i_in = self.r_Ie.copy()
            if nO:
                istep = cmod(t - 3, T)
                isig = cmod(t - 4, T)
                if istep == 0:
                    for j in range(nO):
                        self._erase("out", j, self.o_present, 1)
                    if self.reset:
                        ov[:] = 0.0
                if tgt is not None:
                    gidx, oidx, tw, times, vals = tgt
                    when = t + 1 if (self.gen_first and not self.opt.get("ignore_creation_order")) else t
                    for k in range(gidx.size):
                        row_t, row_v = times[gidx[k]], vals[gidx[k]]
                        pos = np.searchsorted(row_t, when, side="right") - 1
                        ystar[oidx[k]] = tw[k] * (row_v[pos] if pos >= 0 and row_t[pos] > 0 else 0.0)
                ov = self.o_Pi * o_iin + self.o_Pz * zin_o[t] + self.o_alpha * ov
                ov = np.maximum(ov, self.o_vmin)
                if self.o_ce:
                    with np.errstate(divide="ignore", invalid="ignore"):
                        norm = N + u
                        y = u / norm
                    u = np.array([math.exp(x) for x in ov + self.o_EL])
                elif self.opt.get("no_lag"):
                    u = ov + self.o_EL
                    y = u
                else:
                    y = u
                    u = ov + self.o_EL
                e = y - ystar
                if isig < T - W:
                    ystar = np.zeros(nO)
                    y = np.zeros(nO)
                    e = np.zeros(nO)
                has = self.o_indeg > 0
                self.o_present[t, has] = True  # entry t - 1
                self.o_count[has] += 1
                self.o_err[t, has] = e[has]
                o_iin = self.o_Ie.copy()
                e_prev = e.copy()
                u_prev = u.copy()
                u_sent = self.o_ce
            # (4) record step t (sample time t + 1; the last step is never returned)
            if t + 1 <= S - 1:
                for mm in record["multimeters"]:
                    if "stop" in mm and (t + 1) * dt > mm["stop"]:
                        continue
                    out = mm_out[mm["name"]]
                    out["_times"].append((t + 1) * dt)
                    idx = [self._resolve(mm["population"], i)[1] for i in mm["neurons"]]
                    kind = self.node[mm["population"]][0]
                    for rname in mm["record_from"]:
                        if kind == "rec":
                            val = {
                                "V_m": lambda: v + self.r_EL,
                                "surrogate_gradient": lambda: psi,
                                "learning_signal": lambda: Lrec,
                                "eprop_history_duration": lambda: dt * self.r_count,
                                "V_th_adapt": lambda: theta + self.r_EL,
                                "adaptation": lambda: a,
                            }[rname]()
                        else:
                            val = {
                                "V_m": lambda: ov + self.o_EL,
                                "readout_signal": lambda: y,
                                "readout_signal_unnorm": lambda: u,
                                "target_signal": lambda: ystar,
                                "error_signal": lambda: e,
                                "eprop_history_duration": lambda: dt * self.o_count,
                            }[rname]()
                        out[rname].append(np.asarray(val, dtype=np.float64)[idx].copy())
            events.sort(key=lambda x: (x[0], x[2]))

        self.stats["updates_missing_last_L"] = sum(int(np.any(self.r_L[row, tg] != 0.0)) for row, tg in self._late_reads)
        res = {}
        for mm in record["multimeters"]:
            out = mm_out[mm["name"]]
            res[f"{mm['name']}_times"] = np.array(out["_times"])
            res[f"{mm['name']}_neurons"] = np.array(sorted(mm["neurons"]), dtype=np.int64)
            for rname in mm["record_from"]:
                res[f"{mm['name']}_{rname}"] = np.array(out[rname]).reshape(len(out["_times"]), -1)
        if record.get("spike_recorder"):
            st, ss = np.array(spikes_t), np.array(spikes_s, dtype=np.int64)
            order = np.lexsort((ss, st))
            res["spike_times"], res["spike_senders"] = st[order], ss[order]
        if wr_pairs:
            res["wr_pair"] = np.array(wr_pair, dtype=np.int64)
            res["wr_times"] = np.array(wr_times)
            res["wr_weights"] = np.array(wr_w)
        for g in self.groups:
            res[f"conn_{g['name']}_weight_final"] = g["w"].copy()
        task = fx.get("task") or {}
        if task.get("kind") in ("regression", "classification"):
            res.update(task_metrics(task, res["out_times"], res["out_readout_signal"], res["out_target_signal"]))
        return res

    def _conn(self, name):
        for c in self.fx["connections"]:
            if c["name"] == name:
                return c
        raise KeyError(name)


def task_metrics(task, times, readout, target):
    """Per-iteration loss (and accuracy for classification), from the readout multimeter.

    The test records the readouts from ``start = total_offset`` to ``stop = total_offset + task``,
    i.e. the samples with times total_offset + 1 ... total_offset + n_iter*batch*steps (readout
    steps total_offset ... total_offset + task - 1), reshaped (n_out, n_iter, batch, steps).
    Regression: 0.5 * mean over readouts and batch of sum over steps of (y - y*)^2.
    Classification: restricted to the last ``learning_window`` steps of each sequence,
    -mean over batch and steps of sum over readouts of y* log y; accuracy = fraction of
    sequences whose argmax over readouts of the window-mean of y equals that of y*.
    """
    n_iter, batch, steps = task["n_iter"], task["batch_size"], task["steps_per_sequence"]
    first = task["total_offset"] + 1.0
    wanted = first + np.arange(n_iter * batch * steps, dtype=np.float64)
    idx = np.searchsorted(times, wanted)
    if np.any(idx >= times.size) or not np.array_equal(times[np.minimum(idx, times.size - 1)], wanted):
        raise ValueError("loss samples missing from the readout recording")
    n_out = readout.shape[1]
    y = np.ascontiguousarray(readout[idx].T).reshape((n_out, n_iter, batch, steps))
    ys = np.ascontiguousarray(target[idx].T).reshape((n_out, n_iter, batch, steps))
    out = {}
    if task["kind"] == "regression":
        out["losses"] = 0.5 * np.mean(np.sum((y - ys) ** 2, axis=3), axis=(0, 2))
    else:
        w = task["learning_window_steps"]
        y, ys = y[..., -w:], ys[..., -w:]
        with np.errstate(divide="ignore", invalid="ignore"):
            out["losses"] = -np.mean(np.sum(ys * np.log(y), axis=0), axis=(1, 2))
        pred = np.argmax(np.mean(y, axis=3), axis=0)
        truth = np.argmax(np.mean(ys, axis=3), axis=0)
        out["accuracy"] = np.mean(pred == truth, axis=1)
    return out


def simulate(fx, **options):
    """Run the reference on a loaded fixture; returns a dict of arrays named like the fixture's."""
    return Reference(fx, options).run()


# ---------------------------------------------------------------------------------------------
# Comparison with the NEST fixtures
# ---------------------------------------------------------------------------------------------


def compare(fx, res):
    """{key: (max relative difference, max absolute difference, exact?)} for every output the
    reference produces that the fixture has."""
    arrays = fx["arrays"]
    out = {}
    for key, got in res.items():
        if key not in arrays:
            continue
        want = arrays[key]
        if got.shape != want.shape:
            out[key] = (math.inf, math.inf, False, f"shape {got.shape} vs {want.shape}")
            continue
        if got.size == 0:
            out[key] = (0.0, 0.0, True, "")
            continue
        if got.dtype.kind in "iu" or want.dtype.kind in "iu":
            same = np.array_equal(got, want)
            out[key] = (0.0 if same else math.inf, 0.0 if same else math.inf, same, "")
            continue
        diff = np.abs(got - want)
        both_nan = np.isnan(got) & np.isnan(want)
        diff[both_nan] = 0.0
        scale = np.abs(want)
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = np.where(scale > 0, diff / scale, np.where(diff > 0, math.inf, 0.0))
        out[key] = (float(np.nanmax(rel)), float(np.nanmax(diff)), bool(np.all(diff == 0)), "")
    return out


def experiments(fixtures, names):
    """For each fixture: the statistics of the exact run, and for every deviation in
    Reference.OPTIONS how far the losses / final weights / spikes move away from NEST's."""
    rows = []
    for name in names:
        fx = fixtures.load(name)
        ref = Reference(fx)
        res = ref.run()
        stats = {k: v for k, v in ref.stats.items() if v}
        print(f"{name}: " + ", ".join(f"{k} {v}" for k, v in stats.items()))
        for opt in Reference.OPTIONS:
            value = ref.r_L.copy() if opt == "final_L" else True
            try:
                alt = Reference(fx, {opt: value}).run()
            except Exception as exc:  # a deviation may make NEST's bookkeeping impossible
                print(f"    {opt}: fails ({exc})")
                continue
            cmp = compare(fx, alt)
            loss = cmp.get("losses", (0.0,))[0]
            w = max((cmp[k][0] for k in cmp if k.endswith("_weight_final")), default=0.0)
            spikes_same = cmp.get("spike_times", (0, 0, True))[2] and cmp.get("spike_senders", (0, 0, True))[2]
            if loss or w or not spikes_same:
                print(f"    {opt}: losses rel {loss:.1e}, final weights rel {w:.1e}, spikes {'same' if spikes_same else 'differ'}")
            rows.append((name, opt, loss, w, spikes_same))
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("cases", nargs="*", help="fixture names (default: all)")
    ap.add_argument("--check", action="store_true", help="compare with the NEST fixtures and print agreement")
    ap.add_argument("--experiments", action="store_true", help="statistics, and the effect of each deliberate deviation (Reference.OPTIONS)")
    ap.add_argument("--rtol", type=float, default=1e-8)
    ap.add_argument("--atol", type=float, default=1e-12, help="absolute tolerance for values near 0")
    args = ap.parse_args(argv)
    fixtures = _load_fixture_module()
    names = args.cases or fixtures.names()
    if args.experiments:
        experiments(fixtures, names)
        return 0
    bad = []
    for name in names:
        fx = fixtures.load(name)
        res = simulate(fx)
        cmp = compare(fx, res)
        worst_key, worst = None, (0.0, 0.0)
        failed = []
        for key, (rel, ab, exact, note) in sorted(cmp.items()):
            if not (exact or ab <= args.atol or rel <= args.rtol):
                failed.append(f"{key} rel {rel:.2e} abs {ab:.2e} {note}")
            if rel > worst[0] and not exact and ab > args.atol:
                worst_key, worst = key, (rel, ab)
        if any(k.startswith("noflush_") for k in fx["arrays"]):
            # the same network without flush events (flush_reset_off)
            alt = Reference(fx, {"flush_off": True}).run()
            alt = {"noflush_" + k: v for k, v in alt.items() if k == "losses" or k.endswith("_weight_final")}
            for key, val in compare(fx, alt).items():
                cmp[key] = val
                if not val[2]:
                    failed.append(f"{key} rel {val[0]:.2e} abs {val[1]:.2e}")
        n_exact = sum(1 for v in cmp.values() if v[2])
        loss = ""
        if "losses" in cmp:
            loss = f" losses rel {cmp['losses'][0]:.1e}"
        wkeys = [k for k in cmp if k.endswith("_weight_final")]
        if wkeys:
            loss += f", final weights max rel {max(cmp[k][0] for k in wkeys):.1e} (abs {max(cmp[k][1] for k in wkeys):.1e})"
        print(f"{name}: {len(cmp)} arrays, {n_exact} bit-identical;{loss}; worst {worst_key} rel {worst[0]:.1e} abs {worst[1]:.1e}")
        for f in failed:
            print("    MISMATCH " + f)
        if failed:
            bad.append(name)
    if bad:
        print("MISMATCH in: " + ", ".join(bad))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
