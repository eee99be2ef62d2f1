//! The names of temporary files: every temporary vaultkeeper makes ends in
//! `<pid>-<16 hex>`, so the debris of a writer that died (kill -9, power loss)
//! can be told from the work of a live one.

/// `<pid>-<16 hex>`: the tail of every temporary name vaultkeeper makes.
pub(crate) fn temp_tail() -> String {
    format!("{}-{:016x}", std::process::id(), rand::random::<u64>())
}

/// The pid in a temporary name's tail, if it has one.
pub(crate) fn pid_of(tail: &str) -> Option<i32> {
    let (pid, hex) = tail.split_once('-')?;
    (hex.len() == 16 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| pid.parse().ok())
        .flatten()
}

/// True when no process `pid` runs (its temporaries are debris).
pub(crate) fn is_dead(pid: i32) -> bool {
    pid > 0
        && pid as u32 != std::process::id()
        && nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None)
            == Err(nix::errno::Errno::ESRCH)
}
