//! Argon2id password hashes, computed off the async threads, at most one per core at a time.
//!
//! Each hash takes 19 MiB and tens of milliseconds of a core. A burst of sign-ins therefore waits
//! for a free slot (up to [`QUEUE_WAIT`]) instead of taking memory without bound; past that wait
//! the request is refused with 503 and `Retry-After`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use anyhow::Context as _;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString, rand_core::OsRng};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Argon2id with 19 MiB of memory, 2 passes and 1 lane (OWASP's minimum for argon2id).
fn argon2() -> anyhow::Result<Argon2<'static>> {
    let params = Params::new(19 * 1024, 2, 1, None).map_err(|e| anyhow::anyhow!("argon2 parameters: {e}"))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Longest wait for a free slot before a request is refused.
pub const QUEUE_WAIT: Duration = Duration::from_secs(5);

/// Hashing slots: one per core.
static SLOTS: LazyLock<Arc<Semaphore>> =
    LazyLock::new(|| Arc::new(Semaphore::new(std::thread::available_parallelism().map_or(2, std::num::NonZero::get))));

/// Password work refused because every slot stayed busy for [`QUEUE_WAIT`].
static REFUSED: AtomicU64 = AtomicU64::new(0);
/// Hashes running right now, counted inside the work itself.
static RUNNING: AtomicU64 = AtomicU64::new(0);
/// The most hashes that ever ran at once (for `/metrics`).
static PEAK: AtomicU64 = AtomicU64::new(0);

/// Every slot stayed busy: the request should be retried in a few seconds.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("every password slot is busy")]
pub struct Busy;

/// Why password work gave no answer.
#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    /// Every slot stayed busy for [`QUEUE_WAIT`].
    #[error(transparent)]
    Busy(#[from] Busy),
    /// Hashing itself failed.
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

/// Figures of the password work of this process.
#[derive(Debug, Clone, Copy)]
pub struct Stats {
    /// Slots (cores).
    pub slots: u64,
    /// The most hashes that ran at once since the start.
    pub peak: u64,
    /// Requests refused because no slot came free in time.
    pub refused: u64,
}

/// Figures of the password work of this process.
pub fn stats() -> Stats {
    let slots = std::thread::available_parallelism().map_or(2, std::num::NonZero::get) as u64;
    Stats { slots, peak: PEAK.load(Ordering::Relaxed), refused: REFUSED.load(Ordering::Relaxed) }
}

/// Waits up to `wait` for one of `slots`.
async fn acquire(slots: &Arc<Semaphore>, wait: Duration) -> Result<OwnedSemaphorePermit, Busy> {
    match tokio::time::timeout(wait, slots.clone().acquire_owned()).await {
        Ok(Ok(permit)) => Ok(permit),
        _ => Err(Busy),
    }
}

/// Runs `work` on the blocking pool once a slot is free.
async fn in_slot<T: Send + 'static>(work: impl FnOnce() -> anyhow::Result<T> + Send + 'static) -> Result<T, PasswordError> {
    let permit = acquire(&SLOTS, QUEUE_WAIT).await.inspect_err(|_| {
        REFUSED.fetch_add(1, Ordering::Relaxed);
        tracing::warn!("password work refused: every slot stayed busy");
    })?;
    let result = tokio::task::spawn_blocking(move || {
        PEAK.fetch_max(RUNNING.fetch_add(1, Ordering::SeqCst) + 1, Ordering::SeqCst);
        let result = work();
        RUNNING.fetch_sub(1, Ordering::SeqCst);
        drop(permit);
        result
    })
    .await
    .context("password task failed")?;
    Ok(result?)
}

/// Hashes a password into a PHC string.
pub async fn hash(password: String) -> Result<String, PasswordError> {
    in_slot(move || hash_now(&password)).await
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
pub async fn verify(password: String, stored: Option<String>) -> Result<bool, PasswordError> {
    in_slot(move || {
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
}

/// Warms the dummy hash at start-up so the first failed sign-in is not slower than later ones.
pub fn warm_up() {
    LazyLock::force(&DUMMY_HASH);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn work_waits_for_a_free_slot_and_is_refused_after_the_wait() {
        let slots = Arc::new(Semaphore::new(2));
        let first = acquire(&slots, QUEUE_WAIT).await.unwrap();
        let _second = acquire(&slots, QUEUE_WAIT).await.unwrap();
        assert!(acquire(&slots, QUEUE_WAIT).await.is_err(), "both slots busy for the whole wait");
        let waiting = tokio::spawn({
            let slots = slots.clone();
            async move { acquire(&slots, QUEUE_WAIT).await.is_ok() }
        });
        tokio::time::sleep(QUEUE_WAIT / 2).await;
        drop(first);
        assert!(waiting.await.unwrap(), "a slot freed during the wait is taken");
    }

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
