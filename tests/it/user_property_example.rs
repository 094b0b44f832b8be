//! An example written as a tilesim user would write it: property-testing a machine
//! variant of one's own with the strategies from `tilesim::testing` (feature `testing`).
//!
//! The question here: "if we double L1 to 128 KiB, does every MLP that fits today still
//! map, and does no layer that was resident start streaming?"

use proptest::prelude::*;
use tilesim::mapper::{check, map};
use tilesim::model::resolve;
use tilesim::testing::{arb_workload, xdna2};

proptest! {
    #![proptest_config(ProptestConfig::default())]

    #[test]
    fn doubling_l1_keeps_every_mapping_valid_and_never_streams_more(w in arb_workload(32)) {
        let base = xdna2();
        let mut big = base.clone();
        big.name = "xdna2-128k".into();
        big.compute.l1_bytes *= 2;

        let sc_base = resolve(&base, &w, 1).expect("fits the stock grid");
        let sc_big = resolve(&big, &w, 1).expect("fits the variant");
        let (Ok(s_base), Ok(s_big)) = (map(&sc_base), map(&sc_big)) else {
            // A workload that does not fit 64 KiB may fit 128 KiB; the reverse is a bug.
            prop_assert!(map(&sc_big).is_ok() || map(&sc_base).is_err());
            return Ok(());
        };
        prop_assert!(check(&s_big, &sc_big.machine).is_ok());
        for (a, b) in s_base.partitions.iter().zip(&s_big.partitions) {
            for l in &a.resident_layers {
                prop_assert!(b.resident_layers.contains(l), "layer {l} streams with more L1");
            }
        }
    }
}
