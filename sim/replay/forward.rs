//! The forward pass on real values, twice: in f64 and in the partition's format, from the
//! same f64 inputs and weights; for learning partitions also the tangent (JVP) pass of
//! forward gradients, and one host SGD step.
//!
//! In the format, inputs and weights are rounded to the format, every dot product is
//! [`Format::dot`] with the partition's [`Accumulation`], and each layer's output row is
//! the accumulator result with the activation applied, rounded to the format once (int
//! formats: one symmetric max-abs scale per output row; weights: one per output column, the
//! same scales [`Format::dot`] uses). In f64 everything is plain f64 arithmetic.
//!
//! Work is bounded per layer (see [`super::MAX_SAMPLES`] and the other limits): when a layer
//! is larger, a deterministic, evenly spread subset of its output rows and columns is
//! computed, and the next layer starts again from fresh synthetic inputs (with a zero
//! tangent), because its real inputs were not all computed.

use crate::model::{Layer, LayerOp, Scenario};
use crate::numerics::quire::ExactSum;
use crate::numerics::{Accumulation, Format, PositSpec, QuantizeOptions, Quire, ieee};
use crate::spec::{ActivationSpec, ElementwiseOpSpec, LayerSpec};

use super::crossings::Pairs;
use super::data::{Stream, normals, rng, spread};
use super::{
    MAX_ACCUMULATION_DOTS, MAX_MACS_PER_LAYER, MAX_OUTPUTS_PER_LAYER, MAX_WEIGHTS_PER_LAYER,
};

/// What one partition's value pass is asked to do.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Setup {
    /// The partition's value format.
    pub fmt: Format,
    /// Its accumulation.
    pub acc: Accumulation,
    /// Scenario seed.
    pub seed: u64,
    /// Partition index (part of every stream's seed).
    pub partition: usize,
    /// Samples of the stream measured.
    pub samples: usize,
    /// Tangents per sample (0 for inference partitions).
    pub perturbations: u32,
    /// Host learning rate.
    pub lr: f64,
}

/// The measured pairs of every crossing.
#[derive(Debug, Default)]
pub(crate) struct Measured {
    /// f64 weights vs the same weights in the format.
    pub weights: Pairs,
    /// The last layer's output: f64 pass vs format pass.
    pub activations: Pairs,
    /// Exact dot products of the quantized operands vs the partition's accumulator.
    pub accumulation: Pairs,
    /// Forward-gradient estimates: f64 vs format.
    pub gradients: Pairs,
    /// f64 weights after one SGD step vs the same narrowed to the format.
    pub updated: Pairs,
}

/// Values rounded to the format, with the int scale when the format is an int.
pub(crate) fn round(fmt: Format, xs: &[f64]) -> (Vec<f64>, Option<f64>) {
    match fmt.quantize(xs, &QuantizeOptions::default()) {
        Ok(q) => {
            let scale = q.int_params.first().map(|p| p.scale);
            (q.values, scale)
        }
        // Only int formats can fail, and only on options we do not use; keep f64.
        Err(_) => (xs.to_vec(), None),
    }
}

/// The spacing of the accumulator the format's native dot product uses.
fn accumulator_ulp(fmt: Format, x: f64, int_step: Option<f64>) -> f64 {
    match fmt {
        Format::Bf16 | Format::F32 => Format::F32.ulp_at(x),
        Format::Int8 | Format::Int4 => int_step.unwrap_or(1.0),
        _ => fmt.ulp_at(x),
    }
}

/// [`Format::dot`] of operands that are already values of the format. For bf16 and f32
/// with the native accumulator it skips re-rounding the operands (a no-op on format
/// values) and gives the same f32 sum; everything else is [`Format::dot`] itself.
pub(crate) fn dot(fmt: Format, a: &[f64], b: &[f64], acc: Accumulation) -> f64 {
    match (fmt, acc) {
        (Format::Bf16 | Format::F32, Accumulation::Native) => f64::from(
            a.iter()
                .zip(b)
                .fold(0.0f32, |s, (&x, &y)| s + (x as f32) * (y as f32)),
        ),
        _ => fmt.dot(a, b, acc),
    }
}

/// Posit bit patterns of format values when the format is a posit (empty otherwise), so
/// the hot dot products convert each operand once instead of once per dot product.
fn patterns(spec: Option<PositSpec>, xs: &[f64]) -> Vec<u32> {
    spec.map_or_else(Vec::new, |s| xs.iter().map(|&x| s.from_f64(x)).collect())
}

