//! Screenshots of the pages people judge the portal by, at phone and desktop widths, saved into
//! `docs/screenshots/` as `<name>-<width>.png`. Ignored by `cargo test`; `scripts/screenshots` runs it.

use super::{Browser, WIDTHS};
use crate::common::TestApp;

/// The pages to photograph: a new one is one line. (The enterprise edit form and the moderation
/// queue join when the accounts work lands; they need a signed-in session.)
const SHOTS: &[(&str, &str)] = &[("home", "/"), ("catalogue", "/platforms"), ("platform", "/platforms/dia-chi-so-quoc-gia")];

#[tokio::test]
#[ignore = "writes docs/screenshots; run scripts/screenshots"]
async fn save_screenshots_of_the_main_pages() {
    let dir = std::env::var_os("NDP_SCREENSHOTS_DIR")
        .map_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/screenshots"), std::path::PathBuf::from);
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    let app = TestApp::spawn().await;
    let browser = Browser::start(&app.base).await;
    for (name, path) in SHOTS {
        for width in WIDTHS {
            browser.set_viewport(width, 900).await;
            browser.open(path).await;
            let png = browser.full_page_png(width).await;
            let file = dir.join(format!("{name}-{width}.png"));
            std::fs::write(&file, png).unwrap_or_else(|e| panic!("write {}: {e}", file.display()));
        }
    }
    browser.quit().await;
}
