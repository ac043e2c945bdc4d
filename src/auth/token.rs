//! One-time secrets: email tokens and recovery codes are random, shown once and stored as SHA-256
//! hashes (they carry enough entropy that a fast hash is safe).

use base64::Engine as _;
use rand::RngCore as _;
use sha2::{Digest as _, Sha256};

/// A URL-safe random token of 256 bits.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The stored form of a token or code.
pub fn digest(secret: &str) -> String {
    digest_bytes(secret.as_bytes())
}

/// The SHA-256 of bytes, in hex (content-addressed file names).
pub fn digest_bytes(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// Letters for recovery codes: no 0/o, 1/l/i, so codes survive being copied by hand.
const CODE_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";

/// A recovery code such as `k7m2p-x9qrt` (about 50 bits).
pub fn recovery_code() -> String {
    let mut rng = rand::rng();
    let mut pick = || CODE_ALPHABET[(rng.next_u32() as usize) % CODE_ALPHABET.len()] as char;
    let first: String = (0..5).map(|_| pick()).collect();
    let second: String = (0..5).map(|_| pick()).collect();
    format!("{first}-{second}")
}

/// Normalises a typed recovery code (case, spaces, missing hyphen) before hashing.
pub fn normalize_recovery_code(input: &str) -> String {
    let compact: String = input.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_lowercase()).collect();
    if compact.len() == 10 { format!("{}-{}", &compact[..5], &compact[5..]) } else { compact }
}

/// Compares two secrets in constant time.
pub fn same(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq as _;
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_digests_stable() {
        assert_ne!(random_token(), random_token());
        assert_eq!(random_token().len(), 43);
        assert_eq!(digest("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn recovery_codes_normalise_as_typed() {
        let code = recovery_code();
        assert_eq!(code.len(), 11);
        assert_eq!(normalize_recovery_code(&code.to_uppercase().replace('-', " ")), code);
        assert!(same(&code, &code.clone()));
        assert!(!same(&code, "x"));
    }
}
