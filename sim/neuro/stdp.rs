//! Pair-based STDP with traces, all-to-all pairing and hard bounds, exactly as Brian2's
//! example `examples/synapses/STDP.py` writes it (`docs/neuro.md`):
//!
//! ```text
//! τ+ dA_pre/dt = −A_pre,  τ− dA_post/dt = −A_post     (decayed lazily at each event)
//! pre spike:  A_pre += A+;  w ← clip(w + A_post, w_min, w_max)
//! post spike: A_post −= A−; w ← clip(w + A_pre,  w_min, w_max)
//! ```
//!
//! Each synapse keeps both traces and the step of its last event, and decays them with
//! `A·exp(−k·dt/τ)` over the k steps since then when an event reaches it, as Brian2's
//! event-driven synapses do; the equivalent window is Δw = A+·e^(−Δt/τ+) for
//! Δt = t_post − t_pre > 0 and −A−·e^(Δt/τ−) for Δt < 0. In a time step where both
//! neurons spike the pre-synaptic event is processed first, so the pair counts as
//! potentiation (Brian2's order).
//!
//! Events arrive on the step grid, so the decay factor depends only on the gap k in
//! steps: [`SteppedStdp`] takes it from a table of `exp(−k·dt/τ)` for gaps up to
//! `TABLE_TAUS` time constants (one exp per table entry, once per run, instead of one
//! per synapse event) and calls exp for longer gaps, which are rare and whose factors are
//! tiny. The table holds exactly the value the direct formula gives.

/// Time constants of gap the decay tables cover (factors down to e^−16 ≈ 1.1e−7).
const TABLE_TAUS: f64 = 16.0;

/// Largest decay table (entries), whatever τ/dt is.
const MAX_TABLE: usize = 1 << 16;

/// The rule's constants.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stdp {
    /// τ+, seconds.
    pub tau_plus: f64,
    /// τ−, seconds.
    pub tau_minus: f64,
    /// A+ (> 0).
    pub a_plus: f64,
    /// A− (> 0; subtracted).
    pub a_minus: f64,
    /// Lower bound.
    pub w_min: f64,
    /// Upper bound.
    pub w_max: f64,
}

/// One synapse's traces and the step they were last brought up to date.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Traces {
    /// Pre-synaptic trace.
    pub a_pre: f64,
    /// Post-synaptic trace.
    pub a_post: f64,
    /// Step of the last event.
    pub last: u64,
}

impl Stdp {
    /// Clips to the bounds.
    #[inline]
    pub fn clip(&self, w: f64) -> f64 {
        w.clamp(self.w_min, self.w_max)
    }
}

/// The decay factor of a gap of `k` steps of `dt` seconds with time constant `tau`; the
/// tables hold exactly these values.
#[inline]
fn factor(k: u64, dt: f64, tau: f64) -> f64 {
    (-(k as f64 * dt) / tau).exp()
}

/// `factor(k, dt, tau)` for k = 0, 1, … up to `TABLE_TAUS` time constants.
fn table(dt: f64, tau: f64) -> Vec<f64> {
    let span = (TABLE_TAUS * tau / dt).ceil();
    // NaN or a non-positive span (odd dt or τ) still gets k = 0.
    let len = if span >= 0.0 {
        (span as usize).saturating_add(1).min(MAX_TABLE)
    } else {
        1
    };
    (0..len as u64).map(|k| factor(k, dt, tau)).collect()
}

/// A rule on a time grid of `dt` seconds: the events of [`SteppedStdp::on_pre`] and
/// [`SteppedStdp::on_post`] come at whole steps.
#[derive(Debug, Clone, PartialEq)]
pub struct SteppedStdp {
    /// The rule.
    pub rule: Stdp,
    dt: f64,
    /// e^(−k·dt/τ+) by k.
    pre: Vec<f64>,
    /// e^(−k·dt/τ−) by k; empty when τ− = τ+ (the usual case), whose traces decay by the
    /// same factor.
    post: Vec<f64>,
}

impl SteppedStdp {
    /// The rule on steps of `dt` seconds.
    pub fn new(rule: Stdp, dt: f64) -> SteppedStdp {
        let post = if rule.tau_minus == rule.tau_plus {
            Vec::new()
        } else {
            table(dt, rule.tau_minus)
        };
        SteppedStdp {
            rule,
            dt,
            pre: table(dt, rule.tau_plus),
            post,
        }
    }

