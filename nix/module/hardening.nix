# Sandboxing shared by every vaultkeeper unit. The agent runs as root because it
# must chown secret files to arbitrary owners (so no User=, DynamicUser= or
# PrivateUsers=), and it must reach PID 1 to restart services (so no
# PrivateNetwork= on AF_UNIX and no ProtectSystem beyond "strict"). Everything
# else is taken away. `writable` lists the only paths it may write.
{ writable }:
{
  # Capabilities, each for one reason:
  #  CAP_CHOWN        give secret files and their generation directory to owner:group;
  #  CAP_FOWNER       chmod a file after it was given away (the agent sets owner,
  #                   then mode, before writing a byte);
  #  CAP_DAC_OVERRIDE read a generation back (a 0400 grafana file in a 0500 grafana
  #                   directory) to compare it, and remove old generations.
  # Not needed: CAP_KILL and CAP_SYS_ADMIN (restarts go through PID 1's socket,
  # which checks uid 0, not capabilities), CAP_NET_BIND_SERVICE (no port < 1024).
  CapabilityBoundingSet = [ "CAP_CHOWN" "CAP_FOWNER" "CAP_DAC_OVERRIDE" ];
  AmbientCapabilities = "";
  NoNewPrivileges = true;

  ProtectSystem = "strict";
  ReadWritePaths = writable;
  ProtectHome = true;
  PrivateTmp = true;
  PrivateDevices = true;
  PrivateIPC = true;
  ProtectKernelTunables = true;
  ProtectKernelModules = true;
  ProtectKernelLogs = true;
  ProtectControlGroups = true;
  ProtectClock = true;
  ProtectHostname = true;
  ProtectProc = "invisible";
  ProcSubset = "pid";

  # AF_UNIX: PID 1 and D-Bus (service restarts), the audit socket;
  # AF_INET/AF_INET6: Vault and Slack. No AF_NETLINK: glibc's resolver works
  # without it (it only uses it to sort addresses, and falls back).
  RestrictAddressFamilies = [ "AF_UNIX" "AF_INET" "AF_INET6" ];
  RestrictNamespaces = true;
  RestrictRealtime = true;
  RestrictSUIDSGID = true;
  LockPersonality = true;
  MemoryDenyWriteExecute = true;
  RemoveIPC = true;
  SystemCallArchitectures = "native";
  # @system-service keeps @chown (needed); @resources (priorities, affinity,
  # rlimits) is not.
  SystemCallFilter = [ "@system-service" "~@resources" ];
  SystemCallErrorNumber = "EPERM";
  DevicePolicy = "closed";
  UMask = "0077";
  # No core files: the agent holds tokens and secrets in memory (it also makes
  # itself non-dumpable with prctl at start).
  LimitCORE = 0;
}
