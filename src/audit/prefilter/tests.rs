//! Unit tests of prefilter.rs.

use super::*;

#[test]
fn security_relevant_lines_are_candidates() {
    let f = Prefilter::new(["secret/data/prod/*"]);
    let yes: &[&str] = &[
        r#"{"type":"request","request":{"path":"sys/seal"}}"#,
        r#"{"type":"request","request":{"path" : "auth/token/create"}}"#,
        r#"{"type":"response","request":{"path":"identity/entity"}}"#,
        r#"{"type":"response","auth":{"policies":["root"]},"request":{"path":"secret/data/x"}}"#,
        r#"{"type":"response","request":{"path":"secret/data/x"},"error":"permission denied"}"#,
        r#"{"type":"request","request":{"path":"sy\u0073/seal"}}"#,
        r#"{"type":"request","request":{"path":"ns1/sys/policy/x"}}"#,
        r#"{"type":"request","request":{"path":"secret/data/prod/db"}}"#,
        r#"{"type":"request","request":{"path":"secret/data/x"},"error":"\u0041"}"#,
    ];
    for l in yes {
        assert!(f.candidate(l.as_bytes()), "{l}");
    }
    let no: &[&str] = &[
        r#"{"type":"request","request":{"path":"secret/data/app"}}"#,
        r#"{"type":"response","request":{"path":"secret/data/app"},"error":""}"#,
        r#"{"type":"request","request":{"path":"kv/x","data":{"path":{"a":1}}}}"#,
        "garbage",
    ];
    for l in no {
        assert!(!f.candidate(l.as_bytes()), "{l}");
    }
}