    /// Decays both traces to `step`.
    #[inline]
    fn decay(&self, tr: &mut Traces, step: u64) {
        let k = step - tr.last;
        let d_pre = match self.pre.get(k as usize) {
            Some(&d) => d,
            None => factor(k, self.dt, self.rule.tau_plus),
        };
        let d_post = if self.post.is_empty() {
            d_pre
        } else {
            match self.post.get(k as usize) {
                Some(&d) => d,
                None => factor(k, self.dt, self.rule.tau_minus),
            }
        };
        tr.a_pre *= d_pre;
        tr.a_post *= d_post;
        tr.last = step;
    }

    /// Clips to the bounds.
    #[inline]
    pub fn clip(&self, w: f64) -> f64 {
        self.rule.clip(w)
    }

    /// A pre-synaptic spike reaches the synapse at `step` (not before its last event):
    /// returns the weight change the rule asks for (before clipping).
    #[inline]
    pub fn on_pre(&self, tr: &mut Traces, step: u64) -> f64 {
        self.decay(tr, step);
        tr.a_pre += self.rule.a_plus;
        tr.a_post
    }

    /// The post-synaptic neuron spikes at `step` (not before the synapse's last event):
    /// returns the weight change the rule asks for (before clipping).
    #[inline]
    pub fn on_post(&self, tr: &mut Traces, step: u64) -> f64 {
        self.decay(tr, step);
        tr.a_post -= self.rule.a_minus;
        tr.a_pre
    }
}

/// The final weight of one synapse driven by given pre- and post-synaptic spike times
/// (seconds), with the time grid `dt` (each time in the step Brian2's
/// `SpikeGeneratorGroup` plays it in, [`crate::model::spike_step`]). The reference for the exact oracle tests.
pub fn single_synapse(rule: &Stdp, w0: f64, pre: &[f64], post: &[f64], dt: f64) -> f64 {
    let step = |t: f64| crate::model::spike_step(t, dt) as u64;
    let mut events: Vec<(u64, u8)> = pre
        .iter()
        .map(|&t| (step(t), 0u8))
        .chain(post.iter().map(|&t| (step(t), 1u8)))
        .collect();
    // Within a step: the pre pathway first (Brian2's order).
    events.sort_unstable();
    let stepped = SteppedStdp::new(*rule, dt);
    let mut tr = Traces::default();
    let mut w = w0;
    for (s, kind) in events {
        let dw = if kind == 0 {
            stepped.on_pre(&mut tr, s)
        } else {
            stepped.on_post(&mut tr, s)
        };
        w = rule.clip(w + dw);
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    fn song() -> Stdp {
        Stdp {
            tau_plus: 0.02,
            tau_minus: 0.02,
            a_plus: 1e-4,
            a_minus: 1.05e-4,
            w_min: 0.0,
            w_max: 0.01,
        }
    }

    #[test]
    fn window_matches_closed_form() {
        let r = song();
        let w = single_synapse(&r, 0.005, &[0.010], &[0.020], 1e-4);
        assert!((w - (0.005 + 1e-4 * (-0.5f64).exp())).abs() < 1e-15);
        let w = single_synapse(&r, 0.005, &[0.020], &[0.010], 1e-4);
        assert!((w - (0.005 - 1.05e-4 * (-0.5f64).exp())).abs() < 1e-15);
    }

    #[test]
    fn gaps_beyond_the_table_decay_as_the_table_would() {
        let r = song();
        let s = SteppedStdp::new(r, 1e-4);
        let n = s.pre.len() as u64;
        // 16 τ of 0.1 ms steps at τ = 20 ms, and the entry for no gap.
        assert_eq!(n, 3201);
        for k in [0, 1, 7, n - 1, n, n + 1, 10 * n] {
            let mut tr = Traces {
                a_pre: 1.0,
                a_post: -1.0,
                last: 5,
            };
            s.on_post(&mut tr, 5 + k);
            let d = (-(k as f64 * 1e-4) / 0.02).exp();
            assert_eq!(tr.a_pre, d);
            assert_eq!(tr.a_post, -d - r.a_minus);
        }
    }

    #[test]
    fn unequal_time_constants_decay_each_trace_by_its_own() {
        let r = Stdp {
            tau_minus: 0.04,
            ..song()
        };
        let s = SteppedStdp::new(r, 1e-4);
        let mut tr = Traces {
            a_pre: 1.0,
            a_post: 1.0,
            last: 0,
        };
        s.on_pre(&mut tr, 200);
        let gap = 200.0 * 1e-4;
        assert_eq!(tr.a_pre, (-gap / 0.02f64).exp() + r.a_plus);
        assert_eq!(tr.a_post, (-gap / 0.04f64).exp());
    }

    #[test]
    fn same_step_is_potentiation() {
        let w = single_synapse(&song(), 0.005, &[0.010], &[0.010], 1e-4);
        assert!((w - 0.0051).abs() < 1e-15);
    }
}
