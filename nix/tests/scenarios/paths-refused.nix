# Directories `vaultkeeper check` refuses, written as module options: the module
# must refuse the same ones, by the same rules (tests/nix_module/paths.rs).
{
  vault.enable = true;
  vault.address = "https://vault01.example:8200";
  vault.secrets = {
    a = { secretPath = "x/a"; outputDir = "/etc"; mode = "4555"; };
    b = { secretPath = "x/b"; outputDir = "/etc/nginx/"; };
    c = { secretPath = "x/c"; outputDir = "/run"; };
    d = { secretPath = "x/d"; outputDir = "/var/lib/grafana"; };
    e = { secretPath = "x/e"; outputDir = "/run/keys"; mode = "6550"; };
    f = { secretPath = "x/f"; outputDir = "/home/alice"; mode = "1400"; };
    g = { secretPath = "x/g"; outputDir = "/run/wrappers/bin"; };
    h = { secretPath = "x/h"; outputDir = "/var/lib/vaultkeeper/approle"; };
    i = { secretPath = "x/i"; outputDir = "/run/secrets/i"; cacheDir = "/run/secrets/i/cache"; };
    k = { secretPath = "x/k"; outputDir = "/run/secrets/.k.vaultkeeper"; };
    l = { secretPath = "x/l"; cacheDir = "/var/lib/vaultkeeper/cache"; };
    m = { secretPath = "x/m"; outputDir = "/run/secrets/m"; mode = "0o0440"; };
  };
}
