//! Leaky integrate-and-fire neurons with one exponentially decaying synaptic input,
//! integrated exactly over a time step (the form of Brian2's STDP example):
//!
//! ```text
//! τ_m dv/dt = (v_rest − v) + g·drive        (Current: fixed driving force)
//! τ_m dv/dt = (v_rest − v) + g·(E − v)      (Conductance)
//! τ_e dg/dt = −g
//! spike when v > v_threshold, then v ← v_reset
//! ```
//!
//! For the current form the pair (v, g) is linear and the step is exact:
//! `g' = g·d_e`, `v' = v_rest + (v − v_rest)·d_m + g·k` with `d = e^(−dt/τ)` and
//! `k = drive·τ_e/(τ_e − τ_m)·(d_e − d_m)` (or `drive·(dt/τ_m)·d_m` when τ_e = τ_m). The
//! conductance form holds g over the step (exponential Euler), exact for constant g.

use crate::spec::SynapseSpec;

/// Step coefficients of one LIF population (all in mV and the step's units).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Lif {
    /// Resting potential, mV.
    pub v_rest: f64,
    /// Reset potential, mV.
    pub v_reset: f64,
    /// Threshold, mV.
    pub v_threshold: f64,
    /// Potential at t = 0, mV.
    pub v_init: f64,
    /// e^(−dt/τ_m).
    pub d_m: f64,
    /// e^(−dt/τ_e).
    pub d_e: f64,
    /// dt/τ_m.
    pub dt_over_tau_m: f64,
    /// The synaptic input's form.
    pub input: Input,
}

/// How the synaptic variable enters the membrane equation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Input {
    /// `g·drive`: v' gains `g·k` per step.
    Current {
        /// Coefficient of g in the exact step.
        k: f64,
    },
    /// `g·(E − v)`.
    Conductance {
        /// Reversal potential, mV.
        e_rev: f64,
    },
}

impl Lif {
    /// Coefficients for a time step of `dt_s` seconds.
    pub fn new(
        dt_s: f64,
        tau_m_s: f64,
        v_rest: f64,
        v_reset: f64,
        v_threshold: f64,
        v_init: f64,
        synapse: &SynapseSpec,
    ) -> Lif {
        let d_m = (-dt_s / tau_m_s).exp();
        let (tau_e_s, input) = match *synapse {
            SynapseSpec::Current { tau_ms, drive_mv } => {
                let tau_e = tau_ms * 1e-3;
                let d_e = (-dt_s / tau_e).exp();
                let k = if ((tau_e - tau_m_s) / tau_m_s).abs() < 1e-12 {
                    drive_mv * (dt_s / tau_m_s) * d_m
                } else {
                    drive_mv * tau_e / (tau_e - tau_m_s) * (d_e - d_m)
                };
                (tau_e, Input::Current { k })
            }
            SynapseSpec::Conductance { tau_ms, e_rev_mv } => {
                (tau_ms * 1e-3, Input::Conductance { e_rev: e_rev_mv })
            }
        };
        Lif {
            v_rest,
            v_reset,
            v_threshold,
            v_init,
            d_m,
            d_e: (-dt_s / tau_e_s).exp(),
            dt_over_tau_m: dt_s / tau_m_s,
            input,
        }
    }

    /// Advances one neuron by one step: returns the new (v, g). Does not test the
    /// threshold (Brian2 tests it after every group has integrated).
    #[inline]
    pub fn step(&self, v: f64, g: f64) -> (f64, f64) {
        let v = match self.input {
            Input::Current { k } => self.v_rest + (v - self.v_rest) * self.d_m + g * k,
            Input::Conductance { e_rev } => {
                let a = 1.0 + g;
                let v_inf = (self.v_rest + g * e_rev) / a;
                v_inf + (v - v_inf) * (-self.dt_over_tau_m * a).exp()
            }
        };
        (v, g * self.d_e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn song() -> Lif {
        Lif::new(
            1e-4,
            10e-3,
            -74.0,
            -60.0,
            -54.0,
            -74.0,
            &SynapseSpec::Current {
                tau_ms: 5.0,
                drive_mv: 60.0,
            },
        )
    }

    #[test]
    fn relaxes_to_rest_without_input() {
        let l = song();
        let (mut v, mut g) = (-60.0, 0.0);
        for _ in 0..100_000 {
            (v, g) = l.step(v, g);
        }
        assert!((v + 74.0).abs() < 1e-9 && g == 0.0);
    }

    #[test]
    fn exact_step_matches_fine_euler() {
        // Many tiny Euler steps of the ODE converge to the exact step.
        let l = song();
        let (v0, g0) = (-65.0, 0.3);
        let (v1, g1) = l.step(v0, g0);
        let n = 100_000;
        let h = 1e-4 / n as f64;
        let (mut v, mut g) = (v0, g0);
        for _ in 0..n {
            let dv = ((-74.0 - v) + g * 60.0) / 10e-3;
            let dg = -g / 5e-3;
            v += h * dv;
            g += h * dg;
        }
        assert!((v - v1).abs() < 1e-6, "{v} vs {v1}");
        assert!((g - g1).abs() < 1e-6);
    }

    #[test]
    fn equal_time_constants_are_handled() {
        let l = Lif::new(
            1e-4,
            5e-3,
            -70.0,
            -70.0,
            -50.0,
            -70.0,
            &SynapseSpec::Current {
                tau_ms: 5.0,
                drive_mv: 10.0,
            },
        );
        let (v, _) = l.step(-70.0, 1.0);
        assert!(v.is_finite() && v > -70.0);
    }

    #[test]
    fn conductance_pulls_towards_reversal() {
        let l = Lif::new(
            1e-4,
            10e-3,
            -70.0,
            -70.0,
            -50.0,
            -70.0,
            &SynapseSpec::Conductance {
                tau_ms: 5.0,
                e_rev_mv: 0.0,
            },
        );
        let (v, _) = l.step(-70.0, 1.0);
        assert!(v > -70.0 && v < 0.0);
    }
}
