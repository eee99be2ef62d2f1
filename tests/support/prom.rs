//! A real Prometheus text-format parser for the metrics tests: Python's
//! `prometheus_client` (the reference client library), in the venv that
//! scripts/test.sh makes at `target/prom-venv` (`ensure_prom_parser` in
//! scripts/lib.sh), or the interpreter named by `$PROM_PYTHON`.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

pub const PROMETHEUS_CLIENT_VERSION: &str = "0.26.0";

fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("PROM_PYTHON") {
        return PathBuf::from(p);
    }
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/prom-venv/bin/python3");
    let ok = Command::new(&venv)
        .args(["-c", "import prometheus_client"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "the metrics tests parse with Python's prometheus_client, which is not installed: run \
         scripts/test.sh, or `python3 -m venv target/prom-venv && target/prom-venv/bin/pip install \
         prometheus-client=={PROMETHEUS_CLIENT_VERSION}`, or set PROM_PYTHON to a python3 that has it"
    );
    venv
}

/// One parsed family: its type and samples (`name{k="v",...}` → value).
#[derive(Debug, Clone)]
pub struct Family {
    pub kind: String,
    pub help: String,
    pub samples: BTreeMap<String, f64>,
}

/// Parses `text` with `prometheus_client.parser.text_string_to_metric_families`
/// (the classic text format node-exporter's textfile collector reads). Panics
/// when the parser refuses it. Keys: family name (counters without `_total`).
pub fn parse(text: &str) -> BTreeMap<String, Family> {
    const SCRIPT: &str = r#"
import json, sys
from prometheus_client.parser import text_string_to_metric_families
out = {}
for f in text_string_to_metric_families(sys.stdin.read()):
    if f.name in out:
        raise SystemExit("family %s appears twice" % f.name)
    s = {}
    for x in f.samples:
        key = x.name + "{" + ",".join('%s="%s"' % (k, v) for k, v in sorted(x.labels.items())) + "}"
        if key in s:
            raise SystemExit("sample %s appears twice" % key)
        s[key] = x.value
    out[f.name] = {"kind": f.type, "help": f.documentation, "samples": s}
print(json.dumps(out))
"#;
    let mut child = Command::new(python())
        .args(["-c", SCRIPT])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot run python3");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "prometheus_client refused the metrics: {}\n--- text:\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v.as_object()
        .unwrap()
        .iter()
        .map(|(name, f)| {
            let samples = f["samples"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_f64().unwrap()))
                .collect();
            (
                name.clone(),
                Family {
                    kind: f["kind"].as_str().unwrap().to_string(),
                    help: f["help"].as_str().unwrap().to_string(),
                    samples,
                },
            )
        })
        .collect()
}

/// The value of sample `key` (`name{labels}` with labels sorted, `{}` when none).
pub fn value(families: &BTreeMap<String, Family>, key: &str) -> Option<f64> {
    families.values().find_map(|f| f.samples.get(key).copied())
}
