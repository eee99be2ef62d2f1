# The vaultkeeper NixOS module (it lives in nix/module/); kept here as the import path users know.
{ imports = [ ../nix/module ]; }
