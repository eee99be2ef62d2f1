use super::*;

#[test]
fn names_follow_systemds_rule() {
    for good in ["A", "_x", "DB_URL2", "a_b"] {
        assert!(check_name(good).is_ok(), "{good}");
    }
    for bad in ["", "1A", "A-B", "A.B", "A B", "É", "A=B"] {
        let e = check_name(bad).unwrap_err();
        assert!(e.contains(&format!("{bad:?}")), "{e}");
    }
}

#[test]
fn only_the_four_escapable_characters_are_escaped() {
    assert_eq!(
        quote(b"a b\"c'd\\e$f=g\nh`i\tj").unwrap(),
        b"\"a b\\\"c'd\\\\e\\$f=g\nh\\`i\tj\"".to_vec()
    );
    assert_eq!(quote(b"").unwrap(), b"\"\"".to_vec());
    assert!(quote(b"a\0b").unwrap_err().contains("NUL"));
}

#[test]
fn lines_in_order_and_every_problem_named() {
    let e = |from: &str, k: &str, v: &str| (from.to_string(), k.to_string(), v.into());
    let ok = render(&[e("secret db", "USER", "u"), e("secret api", "TOKEN", "t$")]).unwrap();
    assert_eq!(ok, b"USER=\"u\"\nTOKEN=\"t\\$\"\n".to_vec());
    let errs = render(&[
        e("secret db", "USER", "u"),
        e("secret db", "bad-name", "x"),
        e("secret api", "USER", "v"),
        e("secret api", "NUL", "a\0"),
    ])
    .unwrap_err();
    assert_eq!(errs.len(), 3, "{errs:?}");
    assert!(errs[0].contains("secret db: key \"bad-name\""), "{errs:?}");
    assert!(
        errs[1].contains("in both secret db and secret api"),
        "{errs:?}"
    );
    assert!(
        errs[2].contains("secret api: the value of key \"NUL\""),
        "{errs:?}"
    );
}
