//! The learning loop: estimates in stream order, host updates every `apply_every`
//! estimates, weight versions reaching the tiles when the timeline's counters say, and the
//! held-out evaluation that makes the loss curve.

use std::collections::VecDeque;

use serde::Serialize;

use crate::engine::Timeline;
use crate::mapper::{CounterKind, TileSchedule};
use crate::model::{PartitionKind, Scenario, Task};
use crate::numerics::{Accumulation, Format};
use crate::replay::data::spread;
use crate::spec::PerturbTargetSpec;

use super::net::{Net, Shape, TileNet, round_columns, round_to};
use super::optimizer::Host;
use super::perturb::tangent;
use super::stream::{DataStream, Purpose, Split, seeded};
use super::{
    LearningError, MAX_COMPARED_ESTIMATES, MAX_EVAL_MACS, MAX_EVAL_POINTS, MAX_PARAMETERS,
    MAX_VALUE_MACS, format_cost,
};

/// What the timeline says one learning partition did: the counters the learning loop
/// follows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LearnerCounts {
    /// Index of the learning partition in the workload.
    pub partition: usize,
    /// Samples it learned on.
    pub samples_learned: u64,
    /// Samples the inference partitions served in the same time (0 without any): learned
    /// sample `n` sits at stream position `n · served / learned`, which is what the drift
    /// sample is compared with.
    pub samples_served: u64,
    /// Gradient estimates it completed (one per batch).
    pub estimates: u64,
    /// Weight versions the host published.
    pub updates: u64,
    /// Groups (replicas) working on batches at once: a batch starts with the weights that
    /// were visible when the batch `groups` places earlier finished.
    pub groups: u64,
    /// Simulated seconds of the run.
    pub seconds: f64,
}

impl LearnerCounts {
    /// The counters of the first learning partition of a run, if there is one.
    pub fn from_run(sc: &Scenario, schedule: &TileSchedule, t: &Timeline) -> Option<LearnerCounts> {
        let w = &sc.workload;
        let pi = w.partitions.iter().position(|p| p.kind.learns())?;
        let sum = |kind: CounterKind, part: Option<usize>| t.counted(schedule, kind, part);
        Some(LearnerCounts {
            partition: pi,
            samples_learned: sum(CounterKind::SamplesLearned, Some(pi)).min(w.samples),
            samples_served: sum(CounterKind::SamplesServed, None).min(w.samples),
            estimates: sum(CounterKind::Estimates, Some(pi)),
            updates: sum(CounterKind::WeightUpdates, Some(pi)),
            groups: schedule
                .partitions
                .get(pi)
                .map_or(1, |p| p.groups.len() as u64)
                .max(1),
            seconds: sc.machine.seconds(crate::model::Cycles(t.cycles)),
        })
    }

    /// A run in which every batch of `samples` gives an estimate, the host applies every
    /// update at once and one group learns: the loop without timing effects (for studies
    /// of the numerics alone). One simulated second per sample.
    pub fn ideal(sc: &Scenario, partition: usize, samples: u64) -> LearnerCounts {
        let b = u64::from(sc.workload.batch).max(1);
        let u = sc
            .workload
            .optimizer
            .map_or(1, |o| u64::from(o.apply_every));
        let estimates = samples / b;
        LearnerCounts {
            partition,
            samples_learned: samples,
            samples_served: 0,
            estimates,
            updates: estimates / u,
            groups: 1,
            seconds: samples as f64,
        }
    }
}

/// One point of the loss curve.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CurvePoint {
    /// When the learning partition had learned `samples_seen` samples
    /// (`samples_seen / learning samples per second` of the run).
    pub simulated_seconds: f64,
    /// Samples the learning partition had learned on.
    pub samples_seen: u64,
    /// Mean loss on the held-out slice of the model the inference tiles held then (null if
    /// not finite).
    pub loss: f64,
    /// Share of the held-out slice classified correctly (classification only).
    pub accuracy: Option<f64>,
}

