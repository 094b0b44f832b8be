//! The shims' shared path to DRAM: a copy through the array never moves more than the
//! path's cap in either direction, saturates it when the shim channels together could
//! move more, and is untouched when the channels cannot reach it.

use tilesim::engine::{SimOptions, Timeline};
use tilesim::spec::{ArchSpec, SpecKind};

use crate::support::{load, simulate_files};

/// The [M17] copy (64 MiB in and out through four columns) on Phoenix with the path
/// capped at `cap` GB/s per direction (None: no cap); returns the run and GB/s read.
fn copy(cap: Option<f64>) -> (Timeline, f64) {
    let (sc, _, t) = simulate_files(
        "arch/xdna1-phoenix.ron",
        "workloads/calibration/m17-memcpy-64mib.ron",
        |a, _| a.dram.fabric_gb_per_s = cap,
        &SimOptions::default(),
    );
    let secs = t.cycles as f64 / sc.machine.clock_hz;
    let gbps = t.dram_read as f64 / secs / 1e9;
    (t, gbps)
}

#[test]
fn a_narrow_path_caps_the_copy_and_a_wide_one_leaves_it_alone() {
    let (free, free_gbps) = copy(None);
    assert!(free.fabric.is_none());
    // Four shim channels of 6.9-7.2 GB/s: about 28 GB/s per direction ([M17]).
    assert!(free_gbps > 25.0, "{free_gbps}");

    // A path narrower than the four channels together: it sets the pace, close to its cap
    // and never above it.
    let (narrow, narrow_gbps) = copy(Some(12.0));
    let f = narrow.fabric.expect("the machine caps the path");
    assert!(
        narrow_gbps <= 12.0,
        "{narrow_gbps} GB/s over a 12 GB/s path"
    );
    assert!(
        narrow_gbps > 0.85 * 12.0,
        "{narrow_gbps} GB/s: the path is left idle"
    );
    assert!(f.reads.1 > 0, "no read was slowed: {f:?}");
    assert!(narrow.cycles > free.cycles);

    // A path wider than the channels together changes nothing.
    let (wide, wide_gbps) = copy(Some(100.0));
    let f = wide.fabric.expect("the machine caps the path");
    assert_eq!(f.reads.1 + f.writes.1, 0, "{f:?}");
    assert_eq!(wide.cycles, free.cycles, "{wide_gbps} vs {free_gbps}");
}

#[test]
fn a_zero_or_negative_cap_is_refused_with_its_field() {
    let mut a: ArchSpec = load("arch/xdna1-phoenix.ron", SpecKind::Arch);
    a.dram.fabric_gb_per_s = Some(0.0);
    let err = tilesim::model::resolve_machine(&a).unwrap_err().to_string();
    assert!(err.contains("dram.fabric_gb_per_s"), "{err}");
}

/// The DRAM activity bins show the bytes as they cross a capped path, so no bin holds more
/// than the cap allows, with either DRAM model (they spread each transfer over its whole
/// span, overlapping the transfers the path made take turns, and showed 2.5× the cap).
#[test]
fn the_dram_activity_never_shows_more_than_a_capped_path_carries() {
    for controller in [true, false] {
        let (sc, _, t) = simulate_files(
            "arch/xdna2-strix-halo.ron",
            "workloads/mlp-continual.ron",
            |a, w| {
                a.dram.fabric_gb_per_s = Some(5.0);
                if !controller {
                    a.dram.controller = None;
                }
                w.stream.samples = 20_000;
            },
            &SimOptions::default(),
        );
        let cap = sc.machine.dram.fabric_bytes_per_cycle.unwrap();
        let p = &t.profile;
        // All but the last bin, which also holds the bytes in flight at the end.
        let bins = p.dram_read.len().saturating_sub(1);
        assert!(bins > 10, "{bins}");
        for lane in [&p.dram_read, &p.dram_written] {
            let most = lane[..bins].iter().copied().max().unwrap();
            // Whole bytes per stretch of the path: one byte of rounding per transfer.
            assert!(
                most as f64 <= cap * p.bin_cycles as f64 * 1.001,
                "controller {controller}: {most} B in a bin of {} cycles at {cap} B/cycle",
                p.bin_cycles
            );
        }
    }
}
