//! Argon2id password hashes, computed off the async threads.

use std::sync::LazyLock;

use anyhow::Context as _;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString, rand_core::OsRng};
use argon2::{Algorithm, Argon2, Params, Version};

/// Argon2id with 19 MiB of memory, 2 passes and 1 lane (OWASP's minimum for argon2id).
fn argon2() -> anyhow::Result<Argon2<'static>> {
    let params = Params::new(19 * 1024, 2, 1, None).map_err(|e| anyhow::anyhow!("argon2 parameters: {e}"))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes a password into a PHC string.
pub async fn hash(password: String) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || hash_now(&password)).await.context("hashing task failed")?
}

fn hash_now(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    let hashed = argon2()?.hash_password(password.as_bytes(), &salt).map_err(|e| anyhow::anyhow!("hashing failed: {e}"))?;
    Ok(hashed.to_string())
}

/// A hash of a random password, verified against when an account does not exist, so that a
/// missing account costs the same time as a wrong password.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| hash_now(&crate::auth::token::random_token()).unwrap_or_else(|_| String::from("$argon2id$v=19$m=19456,t=2,p=1$")));

/// Checks a password against a stored hash (or against a dummy hash when there is none).
/// Unreadable stored hashes (e.g. the `!` of an erased account) never match.
pub async fn verify(password: String, stored: Option<String>) -> anyhow::Result<bool> {
    tokio::task::spawn_blocking(move || {
        let real = stored.is_some();
        let stored = stored.unwrap_or_else(|| DUMMY_HASH.clone());
        let Ok(parsed) = PasswordHash::new(&stored) else {
            // Still spend the time, so an erased account looks like any other.
            let _ = PasswordHash::new(&DUMMY_HASH).map(|h| argon2().map(|a| a.verify_password(password.as_bytes(), &h)));
            return Ok(false);
        };
        let ok = argon2()?.verify_password(password.as_bytes(), &parsed).is_ok();
        Ok(ok && real)
    })
    .await
    .context("verification task failed")?
}

/// Warms the dummy hash at start-up so the first failed sign-in is not slower than later ones.
pub fn warm_up() {
    LazyLock::force(&DUMMY_HASH);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let hashed = hash("mây trắng bay về núi".into()).await.unwrap();
        assert!(hashed.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hashed}");
        assert!(verify("mây trắng bay về núi".into(), Some(hashed.clone())).await.unwrap());
        assert!(!verify("may trang bay ve nui".into(), Some(hashed)).await.unwrap());
        assert!(!verify("anything".into(), None).await.unwrap());
        assert!(!verify("anything".into(), Some("!".into())).await.unwrap());
    }
}
