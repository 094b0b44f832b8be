//! `--set PATH=VALUE`: changing one field of an architecture or workload spec by its path,
//! without editing the file.
//!
//! A path starts with `arch.` or `workload.` and names fields with dots and list items
//! with `[i]`, exactly as they are written in the RON files: `arch.compute.l1_bytes`,
//! `arch.dram.data_rate_mts`, `workload.partitions[1].tiles`,
//! `workload.partitions[1].method.perturbations`. A path may step through an enum variant
//! without naming it (`partitions[1]` is a `Learning(...)`, whose `tiles` the path names
//! directly). The value is written in RON, as in the file: `65536`, `8000.0`, `Count(8)`,
//! `Fraction(0.25)`, `Bf16`, `ForwardGradient(perturbations: 4)`, `[0, 1]`, `"text"`.
//!
//! The spec goes through its serde data model (as JSON values): the path is followed, the
//! value replaced, and the result deserialised back into the spec type, so a value of the
//! wrong type is refused with the expected type, and the usual semantic checks
//! ([`crate::model::resolve`]) run afterwards on the changed spec.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::spec::{ArchSpec, WorkloadSpec};

/// Why a `--set` could not be applied.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SetError {
    /// The argument is not `PATH=VALUE`.
    #[error("`{0}` is not PATH=VALUE (example: workload.partitions[1].tiles=Count(8))")]
    Syntax(String),
    /// The path does not start with `arch.` or `workload.`.
    #[error("{path}: a path starts with `arch.` or `workload.`")]
    Root {
        /// The path.
        path: String,
    },
    /// A step of the path names no field or item.
    #[error("{path}: {message}")]
    NoSuchField {
        /// The path.
        path: String,
        /// What is missing and what exists there.
        message: String,
    },
    /// The value is not valid RON.
    #[error("{path}: `{value}` is not a RON value: {message}")]
    Value {
        /// The path.
        path: String,
        /// The value text.
        value: String,
        /// The parse problem.
        message: String,
    },
    /// A float of a spec is NaN or infinite: JSON, through which values are set, has no
    /// form for it (it would come back as null).
    #[error(
        "{root}.{field}: is NaN or infinite, which --set cannot carry through (must be a finite number)"
    )]
    NonFinite {
        /// `arch` or `workload`.
        root: &'static str,
        /// The field's path within that spec.
        field: String,
    },
    /// The value holds a whole number beyond 64 bits where the field takes a whole number
    /// (JSON, through which values are set, reads it as a float; a float field takes it).
    #[error(
        "{path}: `{value}` holds the whole number {number}, beyond 64 bits, where the field takes a whole number"
    )]
    WideInteger {
        /// The path.
        path: String,
        /// The value text.
        value: String,
        /// The number as written.
        number: String,
    },
    /// The value has the wrong type for the field.
    #[error("{path}: `{value}` does not fit the field: {message}")]
    Type {
        /// The path.
        path: String,
        /// The value text.
        value: String,
        /// What the field expects.
        message: String,
    },
}

/// Where a value that [`apply`] refused was written: it decides how the hint tells the
/// user to write it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetSource {
    /// A `--set PATH=VALUE` on the command line.
    CommandLine,
    /// A value of a study file's axis (RON).
    StudyAxis,
}

