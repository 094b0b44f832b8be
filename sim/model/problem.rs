//! Semantic problems found while resolving specs. Resolution lists every problem it finds,
//! not just the first, so a user fixes a file in one round.

use std::fmt;

/// One thing wrong with a spec's meaning (as opposed to its syntax).
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// Which spec the problem is in.
    pub source: Source,
    /// Dotted path of the offending field, e.g. `compute.l1_bytes` or `model[2].in`.
    pub field: String,
    /// What is wrong.
    pub message: String,
    /// What to do about it (every problem says).
    pub hint: String,
}

/// The spec a problem belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The architecture file.
    Arch,
    /// The workload file.
    Workload,
}

/// `x` rounded to 12 significant digits, through decimal text, which (unlike scaling by
/// 10^digits) keeps values near the ends of the f64 range (5e-324 stayed 0 that way).
pub(crate) fn significant(x: f64) -> f64 {
    format!("{x:.11e}").parse().unwrap_or(x)
}

/// A number for a message: rounded to 12 significant digits, so that a value computed
/// from the user's (0.1 × 3 × 10⁻³) reads as they would write it (0.0003), and in
/// scientific notation when plain decimals would be long (below 10⁻⁴ or from 10¹⁵ up;
/// Rust prints 10⁻³⁰⁰ with 300 zeros).
pub(crate) fn num(x: f64) -> String {
    if !x.is_finite() || x == 0.0 {
        return format!("{x}");
    }
    let r = significant(x);
    if r.abs() < 1e-4 || r.abs() >= 1e15 {
        format!("{r:e}")
    } else {
        format!("{r}")
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} (hint: {})", self.field, self.message, self.hint)
    }
}

/// Resolution failed: the list of every problem found. Always an input error (fatal for
/// the scenario; exit code 2).
#[derive(Debug, Clone, PartialEq)]
pub struct ResolveError {
    /// Every problem, in the order the fields appear in the spec.
    pub problems: Vec<Problem>,
}

impl fmt::Display for ResolveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} problem(s):", self.problems.len())?;
        for p in &self.problems {
            write!(f, "\n  {p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ResolveError {}

/// Collects problems while resolving one spec.
#[derive(Debug)]
pub(crate) struct Problems {
    source: Source,
    pub(crate) list: Vec<Problem>,
}

impl Problems {
    pub(crate) fn new(source: Source) -> Self {
        Problems {
            source,
            list: Vec::new(),
        }
    }

    /// Records a problem of `field`: what is wrong and what to do about it (every problem
    /// carries a hint).
    pub(crate) fn push(
        &mut self,
        field: impl Into<String>,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) {
        self.list.push(Problem {
            source: self.source,
            field: field.into(),
            message: message.into(),
            hint: hint.into(),
        });
    }

    /// Requires `v > 0`.
    pub(crate) fn positive<T: Ord + Default + fmt::Display>(&mut self, field: &str, v: T) {
        if v <= T::default() {
            self.push(
                field,
                format!("must be greater than 0, got {v}"),
                "use a positive value",
            );
        }
    }

    /// Requires a finite `v > 0`.
    pub(crate) fn positive_f64(&mut self, field: &str, v: f64) {
        if !(v.is_finite() && v > 0.0) {
            self.push(
                field,
                format!("must be a finite number greater than 0, got {v}"),
                "use a positive value",
            );
        }
    }

    /// Requires `lo <= v <= hi` for a finite `v` already checked to be positive (or
    /// non-negative): a plausibility limit, see [`super::limits`]. Silent when `v` is not
    /// finite (the positivity check reports it).
    pub(crate) fn plausible(&mut self, field: &str, v: f64, (lo, hi): (f64, f64), unit: &str) {
        if v.is_finite() && v > 0.0 && !(lo..=hi).contains(&v) {
            self.push(
                field,
                format!(
                    "{} {unit} is outside the plausible range {} to {}",
                    readable(v),
                    readable(lo),
                    readable(hi)
                ),
                "tilesim refuses values orders of magnitude beyond any hardware: its cycle \
                 counts would overflow or a run would never end",
            );
        }
    }

    /// Requires `0 < v <= 1`.
    pub(crate) fn fraction(&mut self, field: &str, v: f64) {
        if !(v.is_finite() && v > 0.0 && v <= 1.0) {
            self.push(
                field,
                format!("must be in (0, 1], got {v}"),
                "a fraction such as 0.5",
            );
        }
    }

    pub(crate) fn finish(self) -> Result<(), ResolveError> {
        if self.list.is_empty() {
            Ok(())
        } else {
            Err(ResolveError {
                problems: self.list,
            })
        }
    }
}

/// `x` in plain decimals where that is short, in scientific notation where not.
fn readable(x: f64) -> String {
    if x == 0.0 || (1e-3..1e7).contains(&x.abs()) {
        format!("{x}")
    } else {
        format!("{x:e}")
    }
}

#[cfg(test)]
mod tests {
    use super::num;

    #[test]
    fn numbers_read_as_written() {
        assert_eq!(num(0.1 * 3.0 * 1e-3), "0.0003");
        assert_eq!(num(1.4999999999999998), "1.5");
        assert_eq!(num(100.0), "100");
        assert_eq!(num(1e-300), "1e-300");
        assert_eq!(num(-2.5e20), "-2.5e20");
        assert_eq!(num(f64::INFINITY), "inf");
        assert_eq!(num(0.0), "0");
        assert_eq!(num(12345.678), "12345.678");
    }
}
