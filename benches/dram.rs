//! Throughput of the DRAM controller model, one core: simulated requests per second of
//! wall (CPU) time for each preset under sequential and random 64-byte reads and a 70/30
//! read/write mix. Run with `cargo bench --bench dram`, or `cargo bench --bench dram --
//! random` for the names containing a word.
//!
//! Each case generates 262 144 requests (16 MiB) once, then simulates them in batches for
//! about 300 ms; the fastest batch counts, timed by the thread's CPU time where Linux
//! provides it, so time the scheduler gives to other processes is not counted.

mod common;
use common::{cpu_ns, selected};

use std::hint::black_box;
use std::time::{Duration, Instant};

use tilesim::dram::pattern::{Pattern, PatternSpec, generate};
use tilesim::dram::{DramConfig, PRESETS, simulate};

fn main() {
    for preset in PRESETS {
        for pattern in [Pattern::Sequential, Pattern::Random, Pattern::Mixed(0.7)] {
            let name = format!("{} {pattern}", preset.name);
            if !selected(&name) {
                continue;
            }
            let config = DramConfig::new(preset);
            let requests = generate(&PatternSpec {
                pattern,
                total_bytes: 16 << 20,
                request_bytes: 64,
                streams: 1,
                seed: 1,
                capacity: preset.capacity_bytes(),
            });
            let mut best = 0.0f64;
            let start = Instant::now();
            while start.elapsed() < Duration::from_millis(300) {
                let (t0, c0) = (Instant::now(), cpu_ns());
                let run = simulate(&config, black_box(&requests)).unwrap();
                black_box(run.stats.achieved_gb_per_s);
                let secs = match (c0, cpu_ns()) {
                    (Some(a), Some(b)) if b > a => (b - a) as f64 * 1e-9,
                    _ => t0.elapsed().as_secs_f64(),
                };
                best = best.max(requests.len() as f64 / secs);
            }
            println!("{name:<36} {:>6.2} M requests/s", best / 1e6);
        }
    }
}
