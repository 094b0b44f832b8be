//! Chrome trace-event JSON of a window of a run (`tilesim run --trace FILE`), for
//! ui.perfetto.dev and chrome://tracing.
//!
//! One process per tile (`tile (col,row)`, plus `host`), one thread per program on it
//! (the core's loop, each DMA channel's descriptor chain), each timed op a complete
//! slice (`ph: X`) named by what it did. A transfer between two tiles is also a flow
//! (`ph: s` at its start on the sending program, `ph: f` at its end on an `arrivals`
//! track of the receiving tile), so the viewer draws an arrow from sender to receiver.
//! Times are microseconds of simulated time. The run's end (its `simulated_cycles`) is a
//! global instant event, `end of run`; an op still in flight then (started before the stop,
//! ending after it) carries `"past_end_of_run": true` in its args, since the report counts
//! none of its work. A spiking network's activity comes as counters (`ph: C`): synaptic
//! operations per µs of each neuromorphic core, spikes per µs of each population, on the
//! network's own hardware clock from cycle 0 to its end (in a hybrid run, the `end of run`
//! marker is the dataflow part's end; the report counts the whole network run).

use std::collections::BTreeSet;
use std::fmt::Write;

use crate::engine::{Span, SpanKind, overlaps};
use crate::mapper::{ComputeKind, TileSchedule};
use crate::model::TileCoord;
use crate::neuro::ActivityBin;

fn pid_of(tile: Option<TileCoord>) -> u64 {
    tile.map_or(0, |t| 1 + u64::from(t.col) * 64 + u64::from(t.row))
}

fn process_name(tile: Option<TileCoord>) -> String {
    tile.map_or("host".into(), |t| format!("tile ({},{})", t.col, t.row))
}

fn esc(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"?\"".into())
}

/// Track id of the arrivals of program `k` on the receiving tile.
const ARRIVALS: u64 = 1 << 20;

/// Process id of the spiking network's population counters.
const NETWORK_PID: u64 = 1 << 30;

/// The spiking side of a hybrid or spiking run, for [`chrome_trace`]: the network, its
/// placement and run, and the trace window `[start, end)` in cycles (None: the whole run).
pub struct NeuroTrace<'a> {
    /// The spiking network's run.
    pub neuro: &'a crate::neuro::NeuroOutput,
    /// The trace window, as `--trace-window` gave it.
    pub window: Option<(u64, u64)>,
}

