#!/usr/bin/env python3
"""Brian2 reference data for tilesim's spiking neurons and STDP (tests/it/neuro.rs).

Writes two JSON files into tests/data/brian2/ (the tests read them; they never run Python):

* stdp_exact.json: single synapses driven by given pre- and post-synaptic spike times
  (Δt = +10 ms, Δt = −10 ms, the same time step, near the upper and lower weight bounds, an
  all-to-all train). Pair-based STDP with traces as in Brian2's example
  examples/synapses/STDP.py; final weights printed with full precision (repr of the f64).
* song2000.json: the Song, Miller & Abbott (2000) network as in that example (1000 Poisson
  inputs at 15 Hz onto one leaky integrate-and-fire neuron with a conductance synapse,
  τ_m = 10 ms, τ_e = 5 ms, τ_pre = τ_post = 20 ms, g_max = 0.01, ΔA_pre = 0.01·g_max,
  ΔA_post = −1.05·ΔA_pre, w ~ U(0, g_max), v starts at 0 mV) run for SONG_SECONDS of
  biological time for several seeds: the final weight histogram (20 bins over [0, g_max]),
  the fractions below 0.1·g_max and above 0.9·g_max, and the output rate.

One difference from the example: the neuron is integrated with method='exact' (the example
writes method='euler'), because tilesim integrates the same linear equations exactly.

Versions: Python 3.13.0, brian2 2.11.0 (brian2 2.11 needs Python >= 3.13), numpy target.
How to run, from the repository root:

    ~/.pyenv/versions/3.13.0/bin/python3.13 -m venv /work/.venv-brian2
    /work/.venv-brian2/bin/pip install brian2==2.11.0
    /work/.venv-brian2/bin/python scripts/brian2/oracle.py            # both files
    /work/.venv-brian2/bin/python scripts/brian2/oracle.py exact      # stdp_exact.json only

Runs are deterministic for a fixed seed. The committed song2000.json holds seeds 1, 2 and 3
at 100 s (about 6.5 minutes of one core per seed with the numpy target; more on a busy
machine). SONG_SECONDS and SONG_SEEDS (comma-separated) change the run length and seeds.
"""
import json
import os
import sys
import time

import numpy as np
from brian2 import (
    Hz, Network, NeuronGroup, PoissonGroup, SpikeGeneratorGroup, SpikeMonitor, Synapses,
    defaultclock, ms, mV, prefs, seed, second, start_scope,
)

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "data", "brian2")
prefs.codegen.target = "numpy"
DT = 0.1 * ms

TAU_PRE = 20 * ms
TAU_POST = 20 * ms
GMAX = 0.01
DA_PRE = 0.01 * GMAX
DA_POST = -DA_PRE * TAU_PRE / TAU_POST * 1.05

SYN_MODEL = """w : 1
dApre/dt = -Apre / taupre : 1 (event-driven)
dApost/dt = -Apost / taupost : 1 (event-driven)"""
ON_PRE = """Apre += dApre
w = clip(w + Apost, 0, gmax)"""
ON_POST = """Apost += dApost
w = clip(w + Apre, 0, gmax)"""

# name, initial weight, pre spike times (ms), post spike times (ms)
EXACT_CASES = [
    ("potentiation_dt_plus_10ms", 0.005, [10.0], [20.0]),
    ("depression_dt_minus_10ms", 0.005, [20.0], [10.0]),
    ("same_step", 0.005, [10.0], [10.0]),
    ("near_upper_bound", 0.00995, [10.0], [20.0]),
    ("near_lower_bound", 0.00005, [20.0], [10.0]),
    ("all_to_all_train", 0.005, [5.0, 15.0, 30.0, 31.0], [10.0, 12.0, 30.0, 45.0]),
]


