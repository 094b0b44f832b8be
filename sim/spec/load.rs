//! Reading spec files: RON text to spec types, with errors that carry file:line:col and a
//! hint about what to write instead.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

use super::{ArchSpec, WorkloadSpec};

/// Which kind of spec a file holds, decided by its top-level name (`Arch(...)`,
/// `Workload(...)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpecKind {
    /// An architecture file.
    Arch,
    /// A workload file.
    Workload,
    /// A study file (`tilesim sweep`).
    Study,
    /// A run's record, `resolved.ron` ([`super::RunRecord`]).
    Run,
}

impl SpecKind {
    fn top_level_name(self) -> &'static str {
        match self {
            SpecKind::Arch => "Arch",
            SpecKind::Workload => "Workload",
            SpecKind::Study => "Study",
            SpecKind::Run => "Run",
        }
    }

    /// What a file of this kind is, with its article.
    fn noun(self) -> &'static str {
        match self {
            SpecKind::Arch => "an architecture file",
            SpecKind::Workload => "a workload file",
            SpecKind::Study => "a study file",
            SpecKind::Run => "a run's record",
        }
    }

    /// What to do with a file of this kind given where a file of kind `expected` belongs.
    fn use_hint(self, expected: Option<SpecKind>) -> &'static str {
        use SpecKind::{Arch, Run, Study, Workload};
        match (self, expected) {
            (Arch | Workload, Some(Arch | Workload)) => {
                "give the architecture file first, then the workload file: `tilesim run ARCH \
                 WORKLOAD` (with one file, it is the architecture and the workload is the \
                 built-in default)"
            }
            (Arch | Workload, _) => "run a machine and a workload with `tilesim run ARCH WORKLOAD`",
            (Study, _) => "run a study with `tilesim sweep FILE`",
            (Run, _) => "run a record again by itself: `tilesim run FILE`",
        }
    }
}

/// A spec that was read from a file.
#[derive(Debug, Clone)]
pub enum AnySpec {
    /// An architecture.
    Arch(Box<ArchSpec>),
    /// A workload.
    Workload(Box<WorkloadSpec>),
}

/// Why a spec file could not be read. Every variant is fatal for that file and means the
/// user's input is wrong, except [`SpecError::Io`] (a read failure other than a missing
/// file) which may be the environment's fault.
#[derive(Debug, Clone, PartialEq)]
pub enum SpecError {
    /// The file could not be read.
    Io {
        /// The file.
        file: PathBuf,
        /// The OS error text.
        message: String,
    },
    /// The path names no file (or a directory): the user's input, not the machine's.
    Missing {
        /// The path.
        file: PathBuf,
        /// The OS error text.
        message: String,
    },
    /// The file is larger than any spec file ([`MAX_SPEC_BYTES`]): not a spec, or a
    /// device such as `/dev/zero` that never ends.
    TooLarge {
        /// The file.
        file: PathBuf,
    },
    /// The file is not valid UTF-8 text (a binary file, for example).
    NotText {
        /// The file.
        file: PathBuf,
        /// Byte offset of the first invalid byte.
        offset: usize,
    },
    /// The text does not parse as the expected spec.
    Syntax {
        /// The file.
        file: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        col: usize,
        /// What the parser expected or found.
        message: String,
        /// What to do about it.
        hint: Option<String>,
    },
}

impl SpecError {
    /// The file this error is about.
    pub fn file(&self) -> &Path {
        match self {
            SpecError::Io { file, .. }
            | SpecError::Missing { file, .. }
            | SpecError::TooLarge { file }
            | SpecError::NotText { file, .. }
            | SpecError::Syntax { file, .. } => file,
        }
    }