/// The values of the learning loop, as report.json's `learning` section shows them.
/// Without a loop (no learning partition, or a model it cannot run) every field is empty
/// and `values_skipped` says why.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LearningValues {
    /// Why there are no learning values, if there are none.
    pub values_skipped: Option<String>,
    /// The learning partition whose loop this is.
    pub values_partition: Option<String>,
    /// `teacher_student` or `gaussian_mixture`.
    pub task: Option<&'static str>,
    /// `squared_error` (‖y − t‖² / 2·outputs) or `cross_entropy`.
    pub loss_function: Option<&'static str>,
    /// Format of the learning tiles' values.
    pub values_format: Option<String>,
    /// Format the held-out evaluation runs in (the serving partition's, else the learning
    /// partition's).
    pub evaluated_in: Option<String>,
    /// `sgd`, `momentum` or `adam`.
    pub optimizer: Option<&'static str>,
    /// `forward_gradient` (weight perturbations), `forward_gradient_activity` (activity
    /// perturbations) or `backprop`.
    pub method: Option<&'static str>,
    /// `gaussian` or `rademacher` (forward gradients only).
    pub perturbation: Option<&'static str>,
    /// Whether weight perturbations were drawn per sample rather than per batch (activity
    /// perturbations always are).
    pub per_sample: bool,
    /// Whether perturbations came in antithetic pairs.
    pub antithetic: bool,
    /// Weights learned.
    pub parameters: u64,
    /// Learned samples the loop ran on values (all the timeline's, or a bounded prefix).
    pub samples_simulated_in_values: u64,
    /// Estimates computed on values.
    pub estimates_in_values: u64,
    /// Host updates applied on values.
    pub updates_in_values: u64,
    /// Learned samples between evaluations.
    pub eval_every: u64,
    /// Held-out samples per evaluation.
    pub eval_samples: u64,
    /// The loss curve: one point before learning, one every `eval_every` samples, one at
    /// the end.
    pub loss_curve: Vec<CurvePoint>,
    /// Loss of the last point.
    pub final_loss: Option<f64>,
    /// The workload's target loss.
    pub target_loss: Option<f64>,
    /// Samples seen at the first point whose loss is at most `target_loss` (null when never
    /// reached or no target).
    pub samples_to_loss: Option<u64>,
    /// Samples seen at the first point whose loss is not finite (NaN or ±∞: the learning
    /// diverged, and every later point is unusable); null while every loss is finite.
    pub diverged_at_samples: Option<u64>,
    /// Mean cosine between an estimate (as the host received it) and the exact f64 gradient
    /// of the same batch at the weights the tile held.
    pub gradient_cosine_mean: Option<f64>,
    /// Mean of ‖g − ∇f‖² / ‖∇f‖² over the same estimates.
    pub gradient_relative_variance: Option<f64>,
    /// Estimates compared with the exact gradient.
    pub gradient_estimates_compared: u64,
}

impl LearningValues {
    /// What to try when the held-out loss is not finite ([`Self::diverged_at_samples`]):
    /// from the first evaluation on, before any update, the learning rate is not the cause.
    pub fn divergence_hint(&self) -> &'static str {
        match self.diverged_at_samples {
            Some(0) => {
                "the loss is not finite before any update: check the task's data \
                 (learning.task, e.g. its noise) and the model's size"
            }
            _ => "lower the learning rate",
        }
    }
}

/// How the learning tiles compute their gradient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    /// Forward gradient with `k` weight tangents, per batch or per sample.
    Weights { k: u32, per_sample: bool },
    /// Forward gradient with `k` activity tangents per sample.
    Activity { k: u32 },
    /// Backpropagation.
    Backprop,
}

/// Everything the loop needs, resolved once.
struct Plan {
    method: Method,
    shape: Shape,
    fmt: Format,
    acc: Accumulation,
    eval_fmt: Format,
    eval_acc: Accumulation,
    batch: u64,
    k: u32,
    apply_every: u64,
    estimates: u64,
    updates: u64,
    eval_every: u64,
    eval_samples: u64,
}

