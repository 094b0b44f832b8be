//! `tilesim repr`: golden JSON, the table, and one test per class of bad input (exit 2).

use std::path::PathBuf;

use crate::support::{fails_with, stdout_of};

fn golden(name: &str) -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    std::fs::read_to_string(p).unwrap()
}

fn temp_file(name: &str, text: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("tilesim-repr-{}-{name}", std::process::id()));
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn golden_json_bf16() {
    // 1 + 2^-8 + 2^-40 rounds once to 0x3f81; the exact tie 1 + 2^-8 stays at 0x3f80;
    // -1e-40 keeps its subnormal; 1e39 overflows to inf; nan is the quiet 0x7fc0.
    let got = stdout_of(
        "repr",
        &[
            "--format",
            "bf16",
            "--json",
            "--",
            "1.0039062500009095",
            "1.00390625",
            "-1e-40",
            "1e39",
            "nan",
        ],
    );
    assert_eq!(got, golden("repr_bf16_golden.json"));
}

#[test]
fn golden_json_posit8() {
    // posit<8,2>: 3e7 saturates at maxPos 2^24 (0x7f), 1e-9 at minPos 2^-24 (0x01),
    // 0.3 = 1.2·2^-2 rounds to 0 01 10 010 = 0x32 = 0.3125.
    let got = stdout_of(
        "repr",
        &["--format", "posit8", "--json", "3e7", "1e-9", "0.3"],
    );
    assert_eq!(got, golden("repr_posit8_golden.json"));
}

#[test]
fn json_has_the_documented_shape() {
    let got = stdout_of("repr", &["--format", "int8", "--json", "1", "-0.5", "0.25"]);
    let v: serde_json::Value = serde_json::from_str(&got).unwrap();
    assert_eq!(v["format"], "int8");
    assert_eq!(v["values"][1]["bits"], "0xc0"); // -63.5 rounds half to even: -64
    assert_eq!(v["values"][1]["input"], -0.5);
    assert_eq!(v["summary"]["scale"], 1.0 / 127.0);
    for key in ["input", "bits", "value", "abs_error", "rel_error"] {
        assert!(v["values"][0].get(key).is_some(), "missing {key}");
    }
}

#[test]
fn table_output() {
    let got = stdout_of("repr", &["--format", "bposit32", "1", "3.14159"]);
    assert!(
        got.starts_with("format bposit32: 32 bits per value"),
        "{got}"
    );
    assert!(got.contains("0x40000000"), "{got}"); // 1.0: regime 10, exponent 00000, fraction 0
    assert!(got.contains("summary: 2 values"), "{got}");
}

#[test]
fn summaries_at_the_ends_of_f64_are_finite_and_readable() {
    // Squares of 1e300 overflowed: rms inf and SQNR NaN; the ulp count ran to hundreds
    // of digits.
    let got = stdout_of("repr", &["--format", "posit32", "1e300", "1"]);
    assert!(got.contains("rms 7.071e299, SQNR 0.00 dB"), "{got}");
    assert!(got.contains("e263 ulp"), "{got}");
    // An int8 scale underflowed to 0 for a subnormal input.
    let got = stdout_of("repr", &["--format", "int8", "5e-324"]);
    assert!(
        got.contains("SQNR inf dB") && got.contains("saturated 0"),
        "{got}"
    );
    // Nothing finite to compare.
    let got = stdout_of("repr", &["--format", "int8", "inf"]);
    assert!(got.contains("no finite pair"), "{got}");
}

#[test]
fn values_from_a_file_and_the_command_line() {
    let p = temp_file("ok.txt", "1.5  2.5\n\n  -0.75\t1e-3\n");
    let got = stdout_of(
        "repr",
        &[
            "--format",
            "f32",
            "--json",
            "4",
            "--file",
            p.to_str().unwrap(),
        ],
    );
    let v: serde_json::Value = serde_json::from_str(&got).unwrap();
    assert_eq!(v["values"].as_array().unwrap().len(), 5);
    assert_eq!(v["values"][3]["bits"], "0xbf400000");
}

