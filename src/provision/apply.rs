//! [`provision`]: the steps against Vault (policy, AppRole mount, role,
//! secret-id, wrapped token), undone when one fails.

use super::options::Options;
use super::rollback::Undo;
use crate::secret::Secret;
use crate::vault::{wrapping, VaultClient, VaultError};
use serde_json::json;

/// Creates or updates everything and returns the wrapped token; on failure,
/// rolls back what this run created.
pub(crate) async fn provision(admin: &VaultClient, o: &Options) -> Result<Secret, VaultError> {
    let mut undo = Undo::default();
    match provision_steps(admin, o, &mut undo).await {
        Ok(t) => Ok(t),
        Err(e) => {
            tracing::error!("provisioning failed ({e}); rolling back what this run created");
            undo.rollback(admin, o).await;
            Err(e)
        }
    }
}

async fn provision_steps(
    admin: &VaultClient,
    o: &Options,
    undo: &mut Undo,
) -> Result<Secret, VaultError> {
    let policy_path = format!("sys/policies/acl/{}", o.policy_name());
    let before = match admin.read(&policy_path).await {
        Ok(v) => Some(crate::vault::field::<String>(
            &v,
            "/data/policy",
            &policy_path,
        )?),
        Err(VaultError::NotFound { .. }) => None,
        Err(e) => return Err(e),
    };
    admin
        .write(&policy_path, &json!({ "policy": o.policy_hcl() }))
        .await?;
    undo.policy_before = Some(before);

    let auths = admin.read("sys/auth").await?;
    let mounted = auths
        .get("data")
        .unwrap_or(&auths)
        .get(format!("{}/", o.approle_mount))
        .is_some();
    if !mounted {
        admin
            .write(
                &format!("sys/auth/{}", o.approle_mount),
                &json!({ "type": "approle" }),
            )
            .await?;
        undo.mount_created = true;
    }

    let role = format!("auth/{}/role/{}", o.approle_mount, o.host);
    let existed = match admin.read(&role).await {
        Ok(_) => true,
        Err(VaultError::NotFound { .. }) => false,
        Err(e) => return Err(e),
    };
    admin.write(&role, &o.role_body()).await?;
    undo.role_created = !existed;
    let role_id: String = crate::vault::field(
        &admin.read(&format!("{role}/role-id")).await?,
        "/data/role_id",
        &role,
    )?;
    let generated = admin
        .write(&format!("{role}/secret-id"), &json!({}))
        .await?;
    undo.secret_id_accessor =
        crate::vault::field::<Option<String>>(&generated, "/data/secret_id_accessor", &role)?;
    let secret_id = Secret::new(crate::vault::field::<String>(
        &generated,
        "/data/secret_id",
        &role,
    )?);
    wrapping::wrap(
        admin,
        &json!({ "role_id": role_id, "secret_id": secret_id.expose() }),
        &o.wrap_ttl,
    )
    .await
}