impl SetError {
    /// What the user can do about the error, for a value written at `source` (`None` for
    /// a malformed `--set`, whose message holds an example). `--set` and study axes give
    /// the same hint for the same fault.
    pub fn hint(&self, source: SetSource) -> Option<&'static str> {
        Some(match self {
            SetError::Syntax(_) => return None,
            SetError::Root { .. } | SetError::NoSuchField { .. } => {
                "paths start with arch. or workload. and name fields as the files do, with [i] \
                 for list items"
            }
            SetError::NonFinite { .. } => "write a finite number",
            // A value of the right form that the field's own check refused (a number
            // format's `n = 33`): the message says what is valid, as it does in a spec file.
            SetError::Type { message, .. } if crate::spec::is_out_of_range(message) => {
                crate::spec::RANGE_HINT
            }
            SetError::WideInteger { .. } => crate::spec::INTEGER_HINT,
            SetError::Value { .. } | SetError::Type { .. } => match source {
                SetSource::CommandLine => {
                    "write the value as the field is written in a spec file (quoted for the \
                     shell); the resolved.ron of a run shows every field's form"
                }
                SetSource::StudyAxis => {
                    "write the value as the field is written in a spec file (RON); the \
                     resolved.ron of a run shows every field's form"
                }
            },
        })
    }
}

/// Whether two field paths (as `--set` and study axes write them, `model[0].out`) name a
/// common field: equal, or one holds the other, a prefix ending at a step boundary
/// (`stream` holds `stream.samples`, `model` holds `model[0]`; `columns` does not hold
/// `columns_x`).
pub fn paths_overlap(a: &str, b: &str) -> bool {
    let holds = |outer: &str, inner: &str| {
        inner
            .strip_prefix(outer)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '[']))
    };
    holds(a, b) || holds(b, a)
}

/// Applies every `PATH=VALUE` in order to copies of the two specs.
pub fn apply(
    arch: &ArchSpec,
    workload: &WorkloadSpec,
    sets: &[String],
) -> Result<(ArchSpec, WorkloadSpec), SetError> {
    if sets.is_empty() {
        return Ok((arch.clone(), workload.clone()));
    }
    for (root, field) in [
        ("arch", super::finite::first_non_finite(arch)),
        ("workload", super::finite::first_non_finite(workload)),
    ] {
        if let Some(field) = field {
            return Err(SetError::NonFinite { root, field });
        }
    }
    let mut a = to_value(arch);
    let mut w = to_value(workload);
    for s in sets {
        let (path, text) = s
            .split_once('=')
            .map(|(p, v)| (p.trim(), v.trim()))
            .filter(|(p, v)| !p.is_empty() && !v.is_empty())
            .ok_or_else(|| SetError::Syntax(s.clone()))?;
        let (root, rest) = match path.split_once('.') {
            Some(("arch", rest)) => (&mut a, rest),
            Some(("workload", rest)) => (&mut w, rest),
            _ => {
                return Err(SetError::Root {
                    path: path.to_string(),
                });
            }
        };
        let (new, _, wide) = parse(text, false).map_err(|message| SetError::Value {
            path: path.to_string(),
            value: text.to_string(),
            message,
        })?;
        let (slot, created) = follow(root, rest).map_err(|message| SetError::NoSuchField {
            path: path.to_string(),
            message,
        })?;
        let old = slot.clone();
        *slot = shape_like(new, slot);
        // Check the type at once, so the error names this --set.
        let check = |v: &Value, is_arch: bool| -> Result<(), String> {
            if is_arch {
                from_value::<ArchSpec>(v).map(|_| ())
            } else {
                from_value::<WorkloadSpec>(v).map(|_| ())
            }
        };
        let is_arch = path.starts_with("arch.");
        let mut checked = check(if is_arch { &a } else { &w }, is_arch);
        // A bare `None` is read as an absent option; where the field is an enum with a
        // variant of that name (`activation: None`), it means the variant: read again so.
        if checked.is_err()
            && let Ok(alt) = parse_value_none_as_variant(text)
        {
            let root = if is_arch { &mut a } else { &mut w };
            if let Ok((slot, _)) = follow(root, rest) {
                *slot = shape_like(alt, &old);
                if check(if is_arch { &a } else { &w }, is_arch).is_ok() {
                    checked = Ok(());
                }
            }
        }
        checked.map_err(|message| {
            // An added field the struct does not have: serde names the ones it has.
            match (&created, message.split_once(", expected ")) {
                (Some(name), Some((head, expected))) if head.starts_with("unknown field") => {
                    SetError::NoSuchField {
                        path: path.to_string(),
                        message: format!("no field `{name}`; expected {expected}"),
                    }
                }
                // JSON reads a whole number beyond 64 bits as a float; where the field
                // wants a whole number, say what was wrong with it.
                _ if is_wide(&message, wide.as_deref()) => SetError::WideInteger {
                    path: path.to_string(),
                    value: text.to_string(),
                    number: wide.clone().unwrap_or_default(),
                },
                _ => SetError::Type {
                    path: path.to_string(),
                    value: text.to_string(),
                    message,
                },
            }
        })?;
    }
    let arch = from_value(&a).map_err(|message| SetError::Type {
        path: "arch".into(),
        value: String::new(),
        message,
    })?;
    let workload = from_value(&w).map_err(|message| SetError::Type {
        path: "workload".into(),
        value: String::new(),
        message,
    })?;
    Ok((arch, workload))
}

