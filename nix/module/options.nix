# The options of the vaultkeeper module. Every option has a type, a default,
# a description and an example; docs/reference/options.md is generated from them
# (scripts/gen-options-doc.sh).
{ config, lib, pkgs, ... }:
let
  inherit (lib) mkOption types literalExpression;
  vkTypes = import ./types.nix { inherit lib; };
  inherit (import ./path-lib.nix { inherit lib; }) normalise normaliseNullable;
  cfg = config.vault;
  users = config.users.users or { };
  # The agent's defaults, written by the Rust spec parser (src/spec/defaults_file.rs).
  d = builtins.fromJSON (builtins.readFile ../defaults.json);

  # A byte count as the descriptions write it: "16 MiB", "1 GiB".
  bytes = n:
    if lib.mod n 1073741824 == 0 then "${toString (n / 1073741824)} GiB"
    else if lib.mod n 1048576 == 0 then "${toString (n / 1048576)} MiB"
    else "${toString n} bytes";

  option = type: default: example: description:
    mkOption { inherit type default example description; };

  secretModule = { name, config, ... }: {
    options = {
      secretPath = option (types.nullOr types.str) null "hosts/monitoring01/grafana" ''
        Path of the secret inside the KV mount (without the mount and, for KV
        version 2, without `data/`). Required.
      '';
      kvMount = option types.str d.secret.kvMount "kv" "KV secrets engine mount the secret lives in.";
      kvVersion = option (types.enum [ 1 2 ]) d.secret.kvVersion 1 "Version of the KV secrets engine at `kvMount`.";
      outputDir = mkOption {
        type = vkTypes.hostPath;
        default = "${cfg.secretsDir}/${name}";
        defaultText = literalExpression ''"''${config.vault.secretsDir}/''${name}"'';
        example = "/run/secrets/grafana";
        apply = normalise;
        description = ''
          Directory that receives one file per key of the secret. It is a symlink
          to the current generation, switched atomically. Keep it under `/run`
          (a tmpfs) so secrets never reach a disk. A trailing slash, `.` and `//`
          are normalised away; the module refuses the directories `vaultkeeper
          check` refuses (system directories, stateDir, another secret's
          directory: see docs/explanation/security-model.md).
        '';
      };
      path = mkOption {
        type = types.str;
        readOnly = true;
        default = config.outputDir;
        defaultText = literalExpression "config.vault.secrets.<name>.outputDir";
        example = literalExpression ''"$__file{''${config.vault.secrets.grafana.path}/password}"'';
        description = ''
          Where the secret's files are (read-only, the normalised `outputDir`):
          reference it from other options instead of writing the path twice, e.g.
          `services.grafana.settings.security.admin_password =
          "$__file{''${config.vault.secrets.grafana.path}/password}";`.
        '';
      };
      keyPaths = mkOption {
        type = types.attrsOf types.str;
        readOnly = true;
        default = lib.genAttrs (config.keys or [ ]) (key: "${config.outputDir}/${key}");
        defaultText = literalExpression ''{ <key> = "''${config.vault.secrets.<name>.path}/<key>"; }'';
        example = literalExpression "config.vault.secrets.db.keyPaths.password";
        description = ''
          The file of each key declared in `keys` (read-only), e.g.
          `config.vault.secrets.db.keyPaths.password` is `/run/secrets/db/password`.
          Referencing a key that is not declared is an evaluation error, so a
          typo fails `nixos-rebuild`, not the service.
        '';
      };
      credentialFor = option (types.listOf types.str) [ ] [ "grafana" ] ''
        Services (typically `DynamicUser=` ones, which cannot be given a file
        owner) that receive every key declared in `keys` through systemd's
        `LoadCredential=`: systemd copies `<outputDir>/<key>` into the
        service's private `$CREDENTIALS_DIRECTORY/<name>.<key>` when it starts.
        They are ordered after the secret like `services`, and restarted when
        it changes (a credential is a copy taken at start). Needs `keys`.
      '';
      cacheDir = mkOption {
        type = vkTypes.hostPath;
        apply = normalise;
        default = "${cfg.stateDir}/cache/${name}";
        defaultText = literalExpression ''"''${config.vault.stateDir}/cache/''${name}"'';
        example = "/var/lib/vaultkeeper/cache/grafana";
        description = ''
          Directory holding the last fetched copy of the secret (root, 0700), used
          when Vault cannot be reached, e.g. on a boot while Vault is down.
        '';
      };
      owner = option types.str d.secret.owner "grafana" "User that owns the secret files.";
      group = mkOption {
        type = types.str;
        default =
          let g = users.${config.owner}.group or ""; in
          if g != "" then g else d.secret.group;
        defaultText = literalExpression ''
          config.users.users.''${owner}.group when the owner is declared there (and has one), else "${d.secret.group}"'';
        example = "grafana";
        description = "Group of the secret files; by default the owner's primary group.";
      };
      mode = option types.str d.secret.mode "0440" ''
        Octal file mode of the secret files, as a string: permission bits only
        (setuid, setgid and sticky are refused). Directories get the matching
        read/enter bits and no write bit.
      '';
      services = option (types.listOf types.str) [ ] [ "grafana" ] ''
        Services that use this secret. Each one gets `Requires=` and `After=` on
        `vault-secret-<name>.service`, so it starts only once the secret is in
        place, and is restarted (or reloaded, see `onChange`) when it changes.
      '';
      restartTrigger = option types.bool false true ''
        Also restart `services` on a schedule (`restartInterval`, spread by
        `restartRandomizedDelay`), e.g. to make them pick up rotated credentials.
        Never allowed for a service in `vault.criticalServices`.
      '';
      restartInterval = option vkTypes.restartInterval d.secret.restartInterval "36h" ''
        How often `restartTrigger` restarts `services`.
      '';
      refreshInterval = option (types.nullOr vkTypes.duration) null "1m" ''
        How often the agent fetches this secret; `null` uses `vault.refreshInterval`.
      '';
      bootCacheMaxAge = option (types.nullOr vkTypes.duration) null "0s" ''
        As `vault.bootCacheMaxAge`, for this secret; `null` uses
        `vault.bootCacheMaxAge`. `"0s"`: always read Vault at boot.
      '';
      onChange = option (types.enum [ "restart" "reload" "none" ]) d.secret.onChange "reload" ''
        What the agent does to `services` when the secret's content changes.
      '';
      restartRandomizedDelay = option (types.nullOr vkTypes.duration) null "30m" ''
        Random delay added to scheduled restarts of this secret's services;
        `null` uses `vault.restartRandomizedDelay`.
      '';
    };
  };