/// [`dot`] with the operands' posit patterns from [`patterns`]: for posits the same
/// arithmetic as [`Format::dot`] (products rounded and summed in the posit, or a quire),
/// starting from the patterns.
fn dot_prepared(
    fmt: Format,
    spec: Option<PositSpec>,
    (a, pa): (&[f64], &[u32]),
    (b, pb): (&[f64], &[u32]),
    acc: Accumulation,
) -> f64 {
    let Some(s) = spec else {
        return dot(fmt, a, b, acc);
    };
    match acc {
        Accumulation::Quire => {
            let mut q = Quire::new(s);
            for (&x, &y) in pa.iter().zip(pb) {
                q.add_product(x, y);
            }
            s.to_f64(q.to_posit())
        }
        Accumulation::Native => {
            let r = pa
                .iter()
                .zip(pb)
                .fold(0, |acc, (&x, &y)| s.add(acc, s.mul(x, y)));
            s.to_f64(r)
        }
    }
}

fn dot64(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

pub(crate) fn activate(a: ActivationSpec, x: f64) -> f64 {
    match a {
        ActivationSpec::None => x,
        ActivationSpec::Relu => x.max(0.0),
        ActivationSpec::Tanh => x.tanh(),
        ActivationSpec::Sigmoid => 1.0 / (1.0 + (-x).exp()),
        ActivationSpec::Gelu => {
            let c = (2.0 / std::f64::consts::PI).sqrt();
            0.5 * x * (1.0 + (c * (x + 0.044_715 * x * x * x)).tanh())
        }
    }
}

pub(crate) fn derivative(a: ActivationSpec, x: f64) -> f64 {
    match a {
        ActivationSpec::None => 1.0,
        ActivationSpec::Relu => f64::from(u8::from(x > 0.0)),
        ActivationSpec::Tanh => 1.0 - x.tanh().powi(2),
        ActivationSpec::Sigmoid => {
            let s = activate(a, x);
            s * (1.0 - s)
        }
        ActivationSpec::Gelu => {
            let c = (2.0 / std::f64::consts::PI).sqrt();
            let t = (c * (x + 0.044_715 * x * x * x)).tanh();
            0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * c * (1.0 + 3.0 * 0.044_715 * x * x)
        }
    }
}

/// Per-sample values flowing between layers: f64 and format, primal and one tangent per
/// perturbation.
#[derive(Debug, Clone, Default)]
struct Values {
    x64: Vec<f64>,
    xq: Vec<f64>,
    t64: Vec<Vec<f64>>,
    tq: Vec<Vec<f64>>,
}

impl Values {
    fn with_tangents(p: usize) -> Self {
        Values {
            t64: vec![Vec::new(); p],
            tq: vec![Vec::new(); p],
            ..Values::default()
        }
    }

    fn extend(&mut self, o: &Values) {
        self.x64.extend_from_slice(&o.x64);
        self.xq.extend_from_slice(&o.xq);
        for (a, b) in self.t64.iter_mut().zip(&o.t64) {
            a.extend_from_slice(b);
        }
        for (a, b) in self.tq.iter_mut().zip(&o.tq) {
            a.extend_from_slice(b);
        }
    }
}

/// One layer's weights as measured (the sampled columns only).
struct Weights {
    w64: Vec<Vec<f64>>,
    v64: Vec<Vec<Vec<f64>>>,
    vq: Vec<Vec<Vec<f64>>>,
    stride: usize,
}

struct Pass<'a> {
    s: Setup,
    sc: &'a Scenario,
    m: Measured,
    weights: Vec<Weights>,
    /// Format ulps of the last layer's output values.
    out_ulp: Vec<f64>,
}

