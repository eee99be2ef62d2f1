# A secret named "rendered" would be the directory every template is written to.
{
  vault.enable = true;
  vault.address = "https://vault01.example:8200";
  vault.secrets.rendered.secretPath = "x/r";
  vault.secrets.db.secretPath = "x/db";
  vault.templates."app.env".envFrom = [ "db" ];
}
