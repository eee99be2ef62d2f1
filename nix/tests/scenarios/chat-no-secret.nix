# The endpoint without its signing secret: refused, with the option that fixes it.
{
  vault.enable = true;
  vault.address = "https://vault01.example:8200";
  vault.chat.enable = true;
}
