//! Throughput of the numerics hot paths, one core: posit32 and b-posit32 add/mul/div,
//! f64 → bf16, and quire accumulation. Run with `cargo bench --bench numerics`, or
//! `cargo bench --bench numerics -- bposit32` for the names containing a word.
//!
//! Plain loops over 4096 random operands (seeded), best of 10 batches of 30 ms timed by the
//! thread's CPU time; `black_box` keeps the work from being optimised away.

mod common;
use common::{cpu_ns, selected};

use std::hint::black_box;
use std::time::{Duration, Instant};

use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64Mcg;
use tilesim::numerics::{BPOSIT32, POSIT32, PositSpec, Quire, Subnormals, bf16};

const N: usize = 4096;

/// Runs `f` over the whole operand set in 10 batches of about 30 ms and returns the operations
/// per second of the fastest batch, timed by this thread's CPU time where Linux provides it
/// (wall-clock time otherwise).
fn measure(mut f: impl FnMut() -> u64) -> f64 {
    let mut sink = 0u64;
    let mut best = 0.0f64;
    for _ in 0..10 {
        let (start, cpu0) = (Instant::now(), cpu_ns());
        let mut rounds = 0u64;
        while start.elapsed() < Duration::from_millis(30) {
            sink = sink.wrapping_add(f());
            rounds += 1;
        }
        let secs = match (cpu0, cpu_ns()) {
            (Some(a), Some(b)) if b > a => (b - a) as f64 * 1e-9,
            _ => start.elapsed().as_secs_f64(),
        };
        best = best.max((rounds * N as u64) as f64 / secs);
    }
    black_box(sink);
    best
}

fn operands(spec: PositSpec, rng: &mut Pcg64Mcg) -> Vec<(u32, u32)> {
    // Values of moderate magnitude (N(0,1)-like scales), as the simulator sees them.
    (0..N)
        .map(|_| {
            let x = (rng.random::<f64>() - 0.5) * 8.0;
            let y = (rng.random::<f64>() - 0.5) * 8.0;
            (spec.from_f64(x), spec.from_f64(y))
        })
        .collect()
}

/// Applies a binary operation to every operand pair.
fn bin(ops: &[(u32, u32)], f: impl Fn(u32, u32) -> u32) -> f64 {
    measure(|| {
        let mut acc = 0u64;
        for &(a, b) in black_box(ops) {
            acc = acc.wrapping_add(u64::from(f(a, b)));
        }
        acc
    })
}

fn report(name: &str, ops: impl FnOnce() -> f64) {
    if selected(name) {
        println!("{name:<28} {:>8.1} M ops/s", ops() / 1e6);
    }
}

fn main() {
    let mut rng = Pcg64Mcg::seed_from_u64(1);
    for (label, spec) in [("posit32", POSIT32), ("bposit32", BPOSIT32)] {
        let ops = operands(spec, &mut Pcg64Mcg::seed_from_u64(1));
        // The spec goes through black_box so that its fields are run-time values, as in the
        // simulator, where a loop over a slice uses one loop-invariant format.
        let spec = black_box(spec);
        report(&format!("{label} add"), || bin(&ops, |a, b| spec.add(a, b)));
        report(&format!("{label} mul"), || bin(&ops, |a, b| spec.mul(a, b)));
        report(&format!("{label} div"), || bin(&ops, |a, b| spec.div(a, b)));
        report(&format!("{label} from_f64"), || {
            measure(|| {
                let mut acc = 0u64;
                for &(a, _) in black_box(&ops) {
                    acc = acc.wrapping_add(u64::from(spec.from_f64(f64::from(a) * 1e-3)));
                }
                acc
            })
        });
        let mut q = Quire::new(spec);
        report(&format!("{label} quire mul-add"), || {
            measure(|| {
                for &(a, b) in black_box(&ops) {
                    q.add_product(a, b);
                }
                u64::from(q.to_posit())
            })
        });
    }
    let xs: Vec<f64> = (0..N).map(|_| (rng.random::<f64>() - 0.5) * 1e3).collect();
    report("f64 -> bf16", || {
        measure(|| {
            let mut acc = 0u64;
            for &x in black_box(&xs) {
                acc = acc.wrapping_add(u64::from(bf16::from_f64(x, Subnormals::Keep)));
            }
            acc
        })
    });
}
