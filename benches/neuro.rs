//! Speed of the neuromorphic-core simulation on one core: synaptic events per second of
//! wall (CPU) time and the wall time of 100 s of biological time of the Song 2000 network
//! (workloads/stdp-song2000.ron: 1000 Poisson inputs at 15 Hz onto one LIF neuron with
//! plastic synapses, on one core of arch/neuro-grid.ron). Run with
//! `cargo bench --bench neuro`, or `cargo bench --bench neuro -- WORD` for the cases whose
//! names contain WORD.
//!
//! Targets (docs/neuro.md): at least 20 million synaptic events per second, and 100 s of
//! biological time in under 10 s. Timed by the thread's CPU time where Linux provides it;
//! the best of three runs counts.

mod common;
use common::{cpu_ns, selected};

use std::hint::black_box;
use std::path::Path;
use std::time::Instant;

use tilesim::model::{TileCoord, resolve_machine};
use tilesim::neuro::{Fabric, Network, place_on, simulate};
use tilesim::spec::{WeightFormatSpec, load_arch, load_workload};

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let arch = load_arch(&root.join("arch/neuro-grid.ron")).expect("arch/neuro-grid.ron loads");
    let machine = resolve_machine(&arch).expect("arch/neuro-grid.ron resolves");
    let spec = load_workload(&root.join("workloads/stdp-song2000.ron"))
        .expect("workloads/stdp-song2000.ron loads")
        .spiking
        .expect("it has a spiking section");
    for (name, format) in [
        ("song2000 100s fixed8", WeightFormatSpec::Fixed),
        (
            "song2000 100s f64",
            WeightFormatSpec::Format(tilesim::numerics::Format::F64),
        ),
    ] {
        if !selected(name) {
            continue;
        }
        let mut fabric = Fabric::of(&machine).expect("the grid has neuromorphic cores");
        fabric.core.weight_format = format;
        let net = Network::build(&spec, format, fabric.core.weight_bits, 1).expect("builds");
        let tile = TileCoord { col: 0, row: 1 };
        let placement = place_on(
            &net,
            &[tile],
            fabric.core.neurons,
            fabric.core.synapse_capacity(),
        )
        .expect("fits one core");
        let mut best = f64::INFINITY;
        let mut events = 0;
        for seed in 1..=3u64 {
            let (t0, c0) = (Instant::now(), cpu_ns());
            let run = simulate(black_box(&net), &placement, &fabric, seed, None);
            let secs = match (c0, cpu_ns()) {
                (Some(a), Some(b)) if b > a => (b - a) as f64 * 1e-9,
                _ => t0.elapsed().as_secs_f64(),
            };
            if secs < best {
                best = secs;
                events = run.synaptic_events;
            }
        }
        println!(
            "{name:<24} {:>8.2} M synaptic events/s   {:>7.3} s wall for {:.0} s biological ({} events)",
            events as f64 / best / 1e6,
            best,
            net.steps as f64 * net.dt,
            events
        );
    }
}
