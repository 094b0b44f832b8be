//! `tilesim repr`: encode values in a numeric format and report the conversion error.
//!
//! For each value: the stored bit pattern in hex, the decoded value, the absolute and relative
//! error; then the summary metrics of `tilesim::numerics::metrics` for the whole set. Values
//! come from the command line and/or a file (whitespace-separated); a bad token in a file is
//! reported with its `path:line:col`.

use std::fmt::Write as _;
use std::io::Write;
use std::path::PathBuf;

use anyhow::anyhow;
use serde_json::{Value, json};
use tilesim::numerics::metrics::rel_error;
use tilesim::numerics::{
    ErrorMetrics, Format, QuantizeOptions, Quantized, ScaleChoice, Subnormals,
};

use super::{CliError, CliResult};

/// Arguments of `tilesim repr`.
#[derive(Debug, clap::Args)]
pub struct ReprArgs {
    /// Target format: f64, f32, bf16, int8, int4, posit8, posit16, posit32 (es = 2; any
    /// positN or posit<N> is posit<N,2>), bposit16, bposit32 (es = 5, rS = 6; any bpositN
    /// or bposit<N> is bposit<N,5,6>), posit<N,ES>, bposit<N,ES,RS>. Required; it may come
    /// before or after the values.
    #[arg(long)]
    pub format: Option<String>,
    /// Values to encode: any f64 spelling (1.5, -2e-3, 1e-40, inf, -inf, nan); options
    /// may come before or after them.
    #[arg(allow_hyphen_values = true)]
    pub values: Vec<String>,
    /// Values after `--`: taken as values even where they look like options.
    #[arg(last = true, hide = true)]
    pub after: Vec<String>,
    /// Also read values from this file (separated by whitespace or newlines).
    #[arg(long)]
    pub file: Option<PathBuf>,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Scale of int8/int4 (default: max|x| / qmax over the inputs).
    #[arg(long)]
    pub scale: Option<f64>,
    /// bf16: flush values below 2^-126 to zero (Intel VCVTNEPS2BF16) instead of keeping
    /// subnormals (ml_dtypes, the default).
    #[arg(long)]
    pub flush_subnormals: bool,
}

fn input(msg: String) -> CliError {
    CliError::Input(anyhow!(msg))
}

const NUMBER_HINT: &str = "expected an f64 such as 1.5, -2e-3, 1e-40, inf or nan";

/// Values may start with a hyphen (`-inf`, `-nan`), so clap hands every token after the
/// first value to `values`; this takes the command's own flags back out of them, so
/// `repr --format bf16 1 -inf --json` means what it says.
fn with_trailing_flags(args: &ReprArgs) -> Result<ReprArgs, CliError> {
    let mut a = ReprArgs {
        format: args.format.clone(),
        values: Vec::new(),
        after: Vec::new(),
        file: args.file.clone(),
        json: args.json,
        scale: args.scale,
        flush_subnormals: args.flush_subnormals,
    };
    let mut it = args.values.iter();
    while let Some(tok) = it.next() {
        // After `--`, everything is a value (clap keeps the marker among the values once
        // a value came before it).
        if tok == "--" {
            a.values.extend(it.by_ref().cloned());
            break;
        }
        let (flag, inline) = match tok.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
            _ => (tok.as_str(), None),
        };
        let mut value = |name: &str| -> Result<String, CliError> {
            inline
                .clone()
                .or_else(|| it.next().cloned())
                .ok_or_else(|| input(format!("{name} needs a value")))
        };
        match flag {
            "--json" => a.json = true,
            "--flush-subnormals" => a.flush_subnormals = true,
            "--format" => a.format = Some(value("--format")?),
            "--file" => a.file = Some(PathBuf::from(value("--file")?)),
            "--scale" => {
                let v = value("--scale")?;
                a.scale = Some(v.parse().map_err(|_| {
                    input(format!("--scale: `{v}` is not a number ({NUMBER_HINT})"))
                })?);
            }
            f if f.starts_with("--") && f.len() > 2 => {
                return Err(input(format!(
                    "unknown option `{f}` (repr takes --format, --file, --json, --scale, --flush-subnormals)"
                )));
            }
            _ => a.values.push(tok.clone()),
        }
    }
    a.values.extend(args.after.iter().cloned());
    Ok(a)
}

