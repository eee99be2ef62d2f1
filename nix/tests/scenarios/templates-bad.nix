# Template mistakes caught at evaluation time.
{
  vault.enable = true;
  vault.address = "https://vault01.example:8200";
  vault.secrets.db.secretPath = "hosts/monitoring01/db";
  vault.templates.both = { content = "{{ db.a }}"; envFrom = [ "db" ]; };
  vault.templates.neither = { };
  vault.templates.unknown.envFrom = [ "db" "dbb" ];
  vault.templates.writable = { envFrom = [ "db" ]; mode = "0640"; };
  vault.templates.db.envFrom = [ "db" ];
}
