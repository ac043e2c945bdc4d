//! Screenshots of the pages people judge the portal by, at phone and desktop widths, saved into
//! `docs/screenshots/` as `<name>-<width>.png`. Ignored by `cargo test`; `scripts/screenshots` runs it.

use super::page_types::{self, Role};
use super::{Browser, WIDTHS};
use crate::common::TestApp;

/// The pages to photograph, each with the account it is seen from (`None`: a visitor): a new one
/// is one line. The placeholders are those of `page_types::Arranged::path`.
const SHOTS: &[(&str, Option<Role>, &str)] = &[
    ("home", None, "/"),
    ("catalogue", None, "/platforms"),
    ("platform", None, "/platforms/dia-chi-so-quoc-gia"),
    ("question", None, "/qa/{question}"),
    ("platform-signed-in", Some(Role::Citizen), "/platforms/coc-coc"),
    ("listing-edit", Some(Role::Enterprise), "/account/platforms/coc-coc/edit"),
    ("moderation-queue", Some(Role::Moderator), "/staff/revisions"),
    ("revision", Some(Role::Moderator), "/staff/revisions/{revision}"),
    ("moderation-desk", Some(Role::Moderator), "/staff/moderation"),
    ("moderation-item", Some(Role::Moderator), "/staff/moderation/feedback/{held}"),
];

#[tokio::test]
#[ignore = "writes docs/screenshots; run scripts/screenshots"]
async fn save_screenshots_of_the_main_pages() {
    let dir = std::env::var_os("NDP_SCREENSHOTS_DIR")
        .map_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/screenshots"), std::path::PathBuf::from);
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    let app = TestApp::spawn().await;
    let arranged = page_types::arrange(&app).await;
    let browser = Browser::start(&app.base).await;
    let mut signed_in: Option<Role> = None;
    for (name, role, path) in SHOTS {
        if signed_in != *role {
            if signed_in.is_some() {
                browser.sign_out().await;
            }
            if let Some(role) = role {
                browser.sign_in(role.email()).await;
                if role.is_staff() {
                    browser.enter_code(&app.fresh_totp_code(role.email(), arranged.secret(*role)).await).await;
                }
            }
            signed_in = *role;
        }
        for width in WIDTHS {
            browser.set_viewport(width, 900).await;
            browser.open(&arranged.path(path)).await;
            let png = browser.full_page_png(width).await;
            let file = dir.join(format!("{name}-{width}.png"));
            std::fs::write(&file, png).unwrap_or_else(|e| panic!("write {}: {e}", file.display()));
        }
    }
    browser.quit().await;
}
