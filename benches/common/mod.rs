//! What the benchmarks share: CPU-time measurement and selecting cases by name.
//! (Each benchmark compiles this module and uses a part of it.)
#![allow(dead_code)]

/// Nanoseconds this thread has spent on a CPU (Linux `/proc/thread-self/schedstat`), so that
/// time the scheduler gives to other processes on a shared machine is not counted.
pub fn cpu_ns() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

/// Whether a benchmark is selected: `cargo bench --bench NAME -- WORD` runs only the cases
/// whose names contain WORD (the flags cargo adds, such as `--bench`, are ignored).
pub fn selected(name: &str) -> bool {
    let words: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    words.is_empty() || words.iter().any(|w| name.contains(w.as_str()))
}