/// Runs `tilesim repr`.
pub fn run(args: &ReprArgs, out: &mut dyn Write) -> CliResult {
    let args = &with_trailing_flags(args)?;
    let format: Format = args
        .format
        .as_deref()
        .ok_or_else(|| {
            input("--format is required (e.g. `tilesim repr --format bf16 0.1 1e-3`)".into())
        })?
        .parse()
        .map_err(|e| input(format!("--format: {e}")))?;
    let mut xs = Vec::new();
    for v in &args.values {
        xs.push(parse_value(v.trim()).map_err(|why| input(format!("`{}` {why}", shown(v))))?);
    }
    if let Some(path) = &args.file {
        xs.extend(read_values(path)?);
    }
    if xs.is_empty() {
        return Err(input(
            "no values given: pass values as arguments or use --file PATH".into(),
        ));
    }
    let mut opts = QuantizeOptions::default();
    if args.flush_subnormals {
        // Only the bf16 conversion has the choice; elsewhere the flag did nothing silently.
        if format != Format::Bf16 {
            return Err(input(format!(
                "--flush-subnormals applies to bf16 only, not to {format}"
            )));
        }
        opts.subnormals = Subnormals::Flush;
    }
    if let Some(s) = args.scale {
        if !matches!(format, Format::Int8 | Format::Int4) {
            return Err(input(format!(
                "--scale applies to int8 and int4 only, not to {format}"
            )));
        }
        if !(s.is_finite() && s > 0.0) {
            return Err(input(format!(
                "--scale {s} is not a positive finite number"
            )));
        }
        opts.scale = ScaleChoice::Explicit(s);
    }
    let q = format
        .quantize(&xs, &opts)
        .map_err(|e| input(e.to_string()))?;
    let metrics = q.metrics(&xs);
    let text = if args.json {
        let mut s = serde_json::to_string_pretty(&to_json(&xs, &q, &metrics))
            .map_err(|e| CliError::Other(e.into()))?;
        s.push('\n');
        s
    } else {
        table(&xs, &q, &metrics)
    };
    out.write_all(text.as_bytes())?;
    Ok(())
}

/// Reads whitespace-separated values, naming `path:line:col` of a bad token.
fn read_values(path: &PathBuf) -> Result<Vec<f64>, CliError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        input(format!(
            "cannot read values file `{}`: {e} (check the path given to --file)",
            path.display()
        ))
    })?;
    // A byte-order mark some editors put at the start is no part of the first value.
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let mut xs = Vec::new();
    for (ln, line) in text.lines().enumerate() {
        let mut start = None;
        for (i, c) in line
            .char_indices()
            .chain(std::iter::once((line.len(), ' ')))
        {
            if !c.is_whitespace() {
                start.get_or_insert(i);
                continue;
            }
            let Some(s) = start.take() else { continue };
            let tok = &line[s..i];
            let x: f64 = parse_value(tok).map_err(|why| {
                let col = line[..s].chars().count() + 1;
                input(format!(
                    "{}:{}:{col}: `{}` {why}",
                    path.display(),
                    ln + 1,
                    shown(tok)
                ))
            })?;
            xs.push(x);
        }
    }
    Ok(xs)
}

