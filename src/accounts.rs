//! Operator commands on accounts (`ndp user ...`): create, change role, disable; and the change
//! of the secret key that protects their second factors (`ndp rotate-secret`). They write the same
//! audit events as the staff pages, with the operator shown as `cli`.

use anyhow::Context as _;
use sqlx::PgPool;

use crate::auth::{Keys, password};
use crate::db::audit::{self, Actor, Event};
use crate::db::users::{self, NewUser};
use crate::domain::account::{Email, Role, Status, check_new_password};

/// What `ndp user create` did.
#[derive(Debug)]
pub struct Created {
    /// The new account's id.
    pub id: i64,
    /// The password, when it was generated (shown once).
    pub generated_password: Option<String>,
}

/// A random password of 80 bits (19 characters) from an unambiguous alphabet.
pub fn generate_password() -> String {
    crate::auth::token::recovery_code()
}

/// Creates an active, verified account. `password` None generates one. Enterprise accounts need
/// `enterprise` (a slug) and are linked to it.
pub async fn create(
    pool: &PgPool,
    email: &str,
    role: &str,
    enterprise: Option<&str>,
    name: Option<&str>,
    password: Option<String>,
) -> anyhow::Result<Created> {
    let email = Email::parse(email).map_err(|_| anyhow::anyhow!("not an email address: {email}"))?;
    let role =
        Role::parse(role).with_context(|| format!("unknown role {role:?}; one of citizen, enterprise, moderator, evaluator, admin"))?;
    let enterprise_id = match (role, enterprise) {
        (Role::Enterprise, Some(slug)) => {
            Some(users::enterprise_by_slug(pool, slug).await?.with_context(|| format!("no enterprise with slug {slug:?}"))?.0)
        }
        (Role::Enterprise, None) => anyhow::bail!("an enterprise account needs --enterprise SLUG"),
        (_, Some(_)) => anyhow::bail!("--enterprise is only for the enterprise role"),
        (_, None) => None,
    };
    let (password, generated) = match password {
        Some(p) => (p, false),
        None => (generate_password(), true),
    };
    check_new_password(&password, email.as_str()).map_err(|e| anyhow::anyhow!("password refused: {}", e.message_key()))?;
    let hash = password::hash(password.clone()).await?;
    // Never derive the public name from the email address: it would publish part of it.
    let display_name = name.map_or_else(|| "Người dùng".to_owned(), str::to_owned);
    let new = NewUser {
        email: email.as_str(),
        display_name: &display_name,
        password_hash: &hash,
        role,
        status: Status::Active,
        locale: "vi",
        enterprise_name: None,
        tax_code: None,
        verified: true,
        enterprise_id,
        registered_addr: None,
    };
    let mut tx = pool.begin().await?;
    let id = users::insert(&mut *tx, &new).await?.with_context(|| format!("an account with email {} already exists", email.as_str()))?;
    let event = Event::new("user.created", "user", id.to_string())
        .after(serde_json::json!({"role": role.as_str(), "enterprise_id": enterprise_id}));
    audit::record(&mut *tx, &Actor::system("cli"), event).await?;
    tx.commit().await?;
    Ok(Created { id: id.0, generated_password: generated.then_some(password) })
}

/// Changes the role of the account with `email`.
pub async fn set_role(pool: &PgPool, email: &str, role: &str) -> anyhow::Result<()> {
    let role = Role::parse(role).with_context(|| format!("unknown role {role:?}"))?;
    let user = users::find_by_email(pool, email).await?.with_context(|| format!("no account with email {email}"))?;
    let mut tx = pool.begin().await?;
    users::set_role(&mut *tx, user.id, role).await?;
    let event = Event::new("user.role_changed", "user", user.id.to_string())
        .before(serde_json::json!({"role": user.role}))
        .after(serde_json::json!({"role": role.as_str()}));
    audit::record(&mut *tx, &Actor::system("cli"), event).await?;
    tx.commit().await?;
    Ok(())
}

/// Disables the account with `email` (its sessions stop working at the next request).
pub async fn disable(pool: &PgPool, email: &str) -> anyhow::Result<()> {
    let user = users::find_by_email(pool, email).await?.with_context(|| format!("no account with email {email}"))?;
    let mut tx = pool.begin().await?;
    users::set_status(&mut *tx, user.id, Status::Disabled).await?;
    let event = Event::new("user.status_changed", "user", user.id.to_string())
        .before(serde_json::json!({"status": user.status}))
        .after(serde_json::json!({"status": "disabled"}));
    audit::record(&mut *tx, &Actor::system("cli"), event).await?;
    tx.commit().await?;
    Ok(())
}

/// What a change of the secret key did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rotated {
    /// TOTP secrets re-encrypted with the new key.
    pub totp_secrets: u64,
    /// Recovery codes removed (their keyed hashes cannot be recomputed without the codes).
    pub recovery_codes: u64,
}

/// Re-encrypts every stored TOTP secret from `old` to `new` and removes the recovery codes, in one
/// transaction; fails, changing nothing, when a secret does not open with `old`.
pub async fn rotate_secret(pool: &PgPool, old: &Keys, new: &Keys) -> anyhow::Result<Rotated> {
    let mut tx = pool.begin().await?;
    let sealed = users::totp_secrets(&mut *tx).await?;
    let mut totp_secrets = 0;
    for (id, stored) in sealed {
        let plain = old.open(&stored).with_context(|| format!("the TOTP secret of account {id} does not open with the old key"))?;
        users::replace_totp_secret(&mut *tx, id, &new.seal(&plain)?).await?;
        totp_secrets += 1;
    }
    let recovery_codes = users::remove_all_recovery_codes(&mut *tx).await?;
    let event = Event::new("secret.rotated", "portal", "secret-key")
        .after(serde_json::json!({"totp_secrets": totp_secrets, "recovery_codes_removed": recovery_codes}));
    audit::record(&mut *tx, &Actor::system("cli"), event).await?;
    tx.commit().await?;
    Ok(Rotated { totp_secrets, recovery_codes })
}
