# The vaultkeeper NixOS module: `vault.secrets.<name>` -> a checked JSON spec ->
# systemd units. Import it (or the flake's nixosModules.default) and set
# `vault.enable`, `vault.address` and `vault.secrets`.
{
  imports = [
    ./options.nix
    ./spec.nix
    ./templates.nix
    ./units.nix
    ./checks.nix
    ./paths.nix
    ./migrate.nix
    ./metrics.nix
  ];
}
