# vaultkeeper insights: the read-only policy behind `vaultkeeper status`,
# `posture`, `report leases`, `report usage` and the daemon's digest.
# Nothing here can read a secret value, write, or create a token.
# Install: bao policy write vaultkeeper-insights docs/policies/insights.hcl

# status: this token's own TTL and policies (also in the default policy).
path "auth/token/lookup-self" { capabilities = ["read"] }

# status + posture: audit devices (listing them needs sudo), mount tables.
path "sys/audit" { capabilities = ["read", "sudo"] }
path "sys/auth" { capabilities = ["read"] }
path "sys/mounts" { capabilities = ["read"] }

# posture: token store TTLs (reading a tune needs sudo) and HA node count.
path "sys/auth/token/tune" { capabilities = ["read", "sudo"] }
path "sys/ha-status" { capabilities = ["read"] }

# posture + reports: token accessors (listing needs sudo) and their metadata.
# lookup-accessor is an update call but only reads; it never returns the token.
path "auth/token/accessors" { capabilities = ["list", "sudo"] }
path "auth/token/lookup-accessor" { capabilities = ["update"] }

# posture: AppRole role settings. "+" matches one segment, so role-id and
# secret-id below a role stay out of reach. A LIST is matched with a trailing
# slash, which "auth/+/role/+" also matches, so that rule needs "list" too.
path "auth/+/role" { capabilities = ["list"] }
path "auth/+/role/+" { capabilities = ["read", "list"] }

# posture: ACL policies (to find "*" paths and sudo).
path "sys/policies/acl" { capabilities = ["list"] }
path "sys/policies/acl/*" { capabilities = ["read"] }

# posture: KV v2 max_versions of each mount (<mount>/config).
path "+/config" { capabilities = ["read"] }

# report leases: lease ids and their TTLs (listing needs sudo).
# The top-level list needs its own rule: "sys/leases/lookup/*" does not match it.
path "sys/leases/lookup" { capabilities = ["update"] }
path "sys/leases/lookup/" { capabilities = ["list", "sudo"] }
path "sys/leases/lookup/*" { capabilities = ["list", "sudo"] }

# report usage: entity count, MFA enforcement, and secret NAMES per KV mount
# (list only: values stay unreadable). Drop these two KV lines to keep key
# names private; the report then says "not assessed" for that mount.
path "identity/entity/id" { capabilities = ["list"] }
path "identity/mfa/login-enforcement" { capabilities = ["list"] }
path "+/metadata" { capabilities = ["list"] }
path "+/metadata/*" { capabilities = ["list"] }
