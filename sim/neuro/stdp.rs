//! Pair-based STDP with traces, all-to-all pairing and hard bounds, exactly as Brian2's
//! example `examples/synapses/STDP.py` writes it (`docs/neuro.md`):
//!
//! ```text
//! τ+ dA_pre/dt = −A_pre,  τ− dA_post/dt = −A_post     (decayed lazily at each event)
//! pre spike:  A_pre += A+;  w ← clip(w + A_post, w_min, w_max)
//! post spike: A_post −= A−; w ← clip(w + A_pre,  w_min, w_max)
//! ```
//!
//! Each synapse keeps both traces and the time of its last event, and decays them with
//! `A·exp(−(t − t_last)/τ)` when an event reaches it, as Brian2's event-driven synapses
//! do; the equivalent window is Δw = A+·e^(−Δt/τ+) for Δt = t_post − t_pre > 0 and
//! −A−·e^(Δt/τ−) for Δt < 0. In a time step where both neurons spike the pre-synaptic
//! event is processed first, so the pair counts as potentiation (Brian2's order).

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

/// One synapse's traces and the time (seconds) they were last brought up to date.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Traces {
    /// Pre-synaptic trace.
    pub a_pre: f64,
    /// Post-synaptic trace.
    pub a_post: f64,
    /// Time of the last event.
    pub last: f64,
}

impl Stdp {
    #[inline]
    fn decay(&self, tr: &mut Traces, t: f64) {
        let d_pre = (-(t - tr.last) / self.tau_plus).exp();
        // Equal time constants (the usual case) decay both traces by the same factor.
        let d_post = if self.tau_minus == self.tau_plus {
            d_pre
        } else {
            (-(t - tr.last) / self.tau_minus).exp()
        };
        tr.a_pre *= d_pre;
        tr.a_post *= d_post;
        tr.last = t;
    }

    /// Clips to the bounds.
    #[inline]
    pub fn clip(&self, w: f64) -> f64 {
        w.clamp(self.w_min, self.w_max)
    }

    /// A pre-synaptic spike reaches the synapse at time `t`: returns the weight change
    /// the rule asks for (before clipping).
    #[inline]
    pub fn on_pre(&self, tr: &mut Traces, t: f64) -> f64 {
        self.decay(tr, t);
        tr.a_pre += self.a_plus;
        tr.a_post
    }

    /// The post-synaptic neuron spikes at time `t`: returns the weight change the rule
    /// asks for (before clipping).
    #[inline]
    pub fn on_post(&self, tr: &mut Traces, t: f64) -> f64 {
        self.decay(tr, t);
        tr.a_post -= self.a_minus;
        tr.a_pre
    }
}

/// The final weight of one synapse driven by given pre- and post-synaptic spike times
/// (seconds), with the time grid `dt` (times are rounded to steps, as Brian2's
/// `SpikeGeneratorGroup` does). The reference for the exact oracle tests.
pub fn single_synapse(rule: &Stdp, w0: f64, pre: &[f64], post: &[f64], dt: f64) -> f64 {
    let step = |t: f64| (t / dt).round() as u64;
    let mut events: Vec<(u64, u8)> = pre
        .iter()
        .map(|&t| (step(t), 0u8))
        .chain(post.iter().map(|&t| (step(t), 1u8)))
        .collect();
    // Within a step: the pre pathway first (Brian2's order).
    events.sort_unstable();
    let mut tr = Traces::default();
    let mut w = w0;
    for (s, kind) in events {
        let t = s as f64 * dt;
        let dw = if kind == 0 {
            rule.on_pre(&mut tr, t)
        } else {
            rule.on_post(&mut tr, t)
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
    fn same_step_is_potentiation() {
        let w = single_synapse(&song(), 0.005, &[0.010], &[0.010], 1e-4);
        assert!((w - 0.0051).abs() < 1e-15);
    }
}
