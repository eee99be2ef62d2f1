# docs/reference/options.md, as a string, from the evaluated module's options
# (lib.optionAttrSetToDocList). Written by scripts/gen-options-doc.sh; the test
# `options_reference_is_up_to_date` in tests/nix_module.rs keeps it current.
{ nixpkgsLib }:
let
  lib = import nixpkgsLib;
  root = toString ../.;
  eval = lib.evalModules {
    modules = [
      ./module
      # Only the options are read: the NixOS options the module sets need not exist.
      { _module.check = false; _module.args.pkgs = { }; }
    ];
  };
  options = lib.filter (o: o.visible && !o.internal && lib.hasPrefix "vault." o.name
    && !lib.hasInfix "._module." o.name) (lib.optionAttrSetToDocList eval.options);

  render = v:
    if v ? _type && v._type == "literalExpression" then v.text
    else if v ? _type && v._type == "literalMD" then v.text
    else lib.generators.toPretty { } v;
  code = text:
    if lib.hasInfix "\n" text then "\n\n```nix\n${text}\n```" else " `${text}`";
  relative = p: lib.removePrefix "${root}/" (toString p);

  section = o: ''
    ## `${o.name}`

    ${lib.removeSuffix "\n" o.description}

    *Type:* ${o.type}

    *Default:*${code (render o.default)}

    *Example:*${code (render o.example)}

    *Declared in:* ${lib.concatMapStringsSep ", " (d: "`${relative d}`") o.declarations}
  '';
in
''
  # vaultkeeper NixOS module options

  Generated from `nix/module` (imported by `nixos/module.nix`) by `scripts/gen-options-doc.sh`; do not edit by hand.

''
+ lib.concatMapStringsSep "\n" section options