def exact_cases():
    out = []
    for name, w0, pre, post in EXACT_CASES:
        start_scope()
        defaultclock.dt = DT
        ns = dict(taupre=TAU_PRE, taupost=TAU_POST, gmax=GMAX, dApre=DA_PRE, dApost=DA_POST)
        pre_g = SpikeGeneratorGroup(1, [0] * len(pre), np.array(pre) * ms)
        post_g = SpikeGeneratorGroup(1, [0] * len(post), np.array(post) * ms)
        s = Synapses(pre_g, post_g, SYN_MODEL, on_pre=ON_PRE, on_post=ON_POST, namespace=ns)
        s.connect()
        s.w = w0
        net = Network(pre_g, post_g, s)
        net.run(max(pre + post) * ms + 5 * ms)
        out.append(dict(
            name=name, w0=w0, pre_ms=pre, post_ms=post, w_final=float(s.w[0]),
        ))
        print(f"{name}: w {w0!r} -> {float(s.w[0])!r}")
    return dict(
        brian2="2.11.0",
        dt_s=float(DT), tau_pre_s=float(TAU_PRE), tau_post_s=float(TAU_POST),
        gmax=GMAX, da_pre=float(DA_PRE), da_post=float(DA_POST),
        cases=out,
    )


SONG_SECONDS = float(os.environ.get("SONG_SECONDS", "100"))
SONG_SEEDS = [int(s) for s in os.environ.get("SONG_SEEDS", "1,2,3").split(",")]
BINS = 20


def song(seed_value, seconds):
    start_scope()
    seed(seed_value)
    defaultclock.dt = DT
    N = 1000
    ns = dict(
        taum=10 * ms, taupre=TAU_PRE, taupost=TAU_POST, Ee=0 * mV, vt=-54 * mV,
        vr=-60 * mV, El=-74 * mV, taue=5 * ms, gmax=GMAX, dApre=DA_PRE, dApost=DA_POST,
    )
    eqs = """
    dv/dt = (ge * (Ee-vr) + El - v) / taum : volt
    dge/dt = -ge / taue : 1
    """
    inputs = PoissonGroup(N, rates=15 * Hz)
    neuron = NeuronGroup(1, eqs, threshold="v>vt", reset="v = vr", method="exact",
                         namespace=ns)
    s = Synapses(inputs, neuron, SYN_MODEL, on_pre="ge += w\n" + ON_PRE, on_post=ON_POST,
                 namespace=ns)
    s.connect()
    s.w = "rand() * gmax"
    out_mon = SpikeMonitor(neuron)
    in_mon = SpikeMonitor(inputs, record=False)
    net = Network(inputs, neuron, s, out_mon, in_mon)
    t0 = time.time()
    net.run(seconds * second)
    wall = time.time() - t0
    w = np.array(s.w[:]) / GMAX
    hist, _ = np.histogram(w, bins=BINS, range=(0.0, 1.0))
    spikes = np.array(out_mon.t / second)
    last10 = float(np.sum(spikes >= seconds - 10.0)) / min(10.0, seconds)
    r = dict(
        seed=seed_value,
        histogram=[int(x) for x in hist],
        frac_below_0_1=float(np.mean(w < 0.1)),
        frac_above_0_9=float(np.mean(w > 0.9)),
        mean_w_over_gmax=float(np.mean(w)),
        output_rate_hz=float(out_mon.num_spikes) / seconds,
        output_rate_last_10s_hz=last10,
        input_rate_hz=float(in_mon.num_spikes) / seconds / N,
        wall_seconds=wall,
    )
    print(json.dumps(r))
    return r


def write(name, data):
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, name)
    with open(path + ".tmp", "w") as f:
        json.dump(data, f, indent=1)
        f.write("\n")
    os.replace(path + ".tmp", path)
    print("wrote", path)


def main():
    what = sys.argv[1] if len(sys.argv) > 1 else "all"
    if what in ("all", "exact"):
        write("stdp_exact.json", exact_cases())
    if what in ("all", "song"):
        runs = [song(s, SONG_SECONDS) for s in SONG_SEEDS]
        write("song2000.json", dict(
            brian2="2.11.0", method="exact", dt_s=float(DT), seconds=SONG_SECONDS,
            bins=BINS, n_inputs=1000, input_rate_hz=15.0, gmax=GMAX, runs=runs,
        ))


if __name__ == "__main__":
    main()
