//! `vault.metrics`: the node-exporter textfile default and what it sets up.

use super::nix_or_skip;
use serde_json::{json, Value};

const DIR: &str = "/var/lib/prometheus-node-exporter-text-files";

#[test]
fn node_exporter_gets_the_textfile_by_default() {
    let nix = nix_or_skip!("node_exporter_gets_the_textfile_by_default");
    let got = nix.eval("metrics-node-exporter");
    assert_eq!(
        got["spec"]["metrics"],
        json!({ "textfile": format!("{DIR}/vaultkeeper.prom"), "listen": "127.0.0.1:9469" })
    );
    assert_eq!(
        got["nodeExporterFlags"],
        json!([format!("--collector.textfile.directory={DIR}")])
    );
    let tmpfiles: Vec<&str> = got["tmpfiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(
        tmpfiles.contains(&format!("d {DIR} 0755 root root -").as_str()),
        "{tmpfiles:?}"
    );
    let rw = &got["services"]["vaultkeeper"]["serviceConfig"]["ReadWritePaths"];
    assert!(
        rw.as_array()
            .unwrap()
            .contains(&Value::String(format!("-{DIR}"))),
        "{rw}"
    );
    assert_eq!(got["failedAssertions"], json!([]));
}

#[test]
fn without_node_exporter_there_is_no_metrics_section() {
    let nix = nix_or_skip!("without_node_exporter_there_is_no_metrics_section");
    let got = nix.eval("defaults");
    assert!(got["spec"].get("metrics").is_none(), "{}", got["spec"]);
    assert_eq!(got["nodeExporterFlags"], Value::Null);
}
