# Migration from the seed design's module, which kept the host's AppRole
# credentials in /var/lib/vault/approle. A host switched to vaultkeeper must not
# need a new wrapped token: vaultkeeper-adopt-credentials.service copies them,
# once, to vault.approle.roleIdFile / secretIdFile before the bootstrap and the
# fetch units run, and never touches the originals. (Evaluation cannot look at
# the host's disk, so this is done on the host, at boot.)
{ config, lib, pkgs, ... }:
let
  inherit (lib) mkOption types literalExpression;
  vkTypes = import ./types.nix { inherit lib; };
  inherit (import ./path-lib.nix { inherit lib; }) normaliseNullable;
  cfg = config.vault;
  from = cfg.approle.adoptFrom;
  e = lib.escapeShellArg;

  script = ''
    set -u
    src=${e from}
    role_to=${e cfg.approle.roleIdFile}
    secret_to=${e cfg.approle.secretIdFile}
    say() { echo "vaultkeeper-adopt-credentials: $*"; }
    refuse() { say "NOT adopting $1: $2. $3"; exit 1; }
    if [ -e "$secret_to" ]; then say "$secret_to exists: this host has credentials of its own"; exit 0; fi
    if [ ! -e "$src" ]; then say "no $src: nothing to adopt"; exit 0; fi
    # Only root may have been able to write what we adopt: the directory and each file.
    if [ -L "$src" ] || [ ! -d "$src" ]; then
      refuse "$src" "it is not a directory (a symlink or something else)" "Copy the credentials by hand, or set vault.approle.adoptFrom = null;"
    fi
    set -- $(stat -c '%u %a' -- "$src")
    if [ "$1" != 0 ] || [ $(( 8#$2 & 8#022 )) != 0 ]; then
      refuse "$src" "it is owned by uid $1 or writable by group or others (mode $2)" "Someone else could have planted its files: check them, then chown root and chmod go-w it."
    fi
    check() {
      f=$src/$1
      if [ -L "$f" ] || [ ! -f "$f" ]; then
        refuse "$f" "it is not a regular file (a symlink, FIFO or missing)" "Copy the credentials by hand, or set vault.approle.adoptFrom = null;"
      fi
      set -- $(stat -c '%u %a %s' -- "$f")
      if [ "$1" != 0 ] || [ $(( 8#$2 & 8#022 )) != 0 ]; then
        refuse "$f" "it is owned by uid $1 or writable by group or others (mode $2)" "Check it, then chown root and chmod 0600 it."
      fi
      if [ "$3" -lt 1 ] || [ "$3" -gt 4096 ]; then
        refuse "$f" "its size $3 is not 1 to 4096 bytes" "It is not an AppRole credential file."
      fi
      if [ $(( 8#$2 & 8#044 )) != 0 ]; then
        say "WARNING: $f is readable by group or others (mode $2): rotate this host's secret-id (vaultkeeper provision --host NAME, then a new bootstrap)"
      fi
    }
    # Copy: a temporary in the destination's directory, 0600 root before the
    # first byte, fsync, rename, fsync the directory.
    adopt() {
      f=$src/$1 to=$2
      dir=$(dirname -- "$to")
      mkdir -p -m 0700 -- "$dir"
      tmp=$dir/.$(basename -- "$to").adopt-$$
      rm -f -- "$tmp"
      (umask 077 && : >"$tmp") && chown 0:0 -- "$tmp" && chmod 0600 -- "$tmp" \
        && cat -- "$f" >"$tmp" && sync -- "$tmp" && mv -T -- "$tmp" "$to" && sync -- "$dir" \
        || { rm -f -- "$tmp"; refuse "$f" "copying it to $to failed" "See the error above."; }
      say "adopted $f as $to (the original is left in place)"
    }
    check role-id
    check secret-id
    if [ -e "$role_to" ]; then
      [ "$(cat -- "$src/role-id")" = "$(cat -- "$role_to")" ] \
        || refuse "$src" "this host already has another role-id in $role_to" "Remove one of them, or set vault.approle.adoptFrom = null;"
    else
      adopt role-id "$role_to"
    fi
    # The secret-id last: once it exists, the host counts as bootstrapped.
    adopt secret-id "$secret_to"
  '';
in
{
  options.vault.approle = {
    adoptFrom = mkOption {
      type = types.nullOr vkTypes.hostPath;
      default = "/var/lib/vault/approle";
      example = null;
      apply = normaliseNullable;
      description = ''
        Directory where the seed design's module left this host's AppRole
        credentials (`role-id`, `secret-id`). When `vault.approle.secretIdFile`
        does not exist yet and this directory holds them (regular files owned
        by root, not writable by others, at most 4 KiB),
        `vaultkeeper-adopt-credentials.service` copies them there (root, 0600)
        before the bootstrap and the fetch units run, so a migrated host needs
        no new wrapped token. The originals are left in place; remove them once
        the host works. `null` to never look.
      '';
    };
    adoptScript = mkOption {
      type = types.lines;
      readOnly = true;
      internal = true;
      description = "The script of vaultkeeper-adopt-credentials.service (read by the tests).";
    };
  };

  config = lib.mkIf cfg.enable {
    vault.approle.adoptScript = script;
    systemd.services.vaultkeeper-adopt-credentials = lib.mkIf (from != null) {
      description = "vaultkeeper: adopt the AppRole credentials the seed's module left in ${from}";
      wantedBy = [ "multi-user.target" ];
      before = [ "vaultkeeper-bootstrap.service" "vaultkeeper.service" ]
        ++ map (n: "vault-secret-${n}.service") (lib.attrNames cfg.secrets)
        ++ map (n: "vault-template-${n}.service") (lib.attrNames cfg.templates);
      unitConfig.ConditionPathExists = [ "!${cfg.approle.secretIdFile}" "${from}/secret-id" ];
      serviceConfig = import ./hardening.nix {
        writable = lib.unique (map dirOf [ cfg.approle.roleIdFile cfg.approle.secretIdFile ]);
      } // {
        Type = "oneshot";
        ExecStart = pkgs.writeShellScript "vaultkeeper-adopt-credentials" script;
      };
    };
  };
}