/// `tok` as an error message shows it: control characters escaped (`\u{1b}`), so that
/// one can be seen and none acts on the terminal; everything else as written.
fn shown(tok: &str) -> String {
    tok.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// A value as the user wrote it, as an f64, or why not. A finite spelling beyond f64's
/// range is refused rather than read as ±inf (1e400), and a nonzero one below its smallest
/// subnormal rather than read as 0 (1e-400): the conversion error shown would be that of
/// another input.
fn parse_value(tok: &str) -> Result<f64, String> {
    let x: f64 = tok
        .parse()
        .map_err(|_| format!("is not a number ({NUMBER_HINT})"))?;
    let lower = tok.to_ascii_lowercase();
    let mantissa = lower.split('e').next().unwrap_or("");
    if x.is_infinite() && !lower.contains("inf") {
        return Err(format!(
            "is beyond the f64 range (±{:e}); write inf or -inf for an infinity",
            f64::MAX
        ));
    }
    if x == 0.0 && !lower.contains("inf") && mantissa.chars().any(|c| matches!(c, '1'..='9')) {
        return Err(format!(
            "is nonzero but below the smallest f64 ({:e}), which reads it as 0",
            f64::from_bits(1)
        ));
    }
    Ok(x)
}

/// Hex digits for a format's bit pattern (`0x3f81` for bf16).
fn hex(bits: u64, format: Format) -> String {
    let w = format.bits().div_ceil(4) as usize;
    format!("0x{bits:0w$x}")
}

/// A number for people: plain decimals in a middle range, exponent notation outside it.
fn num(x: f64) -> String {
    let a = x.abs();
    if x == 0.0 || (1e-4..1e16).contains(&a) || !x.is_finite() {
        format!("{x}")
    } else {
        format!("{x:e}")
    }
}

/// A number for JSON: finite values as numbers, others as the strings "inf", "-inf", "nan".
fn jnum(x: f64) -> Value {
    if x.is_finite() {
        json!(x)
    } else {
        json!(format!("{x}").to_lowercase())
    }
}

fn abs_error(x: f64, y: f64) -> f64 {
    if x.is_finite() && y.is_finite() {
        (x - y).abs()
    } else {
        f64::NAN
    }
}

fn to_json(xs: &[f64], q: &Quantized, m: &ErrorMetrics) -> Value {
    let values: Vec<Value> = xs
        .iter()
        .zip(&q.values)
        .zip(&q.bits)
        .map(|((&x, &y), &b)| {
            let rel = rel_error(x, y);
            json!({
                "input": jnum(x),
                "bits": hex(b, q.format),
                "value": jnum(y),
                "abs_error": if x.is_finite() && y.is_finite() { json!((x - y).abs()) } else { Value::Null },
                "rel_error": if rel.is_nan() { Value::Null } else { jnum(rel) },
            })
        })
        .collect();
    // Errors measured on no finite pair are not 0 but unknown, and an SQNR of an all-zero
    // input is undefined: null, as the table's "no finite pair" and "-" say.
    let measured = |x: f64| {
        if m.compared == 0 || x.is_nan() {
            Value::Null
        } else {
            jnum(x)
        }
    };
    let mut summary = json!({
        "count": m.count,
        "compared": m.compared,
        "max_abs_error": measured(m.max_abs),
        "max_rel_error": measured(m.max_rel),
        "rms_error": measured(m.rms),
        "sqnr_db": measured(m.sqnr_db),
        "max_ulp_error": measured(m.max_ulp),
        "mean_ulp_error": measured(m.mean_ulp),
        "events": m.events,
    });
    if let Some(p) = q.int_params.first() {
        summary["scale"] = json!(p.scale);
        summary["zero_point"] = json!(p.zero_point);
    }
    json!({
        "format": q.format.name(),
        "bits_per_value": q.format.bits(),
        "values": values,
        "summary": summary,
    })
}

fn table(xs: &[f64], q: &Quantized, m: &ErrorMetrics) -> String {
    let mut s = String::new();
    let f = q.format;
    let _ = writeln!(s, "format {f}: {} bits per value", f.bits());
    if let Some(p) = q.int_params.first() {
        let _ = writeln!(s, "scale {} (zero point {})", num(p.scale), p.zero_point);
    }
    let hw = (f.bits().div_ceil(4) as usize + 2).max(4);
    let _ = writeln!(
        s,
        "{:<24} {:<hw$} {:<24} {:<12} {:<12}",
        "input", "bits", "value", "abs_error", "rel_error"
    );
    for ((&x, &y), &b) in xs.iter().zip(&q.values).zip(&q.bits) {
        let e = abs_error(x, y);
        let r = rel_error(x, y);
        let show = |v: f64| {
            if v.is_nan() {
                "-".to_string()
            } else {
                format!("{v:.3e}")
            }
        };
        let _ = writeln!(
            s,
            "{:<24} {:<hw$} {:<24} {:<12} {:<12}",
            num(x),
            hex(b, f),
            num(y),
            show(e),
            show(r)
        );
    }
    // Ulps in fixed point while readable; a huge or tiny count in scientific notation
    // (1e300 read in posit32 is about 1e270 ulps off: hundreds of digits otherwise).
    let ulps = |v: f64| {
        if v == 0.0 || (1e-3..1e6).contains(&v) {
            format!("{v:.3}")
        } else {
            format!("{v:.3e}")
        }
    };
    if m.compared == 0 {
        let _ = writeln!(
            s,
            "summary: {} values, no finite pair to measure an error on",
            m.count
        );
    } else {
        let sqnr = if m.sqnr_db.is_nan() {
            "- (all-zero input)".to_string()
        } else {
            format!("{:.2} dB", m.sqnr_db)
        };
        let _ = writeln!(
            s,
            "summary: {} values ({} finite pairs), max abs {:.3e}, max rel {:.3e}, rms {:.3e}, \
             SQNR {sqnr}, max {} ulp",
            m.count,
            m.compared,
            m.max_abs,
            m.max_rel,
            m.rms,
            ulps(m.max_ulp)
        );
    }
    let e = m.events;
    let _ = writeln!(
        s,
        "events: saturated {}, overflow to inf {}, flushed to zero {}, underflow to zero {}, \
         posit maxpos {}, posit minpos {}, nan/nar {}",
        e.saturated,
        e.overflow_to_inf,
        e.flushed_to_zero,
        e.underflow_to_zero,
        e.posit_maxpos,
        e.posit_minpos,
        e.nan
    );
    // No trailing spaces from the padded last column.
    s.lines().map(|l| format!("{}\n", l.trim_end())).collect()
}
