"""Build a bsshslm_2020 fixture (``Tests/Fixtures/nest/bsshslm``, loaded by
``bsshslm_fixtures.load``) as an eprop network, simulate it and return its outputs under the
fixture's array names, so that they can be compared with NEST's one by one.

Never imports NEST. Translation rules (fixture README, "bsshslm_2020 baseline fixtures"):

* ``spike_generator`` --static--> ``parrot_neuron``: one eprop ``input`` population whose
  spike times are the generators' (an input neuron fires in the step after its time, as the
  parrot does). A time listed m times is one event of multiplicity m.
* a *group* of populations (``rec`` = ``reg`` + ``ad``) is one index space in NEST; a
  connection between groups becomes one eprop projection per (pre, post) population pair,
  each with its synapses in the fixture's order.
* ``eprop_synapse_bsshslm_2020``: the synapse defaults (optimizer, ``average_gradient``) are
  set once; a connection's own ``params`` (``tau_m_readout``) are set as defaults right
  before it is made, which is how NEST's ``syn_spec`` applies to that connection only.
* ``step_rate_generator`` --receptor 2--> readout: ``set_target`` (value x weight); a
  generator created before its readouts acts one step earlier (spec 5.4), so its times
  are shifted by -dt. The readouts' receptor-1 connections (cross-entropy normalisation)
  have no eprop counterpart: eprop's bsshslm readouts normalise over their population.
* the kernel: the values the fixture *set* (``kernel_set``), since NEST checks the learning
  window against the interval only when it is set.
* multimeters, the spike recorder and the weight recorder become eprop recorders; NEST's
  weight_recorder writes an entry per transmitted spike (time = its stamp), eprop's records
  every step, so the entries are read from the step the spike arrived in.
"""

from __future__ import annotations

import numpy as np

import bsshslm_fixtures
import eprop

BASELINE_SYNAPSE = "eprop_synapse_bsshslm_2020"
SIGNAL_CONNECTION = "eprop_learning_signal_connection_bsshslm_2020"
NEURON_MODELS = ("eprop_iaf_bsshslm_2020", "eprop_iaf_adapt_bsshslm_2020", "eprop_readout_bsshslm_2020")


