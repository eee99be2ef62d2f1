# Path helpers shared by the option declarations and the path assertions.
{ lib }:
rec {
  # "/run/secrets//grafana/./" -> "/run/secrets/grafana": what the agent's
  # normalised-absolute rule wants, so that tmpfiles, ReadWritePaths= and the
  # spec all name the same directory. ".." is refused by the option type.
  normalise = p:
    let parts = lib.filter (c: c != "" && c != ".") (lib.splitString "/" p); in
    "/" + lib.concatStringsSep "/" parts;
  normaliseNullable = p: if p == null then null else normalise p;

  # `path` is `dir` or below it (Rust's Path::starts_with).
  under = path: dir: path == dir || dir == "/" || lib.hasPrefix "${dir}/" path;
}
