# `cargo clippy --all-targets -D warnings` as a flake check.
{ vaultkeeper, clippy }:
vaultkeeper.overrideAttrs (old: {
  pname = "vaultkeeper-clippy";
  nativeBuildInputs = (old.nativeBuildInputs or [ ]) ++ [ clippy ];
  buildPhase = ''
    runHook preBuild
    cargo clippy --offline --all-targets -- -D warnings
    runHook postBuild
  '';
  doCheck = false;
  installPhase = "touch $out";
})