    /// True when the user's input is at fault (exit code 2), false for I/O failures.
    pub fn is_input_error(&self) -> bool {
        !matches!(self, SpecError::Io { .. })
    }
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpecError::Io { file, message } => {
                write!(f, "{}: cannot read: {message}", file.display())
            }
            SpecError::Missing { file, message } => write!(
                f,
                "{}: cannot read: {message}\n  hint: check the path (a relative path starts at \
                 the current directory; a study's arch and workload paths start at the study \
                 file's directory, or at the current directory for a study read from a pipe)",
                file.display()
            ),
            SpecError::TooLarge { file } => write!(
                f,
                "{}: larger than {} MiB, more than any spec file\n  hint: spec files are RON text of a few kilobytes; check the path",
                file.display(),
                MAX_SPEC_BYTES >> 20
            ),
            SpecError::NotText { file, offset } => write!(
                f,
                "{}: not a text file (invalid UTF-8 at byte {offset})\n  hint: spec files are RON text, e.g. `Arch(name: \"...\", ...)`",
                file.display()
            ),
            SpecError::Syntax {
                file,
                line,
                col,
                message,
                hint,
            } => {
                write!(f, "{}:{line}:{col}: {message}", file.display())?;
                if let Some(h) = hint {
                    write!(f, "\n  hint: {h}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for SpecError {}

/// The largest spec file read: far above any architecture, workload or study (the
/// shipped ones are a few kilobytes), and small enough to hold in memory.
pub const MAX_SPEC_BYTES: u64 = 64 << 20;

/// Reads a file as UTF-8 text (at most [`MAX_SPEC_BYTES`]).
pub fn read_text(path: &Path) -> Result<String, SpecError> {
    use std::io::Read;
    let io = |e: std::io::Error| {
        let (file, message) = (path.to_path_buf(), e.to_string());
        match e.kind() {
            std::io::ErrorKind::NotFound
            | std::io::ErrorKind::IsADirectory
            | std::io::ErrorKind::NotADirectory => SpecError::Missing { file, message },
            _ => SpecError::Io { file, message },
        }
    };
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_SPEC_BYTES + 1).read_to_end(&mut bytes))
        .map_err(io)?;
    if bytes.len() as u64 > MAX_SPEC_BYTES {
        return Err(SpecError::TooLarge {
            file: path.to_path_buf(),
        });
    }
    let text = String::from_utf8(bytes).map_err(|e| SpecError::NotText {
        file: path.to_path_buf(),
        offset: e.utf8_error().valid_up_to(),
    })?;
    // A byte-order mark (some Windows editors write one) is not part of the text: RON
    // would stop at it, and editors do not count it in line 1's columns.
    Ok(match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_string(),
        None => text,
    })
}

/// Parses RON text into a spec type, with `implicit_some` on so optional fields may be
/// written bare (`row: 3` as well as `row: Some(3)`). A file whose top-level name is
/// another kind's is refused as such, rather than with the parser's "expected struct
/// Arch but found Workload".
pub fn parse<T: DeserializeOwned>(file: &Path, text: &str, kind: SpecKind) -> Result<T, SpecError> {
    if let Some(found) = detect_kind(text).filter(|&k| k != kind) {
        let (line, col) = first_token_position(text);
        return Err(SpecError::Syntax {
            file: file.to_path_buf(),
            line,
            col,
            message: format!(
                "this is {}, where {} is expected",
                found.noun(),
                kind.noun()
            ),
            hint: Some(found.use_hint(Some(kind)).into()),
        });
    }
    if text.trim().is_empty() || strip_comments(text).trim().is_empty() {
        return Err(SpecError::Syntax {
            file: file.to_path_buf(),
            line: 1,
            col: 1,
            message: "the file is empty".into(),
            hint: Some(format!(
                "this file should start with `{}(` and list its fields; see the README",
                kind.top_level_name()
            )),
        });
    }
    let options =
        ron::Options::default().with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME);
    options.from_str::<T>(text).map_err(|e| {
        let message = match &e.code {
            // RON's own text suggests a raw identifier such as `r#1`, which no field or
            // variant of a spec is.
            ron::Error::SuggestRawIdentifier(id) if starts_with_digit(id) => {
                format!("expected a field name, found `{id}`")
            }
            ron::Error::SuggestRawIdentifier(id) => format!(
                "`{id}` is not a valid name: names are letters, digits and `_`, not starting \
                 with a digit"
            ),
            code => code.to_string(),
        };
        let hint = Some(hint_for(&e.code, kind));
        // A number format's parameter out of range is found once its struct is read, and
        // reported at the struct's end: point at the parameter itself.
        let (line, col) = (e.span.start.line, e.span.start.col);
        let parameter = match &e.code {
            ron::Error::Message(m) if is_out_of_range(m) => match m.split(" = ").next() {
                Some("n") => Some("n"),
                Some("es") => Some("es"),
                Some("rS") => Some("rs"),
                _ => None,
            },
            _ => None,
        };
        let (line, col) = parameter
            .and_then(|p| super::locate::field_of_struct_ending_at(text, line, col, p))
            .unwrap_or((line, col));
        SpecError::Syntax {
            file: file.to_path_buf(),
            line,
            col,
            message,
            hint,
        }
    })
}

