# Templates: one file built from the keys of several secrets (a grafana.ini with a
# password inside, a systemd EnvironmentFile=). `vault.templates.<name>` becomes
# the spec's `templates.<name>` and the unit `vault-template-<name>.service`
# (see units.nix); `vault.placeholder.<secret>.<key>` is the text that stands
# for a key inside `content`, as `config.sops.placeholder` does for sops-nix.
{ config, lib, ... }:
let
  inherit (lib) mkOption types literalExpression;
  cfg = config.vault;
  # The base of every default output path (options.nix).
  inherit (cfg) secretsDir;

  option = type: default: example: description:
    mkOption { inherit type default example description; };

  templateModule = { name, ... }: {
    options = {
      content = option (types.nullOr types.lines) null
        (literalExpression ''
          '''
            [security]
            admin_password = ''${config.vault.placeholder.grafana.password}
          ''' '')
        ''
          Text of the file, with `{{ SECRET.KEY }}` placeholders (write them with
          `config.vault.placeholder.<secret>.<key>`); `{{{{` writes a literal `{{`.
          A placeholder naming a secret that is not in `vault.secrets` fails the
          build (`vaultkeeper check`); a key missing at render time fails this
          template and keeps its previous version. Exclusive with `envFrom`.
        '';
      envFrom = option (types.nullOr (types.listOf types.str)) null [ "db" "api" ] ''
        Secrets whose every key becomes one `KEY="value"` line, quoted so that
        systemd's `EnvironmentFile=` reads back exactly the value (spaces,
        quotes, backslashes, `$`, newlines). A key that is not a valid
        environment variable name fails the template, naming the key.
        Exclusive with `content`.
      '';
      path = mkOption {
        type = types.str;
        readOnly = true;
        default = "${secretsDir}/rendered/${name}";
        defaultText = literalExpression ''"''${config.vault.secretsDir}/rendered/''${name}"'';
        example = literalExpression ''config.vault.templates."app.env".path'';
        description = ''
          Where the rendered file is (read-only): reference it from other
          options, e.g. `EnvironmentFile = config.vault.templates."app.env".path;`.
        '';
      };
      owner = option types.str "root" "grafana" "User that owns the rendered file.";
      group = option types.str "root" "grafana" "Group of the rendered file.";
      mode = option types.str "0400" "0440" "Octal mode of the rendered file, as a string; never writable.";
      services = option (types.listOf types.str) [ ] [ "grafana" ] ''
        Services that use this file. Each one gets `Requires=` and `After=` on
        `vault-template-<name>.service`, so it starts only once the file is in
        place, and is restarted (or reloaded, see `onChange`) when it changes,
        once per change however many of its secrets changed.
      '';
      onChange = option (types.enum [ "restart" "reload" "none" ]) "restart" "reload" ''
        What the agent does to `services` when the rendered file changes.
      '';
    };
  };

  opt = name: key: "vault.templates.${lib.strings.escapeNixIdentifier name}.${key}";
  validName = n:
    builtins.stringLength n <= 200 && builtins.match "[A-Za-z0-9_][A-Za-z0-9_.-]*" n != null;
in
{
  options.vault = {
    # Declared here and merged into vault.secrets.<name> by the module system.
    secrets = mkOption {
      type = types.attrsOf (types.submodule {
        options.keys = option (types.listOf types.str) [ ] [ "password" "user" ] ''
          Keys this secret is expected to hold. Each gets
          `config.vault.placeholder.<secret>.<key>` for template contents.
        '';
      });
    };

    templates = mkOption {
      type = types.attrsOf (types.submodule templateModule);
      default = { };
      example = literalExpression ''
        {
          "grafana.ini" = {
            content = '''
              [security]
              admin_password = ''${config.vault.placeholder.grafana.password}
            ''';
            owner = "grafana";
            services = [ "grafana" ];
          };
          "app.env".envFrom = [ "db" "api" ];
        }
      '';
      description = ''
        Files rendered from the keys of several secrets, each written atomically
        to `path` (`<vault.secretsDir>/rendered/<name>`) after its secrets
        and re-rendered when one of them changes.
      '';
    };

    placeholder = mkOption {
      type = types.attrsOf (types.attrsOf types.str);
      readOnly = true;
      default = lib.mapAttrs
        (secret: s: lib.genAttrs (s.keys or [ ]) (key: "{{ ${secret}.${key} }}"))
        cfg.secrets;
      defaultText = literalExpression ''{ <secret>.<key> = "{{ <secret>.<key> }}"; }'';
      example = literalExpression "config.vault.placeholder.grafana.password";
      description = ''
        The placeholder text of every declared key of every secret
        (`vault.secrets.<secret>.keys`), for `vault.templates.<name>.content`:
        `config.vault.placeholder.grafana.password` is `"{{ grafana.password }}"`.
        A key that is not declared can be written as that text directly.
      '';
    };
  };

  config = lib.mkIf cfg.enable {
    assertions = lib.concatLists (lib.mapAttrsToList (name: t: [
      {
        assertion = validName name;
        message = ''
          vault.templates.${lib.strings.escapeNixIdentifier name}: "${name}" cannot be a template name: it becomes the unit
          vault-template-<name>.service and a file name. Use letters, digits, '-', '_' and '.',
          not '.' or '-' first, at most 200 characters.'';
      }
      {
        assertion = (t.content == null) != (t.envFrom == null);
        message =
          if t.content == null then ''
            ${opt name "content"} and ${opt name "envFrom"} are both unset. Set one:
            ${opt name "content"} = "password = ''${config.vault.placeholder.SECRET.KEY}"; or
            ${opt name "envFrom"} = [ "SECRET" ];''
          else ''
            ${opt name "content"} and ${opt name "envFrom"} are both set; they are exclusive: keep one.'';
      }
      {
        assertion = t.envFrom == null || lib.all (s: cfg.secrets ? ${s}) t.envFrom;
        message = ''
          ${opt name "envFrom"} lists ${lib.concatStringsSep ", " (lib.filter (s: !(cfg.secrets ? ${s})) (if t.envFrom == null then [ ] else t.envFrom))},
          which is not in vault.secrets (known: ${lib.concatStringsSep ", " (lib.attrNames cfg.secrets)}).'';
      }
      {
        assertion = builtins.match "(0o)?0?[0-7][0-7][0-7]" t.mode != null
          && builtins.match ".*[2367].*" (lib.substring (builtins.stringLength t.mode - 3) 3 t.mode) == null;
        message = ''
          ${opt name "mode"} = "${t.mode}" is not a read-only octal file mode. Write e.g. "0400"
          (owner reads) or "0440" (owner and group read); no write, setuid, setgid or sticky bit.'';
      }
      {
        assertion = !(cfg.secrets ? ${name});
        message = ''
          vault.templates.${lib.strings.escapeNixIdentifier name} has the name of a secret; `vaultkeeper fetch ${name}` must mean one thing: rename the template.'';
      }
    ]) cfg.templates);
  };
}
