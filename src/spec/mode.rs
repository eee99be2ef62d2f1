//! Octal file modes written as strings ("0400", "640").

/// Parses "0400"/"400"/"0o400" into permission bits. Only the nine permission
/// bits (0–0777) are accepted: setuid, setgid and sticky are refused (a secret
/// file whose content anyone who can write its KV path controls must never be a
/// setuid program). Anything else is an error whose text goes after the JSON
/// path: `"0999" is not an octal file mode`.
pub(crate) fn parse_mode(s: &str) -> Result<u32, String> {
    let digits = s.strip_prefix("0o").unwrap_or(s);
    let ok = !digits.is_empty()
        && digits.len() <= 4
        && digits.bytes().all(|b| (b'0'..=b'7').contains(&b));
    if !ok {
        return Err(format!(
            "{s:?} is not an octal file mode; write e.g. \"0400\" or \"0440\""
        ));
    }
    let mode = u32::from_str_radix(digits, 8)
        .map_err(|e| format!("{s:?} is not an octal file mode ({e})"))?;
    let special = [(0o4000, "setuid"), (0o2000, "setgid"), (0o1000, "sticky")]
        .iter()
        .filter(|(bit, _)| mode & bit != 0)
        .map(|(_, name)| *name)
        .collect::<Vec<_>>();
    if !special.is_empty() {
        return Err(format!(
            "{s:?} sets the {} bit; only permission bits (0000-0777) are allowed for secret files; write {:?} [rule: permission-bits-only]",
            special.join(" and "),
            format!("{:04o}", mode & 0o777)
        ));
    }
    Ok(mode)
}

/// A warning for a mode with an execute bit: the spec asks for executable
/// secret files, which is allowed but rarely meant.
pub(crate) fn exec_warning(mode: u32) -> Option<String> {
    (mode & 0o111 != 0).then(|| {
        format!(
            "mode {mode:04o} makes the secret's files executable; if that is not meant, write {:04o}",
            mode & 0o666
        )
    })
}

/// The mode of a directory holding files of `file_mode`: each class (user, group,
/// other) that may read the files may list and enter the directory, no class may write.
pub(crate) fn dir_mode_for(file_mode: u32) -> u32 {
    let mut dir = 0;
    for shift in [6, 3, 0] {
        if (file_mode >> shift) & 0o7 != 0 {
            dir |= 0o5 << shift;
        }
    }
    dir
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes() {
        assert_eq!(parse_mode("0400").unwrap(), 0o400);
        assert_eq!(parse_mode("640").unwrap(), 0o640);
        assert_eq!(parse_mode("0o440").unwrap(), 0o440);
        assert_eq!(
            parse_mode("0999").unwrap_err(),
            "\"0999\" is not an octal file mode; write e.g. \"0400\" or \"0440\""
        );
        assert!(parse_mode("").is_err());
        assert!(parse_mode("-400").is_err());
        assert!(parse_mode("04000").is_err());
    }

    #[test]
    fn setuid_setgid_and_sticky_are_refused() {
        for (m, bit) in [
            ("4555", "setuid"),
            ("6550", "setuid and setgid"),
            ("1400", "sticky"),
            ("2440", "setgid"),
        ] {
            let e = parse_mode(m).unwrap_err();
            assert!(
                e.contains(&format!("sets the {bit} bit")) && e.contains("permission-bits-only"),
                "{m}: {e}"
            );
        }
        assert!(parse_mode("4555").unwrap_err().contains("write \"0555\""));
        assert_eq!(parse_mode("0777").unwrap(), 0o777);
        assert!(exec_warning(0o500).unwrap().contains("write 0400"));
        assert!(exec_warning(0o440).is_none());
    }

    #[test]
    fn directory_modes_follow_file_modes() {
        assert_eq!(dir_mode_for(0o400), 0o500);
        assert_eq!(dir_mode_for(0o440), 0o550);
        assert_eq!(dir_mode_for(0o644), 0o555);
        assert_eq!(dir_mode_for(0o040), 0o050);
    }
}