impl Plan {
    fn new(sc: &Scenario, pr: &LearnerCounts) -> Result<Plan, LearningError> {
        let w = &sc.workload;
        let part = w
            .partitions
            .get(pr.partition)
            .ok_or(LearningError::NoLearningPartition)?;
        let method = match part.kind {
            PartitionKind::Inference => return Err(LearningError::NoLearningPartition),
            PartitionKind::ForwardGradient {
                perturbations,
                perturb: PerturbTargetSpec::Weights,
            } => Method::Weights {
                k: perturbations.max(1),
                per_sample: w.learning.per_sample,
            },
            PartitionKind::ForwardGradient { perturbations, .. } => Method::Activity {
                k: perturbations.max(1),
            },
            PartitionKind::Backprop { .. } => Method::Backprop,
        };
        let fmt = part
            .format
            .ok_or_else(|| LearningError::NoFormat(part.name.clone()))?;
        let opt = w.optimizer.ok_or(LearningError::NoOptimizer)?;
        let shape = Shape::from_model(&w.layers, &sc.workload_spec.model)?;
        let (eval_fmt, eval_acc) = w
            .partitions
            .iter()
            .filter(|p| p.kind == PartitionKind::Inference)
            .find_map(|p| p.format.map(|f| (f, p.accumulation)))
            .unwrap_or((fmt, part.accumulation));
        let p = shape.params() as u64;
        if p > MAX_PARAMETERS {
            return Err(LearningError::TooManyWeights {
                params: p,
                max: MAX_PARAMETERS,
            });
        }
        let batch = u64::from(w.batch).max(1);
        let apply_every = u64::from(opt.apply_every).max(1);
        // Work of one estimate, in products per weight per sample: the forward pass (1),
        // plus two per weight tangent (W·t + V·x), or one per activity tangent (W·t) and
        // one for the estimate X ⊗ (d·u), or backprop's dW and dX (2).
        let passes = match method {
            Method::Weights { k, .. } => 1 + 2 * u64::from(k),
            Method::Activity { k } => 2 + u64::from(k),
            Method::Backprop => 3,
        };
        let k = match method {
            Method::Weights { k, .. } | Method::Activity { k } => k,
            Method::Backprop => 0,
        };
        let per_estimate = batch
            .saturating_mul(p)
            .saturating_mul(passes)
            .saturating_mul(format_cost(fmt))
            .max(1);
        let all = pr.estimates.min(pr.samples_learned / batch);
        let bound = w.learning.value_macs.unwrap_or(MAX_VALUE_MACS);
        let estimates = all.min((bound / per_estimate).max(1));
        let updates_all = pr.updates.min(all / apply_every);
        let updates = if estimates == all {
            updates_all
        } else {
            updates_all * estimates / all.max(1)
        };
        let samples = estimates * batch;
        let floor = samples.div_ceil(MAX_EVAL_POINTS).max(1);
        let eval_every = w.learning.eval_every.unwrap_or(floor).max(floor);
        // The held-out slice is sized for the most evaluations any run may have, not for
        // this run's: sized for its own (fewer when the method's passes cost more), runs of
        // one model differing only in method or tile format evaluated on slices of other
        // sizes and started from other losses (1.348, 1.339, 1.364).
        let per_eval = (MAX_EVAL_POINTS + 2)
            .saturating_mul(p)
            .saturating_mul(format_cost(eval_fmt))
            .max(1);
        let eval_samples = u64::from(w.learning.eval_samples)
            .min(MAX_EVAL_MACS / per_eval)
            .max(1);
        Ok(Plan {
            method,
            shape,
            fmt,
            acc: part.accumulation,
            eval_fmt,
            eval_acc,
            batch,
            k,
            apply_every,
            estimates,
            updates,
            eval_every,
            eval_samples,
        })
    }
}

