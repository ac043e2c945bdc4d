//! The portal's secret key and what is derived from it: the key that encrypts TOTP secrets at
//! rest, and the key of the keyed hashes (HMAC-SHA256) that sign the anonymous CSRF cookie and
//! store recovery codes.
//!
//! The key comes from `NDP_SECRET_KEY`; without it one is generated on first start and kept in
//! `<data dir>/secret-key` (readable by the owner only). Several processes on one database must
//! share the key, so set `NDP_SECRET_KEY` when running more than one.

use std::io::Write as _;
use std::path::Path;

use anyhow::Context as _;
use base64::Engine as _;
use chacha20poly1305::aead::{Aead as _, KeyInit as _};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use rand::RngCore as _;
use sha2::{Digest as _, Sha256};

/// Keys derived from the secret key.
#[derive(Clone)]
pub struct Keys {
    sealing: ChaCha20Poly1305,
    mac: [u8; 32],
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys(redacted)")
    }
}

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD_NO_PAD;

impl Keys {
    /// Derives the keys from secret material.
    pub fn from_secret(secret: &str) -> Self {
        let derive = |label: &[u8]| -> [u8; 32] {
            let mut hasher = Sha256::new();
            hasher.update(label);
            hasher.update(secret.as_bytes());
            hasher.finalize().into()
        };
        let key = Key::from(derive(b"ndp totp sealing v1\0"));
        Self { sealing: ChaCha20Poly1305::new(&key), mac: derive(b"ndp mac v1\0") }
    }

    /// The keyed hash of `data` for `purpose` (each purpose gets its own hashes), in hex.
    pub fn mac(&self, purpose: &str, data: &[u8]) -> String {
        use hmac::Mac as _;
        // HMAC takes keys of any length, so this cannot fail; if it did, a random value matches nothing.
        let Ok(mut mac) = <hmac::Hmac<Sha256> as hmac::Mac>::new_from_slice(&self.mac) else { return crate::auth::token::random_token() };
        mac.update(purpose.as_bytes());
        mac.update(b"\0");
        mac.update(data);
        mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
    }

    /// `NDP_SECRET_KEY` when set, else the key file under the data directory (created if missing).
    pub fn load(configured: Option<&str>, data_dir: &Path) -> anyhow::Result<Self> {
        if let Some(secret) = configured {
            return Ok(Self::from_secret(secret));
        }
        let path = data_dir.join("secret-key");
        if let Ok(existing) = std::fs::read_to_string(&path) {
            return Ok(Self::from_secret(existing.trim()));
        }
        std::fs::create_dir_all(data_dir).with_context(|| format!("cannot create {}", data_dir.display()))?;
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let secret = B64.encode(bytes);
        let mut file = std::fs::OpenOptions::new();
        file.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut file, 0o600);
        file.open(&path)
            .and_then(|mut f| f.write_all(secret.as_bytes()))
            .with_context(|| format!("cannot write the secret key to {}", path.display()))?;
        tracing::info!(path = %path.display(), "generated a secret key; set NDP_SECRET_KEY to share one between processes");
        Ok(Self::from_secret(&secret))
    }

    /// Encrypts a small secret for storage.
    pub fn seal(&self, plain: &str) -> anyhow::Result<String> {
        let mut nonce = [0u8; 12];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = self.sealing.encrypt(Nonce::from_slice(&nonce), plain.as_bytes()).map_err(|_| anyhow::anyhow!("sealing failed"))?;
        Ok(format!("v1:{}:{}", B64.encode(nonce), B64.encode(sealed)))
    }

    /// Decrypts what [`Keys::seal`] produced; fails on tampering or another key.
    pub fn open(&self, stored: &str) -> anyhow::Result<String> {
        let mut parts = stored.splitn(3, ':');
        let (Some("v1"), Some(nonce), Some(sealed)) = (parts.next(), parts.next(), parts.next()) else {
            anyhow::bail!("not a sealed value");
        };
        let nonce = B64.decode(nonce).context("bad nonce")?;
        anyhow::ensure!(nonce.len() == 12, "bad nonce length");
        let sealed = B64.decode(sealed).context("bad ciphertext")?;
        let plain =
            self.sealing.decrypt(Nonce::from_slice(&nonce), sealed.as_slice()).map_err(|_| anyhow::anyhow!("cannot open sealed value"))?;
        String::from_utf8(plain).context("sealed value is not text")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_with_the_same_key_only() {
        let keys = Keys::from_secret("one");
        let sealed = keys.seal("JBSWY3DPEHPK3PXP").unwrap();
        assert!(!sealed.contains("JBSWY3DPEHPK3PXP"));
        assert_eq!(keys.open(&sealed).unwrap(), "JBSWY3DPEHPK3PXP");
        assert!(Keys::from_secret("two").open(&sealed).is_err());
        assert!(keys.open("v1:xx:yy").is_err());
    }

    #[test]
    fn keyed_hashes_depend_on_key_purpose_and_data() {
        let one = Keys::from_secret("one");
        assert_eq!(one.mac("code", b"abc").len(), 64);
        assert_eq!(one.mac("code", b"abc"), one.mac("code", b"abc"));
        assert_ne!(one.mac("code", b"abc"), Keys::from_secret("two").mac("code", b"abc"));
        assert_ne!(one.mac("code", b"abc"), one.mac("cookie", b"abc"));
        assert_ne!(one.mac("code", b"abc"), one.mac("code", b"abd"));
    }

    #[test]
    fn a_generated_key_is_kept_in_the_data_directory() {
        let dir = tempfile::tempdir().unwrap();
        let sealed = Keys::load(None, dir.path()).unwrap().seal("x").unwrap();
        assert_eq!(Keys::load(None, dir.path()).unwrap().open(&sealed).unwrap(), "x");
    }
}
