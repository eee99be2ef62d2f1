//! This host's name: what Slack messages say they come from, the AppRole role
//! a host is by default, and the seed of its order of Vault addresses.

/// `/proc/sys/kernel/hostname`, trimmed; `unknown-host` when it cannot be read.
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown-host".into())
}