/// The learning loop of a scenario's learning partition, following `counts` (from
/// [`LearnerCounts::from_run`], or [`LearnerCounts::ideal`]), telling `report` (if any, as
/// `"values"`) the share of the estimates done. Deterministic in the scenario.
pub fn learn(
    sc: &Scenario,
    counts: &LearnerCounts,
    report: Option<&crate::engine::Progress>,
) -> Result<LearningValues, LearningError> {
    let plan = Plan::new(sc, counts)?;
    let w = &sc.workload;
    let setup = w.learning;
    let opt = w.optimizer.ok_or(LearningError::NoOptimizer)?;
    let shape = &plan.shape;
    let p = shape.params();
    let data = DataStream::new(setup.task, shape, sc.seed);

    // Versions: update j (1-based) is visible after `visible(j)` estimates completed.
    let (all, v_all) = (
        counts
            .estimates
            .min(counts.samples_learned / plan.batch)
            .max(1),
        counts.updates.max(1),
    );
    let visible = |j: u64| -> u64 {
        let spread_out = (u128::from(j) * u128::from(all)).div_ceil(u128::from(v_all)) as u64;
        spread_out.max(j * plan.apply_every)
    };
    let learned = counts.samples_learned.max(1);
    let position = |n: u64| -> u64 {
        if counts.samples_served == 0 {
            n
        } else {
            (u128::from(n) * u128::from(counts.samples_served) / u128::from(learned)) as u64
        }
    };
    let concept = |n: u64| usize::from(setup.drift_at.is_some_and(|s| position(n) >= s));
    let seconds = |n: u64| n as f64 * counts.seconds / learned as f64;
    let evaluate = |net: &TileNet, n: u64| -> CurvePoint {
        // The task in force after n samples: the next sample's, and at the end of the
        // stream (no next sample) the last one's, so a drift after the last sample never
        // shows.
        let c = concept(n.min(learned - 1));
        let (mut loss, mut correct, mut classified) = (0.0, 0u64, 0u64);
        for h in 0..plan.eval_samples {
            let (x, t) = data.sample(Split::HeldOut, h, c);
            let f = net.forward(&x);
            loss += t.loss(f.output());
            if let Some(ok) = t.correct(f.output()) {
                classified += 1;
                correct += u64::from(ok);
            }
        }
        let loss = loss / plan.eval_samples as f64;
        CurvePoint {
            simulated_seconds: seconds(n),
            samples_seen: n,
            loss,
            // Outputs that are NaN pick no class (the argmax fell back to class 0, and the
            // accuracy of a diverged network read as the share of class 0): no accuracy
            // where the loss is not finite either.
            accuracy: (classified > 0 && loss.is_finite())
                .then(|| correct as f64 / classified as f64),
        }
    };

    let mut master = Net::init(shape, &mut seeded(sc.seed, Purpose::Student, 0));
    let mut host = Host::new(opt, p);
    let mut held64 = master.clone();
    let mut held = TileNet::load(&master, plan.fmt, plan.acc);
    let mut served = TileNet::load(&master, plan.eval_fmt, plan.eval_acc);
    let mut applied = 0u64;
    // Versions published but not yet held by the learning tiles.
    let mut queue: VecDeque<(u64, Net)> = VecDeque::new();
    // Sums of the estimates of windows not yet applied (only windows that will be).
    let mut windows: VecDeque<Vec<f64>> = VecDeque::new();
    let compared = spread(plan.estimates, MAX_COMPARED_ESTIMATES);
    let mut next_compared = 0usize;
    let (mut cos_sum, mut var_sum, mut n_compared) = (0.0, 0.0, 0u64);

    let mut curve = vec![evaluate(&served, 0)];
    let mut next_eval = plan.eval_every;
    let dist = setup.perturbation;
    for i in 0..plan.estimates {
        if let Some(r) = report
            && i.is_multiple_of(256)
        {
            (r.0)("values", i as f64 / plan.estimates as f64);
        }
        // The learning tiles pick up versions published before this batch started.
        while queue
            .front()
            .is_some_and(|(at, _)| at + counts.groups.saturating_sub(1) <= i)
        {
            if let Some((_, net)) = queue.pop_front() {
                held = TileNet::load(&net, plan.fmt, plan.acc);
                held64 = net;
            }
        }
        let compare = compared.get(next_compared) == Some(&i);
        let mut exact = if compare { vec![0.0; p] } else { Vec::new() };
        // The batch's estimate (or gradient) before rounding: sums kept exactly, as a wide
        // accumulator would.
        let mut pre = vec![0.0; p];
        let k = u64::from(plan.k.max(1));
        let scale = 1.0 / (plan.batch * k) as f64;
        // Weight tangents: one set per batch, regenerated from (seed, batch, k), or one
        // per sample, from (seed, sample, k).
        let draw = |key: u64| -> Vec<Vec<f64>> {
            (0..plan.k)
                .map(|k| {
                    let v = tangent(sc.seed, key, k, p, dist, setup.antithetic);
                    round_columns(plan.fmt, shape, &v)
                })
                .collect()
        };
        let per_batch = match plan.method {
            Method::Weights {
                per_sample: false, ..
            } => draw(i),
            _ => Vec::new(),
        };
        let mut d_batch = vec![0.0; plan.k as usize];
        for s in 0..plan.batch {
            let n = i * plan.batch + s;
            let (x, t) = data.sample(Split::Train, n, concept(n));
            let f = held.forward(&x);
            match plan.method {
                Method::Weights { per_sample, .. } => {
                    if per_sample {
                        let vs = draw(n);
                        for v in &vs {
                            let dk = held.directional(&f, &t, v) * scale;
                            for (e, vq) in pre.iter_mut().zip(v) {
                                *e += dk * vq;
                            }
                        }
                    } else {
                        for (dk, v) in d_batch.iter_mut().zip(&per_batch) {
                            *dk += held.directional(&f, &t, v);
                        }
                    }
                }
                Method::Activity { .. } => {
                    // Tangents on every pre-activation, regenerated from (seed, sample,
                    // k); the estimate of layer l is x_l ⊗ (d·u_l).
                    let q = shape.activations();
                    for kk in 0..plan.k {
                        let u = round_to(
                            plan.fmt,
                            &tangent(sc.seed, n, kk, q, dist, setup.antithetic),
                        );
                        let dk = held.activity_directional(&f, &t, &u) * scale;
                        let (mut off, mut uo) = (0, 0);
                        for (li, dl) in shape.layers.iter().enumerate() {
                            let a = &f.inputs[li];
                            for j in 0..dl.n {
                                let gj = dk * u[uo + j];
                                let col = off + j * dl.k;
                                for (e, &ai) in pre[col..col + dl.k].iter_mut().zip(a) {
                                    *e += gj * ai;
                                }
                            }
                            off += dl.k * dl.n;
                            uo += dl.n;
                        }
                    }
                }
                Method::Backprop => {
                    let g = held.backward(&f, &t);
                    for (e, g) in pre.iter_mut().zip(&g) {
                        *e += g * scale;
                    }
                }
            }
            if compare {
                let (_, g) = held64.gradient(&x, &t);
                for (e, g) in exact.iter_mut().zip(&g) {
                    *e += g / plan.batch as f64;
                }
            }
        }
        for (dk, v) in d_batch.iter().zip(&per_batch) {
            for (e, vq) in pre.iter_mut().zip(v) {
                *e += dk * scale * vq;
            }
        }
        let est = round_columns(plan.fmt, shape, &pre);
        if compare {
            next_compared += 1;
            let (mut dot, mut ng, mut ne, mut diff) = (0.0, 0.0, 0.0, 0.0);
            for (g, e) in est.iter().zip(&exact) {
                dot += g * e;
                ng += g * g;
                ne += e * e;
                diff += (g - e) * (g - e);
            }
            if ng > 0.0 && ne > 0.0 && dot.is_finite() {
                cos_sum += dot / (ng.sqrt() * ne.sqrt());
                var_sum += diff / ne;
                n_compared += 1;
            }
        }
        let window = i / plan.apply_every; // 0-based: feeds update window + 1
        if window < plan.updates {
            let slot = (window - applied) as usize;
            if windows.len() <= slot {
                windows.resize(slot + 1, vec![0.0; p]);
            }
            for (s, e) in windows[slot].iter_mut().zip(&est) {
                *s += e;
            }
        }
        // The host publishes the updates the timeline says were done by now; the serving
        // tiles load them at once.
        let done = i + 1;
        while applied < plan.updates && visible(applied + 1) <= done {
            let Some(sum) = windows.pop_front() else {
                break;
            };
            let mean: Vec<f64> = sum.iter().map(|s| s / plan.apply_every as f64).collect();
            host.step(&mut master.w, &mean);
            applied += 1;
            served = TileNet::load(&master, plan.eval_fmt, plan.eval_acc);
            queue.push_back((visible(applied), master.clone()));
        }
        let seen = done * plan.batch;
        if seen >= next_eval || done == plan.estimates {
            curve.push(evaluate(&served, seen));
            next_eval = (seen / plan.eval_every + 1) * plan.eval_every;
        }
    }

    let finite = |x: f64| x.is_finite().then_some(x);
    let final_loss = curve.last().and_then(|c| finite(c.loss));
    let samples_to_loss = setup.target_loss.and_then(|target| {
        curve
            .iter()
            .find(|c| c.loss.is_finite() && c.loss <= target)
            .map(|c| c.samples_seen)
    });
    let diverged_at_samples = curve
        .iter()
        .find(|c| !c.loss.is_finite())
        .map(|c| c.samples_seen);
    let part = &w.partitions[counts.partition];
    Ok(LearningValues {
        values_skipped: None,
        values_partition: Some(part.name.clone()),
        task: Some(setup.task.as_str()),
        loss_function: Some(match setup.task {
            Task::TeacherStudent { .. } => "squared_error",
            Task::GaussianMixture { .. } => "cross_entropy",
        }),
        values_format: Some(plan.fmt.to_string()),
        evaluated_in: Some(plan.eval_fmt.to_string()),
        optimizer: Some(opt.rule.as_str()),
        method: Some(part.kind.method()),
        perturbation: (plan.method != Method::Backprop).then_some(dist.as_str()),
        per_sample: matches!(
            plan.method,
            Method::Activity { .. }
                | Method::Weights {
                    per_sample: true,
                    ..
                }
        ),
        antithetic: setup.antithetic && plan.method != Method::Backprop,
        parameters: p as u64,
        samples_simulated_in_values: plan.estimates * plan.batch,
        estimates_in_values: plan.estimates,
        updates_in_values: applied,
        eval_every: plan.eval_every,
        eval_samples: plan.eval_samples,
        loss_curve: curve,
        final_loss,
        target_loss: setup.target_loss,
        samples_to_loss,
        diverged_at_samples,
        gradient_cosine_mean: (n_compared > 0).then(|| cos_sum / n_compared as f64),
        gradient_relative_variance: (n_compared > 0).then(|| var_sum / n_compared as f64),
        gradient_estimates_compared: n_compared,
    })
}

/// The `learning` values of a run: the loop of its first learning partition, or the reason
/// there is none; `report` (if any) is told how far the loop has come.
pub fn values_of_run(
    sc: &Scenario,
    schedule: &TileSchedule,
    t: &Timeline,
    report: Option<&crate::engine::Progress>,
) -> LearningValues {
    let result = LearnerCounts::from_run(sc, schedule, t)
        .ok_or(LearningError::NoLearningPartition)
        .and_then(|pr| learn(sc, &pr, report));
    result.unwrap_or_else(|e| LearningValues {
        values_skipped: Some(e.to_string()),
        ..LearningValues::default()
    })
}
