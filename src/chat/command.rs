//! A slash command as Slack posts it (`application/x-www-form-urlencoded`), and
//! what it asks for. Whatever slash-command name the workspace configured
//! (`/vault`, `/bao`, ...) is accepted: the first word of `text` decides.

/// The fields of Slack's slash-command payload this endpoint uses.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct SlashCommand {
    pub command: String,
    pub text: String,
    pub channel_id: String,
    pub user_id: String,
    pub team_id: String,
    pub response_url: String,
}

/// What the user asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Ask {
    Status,
    Posture,
    Leases,
    Usage,
    Updates,
    Help,
}

impl Ask {
    pub(crate) const ALL: [Ask; 5] = [
        Ask::Status,
        Ask::Posture,
        Ask::Leases,
        Ask::Usage,
        Ask::Updates,
    ];

    pub(crate) fn word(self) -> &'static str {
        match self {
            Ask::Status => "status",
            Ask::Posture => "posture",
            Ask::Leases => "leases",
            Ask::Usage => "usage",
            Ask::Updates => "updates",
            Ask::Help => "help",
        }
    }

    pub(crate) fn what(self) -> &'static str {
        match self {
            Ask::Status => "seal state, version, HA, audit devices, this host's secrets",
            Ask::Posture => "the 0–100 posture score and what costs points",
            Ask::Leases => "leases by TTL, long-lived tokens, tokens that never expire",
            Ask::Usage => "entities, tokens, secrets per mount, auth methods, suggestions",
            Ask::Updates => "whether a newer OpenBao/Vault release exists",
            Ask::Help => "this list",
        }
    }
}

/// Parses the command text; `Err(word)` for an unknown word (answered with help).
pub(crate) fn parse_ask(text: &str) -> Result<Ask, String> {
    let word = text.split_whitespace().next().unwrap_or("");
    Ok(match word.to_ascii_lowercase().as_str() {
        "" | "help" | "?" => Ask::Help,
        "status" => Ask::Status,
        "posture" | "score" => Ask::Posture,
        "leases" => Ask::Leases,
        "usage" => Ask::Usage,
        "updates" | "update" | "version" => Ask::Updates,
        _ => return Err(word.chars().take(40).collect()),
    })
}

/// Parses the form body. Unknown fields are ignored (Slack adds some over time);
/// a field given twice keeps the first value.
pub(crate) fn parse_form(body: &[u8]) -> SlashCommand {
    let mut c = SlashCommand::default();
    let mut seen = std::collections::HashSet::new();
    for (k, v) in form_urlencoded::parse(body) {
        if !seen.insert(k.clone()) {
            continue;
        }
        let slot = match k.as_ref() {
            "command" => &mut c.command,
            "text" => &mut c.text,
            "channel_id" => &mut c.channel_id,
            "user_id" => &mut c.user_id,
            "team_id" => &mut c.team_id,
            "response_url" => &mut c.response_url,
            _ => continue,
        };
        *slot = v.into_owned();
    }
    c
}

/// Slack's certificate check of a new Request URL: `ssl_check=1` (and a token),
/// no command. It is answered 200 with nothing, signed or not: it triggers no
/// work and reveals nothing.
pub(crate) fn is_ssl_check(body: &[u8]) -> bool {
    let mut ssl_check = false;
    for (k, v) in form_urlencoded::parse(body) {
        match k.as_ref() {
            "ssl_check" => ssl_check = v == "1",
            "command" | "text" | "response_url" => return false,
            _ => {}
        }
    }
    ssl_check
}

/// A Slack ID fit for a log line, or a placeholder (the field is attacker-chosen
/// only if the signature is broken, but logs stay one line regardless).
pub(crate) fn loggable_id(id: &str) -> &str {
    if !id.is_empty()
        && id.len() <= 32
        && id
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    {
        id
    } else {
        "(invalid id)"
    }
}

#[cfg(test)]
mod tests;
