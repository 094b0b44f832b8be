//! The host optimizer: f64 master weights updated with the mean of `apply_every` gradient
//! estimates by SGD, heavy-ball momentum or Adam.

use crate::model::{Optimizer, OptimizerRule};

/// The host's optimizer state.
#[derive(Debug, Clone)]
pub(crate) struct Host {
    opt: Optimizer,
    /// First moment (momentum, Adam).
    m: Vec<f64>,
    /// Second moment (Adam).
    v: Vec<f64>,
    /// Updates applied.
    t: u64,
}

impl Host {
    /// A fresh optimizer for `params` weights.
    pub fn new(opt: Optimizer, params: usize) -> Host {
        let moments = |used: bool| if used { vec![0.0; params] } else { Vec::new() };
        Host {
            opt,
            m: moments(!matches!(opt.rule, OptimizerRule::Sgd)),
            v: moments(matches!(opt.rule, OptimizerRule::Adam { .. })),
            t: 0,
        }
    }

    /// One update of `w` with the (mean) gradient estimate `g`.
    pub fn step(&mut self, w: &mut [f64], g: &[f64]) {
        self.t += 1;
        let lr = self.opt.lr;
        match self.opt.rule {
            OptimizerRule::Sgd => {
                for (w, g) in w.iter_mut().zip(g) {
                    *w -= lr * g;
                }
            }
            OptimizerRule::Momentum { beta } => {
                for ((w, g), m) in w.iter_mut().zip(g).zip(&mut self.m) {
                    *m = beta * *m + g;
                    *w -= lr * *m;
                }
            }
            OptimizerRule::Adam { beta1, beta2, eps } => {
                let t = i32::try_from(self.t).unwrap_or(i32::MAX);
                let c1 = 1.0 - beta1.powi(t);
                let c2 = 1.0 - beta2.powi(t);
                for (((w, g), m), v) in w.iter_mut().zip(g).zip(&mut self.m).zip(&mut self.v) {
                    *m = beta1 * *m + (1.0 - beta1) * g;
                    *v = beta2 * *v + (1.0 - beta2) * g * g;
                    *w -= lr * (*m / c1) / ((*v / c2).sqrt() + eps);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opt(rule: OptimizerRule) -> Optimizer {
        Optimizer {
            lr: 0.1,
            apply_every: 1,
            rule,
        }
    }

    #[test]
    fn sgd_and_momentum_steps_are_the_textbook_ones() {
        let mut w = vec![1.0, -2.0];
        let mut h = Host::new(opt(OptimizerRule::Sgd), 2);
        h.step(&mut w, &[1.0, 0.5]);
        assert_eq!(w, vec![0.9, -2.05]);
        let mut w = vec![0.0];
        let mut h = Host::new(opt(OptimizerRule::Momentum { beta: 0.5 }), 1);
        h.step(&mut w, &[1.0]);
        h.step(&mut w, &[1.0]);
        // m = 1, then 1.5: w = −0.1 − 0.15.
        assert!((w[0] + 0.25).abs() < 1e-15, "{w:?}");
    }

    #[test]
    fn adam_first_step_moves_each_weight_by_lr() {
        let mut w = vec![0.0, 0.0];
        let rule = OptimizerRule::Adam {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-12,
        };
        let mut h = Host::new(opt(rule), 2);
        h.step(&mut w, &[3.0, -1e-3]);
        assert!(
            (w[0] + 0.1).abs() < 1e-9 && (w[1] - 0.1).abs() < 1e-6,
            "{w:?}"
        );
    }

    #[test]
    fn quadratic_is_minimised_by_every_rule() {
        for rule in [
            OptimizerRule::Sgd,
            OptimizerRule::Momentum { beta: 0.9 },
            OptimizerRule::Adam {
                beta1: 0.9,
                beta2: 0.999,
                eps: 1e-8,
            },
        ] {
            let mut w = vec![2.0, -3.0];
            let mut h = Host::new(opt(rule), 2);
            for _ in 0..500 {
                let g = w.clone(); // ∇ of ½‖w‖²
                h.step(&mut w, &g);
            }
            assert!(w.iter().all(|x| x.abs() < 0.05), "{rule:?}: {w:?}");
        }
    }
}