class FixtureNetwork:
    """A fixture built in eprop (``threads`` worker threads); :meth:`run` simulates it.
    ``no_flush`` sets every ``flush_event_send_interval`` to infinity (the fixtures' ``noflush_``
    variant)."""

    def __init__(self, fx: dict, threads: int = 1, no_flush: bool = False):
        self.fx = fx
        self.net = eprop.Network(resolution=fx["kernel"]["resolution"], threads=threads)
        kernel = {k: v for k, v in fx["kernel_set"].items() if k != "resolution"}
        if kernel:
            self.net.set_kernel(**kernel)
        self.pops: dict[str, eprop.Population] = {}
        self.created: list[str] = []
        for p in fx["populations"]:
            if p["model"] == "parrot_neuron":
                self.pops[p["name"]] = self.net.add_population("input", p["n"])
            elif p["model"] in NEURON_MODELS:
                pop = self.net.add_population(p["model"], p["n"])
                params = {k: v for k, v in p["params"].items() if v is not None}
                if no_flush and "flush_event_send_interval" in params:
                    params["flush_event_send_interval"] = np.inf
                if params:
                    pop.set(**params)
                self.pops[p["name"]] = pop
            self.created.append(p["name"])
        self.groups = {p["name"]: [p["name"]] for p in fx["populations"]}
        self.groups.update(fx["groups"])
        if fx["synapse_defaults"]:
            defaults = dict(fx["synapse_defaults"])
            optimizer = dict(defaults.pop("optimizer", {}))
            defaults.pop("weight", None)   # a default weight; every connection gives its own
            self.net.set_synapse_defaults(BASELINE_SYNAPSE, type=optimizer.pop("type", None), **optimizer, **defaults)
        self.projections: dict[tuple[str, str, str], eprop.Projection] = {}
        for c in fx["connections"]:
            self._connect(c)
        self._inputs()
        self._record()

    # -- building ----------------------------------------------------------------------------

    def _members(self, group: str):
        """(population name, first index in the group, size) of each member of a group."""
        start = 0
        for name in self.groups[group]:
            n = next(p["n"] for p in self.fx["populations"] if p["name"] == name)
            yield name, start, n
            start += n

    def _pieces(self, c: dict):
        """(pre population, its first group index, post population, its first group index,
        mask of c's synapses between the two) for every pair of member populations."""
        for pre, pre0, npre in self._members(c["pre"]):
            for post, post0, npost in self._members(c["post"]):
                sel = (c["pre_idx"] >= pre0) & (c["pre_idx"] < pre0 + npre) & (c["post_idx"] >= post0) & (c["post_idx"] < post0 + npost)
                if sel.any():
                    yield pre, pre0, post, post0, sel

    def _connect(self, c: dict) -> None:
        model = c["synapse_model"]
        if model == "static_synapse" and c["pre"] == self.fx["inputs"]["generator"]:
            return   # generator -> parrot: the input population's spike times
        if model == "rate_connection_delayed":
            if c["receptor_type"] == 2:
                self._targets(c)
            return   # receptor 1: cross-entropy normalisation, implicit in eprop
        if model == BASELINE_SYNAPSE and c["params"]:
            self.net.set_synapse_defaults(BASELINE_SYNAPSE, **c["params"])
        for pre, pre0, post, post0, sel in self._pieces(c):
            self.projections[(c["name"], pre, post)] = self.net.connect(
                self.pops[pre], self.pops[post], model, c["weight"][sel],
                pre_ids=c["pre_idx"][sel] - pre0, post_ids=c["post_idx"][sel] - post0, delay=c["delay"])

    def _targets(self, c: dict) -> None:
        fx = self.fx
        generator_first = self.created.index(c["pre"]) < self.created.index(c["post"])
        shift = fx["kernel"]["resolution"] if generator_first else 0.0
        times, values = fx["target_times"], fx["target_values"]
        order = np.argsort(c["post_idx"], kind="stable")
        pre, weight = c["pre_idx"][order], c["weight"][order]
        assert np.array_equal(c["post_idx"][order], np.arange(len(self.pops[c["post"]])))
        self.pops[c["post"]].set_target(times[pre[0]] - shift, values[pre] * weight[:, None])

    def _inputs(self) -> None:
        inputs = self.fx["inputs"]
        parrots = next(c for c in self.fx["connections"] if c["pre"] == inputs["generator"])
        parrot_of = dict(zip(parrots["pre_idx"].tolist(), parrots["post_idx"].tolist()))
        ids, times = [], []
        for g, t in enumerate(self.fx["input_spike_times"]):
            ids.append(np.full(len(t), parrot_of[g], dtype=np.int64))
            times.append(t)
        self.pops[parrots["post"]].set_spike_times(np.concatenate(ids), np.concatenate(times))

    def _record(self) -> None:
        rec = self.fx["record"]
        self.multimeters = [
            (mm, self.net.record_state(self.pops[mm["population"]], list(mm["record_from"]), neurons=sorted(mm["neurons"])))
            for mm in rec["multimeters"]
        ]
        self.spikes = []
        if rec.get("spike_recorder"):
            self.spikes = [(start, self.net.record_spikes(self.pops[name])) for name, start, _ in self._members(rec["spike_recorder"])]
        self.weights = []
        for w in rec.get("weight_recorder", []):
            c = next(c for c in self.fx["connections"] if c["name"] == w["connection"])
            (pre, pre0), (post, post0) = self._locate(c["pre"], w["pre"]), self._locate(c["post"], w["post"])
            proj = self.projections[(c["name"], pre, post)]
            self.weights.append(self.net.record_weights(proj, [w["pre"] - pre0], [w["post"] - post0]))

    def _locate(self, group: str, index: int):
        for name, start, n in self._members(group):
            if start <= index < start + n:
                return name, start
        raise IndexError(f"{index} not in group {group}")

    # -- running -----------------------------------------------------------------------------

    def run(self) -> dict:
        """Simulate ``sim_time_ms`` in one call; the outputs under the fixture's names."""
        fx = self.fx
        self.net.simulate(fx["sim_time_ms"])
        out = {}
        sim_time = fx["sim_time_ms"]
        for mm, recorder in self.multimeters:
            times, values = recorder.get()
            keep = times <= min(sim_time - fx["kernel"]["resolution"], mm.get("stop", np.inf))
            out[f"{mm['name']}_times"] = times[keep]
            out[f"{mm['name']}_neurons"] = np.array(sorted(mm["neurons"]), dtype=np.int64)
            for k, name in enumerate(mm["record_from"]):
                out[f"{mm['name']}_{name}"] = values[keep, k, :]
        if self.spikes:
            t = np.concatenate([r.times for _, r in self.spikes])
            s = np.concatenate([r.senders + start for start, r in self.spikes]).astype(np.int64)
            order = np.lexsort((s, t))
            out["spike_times"], out["spike_senders"] = t[order], s[order]
        if self.weights:
            out["wr_weights"] = self._weight_entries()
        for c in fx["connections"]:
            if c["synapse_model"] == BASELINE_SYNAPSE:
                final = np.full(c["n"], np.nan)
                for pre, pre0, post, post0, sel in self._pieces(c):
                    matrix = self.projections[(c["name"], pre, post)].weight_matrix()
                    final[sel] = matrix[c["post_idx"][sel] - post0, c["pre_idx"][sel] - pre0]
                out[f"conn_{c['name']}_weight_final"] = final
        task = fx.get("task") or {}
        if task.get("kind") in ("regression", "classification"):
            out.update(bsshslm_fixtures.reference_module().task_metrics(task, out["out_times"], out["out_readout_signal"], out["out_target_signal"]))
        return out

    def _weight_entries(self) -> np.ndarray:
        """NEST's weight_recorder entries (pair, time) read from eprop's per-step samples: the
        spike stamped T is delivered in step T, whose sample carries time T + dt. Raises if an
        eprop weight changes at a time where NEST has no entry for that synapse."""
        fx = self.fx
        dt = fx["kernel"]["resolution"]
        pairs, times = fx["arrays"]["wr_pair"], fx["arrays"]["wr_times"]
        got = np.empty(len(pairs))
        for p, recorder in enumerate(self.weights):
            ts, w = recorder.get()
            mine = pairs == p
            got[mine] = w[np.searchsorted(ts, times[mine] + dt), 0]
            changed = ts[1:][np.diff(w[:, 0]) != 0]
            unexpected = np.setdiff1d(changed, times[mine] + dt)
            if unexpected.size:
                raise AssertionError(f"weight_recorder pair {p}: eprop's weight changes at {unexpected[:5]} ms, "
                                     "where NEST's synapse had no event")
        return got

    def close(self) -> None:
        self.net.close()


def simulate(fx: dict, threads: int = 1, no_flush: bool = False) -> dict:
    """Build, run and close; the outputs under the fixture's names."""
    net = FixtureNetwork(fx, threads, no_flush)
    try:
        return net.run()
    finally:
        net.close()
