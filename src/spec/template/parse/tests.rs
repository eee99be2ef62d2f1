use super::*;

fn ph(secret: &str, key: &str) -> Segment {
    Segment::Placeholder(Placeholder {
        secret: secret.into(),
        key: key.into(),
    })
}

fn text(t: &str) -> Segment {
    Segment::Text(t.into())
}

#[test]
fn placeholders_with_and_without_whitespace() {
    let (s, p) = parse(
            "[security]\nadmin_password = {{ grafana.password }}\nuser={{grafana.user}}{{\tdb.url  }}\n",
            &["grafana", "db"],
        );
    assert_eq!(p, []);
    assert_eq!(
        s,
        [
            text("[security]\nadmin_password = "),
            ph("grafana", "password"),
            text("\nuser="),
            ph("grafana", "user"),
            ph("db", "url"),
            text("\n"),
        ]
    );
}

#[test]
fn four_braces_are_a_literal_and_closing_braces_are_text() {
    let (s, p) = parse("a {{{{ b }} c }} {{{{{{ x.k }}", &["x"]);
    assert_eq!(p, []);
    assert_eq!(s, [text("a {{ b }} c }} {{"), ph("x", "k")]);
}

#[test]
fn dotted_secret_names_take_the_longest_known_prefix() {
    let (s, p) = parse("{{ tls.web.cert.pem }}{{ tls.key }}", &["tls", "tls.web"]);
    assert_eq!(p, []);
    assert_eq!(s, [ph("tls.web", "cert.pem"), ph("tls", "key")]);
}

#[test]
fn every_problem_is_reported_with_its_position() {
    let (s, p) = parse(
        "ok {{ db.pw }}\n  {{ nope.pw }} {{ db }}\n{{ }}{{ a b.c }} {{ db.x",
        &["db"],
    );
    assert_eq!(
        s.iter()
            .filter(|s| matches!(s, Segment::Placeholder(_)))
            .count(),
        1
    );
    let at: Vec<(usize, usize)> = p.iter().map(|p| (p.line, p.column)).collect();
    assert_eq!(at, [(2, 3), (2, 17), (3, 1), (3, 6), (3, 18)]);
    assert!(
        p[0].message.contains("unknown secret: \"nope\""),
        "{}",
        p[0]
    );
    assert!(p[0].message.contains("(known: db)"), "{}", p[0]);
    assert!(
        p[1].message.contains("names no key of secret \"db\""),
        "{}",
        p[1]
    );
    assert!(p[2].message.contains("empty placeholder"), "{}", p[2]);
    assert!(p[3].message.contains("is not a placeholder"), "{}", p[3]);
    assert!(p[4].message.contains("never closed"), "{}", p[4]);
}

#[test]
fn columns_count_characters_not_bytes() {
    let (_, p) = parse("é€ {{ x.y }}", &[]);
    assert_eq!((p[0].line, p[0].column), (1, 4));
}

#[test]
fn fill_is_one_pass_and_lists_every_missing_key() {
    let (s, _) = parse("a={{ s.a }} b={{ s.b }} c={{ s.c }} a={{ s.a }}", &["s"]);
    let got = fill(&s, |p| match p.key.as_str() {
        "a" => Ok(b"{{ s.b }}".to_vec()),
        "b" => Ok(b"x".to_vec()),
        _ => Err(format!("no key {}", p.key)),
    });
    assert_eq!(got, Err(vec!["no key c".to_string()]));
    let got = fill(&s[..4], |p| Ok(format!("<{p}>").into_bytes())).unwrap();
    assert_eq!(got, b"a=<s.a> b=<s.b>");
    let got = fill(&s[..2], |_| Ok(b"{{ s.b }}".to_vec())).unwrap();
    assert_eq!(got, b"a={{ s.b }}");
    assert_eq!(placeholders(&s).len(), 3);
}