#[test]
fn negative_non_finite_values_after_double_dash() {
    let got = stdout_of(
        "repr",
        &["--format", "posit16", "--json", "--", "-inf", "-2"],
    );
    let v: serde_json::Value = serde_json::from_str(&got).unwrap();
    assert_eq!(v["values"][0]["bits"], "0x8000"); // NaR
    // 2.0 = 0 10 01 0… = 0x4800 in posit<16,2>; −2 is its two's complement.
    assert_eq!(v["values"][1]["bits"], "0xb800");
    assert_eq!(v["summary"]["events"]["nan"], 1);
}

#[test]
fn flush_subnormals_option() {
    let got = stdout_of(
        "repr",
        &["--format", "bf16", "--json", "--flush-subnormals", "1e-40"],
    );
    let v: serde_json::Value = serde_json::from_str(&got).unwrap();
    assert_eq!(v["values"][0]["bits"], "0x0000");
    assert_eq!(v["summary"]["events"]["flushed_to_zero"], 1);
}

#[test]
fn bad_format() {
    fails_with(
        "repr",
        &["--format", "float8", "1"],
        &["float8", "valid:", "posit<N,ES>"],
    );
}

#[test]
fn format_parameters_out_of_range() {
    fails_with(
        "repr",
        &["--format", "posit64", "1"],
        &["posit64", "n = 64", "2..=32"],
    );
    fails_with(
        "repr",
        &["--format", "posit<16,9>", "1"],
        &["posit<16,9>", "es = 9"],
    );
    fails_with(
        "repr",
        &["--format", "bposit<16,5,20>", "1"],
        &["rS", "1..=15"],
    );
}

#[test]
fn bad_value() {
    fails_with(
        "repr",
        &["--format", "bf16", "1", "abc"],
        &["`abc`", "not a number", "inf"],
    );
}

#[test]
fn finite_spellings_outside_f64_are_refused_not_read_as_inf_or_zero() {
    fails_with(
        "repr",
        &["--format", "f32", "1e400"],
        &["`1e400`", "beyond the f64 range", "write inf"],
    );
    fails_with(
        "repr",
        &["--format", "f32", "--", "-1e-400"],
        &["`-1e-400`", "below the smallest f64"],
    );
    let p = temp_file("huge.txt", "1\n  1e999\n");
    let name = p.to_str().unwrap().to_string();
    fails_with(
        "repr",
        &["--format", "bf16", "--file", &name],
        &[&format!("{name}:2:3"), "beyond the f64 range"],
    );
    // Spellings of zero and infinity still read as such.
    stdout_of("repr", &["--format", "f32", "0e5", "-0.0", "inf", "-INF"]);
}

