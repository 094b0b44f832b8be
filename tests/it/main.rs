//! tilesim's integration tests: one binary, modules named by behaviour.

mod backprop;
mod calibration;
mod cli_repr;
mod cli_run;
mod dram;
mod fabric;
mod figures;
mod l1_banks;
mod learning;
mod neuro;
mod numerics;
mod report_golden;
mod representation;
mod robustness;
mod schedule_props;
mod support;
mod sweep;
mod user_property_example;
mod weights_load;
mod whole_array_gemm;
