//! The learned network: a chain of dense layers with f64 master weights, its exact f64
//! gradient (backpropagation, the reference every estimate is compared with), its f64
//! directional derivative (forward mode), and the same network as a learning or serving
//! tile holds it: weights rounded to the tile's format, every dot product in the tile's
//! accumulator, every layer output rounded to the format.
//!
//! Weights are stored column by column (one column of `k` inputs per output), layer after
//! layer; a tangent or a gradient is a flat vector in the same order.

use rand_pcg::Pcg64Mcg;

use crate::model::{Layer, LayerOp};
use crate::numerics::{Accumulation, Format, Subnormals, bf16};
use crate::replay::data::normals;
use crate::replay::forward::{activate, derivative, dot, round};
use crate::spec::{ActivationSpec, ElementwiseOpSpec, LayerSpec};

use super::LearningError;

/// One dense layer's shape and activation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DenseShape {
    /// Inputs.
    pub k: usize,
    /// Outputs.
    pub n: usize,
    /// Activation after the layer.
    pub act: ActivationSpec,
}

/// The shape of a learnable model: its dense layers in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Shape {
    /// Layers.
    pub layers: Vec<DenseShape>,
}

impl Shape {
    /// The model's layers as a dense chain. `Dense` layers map one to one; an elementwise
    /// `Relu` right after a dense layer without activation becomes that layer's activation.
    /// Anything else is not supported by the learning loop (yet).
    pub fn from_model(layers: &[Layer], spec: &[LayerSpec]) -> Result<Shape, LearningError> {
        let mut out: Vec<DenseShape> = Vec::new();
        for (l, s) in layers.iter().zip(spec) {
            match (l.op, s) {
                (LayerOp::Matmul { m: 1, k, n }, LayerSpec::Dense { .. }) => {
                    out.push(DenseShape {
                        k: k as usize,
                        n: n as usize,
                        act: l.activation,
                    });
                }
                (
                    LayerOp::Elementwise { .. },
                    LayerSpec::Elementwise {
                        op: ElementwiseOpSpec::Relu,
                        ..
                    },
                ) if out.last().is_some_and(|d| d.act == ActivationSpec::None) => {
                    if let Some(d) = out.last_mut() {
                        d.act = ActivationSpec::Relu;
                    }
                }
                _ => {
                    return Err(LearningError::UnsupportedLayer {
                        layer: l.index,
                        kind: l.kind,
                    });
                }
            }
        }
        if out.is_empty() {
            return Err(LearningError::NoWeights);
        }
        Ok(Shape { layers: out })
    }

    /// Pre-activations of one sample, all layers together (what activity perturbations
    /// perturb).
    pub fn activations(&self) -> usize {
        self.layers.iter().map(|d| d.n).sum()
    }

    /// Weights in the model.
    pub fn params(&self) -> usize {
        self.layers.iter().map(|d| d.k * d.n).sum()
    }

    /// Inputs per sample.
    pub fn inputs(&self) -> usize {
        self.layers.first().map_or(0, |d| d.k)
    }

    /// Outputs per sample.
    pub fn outputs(&self) -> usize {
        self.layers.last().map_or(0, |d| d.n)
    }
}

/// The loss of one sample.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Target {
    /// Squared error against these outputs: `L = ‖y − t‖² / (2·outputs)`.
    Values(Vec<f64>),
    /// Softmax cross-entropy against this class.
    Class(usize),
}

impl Target {
    /// Loss of outputs `y`.
    pub fn loss(&self, y: &[f64]) -> f64 {
        match self {
            Target::Values(t) => {
                let n = t.len().max(1) as f64;
                y.iter().zip(t).map(|(a, b)| (a - b) * (a - b)).sum::<f64>() / (2.0 * n)
            }
            Target::Class(c) => {
                let m = y.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let lse = m + y.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
                lse - y.get(*c).copied().unwrap_or(f64::NAN)
            }
        }
    }

    /// dL/dy at outputs `y`.
    pub fn grad(&self, y: &[f64]) -> Vec<f64> {
        match self {
            Target::Values(t) => {
                let n = t.len().max(1) as f64;
                y.iter().zip(t).map(|(a, b)| (a - b) / n).collect()
            }
            Target::Class(c) => {
                let m = y.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let e: Vec<f64> = y.iter().map(|v| (v - m).exp()).collect();
                let s: f64 = e.iter().sum();
                e.iter()
                    .enumerate()
                    .map(|(i, v)| v / s - f64::from(u8::from(i == *c)))
                    .collect()
            }
        }
    }