#[test]
fn flags_that_do_not_apply_and_unmeasured_errors_say_so() {
    // --flush-subnormals only changes bf16: elsewhere it was ignored without a word.
    fails_with(
        "repr",
        &["--format", "f32", "1e-40", "--flush-subnormals"],
        &["--flush-subnormals applies to bf16 only"],
    );
    // Nothing finite to compare: the JSON errors are unknown (null), not 0.
    let got = stdout_of("repr", &["--format", "int8", "nan", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&got).unwrap();
    for k in ["max_abs_error", "max_rel_error", "rms_error", "sqnr_db"] {
        assert!(v["summary"][k].is_null(), "{k}: {got}");
    }
    // An infinite relative error reads "inf" per value as in the summary.
    let got = stdout_of("repr", &["--format", "posit8", "5e-324", "1", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&got).unwrap();
    assert_eq!(v["values"][0]["rel_error"], "inf");
    assert_eq!(v["summary"]["max_rel_error"], "inf");
    // An all-zero input has no SQNR.
    let got = stdout_of("repr", &["--format", "int8", "0", "0"]);
    assert!(
        got.contains("SQNR - (all-zero input)") && !got.contains("NaN"),
        "{got}"
    );
    // The top of f64 in int8 decodes finite.
    let got = stdout_of("repr", &["--format", "int8", "1.7976931348623157e308"]);
    assert!(
        got.contains("0x7f 1.7976931348623155e308") && got.contains("saturated 0"),
        "{got}"
    );
}

#[test]
fn bad_token_in_file_names_line_and_column() {
    let p = temp_file("bad.txt", "1 2\n3   x4 5\n");
    let name = p.to_str().unwrap().to_string();
    fails_with(
        "repr",
        &["--format", "bf16", "--file", &name],
        &[&format!("{name}:2:5"), "`x4`"],
    );
}

#[test]
fn missing_file() {
    fails_with(
        "repr",
        &["--format", "bf16", "--file", "/nonexistent/values.txt"],
        &["/nonexistent/values.txt", "--file"],
    );
}

#[test]
fn no_values() {
    fails_with("repr", &["--format", "bf16"], &["no values", "--file"]);
}

#[test]
fn scale_rules() {
    fails_with(
        "repr",
        &["--format", "bf16", "--scale", "0.5", "1"],
        &["--scale", "int8"],
    );
    fails_with(
        "repr",
        &["--format", "int8", "--scale", "-1", "1"],
        &["--scale", "positive"],
    );
    let got = stdout_of(
        "repr",
        &["--format", "int4", "--json", "--scale", "0.5", "100"],
    );
    let v: serde_json::Value = serde_json::from_str(&got).unwrap();
    assert_eq!(v["values"][0]["value"], 3.5);
    assert_eq!(v["summary"]["events"]["saturated"], 1);
}

#[test]
fn negative_infinity_and_options_after_values() {
    let o = assert_cmd::Command::cargo_bin("tilesim")
        .unwrap()
        .args(["repr", "--format", "bf16", "1", "-inf", "--json"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["values"][1]["bits"], "0xff80");
    let o = assert_cmd::Command::cargo_bin("tilesim")
        .unwrap()
        .args(["repr", "--format", "bf16", "1", "--bogus"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn the_format_may_follow_the_values_and_is_required() {
    let before = stdout_of("repr", &["--format", "bf16", "--json", "1", "-inf"]);
    assert_eq!(
        stdout_of("repr", &["1", "-inf", "--json", "--format", "bf16"]),
        before
    );
    assert_eq!(
        stdout_of("repr", &["1", "--format=bf16", "-inf", "--json"]),
        before
    );
    fails_with("repr", &["1", "0.5"], &["--format is required"]);
    fails_with("repr", &["1", "--format"], &["--format needs a value"]);
}

#[test]
fn values_after_a_double_dash_are_values_and_a_byte_order_mark_is_skipped() {
    // After `--` a token that looks like an option is a value (and not one here).
    fails_with(
        "repr",
        &["--format", "bf16", "1", "--", "--json"],
        &["`--json` is not a number"],
    );
    let got = stdout_of("repr", &["--format", "bf16", "--json", "1", "--", "-2"]);
    assert!(got.contains("\"count\": 2,"), "{got}");
    // A file that starts with a byte-order mark reads as its values; a control character
    // inside a token is shown escaped.
    let bom = temp_file("bom.txt", "\u{feff}1 2\n");
    let got = stdout_of(
        "repr",
        &["--format", "bf16", "--file", bom.to_str().unwrap()],
    );
    assert!(got.contains("2 values"), "{got}");
    let nul = temp_file("nul.txt", "1\u{0}2\n");
    fails_with(
        "repr",
        &["--format", "bf16", "--file", nul.to_str().unwrap()],
        &["`1\\u{0}2` is not a number"],
    );
    // Backslashes and quotes are shown as written.
    let odd = temp_file("odd.txt", "a\\b\"q\n");
    fails_with(
        "repr",
        &["--format", "bf16", "--file", odd.to_str().unwrap()],
        &["`a\\b\"q` is not a number"],
    );
    // So is a value on the command line, its control characters escaped.
    fails_with(
        "repr",
        &["--format", "bf16", "2\u{1b}[31m"],
        &["`2\\u{1b}[31m`"],
    );
}
