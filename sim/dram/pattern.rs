//! Request generators: the access patterns `tilesim dram --pattern` offers.
//!
//! Each of `streams` sources moves `total_bytes / streams` bytes in requests of
//! `request_bytes`. Stream `s` works in its own slice of the address space, starting at
//! `s × capacity / streams`, so concurrent streams contend for banks the way several shim
//! DMA channels reading different tensors do.

use std::fmt;
use std::str::FromStr;

use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64Mcg;

use super::{DramError, Request};

/// An access pattern.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Pattern {
    /// Contiguous reads.
    Sequential,
    /// Reads `stride` bytes apart (wrapping inside the stream's slice).
    Strided(u64),
    /// Reads at uniformly random request-aligned addresses over the whole capacity.
    Random,
    /// Contiguous requests, each a read with probability `read_fraction`, else a write.
    Mixed(f64),
}

/// Spellings accepted by [`Pattern::from_str`].
pub const PATTERN_NAMES: &str = "sequential, strided:BYTES, random, mixed:READ_FRACTION";

impl FromStr for Pattern {
    type Err = DramError;

    fn from_str(s: &str) -> Result<Pattern, DramError> {
        let bad = || DramError::UnknownPattern {
            name: s.to_string(),
            valid: PATTERN_NAMES,
        };
        let bad_arg = |message| DramError::BadPatternArgument {
            pattern: s.to_string(),
            message,
        };
        let (head, arg) = match s.split_once(':') {
            Some((h, a)) => (h, Some(a)),
            None => (s, None),
        };
        match (head.to_ascii_lowercase().as_str(), arg) {
            ("sequential", None) => Ok(Pattern::Sequential),
            ("random", None) => Ok(Pattern::Random),
            ("strided", Some(a)) => {
                let stride = super::parse_bytes(a)
                    .map_err(|_| bad_arg("the stride is a size in bytes, such as 4096 or 4KiB"))?;
                if stride == 0 {
                    return Err(bad_arg("the stride must be at least 1 byte"));
                }
                Ok(Pattern::Strided(stride))
            }
            ("mixed", Some(a)) => {
                let p: f64 = a.parse().map_err(|_| {
                    bad_arg("the read fraction is a number from 0 to 1, such as 0.7")
                })?;
                if !(0.0..=1.0).contains(&p) {
                    return Err(bad_arg("the read fraction must be from 0 to 1"));
                }
                Ok(Pattern::Mixed(p))
            }
            _ => Err(bad()),
        }
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Pattern::Sequential => write!(f, "sequential"),
            Pattern::Strided(s) => write!(f, "strided:{s}"),
            Pattern::Random => write!(f, "random"),
            Pattern::Mixed(p) => {
                // The shorter of the plain and the exponent form (1e-300 is not written
                // out in 300 digits); both read back to the same number.
                let (plain, exp) = (format!("{p}"), format!("{p:?}"));
                let short = if exp.len() < plain.len() { exp } else { plain };
                write!(f, "mixed:{short}")
            }
        }
    }
}

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PatternSpec {
    /// The access pattern.
    pub pattern: Pattern,
    /// Bytes moved by all streams together.
    pub total_bytes: u64,
    /// Bytes per request.
    pub request_bytes: u32,
    /// Concurrent streams.
    pub streams: u32,
    /// Seed of the random choices.
    pub seed: u64,
    /// Capacity of the memory (addresses are below it).
    pub capacity: u64,
}

/// Generates the requests of `spec`, stream by stream.
pub fn generate(spec: &PatternSpec) -> Vec<Request> {
    let rb = u64::from(spec.request_bytes.max(1));
    let streams = u64::from(spec.streams.max(1));
    let slice = (spec.capacity / streams) / rb * rb;
    let per_stream = spec.total_bytes / streams / rb;
    let mut out = Vec::with_capacity((per_stream * streams) as usize);
    for s in 0..streams {
        let base = s * slice;
        let mut rng = Pcg64Mcg::seed_from_u64(spec.seed ^ (s.wrapping_mul(0x9E37_79B9_7F4A_7C15)));
        for i in 0..per_stream {
            let (addr, write) = match spec.pattern {
                Pattern::Sequential => (base + (i * rb) % slice, false),
                // In 128 bits: i · stride passed 2^64 and wrapped for large strides.
                // At the stride as given (the CLI refuses one shorter than a request).
                Pattern::Strided(stride) => (
                    base + (u128::from(i) * u128::from(stride) % u128::from(slice.max(1))) as u64,
                    false,
                ),
                Pattern::Random => (rng.random_range(0..spec.capacity / rb) * rb, false),
                Pattern::Mixed(p) => (base + (i * rb) % slice, !rng.random_bool(p)),
            };
            out.push(Request {
                addr,
                bytes: spec.request_bytes,
                write,
                stream: s as u16,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_spelling() {
        assert_eq!(
            "sequential".parse::<Pattern>().unwrap(),
            Pattern::Sequential
        );
        assert_eq!(
            "strided:4096".parse::<Pattern>().unwrap(),
            Pattern::Strided(4096)
        );
        assert_eq!(
            "strided:4KiB".parse::<Pattern>().unwrap(),
            Pattern::Strided(4096)
        );
        assert_eq!("mixed:0.7".parse::<Pattern>().unwrap(), Pattern::Mixed(0.7));
        // Shown short, and read back from what is shown.
        for (given, shown) in [
            ("mixed:0.7", "mixed:0.7"),
            ("mixed:1", "mixed:1"),
            ("mixed:1e-300", "mixed:1e-300"),
        ] {
            let p = given.parse::<Pattern>().unwrap();
            assert_eq!(p.to_string(), shown);
            assert_eq!(shown.parse::<Pattern>().unwrap(), p);
        }
        for (bad, says) in [
            ("mixed:1.5", "from 0 to 1"),
            ("mixed:nan", "from 0 to 1"),
            ("mixed:x", "a number"),
            ("strided:0", "at least 1 byte"),
        ] {
            let e = bad.parse::<Pattern>().unwrap_err().to_string();
            assert!(e.contains(bad) && e.contains(says), "{bad}: {e}");
        }
        assert!("zigzag".parse::<Pattern>().is_err());
    }

    #[test]
    fn a_large_stride_wraps_in_its_slice_without_overflowing() {
        let spec = PatternSpec {
            pattern: Pattern::Strided((1 << 40) + 64),
            total_bytes: 64 * 8,
            request_bytes: 64,
            streams: 1,
            seed: 1,
            capacity: 1 << 31,
        };
        let r = generate(&spec);
        // (i · (2^40 + 64)) mod 2^31 = i · 64: distinct, in order, in the slice.
        let addrs: Vec<u64> = r.iter().map(|q| q.addr).collect();
        assert_eq!(addrs, (0..8).map(|i| i * 64).collect::<Vec<_>>());
        let spec = PatternSpec {
            pattern: Pattern::Strided(u64::MAX),
            total_bytes: 64 * 4,
            ..spec
        };
        assert!(generate(&spec).iter().all(|q| q.addr < 1 << 31));
    }

    #[test]
    fn same_seed_same_requests() {
        let spec = PatternSpec {
            pattern: Pattern::Random,
            total_bytes: 1 << 16,
            request_bytes: 64,
            streams: 2,
            seed: 3,
            capacity: 1 << 30,
        };
        assert_eq!(generate(&spec), generate(&spec));
        assert_eq!(generate(&spec).len(), 1024);
    }
}
