//! Reading ACL policies (HCL or JSON) just enough to find over-broad rules:
//! each `path "..." { capabilities = [...] }`.

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rule {
    pub path: String,
    pub capabilities: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Str(String),
    Ident(String),
    Punct(char),
}

fn tokens(text: &str) -> Vec<Tok> {
    let mut out = Vec::new();
    let mut it = text.chars().peekable();
    while let Some(c) = it.next() {
        match c {
            '#' => {
                for c in it.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            '/' if it.peek() == Some(&'/') => {
                for c in it.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            '/' if it.peek() == Some(&'*') => {
                it.next();
                let mut prev = ' ';
                for c in it.by_ref() {
                    if prev == '*' && c == '/' {
                        break;
                    }
                    prev = c;
                }
            }
            '"' => {
                let mut s = String::new();
                while let Some(c) = it.next() {
                    match c {
                        '\\' => {
                            if let Some(n) = it.next() {
                                s.push(n);
                            }
                        }
                        '"' => break,
                        c => s.push(c),
                    }
                }
                out.push(Tok::Str(s));
            }
            '{' | '}' | '[' | ']' | '=' | ':' => out.push(Tok::Punct(c)),
            c if c.is_alphanumeric() || c == '_' || c == '-' => {
                let mut s = String::from(c);
                while let Some(&n) = it.peek() {
                    if n.is_alphanumeric() || n == '_' || n == '-' {
                        s.push(n);
                        it.next();
                    } else {
                        break;
                    }
                }
                out.push(Tok::Ident(s));
            }
            _ => {}
        }
    }
    out
}

/// The path rules of a policy. JSON policies are read as JSON, anything else as HCL.
pub(crate) fn rules(text: &str) -> Vec<Rule> {
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(text) {
        if let Some(paths) = v.get("path").and_then(|p| p.as_object()) {
            return paths
                .iter()
                .map(|(p, body)| Rule {
                    path: p.clone(),
                    capabilities: body["capabilities"]
                        .as_array()
                        .map(|a| {
                            a.iter()
                                .filter_map(|c| c.as_str().map(str::to_string))
                                .collect()
                        })
                        .unwrap_or_default(),
                })
                .collect();
        }
    }
    let toks = tokens(text);
    let mut out = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        if let (Tok::Ident(k), Some(Tok::Str(p)), Some(Tok::Punct('{'))) =
            (&toks[i], toks.get(i + 1), toks.get(i + 2))
        {
            if k == "path" {
                let mut depth = 1;
                let mut j = i + 3;
                let mut caps = Vec::new();
                while j < toks.len() && depth > 0 {
                    match &toks[j] {
                        Tok::Punct('{') => depth += 1,
                        Tok::Punct('}') => depth -= 1,
                        Tok::Ident(c) if depth == 1 && c == "capabilities" => {
                            let mut k = j + 1;
                            while k < toks.len() && toks[k] != Tok::Punct('[') {
                                k += 1;
                            }
                            k += 1;
                            while k < toks.len() && toks[k] != Tok::Punct(']') {
                                if let Tok::Str(c) = &toks[k] {
                                    caps.push(c.clone());
                                }
                                k += 1;
                            }
                            j = k;
                        }
                        _ => {}
                    }
                    j += 1;
                }
                out.push(Rule {
                    path: p.clone(),
                    capabilities: caps,
                });
                i = j;
                continue;
            }
        }
        i += 1;
    }
    out
}

const WRITE: [&str; 4] = ["create", "update", "delete", "patch"];

/// Why a rule is over-broad, or `None`.
pub(crate) fn broad(rule: &Rule) -> Option<String> {
    let caps: Vec<&str> = rule.capabilities.iter().map(String::as_str).collect();
    if caps.is_empty() || caps.contains(&"deny") {
        return None;
    }
    let p = rule.path.trim_start_matches('/');
    let glob_root =
        p == "*" || p.starts_with('*') || p.starts_with("+/*") || p == "+" || p.starts_with("+*");
    if glob_root {
        return Some(format!(
            "path {:?} matches every mount and grants [{}]",
            rule.path,
            caps.join(", ")
        ));
    }
    if caps.contains(&"sudo")
        && caps.iter().any(|c| WRITE.contains(c))
        && (p.ends_with('*') || p.contains('+'))
    {
        return Some(format!(
            "path {:?} grants sudo with write ([{}]) on a glob",
            rule.path,
            caps.join(", ")
        ));
    }
    if (p.starts_with("sys/*") || p == "sys/" || p.starts_with("sys/+"))
        && caps.iter().any(|c| WRITE.contains(c) || *c == "sudo")
    {
        return Some(format!(
            "path {:?} grants [{}] on all of sys/",
            rule.path,
            caps.join(", ")
        ));
    }
    None
}

#[cfg(test)]
mod tests;
