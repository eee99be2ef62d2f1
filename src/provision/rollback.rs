//! [`Undo`]: what one provision run changed, rolled back in reverse order
//! when a later step fails.

use super::options::Options;
use crate::vault::{VaultClient, VaultError};
use serde_json::{json, Value};

/// What this run changed, to undo on failure.
#[derive(Default)]
pub(super) struct Undo {
    /// The policy's text before this run (`Some(None)`: it did not exist).
    pub(super) policy_before: Option<Option<String>>,
    pub(super) mount_created: bool,
    pub(super) role_created: bool,
    pub(super) secret_id_accessor: Option<String>,
}

impl Undo {
    /// Best effort, in reverse order; each step that fails is logged.
    pub(super) async fn rollback(self, admin: &VaultClient, o: &Options) {
        let role = format!("auth/{}/role/{}", o.approle_mount, o.host);
        let mut steps: Vec<(String, Result<Value, VaultError>)> = Vec::new();
        if let (Some(acc), false) = (&self.secret_id_accessor, self.role_created) {
            let r = admin
                .write(
                    &format!("{role}/secret-id-accessor/destroy"),
                    &json!({ "secret_id_accessor": acc }),
                )
                .await;
            steps.push(("destroy the secret-id it generated".into(), r));
        }
        if self.role_created {
            steps.push((format!("delete role {role}"), admin.delete(&role).await));
        }
        if self.mount_created {
            let path = format!("sys/auth/{}", o.approle_mount);
            steps.push((
                format!("disable the AppRole mount {}", o.approle_mount),
                admin.delete(&path).await,
            ));
        }
        let policy = format!("sys/policies/acl/{}", o.policy_name());
        match self.policy_before {
            Some(None) => steps.push((
                format!("delete policy {}", o.policy_name()),
                admin.delete(&policy).await,
            )),
            Some(Some(text)) => steps.push((
                format!("restore policy {}", o.policy_name()),
                admin.write(&policy, &json!({ "policy": text })).await,
            )),
            None => {}
        }
        for (what, r) in steps {
            match r {
                Ok(_) => tracing::info!("rolled back: {what}"),
                Err(e) => tracing::error!("rollback: cannot {what}: {e}; do it by hand"),
            }
        }
    }
}
