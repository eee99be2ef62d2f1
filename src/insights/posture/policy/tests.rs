use super::*;

#[test]
fn hcl_rules_with_comments_and_nested_blocks() {
    let text = r#"
# all of it
path "*" { capabilities = ["create", "read", "update", "delete", "list", "sudo"] }
path "secret/data/hosts/{{identity.entity.name}}/*" {
  capabilities = ["read"]   // only read
  allowed_parameters = { "x" = [] }
}
/* block */ path "sys/audit" { capabilities = ["read", "sudo"] }
"#;
    let r = rules(text);
    assert_eq!(r.len(), 3);
    assert_eq!(r[0].path, "*");
    assert_eq!(r[0].capabilities.len(), 6);
    assert_eq!(r[1].capabilities, vec!["read"]);
    assert_eq!(
        r[2],
        Rule {
            path: "sys/audit".into(),
            capabilities: vec!["read".into(), "sudo".into()]
        }
    );
    assert!(broad(&r[0]).unwrap().contains("matches every mount"));
    assert_eq!(broad(&r[1]), None);
    assert_eq!(broad(&r[2]), None);
}

#[test]
fn json_policies_and_broad_rules() {
    let r = rules(
        r#"{"path":{"+/*":{"capabilities":["read"]},"kv/*":{"capabilities":["update","sudo"]}}}"#,
    );
    assert_eq!(r.len(), 2);
    let reasons: Vec<_> = r.iter().map(broad).collect();
    assert!(reasons.iter().all(Option::is_some), "{reasons:?}");
    assert_eq!(
        broad(&Rule {
            path: "*".into(),
            capabilities: vec!["deny".into()]
        }),
        None
    );
    assert!(broad(&Rule {
        path: "sys/*".into(),
        capabilities: vec!["update".into()]
    })
    .is_some());
}
