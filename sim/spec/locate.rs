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
}