fn to_value<T: Serialize>(x: &T) -> Value {
    // Spec types are plain data: serialising them to JSON values cannot fail.
    serde_json::to_value(x).unwrap_or(Value::Null)
}

fn from_value<T: DeserializeOwned>(v: &Value) -> Result<T, String> {
    T::deserialize(v).map_err(|e| e.to_string())
}

/// The single variant wrapping an enum value (`{"Learning": {...}}`), if `v` is one.
fn variant(v: &Value) -> Option<(&String, &Value)> {
    match v {
        Value::Object(m) if m.len() == 1 => {
            let (k, inner) = m.iter().next()?;
            k.chars()
                .next()
                .is_some_and(char::is_uppercase)
                .then_some((k, inner))
        }
        _ => None,
    }
}

fn fields(m: &Map<String, Value>) -> String {
    m.keys().cloned().collect::<Vec<_>>().join(", ")
}

/// Follows `path` (fields and `[i]` items, through enum variants) to the value it names.
///
/// A field the path names last may be absent: fields at their default value are left out
/// when a spec is serialised (`repeat`, `perturb`, `per_sample`, ...). It is then added,
/// empty, and returned as `Some(name)`, so that the caller lets serde decide whether the
/// struct has such a field.
fn follow<'a>(root: &'a mut Value, path: &str) -> Result<(&'a mut Value, Option<String>), String> {
    let mut cur = root;
    let mut created = None;
    let last = path.split('.').count() - 1;
    for (n, seg) in path.split('.').enumerate() {
        let (name, indices) = match seg.find('[') {
            Some(i) => (&seg[..i], &seg[i..]),
            None => (seg, ""),
        };
        if !name.is_empty() {
            let create = n == last && indices.is_empty();
            let (next, new) = field(cur, name, create)?;
            cur = next;
            if new {
                created = Some(name.to_string());
            }
        }
        let mut rest = indices;
        while let Some(r) = rest.strip_prefix('[') {
            let close = r.find(']').ok_or_else(|| format!("`{seg}`: missing `]`"))?;
            let digits = &r[..close];
            // Plain decimal only (the number reads back as written): `+0` or `00` would
            // name the same item as `0` under another spelling, and two axes could then
            // set one field unnoticed.
            let i: usize = digits
                .parse()
                .ok()
                .filter(|i: &usize| i.to_string() == digits)
                .ok_or_else(|| {
                    format!("`{seg}`: `{digits}` is not an index (a plain number such as 0 or 12)")
                })?;
            rest = &r[close + 1..];
            cur = item(cur, i, name)?;
        }
        if !rest.is_empty() {
            return Err(format!("`{seg}`: unexpected `{rest}`"));
        }
    }
    Ok((cur, created))
}

