# The systemd units: first-boot bootstrap, one oneshot fetch per secret ordered
# before the services that use it, and the agent daemon whose scheduler refreshes
# secrets and restarts services (it replaces per-secret rotation timers).
{ config, lib, pkgs, ... }:
let
  cfg = config.vault;
  secrets = lib.attrValues cfg.secrets;

  # Stable path (not the store path) so that editing one secret does not change,
  # and so restart, the fetch units of all the others and their services.
  specPath = "/etc/vaultkeeper/spec.json";
  vaultkeeper = args: "${cfg.package}/bin/vaultkeeper --spec ${specPath} ${args}";

  unitSuffixes = [ ".service" ".socket" ".target" ".timer" ".path" ".mount" ".slice"
    ".scope" ".device" ".swap" ".automount" ];
  # "grafana" -> "grafana.service", as the agent reads `services`.
  unitName = s: if lib.any (x: lib.hasSuffix x s) unitSuffixes then s else "${s}.service";
  # The systemd.services attribute of a service unit, null for other unit types.
  serviceAttr = s:
    if lib.hasSuffix ".service" s then lib.removeSuffix ".service" s
    else if unitName s == "${s}.service" then s
    else null;

  fetchUnit = name: "vault-secret-${name}.service";

  # Directories the units write; tmpfiles creates each so ReadWritePaths= can
  # name it. A secret's files go next to its outputDir (generations + symlink).
  stateDirs = lib.unique ([ cfg.stateDir ] ++ map (s: s.cacheDir) secrets
    ++ map dirOf [ cfg.approle.roleIdFile cfg.approle.secretIdFile ]);
  outputParents = lib.unique (map (s: dirOf s.outputDir) secrets
    ++ map (t: dirOf t.path) (lib.attrValues cfg.templates));
  # A secret's consumers: its `services`, and its `credentialFor` services.
  consumers = s: lib.unique (s.services ++ s.credentialFor);
  # LoadCredential= of every credentialFor service: <secret>.<key>:<file>.
  credentials = lib.foldl' (acc: c: acc // {
    ${c.svc} = (acc.${c.svc} or [ ]) ++ c.creds;
  }) { } (lib.concatLists (lib.mapAttrsToList (name: s:
    map (svc: {
      svc = serviceAttr svc;
      creds = map (k: "${name}.${k}:${s.outputDir}/${k}") (s.keys or [ ]);
    }) (lib.filter (svc: serviceAttr svc != null) s.credentialFor)) cfg.secrets));
  within = p: q: p != q && lib.hasPrefix "${q}/" p;
  minimal = ps: lib.filter (p: !lib.any (within p) ps) ps;
  writable = minimal (stateDirs ++ outputParents);

  hardening = import ./hardening.nix { inherit writable; };

  auditTcp = cfg.audit.enable && lib.any (lib.hasPrefix "tcp:") cfg.audit.listen;

  # First boot: where the wrapped token may be, and what to do after it was used.
  tokenFile = cfg.bootstrap.tokenFile;
  credentialName = "vaultkeeper.wrapped-token";
  # Files bootstrap erases the token from after a successful unwrap. NixOS does
  # not generate /etc/environment (its variables go to /etc/pam/environment and
  # /etc/set-environment): there it is the regular file cloud-init wrote, 0644,
  # so the spent token goes (rewritten in place, every other line kept).
  eraseFrom = lib.unique (lib.optional (tokenFile != null) tokenFile
    ++ lib.optional (cfg.approle.wrappedTokenFile != null) cfg.approle.wrappedTokenFile
    ++ lib.optional (cfg.bootstrap.environmentFile != null) cfg.bootstrap.environmentFile);
  lateStart = pkgs.writeShellScript "vaultkeeper-late-start" lateStartText;
  lateStartText = (''
    # Run after vaultkeeper-bootstrap. On a normal first boot the fetch units
    # have not run yet and nothing happens here. When the token arrived late,
    # they failed without credentials: start them again, with their services.
    [ -s ${lib.escapeShellArg cfg.approle.secretIdFile} ] || exit 0
    late() {
      unit=$1; shift
      systemctl is-failed --quiet "$unit" || return 0
      echo "vaultkeeper-bootstrap: $unit failed before this host had credentials: starting it again''${*:+ with $*}"
      systemctl reset-failed "$unit"
      systemctl start --no-block "$unit" "$@"
    }
  '' + lib.concatStrings (lib.mapAttrsToList (name: s: ''
    late ${lib.escapeShellArgs ([ (fetchUnit name) ] ++ map unitName (consumers s))}
  '') cfg.secrets ++ lib.mapAttrsToList (name: t: ''
    late ${lib.escapeShellArgs ([ (templateUnit name) ] ++ map unitName t.services)}
  '') cfg.templates));

  # Unix audit sockets outside the agent's RuntimeDirectory (/run/vaultkeeper).
  auditSocketDirs = lib.optionals cfg.audit.enable (lib.unique (map
    (l: dirOf (lib.removePrefix "unix:" l))
    (lib.filter (l: lib.hasPrefix "unix:" l && !lib.hasPrefix "unix:/run/vaultkeeper/" l)
      cfg.audit.listen)));

  # A socket directory under /run is the agent's own, entered by the server
  # (socketGroup); elsewhere it is only created if missing; /run itself is left alone.
  auditSocketDirRule = d:
    let group = if cfg.audit.socketGroup == null then "root" else cfg.audit.socketGroup; in
    if d == "/run" then [ ]
    else if lib.hasPrefix "/run/" d then [ "d ${d} 0750 root ${group} -" ]
    else [ "d ${d} - - - -" ];

  # Output parents under /run are the agent's own (e.g. /run/secrets); elsewhere
  # the directory may belong to someone else, so it is only created if missing.
  # A shared system directory (/run itself, /run/keys of nixpkgs' keys group,
  # /var/lib, ...: nix/path-rules.json) belongs to another module: no line at
  # all, it exists, and a line of ours would fight over its mode and group.
  # vault.secretsDir and /run/secrets (the default one; the module asserts
  # that sops-nix does not own it) are ours.
  sharedDirs = (builtins.fromJSON (builtins.readFile ../path-rules.json)).systemDirs;
  outputParentRule = p:
    if p != cfg.secretsDir && p != "/run/secrets" && lib.elem p sharedDirs then [ ]
    else if lib.hasPrefix "/run/" p then [ "d ${p} 0751 root root -" ]
    else [ "d ${p} - - - -" ];

  fetchService = name: s: lib.nameValuePair "vault-secret-${name}" {
    description = "vaultkeeper: fetch secret ${name}";
    wantedBy = [ "multi-user.target" ];
    wants = [ "network-online.target" "vaultkeeper-bootstrap.service" ];
    after = [ "network-online.target" "vaultkeeper-bootstrap.service" ];
    before = map unitName (consumers s);
    # A switch never restarts a fetch unit: not for a new package (its
    # ExecStart changes), not for a change of this secret's settings. The
    # daemon's reload (reloadTriggers below) re-renders what changed and
    # restarts the secret's services once; restarting this unit too would
    # restart them a second time (Requires= propagates restarts).
    restartIfChanged = false;
    serviceConfig = hardening // {
      Type = "oneshot";
      RemainAfterExit = true;
      # --boot: a cache Vault confirmed less than bootCacheMaxAge ago is
      # rendered without contacting Vault (a fleet-wide reboot does not
      # stampede the cluster); the daemon checks it within one refresh.
      ExecStart = vaultkeeper "fetch --boot ${name}";
      TimeoutStartSec = "2min";
    };
  };

  # A template: `fetch <name>` reads its secrets and renders it, after their own
  # units (so a boot while Vault is down renders it from their cache) and before
  # its services.
  templateUnit = name: "vault-template-${name}.service";
  templateSecrets = t:
    if t.envFrom != null then t.envFrom
    # Over-approximated (ordering only): every secret whose name appears before a dot.
    else lib.filter (s: t.content != null && lib.hasInfix "${s}." t.content) (lib.attrNames cfg.secrets);
  templateService = name: t: lib.nameValuePair "vault-template-${name}" {
    description = "vaultkeeper: render template ${name}";
    wantedBy = [ "multi-user.target" ];
    wants = [ "network-online.target" "vaultkeeper-bootstrap.service" ]
      ++ map fetchUnit (lib.filter (s: cfg.secrets ? ${s}) (templateSecrets t));
    after = [ "network-online.target" "vaultkeeper-bootstrap.service" ]
      ++ map fetchUnit (lib.filter (s: cfg.secrets ? ${s}) (templateSecrets t));
    before = map unitName t.services;
    # As a fetch unit: never restarted by a switch, the daemon's reload applies changes.
    restartIfChanged = false;
    serviceConfig = hardening // {
      Type = "oneshot";
      RemainAfterExit = true;
      ExecStart = vaultkeeper "fetch --boot ${name}";
      TimeoutStartSec = "2min";
    };
  };

  # What each consuming service gets: Requires= and After= its secrets' units,
  # so it starts only once its secret is in place. A critical service gets
  # Wants= instead: stopping or restarting a fetch unit (a switch that drops the
  # secret, `systemctl restart vault-secret-x`) must never stop it.
  isCritical = svc: lib.elem svc (map (c: lib.removeSuffix ".service" c) cfg.criticalServices);
  consumerDeps = lib.foldl' (acc: entry:
    let
      svc = serviceAttr entry.service;
      dep = if isCritical svc then "wants" else "requires";
    in
    if svc == null then acc else acc // {
      ${svc} = (acc.${svc} or { }) // {
        ${dep} = (acc.${svc}.${dep} or [ ]) ++ [ entry.unit ];
        after = (acc.${svc}.after or [ ]) ++ [ entry.unit ];
      };
    }) { } (lib.concatLists (lib.mapAttrsToList (name: s:
      map (service: { inherit service; unit = fetchUnit name; }) (consumers s)) cfg.secrets
    ++ lib.mapAttrsToList (name: t:
      map (service: { inherit service; unit = templateUnit name; }) t.services) cfg.templates));
