//! Authentication and request integrity: password hashing, one-time tokens, TOTP, the secret key,
//! the session's sign-in record and the CSRF guard.

pub mod csrf;
pub mod keys;
pub mod password;
pub mod session;
pub mod token;
pub mod totp;

pub use keys::Keys;
pub use session::{AuthSession, SESSION_COOKIE};