/// The field `name` of `v` (stepping through an enum variant); with `create`, a field `v`
/// lacks is added as null and the second value is true.
fn field<'a>(v: &'a mut Value, name: &str, create: bool) -> Result<(&'a mut Value, bool), String> {
    // One spelling per field: a path steps through a variant without naming it, so a path
    // that named it would set the same field as one that does not, unseen by the check
    // that two axes set different fields.
    if let Some((k, _)) = variant(v)
        && k == name
    {
        return Err(format!(
            "`{name}` is the variant here: leave it out (paths step through a variant to its \
             fields)"
        ));
    }
    // Only a struct, or a variant with fields, can take a new field.
    let create = create
        && match variant(v) {
            Some((k, inner)) => k != name && inner.is_object(),
            None => v.is_object(),
        };
    // Step into an enum variant's fields when the name is not the variant's own.
    let through_variant = variant(v).is_some_and(|(k, inner)| {
        k != name && matches!(inner, Value::Object(m) if create || m.contains_key(name))
    });
    let here = match &*v {
        Value::Object(m) if !create && !through_variant && !m.contains_key(name) => {
            Some(match variant(v) {
                Some((k, Value::Object(inner))) => format!("{k} has {}", fields(inner)),
                _ => format!("fields here: {}", fields(m)),
            })
        }
        _ => None,
    };
    if let Some(here) = here {
        return Err(format!("no field `{name}`; {here}"));
    }
    let Value::Object(m) = v else {
        return Err(format!("no field `{name}`: the value there has no fields"));
    };
    if through_variant {
        let inner = m.values_mut().next().ok_or("an empty variant")?;
        return field(inner, name, create);
    }
    let new = !m.contains_key(name);
    Ok((m.entry(name).or_insert(Value::Null), new))
}

fn item<'a>(v: &'a mut Value, i: usize, name: &str) -> Result<&'a mut Value, String> {
    match v {
        Value::Array(items) => {
            let n = items.len();
            items
                .get_mut(i)
                .ok_or_else(|| format!("`{name}` has {n} item(s), no [{i}]"))
        }
        _ => Err(format!("`{name}` is not a list")),
    }
}

/// Unwraps a named struct (`Name(field: ..)`) where the field holds a plain struct, so
/// that optional struct names in RON work as they do in files.
fn shape_like(new: Value, old: &Value) -> Value {
    let old_is_plain_struct = matches!(old, Value::Object(_)) && variant(old).is_none();
    if old_is_plain_struct && let Some((_, inner @ Value::Object(_))) = variant(&new) {
        return inner.clone();
    }
    new
}

/// Parses one RON value into the serde data model's JSON shape: `Name` → `"Name"`,
/// `Name(x)` → `{"Name": x}`, `Name(a, b)` → `{"Name": [a, b]}`, `Name(f: x)` →
/// `{"Name": {"f": x}}`, `(f: x)` → `{"f": x}`, `Some(x)` → `x`, `None` → null.
/// A raw identifier (`r#None`, as `resolved.ron` writes the activation) is always a name.
pub fn parse_value(text: &str) -> Result<Value, String> {
    parse(text, false).map(|(v, _, _)| v)
}

/// [`parse_value`], except that a bare `None` is the unit variant `"None"`, not null; an
/// error when the text has no bare `None` (there is nothing to read differently).
fn parse_value_none_as_variant(text: &str) -> Result<Value, String> {
    match parse(text, true)? {
        (_, 0, _) => Err("no other reading".into()),
        (v, _, _) => Ok(v),
    }
}

