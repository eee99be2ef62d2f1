# A digest with nowhere to go: refused, with the options that fix it.
{
  vault.enable = true;
  vault.address = "https://vault01.example:8200";
  vault.insights.digest = "daily";
}
