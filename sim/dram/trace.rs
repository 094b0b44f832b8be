//! Request traces: the requests the controller received, one a line, in order of arrival.
//!
//! * [`TraceFormat::Native`]: `CYCLE 0xADDR R|W BYTES`, where `CYCLE` is the DRAM clock
//!   cycle (half the data rate) at which the controller accepted the request's first burst.
//! * [`TraceFormat::Ramulator`]: Ramulator 2's load/store trace (`LoadStoreTrace`
//!   frontend): `LD 0xADDR` or `ST 0xADDR` for every 64-byte piece of each request, so the
//!   same traffic can be replayed there. Timing is not part of that format.
//!
//! Addresses are the byte addresses the sources issued; the mapping to channels and banks
//! is [`super::AddressMapping`] (documented in `docs/dram.md`).

use std::io::{self, Write};

use super::{DramRun, Request, TraceRecord};

/// Trace file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TraceFormat {
    /// `CYCLE 0xADDR R|W BYTES` per request.
    #[default]
    Native,
    /// `LD 0xADDR` / `ST 0xADDR` per 64-byte piece.
    Ramulator,
}

/// Writes the requests of `run` in order of arrival.
pub fn write_trace(
    out: &mut dyn Write,
    format: TraceFormat,
    requests: &[Request],
    run: &DramRun,
) -> io::Result<()> {
    let records = run.arrival_order.iter().map(|&i| {
        let r = &requests[i as usize];
        TraceRecord {
            cycle: run.completions[i as usize].arrival,
            addr: r.addr,
            write: r.write,
            bytes: u64::from(r.bytes),
        }
    });
    write_records(out, format, records)
}

/// Writes `records` (already in order of arrival).
pub fn write_records(
    out: &mut dyn Write,
    format: TraceFormat,
    records: impl IntoIterator<Item = TraceRecord>,
) -> io::Result<()> {
    for r in records {
        match format {
            TraceFormat::Native => {
                let rw = if r.write { 'W' } else { 'R' };
                writeln!(out, "{} {:#x} {rw} {}", r.cycle, r.addr, r.bytes)?;
            }
            TraceFormat::Ramulator => {
                let op = if r.write { "ST" } else { "LD" };
                let first = r.addr / 64;
                let last = (r.addr + r.bytes.max(1) - 1) / 64;
                for piece in first..=last {
                    writeln!(out, "{op} {:#x}", piece * 64)?;
                }
            }
        }
    }
    Ok(())
}
