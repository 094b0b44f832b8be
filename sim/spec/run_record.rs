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

/// Whether the struct `text` holds has every one of the top-level `fields`, whatever their
/// values.
pub fn has_fields(text: &str, fields: &[&str]) -> bool {
    fields.iter().all(|f| value_span(text, f).is_some())
}

/// Whether the struct `text` holds has every one of the top-level `fields`, each with a
/// struct for its value (`(…)` or `Name(…)`). An unnamed struct is a record when it has
/// `arch` and `workload` so: a study has those fields too, naming files.
pub fn has_struct_fields(text: &str, fields: &[&str]) -> bool {
    let b = text.as_bytes();
    fields.iter().all(|f| {
        value_span(text, f).is_some_and(|(s, _)| {
            let name = s + b[s..].iter().take_while(|&&c| is_ident(c)).count();
            b.get(skip_trivia(text, name)) == Some(&b'(')
        })
    })
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// If a comment, a string, a raw string or a character literal starts at byte `i`, the
/// index just past it.
fn skip_literal(text: &str, i: usize) -> Option<usize> {
    let b = text.as_bytes();
    let quoted = |open: usize, quote: u8| {
        let mut j = open + 1;
        while j < b.len() && b[j] != quote {
            j += if b[j] == b'\\' { 2 } else { 1 };
        }
        (j + 1).min(b.len())
    };
    match b[i] {
        b'/' if b.get(i + 1) == Some(&b'/') => {
            Some(text[i..].find('\n').map_or(b.len(), |n| i + n))
        }
        // Block comments nest in RON.
        b'/' if b.get(i + 1) == Some(&b'*') => {
            let (mut j, mut depth) = (i + 2, 1);
            while j < b.len() && depth > 0 {
                if b[j] == b'/' && b.get(j + 1) == Some(&b'*') {
                    depth += 1;
                    j += 2;
                } else if b[j] == b'*' && b.get(j + 1) == Some(&b'/') {
                    depth -= 1;
                    j += 2;
                } else {
                    j += 1;
                }
            }
            Some(j.min(b.len()))
        }
        b'"' => Some(quoted(i, b'"')),
        b'\'' => Some(quoted(i, b'\'')),
        // r"...", r#"..."#, and so on, where the `r` starts a token.
        b'r' if i == 0 || !is_ident(b[i - 1]) => {
            let hashes = b[i + 1..].iter().take_while(|&&c| c == b'#').count();
            if b.get(i + 1 + hashes) != Some(&b'"') {
                return None;
            }
            let close = format!("\"{}", "#".repeat(hashes));
            let from = i + 2 + hashes;
            Some(
                text[from..]
                    .find(&close)
                    .map_or(b.len(), |n| from + n + close.len()),
            )
        }
        _ => None,
    }
}

/// The index of the first byte from `i` on that is neither white space nor in a comment.
fn skip_trivia(text: &str, mut i: usize) -> usize {
    let b = text.as_bytes();
    while i < b.len() {
        if b[i].is_ascii_whitespace() {
            i += 1;
        } else if b[i] == b'/'
            && let Some(j) = skip_literal(text, i)
        {
            i = j;
        } else {
            break;
        }
    }
    i
}

/// Byte range of the value of the top-level field `field` of the struct `text` holds:
/// from its first character to the `,` or `)` that ends it (see [`field_span`]).
fn value_span(text: &str, field: &str) -> Option<(usize, usize)> {
    field_span(text, field).map(|(_, value, end)| (value, end))
}

/// Where the top-level field `field` of the struct `text` holds is written: the byte
/// offsets of its name, of its value's first character and of the `,` or `)` that ends
/// the value. Comments, strings, raw strings and character literals are skipped over; a
/// raw identifier (`r#arch`) names its field.
pub(super) fn field_span(text: &str, field: &str) -> Option<(usize, usize, usize)> {
    let b = text.as_bytes();
    let (mut i, mut depth) = (0usize, 0i32);
    let mut start: Option<(usize, usize)> = None;
    while i < b.len() {
        if let Some(j) = skip_literal(text, i) {
            i = j;
            continue;
        }
        match b[i] {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => {
                if depth == 1
                    && let Some((n, s)) = start
                {
                    return Some((n, s, i));
                }
                depth -= 1;
            }
            b',' if depth == 1 => {
                if let Some((n, s)) = start {
                    return Some((n, s, i));
                }
            }
            c if depth == 1 && start.is_none() && (c.is_ascii_alphabetic() || c == b'_') => {
                let name = if text[i..].starts_with("r#") {
                    i + 2
                } else {
                    i
                };
                let end = name + b[name..].iter().take_while(|&&c| is_ident(c)).count();
                let after = skip_trivia(text, end);
                if &text[name..end] == field && b.get(after) == Some(&b':') {
                    let s = skip_trivia(text, after + 1);
                    start = Some((i, s));
                    i = s;
                } else {
                    i = end.max(i + 1);
                }
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

    #[test]
    fn raw_strings_chars_nested_comments_and_raw_names_are_read_past() {
        let text = "/* a /* b */ ) */ Run(mapping: '(', note: r#\"x\"), workload: (\"#, \
                    seed /* c */ : 1, r#arch: (name: \"a\"), workload: (name: '\"'),)";
        let arch = section(text, "arch").unwrap();
        assert_eq!(arch.trim(), "(name: \"a\")");
        let wl = section(text, "workload").unwrap();
        assert_eq!(wl.trim(), "(name: '\"')");
        assert!(has_struct_fields(text, &["arch", "workload"]));
        assert!(!has_struct_fields(text, &["arch", "nothing"]));
        assert!(has_fields(text, &["seed", "arch", "workload"]));
        assert!(!has_fields(text, &["seed", "nothing"]));
        // Fields naming files, as a study's do, or holding other values, are not structs.
        for other in [
            "(arch: \"a.ron\", workload: (x: 1))",
            "(arch: [\"a.ron\"], workload: (x: 1))",
            "(arch: r\"a\", workload: (x: 1))",
            "(arch: 3, workload: (x: 1))",
        ] {
            assert!(!has_struct_fields(other, &["arch", "workload"]), "{other}");
        }
        assert!(has_struct_fields(
            "(arch: Arch /* c */ (x: 1), workload: (x: 1))",
            &["arch", "workload"]
        ));
        // Unterminated literals end the scan without a panic.
        for cut in 0..text.len() {
            if text.is_char_boundary(cut) {
                let _ = section(&text[..cut], "arch");
            }
        }
    }
}
