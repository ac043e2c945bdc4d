//! Time-based one-time passwords (RFC 6238: SHA-1, 6 digits, 30-second steps) for authenticator apps.
//! A code is accepted one step early or late, and each step only once (the caller stores the step).

use rand::RngCore as _;
use totp_rs::{Algorithm, Secret, TOTP};

const STEP_SECS: u64 = 30;

/// A new random secret (160 bits), base32-encoded as authenticator apps expect.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 20];
    rand::rng().fill_bytes(&mut bytes);
    match Secret::Raw(bytes.to_vec()).to_encoded() {
        Secret::Encoded(s) => s,
        Secret::Raw(_) => String::new(),
    }
}

fn totp(secret_b32: &str) -> Option<TOTP> {
    let bytes = Secret::Encoded(secret_b32.to_owned()).to_bytes().ok()?;
    TOTP::new(Algorithm::SHA1, 6, 1, STEP_SECS, bytes).ok()
}

/// The time step a code belongs to, if `code` is valid at `unix_time` (±1 step) and its step is
/// later than `last_step` (so a code cannot be used twice).
pub fn verify(secret_b32: &str, code: &str, unix_time: u64, last_step: Option<i64>) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let totp = totp(secret_b32)?;
    let now = unix_time / STEP_SECS;
    [now.saturating_sub(1), now, now + 1].into_iter().find_map(|step| {
        let step_i = i64::try_from(step).ok()?;
        let fresh = last_step.is_none_or(|last| step_i > last);
        (fresh && crate::auth::token::same(&totp.generate(step * STEP_SECS), &code)).then_some(step_i)
    })
}

/// The code for `unix_time` (used by tests and the operator CLI).
pub fn code_at(secret_b32: &str, unix_time: u64) -> Option<String> {
    totp(secret_b32).map(|t| t.generate(unix_time))
}

/// The `otpauth://` URI an authenticator app imports.
pub fn otpauth_uri(secret_b32: &str, issuer: &str, account: &str) -> String {
    let label = format!("{}:{}", percent(issuer), percent(account));
    format!("otpauth://totp/{label}?secret={secret_b32}&issuer={}&algorithm=SHA1&digits=6&period={STEP_SECS}", percent(issuer))
}

/// The secret in groups of four, easier to type into an app.
pub fn grouped(secret_b32: &str) -> String {
    secret_b32.as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>().join(" ")
}

fn percent(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'@') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Seconds since the Unix epoch.
pub fn now_unix() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_verify_once_within_one_step() {
        let secret = new_secret();
        assert_eq!(secret.len(), 32);
        let t = 1_800_000_000;
        let code = code_at(&secret, t).unwrap();
        let step = verify(&secret, &code, t, None).unwrap();
        assert_eq!(step, i64::try_from(t / 30).unwrap());
        assert_eq!(verify(&secret, &code, t, Some(step)), None, "replayed code");
        assert!(verify(&secret, &code, t + 30, None).is_some(), "one step late");
        assert_eq!(verify(&secret, &code, t + 90, None), None, "three steps late");
        assert_eq!(verify(&secret, "12345", t, None), None);
        assert_eq!(verify(&secret, "abcdef", t, None), None);
    }

    #[test]
    fn the_uri_names_the_issuer_and_account() {
        let uri = otpauth_uri("ABCD", "Nền tảng số", "an@example.vn");
        assert!(uri.starts_with("otpauth://totp/N%E1%BB%81n%20t%E1%BA%A3ng%20s%E1%BB%91:an@example.vn?secret=ABCD&issuer="), "{uri}");
    }
}
