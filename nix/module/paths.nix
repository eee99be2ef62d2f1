# Where vaultkeeper may write, checked at evaluation time with the same rules as
# `vaultkeeper check` (src/paths/): the system-directory lists come from
# nix/path-rules.json, the one file both read, so `nixos-rebuild` refuses exactly
# the paths the agent would refuse, with the option name and the fix. The rules
# and their tests are listed in docs/explanation/security-model.md.
{ config, lib, options, ... }:
let
  cfg = config.vault;
  rules = builtins.fromJSON (builtins.readFile ../path-rules.json);
  pathsLib = import ./path-lib.nix { inherit lib; };
  inherit (pathsLib) under;

  q = builtins.toJSON;
  secretOpt = name: key: "vault.secrets.${lib.strings.escapeNixIdentifier name}.${key}";

  components = p: lib.filter (c: c != "") (lib.splitString "/" p);
  # `.NAME.vaultkeeper*`: the names the agent uses for its own files beside an outputDir.
  reserved = p: lib.any (c: lib.hasPrefix "." c && lib.hasInfix ".vaultkeeper" c) (components p);

  # Why `dir` is a system directory (src/paths::system_reason), or null.
  systemReason = dir:
    let
      tree = lib.findFirst (t: under dir t) null rules.systemTrees;
      parent = dirOf dir;
    in
    if tree != null then
      (if dir == tree then "is ${tree}, which the system owns" else "is inside ${tree}, which the system owns")
    else if lib.elem dir rules.systemDirs then
      "is ${dir} itself, a system directory shared by everything on the host"
    else if dir != "/" && lib.elem parent rules.serviceParents then
      "is a directory of its own in ${parent} (a service's or user's directory, e.g. /var/lib/grafana)"
    else null;

  # The spelling rules the option types do not already enforce (absolute, no
  # "..", no store path: types.nix; trailing slashes, "." and "//": normalised).
  syntaxProblem = dir:
    if builtins.match "[^[:cntrl:]]*" dir == null then "contains a control character; write a plain path"
    else if builtins.stringLength dir > 3800 then "is longer than 3800 bytes; choose a shorter path"
    else if builtins.stringLength (baseNameOf dir) > 200 then
      "has a last component longer than 200 bytes; choose a shorter name"
    else null;

  cacheRoot = "${cfg.stateDir}/cache";
  credentialFiles = lib.filter (f: f.file != null) [
    { what = "vault.approle.roleIdFile"; file = cfg.approle.roleIdFile; }
    { what = "vault.approle.secretIdFile"; file = cfg.approle.secretIdFile; }
    { what = "vault.approle.wrappedTokenFile"; file = cfg.approle.wrappedTokenFile; }
  ];

  # Every outputDir and cacheDir, with its option name and an example of a good value.
  dirs = lib.concatLists (lib.mapAttrsToList (name: s: [
    { at = secretOpt name "outputDir"; dir = s.outputDir; key = "outputDir";
      example = "${cfg.secretsDir}/${name}"; }
    { at = secretOpt name "cacheDir"; dir = s.cacheDir; key = "cacheDir";
      example = "${cacheRoot}/${name}"; }
  ]) cfg.secrets);

  refuse = at: dir: rule: text: "${at} = ${q dir} ${text} [rule: ${rule}]";

  ownProblems = d:
    let
      syntax = syntaxProblem d.dir;
      why = systemReason d.dir;
    in
    lib.optional (syntax != null) (refuse d.at d.dir "normalised-absolute" syntax)
    ++ lib.optional (reserved d.dir) (refuse d.at d.dir "reserved-name"
      "uses a name vaultkeeper reserves for its own files (\".*.vaultkeeper*\"); choose another name, e.g. ${d.at} = ${q d.example};")
    ++ lib.optional (why != null) (refuse d.at d.dir "system-directory"
      "${why}; vaultkeeper replaces its target with a symlink and would move what is there aside. Write a directory of its own, e.g. ${d.at} = ${q d.example};")
    ++ lib.optional (under cfg.stateDir d.dir) (refuse d.at d.dir "contains-state-dir"
      "is or contains vault.stateDir ${q cfg.stateDir} (the AppRole credentials, caches and locks). Write a directory of its own, e.g. ${d.at} = ${q d.example};")
    ++ lib.optional (!under cfg.stateDir d.dir && under d.dir cfg.stateDir
        && !(d.key == "cacheDir" && under d.dir cacheRoot && d.dir != cacheRoot))
      (refuse d.at d.dir "inside-state-dir"
        "is inside vault.stateDir ${q cfg.stateDir}, where vaultkeeper keeps its credentials and state; only a secret's cache may live there, below ${q cacheRoot}. Write e.g. ${d.at} = ${q d.example};")
    ++ map (f: refuse d.at d.dir "contains-credentials"
        "contains ${f.what} ${q f.file}; a render would move it aside. Keep credentials outside every outputDir and cacheDir.")
      (lib.filter (f: under f.file d.dir) credentialFiles);

  # Pairs of directories: the same one twice, or one inside another.
  pairs = l: if l == [ ] then [ ] else
    let a = lib.head l; rest = lib.tail l; in
    map (b: { inherit a b; }) rest ++ pairs rest;
  pairProblem = { a, b }:
    if a.dir == b.dir then
      [ (refuse a.at a.dir "nested" "is also ${b.at}; give each secret and its cache a directory of its own.") ]
    else if under b.dir a.dir then
      [ (refuse a.at a.dir "nested" "contains ${b.at} = ${q b.dir}; a render of one would move the other aside. Use directories side by side, e.g. under ${q cfg.secretsDir}.") ]
    else if under a.dir b.dir then
      [ (refuse a.at a.dir "nested" "is inside ${b.at} = ${q b.dir}; a render of one would move the other aside. Use directories side by side, e.g. under ${q cfg.secretsDir}.") ]
    else [ ];

  stateDirProblems =
    lib.optional (lib.any (t: under cfg.stateDir t) rules.systemTrees
        || lib.elem cfg.stateDir rules.systemDirs || reserved cfg.stateDir)
      "vault.stateDir = ${q cfg.stateDir} is a system directory (or inside one) or uses a reserved name; vaultkeeper makes it 0700 and keeps credentials there. Write e.g. vault.stateDir = \"/var/lib/vaultkeeper\"; [rule: system-directory]";

  # Modes: only the nine permission bits (src/spec/mode.rs).
  modeDigits = m: lib.removePrefix "0o" m;
  specialBits = m:
    let
      d = modeDigits m;
      first = if builtins.stringLength d == 4 then lib.toInt (builtins.substring 0 1 d) else 0;
      bit = b: (first / b) - (first / (b * 2)) * 2 == 1;
    in
    lib.optional (bit 4) "setuid" ++ lib.optional (bit 2) "setgid" ++ lib.optional (bit 1) "sticky";
  isOctal = m: builtins.match "(0o)?[0-7]{1,4}" m != null;
  modeProblems = lib.concatLists (lib.mapAttrsToList (name: s:
    let special = if isOctal s.mode then specialBits s.mode else [ ]; d = modeDigits s.mode; in
    lib.optional (special != [ ])
      "${secretOpt name "mode"} = ${q s.mode} sets the ${lib.concatStringsSep " and " special} bit; only permission bits (0000-0777) are allowed for secret files, whose content anyone who can write the secret in Vault controls. Write ${secretOpt name "mode"} = \"0${builtins.substring 1 3 d}\"; [rule: permission-bits-only]")
    cfg.secrets);

  # Templates are rendered to <secretsDir>/rendered/<name>: a secret's
  # directory there (a secret named "rendered") would swap them away.
  templateClashes = lib.concatLists (lib.mapAttrsToList (tname: t:
    map (d: "vault.templates.${lib.strings.escapeNixIdentifier tname}.path = ${q t.path} ${
        if under t.path d.dir then "is inside" else "contains"} ${d.at} = ${q d.dir}; a render of one would move the other aside. Every template is written below ${q (dirOf t.path)}: rename the secret, e.g. vault.secrets.${lib.strings.escapeNixIdentifier "${baseNameOf d.dir}-secret"}.")
      (lib.filter (d: under t.path d.dir || under d.dir t.path) dirs)) cfg.templates);

  # sops-nix owns its symlink (default /run/secrets): each activation points it
  # at a fresh generation directory and deletes the old one, so files another
  # tool put "in" it vanish at the next switch. The agent's root-owned-symlink
  # rule (src/paths/walk.rs) would let it write there, but not keep them there.
  sopsActive = options ? sops && (config.sops.secrets or { }) != { };
  sopsLink = config.sops.defaultSymlinkPath or "/run/secrets";
  ourPaths = map (d: { inherit (d) at dir; }) (lib.filter (d: d.key == "outputDir") dirs)
    ++ lib.mapAttrsToList (name: t: { at = "vault.templates.${lib.strings.escapeNixIdentifier name}.path"; dir = t.path; }) cfg.templates;
  inSops = lib.filter (p: under p.dir sopsLink) ourPaths;
in
{
  config = lib.mkIf cfg.enable {
    assertions = map (message: { assertion = false; inherit message; })
      (lib.concatMap ownProblems dirs ++ lib.concatMap pairProblem (pairs dirs)
        ++ stateDirProblems ++ modeProblems ++ templateClashes)
      ++ [{
        assertion = !(sopsActive && inSops != [ ]);
        message = ''
          sops-nix is enabled and owns ${sopsLink} (a symlink it points at a new generation and
          deletes the old one on every activation), but ${lib.concatMapStringsSep ", " (p: "${p.at} = ${q p.dir}") inSops}
          ${if lib.length inSops == 1 then "is" else "are"} inside it: the files vaultkeeper writes there would vanish at the next switch.
          Give vaultkeeper a directory of its own: vault.secretsDir = "/run/vault-secrets";
          (the base of every default outputDir and template path); move an outputDir you set yourself too.'';
      }];
  };
}
