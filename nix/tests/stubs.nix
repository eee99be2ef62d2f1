# Stand-ins for the NixOS options the vaultkeeper module sets, typed like NixOS
# types them where the merge matters (lists of units concatenate, as in NixOS).
{ lib, ... }:
let
  inherit (lib) mkOption types;
  unitList = mkOption { type = types.listOf types.str; default = [ ]; };
  # NixOS's unitOption (nixos/lib/systemd-unit-options.nix): lists concatenate.
  unitOption = lib.mkOptionType {
    name = "systemd option";
    merge = loc: defs:
      if lib.any (d: builtins.isList d.value) defs
      then lib.concatMap (d: lib.toList d.value) defs
      else lib.mergeEqualOption loc defs;
  };
  service = types.submodule {
    freeformType = types.attrsOf types.anything;
    options = {
      wants = unitList;
      requires = unitList;
      after = unitList;
      before = unitList;
      wantedBy = unitList;
      restartTriggers = mkOption { type = types.listOf types.unspecified; default = [ ]; };
      reloadTriggers = mkOption { type = types.listOf types.unspecified; default = [ ]; };
      unitConfig = mkOption { type = types.attrsOf types.anything; default = { }; };
      serviceConfig = mkOption { type = types.attrsOf unitOption; default = { }; };
    };
  };
in
{
  options = {
    systemd.services = mkOption { type = types.attrsOf service; default = { }; };
    systemd.paths = mkOption { type = types.attrsOf (types.attrsOf types.anything); default = { }; };
    systemd.tmpfiles.rules = mkOption { type = types.listOf types.str; default = [ ]; };
    environment.systemPackages = mkOption { type = types.listOf types.package; default = [ ]; };
    environment.etc = mkOption { type = types.attrsOf (types.attrsOf types.anything); default = { }; };
    assertions = mkOption { type = types.listOf types.unspecified; default = [ ]; };
    warnings = mkOption { type = types.listOf types.str; default = [ ]; };
    networking.hostName = mkOption { type = types.str; default = "monitoring01"; };
    networking.firewall.allowedTCPPorts = mkOption { type = types.listOf types.port; default = [ ]; };
    # As NixOS declares it: a user's primary group is "" until set.
    users.users = mkOption {
      type = types.attrsOf (types.submodule {
        freeformType = types.attrsOf types.anything;
        options.group = mkOption { type = types.str; default = ""; };
      });
      default = { };
    };
    users.groups = mkOption { type = types.attrsOf (types.attrsOf types.anything); default = { }; };
  };
}
