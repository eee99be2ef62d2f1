# Configuration mistakes caught at evaluation time, each with how to fix it.
{ config, lib, options, ... }:
let
  cfg = config.vault;
  opt = name: key: "vault.secrets.${lib.strings.escapeNixIdentifier name}.${key}";

  validName = n:
    builtins.stringLength n <= 200 && builtins.match "[A-Za-z0-9_][A-Za-z0-9_.-]*" n != null;
  # "db/primary" -> "db-primary": a name the user can paste.
  suggestName = n:
    let
      s = lib.stringAsChars (c: if builtins.match "[A-Za-z0-9_.-]" c != null then c else "-") n;
      t = lib.removePrefix "." (lib.removePrefix "-" s);
    in
    if t == "" then "secret" else builtins.substring 0 200 t;

  isOctalMode = m: builtins.match "(0o)?[0-7]{1,4}" m != null;

  bareName = s: lib.removeSuffix ".service" s;
  critical = map bareName cfg.criticalServices;
  criticalIn = s: lib.filter (svc: lib.elem (bareName svc) critical) s.services;

  perSecret = f: lib.concatLists (lib.mapAttrsToList f cfg.secrets);

  privateSockets = lib.filter (l: lib.hasPrefix "unix:/run/vaultkeeper/" l) cfg.audit.listen;

  # A `services` entry names a unit that some module other than ours defines.
  # Ours (units.nix) adds Requires=/After= to every entry, so a typo would
  # otherwise silently become an empty unit of its own.
  ourUnits = toString ./units.nix;
  serviceDefs = lib.filter (d: d.file != ourUnits)
    (options.systemd.services.definitionsWithLocations or [ ]);
  declared = svc: lib.any (d: d.value ? ${svc}) serviceDefs;
  unitSuffixes = [ ".socket" ".target" ".timer" ".path" ".mount" ".slice" ".scope" ".device" ".swap" ".automount" ];
  # Only service units are checked; other unit types may come from anywhere.
  undeclared = list: lib.filter (e:
    !lib.any (x: lib.hasSuffix x e) unitSuffixes && !declared (lib.removeSuffix ".service" e)) list;
  undeclaredWarning = what: key: list: lib.optional (undeclared list != [ ]) ''
    ${what}.${key} lists ${lib.concatMapStringsSep ", " (e: "\"${e}\"") (undeclared list)}, which no module
    declares in systemd.services: the module would create ${if lib.length (undeclared list) == 1 then "an empty unit" else "empty units"} holding only the
    ordering on the secret. Check the spelling (e.g. "grafana", not "grafana-server"); if the unit
    comes from systemd.packages, declare it with systemd.services.<name>.wantedBy = [ ... ];'';
