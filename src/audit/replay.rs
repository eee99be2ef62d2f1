//! `vaultkeeper audit replay FILE`: the same framing and rules over a file of
//! audit lines (a file device's log or a capture of the socket), with each
//! entry's own time as the clock. One JSON object per matching event (a
//! forensic listing: nothing coalesced), or with `coalesce` the alerts as the
//! listener posts them to Slack.

use super::engine_counts::EngineCounts;
use super::frame::Framer;
use super::rules::{Clock, Engine};
use super::{Alert, AuditSpec};
use std::io::{Read, Write};

#[derive(Debug, Default)]
pub(crate) struct ReplayReport {
    pub lines: u64,
    pub dropped_too_long: u64,
    pub dropped_invalid_utf8: u64,
    pub dropped_partial: u64,
    pub counts: EngineCounts,
    pub alerts: u64,
}

/// Reads `input` to its end; every alert is written to `out` as a JSON line.
pub(crate) fn replay(
    spec: &AuditSpec,
    coalesce: bool,
    mut input: impl Read,
    out: &mut impl Write,
) -> std::io::Result<ReplayReport> {
    let mut engine = if coalesce {
        Engine::new(spec)
    } else {
        Engine::per_event(spec)
    };
    let mut framer = Framer::new();
    let mut report = ReplayReport::default();
    let mut alerts: Vec<Alert> = Vec::new();
    let mut buf = vec![0u8; 256 << 10];
    let write = |alerts: &mut Vec<Alert>,
                 report: &mut ReplayReport,
                 out: &mut dyn Write|
     -> std::io::Result<()> {
        for a in alerts.drain(..) {
            report.alerts += 1;
            serde_json::to_writer(&mut *out, &a)?;
            out.write_all(b"\n")?;
        }
        Ok(())
    };
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        framer.feed(&buf[..n], &mut |f| {
            handle(f, &mut engine, &mut report, &mut alerts)
        });
        write(&mut alerts, &mut report, out)?;
    }
    framer.finish(&mut |f| handle(f, &mut engine, &mut report, &mut alerts));
    engine.flush(&mut alerts);
    write(&mut alerts, &mut report, out)?;
    report.counts = engine.counts.clone();
    Ok(report)
}

fn handle(
    f: super::frame::Frame<'_>,
    engine: &mut Engine,
    r: &mut ReplayReport,
    alerts: &mut Vec<Alert>,
) {
    use super::frame::Frame::*;
    match f {
        Line(l) => {
            r.lines += 1;
            engine.ingest(l, Clock::EntryTime, alerts);
        }
        TooLong => r.dropped_too_long += 1,
        InvalidUtf8 => r.dropped_invalid_utf8 += 1,
        Partial => r.dropped_partial += 1,
        Empty => {}
    }
}
