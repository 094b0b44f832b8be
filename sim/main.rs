//! The `tilesim` command-line tool: a thin layer over the `tilesim` library.
//!
//! Exit codes: 0 success, 2 invalid input (with file and line:col where there is one),
//! 1 anything else. A closed stdout pipe is not an error.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