/// Whether serde's `message` refuses a float that is the whole number `wide` (beyond 64
/// bits, which JSON carried as a float) rather than another float of the value.
fn is_wide(message: &str, wide: Option<&str>) -> bool {
    let float = message
        .strip_prefix("invalid type: floating point `")
        .and_then(|rest| rest.split('`').next())
        .and_then(|f| f.parse::<f64>().ok());
    match (float, wide.and_then(|w| w.parse::<f64>().ok())) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

/// The value of `text`, the number of bare `None`s in it, and the first whole number in it
/// beyond 64 bits (read as a float, as a spec file's float field reads it), if any.
fn parse(text: &str, none_is_variant: bool) -> Result<(Value, usize, Option<String>), String> {
    let mut p = Parser {
        s: text.as_bytes(),
        i: 0,
        none_is_variant,
        nones: 0,
        wide: None,
    };
    let v = p.value()?;
    p.ws();
    if p.i != p.s.len() {
        return Err(format!("unexpected `{}` at column {}", p.rest(), p.i + 1));
    }
    Ok((v, p.nones, p.wide))
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    /// Read a bare `None` as the unit variant `"None"` instead of null.
    none_is_variant: bool,
    /// Bare `None`s read.
    nones: usize,
    /// The first whole number read that does not fit 64 bits.
    wide: Option<String>,
}

impl Parser<'_> {
    fn rest(&self) -> String {
        String::from_utf8_lossy(&self.s[self.i..]).into_owned()
    }

    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.s.get(self.i).copied()
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn ident(&mut self) -> String {
        let start = self.i;
        while self.i < self.s.len()
            && (self.s[self.i].is_ascii_alphanumeric() || self.s[self.i] == b'_')
        {
            self.i += 1;
        }
        String::from_utf8_lossy(&self.s[start..self.i]).into_owned()
    }

    fn value(&mut self) -> Result<Value, String> {
        match self.peek() {
            None => Err("a value is missing".into()),
            Some(b'[') => {
                self.i += 1;
                let mut items = Vec::new();
                while !self.eat(b']') {
                    items.push(self.value()?);
                    if !self.eat(b',') && self.peek() != Some(b']') {
                        return Err(format!("expected `,` or `]` at column {}", self.i + 1));
                    }
                }
                Ok(Value::Array(items))
            }
            Some(b'(') => self.parens(None),
            Some(b'"') => {
                self.i += 1;
                let start = self.i;
                while self.i < self.s.len() && self.s[self.i] != b'"' {
                    self.i += if self.s[self.i] == b'\\' { 2 } else { 1 };
                }
                if self.i >= self.s.len() {
                    return Err("unterminated string".into());
                }
                let raw = String::from_utf8_lossy(&self.s[start..self.i]).into_owned();
                self.i += 1;
                serde_json::from_str(&format!("\"{raw}\"")).map_err(|e| e.to_string())
            }
            Some(c) if c == b'-' || c == b'+' || c.is_ascii_digit() || c == b'.' => {
                let start = self.i;
                self.i += 1;
                while self.i < self.s.len()
                    && (self.s[self.i].is_ascii_alphanumeric()
                        || matches!(self.s[self.i], b'.' | b'_' | b'-' | b'+'))
                {
                    self.i += 1;
                }
                let t = String::from_utf8_lossy(&self.s[start..self.i]).replace('_', "");
                let t = t.trim_start_matches('+');
                if let Ok(n) = t.parse::<i64>() {
                    return Ok(Value::from(n));
                }
                if let Ok(n) = t.parse::<u64>() {
                    return Ok(Value::from(n));
                }
                let digits = t.strip_prefix('-').unwrap_or(t);
                if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
                    self.wide.get_or_insert_with(|| t.to_string());
                }
                match t.parse::<f64>() {
                    Ok(x) if x.is_finite() => Ok(Value::from(x)),
                    _ => Err(format!("`{t}` is not a number")),
                }
            }
            Some(c) if c.is_ascii_alphabetic() || c == b'_' => {
                let raw = self.s[self.i..].starts_with(b"r#");
                if raw {
                    self.i += 2;
                }
                let name = self.ident();
                if raw && name.is_empty() {
                    return Err(format!("`r#` without a name at column {}", self.i + 1));
                }
                match name.as_str() {
                    _ if raw => {}
                    "true" => return Ok(Value::Bool(true)),
                    "false" => return Ok(Value::Bool(false)),
                    "None" => {
                        self.nones += 1;
                        if !self.none_is_variant {
                            return Ok(Value::Null);
                        }
                    }
                    _ => {}
                }
                if self.peek() == Some(b'(') {
                    if name == "Some" {
                        self.i += 1;
                        let v = self.value()?;
                        if !self.eat(b')') {
                            return Err("expected `)` after Some(".into());
                        }
                        return Ok(v);
                    }
                    self.parens(Some(name))
                } else {
                    Ok(Value::String(name))
                }
            }
            Some(c) => Err(format!(
                "unexpected `{}` at column {}",
                c as char,
                self.i + 1
            )),
        }
    }

    /// `(...)` after an optional name: named fields make a struct, otherwise a tuple.
    fn parens(&mut self, name: Option<String>) -> Result<Value, String> {
        self.i += 1; // `(`
        let mut named = Map::new();
        let mut items = Vec::new();
        while !self.eat(b')') {
            // A field name is an identifier followed by `:`.
            let save = self.i;
            self.ws();
            let id = self.ident();
            if !id.is_empty() && self.eat(b':') {
                named.insert(id, self.value()?);
            } else {
                self.i = save;
                items.push(self.value()?);
            }
            if !self.eat(b',') && self.peek() != Some(b')') {
                return Err(format!("expected `,` or `)` at column {}", self.i + 1));
            }
        }
        if !named.is_empty() && !items.is_empty() {
            return Err("mixes named and unnamed values in one `(...)`".into());
        }
        let inner = if !named.is_empty() {
            Value::Object(named)
        } else if items.len() == 1 && name.is_some() {
            items.pop().expect("one item")
        } else if items.is_empty() && name.is_none() {
            Value::Null
        } else if items.is_empty() {
            // `Name()`: a struct variant whose fields all take their defaults.
            Value::Object(Map::new())
        } else {
            Value::Array(items)
        };
        Ok(match name {
            Some(n) => Value::Object(Map::from_iter([(n, inner)])),
            None => inner,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{SpecKind, parse};
    use std::path::Path;

    fn specs() -> (ArchSpec, WorkloadSpec) {
        let a = parse(
            Path::new("a.ron"),
            include_str!("../../arch/xdna2-strix-halo.ron"),
            SpecKind::Arch,
        )
        .unwrap();
        let w = parse(
            Path::new("w.ron"),
            include_str!("../../workloads/mlp-continual.ron"),
            SpecKind::Workload,
        )
        .unwrap();
        (a, w)
    }

    #[test]
    fn ron_values_take_the_serde_shape() {
        assert_eq!(parse_value("65536").unwrap(), Value::from(65536));
        assert_eq!(parse_value("-2.5e3").unwrap(), Value::from(-2500.0));
        assert_eq!(parse_value("Bf16").unwrap(), Value::from("Bf16"));
        assert_eq!(
            parse_value("Count(8)").unwrap(),
            serde_json::json!({"Count": 8})
        );
        assert_eq!(
            parse_value("ForwardGradient(perturbations: 4)").unwrap(),
            serde_json::json!({"ForwardGradient": {"perturbations": 4}})
        );
        assert_eq!(
            parse_value("Backprop()").unwrap(),
            serde_json::json!({"Backprop": {}})
        );
        assert_eq!(parse_value("[0, 1,]").unwrap(), serde_json::json!([0, 1]));
        assert_eq!(parse_value("Some(\"x\")").unwrap(), Value::from("x"));
        assert_eq!(parse_value("None").unwrap(), Value::Null);
        assert!(parse_value("Count(8").is_err());
        assert!(parse_value("8 9").is_err());
        assert!(parse_value("(a: 1, 2)").is_err());
    }

    #[test]
    fn fields_change_by_path_and_nothing_else_does() {
        let (a, w) = specs();
        let (a2, w2) = apply(
            &a,
            &w,
            &[
                "arch.compute.l1_bytes=131072".into(),
                "arch.dram.data_rate_mts=6400.0".into(),
                "workload.partitions[1].tiles=Count(4)".into(),
                "workload.partitions[1].method.perturbations=3".into(),
            ],
        )
        .unwrap();
        assert_eq!(a2.compute.l1_bytes, 131072);
        assert_eq!(a2.dram.data_rate_mts, 6400.0);
        let mut a3 = a2.clone();
        a3.compute.l1_bytes = a.compute.l1_bytes;
        a3.dram.data_rate_mts = a.dram.data_rate_mts;
        assert_eq!(a3, a);
        let text = format!("{w2:?}");
        assert!(text.contains("Count(4)"), "{text}");
        assert!(text.contains("perturbations: 3"), "{text}");
        assert_ne!(w2, w);
    }

    #[test]
    fn none_is_an_absent_option_or_the_variant_of_that_name_where_the_field_has_one() {
        use crate::spec::{ActivationSpec, LayerSpec};
        let (a, w) = specs();
        let act = |sets: &[&str]| {
            let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
            let (_, w) = apply(&a, &w, &sets).unwrap();
            match &w.model[0] {
                LayerSpec::Dense { activation, .. } => *activation,
                other => panic!("{other:?}"),
            }
        };
        assert_eq!(
            act(&["workload.model[0].activation=None"]),
            ActivationSpec::None
        );
        assert_eq!(
            act(&["workload.model[0].activation=r#None"]),
            ActivationSpec::None
        );
        assert_eq!(
            act(&["workload.model[0]=Dense(in: 4, out: 8, activation: None)"]),
            ActivationSpec::None
        );
        // An option still reads None as absent.
        let sets = [
            "workload.learning.target_loss=0.5".to_string(),
            "workload.learning.target_loss=None".to_string(),
        ];
        let (_, w2) = apply(&a, &w, &sets[..1]).unwrap();
        assert_eq!(w2.learning.target_loss, Some(0.5));
        let (_, w2) = apply(&a, &w, &sets).unwrap();
        assert_eq!(w2.learning.target_loss, None);
        assert_eq!(parse_value("r#Some").unwrap(), Value::String("Some".into()));
        assert!(parse_value("r#").is_err());
        let e = apply(&a, &w, &["workload.model[0].activation=Nonee".into()]).unwrap_err();
        assert!(e.to_string().contains("expected one of `None`"), "{e}");
    }

    #[test]
    fn paths_overlap_when_one_holds_the_other() {
        assert!(paths_overlap("workload.stream", "workload.stream.samples"));
        assert!(paths_overlap("workload.model[0].out", "workload.model"));
        assert!(paths_overlap("workload.model[0]", "workload.model[0]"));
        assert!(!paths_overlap("workload.model[0]", "workload.model[1]"));
        assert!(!paths_overlap("partitions[1]", "partitions[10]"));
        assert!(!paths_overlap(
            "workload.stream.samples",
            "workload.stream.samples_per_call"
        ));
        assert!(!paths_overlap("seed", "workload.seed"));
    }

    #[test]
    fn bad_paths_and_values_say_what_exists() {
        let (a, w) = specs();
        let err = |s: &str| apply(&a, &w, &[s.to_string()]).unwrap_err().to_string();
        let e = err("arch.compute.l1_byte=1");
        assert!(
            e.contains("no field `l1_byte`") && e.contains("l1_bytes"),
            "{e}"
        );
        // One spelling per index, so that two paths name one field only when they read
        // the same.
        for idx in ["+0", "00", "01", " 0", "", "-1"] {
            let e = err(&format!("workload.partitions[{idx}].tiles=Count(1)"));
            assert!(e.contains("is not an index"), "{idx}: {e}");
        }
        let e = err("workload.partitions[0].Inference.tiles=Count(1)");
        assert!(e.contains("is the variant here"), "{e}");
        let e = err("workload.partitions[7].tiles=Count(1)");
        assert!(e.contains("no [7]"), "{e}");
        let e = err("arch.compute.l1_bytes=Count(1)");
        assert!(e.contains("does not fit"), "{e}");
        assert!(err("machine.x=1").contains("starts with"));
        assert!(err("arch.compute.l1_bytes").contains("PATH=VALUE"));
        assert!(err("arch.compute.l1_bytes=[1").contains("not a RON value"));
        // A misspelt field inside an enum variant, and below a newtype variant.
        let e = err("workload.model[0].repaet=2");
        assert!(
            e.contains("no field `repaet`") && e.contains("`repeat`"),
            "{e}"
        );
        let e = err("workload.partitions[1].tiles.n=2");
        assert!(e.contains("no field `n`"), "{e}");
        let e = err("workload.model[0].repeat=Bf16");
        assert!(e.contains("does not fit"), "{e}");
        // A whole number beyond 64 bits: named where the field is whole, taken where the
        // field is a float (as in a spec file).
        let e = err("workload.model[0].repeat=18446744073709551616");
        assert!(
            e.contains("holds the whole number 18446744073709551616, beyond 64 bits"),
            "{e}"
        );
        let (a, w) = specs();
        let (a, _) = apply(&a, &w, &["arch.clock_mhz=100000000000000000000".into()]).unwrap();
        assert_eq!(a.clock_mhz, 1e20);
        // Where another float is what the field refuses, that one is named.
        let e = apply(
            &a,
            &w,
            &["workload.mapping.columns=Some([0, 1.5, 99999999999999999999])".into()],
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("floating point `1.5`") && !e.contains("beyond 64 bits"),
            "{e}"
        );
    }

    #[test]
    fn fields_left_out_at_their_default_can_be_set() {
        let (a, w) = specs();
        let (_, w2) = apply(
            &a,
            &w,
            &[
                "workload.model[1].repeat=3".into(),
                "workload.learning.per_sample=true".into(),
                "workload.learning.value_macs=4096".into(),
                "workload.partitions[1].method.perturb=Activations".into(),
            ],
        )
        .unwrap();
        let text = format!("{w2:?}");
        for want in [
            "repeat: 3",
            "per_sample: true",
            "value_macs: Some(4096)",
            "perturb: Activations",
        ] {
            assert!(text.contains(want), "{want} in {text}");
        }
    }

    /// `--set` and a study axis give the same hint for the same fault; only how to write
    /// a value differs (quoted for the shell, or RON in the study file).
    #[test]
    fn the_command_line_and_a_study_axis_hint_alike() {
        let (a, w) = specs();
        let err = |set: &str| apply(&a, &w, &[set.to_string()]).unwrap_err();
        let both = |e: &SetError| (e.hint(SetSource::CommandLine), e.hint(SetSource::StudyAxis));
        let range = err("workload.partitions[0].format=Some(Posit(n: 300, es: 2))");
        assert_eq!(
            both(&range),
            (Some(crate::spec::RANGE_HINT), Some(crate::spec::RANGE_HINT))
        );
        let wide = err("workload.partitions[0].format=Some(Posit(n: 18446744073709551616, es: 2))");
        assert_eq!(
            both(&wide),
            (
                Some(crate::spec::INTEGER_HINT),
                Some(crate::spec::INTEGER_HINT)
            )
        );
        let path = err("workload.partitions[0].nope=1");
        let (cli, axis) = both(&path);
        assert_eq!(cli, axis);
        assert!(cli.unwrap().contains("[i] for list items"));
        let form = err("workload.batch=\"eight\"");
        let (cli, axis) = both(&form);
        assert!(cli.unwrap().contains("quoted for the shell"), "{cli:?}");
        assert!(axis.unwrap().contains("(RON)"), "{axis:?}");
        assert_eq!(both(&err("nonsense")), (None, None));
    }
}
