# Option types of the vaultkeeper module. Each type's description is what NixOS
# prints when a definition does not fit, so it says what to write instead.
{ lib }:
let
  inherit (lib) types mkOptionType;

  inStore = p: p == builtins.storeDir || lib.hasPrefix "${builtins.storeDir}/" p;
  hasDotDot = p: lib.elem ".." (lib.splitString "/" p);

  # The units of a humantime duration ("10s", "5m", "1h 30m", "2days").
  unit = "(nsec|ns|usec|us|msec|ms|seconds|second|secs|sec|s|minutes|minute|mins|min|m|hours|hour|hrs|hr|h|days|day|d|weeks|week|w|months|month|M|years|year|y)";
  durationRegex = " *[0-9]+${unit}( *[0-9]+${unit})* *";
  isDuration = s: builtins.isString s && builtins.match durationRegex s != null;
in
{
  # A file or directory on the host. Never a Nix store path: the store is
  # world-readable, so a secret or credential there is a leaked one. A Nix path
  # literal (./secret) is rejected too, since using it would copy it into the store.
  hostPath = mkOptionType {
    name = "hostPath";
    description = "absolute path outside the Nix store, as a string (e.g. \"/var/lib/vaultkeeper/x\", not ./x)";
    descriptionClass = "noun";
    check = p: builtins.isString p && lib.hasPrefix "/" p && !inStore p && !hasDotDot p;
    merge = lib.mergeEqualOption;
  };

  duration = mkOptionType {
    name = "duration";
    description = "duration such as \"30s\", \"5m\", \"36h\" or \"1h 30m\"";
    descriptionClass = "noun";
    check = isDuration;
    merge = lib.mergeEqualOption;
  };

  restartInterval = mkOptionType {
    name = "restartInterval";
    description = "\"daily\", \"weekly\", \"monthly\" or a duration such as \"36h\"";
    descriptionClass = "noun";
    check = s: lib.elem s [ "daily" "weekly" "monthly" ] || isDuration s;
    merge = lib.mergeEqualOption;
  };

  listenAddress = types.strMatching "(tcp:.+:[0-9]+|unix:/.+)" // {
    description = "listen address \"tcp:HOST:PORT\" or \"unix:/absolute/path.sock\"";
  };

  # "IP:PORT" or "[IPv6]:PORT", as the agent's chat.listen takes it (no host names).
  socketAddress = types.strMatching "([0-9]{1,3}([.][0-9]{1,3}){3}|[[][0-9a-fA-F:.]+[]]):[0-9]{1,5}" // {
    description = "IP address and port such as \"127.0.0.1:8093\" or \"[::1]:8093\"";
  };

  vaultAddress = types.strMatching "https?://[^ ]+" // {
    description = "URL starting with https:// (or http:// for a local dev server)";
  };
}