in
{
  options.vault.bootstrap.lateStartScript = lib.mkOption {
    type = lib.types.lines;
    readOnly = true;
    internal = true;
    description = "The text of vaultkeeper-bootstrap's ExecStartPost= (read by the tests).";
  };

  config = lib.mkIf cfg.enable {
    vault.bootstrap.lateStartScript = lateStartText;

    systemd.tmpfiles.rules = map (p: "d ${p} 0700 root root -") stateDirs
      ++ lib.concatMap outputParentRule (lib.subtractLists stateDirs outputParents)
      ++ lib.concatMap auditSocketDirRule auditSocketDirs;

    # A token that arrives after boot (cloud-init late, written by hand) starts
    # the bootstrap; its condition keeps it from running once bootstrapped.
    systemd.paths.vaultkeeper-bootstrap = lib.mkIf (tokenFile != null || cfg.bootstrap.environmentFile != null) {
      description = "vaultkeeper: start the bootstrap when a wrapped token arrives";
      wantedBy = [ "multi-user.target" ];
      # PathChanged, not PathExists: the emptied token file stays, and a
      # PathExists unit would start the bootstrap again each time it exits.
      pathConfig.PathChanged = lib.optional (tokenFile != null) tokenFile
        ++ lib.optional (cfg.bootstrap.environmentFile != null) cfg.bootstrap.environmentFile;
    };

    systemd.services = lib.mkMerge [
      (lib.mapAttrs' fetchService cfg.secrets)
      (lib.mapAttrs' templateService cfg.templates)
      consumerDeps
      (lib.mapAttrs (_svc: creds: { serviceConfig.LoadCredential = creds; }) credentials)
      {
        vaultkeeper-bootstrap = {
          description = "vaultkeeper: first-boot AppRole bootstrap from a wrapped token";
          wantedBy = [ "multi-user.target" ];
          wants = [ "network-online.target" ];
          # After cloud-init has written the token (harmless without cloud-init),
          # before every fetch unit.
          after = [ "network-online.target" "cloud-init.service" "cloud-config.service" ];
          before = map fetchUnit (lib.attrNames cfg.secrets)
            ++ map templateUnit (lib.attrNames cfg.templates);
          # Once the secret-id exists the host is bootstrapped: never again.
          # With a token file, nothing to do until it holds something (the
          # .path unit starts this unit when it is written; a start on its
          # creation, before the token is in, is skipped and the write that
          # follows starts it again; an erased token file stays empty).
          # Without vault.address it also runs until the address is pinned
          # (an adopted host has credentials, and no address yet).
          unitConfig = if cfg.address == null then {
            ConditionPathExists = [ "|!${cfg.approle.secretIdFile}" "|!${cfg.stateDir}/vault-address" ];
          } else {
            ConditionPathExists = [ "!${cfg.approle.secretIdFile}" ];
          } // lib.optionalAttrs (tokenFile != null) {
            ConditionFileNotEmpty = tokenFile;
          };
          # Nothing Requires= this unit and, unless strict, it exits 0 when Vault
          # cannot be reached: it can never fail the boot. Not RemainAfterExit, so
          # that a token arriving later (the .path unit) starts it again.
          serviceConfig = hardening // {
            ReadWritePaths = writable ++ map (f: "-${f}") eraseFrom;
            Type = "oneshot";
            ExecStart = vaultkeeper ("bootstrap" + lib.optionalString cfg.bootstrap.strict " --strict"
              + lib.concatMapStrings (f: " --erase-token-from ${f}") eraseFrom);
            # A late bootstrap starts the fetch units that failed for want of
            # credentials, and the services they held back.
            ExecStartPost = "+${lateStart}";
            TimeoutStartSec = "2min";
            # systemd >= 254: a token handed to the machine as a credential.
            ImportCredential = credentialName;
          } // lib.optionalAttrs (tokenFile != null) {
            LoadCredential = "${credentialName}:${tokenFile}";
          } // lib.optionalAttrs (cfg.bootstrap.environmentFile != null) {
            EnvironmentFile = "-${cfg.bootstrap.environmentFile}";
          };
        };

        vaultkeeper = {
          description = "vaultkeeper: Vault/OpenBao secrets agent";
          wantedBy = [ "multi-user.target" ];
          wants = [ "network-online.target" ];
          after = [ "network-online.target" "vaultkeeper-bootstrap.service" ]
            ++ map fetchUnit (lib.attrNames cfg.secrets)
            ++ map templateUnit (lib.attrNames cfg.templates);
          # A new spec is applied with a reload (SIGHUP: re-validate, re-render only
          # what changed, restart no service whose secret did not change); a new
          # package changes ExecStart and restarts the daemon as usual.
          reloadTriggers = [ cfg.specFile ];
          serviceConfig = hardening // {
            ReadWritePaths = writable ++ map (d: "-${d}") auditSocketDirs
              ++ lib.optional (cfg.metrics.textfile != null) "-${dirOf cfg.metrics.textfile}";
            Type = "notify";
            NotifyAccess = "main";
            ExecStart = vaultkeeper "run";
            ExecReload = "${pkgs.coreutils}/bin/kill -HUP $MAINPID";
            Restart = "on-failure";
            RestartSec = "5s";
            WatchdogSec = "60s";
            RuntimeDirectory = "vaultkeeper";
            RuntimeDirectoryMode = "0700";
          } // lib.optionalAttrs auditTcp {
            # A TCP audit peer's owner is looked up with sock_diag (netlink).
            RestrictAddressFamilies = hardening.RestrictAddressFamilies ++ [ "AF_NETLINK" ];
          };
        };
      }
    ];
  };
}
