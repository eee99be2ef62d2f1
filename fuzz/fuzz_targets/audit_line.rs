//! Fuzzes the audit listener's input path: framing (chunked at a fuzzer-chosen
//! size), UTF-8 checks, JSON parsing, dedup, every rule and coalescing.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use vaultkeeper::{Frame, Framer};
use vaultkeeper::{Clock, Engine};
use vaultkeeper::AuditSpec;

fuzz_target!(|data: &[u8]| {
    static SPEC: OnceLock<AuditSpec> = OnceLock::new();
    let spec = SPEC.get_or_init(|| {
        vaultkeeper::audit_spec_from_json(
            "fuzz",
            r#"{"rules":{"login-failures":{"threshold":2},"custom":{"path":"secret/*","error":"*"}}}"#,
        )
        .unwrap()
    });
    let (cut, body) = match data.split_first() {
        Some((c, rest)) => ((*c as usize).max(1), rest),
        None => return,
    };
    let mut engine = Engine::new(spec);
    let mut framer = Framer::new();
    let mut out = Vec::new();
    let mut t = 0i64;
    for chunk in body.chunks(cut) {
        framer.feed(chunk, &mut |f| {
            if let Frame::Line(l) = f {
                t += 1000;
                engine.ingest(l, if t % 3000 == 0 { Clock::EntryTime } else { Clock::Given(t) }, &mut out);
            }
        });
    }
    framer.finish(&mut |_| {});
    engine.tick(t + 1, &mut out);
    engine.flush(&mut out);
    for a in &out {
        assert!(!a.rule.is_empty());
        let p = vaultkeeper::audit_alert_payload(a, "fuzz");
        assert!(p["blocks"].as_array().unwrap().len() <= 50);
    }
});
