//! `tilesim repr`: encode values in a numeric format and report the conversion error.

use std::io::Write;

use super::CliResult;

/// Arguments of `tilesim repr`.
#[derive(Debug, clap::Args)]
pub struct ReprArgs {
    /// Target format.
    #[arg(long)]
    pub format: String,
    /// Values to encode.
    pub values: Vec<String>,
}

/// Runs `tilesim repr`.
pub fn run(_args: &ReprArgs, _out: &mut dyn Write) -> CliResult {
    Err(super::CliError::Other(anyhow::anyhow!(
        "repr is not built yet"
    )))
}
