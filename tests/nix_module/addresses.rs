//! `vault.address` as one URL or the list of a cluster's nodes.

use super::nix_or_skip;
use serde_json::json;

#[test]
fn vault_address_takes_a_list_of_urls() {
    let nix = nix_or_skip!("vault_address_takes_a_list_of_urls");
    let got = nix.eval("address-list");
    assert_eq!(
        got["spec"]["vault"]["address"],
        json!([
            "https://vault01.example:8200",
            "https://vault02.example:8200",
            "https://vault03.example:8200"
        ])
    );
    assert_eq!(got["failedAssertions"], json!([]));
    // The generated spec is one vaultkeeper accepts, with the three addresses.
    let spec = vaultkeeper::Spec::from_json("nix", &got["spec"].to_string()).unwrap();
    assert_eq!(spec.vault.addresses.len(), 3);
    for bad in ["address-list-bad", "address-list-empty"] {
        let e = nix.eval_error(bad, "spec");
        assert!(
            e.contains("vault.address") || e.contains("vault.vault.address"),
            "{bad}: {e}"
        );
    }
}