impl Pass<'_> {
    fn p(&self) -> usize {
        self.s.perturbations as usize
    }

    /// Fresh synthetic inputs: `len` values of N(0, 1), zero tangents.
    fn fresh(&self, layer: usize, key: u64, len: usize) -> Values {
        let x64 = normals(
            &mut rng(self.s.seed, self.s.partition, layer, Stream::Input, key),
            len,
            1.0,
        );
        let (xq, _) = round(self.s.fmt, &x64);
        Values {
            x64,
            xq,
            t64: vec![vec![0.0; len]; self.p()],
            tq: vec![vec![0.0; len]; self.p()],
        }
    }

    /// Row `r` (length `k`) of a matmul's left operand, taken from a sample's flat input.
    fn row(spec: &LayerSpec, flat: &[f64], r: usize, k: usize) -> Vec<f64> {
        match *spec {
            LayerSpec::Conv2d {
                w,
                c_in,
                kernel,
                stride,
                ..
            } => {
                let (w, c, kk, st) = (w as usize, c_in as usize, kernel as usize, stride as usize);
                let wo = (w - kk) / st + 1;
                let (oy, ox) = (r / wo, r % wo);
                let mut out = Vec::with_capacity(k);
                for dy in 0..kk {
                    for dx in 0..kk {
                        let base = ((oy * st + dy) * w + ox * st + dx) * c;
                        out.extend_from_slice(&flat[base..base + c]);
                    }
                }
                out
            }
            _ => flat[r * k..(r + 1) * k].to_vec(),
        }
    }

    fn row_values(spec: &LayerSpec, v: &Values, r: usize, k: usize) -> Values {
        Values {
            x64: Self::row(spec, &v.x64, r, k),
            xq: Self::row(spec, &v.xq, r, k),
            t64: v.t64.iter().map(|t| Self::row(spec, t, r, k)).collect(),
            tq: v.tq.iter().map(|t| Self::row(spec, t, r, k)).collect(),
        }
    }

    /// Per-sample outputs this layer computed, `None` entries being impossible; the second
    /// value says whether every output was computed (so the next layer can chain).
    fn matmul(
        &mut self,
        layer: &Layer,
        spec: &LayerSpec,
        (m, k, n): (u64, u64, u64),
        input: Option<Vec<Values>>,
    ) -> (Vec<Values>, bool) {
        let (s, fmt, acc, pn) = (self.s, self.s.fmt, self.s.acc, self.p());
        let samples = s.samples as u64;
        let budget = (MAX_OUTPUTS_PER_LAYER.min(MAX_MACS_PER_LAYER / k)).max(samples) / samples;
        let cols = spread(n, budget.max(1));
        let rows = spread(m, (budget / cols.len() as u64).max(1));
        let full = rows.len() as u64 == m && cols.len() as u64 == n;
        let ku = k as usize;

        // Weights (sampled columns), their format versions and the tangents.
        let mut w64 = Vec::with_capacity(cols.len());
        let mut wq = Vec::with_capacity(cols.len());
        let mut v64 = vec![Vec::with_capacity(cols.len()); pn];
        let mut vq = vec![Vec::with_capacity(cols.len()); pn];
        let mut wvq = vec![Vec::with_capacity(cols.len()); pn];
        let pspec = fmt.posit_spec().and_then(Result::ok);
        let mut wq_bits = Vec::with_capacity(cols.len());
        let mut wvq_bits = vec![Vec::with_capacity(cols.len()); pn];
        let stride = (cols.len() * ku).div_ceil(MAX_WEIGHTS_PER_LAYER).max(1);
        let std = (1.0 / k as f64).sqrt();
        for (ci, &j) in cols.iter().enumerate() {
            let w = normals(
                &mut rng(s.seed, s.partition, layer.index, Stream::Weight, j),
                ku,
                std,
            );
            let (q, scale) = round(fmt, &w);
            for kk in 0..ku {
                if (ci * ku + kk).is_multiple_of(stride) {
                    self.m.weights.push(fmt, w[kk], q[kk], scale);
                }
            }
            for p in 0..pn {
                let v = normals(
                    &mut rng(
                        s.seed,
                        s.partition,
                        layer.index,
                        Stream::Tangent(p as u32),
                        j,
                    ),
                    ku,
                    1.0,
                );
                let (vr, _) = round(fmt, &v);
                let wv = [q.as_slice(), vr.as_slice()].concat();
                wvq_bits[p].push(patterns(pspec, &wv));
                wvq[p].push(wv);
                v64[p].push(v);
                vq[p].push(vr);
            }
            w64.push(w);
            wq_bits.push(patterns(pspec, &q));
            wq.push(q);
        }

        let total_dots = (samples as usize) * rows.len() * cols.len();
        let acc_stride = total_dots.div_ceil(MAX_ACCUMULATION_DOTS).max(1);
        let mut dot_index = 0usize;
        let mut outs = Vec::with_capacity(s.samples);
        self.out_ulp.clear();
        for si in 0..s.samples {
            let mut out = Values::with_tangents(pn);
            for &r in &rows {
                let x = match &input {
                    Some(v) => Self::row_values(spec, &v[si], r as usize, ku),
                    None => self.fresh(layer.index, ((si as u64) << 32) | r, ku),
                };
                let int_step = match fmt {
                    Format::Int8 | Format::Int4 => Some(round(fmt, &x.xq)),
                    _ => None,
                };
                let txq: Vec<Vec<f64>> = (0..pn)
                    .map(|p| [x.tq[p].as_slice(), x.xq.as_slice()].concat())
                    .collect();
                let xq_bits = patterns(pspec, &x.xq);
                let txq_bits: Vec<Vec<u32>> = txq.iter().map(|t| patterns(pspec, t)).collect();
                let mut z64 = Vec::with_capacity(cols.len());
                let mut zq = Vec::with_capacity(cols.len());
                let mut zt64 = vec![Vec::with_capacity(cols.len()); pn];
                let mut ztq = vec![Vec::with_capacity(cols.len()); pn];
                for ci in 0..cols.len() {
                    z64.push(dot64(&x.x64, &w64[ci]));
                    let y =
                        dot_prepared(fmt, pspec, (&x.xq, &xq_bits), (&wq[ci], &wq_bits[ci]), acc);
                    zq.push(y);
                    if dot_index.is_multiple_of(acc_stride) {
                        // The exact dot product of the operands the format dot used.
                        let (a, sa) = match &int_step {
                            Some((a, sa)) => (a.as_slice(), *sa),
                            None => (x.xq.as_slice(), None),
                        };
                        let (b, sb) = match fmt {
                            Format::Int8 | Format::Int4 => round(fmt, &wq[ci]),
                            _ => (wq[ci].clone(), None),
                        };
                        let exact = match fmt {
                            // The operands are integer codes times scales: their exact dot
                            // product is the sum of the codes' products times the scales,
                            // rounded once (the format's own exact accumulation). The exact
                            // sum of the f64 values code·scale, each rounded, is not: where
                            // the codes' products cancel to 0 it left about 1e-17, a 100 %
                            // relative error of an exact 0.
                            Format::Int8 | Format::Int4 => {
                                fmt.dot(&x.xq, &wq[ci], Accumulation::Quire)
                            }
                            _ => {
                                let mut e = ExactSum::new();
                                for (&p, &q) in a.iter().zip(&b) {
                                    e.add_product(p, q);
                                }
                                e.round_to(&ieee::F64)
                            }
                        };
                        let step = sa.zip(sb).map(|(a, b)| a * b);
                        self.m
                            .accumulation
                            .push_ulp(exact, y, accumulator_ulp(fmt, exact, step));
                    }
                    dot_index += 1;
                    for p in 0..pn {
                        zt64[p].push(dot64(&x.t64[p], &w64[ci]) + dot64(&x.x64, &v64[p][ci]));
                        ztq[p].push(dot_prepared(
                            fmt,
                            pspec,
                            (&txq[p], &txq_bits[p]),
                            (&wvq[p][ci], &wvq_bits[p][ci]),
                            acc,
                        ));
                    }
                }
                let a = layer.activation;
                let y64: Vec<f64> = z64.iter().map(|&z| activate(a, z)).collect();
                let yq_pre: Vec<f64> = zq.iter().map(|&z| activate(a, z)).collect();
                let (yq, scale) = round(fmt, &yq_pre);
                self.out_ulp
                    .extend(y64.iter().map(|&y| scale.unwrap_or_else(|| fmt.ulp_at(y))));
                let mut row = Values {
                    x64: y64,
                    xq: yq,
                    ..Values::default()
                };
                for p in 0..pn {
                    row.t64.push(
                        z64.iter()
                            .zip(&zt64[p])
                            .map(|(&z, &t)| derivative(a, z) * t)
                            .collect(),
                    );
                    let tq: Vec<f64> = zq
                        .iter()
                        .zip(&ztq[p])
                        .map(|(&z, &t)| derivative(a, z) * t)
                        .collect();
                    row.tq.push(round(fmt, &tq).0);
                }
                out.extend(&row);
            }
            outs.push(out);
        }
        self.weights.push(Weights {
            w64,
            v64,
            vq,
            stride,
        });
        (outs, full)
    }

    fn elementwise(
        &mut self,
        layer: &Layer,
        op: ElementwiseOpSpec,
        size: u64,
        input: Option<Vec<Values>>,
    ) -> (Vec<Values>, bool) {
        let (s, fmt, pn) = (self.s, self.s.fmt, self.p());
        let per_sample = (MAX_OUTPUTS_PER_LAYER / s.samples as u64).max(1);
        let idx = spread(size, per_sample);
        let full = idx.len() as u64 == size;
        let mut outs = Vec::with_capacity(s.samples);
        self.out_ulp.clear();
        for si in 0..s.samples {
            let x = match &input {
                Some(v) if full => v[si].clone(),
                Some(v) => Values {
                    x64: idx.iter().map(|&i| v[si].x64[i as usize]).collect(),
                    xq: idx.iter().map(|&i| v[si].xq[i as usize]).collect(),
                    t64: v[si]
                        .t64
                        .iter()
                        .map(|t| idx.iter().map(|&i| t[i as usize]).collect())
                        .collect(),
                    tq: v[si]
                        .tq
                        .iter()
                        .map(|t| idx.iter().map(|&i| t[i as usize]).collect())
                        .collect(),
                },
                None => self.fresh(layer.index, si as u64, idx.len()),
            };
            let e64 = normals(
                &mut rng(s.seed, s.partition, layer.index, Stream::Operand, si as u64),
                idx.len(),
                1.0,
            );
            let (eq, _) = round(fmt, &e64);
            let f = |x: f64, e: f64| match op {
                ElementwiseOpSpec::Add => x + e,
                ElementwiseOpSpec::Mul => x * e,
                ElementwiseOpSpec::Scale => 0.5 * x,
                ElementwiseOpSpec::Relu => x.max(0.0),
            };
            let df = |x: f64, e: f64, t: f64| match op {
                ElementwiseOpSpec::Add => t,
                ElementwiseOpSpec::Mul => t * e,
                ElementwiseOpSpec::Scale => 0.5 * t,
                ElementwiseOpSpec::Relu => t * f64::from(u8::from(x > 0.0)),
            };
            let y64: Vec<f64> = x.x64.iter().zip(&e64).map(|(&x, &e)| f(x, e)).collect();
            let pre: Vec<f64> = x.xq.iter().zip(&eq).map(|(&x, &e)| f(x, e)).collect();
            let (yq, scale) = round(fmt, &pre);
            self.out_ulp
                .extend(y64.iter().map(|&y| scale.unwrap_or_else(|| fmt.ulp_at(y))));
            let mut out = Values {
                x64: y64,
                xq: yq,
                ..Values::default()
            };
            for p in 0..pn {
                out.t64.push(
                    (0..idx.len())
                        .map(|i| df(x.x64[i], e64[i], x.t64[p][i]))
                        .collect(),
                );
                let tq: Vec<f64> = (0..idx.len())
                    .map(|i| df(x.xq[i], eq[i], x.tq[p][i]))
                    .collect();
                out.tq.push(round(fmt, &tq).0);
            }
            outs.push(out);
        }
        (outs, full)
    }

    /// Forward gradients of ½‖y − t‖² (t: seeded teacher outputs) and one SGD step.
    fn learn(&mut self, last: &[Values]) {
        let (s, fmt, acc, pn) = (self.s, self.s.fmt, self.s.acc, self.p());
        let mut y = Values::with_tangents(pn);
        for v in last {
            y.extend(v);
        }
        let t = normals(
            &mut rng(s.seed, s.partition, 0, Stream::Teacher, 0),
            y.x64.len(),
            1.0,
        );
        let r64: Vec<f64> = y.x64.iter().zip(&t).map(|(a, b)| a - b).collect();
        let rq_pre: Vec<f64> = y.xq.iter().zip(&t).map(|(a, b)| a - b).collect();
        let (rq, _) = round(fmt, &rq_pre);
        // ⟨∇L, v⟩ per perturbation, in f64 and in the format.
        let d64: Vec<f64> = (0..pn).map(|p| dot64(&r64, &y.t64[p])).collect();
        let dq: Vec<f64> = (0..pn).map(|p| dot(fmt, &rq, &y.tq[p], acc)).collect();
        for lw in &self.weights {
            for ci in 0..lw.w64.len() {
                let k = lw.w64[ci].len();
                // Only the measured weights are needed (g = d·v is elementwise), except
                // that an int format's scale depends on the whole column.
                let int = matches!(fmt, Format::Int8 | Format::Int4);
                let work: Vec<usize> = (0..k)
                    .filter(|kk| int || (ci * k + kk).is_multiple_of(lw.stride))
                    .collect();
                if work.is_empty() {
                    continue;
                }
                let mut mean = vec![0.0; work.len()];
                for p in 0..pn {
                    let pre: Vec<f64> = work.iter().map(|&kk| dq[p] * lw.vq[p][ci][kk]).collect();
                    let (gq, scale) = round(fmt, &pre);
                    for (i, &kk) in work.iter().enumerate() {
                        if (ci * k + kk).is_multiple_of(lw.stride) {
                            let g64 = d64[p] * lw.v64[p][ci][kk];
                            self.m.gradients.push(fmt, g64, gq[i], scale);
                        }
                        mean[i] += gq[i] / pn as f64;
                    }
                }
                let w_new: Vec<f64> = work
                    .iter()
                    .zip(&mean)
                    .map(|(&kk, g)| lw.w64[ci][kk] - s.lr * g)
                    .collect();
                let (nq, scale) = round(fmt, &w_new);
                for (i, &kk) in work.iter().enumerate() {
                    if (ci * k + kk).is_multiple_of(lw.stride) {
                        self.m.updated.push(fmt, w_new[i], nq[i], scale);
                    }
                }
            }
        }
    }
}