/// Reads and parses an architecture file.
pub fn load_arch(path: &Path) -> Result<ArchSpec, SpecError> {
    let text = read_text(path)?;
    parse(path, &text, SpecKind::Arch)
}

/// Reads and parses a workload file.
pub fn load_workload(path: &Path) -> Result<WorkloadSpec, SpecError> {
    let text = read_text(path)?;
    parse(path, &text, SpecKind::Workload)
}

/// Reads a file whose kind is given by its top-level name.
pub fn load_any(path: &Path) -> Result<AnySpec, SpecError> {
    let text = read_text(path)?;
    parse_any(path, &text)
}

/// Parses `text`, read from `path`, as the kind of spec its top-level name gives (see
/// [`load_any`]): for a file that can be read only once, such as a pipe.
pub fn parse_any(path: &Path, text: &str) -> Result<AnySpec, SpecError> {
    match detect_kind(text) {
        Some(SpecKind::Arch) => {
            parse(path, text, SpecKind::Arch).map(|a| AnySpec::Arch(Box::new(a)))
        }
        Some(SpecKind::Workload) => {
            parse(path, text, SpecKind::Workload).map(|w| AnySpec::Workload(Box::new(w)))
        }
        Some(other @ (SpecKind::Study | SpecKind::Run)) => {
            let (line, col) = first_token_position(text);
            Err(SpecError::Syntax {
                file: path.to_path_buf(),
                line,
                col,
                message: format!("this is {}, not a machine or a workload", other.noun()),
                hint: Some(other.use_hint(None).into()),
            })
        }
        None => {
            if strip_comments(text).trim().is_empty() {
                return Err(SpecError::Syntax {
                    file: path.to_path_buf(),
                    line: 1,
                    col: 1,
                    message: "the file is empty".into(),
                    hint: Some(
                        "start the file with `Arch(` for a machine, `Workload(` for a workload, \
                         `Study(` for a study or `Run(` for a run's record"
                            .into(),
                    ),
                });
            }
            // RON lets the top-level struct go unnamed, and `run` reads such a file by its
            // position: take it as the one kind it parses as.
            if let Ok(a) = parse::<ArchSpec>(path, text, SpecKind::Arch) {
                return Ok(AnySpec::Arch(Box::new(a)));
            }
            if let Ok(w) = parse::<WorkloadSpec>(path, text, SpecKind::Workload) {
                return Ok(AnySpec::Workload(Box::new(w)));
            }
            let (line, col) = first_token_position(text);
            Err(SpecError::Syntax {
                file: path.to_path_buf(),
                line,
                col,
                message: "cannot tell what kind of spec this is (it parses as neither a \
                          machine nor a workload)"
                    .into(),
                hint: Some(
                    "start the file with `Arch(` for a machine, `Workload(` for a workload, \
                     `Study(` for a study or `Run(` for a run's record, and its error will say \
                     what is wrong"
                        .into(),
                ),
            })
        }
    }
}

/// The kind of a file whose top-level name is left out, where its fields tell: `arch` and
/// `workload` holding specs make a run's record, naming files a study (only those two
/// kinds have both fields). `None` for anything else.
fn unnamed_kind(text: &str) -> Option<SpecKind> {
    let fields = ["arch", "workload"];
    if !super::run_record::has_fields(text, &fields) {
        None
    } else if super::run_record::has_struct_fields(text, &fields) {
        Some(SpecKind::Run)
    } else {
        Some(SpecKind::Study)
    }
}

/// Detects the kind of spec from its top-level name, the first identifier after comments
/// and `#![...]` attributes, or, where that tells nothing (RON lets the name be left out),
/// from its fields: `arch` and `workload` holding specs make a run's record, naming files a
/// study.
pub fn detect_kind(text: &str) -> Option<SpecKind> {
    named_kind(text).or_else(|| unnamed_kind(text))
}