in
{
  options.vault = {
    enable = lib.mkEnableOption ''
      vaultkeeper, the agent that puts Vault/OpenBao KV secrets into files for
      the services of this host'';
    package = lib.mkPackageOption pkgs "vaultkeeper" {
      example = "inputs.vaultkeeper.packages.\${pkgs.stdenv.hostPlatform.system}.default";
      extraDescription = "The flake's module sets it to the flake's own build.";
    };

    secretsDir = mkOption {
      type = vkTypes.hostPath;
      default = d.secretsDir;
      example = "/run/vault-secrets";
      apply = normalise;
      description = ''
        The base of every default `outputDir` (`<secretsDir>/<name>`) and
        template `path` (`<secretsDir>/rendered/<name>`). Set it to another
        directory when sops-nix (which owns `/run/secrets`) runs on the same
        host. Under `/run`, the module creates it 0751 root:root.
      '';
    };

    address = option (types.nullOr (types.either vkTypes.vaultAddress (types.nonEmptyListOf vkTypes.vaultAddress))) null "https://vault01.example:8200" ''
      URL of the Vault or OpenBao server, or a list of the URLs of one cluster's
      nodes (e.g. `[ "https://vault01:8200" "https://vault02:8200" "https://vault03:8200" ]`):
      each host tries them in the listed order rotated by a hash of its host
      name, passes to the next on no answer, 5xx, 429 or 503, and returns to its
      first one 10 minutes after leaving it. Set it. Left `null` (as in the
      seed design's configurations, whose module read `VAULT_ADDR` at boot),
      the evaluation warns and `vaultkeeper-bootstrap` pins, once, the
      `VAULT_ADDR` (or `BAO_ADDR`) of its environment file in
      `<stateDir>/vault-address` (https unless loopback); from then on the
      environment never changes it, and until then fetches stop with exit 2.
    '';
    namespace = option (types.nullOr types.str) null "admin/hosts" "Vault Enterprise namespace, or `null`.";
    caCert = option (types.nullOr types.path) null "/etc/ssl/certs/vault-ca.pem" ''
      CA certificate (PEM) that signed the server's certificate; `null` uses the
      system trust store. A CA certificate is public, so a store path is fine here.
    '';
    skipVerify = option types.bool false true ''
      Skip TLS certificate verification. Only for tests against a throwaway server.
    '';
    timeout = option vkTypes.duration d.vault.timeout "30s" "Timeout of each request to Vault.";
    # null: the agent's own default (docs/reference/spec.md), not a copy of it here.
    failback = option (types.nullOr vkTypes.duration) null "2m" ''
      With several `address`es: how long after leaving its first address a host
      tries it first again (1s to 1d); `null` uses the agent's default, 10 minutes.
    '';
    bootCacheMaxAge = option (types.nullOr vkTypes.duration) null "1h" ''
      At boot, `vault-secret-<name>.service` renders a KV v2 secret from its
      cache without contacting Vault when Vault confirmed that cache (a read or
      the agent's metadata check of that version) less than this long ago; the
      agent checks it within one `refreshInterval`. So a fleet that reboots
      together does not read every secret at once, at the price of up to
      `bootCacheMaxAge` + `refreshInterval` of staleness after a reboot.
      `"0s"`: always read Vault at boot; `null` uses the agent's default, 15
      minutes (at most 7d).
    '';
    maxResponseSize = option (types.strMatching "[0-9]+ ?(B|K|KiB|M|MiB|G|GiB)?") d.vault.maxResponseSize "64MiB" ''
      The largest answer read from Vault (64KiB to 1GiB); a larger one is refused
      while it streams in, before it fills memory.
    '';

    approle = {
      mount = option types.str d.approle.mount "approle-hosts" "Mount path of the AppRole auth method.";
      # null: the agent's own default (documented in docs/reference/spec.md), not a copy of it here.
      loginBackoff = {
        maxFailures = option (types.nullOr (types.ints.between 1 100)) null 3 ''
          Most rejected AppRole logins the daemon makes within `window`; keep it
          under the server's lockout threshold (5 in 15 minutes by default).
          `null`: the agent's default (${toString d.approle.loginBackoff.maxFailures}).
        '';
        window = option (types.nullOr vkTypes.duration) null "15m" ''
          The window `maxFailures` counts in (the server's lockout window).
          `null`: the agent's default (${d.approle.loginBackoff.window}).
        '';
        retryInterval = option (types.nullOr vkTypes.duration) null "1h" ''
          After `maxFailures` rejections in a row, how often the daemon tries again.
          `null`: the agent's default (${d.approle.loginBackoff.retryInterval}).
        '';
      };
      roleIdFile = mkOption {
        type = vkTypes.hostPath;
        apply = normalise;
        default = "${cfg.stateDir}/approle/role-id";
        defaultText = literalExpression ''"''${config.vault.stateDir}/approle/role-id"'';
        example = "/var/lib/vaultkeeper/approle/role-id";
        description = "File holding the AppRole role-id; written by `vaultkeeper bootstrap`.";
      };
      secretIdFile = mkOption {
        type = vkTypes.hostPath;
        apply = normalise;
        default = "${cfg.stateDir}/approle/secret-id";
        defaultText = literalExpression ''"''${config.vault.stateDir}/approle/secret-id"'';
        example = "/var/lib/vaultkeeper/approle/secret-id";
        description = ''
          File holding the AppRole secret-id; written by `vaultkeeper bootstrap`.
          While it exists, `vaultkeeper-bootstrap.service` does not run.
        '';
      };
      wrappedTokenEnv = option (types.nullOr types.str) d.approle.wrappedTokenEnv "BAO_WRAPPED_TOKEN" ''
        Environment variable that carries the single-use wrapped token for the
        first boot (see `vault.bootstrap.environmentFile`); `null` to not look.
      '';
      wrappedTokenFile = mkOption {
        type = types.nullOr vkTypes.hostPath;
        default = cfg.bootstrap.tokenFile;
        defaultText = literalExpression "config.vault.bootstrap.tokenFile";
        example = "/var/lib/vaultkeeper/wrapped-token";
        description = ''
          File the agent reads the wrapped token from, after the systemd
          credential `vaultkeeper.wrapped-token` and before the environment
          variable. Defaults to `vault.bootstrap.tokenFile`.
        '';
      };
      roleName = option (types.nullOr (types.strMatching "[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}")) null "web01" ''
        The AppRole role this host's credentials must belong to (the name given to
        `vaultkeeper provision --host`); bootstrap refuses credentials of any other
        role. `null` uses the host name.
      '';
    };

    bootstrap = {
      tokenFile = option (types.nullOr vkTypes.hostPath) null "/var/lib/vaultkeeper/wrapped-token" ''
        File that receives the single-use wrapped token on the first boot
        (cloud-init's `write_files`, or by hand). The recommended way to hand
        the token over: `vaultkeeper-bootstrap.service` gets it as the systemd
        credential `vaultkeeper.wrapped-token` (`LoadCredential=`), runs only
        once it exists (`vaultkeeper-bootstrap.path` starts it when it
        appears, also after boot), and after a successful unwrap erases the
        token from the file. Put it in a directory only root can read, e.g.
        under `vault.stateDir`. Without it, the token comes from
        `environmentFile` or from a credential `vaultkeeper.wrapped-token`
        given to the machine (`ImportCredential=`, systemd 254 or later).
      '';
      environmentFile = option (types.nullOr vkTypes.hostPath) "/etc/environment" "/run/cloud-init/vault.env" ''
        Environment file that `vaultkeeper-bootstrap.service` reads (if it
        exists) to find `wrappedTokenEnv` (and `VAULT_ADDR`, see
        `vault.address`), as the seed design's cloud-init wrote it. NixOS does
        not generate `/etc/environment` (its variables go to
        `/etc/pam/environment`), so there it is the file cloud-init's
        `write_files` created, readable by every local user (0644): after a
        successful unwrap bootstrap removes the token's line from it (the other
        lines stay). Prefer `tokenFile`, a file only root can read.
      '';
      strict = option types.bool false true ''
        Make `vaultkeeper-bootstrap.service` fail when bootstrapping fails. Even
        then nothing requires it, so the boot goes on.
      '';
    };

    stateDir = mkOption {
      type = vkTypes.hostPath;
      default = d.stateDir;
      example = "/var/lib/vaultkeeper";
      apply = normalise;
      description = "State directory (root, 0700): AppRole credentials and the secret caches.";
    };
    refreshInterval = option vkTypes.duration d.refreshInterval "1m" "How often the agent fetches every secret.";
    restartRandomizedDelay = option vkTypes.duration d.restartRandomizedDelay "15m" ''
      Random delay added to scheduled (`restartTrigger`) restarts, so a fleet does
      not restart the same service at the same moment.
    '';

    secrets = mkOption {
      type = types.attrsOf (types.submodule secretModule);
      default = { };
      example = literalExpression ''
        {
          grafana = {
            secretPath = "hosts/monitoring01/grafana";
            owner = "grafana";
            group = "grafana";
            services = [ "grafana" ];
          };
        }
      '';
      description = ''
        Secrets to fetch. Each `<name>` becomes `vault-secret-<name>.service` and,
        by default, the directory `/run/secrets/<name>` with one file per key.
      '';
    };

    criticalServices = option (types.listOf types.str) [ ] [ "bind" "openbao" "step-ca" ] ''
      Services the agent never restarts on a schedule: a secret that lists one of
      them cannot set `restartTrigger`.
    '';

    audit = {
      enable = option types.bool false true ''
        Whether the agent listens for Vault/OpenBao audit-device entries and alerts
        on dangerous events. Pair the socket audit device with a file device.
      '';
      listen = option (types.listOf vkTypes.listenAddress) [ "unix:/run/vaultkeeper-audit/audit.sock" ]
        [ "unix:/run/vaultkeeper-audit/audit.sock" "tcp:127.0.0.1:9090" ] ''
        Where the agent accepts audit entries (OpenBao's `socket` audit device).
        A unix socket (the default) is reachable by `socketGroup` only; a TCP
        address must be loopback unless the spec's `audit.allowFrom` lists the
        remote servers. Connections from other users are refused and counted.
      '';
      peerUsers = option (types.listOf types.str) [ ] [ "openbao" ] ''
        Users (names or uids) whose connections are the Vault server's. Empty:
        root and the agent's own user, plus, on a unix socket, any process whose
        group is `socketGroup`.
      '';
      slack.webhookUrlFile = option (types.nullOr vkTypes.hostPath) null "/run/secrets/slack/webhook-url" ''
        File holding the Slack incoming-webhook URL for alerts, or `null`. It can
        itself be a vaultkeeper secret.
      '';
      slack.timeout = option (types.nullOr vkTypes.duration) null "10s" ''
        Limit on connecting and sending one POST to Slack (a failure within it
        is retried); `null`: the agent's default (${d.audit.slack.timeout}).
      '';
      slack.responseTimeout = option (types.nullOr vkTypes.duration) null "60s" ''
        Limit on waiting for Slack's answer once a POST's body was sent; no
        answer within it is never retried (at most one post per alert), the
        message is set aside as unconfirmed. `null`: the agent's default (${d.audit.slack.responseTimeout}).
      '';
      # null: the agent's own default (docs/reference/spec.md), not a copy of it here.
      allowFrom = option (types.listOf types.str) [ ] [ "10.0.0.5" "10.0.1.0/24" ] ''
        Remote Vault servers (IP addresses or CIDR blocks) accepted on a
        non-loopback `tcp:` listen address; required for such an address.
      '';
      maxConnections = option (types.nullOr (types.ints.between 1 4096)) null 128 ''
        Connections open at once (silent ones are evicted first, the server's
        busy ones never). `null`: the agent's default (${toString d.audit.maxConnections}).
      '';
      idleTimeout = option (types.nullOr vkTypes.duration) null "5m" ''
        A connection silent this long after a partial line is closed.
        `null`: the agent's default (${d.audit.idleTimeout}).
      '';
      queueBytes = option (types.nullOr (types.ints.between 1048576 4294967296)) null 33554432 ''
        Bytes of audit lines that may wait for the rule engine (beyond it lines
        count as overload). `null`: the agent's default (${bytes d.audit.queueBytes}).
      '';
      memoryBudget = option (types.nullOr (types.ints.between 4194304 17179869184)) null 134217728 ''
        Bytes all connections may make the agent hold. `null`: the agent's
        default (${bytes d.audit.memoryBudget}, or `queueBytes` if larger).
      '';
      spillBytes = option (types.nullOr (types.ints.between 1048576 1099511627776)) null 2147483648 ''
        Bytes of security-relevant lines spilled to disk when the memory budget
        is used up. `null`: the agent's default (${bytes d.audit.spillBytes}).
      '';
      statsInterval = option (types.nullOr vkTypes.duration) null "1m" ''
        How often the listener's counters are written for `report usage`.
        `null`: the agent's default (${d.audit.statsInterval}).
      '';
      socketGroup = option (types.nullOr types.str) null "openbao" ''
        Group of the `unix:` listen sockets (mode 0660), so that the Vault or
        OpenBao server, running as that group, can connect; `null` keeps the
        agent's group (root). Set it to the Vault server's group.
      '';
      rules = option (types.attrsOf (types.attrsOf types.anything)) { } {
        root-token-used.severity = "critical";
        login-failures = { threshold = 5; window = "5m"; };
      } "Alert rules by name, with their settings.";
    };

    insights = {
      digest = option (types.nullOr vkTypes.restartInterval) null "weekly" ''
        How often the agent posts a Slack digest (server status, posture score
        and its change since the last digest, available updates, the lease
        report's headline), or `null` for never. Needs a webhook:
        `vault.insights.slack.webhookUrlFile` or `vault.audit.slack.webhookUrlFile`.
        Enable it on one host of a fleet, whose AppRole policy includes the
        insights policy (docs/policies/insights.hcl).
      '';
      sealedAlert = option types.bool d.insights.sealedAlert false ''
        Whether the agent posts to Slack at once when the server turns sealed,
        and again when it is unsealed (needs a webhook, as the digest).
      '';
      sealCheckInterval = option vkTypes.duration d.insights.sealCheckInterval "10s" ''
        How often the agent asks the server (`sys/seal-status`, no token)
        whether it is sealed.
      '';
      versionFeed = option (types.nullOr types.str) null "https://mirror.example/openbao/releases.json" ''
        A GitHub-releases-shaped JSON feed the digest and `vaultkeeper
        version-check` compare the server with; `null` picks openbao/openbao or
        hashicorp/vault from what the server reports.
      '';
      slack.webhookUrlFile = option (types.nullOr vkTypes.hostPath) null "/run/secrets/slack-ops/webhook-url" ''
        File holding the Slack incoming-webhook URL for digests and seal alerts,
        or `null` to use `vault.audit.slack.webhookUrlFile`.
      '';
      slack.timeout = option (types.nullOr vkTypes.duration) null "10s" ''
        As `vault.audit.slack.timeout`, for digests and seal alerts.
      '';
      slack.responseTimeout = option (types.nullOr vkTypes.duration) null "60s" ''
        As `vault.audit.slack.responseTimeout`, for digests and seal alerts.
      '';
    };

    chat = {
      enable = option types.bool false true ''
        Whether the agent (`vaultkeeper.service`) answers Slack slash commands
        (`/vault status|posture|leases|usage|updates|help`), read-only, on
        `vault.chat.listen`. Put a TLS reverse proxy in front of it (see
        docs/how-to/ask-in-slack.md); the module opens no firewall port. The
        host's AppRole policy needs the insights policy (docs/policies/insights.hcl).
      '';
      listen = option vkTypes.socketAddress "127.0.0.1:8093" "127.0.0.1:8093" ''
        IP address and port the endpoint listens on (plain HTTP: keep it on
        loopback and let the reverse proxy terminate TLS).
      '';
      signingSecretFile = option (types.nullOr vkTypes.hostPath) null "/run/secrets/slack-app/signing-secret" ''
        File holding the Slack app's signing secret (Basic Information → App
        Credentials → Signing Secret), mode 0400. It can itself be a vaultkeeper
        secret; it is read again when it changes. Required when the endpoint is enabled.
      '';
      allowedChannels = option (types.listOf (types.strMatching "[CGD][A-Z0-9]{2,31}")) [ ] [ "C0123456789" ] ''
        Channel IDs (not names) whose commands are answered; empty = any channel.
      '';
      allowedUsers = option (types.listOf (types.strMatching "[UW][A-Z0-9]{2,31}")) [ ] [ "U0123456789" ] ''
        User IDs (not names) whose commands are answered; empty = anyone in the workspace.
      '';
      collectionInterval = option vkTypes.duration d.chat.collectionInterval "5m" ''
        An answer collected less than this long ago is given again at once;
        an older one is collected from Vault again (one collection per command at a time).
      '';
      responseType = option (types.enum [ "ephemeral" "in_channel" ]) d.chat.responseType "in_channel" ''
        Who sees the answers: only the person who asked (`ephemeral`) or the whole channel.
      '';
    };

    # Computed by the module, read by tests and by whoever wants the spec.
    spec = mkOption {
      type = types.attrsOf types.anything;
      readOnly = true;
      internal = true;
      description = "The JSON spec the module generates, as a Nix value.";
    };
    specFile = mkOption {
      type = types.package;
      readOnly = true;
      internal = true;
      description = "The generated spec, checked at build time by `vaultkeeper check`.";
    };
  };
}