/// Runs the value pass of one partition over the scenario's model.
pub(crate) fn measure(sc: &Scenario, s: Setup) -> Measured {
    let mut pass = Pass {
        s,
        sc,
        m: Measured::default(),
        weights: Vec::new(),
        out_ulp: Vec::new(),
    };
    let mut chain: Option<Vec<Values>> = None;
    for layer in &pass.sc.workload.layers {
        let spec = &pass.sc.workload_spec.model[layer.index];
        let input = chain.take();
        let (out, full) = match (layer.op, spec) {
            (LayerOp::Matmul { m, k, n }, _) => pass.matmul(layer, spec, (m, k, n), input),
            (LayerOp::Elementwise { size }, LayerSpec::Elementwise { op, .. }) => {
                pass.elementwise(layer, *op, size, input)
            }
            (LayerOp::Elementwise { size }, _) => {
                pass.elementwise(layer, ElementwiseOpSpec::Relu, size, input)
            }
        };
        if layer.index + 1 == pass.sc.workload.layers.len() {
            for v in &out {
                for (&a, &b) in v.x64.iter().zip(&v.xq) {
                    pass.m.activations.reference.push(a);
                    pass.m.activations.approx.push(b);
                }
            }
            pass.m.activations.ulp = std::mem::take(&mut pass.out_ulp);
            if s.perturbations > 0 {
                pass.learn(&out);
            }
        }
        chain = full.then_some(out);
    }
    pass.m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_dot_matches_the_library_on_format_values() {
        let mut r = rng(3, 0, 0, Stream::Input, 0);
        for fmt in [Format::Bf16, Format::F32] {
            for len in [1, 7, 128, 513] {
                let (a, _) = round(fmt, &normals(&mut r, len, 1.0));
                let (b, _) = round(fmt, &normals(&mut r, len, 3.0));
                let want = fmt.dot(&a, &b, Accumulation::Native);
                assert_eq!(
                    dot(fmt, &a, &b, Accumulation::Native).to_bits(),
                    want.to_bits()
                );
            }
        }
    }

    #[test]
    fn prepared_posit_dot_matches_the_library() {
        let mut r = rng(4, 0, 0, Stream::Input, 0);
        for fmt in [Format::POSIT16, Format::BPOSIT16, Format::POSIT8] {
            let spec = fmt.posit_spec().and_then(Result::ok);
            for acc in [Accumulation::Native, Accumulation::Quire] {
                let (a, _) = round(fmt, &normals(&mut r, 300, 1.0));
                let (b, _) = round(fmt, &normals(&mut r, 300, 0.1));
                let got = dot_prepared(
                    fmt,
                    spec,
                    (&a, &patterns(spec, &a)),
                    (&b, &patterns(spec, &b)),
                    acc,
                );
                assert_eq!(
                    got.to_bits(),
                    fmt.dot(&a, &b, acc).to_bits(),
                    "{fmt} {acc:?}"
                );
            }
        }
    }

    #[test]
    fn activation_derivatives_match_finite_differences() {
        for a in [
            ActivationSpec::None,
            ActivationSpec::Relu,
            ActivationSpec::Tanh,
            ActivationSpec::Sigmoid,
            ActivationSpec::Gelu,
        ] {
            for x in [-2.0, -0.3, 0.4, 1.7] {
                let h = 1e-6;
                let fd = (activate(a, x + h) - activate(a, x - h)) / (2.0 * h);
                assert!((fd - derivative(a, x)).abs() < 1e-6, "{a:?} at {x}");
            }
        }
    }
}
