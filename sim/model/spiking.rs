//! Checks of a workload's spiking section (`crate::spec::SpikingSpec`): every number in
//! range, every name known, the machine able to run it. The network itself is built by
//! `crate::neuro`, which may rely on these checks.

use super::machine::Machine;
use super::problem::{Problems, num};
use crate::spec::{ConnectSpec, PopulationSpec, SpikingSpec, SynapseSpec, WeightInitSpec};

/// Largest number of time steps a run may take (keeps step indices in `u32`).
pub const MAX_STEPS: f64 = 4.0e9;

/// Most weight snapshots a run may take (each a histogram kept in memory and written to
/// the report; 10 000 of them are a few MB).
pub const MAX_SNAPSHOTS: f64 = 1.0e4;
/// Largest population accepted.
pub const MAX_POPULATION: u64 = 1 << 22;
/// Largest number of synapses a network may have (bounds the simulation's memory).
pub const MAX_SYNAPSES: f64 = 8.0e6;
/// Most projections a network may have.
pub const MAX_PROJECTIONS: usize = 4096;
/// Most neurons and sources a network may have in total.
pub const MAX_NODES: u64 = 1 << 24;
/// Longest synaptic delay, in time steps.
pub const MAX_DELAY_STEPS: f64 = 4096.0;

/// The time step a recorded spike at `t` plays in, for steps of `dt` (the same unit: the
/// check and the network both pass milliseconds, so they agree where the shift tips a
/// time into the next step): ⌊t/dt + 0.001⌋, as Brian2's `SpikeGeneratorGroup` places its
/// spikes (its `timestep` function: the small shift keeps a multiple of dt out of the step
/// before it when the division rounds down). A float, so that times beyond any run's
/// steps stay apart (as whole numbers they would all saturate to one).
pub fn spike_step(t: f64, dt: f64) -> f64 {
    (t / dt + 1e-3).floor()
}

fn finite(p: &mut Problems, field: String, v: f64) -> bool {
    if v.is_finite() {
        true
    } else {
        p.push(
            field,
            format!("must be a finite number, got {v}"),
            "write a number, not NaN or an infinity",
        );
        false
    }
}

fn positive(p: &mut Problems, field: String, v: f64, hint: &str) {
    if !(v.is_finite() && v > 0.0) {
        p.push(
            field,
            format!("must be a finite number greater than 0, got {v}"),
            hint,
        );
    }
}

