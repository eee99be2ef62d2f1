//! The `vaultkeeper` binary: everything lives in the library, see `vaultkeeper::cli`.
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    vaultkeeper::main()
}
