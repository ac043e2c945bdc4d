//! One-time secrets. Email tokens (256 bits) are stored as SHA-256 hashes: with that much entropy
//! a fast hash is safe. Recovery codes (80 bits, short enough to copy by hand) are stored as keyed
//! hashes (HMAC with the portal's key), so a copy of the database alone cannot test guesses.

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

/// Symbols of recovery codes: Crockford's base32 (digits and letters without i, l, o, u), so a
/// code survives being read aloud or copied by hand; 32 symbols carry 5 bits each.
const CODE_ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// A recovery code of 80 bits: 16 symbols in groups of four, such as `k7m2-px9q-rt04-hv3z`.
pub fn recovery_code() -> String {
    let mut rng = rand::rng();
    let symbols: Vec<char> = (0..16).map(|_| CODE_ALPHABET[(rng.next_u32() % 32) as usize] as char).collect();
    symbols.chunks(4).map(|group| group.iter().collect::<String>()).collect::<Vec<_>>().join("-")
}

/// Normalises a typed recovery code (case, spaces, missing hyphens, and the look-alikes o → 0,
/// i and l → 1 that Crockford's alphabet folds) before hashing.
pub fn normalize_recovery_code(input: &str) -> String {
    let compact: Vec<char> = input
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| match c.to_ascii_lowercase() {
            'o' => '0',
            'i' | 'l' => '1',
            c => c,
        })
        .collect();
    if compact.len() == 16 {
        compact.chunks(4).map(|g| g.iter().collect::<String>()).collect::<Vec<_>>().join("-")
    } else {
        compact.into_iter().collect()
    }
}

/// The stored form of a recovery code: its keyed hash.
pub fn recovery_code_hash(keys: &crate::auth::Keys, code: &str) -> String {
    keys.mac("recovery code", normalize_recovery_code(code).as_bytes())
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
    fn recovery_codes_carry_80_bits_and_normalise_as_typed() {
        let code = recovery_code();
        assert_eq!(code.len(), 19, "{code}");
        assert_eq!(code.chars().filter(|c| *c != '-').count() * 5, 80, "16 symbols of 5 bits");
        assert_ne!(recovery_code(), code);
        assert_eq!(normalize_recovery_code(&code.to_uppercase().replace('-', " ")), code);
        assert_eq!(normalize_recovery_code("OIL0-abcd-efgh-jkmn"), "0110-abcd-efgh-jkmn", "look-alikes fold");
        assert!(same(&code, &code.clone()));
        assert!(!same(&code, "x"));
    }

    #[test]
    fn recovery_codes_are_stored_as_keyed_hashes() {
        let keys = crate::auth::Keys::from_secret("one");
        let code = recovery_code();
        let stored = recovery_code_hash(&keys, &code);
        assert_ne!(stored, digest(&code), "not a bare SHA-256");
        assert_eq!(stored, recovery_code_hash(&keys, &code.to_uppercase()));
        assert_ne!(stored, recovery_code_hash(&crate::auth::Keys::from_secret("two"), &code));
    }
}
