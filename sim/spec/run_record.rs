//! A run's record, `resolved.ron`: the seed and the architecture and workload specs exactly
//! as simulated (with every `--set` applied), plus the partitions and mapping the run
//! derived from them, for reading. `tilesim run FILE` runs a record again.
//!
//! Problems found after parsing point into the record itself: each spec is handed on with
//! the record's text blanked outside its own section, so that a field's line:col in the
//! blanked text is its place in the record.

use serde::Deserialize;
use serde::de::IgnoredAny;

use super::{ArchSpec, WorkloadSpec};

/// What a run's record holds.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename = "Run")]
pub struct RunRecord {
    /// The run's seed.
    pub seed: u64,
    /// The architecture as simulated.
    pub arch: ArchSpec,
    /// The workload as simulated.
    pub workload: WorkloadSpec,
    /// The partitions the run derived (written for reading; derived again when the record
    /// is run).
    #[serde(default)]
    pub partitions: IgnoredAny,
    /// The mapping the run derived (likewise).
    #[serde(default)]
    pub mapping: IgnoredAny,
}

/// `text` with every character outside the value of the top-level field `field` made a
/// space (line breaks kept), so that positions in it are positions in `text`; `None` if
/// the field is not found.
pub fn section(text: &str, field: &str) -> Option<String> {
    let (start, end) = value_span(text, field)?;
    Some(
        text.char_indices()
            .map(|(i, c)| {
                if (start..end).contains(&i) || c == '\n' {
                    c
                } else {
                    ' '
                }
            })
            .collect(),
    )
}

/// Byte range of the value of the top-level field `field` of the struct `text` holds:
/// from its first character to the `,` or `)` that ends it. Strings and comments are
/// skipped over.
fn value_span(text: &str, field: &str) -> Option<(usize, usize)> {
    let b = text.as_bytes();
    let (mut i, mut depth) = (0usize, 0i32);
    let mut start: Option<usize> = None;
    while i < b.len() {
        match b[i] {
            b'/' if b.get(i + 1) == Some(&b'/') => {
                i = text[i..].find('\n').map_or(b.len(), |n| i + n);
                continue;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i = text[i + 2..].find("*/").map_or(b.len(), |n| i + 2 + n + 2);
                continue;
            }
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => {
                if depth == 1
                    && let Some(s) = start
                {
                    return Some((s, i));
                }
                depth -= 1;
            }
            b',' if depth == 1 => {
                if let Some(s) = start {
                    return Some((s, i));
                }
            }
            c if depth == 1 && start.is_none() && (c.is_ascii_alphabetic() || c == b'_') => {
                let end = text[i..]
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .map_or(b.len(), |n| i + n);
                let after = text[end..].trim_start();
                if &text[i..end] == field && after.starts_with(':') {
                    let colon = b.len() - after.len();
                    let value = text[colon + 1..].trim_start();
                    start = Some(b.len() - value.len());
                    i = start.unwrap_or(b.len());
                    continue;
                }
                i = end;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const RECORD: &str = "// made by a run\nRun(\n    seed: 7,\n    arch: (\n        name: \"a (b)\", // a ) in a comment\n        x: [1, 2],\n    ),\n    workload: (name: \"w\"),\n)\n";

    #[test]
    fn a_section_keeps_its_place_and_blanks_the_rest() {
        let arch = section(RECORD, "arch").unwrap();
        assert_eq!(arch.len(), RECORD.len());
        assert_eq!(arch.lines().count(), RECORD.lines().count());
        assert!(
            arch.contains("name: \"a (b)\"") && !arch.contains("seed") && !arch.contains("w\"")
        );
        assert_eq!(arch.trim_start().chars().next(), Some('('));
        assert_eq!(arch.trim_end().chars().last(), Some(')'));
        let wl = section(RECORD, "workload").unwrap();
        assert_eq!(wl.trim(), "(name: \"w\")");
        assert_eq!(
            super::super::locate(&wl, "name"),
            super::super::locate(RECORD, "workload.name")
        );
        assert!(section(RECORD, "name").is_none());
        assert!(section(RECORD, "missing").is_none());
    }
}