    /// Whether the largest output is the class (classification only).
    pub fn correct(&self, y: &[f64]) -> Option<bool> {
        match self {
            Target::Values(_) => None,
            Target::Class(_) if y.iter().any(|v| v.is_nan()) => Some(false),
            Target::Class(c) => {
                let best = y
                    .iter()
                    .enumerate()
                    .fold(
                        (0, f64::NEG_INFINITY),
                        |b, (i, &v)| if v > b.1 { (i, v) } else { b },
                    );
                Some(best.0 == *c)
            }
        }
    }
}

/// A network with f64 weights (the host's master weights, or a teacher).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Net {
    /// Shape.
    pub shape: Shape,
    /// All weights, flat (see the module docs).
    pub w: Vec<f64>,
}

impl Net {
    /// Weights drawn N(0, σ²) per layer with σ² = 2/k before a ReLU and 1/k otherwise
    /// (He / LeCun initialisation), from `rng`.
    pub fn init(shape: &Shape, rng: &mut Pcg64Mcg) -> Net {
        let mut w = Vec::with_capacity(shape.params());
        for d in &shape.layers {
            let gain = if d.act == ActivationSpec::Relu {
                2.0
            } else {
                1.0
            };
            w.extend(normals(rng, d.k * d.n, (gain / d.k as f64).sqrt()));
        }
        Net {
            shape: shape.clone(),
            w,
        }
    }

    /// Offsets of each layer's weights in the flat vector.
    fn offsets(&self) -> Vec<usize> {
        let mut o = Vec::with_capacity(self.shape.layers.len());
        let mut at = 0;
        for d in &self.shape.layers {
            o.push(at);
            at += d.k * d.n;
        }
        o
    }

    /// Forward pass in f64: the input and every layer's pre-activations and outputs.
    fn forward_all(&self, x: &[f64]) -> (Vec<Vec<f64>>, Vec<Vec<f64>>) {
        let mut inputs = vec![x.to_vec()];
        let mut pre = Vec::with_capacity(self.shape.layers.len());
        for (d, off) in self.shape.layers.iter().zip(self.offsets()) {
            let a = inputs.last().map_or(&[][..], Vec::as_slice);
            let z: Vec<f64> = (0..d.n)
                .map(|j| dot64(a, &self.w[off + j * d.k..off + (j + 1) * d.k]))
                .collect();
            inputs.push(z.iter().map(|&v| activate(d.act, v)).collect());
            pre.push(z);
        }
        (inputs, pre)
    }

    /// Outputs in f64.
    pub fn forward(&self, x: &[f64]) -> Vec<f64> {
        self.forward_all(x).0.pop().unwrap_or_default()
    }

    /// Loss and its exact gradient with respect to every weight, in f64 (backpropagation).
    pub fn gradient(&self, x: &[f64], target: &Target) -> (f64, Vec<f64>) {
        let (inputs, pre) = self.forward_all(x);
        let y = inputs.last().map_or(&[][..], Vec::as_slice);
        let loss = target.loss(y);
        let mut g = vec![0.0; self.w.len()];
        let mut delta = target.grad(y);
        let offsets = self.offsets();
        for li in (0..self.shape.layers.len()).rev() {
            let d = self.shape.layers[li];
            let off = offsets[li];
            // Through the activation.
            for (dj, &z) in delta.iter_mut().zip(&pre[li]) {
                *dj *= derivative(d.act, z);
            }
            let a = &inputs[li];
            let mut back = vec![0.0; d.k];
            for (j, &dj) in delta.iter().enumerate() {
                let col = off + j * d.k;
                for i in 0..d.k {
                    g[col + i] = dj * a[i];
                    back[i] += dj * self.w[col + i];
                }
            }
            delta = back;
        }
        (loss, g)
    }

