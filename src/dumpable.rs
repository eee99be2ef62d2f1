//! The process holds tokens, secret-ids and secret values in memory: it makes
//! itself non-dumpable first thing (`prctl(PR_SET_DUMPABLE, 0)`), so no core
//! file is written on a crash and `/proc/PID/{environ,mem,maps,...}` belong to
//! root and cannot be read or ptrace-attached by the user the process runs as,
//! and sets its core size limit to 0 (units also get `LimitCORE=0`: their
//! seccomp filter refuses `setrlimit`, which is why a failure here is only logged).

/// Called by `main` before anything else; failures are returned for the log.
pub(crate) fn harden() -> Vec<String> {
    let mut problems = Vec::new();
    if let Err(e) = nix::sys::prctl::set_dumpable(false) {
        problems.push(format!(
            "cannot make the process non-dumpable (prctl PR_SET_DUMPABLE): {e}"
        ));
    }
    if let Err(e) = nix::sys::resource::setrlimit(nix::sys::resource::Resource::RLIMIT_CORE, 0, 0) {
        problems.push(format!("cannot set the core size limit to 0: {e}"));
    }
    problems
}

#[cfg(test)]
mod tests;