/// Lists every problem of a spiking section; with a machine, also whether it has
/// neuromorphic cores that can run it.
pub(crate) fn check_spiking(p: &mut Problems, s: &SpikingSpec, machine: Option<&Machine>) {
    let dt_ok = s.dt_ms.is_finite() && s.dt_ms > 0.0;
    positive(p, "spiking.dt_ms".into(), s.dt_ms, "e.g. dt_ms: 0.1");
    positive(
        p,
        "spiking.duration_s".into(),
        s.duration_s,
        "e.g. duration_s: 1.0",
    );
    if dt_ok && s.duration_s.is_finite() && s.duration_s * 1e3 / s.dt_ms > MAX_STEPS {
        p.push(
            "spiking.duration_s",
            format!(
                "{} s at dt {} ms is more than {MAX_STEPS:e} time steps",
                num(s.duration_s),
                num(s.dt_ms)
            ),
            "shorten the run or use a longer time step",
        );
    }
    // The network runs whole time steps: a duration between two of them used to be rounded
    // to the nearer one without a word. The tolerance is far above the rounding error of
    // the division (2⁻⁵² of the step count) and far below half a step.
    if dt_ok && s.duration_s.is_finite() && s.duration_s > 0.0 {
        let steps = s.duration_s * 1e3 / s.dt_ms;
        // Shorter than half a step is no step at all (it ran as one, also without a word).
        let off_grid = (steps - steps.round()).abs() > (steps * 1e-12).max(1e-9);
        if steps <= MAX_STEPS && (off_grid || steps.round() < 1.0) {
            let (below, above) = (steps.floor().max(1.0), steps.ceil().max(1.0));
            p.push(
                "spiking.duration_s",
                format!(
                    "{} s is {} time steps of {} ms; the network runs whole steps",
                    num(s.duration_s),
                    num(steps),
                    num(s.dt_ms)
                ),
                if below == above {
                    format!(
                        "use a multiple of dt_ms, at least one step: e.g. {} s",
                        num(above * s.dt_ms * 1e-3)
                    )
                } else {
                    format!(
                        "use a multiple of dt_ms, e.g. {} or {} s",
                        num(below * s.dt_ms * 1e-3),
                        num(above * s.dt_ms * 1e-3)
                    )
                },
            );
        }
    }
    if let Some(e) = s.snapshot_every_s {
        positive(
            p,
            "spiking.snapshot_every_s".into(),
            e,
            "e.g. snapshot_every_s: Some(10.0)",
        );
        // Each snapshot stays in memory and in the report: a period shorter than a time
        // step took one per step (gigabytes over a long run).
        if dt_ok && e.is_finite() && e > 0.0 && s.duration_s.is_finite() {
            if e * 1e3 < s.dt_ms {
                p.push(
                    "spiking.snapshot_every_s",
                    format!(
                        "{} s is shorter than one time step ({} ms)",
                        num(e),
                        num(s.dt_ms)
                    ),
                    "snapshots are taken at time steps; use at least dt_ms / 1000",
                );
            } else if s.duration_s / e > MAX_SNAPSHOTS {
                p.push(
                    "spiking.snapshot_every_s",
                    format!(
                        "{} s over {} s is more than {MAX_SNAPSHOTS} snapshots",
                        num(e),
                        num(s.duration_s)
                    ),
                    "use a longer period (a tenth of the run is the default)",
                );
            }
        }
    }
    if s.populations.is_empty() {
        p.push(
            "spiking.populations",
            "the network has no populations",
            "add e.g. Lif(name: \"out\", size: 1, ...) and a Poisson source",
        );
    }
    let mut names: Vec<&str> = Vec::new();
    for (i, pop) in s.populations.iter().enumerate() {
        let f = |x: &str| format!("spiking.populations[{i}].{x}");
        let name = pop.name();
        if name.trim().is_empty() {
            p.push(
                f("name"),
                "must not be empty",
                "name the population; projections refer to it by name",
            );
        } else if names.contains(&name) {
            p.push(
                f("name"),
                format!("duplicate population name {name:?}"),
                "give each population its own name",
            );
        }
        names.push(name);
        let size = pop.size();
        if size == 0 || size > MAX_POPULATION {
            p.push(
                match pop {
                    PopulationSpec::Recorded { .. } => f("trains_ms"),
                    _ => f("size"),
                },
                format!("must hold 1..={MAX_POPULATION} neurons, got {size}"),
                "a larger network is several populations",
            );
        }
        match pop {
            PopulationSpec::Lif {
                tau_m_ms,
                v_rest_mv,
                v_reset_mv,
                v_threshold_mv,
                v_init_mv,
                synapse,
                ..
            } => {
                positive(p, f("tau_m_ms"), *tau_m_ms, "e.g. tau_m_ms: 10.0");
                let ok = finite(p, f("v_rest_mv"), *v_rest_mv)
                    & finite(p, f("v_reset_mv"), *v_reset_mv)
                    & finite(p, f("v_threshold_mv"), *v_threshold_mv);
                if ok && v_threshold_mv <= v_reset_mv {
                    p.push(
                        f("v_threshold_mv"),
                        format!(
                            "threshold {v_threshold_mv} mV is not above the reset {v_reset_mv} mV"
                        ),
                        "a neuron reset at or above threshold would spike every step",
                    );
                }
                if let Some(v) = v_init_mv {
                    finite(p, f("v_init_mv"), *v);
                }
                match synapse {
                    SynapseSpec::Current { tau_ms, drive_mv } => {
                        positive(p, f("synapse.tau_ms"), *tau_ms, "e.g. tau_ms: 5.0");
                        finite(p, f("synapse.drive_mv"), *drive_mv);
                    }
                    SynapseSpec::Conductance { tau_ms, e_rev_mv } => {
                        positive(p, f("synapse.tau_ms"), *tau_ms, "e.g. tau_ms: 5.0");
                        finite(p, f("synapse.e_rev_mv"), *e_rev_mv);
                    }
                }
            }
            PopulationSpec::Poisson { rate_hz, .. } => {
                if !(rate_hz.is_finite() && *rate_hz >= 0.0) {
                    p.push(
                        f("rate_hz"),
                        format!("must be a finite number ≥ 0, got {rate_hz}"),
                        "e.g. rate_hz: 10.0",
                    );
                } else if dt_ok && rate_hz * s.dt_ms * 1e-3 > 1.0 {
                    p.push(
                        f("rate_hz"),
                        format!(
                            "{} Hz is more than one spike per {} ms step",
                            num(*rate_hz),
                            num(s.dt_ms)
                        ),
                        "lower the rate or the time step",
                    );
                }
            }
            PopulationSpec::Recorded { trains_ms, .. } => {
                for (j, train) in trains_ms.iter().enumerate() {
                    if let Some(t) = train.iter().find(|t| !(t.is_finite() && **t >= 0.0)) {
                        p.push(
                            f(&format!("trains_ms[{j}]")),
                            format!("spike times must be finite and ≥ 0 ms, got {t}"),
                            "times are ms from the start of the run",
                        );
                    } else if dt_ok {
                        // Two spikes in one step merged into one without a word (Brian2's
                        // SpikeGeneratorGroup refuses them).
                        let mut at: Vec<(f64, f64)> =
                            train.iter().map(|&t| (spike_step(t, s.dt_ms), t)).collect();
                        at.sort_by(|a, b| a.0.total_cmp(&b.0));
                        if let Some(w) = at.windows(2).find(|w| w[0].0 == w[1].0) {
                            p.push(
                                f(&format!("trains_ms[{j}]")),
                                format!(
                                    "spikes at {} and {} ms fall in one time step of {} ms",
                                    num(w[0].1),
                                    num(w[1].1),
                                    num(s.dt_ms)
                                ),
                                "a source spikes at most once per step, and a spike at t ms plays \
                                 in step ⌊t / dt_ms + 0.001⌋ (as in Brian2): move one of them \
                                 to another step",
                            );
                        }
                    }
                }
            }
        }
    }
    let nodes: u64 = s.populations.iter().map(PopulationSpec::size).sum();
    if nodes > MAX_NODES {
        p.push(
            "spiking.populations",
            format!("the network has {nodes} neurons and sources, more than {MAX_NODES}"),
            "use smaller populations",
        );
    }
    if s.projections.len() > MAX_PROJECTIONS {
        p.push(
            "spiking.projections",
            format!(
                "{} projections, more than {MAX_PROJECTIONS}",
                s.projections.len()
            ),
            "merge projections between the same populations",
        );
    }
    let mut synapses = 0.0f64;
    let mut any_stdp = false;
    for (i, pr) in s.projections.iter().enumerate() {
        let f = |x: &str| format!("spiking.projections[{i}].{x}");
        let from = s.populations.iter().find(|q| q.name() == pr.from);
        let to = s.populations.iter().find(|q| q.name() == pr.to);
        if from.is_none() {
            p.push(
                f("from"),
                format!("no population named {:?}", pr.from),
                format!("known populations: {}", names.join(", ")),
            );
        }
        match to {
            None => p.push(
                f("to"),
                format!("no population named {:?}", pr.to),
                format!("known populations: {}", names.join(", ")),
            ),
            Some(PopulationSpec::Lif { .. }) => {}
            Some(_) => p.push(
                f("to"),
                format!("population {:?} is a spike source, not neurons", pr.to),
                "projections end on a Lif population",
            ),
        }
        let (n_pre, n_post) = (
            from.map_or(0, PopulationSpec::size) as f64,
            to.map_or(0, PopulationSpec::size) as f64,
        );
        match pr.connect {
            ConnectSpec::AllToAll => synapses += n_pre * n_post,
            ConnectSpec::OneToOne => {
                if from.is_some() && to.is_some() && n_pre != n_post {
                    p.push(
                        f("connect"),
                        format!("OneToOne needs equal sizes, got {n_pre} and {n_post}"),
                        "use AllToAll or Random(p: ...)",
                    );
                }
                synapses += n_pre.min(n_post);
            }
            ConnectSpec::Random { p: prob } => {
                if !(prob.is_finite() && prob > 0.0 && prob <= 1.0) {
                    p.push(
                        f("connect.p"),
                        format!("must be in (0, 1], got {prob}"),
                        "e.g. Random(p: 0.1)",
                    );
                }
                synapses += n_pre * n_post * prob.clamp(0.0, 1.0);
            }
        }
        match pr.weight {
            WeightInitSpec::Constant(w) => {
                finite(p, f("weight"), w);
            }
            WeightInitSpec::Uniform { low, high } => {
                if finite(p, f("weight.low"), low) & finite(p, f("weight.high"), high) && low > high
                {
                    p.push(
                        f("weight"),
                        format!("low {low} is above high {high}"),
                        "swap them",
                    );
                }
            }
        }
        let (lo, hi) = pr.weight.range();
        // A fixed projection's w_max is its weight format's full scale: initial weights
        // above it were stored as w_max without a word (weight 5 with w_max 0.1 silenced
        // the neuron).
        if pr.stdp.is_none()
            && let Some(w_max) = pr.w_max
            && hi.is_finite()
            && hi > w_max
        {
            p.push(
                f("w_max"),
                format!("initial weights up to {hi} reach above w_max {w_max}"),
                "raise w_max to the largest initial weight, or leave it out (it defaults to that)",
            );
        }
        // A conductance is never negative: a negative weight drove g below −1 and the
        // membrane equation's solution to −1e22 mV, silencing the neuron for good.
        let conductance = to.is_some_and(|t| {
            matches!(
                t,
                PopulationSpec::Lif {
                    synapse: SynapseSpec::Conductance { .. },
                    ..
                }
            )
        });
        let lowest = pr.stdp.as_ref().map_or(lo, |st| lo.min(st.w_min));
        if conductance && lowest < 0.0 {
            p.push(
                f("weight"),
                format!(
                    "weights down to {lowest} onto {:?}, whose synapses are conductances \
                     (never negative)",
                    pr.to
                ),
                "use weights ≥ 0 (and stdp.w_min ≥ 0); inhibition is a conductance with \
                 e_rev_mv below the rest potential",
            );
        }
        if !(pr.delay_ms.is_finite() && pr.delay_ms >= 0.0) {
            p.push(
                f("delay_ms"),
                format!("must be a finite number ≥ 0, got {}", pr.delay_ms),
                "e.g. delay_ms: 1.0",
            );
        } else if dt_ok && (pr.delay_ms / s.dt_ms).round() > MAX_DELAY_STEPS {
            p.push(
                f("delay_ms"),
                format!("is more than {MAX_DELAY_STEPS} time steps"),
                "use a shorter delay or a longer dt_ms",
            );
        }
        if let Some(w) = pr.w_max {
            positive(p, f("w_max"), w, "the full scale of the weight format");
        }
        if let Some(st) = &pr.stdp {
            any_stdp = true;
            positive(p, f("stdp.tau_plus_ms"), st.tau_plus_ms, "e.g. 20.0");
            positive(p, f("stdp.tau_minus_ms"), st.tau_minus_ms, "e.g. 20.0");
            for (n, v) in [("a_plus", st.a_plus), ("a_minus", st.a_minus)] {
                if !(v.is_finite() && v >= 0.0) {
                    p.push(
                        f(&format!("stdp.{n}")),
                        format!("must be a finite number ≥ 0, got {v}"),
                        "a_minus is the size of the depression step; its sign is implied",
                    );
                }
            }
            if finite(p, f("stdp.w_max"), st.w_max) & finite(p, f("stdp.w_min"), st.w_min)
                && st.w_max <= st.w_min
            {
                p.push(
                    f("stdp.w_max"),
                    format!("must be above w_min {}, got {}", st.w_min, st.w_max),
                    "STDP keeps weights in [w_min, w_max]",
                );
            } else if st.w_min < st.w_max {
                // STDP keeps weights in [w_min, w_max]: initial weights outside it were
                // clamped into it without a word.
                if lo.is_finite() && hi.is_finite() && (lo < st.w_min || hi > st.w_max) {
                    p.push(
                        f("weight"),
                        format!(
                            "initial weights in [{lo}, {hi}] reach outside STDP's range \
                             [{}, {}]",
                            st.w_min, st.w_max
                        ),
                        "draw the initial weights inside [stdp.w_min, stdp.w_max]",
                    );
                }
            }
        }
    }
    if synapses > MAX_SYNAPSES {
        p.push(
            "spiking.projections",
            format!("the network has about {synapses:.0} synapses, more than {MAX_SYNAPSES:e}"),
            "use smaller populations or sparser connectivity",
        );
    }
    if let Some(m) = machine {
        let cores = m.neuro_tiles().len();
        match &m.neuro {
            Some(core) if cores > 0 => {
                if any_stdp && !core.stdp {
                    p.push(
                        "spiking.projections",
                        format!("machine {}'s neuromorphic cores have no on-chip STDP", m.name),
                        "remove the stdp sections or use cores with `stdp: true`",
                    );
                }
            }
            _ => p.push(
                "spiking",
                format!("machine {} has no neuromorphic cores to run a spiking network", m.name),
                "run it on a grid with Neuro tiles, e.g. arch/neuro-grid.ron or arch/xdna2-neuro-hybrid.ron",
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::spike_step;

    #[test]
    fn spikes_play_in_the_step_brian2_places_them_in() {
        // ⌊t/dt + 0.001⌋ (Brian2's `timestep`): not the nearest step.
        assert_eq!(spike_step(0.06, 0.1), 0.0);
        assert_eq!(spike_step(0.14, 0.1), 1.0);
        assert_eq!(spike_step(0.25, 0.1), 2.0);
        assert_eq!(spike_step(0.35, 0.1), 3.0);
        // A multiple of dt whose division rounds just below (0.3 / 0.1 = 2.999…) stays in
        // its own step.
        assert_eq!(spike_step(0.3, 0.1), 3.0);
        assert_eq!(spike_step(0.0, 0.1), 0.0);
        // Far beyond any run, two times stay two steps.
        assert_ne!(spike_step(1e300, 0.1), spike_step(2e300, 0.1));
        assert_eq!(spike_step(0.04, 0.1), spike_step(0.06, 0.1));
    }
}