    /// ⟨∇L, v⟩ in f64 by forward-mode differentiation (one JVP), without forming ∇L.
    #[cfg(test)]
    pub fn directional(&self, x: &[f64], target: &Target, v: &[f64]) -> f64 {
        let mut a = x.to_vec();
        let mut t = vec![0.0; x.len()];
        for (d, off) in self.shape.layers.iter().zip(self.offsets()) {
            let mut na = Vec::with_capacity(d.n);
            let mut nt = Vec::with_capacity(d.n);
            for j in 0..d.n {
                let col = off + j * d.k..off + (j + 1) * d.k;
                let z = dot64(&a, &self.w[col.clone()]);
                let zt = dot64(&t, &self.w[col.clone()]) + dot64(&a, &v[col]);
                na.push(activate(d.act, z));
                nt.push(derivative(d.act, z) * zt);
            }
            a = na;
            t = nt;
        }
        dot64(&target.grad(&a), &t)
    }
}

pub(crate) fn dot64(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Values rounded to the format (the numerics library's rounding; a direct path for bf16
/// and the exact formats, which need no scale).
pub(crate) fn round_to(fmt: Format, xs: &[f64]) -> Vec<f64> {
    match fmt {
        Format::F64 => xs.to_vec(),
        Format::F32 => xs.iter().map(|&x| f64::from(x as f32)).collect(),
        Format::Bf16 => xs
            .iter()
            .map(|&x| bf16::to_f64(bf16::from_f64(x, Subnormals::default())))
            .collect(),
        _ => round(fmt, xs).0,
    }
}

/// A flat vector rounded to a format column by column (int formats get one scale per
/// column, as the tiles hold them).
pub(crate) fn round_columns(fmt: Format, shape: &Shape, xs: &[f64]) -> Vec<f64> {
    if fmt == Format::F64 {
        return xs.to_vec();
    }
    let mut out = Vec::with_capacity(xs.len());
    let mut at = 0;
    for d in &shape.layers {
        for _ in 0..d.n {
            let end = (at + d.k).min(xs.len());
            out.extend(round_to(fmt, &xs[at..end]));
            at = end;
        }
    }
    out
}

/// Products the MAC array reduces per step into one f32 accumulator lane (the bf16
/// matrix-multiply intrinsic of AIE-ML / XDNA 2 consumes 8 values of the inner dimension per
/// output per step).
pub(crate) const MAC_DEPTH: usize = 8;

/// Sum of products of format values in the tile's native f32 accumulator: the products of
/// each group of [`MAC_DEPTH`] consecutive pairs are computed in f32 and summed pairwise,
/// then added to the accumulator. Exact products (bf16 × bf16 fits f32), f32 roundings.
fn f32_mac(acc: f32, a: &[f64], b: &[f64]) -> f32 {
    let mut s = acc;
    let mut ca = a.chunks_exact(MAC_DEPTH);
    let mut cb = b.chunks_exact(MAC_DEPTH);
    for (x, y) in (&mut ca).zip(&mut cb) {
        let p: [f32; MAC_DEPTH] = std::array::from_fn(|l| (x[l] as f32) * (y[l] as f32));
        let q = [p[0] + p[1], p[2] + p[3], p[4] + p[5], p[6] + p[7]];
        s += (q[0] + q[1]) + (q[2] + q[3]);
    }
    for (&x, &y) in ca.remainder().iter().zip(cb.remainder()) {
        s += (x as f32) * (y as f32);
    }
    s
}

/// The tile's dot product of operands already in the format: bf16 and f32 with the native
/// accumulator go through [`f32_mac`]; every other format and accumulator is
/// [`dot`] (the numerics library's arithmetic).
pub(crate) fn tile_dot(fmt: Format, acc: Accumulation, a: &[f64], b: &[f64]) -> f64 {
    match (fmt, acc) {
        (Format::Bf16 | Format::F32, Accumulation::Native) => f64::from(f32_mac(0.0, a, b)),
        _ => dot(fmt, a, b, acc),
    }
}

/// Dot product of `a1·b1 + a2·b2` in one accumulator of the format (the tangent of a
/// layer, `W·t + V·x`, accumulates both products together, as one MAC loop would).
fn dot2(fmt: Format, acc: Accumulation, a1: &[f64], b1: &[f64], a2: &[f64], b2: &[f64]) -> f64 {
    match (fmt, acc) {
        (Format::Bf16 | Format::F32, Accumulation::Native) => {
            f64::from(f32_mac(f32_mac(0.0, a1, b1), a2, b2))
        }
        (Format::F64, Accumulation::Native) => dot64(a1, b1) + dot64(a2, b2),
        _ => {
            let a = [a1, a2].concat();
            let b = [b1, b2].concat();
            dot(fmt, &a, &b, acc)
        }
    }
}

/// A network as a tile holds it: weights in the tile's format, arithmetic in the format
/// and its accumulator.
#[derive(Debug, Clone)]
pub(crate) struct TileNet {
    /// Format of weights, activations and tangents.
    pub fmt: Format,
    /// Accumulation of dot products.
    pub acc: Accumulation,
    /// Shape.
    pub shape: Shape,
    /// Weights rounded to the format (flat, column by column).
    pub w: Vec<f64>,
}

/// What a tile's forward pass keeps for the tangent passes of the same sample.
#[derive(Debug, Clone)]
pub(crate) struct TileForward {
    /// The input of every layer and the final output, in the format.
    pub inputs: Vec<Vec<f64>>,
    /// Every layer's pre-activations, as the accumulator gives them.
    pub pre: Vec<Vec<f64>>,
}

impl TileForward {
    /// The outputs.
    pub fn output(&self) -> &[f64] {
        self.inputs.last().map_or(&[][..], Vec::as_slice)
    }
}

impl TileNet {
    /// The master weights converted to the format (the host → tile crossing).
    pub fn load(net: &Net, fmt: Format, acc: Accumulation) -> TileNet {
        TileNet {
            fmt,
            acc,
            shape: net.shape.clone(),
            w: round_columns(fmt, &net.shape, &net.w),
        }
    }

    /// Forward pass in the format.
    pub fn forward(&self, x: &[f64]) -> TileForward {
        let mut inputs = vec![round_to(self.fmt, x)];
        let mut pre = Vec::with_capacity(self.shape.layers.len());
        let mut off = 0;
        for d in &self.shape.layers {
            let a = inputs.last().map_or(&[][..], Vec::as_slice);
            let z: Vec<f64> = (0..d.n)
                .map(|j| {
                    let col = off + j * d.k;
                    tile_dot(self.fmt, self.acc, a, &self.w[col..col + d.k])
                })
                .collect();
            let y: Vec<f64> = z.iter().map(|&v| activate(d.act, v)).collect();
            inputs.push(round_to(self.fmt, &y));
            pre.push(z);
            off += d.k * d.n;
        }
        TileForward { inputs, pre }
    }

    /// The directional derivative ⟨∇L, v⟩ of one sample along the weight tangent `vq`
    /// (already in the format), as the tile computes it: tangents carried layer by layer in
    /// the format, `W·t + V·x` in one accumulator, the loss gradient at the output rounded
    /// to the format and dotted with the output tangent in the accumulator.
    pub fn directional(&self, f: &TileForward, target: &Target, vq: &[f64]) -> f64 {
        let mut t: Vec<f64> = Vec::new();
        let mut off = 0;
        for (li, d) in self.shape.layers.iter().enumerate() {
            let a = &f.inputs[li];
            let mut zt = Vec::with_capacity(d.n);
            for j in 0..d.n {
                let col = off + j * d.k..off + (j + 1) * d.k;
                let v = if li == 0 {
                    // The input carries no tangent: only V·x.
                    tile_dot(self.fmt, self.acc, a, &vq[col])
                } else {
                    dot2(self.fmt, self.acc, &t, &self.w[col.clone()], a, &vq[col])
                };
                zt.push(derivative(d.act, f.pre[li][j]) * v);
            }
            t = round_to(self.fmt, &zt);
            off += d.k * d.n;
        }
        let r = round_to(self.fmt, &target.grad(f.output()));
        tile_dot(self.fmt, self.acc, &r, &t)
    }
}

impl TileNet {
    /// The gradient of one sample's loss by backpropagation, as the tile computes it: the
    /// loss gradient at the output rounded to the format, each layer's delta through the
    /// activation's derivative rounded to the format once, `dX = dY·Wᵀ` in the format's
    /// accumulator and rounded, and `dW = dY ⊗ X` as exact products of format values (the
    /// caller sums them over the batch and rounds the mean once, as a wide accumulator
    /// would).
    pub fn backward(&self, f: &TileForward, target: &Target) -> Vec<f64> {
        let mut g = vec![0.0; self.w.len()];
        let mut offsets = Vec::with_capacity(self.shape.layers.len());
        let mut at = 0;
        for d in &self.shape.layers {
            offsets.push(at);
            at += d.k * d.n;
        }
        let mut delta = round_to(self.fmt, &target.grad(f.output()));
        for li in (0..self.shape.layers.len()).rev() {
            let d = self.shape.layers[li];
            let off = offsets[li];
            let dz: Vec<f64> = delta
                .iter()
                .zip(&f.pre[li])
                .map(|(&dj, &z)| dj * derivative(d.act, z))
                .collect();
            let dz = round_to(self.fmt, &dz);
            let a = &f.inputs[li];
            for (j, &dj) in dz.iter().enumerate() {
                let col = off + j * d.k;
                for (gi, &ai) in g[col..col + d.k].iter_mut().zip(a) {
                    *gi = dj * ai;
                }
            }
            if li > 0 {
                let back: Vec<f64> = (0..d.k)
                    .map(|i| {
                        let row: Vec<f64> = (0..d.n).map(|j| self.w[off + j * d.k + i]).collect();
                        tile_dot(self.fmt, self.acc, &dz, &row)
                    })
                    .collect();
                delta = round_to(self.fmt, &back);
            }
        }
        g
    }

    /// The directional derivative of one sample's loss along activity tangents `u` (one
    /// value per pre-activation of every layer, flat, in the format), as the tile computes
    /// it: the tangent of layer l's pre-activations is `W·t + u_l` in one accumulator
    /// (`u_0` alone at the first layer), through the activation's derivative, rounded.
    pub fn activity_directional(&self, f: &TileForward, target: &Target, u: &[f64]) -> f64 {
        let mut t: Vec<f64> = Vec::new();
        let (mut off, mut uo) = (0, 0);
        for (li, d) in self.shape.layers.iter().enumerate() {
            let zt: Vec<f64> = (0..d.n)
                .map(|j| {
                    let w = if li == 0 {
                        0.0
                    } else {
                        tile_dot(
                            self.fmt,
                            self.acc,
                            &t,
                            &self.w[off + j * d.k..off + (j + 1) * d.k],
                        )
                    };
                    derivative(d.act, f.pre[li][j]) * (w + u[uo + j])
                })
                .collect();
            t = round_to(self.fmt, &zt);
            off += d.k * d.n;
            uo += d.n;
        }
        let r = round_to(self.fmt, &target.grad(f.output()));
        tile_dot(self.fmt, self.acc, &r, &t)
    }
}

/// A 5-7-3 network (tanh, then linear) for the unit tests of this folder.
#[cfg(test)]
pub(crate) fn small_shape() -> Shape {
    Shape {
        layers: vec![
            DenseShape {
                k: 5,
                n: 7,
                act: ActivationSpec::Tanh,
            },
            DenseShape {
                k: 7,
                n: 3,
                act: ActivationSpec::None,
            },
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replay::data::{Stream, rng};

    fn small() -> Net {
        Net::init(&small_shape(), &mut rng(1, 0, 0, Stream::Weight, 0))
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let net = small();
        let x = normals(&mut rng(2, 0, 0, Stream::Input, 0), 5, 1.0);
        for target in [Target::Values(vec![0.3, -1.0, 2.0]), Target::Class(1)] {
            let (_, g) = net.gradient(&x, &target);
            for i in [0, 4, 17, 34, 35, 40, net.w.len() - 1] {
                let h = 1e-6;
                let (mut a, mut b) = (net.clone(), net.clone());
                a.w[i] += h;
                b.w[i] -= h;
                let fd = (target.loss(&a.forward(&x)) - target.loss(&b.forward(&x))) / (2.0 * h);
                assert!((fd - g[i]).abs() < 1e-7, "{i}: {fd} vs {}", g[i]);
            }
        }
    }

    #[test]
    fn forward_mode_equals_gradient_dot_tangent() {
        let net = small();
        let x = normals(&mut rng(3, 0, 0, Stream::Input, 0), 5, 1.0);
        let v = normals(&mut rng(3, 0, 0, Stream::Tangent(0), 0), net.w.len(), 1.0);
        let target = Target::Values(vec![1.0, 0.0, -0.5]);
        let (_, g) = net.gradient(&x, &target);
        let d = net.directional(&x, &target, &v);
        assert!((d - dot64(&g, &v)).abs() < 1e-12 * (1.0 + d.abs()), "{d}");
        // The tile version in f64 computes the same directional derivative.
        let tile = TileNet::load(&net, Format::F64, Accumulation::Native);
        let dt = tile.directional(&tile.forward(&x), &target, &v);
        assert!((dt - d).abs() < 1e-12 * (1.0 + d.abs()), "{dt} vs {d}");
    }

    #[test]
    fn tile_backward_in_f64_is_the_exact_gradient_and_close_in_bf16() {
        let net = small();
        let x = normals(&mut rng(5, 0, 0, Stream::Input, 0), 5, 1.0);
        let target = Target::Values(vec![0.3, -1.0, 2.0]);
        let (_, exact) = net.gradient(&x, &target);
        let t64 = TileNet::load(&net, Format::F64, Accumulation::Native);
        let g = t64.backward(&t64.forward(&x), &target);
        for (a, b) in g.iter().zip(&exact) {
            assert!((a - b).abs() < 1e-12, "{a} vs {b}");
        }
        let tb = TileNet::load(&net, Format::Bf16, Accumulation::Native);
        let gb = tb.backward(&tb.forward(&x), &target);
        let (dot, n1, n2) = gb
            .iter()
            .zip(&exact)
            .fold((0.0, 0.0, 0.0), |(d, a, b), (x, y)| {
                (d + x * y, a + x * x, b + y * y)
            });
        assert!(dot / (n1 * n2).sqrt() > 0.99);
    }

    #[test]
    fn activity_directional_in_f64_is_the_pre_activation_gradient_along_u() {
        // Perturbing the pre-activations of layer l by u_l changes the loss at rate
        // ⟨∂L/∂z_l, u_l⟩; summed over layers. Checked by central differences on z.
        let net = small();
        let x = normals(&mut rng(6, 0, 0, Stream::Input, 0), 5, 1.0);
        let target = Target::Values(vec![0.3, -1.0, 2.0]);
        let tile = TileNet::load(&net, Format::F64, Accumulation::Native);
        let f = tile.forward(&x);
        let u = normals(
            &mut rng(7, 0, 0, Stream::Input, 0),
            net.shape.activations(),
            1.0,
        );
        let d = tile.activity_directional(&f, &target, &u);
        // Loss with the pre-activations shifted by h·u.
        let shifted = |h: f64| -> f64 {
            let mut a = x.clone();
            let (mut off, mut uo) = (0, 0);
            for dl in &net.shape.layers {
                let z: Vec<f64> = (0..dl.n)
                    .map(|j| {
                        dot64(&a, &net.w[off + j * dl.k..off + (j + 1) * dl.k]) + h * u[uo + j]
                    })
                    .collect();
                a = z.iter().map(|&v| activate(dl.act, v)).collect();
                off += dl.k * dl.n;
                uo += dl.n;
            }
            target.loss(&a)
        };
        let h = 1e-6;
        let fd = (shifted(h) - shifted(-h)) / (2.0 * h);
        assert!((fd - d).abs() < 1e-6, "{fd} vs {d}");
    }

    #[test]
    fn bf16_tile_is_close_to_f64() {
        let net = small();
        let x = normals(&mut rng(4, 0, 0, Stream::Input, 0), 5, 1.0);
        let y64 = net.forward(&x);
        let tile = TileNet::load(&net, Format::Bf16, Accumulation::Native);
        let yq = tile.forward(&x);
        for (a, b) in y64.iter().zip(yq.output()) {
            assert!((a - b).abs() < 0.05 * (1.0 + a.abs()), "{a} vs {b}");
        }
        assert!(
            tile.w
                .iter()
                .all(|&w| Format::Bf16.dot(&[w], &[1.0], Accumulation::Native) == w)
        );
    }

    #[test]
    fn cross_entropy_gradient_sums_to_zero_and_accuracy_reads_the_argmax() {
        let t = Target::Class(2);
        let g = t.grad(&[0.1, 0.5, 2.0]);
        assert!(g.iter().sum::<f64>().abs() < 1e-12);
        assert_eq!(t.correct(&[0.1, 0.5, 2.0]), Some(true));
        assert_eq!(t.correct(&[3.0, 0.5, 2.0]), Some(false));
        assert_eq!(Target::Values(vec![0.0]).correct(&[1.0]), None);
    }
}
