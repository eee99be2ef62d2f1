# The JSON spec the agent reads: exactly the keys of the binary's contract, no
# others (the binary rejects unknown keys). It is written to the store, checked at
# build time with `vaultkeeper check` (a bad config fails nixos-rebuild, not the
# boot) and linked to /etc/vaultkeeper/spec.json, the binary's default --spec.
{ config, lib, pkgs, ... }:
let
  cfg = config.vault;
  # The agent's defaults, written by the Rust spec parser (src/spec/defaults_file.rs).
  d = builtins.fromJSON (builtins.readFile ../defaults.json);

  secretSpec = _name: s: {
    inherit (s) secretPath kvMount kvVersion outputDir cacheDir owner group mode
      restartTrigger restartInterval refreshInterval onChange restartRandomizedDelay;
    # A credentialFor service holds a copy taken at its start: restart it on change too.
    services = lib.unique (s.services ++ s.credentialFor);
  } // setOnly { inherit (s) bootCacheMaxAge; };

  # Options whose null means "the agent's default": only the ones set.
  setOnly = lib.filterAttrs (_: v: v != null);
  slackSpec = sl:
    if sl.webhookUrlFile == null then null
    else { inherit (sl) webhookUrlFile; } // setOnly { inherit (sl) timeout responseTimeout; };

  spec = {
    vault = { inherit (cfg) address namespace caCert skipVerify timeout maxResponseSize; }
      // setOnly { inherit (cfg) failback; }
      # No address (the seed's configurations): the one bootstrap pins (src/pin.rs).
      // lib.optionalAttrs (cfg.address == null) { addressFrom = "firstBoot"; };
    approle = {
      inherit (cfg.approle) mount roleIdFile secretIdFile wrappedTokenEnv wrappedTokenFile roleName;
    } // (let b = lib.filterAttrs (_: v: v != null) cfg.approle.loginBackoff; in
      lib.optionalAttrs (b != { }) { loginBackoff = b; });
    inherit (cfg) stateDir refreshInterval restartRandomizedDelay criticalServices;
  } // setOnly { inherit (cfg) bootCacheMaxAge; } // {
    secrets = lib.mapAttrs secretSpec cfg.secrets;
  } // lib.optionalAttrs (cfg.templates != { }) {
    templates = lib.mapAttrs (_name: t: {
      inherit (t) content envFrom path owner group mode services onChange;
    }) cfg.templates;
  } // {
    audit =
      if cfg.audit.enable then {
        inherit (cfg.audit) listen socketGroup peerUsers rules;
        slack = slackSpec cfg.audit.slack;
      } // setOnly { inherit (cfg.audit) maxConnections idleTimeout queueBytes memoryBudget spillBytes statsInterval; }
        // lib.optionalAttrs (cfg.audit.allowFrom != [ ]) { inherit (cfg.audit) allowFrom; }
      else null;
    # null while every insights option keeps its default (no digest, sealed
    # alerts on a shared audit webhook), as the binary reads a missing section.
    insights =
      let i = cfg.insights; in
      if i.digest == null && i.sealedAlert == d.insights.sealedAlert
        && i.sealCheckInterval == d.insights.sealCheckInterval
        && i.versionFeed == null && i.slack.webhookUrlFile == null
      then null
      else {
        inherit (i) digest sealedAlert sealCheckInterval versionFeed;
        slack = slackSpec i.slack;
      };
  }
  # Only when enabled, so specs without it stay exactly as they were.
  // lib.optionalAttrs cfg.chat.enable {
    chat = {
      inherit (cfg.chat) listen signingSecretFile allowedChannels allowedUsers
        collectionInterval responseType;
    };
  } // lib.optionalAttrs (cfg.metrics.textfile != null || cfg.metrics.listen != null) {
    metrics = { inherit (cfg.metrics) textfile listen; };
  };
in
{
  config = lib.mkIf cfg.enable {
    vault.spec = spec;
    vault.specFile = pkgs.writeTextFile {
      name = "vaultkeeper-spec.json";
      text = builtins.toJSON spec;
      checkPhase = ''
        ${cfg.package}/bin/vaultkeeper --spec "$out" check
      '';
    };
    environment.etc."vaultkeeper/spec.json".source = cfg.specFile;
    # For the operator: `vaultkeeper status`, `fetch`, ... read the spec above.
    environment.systemPackages = [ cfg.package ];
  };
}
