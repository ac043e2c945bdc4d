//! Static files, embedded in the binary and served under content-hashed names.
//!
//! Each file's URL carries a hash of its content (`/static/css/ndp.3f9a1c2b7e.css`), so it can be
//! cached for a year; a changed file gets a new name. Compressed copies are made once, at start-up.

use std::collections::HashMap;
use std::io::Write as _;
use std::sync::LazyLock;

use sha2::{Digest as _, Sha256};

/// One embedded file.
#[derive(Debug)]
pub struct Asset {
    /// `Content-Type` of the file.
    pub content_type: &'static str,
    /// The file as written.
    pub bytes: &'static [u8],
    /// A gzip copy, when it is smaller.
    pub gzip: Option<Vec<u8>>,
}

/// The embedded files by hashed name, and the hashed name of each logical name.
#[derive(Debug)]
pub struct Assets {
    by_hashed: HashMap<String, Asset>,
    by_logical: HashMap<&'static str, String>,
}

macro_rules! embed {
    ($($path:literal => $type:literal),+ $(,)?) => {
        [$(($path, $type, include_bytes!(concat!("../static/", $path)).as_slice())),+]
    };
}

static ASSETS: LazyLock<Assets> = LazyLock::new(|| {
    let files = embed!(
        "css/ndp.css" => "text/css; charset=utf-8",
        "img/emblem.svg" => "image/svg+xml",
        "img/favicon.svg" => "image/svg+xml",
        "js/suggest.js" => "text/javascript; charset=utf-8",
        "js/forms.js" => "text/javascript; charset=utf-8",
    );
    let mut assets = Assets { by_hashed: HashMap::new(), by_logical: HashMap::new() };
    for (logical, content_type, bytes) in files {
        let digest = Sha256::digest(bytes);
        let hash: String = digest.iter().take(5).map(|b| format!("{b:02x}")).collect();
        let hashed = match logical.rsplit_once('.') {
            Some((stem, ext)) => format!("{stem}.{hash}.{ext}"),
            None => format!("{logical}.{hash}"),
        };
        let gzip = gzip(bytes).filter(|z| z.len() < bytes.len());
        assets.by_logical.insert(logical, hashed.clone());
        assets.by_hashed.insert(hashed, Asset { content_type, bytes, gzip });
    }
    assets
});

fn gzip(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes).ok()?;
    encoder.finish().ok()
}

/// The URL of a static file by its logical name (`css/ndp.css`).
pub fn url(logical: &str) -> String {
    match ASSETS.by_logical.get(logical) {
        Some(hashed) => format!("/static/{hashed}"),
        None => format!("/static/{logical}"),
    }
}

/// The file served under a hashed name.
pub fn get(hashed: &str) -> Option<&'static Asset> {
    ASSETS.by_hashed.get(hashed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_carry_a_content_hash_and_resolve() {
        let css = url("css/ndp.css");
        assert!(css.starts_with("/static/css/ndp.") && css.ends_with(".css") && css.len() > "/static/css/ndp.css".len());
        let asset = get(css.trim_start_matches("/static/")).unwrap();
        assert!(asset.content_type.starts_with("text/css"));
        assert!(get("css/ndp.css").is_none(), "unhashed names are not served");
    }
}
