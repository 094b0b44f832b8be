//! Finding where a field is written in a spec file, so semantic problems found after
//! parsing can still point at file:line:col.

/// Returns the 1-based (line, col) of the field at a dotted path such as
/// `compute.l1_bytes`, `partitions[1].tiles` or `model[2]`, if it can be found.
pub fn locate(text: &str, path: &str) -> Option<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut pos = 0usize;
    let mut found = None;
    for seg in path.split('.') {
        let (name, index) = match seg.find('[') {
            Some(i) => (
                &seg[..i],
                seg[i + 1..].trim_end_matches(']').parse::<usize>().ok(),
            ),
            None => (seg, None),
        };
        if !name.is_empty() {
            let at = find_field(text, pos, name)?;
            found = Some(at);
            pos = at + name.len();
        }
        if let Some(idx) = index {
            // Enter the list after `[` and skip `idx` top-level items.
            let open = text[pos..].find('[')? + pos;
            let mut depth = 0i32;
            let mut item = 0usize;
            let mut i = open + 1;
            let mut start = None;
            while i < bytes.len() {
                let c = bytes[i];
                match c {
                    b'(' | b'[' | b'{' => depth += 1,
                    b')' | b']' | b'}' => {
                        if depth == 0 {
                            break;
                        }
                        depth -= 1;
                    }
                    b',' if depth == 0 => item += 1,
                    _ => {}
                }
                if item == idx && start.is_none() && !c.is_ascii_whitespace() && c != b',' {
                    start = Some(i);
                }
                if start.is_some() {
                    break;
                }
                i += 1;
            }
            let s = start?;
            found = Some(s);
            pos = s;
        }
    }
    found.map(|off| line_col(text, off))
}

fn find_field(text: &str, from: usize, name: &str) -> Option<usize> {
    let mut start = from;
    while let Some(i) = text[start..].find(name) {
        let at = start + i;
        let before_ok = at == 0
            || !text[..at]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
        let rest = text[at + name.len()..].trim_start();
        let in_comment = text[..at]
            .rsplit('\n')
            .next()
            .is_some_and(|line| line.contains("//"));
        if before_ok && rest.starts_with(':') && !in_comment {
            return Some(at);
        }
        start = at + name.len();
    }
    None
}

/// The 1-based (line, col) of the field `field` of the struct whose closing `)` is at the
/// 1-based (`line`, `col`), if it is written there. The parser reports a check of a whole
/// struct (a number format's `n = 300 is out of range`) at the struct's end; this finds the
/// field the check is about.
pub fn field_of_struct_ending_at(
    text: &str,
    line: usize,
    col: usize,
    field: &str,
) -> Option<(usize, usize)> {
    let b = text.as_bytes();
    let line_start = match line {
        0 => return None,
        1 => 0,
        _ => text.match_indices('\n').nth(line - 2)?.0 + 1,
    };
    let end = line_start
        + text[line_start..]
            .split('\n')
            .next()?
            .char_indices()
            .nth(col.checked_sub(1)?)?
            .0;
    if b[end] != b')' {
        return None;
    }
    // Its opening `(`.
    let mut depth = 0usize;
    let mut open = None;
    for i in (0..end).rev() {
        match b[i] {
            b')' | b']' => depth += 1,
            b'(' | b'[' if depth == 0 => {
                open = Some(i);
                break;
            }
            b'(' | b'[' => depth -= 1,
            _ => {}
        }
    }
    let open = open?;
    // `field:` directly inside it (comments and strings read past).
    let (name, _, _) = super::run_record::field_span(&text[open..=end], field)?;
    Some(line_col(text, open + name))
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nested_fields_and_list_items() {
        let t = "Arch(\n  // l1_bytes: not this\n  compute: (\n    l1_bytes: 0,\n  ),\n  model: [\n    Dense(in: 1),\n    Dense(in: 2, out: 3),\n  ],\n)";
        assert_eq!(locate(t, "compute.l1_bytes"), Some((4, 5)));
        assert_eq!(locate(t, "model[1]"), Some((8, 5)));
        assert_eq!(locate(t, "model[1].out"), Some((8, 18)));
        assert_eq!(locate(t, "nothing"), None);
    }

    #[test]
    fn finds_a_field_of_the_struct_that_ends_at_a_place() {
        let t = "W(\n  f: Some(Posit(n: 300, es: 2)),\n  g: BPosit(\n    n: 16, es: 2,\n    rs: 99,\n  ),\n)";
        // `Posit(` closes at line 2, col 30; `BPosit(` at line 6, col 3.
        assert_eq!(field_of_struct_ending_at(t, 2, 30, "n"), Some((2, 17)));
        assert_eq!(field_of_struct_ending_at(t, 2, 30, "es"), Some((2, 25)));
        assert_eq!(field_of_struct_ending_at(t, 6, 3, "rs"), Some((5, 5)));
        // Not a closing parenthesis there, not the struct's own field, or no such field:
        // nothing.
        assert_eq!(field_of_struct_ending_at(t, 2, 29, "n"), None);
        assert_eq!(field_of_struct_ending_at(t, 2, 31, "n"), None);
        assert_eq!(field_of_struct_ending_at(t, 2, 30, "rs"), None);
        assert_eq!(field_of_struct_ending_at(t, 99, 1, "n"), None);
        assert_eq!(field_of_struct_ending_at(t, 2, 999, "n"), None);
        // Any place in any text: no panic.
        let u = "é(n: 1)\n(n:)é";
        for line in 0..4 {
            for col in 0..12 {
                let _ = field_of_struct_ending_at(u, line, col, "n");
            }
        }
    }
}