/// The kind its top-level name gives a spec, if it is one of the kinds' names.
fn named_kind(text: &str) -> Option<SpecKind> {
    let body = strip_comments(text);
    let mut rest = body.trim_start();
    while let Some(stripped) = rest.strip_prefix("#!") {
        let end = stripped.find(']')?;
        rest = stripped[end + 1..].trim_start();
    }
    let ident: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    match ident.as_str() {
        "Arch" => Some(SpecKind::Arch),
        "Workload" => Some(SpecKind::Workload),
        "Study" => Some(SpecKind::Study),
        "Run" => Some(SpecKind::Run),
        _ => None,
    }
}

/// Replaces `//` line comments and `/* */` block comments by spaces (keeping newlines so
/// positions stay meaningful).
fn strip_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    let mut in_string = false;
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            if c == '\\' {
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        match (c, chars.peek()) {
            ('"', _) => {
                in_string = true;
                out.push(c);
            }
            ('/', Some('/')) => {
                for n in chars.by_ref() {
                    if n == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            ('/', Some('*')) => {
                chars.next();
                let mut prev = ' ';
                for n in chars.by_ref() {
                    if n == '\n' {
                        out.push('\n');
                    }
                    if prev == '*' && n == '/' {
                        break;
                    }
                    prev = n;
                }
            }
            _ => out.push(c),
        }
    }
    out
}

/// The 1-based (line, col) of the first token after comments: where a spec's top-level
/// name (`Arch(`, `Workload(`) is written.
pub fn first_token_position(text: &str) -> (usize, usize) {
    let body = strip_comments(text);
    for (i, line) in body.lines().enumerate() {
        if let Some(col) = line.find(|c: char| !c.is_whitespace()) {
            return (i + 1, line[..col].chars().count() + 1);
        }
    }
    (1, 1)
}

/// Whether `id` starts with a digit (a value where a name was expected).
fn starts_with_digit(id: &str) -> bool {
    id.starts_with(|c: char| c.is_ascii_digit())
}

/// Whether `message` is a field's own check refusing a value as out of range, as
/// [`crate::numerics::NumericsError::OutOfRange`] words it (`n = 33 is out of range
/// (valid: 2..=32)`): the message says what is valid.
pub fn is_out_of_range(message: &str) -> bool {
    message.contains(" is out of range (valid: ")
}

/// The hint for a value its field's own check refused as out of range (a number format's
/// `n = 33`), whose message says what is valid.
pub const RANGE_HINT: &str = "use a value in the range the message gives (`tilesim repr --help` \
                              lists the number formats and their shapes)";

/// The hint for a whole number too large (or too negative) for its field's type.
pub const INTEGER_HINT: &str = "this field takes a whole number that fits its type (no sign for \
                                counts and shapes, e.g. `es: 2`)";

fn hint_for(code: &ron::Error, kind: SpecKind) -> String {
    use ron::Error as E;
    let s = code.to_string();
    match code {
        E::NoSuchStructField { .. } => {
            "check the spelling; the message lists the fields this struct accepts".into()
        }
        E::NoSuchEnumVariant { .. } => {
            "check the spelling; the message lists the accepted variants".into()
        }
        E::MissingStructField { field, .. } => {
            format!("add `{field}: ...` to this struct (see the README for its meaning and unit)")
        }
        E::Eof => "the file ends early: a closing `)` or `]` may be missing".into(),
        E::ExpectedNamedStructLike("Arch" | "Workload") if kind == SpecKind::Run => {
            "a run's record holds the architecture and workload themselves, as `tilesim run` \
             writes them, not file names (a study names files)"
                .into()
        }
        E::ExpectedNamedStructLike(name) if *name != kind.top_level_name() => {
            "this field takes a struct: its fields in `( )`".into()
        }
        E::ExpectedStructName(_) | E::ExpectedNamedStructLike(_) => {
            format!("the file should start with `{}(`", kind.top_level_name())
        }
        E::DuplicateStructField { .. } => "remove the repeated field".into(),
        E::UnclosedBlockComment => "close the comment with `*/`".into(),
        E::ExpectedComma => {
            "separate fields and list items with `,`; a `]` or `)` may be missing just before"
                .into()
        }
        // A value the field's own check refused (a number format's shape, e.g. `n = 33`):
        // the message says what is valid.
        E::Message(m) if is_out_of_range(m) => RANGE_HINT.into(),
        // A struct written as a tuple, `(64, 64, 32)` for `(m: 64, k: 64, n: 32)`: RON
        // reads its first value as a field name.
        E::SuggestRawIdentifier(id) if starts_with_digit(id) => {
            "this struct's fields are written with their names, `(name: value, ...)`, e.g. \
             `kernel_tile: (m: 64, k: 64, n: 32)`; the README's format table names them"
                .into()
        }
        E::SuggestRawIdentifier(_) => {
            "check the spelling: the README's format tables list every field and variant".into()
        }
        E::IntegerOutOfBounds => INTEGER_HINT.into(),
        _ if s.contains("Expected") || s.contains("expected") || s.contains("invalid type") => {
            "check the value's type and unit against the README's format table".into()
        }
        // A record is what a run wrote.
        _ if kind == SpecKind::Run => "compare with a resolved.ron that tilesim wrote: \
                                       `Run(seed: .., arch: (..), workload: (..), ..)`"
            .into(),
        // Whatever else RON stopped at: the shipped files show every construct.
        _ => format!(
            "compare with a shipped {} file (arch/*.ron, workloads/*.ron): RON writes \
             `Name(field: value, ...)`, lists `[a, b]`, comments `//` and `/* */`",
            kind.top_level_name()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_kind_after_comments_and_attributes() {
        assert_eq!(
            detect_kind("// c\n/* x */ #![enable(implicit_some)]\nArch(name: \"a\")"),
            Some(SpecKind::Arch)
        );
        assert_eq!(
            detect_kind("Workload(name: \"w\")"),
            Some(SpecKind::Workload)
        );
        assert_eq!(detect_kind("(name: \"w\")"), None);
    }

    #[test]
    fn a_byte_order_mark_is_not_part_of_the_text() {
        let dir = std::env::temp_dir().join(format!("tilesim-bom-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("bom.ron");
        std::fs::write(&f, "\u{feff}Workload(name: \"w\")").unwrap();
        let text = read_text(&f).unwrap();
        assert_eq!(text, "Workload(name: \"w\")");
        assert_eq!(detect_kind(&text), Some(SpecKind::Workload));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_unnamed_top_level_struct_is_the_kind_it_parses_as() {
        let dir = std::env::temp_dir().join(format!("tilesim-unnamed-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let named = include_str!("../../workloads/mlp-inference.ron");
        let f = dir.join("w.ron");
        std::fs::write(&f, named.replacen("Workload(", "(", 1)).unwrap();
        assert!(matches!(load_any(&f), Ok(AnySpec::Workload(_))));
        std::fs::write(&f, "(name: \"x\", cores: 3)").unwrap();
        let e = load_any(&f).unwrap_err().to_string();
        assert!(e.contains("cannot tell what kind of spec this is"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_number_format_out_of_its_range_gets_a_hint_about_ranges() {
        // It got the generic hint about how RON writes structs and lists.
        let text = include_str!("../../workloads/mlp-continual-posit.ron");
        let shape = "Posit(n: 16, es: 2)";
        assert!(text.contains(shape));
        for (wrong, message, hint) in [
            (
                "Posit(n: 33, es: 2)",
                "n = 33 is out of range (valid: 2..=32)",
                "tilesim repr --help",
            ),
            // Too large for a byte, but a number: out of the format's range all the same.
            (
                "Posit(n: 300, es: 2)",
                "n = 300 is out of range (valid: 2..=32)",
                "tilesim repr --help",
            ),
            (
                "Posit(n: 16, es: 5000000000)",
                "es = 5000000000 is out of range (valid: 0..=",
                "tilesim repr --help",
            ),
            (
                "BPosit(n: 16, es: 2, rs: 18446744073709551615)",
                "rS = 18446744073709551615 is out of range (valid: 1..=15",
                "tilesim repr --help",
            ),
            (
                "Posit(n: 16, es: -1)",
                "Integer is out of bounds",
                "whole number that fits",
            ),
        ] {
            let e = parse::<WorkloadSpec>(
                Path::new("w.ron"),
                &text.replace(shape, wrong),
                SpecKind::Workload,
            )
            .unwrap_err()
            .to_string();
            assert!(e.starts_with("w.ron:") && e.contains(message), "{e}");
            assert!(e.contains(hint) && !e.contains("RON writes"), "{e}");
            // A range error points at the parameter, not at the end of the format.
            if message.contains("out of range") {
                let text = text.replace(shape, wrong);
                let name = message.split(" = ").next().unwrap().to_lowercase();
                let (line, col) = text
                    .lines()
                    .enumerate()
                    .find_map(|(i, l)| {
                        let at = l.find(wrong)?;
                        Some((i + 1, at + l[at..].find(&format!("{name}:"))? + 1))
                    })
                    .unwrap();
                assert!(e.starts_with(&format!("w.ron:{line}:{col}: ")), "{e}");
            }
        }
    }

    #[test]
    fn empty_file_is_reported_with_hint() {
        let e = parse::<ArchSpec>(Path::new("x.ron"), "  // only a comment\n", SpecKind::Arch)
            .unwrap_err();
        let s = e.to_string();
        assert!(s.starts_with("x.ron:1:1: the file is empty"), "{s}");
        assert!(s.contains("Arch("), "{s}");
    }

    #[test]
    fn a_value_where_a_struct_belongs_gets_a_hint_about_that_field() {
        // Not "the file should start with ...", which it does.
        let e = parse::<crate::spec::RunRecord>(
            Path::new("r.ron"),
            "Run(seed: 1, arch: \"a.ron\", workload: \"w.ron\")",
            SpecKind::Run,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("r.ron:1:20:") && e.contains("not file names"),
            "{e}"
        );
        // Deeper in a record, a struct's field is just that.
        let arch = include_str!("../../arch/xdna2-strix-halo.ron");
        let arch = &arch[arch.find("Arch(").unwrap()..];
        let e = parse::<crate::spec::RunRecord>(
            Path::new("r.ron"),
            &format!(
                "Run(seed: 1, arch: {}, workload: (name: \"w\"))",
                arch.replacen("grid: (", "grid: 5, x: (", 1)
            ),
            SpecKind::Run,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("this field takes a struct"), "{e}");
        let text =
            include_str!("../../arch/xdna2-strix-halo.ron").replacen("dram: (", "dram: 5, x: (", 1);
        let e = parse::<ArchSpec>(Path::new("a.ron"), &text, SpecKind::Arch)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("this field takes a struct") && !e.contains("should start"),
            "{e}"
        );
        // The top-level struct itself still gets the hint about how the file starts.
        let e = parse::<ArchSpec>(Path::new("a.ron"), "Arch 5", SpecKind::Arch)
            .unwrap_err()
            .to_string();
        assert!(e.contains("should start with `Arch(`"), "{e}");
    }

    #[test]
    fn an_unnamed_file_is_a_record_or_a_study_by_its_fields() {
        let record = "(seed: 1, arch: (name: \"a\"), workload: Workload(name: \"w\"))";
        let study = "(name: \"s\", arch: \"a.ron\", workload: \"w.ron\", axes: [])";
        assert_eq!(unnamed_kind(record), Some(SpecKind::Run));
        assert_eq!(unnamed_kind(study), Some(SpecKind::Study));
        assert_eq!(unnamed_kind("(name: \"a\", clock_mhz: 1.0)"), None);
        // Either, handed where the other kind belongs, is refused for what it is.
        let e = parse::<crate::spec::StudySpec>(Path::new("r.ron"), record, SpecKind::Study)
            .unwrap_err()
            .to_string();
        assert!(e.contains("this is a run's record, where a study"), "{e}");
        let e = parse::<ArchSpec>(Path::new("s.ron"), study, SpecKind::Arch)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("this is a study file, where an architecture"),
            "{e}"
        );
    }

    #[test]
    fn comments_keep_line_numbers() {
        let s = strip_comments("a // b\n/* c\n d */ e \"// not\"");
        assert_eq!(s.lines().count(), 3);
        assert!(s.contains("\"// not\""));
    }
}
