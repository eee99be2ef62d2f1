# The few packages and builders the module uses, as inert stand-ins: store paths
# are fake, derivations are attribute sets that record their arguments.
let
  fakeStorePath = name: text:
    "${builtins.storeDir}/${builtins.substring 0 32 (builtins.hashString "sha256" text)}-${name}";
in
{
  vaultkeeper = {
    type = "derivation";
    name = "vaultkeeper-0.1.0";
    outPath = fakeStorePath "vaultkeeper-0.1.0" "vaultkeeper";
  };
  bash = {
    type = "derivation";
    name = "bash";
    outPath = fakeStorePath "bash" "bash";
  };
  openbao = {
    type = "derivation";
    name = "openbao";
    outPath = fakeStorePath "openbao" "openbao";
  };
  coreutils = {
    type = "derivation";
    name = "coreutils";
    outPath = fakeStorePath "coreutils" "coreutils";
  };
  writeShellScript = name: text: {
    type = "derivation";
    inherit name text;
    outPath = fakeStorePath name text;
  };
  writeTextFile = { name, text, checkPhase ? "", ... }: {
    type = "derivation";
    inherit name text checkPhase;
    outPath = fakeStorePath name text;
  };
}