in
{
  config = lib.mkIf cfg.enable {
    assertions = [
      {
        assertion = cfg.insights.digest == null
          || cfg.insights.slack.webhookUrlFile != null
          || (cfg.audit.enable && cfg.audit.slack.webhookUrlFile != null);
        message = ''
          vault.insights.digest = "${toString cfg.insights.digest}" posts a digest to Slack, but no webhook is set.
          Set vault.insights.slack.webhookUrlFile = "/run/secrets/slack-ops/webhook-url"; (a file holding
          the incoming-webhook URL), or enable vault.audit with vault.audit.slack.webhookUrlFile
          (digests share it), or set vault.insights.digest = null;'';
      }
      {
        assertion = !cfg.chat.enable || cfg.chat.signingSecretFile != null;
        message = ''
          vault.chat.enable is true, but vault.chat.signingSecretFile is not set: Slack's requests
          cannot be verified without the app's signing secret. Set
          vault.chat.signingSecretFile = "/run/secrets/slack-app/signing-secret"; (a file holding it, mode 0400).'';
      }
      {
        assertion = !(cfg.audit.enable && cfg.audit.socketGroup != null && privateSockets != [ ]);
        message = ''
          vault.audit.listen has ${lib.concatStringsSep ", " privateSockets}, inside the agent's private
          /run/vaultkeeper (0700), which the group "${toString cfg.audit.socketGroup}" (vault.audit.socketGroup) cannot enter.
          Put the socket in a directory of its own, e.g. "unix:/run/vaultkeeper-audit/audit.sock"
          (the module creates it 0750 root:${toString cfg.audit.socketGroup}).'';
      }
    ] ++ perSecret (name: s: [
      {
        assertion = validName name;
        message = ''
          vault.secrets.${lib.strings.escapeNixIdentifier name}: "${name}" cannot be a secret name: it becomes the unit
          vault-secret-<name>.service and a directory name. Use letters, digits, '-', '_'
          and '.', not '.' or '-' first, at most 200 characters: rename it, e.g. to
          vault.secrets.${lib.strings.escapeNixIdentifier (suggestName name)}.'';
      }
      {
        assertion = s.secretPath != null;
        message = ''
          ${opt name "secretPath"} is not set. Set it to the secret's path inside its
          KV mount "${s.kvMount}", e.g. ${opt name "secretPath"} = "hosts/${config.networking.hostName or "HOST"}/${name}";'';
      }
      {
        assertion = isOctalMode s.mode;
        message = ''
          ${opt name "mode"} = "${s.mode}" is not an octal file mode. Write it as
          a string of octal digits, e.g. "0400" (owner reads) or "0440" (owner and group read).'';
      }
      {
        assertion = s.credentialFor == [ ] || (s.keys or [ ]) != [ ];
        message = ''
          ${opt name "credentialFor"} = [ ${lib.concatMapStringsSep " " (x: "\"${x}\"") s.credentialFor} ], but ${opt name "keys"} is empty:
          each declared key becomes one credential <name>.<key>. List the keys the services read,
          e.g. ${opt name "keys"} = [ "password" ];'';
      }
      {
        assertion = !(s.restartTrigger && criticalIn s != [ ]);
        message = ''
          ${opt name "restartTrigger"} is true, but ${opt name "services"} lists
          ${lib.concatStringsSep ", " (criticalIn s)}, which vault.criticalServices says must never be
          restarted on a schedule. Either set ${opt name "restartTrigger"} = false;
          (and restart them yourself in a maintenance window), or remove them from vault.criticalServices.'';
      }
    ]);

    # The seed design's configurations set no address: its module read VAULT_ADDR
    # at boot. They evaluate; the agent pins what bootstrap finds (src/pin.rs).
    warnings = lib.optional (cfg.address == null) ''
      vault.address is not set: at the first boot vaultkeeper-bootstrap takes VAULT_ADDR (or BAO_ADDR)
      from its environment file (vault.bootstrap.environmentFile, where the seed's cloud-init wrote it
      with the wrapped token) and pins it in ${cfg.stateDir}/vault-address; from then on the
      environment never changes it. Until an address is pinned, the fetch units and the agent stop
      with exit 2. Add the one line to make it explicit:
        vault.address = "https://vault01.example:8200";''
      ++ perSecret (name: s:
      lib.optional (!lib.hasPrefix "/run/" s.outputDir) ''
        ${opt name "outputDir"} = "${s.outputDir}" is outside /run, so the secret
        is written to a disk and survives reboots. Unless that is what you want, use a
        directory under /run, e.g. ${opt name "outputDir"} = "${cfg.secretsDir}/${suggestName name}";''
      ++ undeclaredWarning "vault.secrets.${lib.strings.escapeNixIdentifier name}" "services" s.services
      ++ undeclaredWarning "vault.secrets.${lib.strings.escapeNixIdentifier name}" "credentialFor" s.credentialFor)
      ++ lib.concatLists (lib.mapAttrsToList (name: t:
        undeclaredWarning "vault.templates.${lib.strings.escapeNixIdentifier name}" "services" t.services) cfg.templates);
  };
}