/// The trace of `spans` of a run that ended at cycle `end` as Chrome trace-event JSON
/// (`{"traceEvents": [...]}`), with the spiking network's activity when `neuro` is given:
/// one process per neuromorphic core with a counter of its synaptic operations per µs,
/// and a `spiking network` process with a counter of each population's spikes per µs,
/// each value over one stretch of the run ([`crate::neuro::NeuroRun::activity`]).
pub fn chrome_trace(
    schedule: &TileSchedule,
    clock_hz: f64,
    spans: &[Span],
    end: u64,
    neuro: Option<NeuroTrace<'_>>,
) -> String {
    let us = |c: u64| c as f64 / clock_hz * 1e6;
    let mut events: Vec<String> = Vec::new();
    let mut processes: BTreeSet<u64> = BTreeSet::new();
    let mut threads: BTreeSet<(u64, u64)> = BTreeSet::new();
    let mut tile_of_pid = std::collections::BTreeMap::new();
    // Process names other than AIE tiles' and the host's.
    let mut named: std::collections::BTreeMap<u64, String> = std::collections::BTreeMap::new();
    if let Some(n) = &neuro {
        let out = n.neuro;
        let window = Some(n.window.unwrap_or((0, u64::MAX)));
        let bins: Vec<&ActivityBin> = out
            .run
            .activity
            .iter()
            .filter(|b| overlaps(window, b.start_cycle, b.end_cycle))
            .collect();
        // A count over a stretch as a rate per µs (a stretch of no hardware time counts as
        // one cycle).
        let per_us = |count: u64, b: &ActivityBin| -> f64 {
            count as f64 / us(b.end_cycle.saturating_sub(b.start_cycle).max(1))
        };
        // One counter event per stretch at its start, and a closing zero at the last end.
        let mut counter = |pid: u64, name: &str, args: &dyn Fn(Option<&ActivityBin>) -> String| {
            let Some(last) = bins.last() else {
                return;
            };
            let points = bins
                .iter()
                .map(|b| (b.start_cycle, Some(*b)))
                .chain([(last.end_cycle, None)]);
            for (at, b) in points {
                events.push(format!(
                    "{{\"name\":{},\"cat\":\"neuro\",\"ph\":\"C\",\"ts\":{},\"pid\":{pid},\"args\":{{{}}}}}",
                    esc(name),
                    us(at),
                    args(b)
                ));
            }
        };
        if !bins.is_empty() {
            for (i, core) in out.placement.cores.iter().enumerate() {
                if core.neurons == 0 {
                    continue;
                }
                let pid = pid_of(Some(core.tile));
                processes.insert(pid);
                named.insert(
                    pid,
                    format!("neuro core ({},{})", core.tile.col, core.tile.row),
                );
                counter(pid, "synaptic ops per µs", &|b| {
                    let v = b.map_or(0.0, |b| {
                        per_us(b.core_events.get(i).copied().unwrap_or(0), b)
                    });
                    format!("\"ops\":{v}")
                });
            }
            processes.insert(NETWORK_PID);
            named.insert(NETWORK_PID, "spiking network".into());
            let pops = &out.network.populations;
            counter(NETWORK_PID, "spikes per µs", &|b| {
                pops.iter()
                    .enumerate()
                    .map(|(j, p)| {
                        let v = b.map_or(0.0, |b| {
                            per_us(b.pop_spikes.get(j).copied().unwrap_or(0), b)
                        });
                        format!("{}:{v}", esc(&p.name))
                    })
                    .collect::<Vec<_>>()
                    .join(",")
            });
        }
    }
    for (flow, s) in spans.iter().enumerate() {
        let Some(p) = schedule.programs.get(s.program as usize) else {
            continue;
        };
        let pid = pid_of(p.tile);
        let tid = u64::from(s.program);
        processes.insert(pid);
        tile_of_pid.insert(pid, p.tile);
        threads.insert((pid, tid));
        let (name, cat, mut args) = match s.kind {
            SpanKind::Compute(k) => (
                match k {
                    ComputeKind::Forward => "forward",
                    ComputeKind::ForwardTangent => "forward + tangent",
                    ComputeKind::Estimate => "estimate",
                    ComputeKind::Backward => "backward",
                    ComputeKind::HostUpdate => "host update",
                }
                .to_string(),
                "compute",
                String::new(),
            ),
            SpanKind::Dispatch => ("dispatch".to_string(), "dispatch", String::new()),
            SpanKind::Transfer { route, bytes } => {
                let r = schedule.routes.get(route as usize);
                let args = r.map_or(String::new(), |r| {
                    format!(
                        "\"bytes\":{bytes},\"from\":\"{},{}\",\"to\":\"{},{}\",\"dram\":\"{:?}\"",
                        r.from.col, r.from.row, r.to.col, r.to.row, r.dram
                    )
                });
                (format!("transfer {bytes} B"), "transfer", args)
            }
        };
        if s.end > end {
            if !args.is_empty() {
                args.push(',');
            }
            args.push_str("\"past_end_of_run\":true");
        }
        let args = if args.is_empty() {
            args
        } else {
            format!(",\"args\":{{{args}}}")
        };
        let ts = us(s.start);
        let dur = us(s.end.saturating_sub(s.start));
        events.push(format!(
            "{{\"name\":{},\"cat\":\"{cat}\",\"ph\":\"X\",\"ts\":{ts},\"dur\":{dur},\"pid\":{pid},\"tid\":{tid}{args}}}",
            esc(&name)
        ));
        if let SpanKind::Transfer { route, bytes } = s.kind
            && let Some(r) = schedule.routes.get(route as usize)
            && r.from != r.to
        {
            let to = pid_of(Some(r.to));
            processes.insert(to);
            tile_of_pid.insert(to, Some(r.to));
            let atid = ARRIVALS + tid;
            threads.insert((to, atid));
            let end = us(s.end);
            events.push(format!(
                "{{\"name\":\"transfer\",\"cat\":\"flow\",\"ph\":\"s\",\"id\":{flow},\"ts\":{ts},\"pid\":{pid},\"tid\":{tid}}}"
            ));
            events.push(format!(
                "{{\"name\":\"arrive {bytes} B\",\"cat\":\"transfer\",\"ph\":\"X\",\"ts\":{end},\"dur\":0,\"pid\":{to},\"tid\":{atid}}}"
            ));
            events.push(format!(
                "{{\"name\":\"transfer\",\"cat\":\"flow\",\"ph\":\"f\",\"bp\":\"e\",\"id\":{flow},\"ts\":{end},\"pid\":{to},\"tid\":{atid}}}"
            ));
        }
    }
    // The stop, across every track (`s: g`): what lies right of it is not in the report.
    events.push(format!(
        "{{\"name\":\"end of run\",\"cat\":\"run\",\"ph\":\"i\",\"s\":\"g\",\"ts\":{},\"pid\":0,\"tid\":0}}",
        us(end)
    ));
    let mut meta = Vec::new();
    for pid in &processes {
        let name = match named.get(pid) {
            Some(n) => n.clone(),
            None => process_name(tile_of_pid.get(pid).copied().flatten()),
        };
        meta.push(format!(
            "{{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":{pid},\"args\":{{\"name\":{}}}}}",
            esc(&name)
        ));
        meta.push(format!(
            "{{\"name\":\"process_sort_index\",\"ph\":\"M\",\"pid\":{pid},\"args\":{{\"sort_index\":{pid}}}}}"
        ));
    }
    for &(pid, tid) in &threads {
        let k = (tid % ARRIVALS) as usize;
        let base = schedule
            .programs
            .get(k)
            .map_or("?".to_string(), |p| p.name.clone());
        let name = if tid >= ARRIVALS {
            format!("{base} (arrivals)")
        } else {
            base
        };
        meta.push(format!(
            "{{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":{pid},\"tid\":{tid},\"args\":{{\"name\":{}}}}}",
            esc(&name)
        ));
    }
    let mut out = String::from("{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n");
    for (i, e) in meta.iter().chain(&events).enumerate() {
        if i > 0 {
            out.push_str(",\n");
        }
        let _ = write!(out, "{e}");
    }
    out.push_str("\n]}\n");
    out
}
