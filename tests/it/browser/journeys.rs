//! What people do with the portal, step by step in a real browser, checked on what they see.

use fantoccini::key::Key;
use serde_json::json;

use super::Browser;
use crate::common::TestApp;

/// Journey 1 of the browser-test issue.
#[tokio::test]
async fn visitor_searches_without_accents_opens_a_health_platform_and_reads_it_in_both_languages() {
    let app = TestApp::spawn().await;
    let browser = Browser::start(&app.base).await;
    browser.open("/").await;

    let field = browser.fill("Bạn cần tìm nền tảng nào?", "suc khoe").await;
    assert_eq!(field, "q", "the home page's search box is the q field of the URL map");
    browser.press(Key::Enter).await;
    browser.wait_for_path("/search?q=suc+khoe").await;
    assert_eq!(browser.text("h1").await, "Tìm kiếm");
    let found = browser.js::<Vec<String>>("return [...document.querySelectorAll('.card__title a')].map(a => a.innerText)", vec![]).await;
    assert!(found.iter().any(|name| name == "VOV Bacsi24"), "the health platform is found without accents, among {found:?}");

    browser.click_link(".card__title a", "VOV Bacsi24").await;
    browser.wait_for_path("/platforms/vov-bacsi24").await;
    assert_eq!(browser.text("h1").await, "VOV Bacsi24");
    assert_eq!(fact(&browser, "Cơ quan chủ quản").await, "Đài Tiếng nói Việt Nam");
    assert_eq!(fact(&browser, "Doanh nghiệp").await, "Chưa có thông tin", "no enterprise is on record for this platform");

    browser.click_link("header .lang-switch", "English").await;
    browser.wait_for_path("/platforms/vov-bacsi24?lang=en").await;
    assert_eq!(browser.js::<String>("return document.documentElement.lang", vec![]).await, "en");
    assert_eq!(fact(&browser, "Host agency").await, "Voice of Vietnam");
    assert_eq!(fact(&browser, "Enterprises").await, "No information yet");
    assert!(browser.text("main").await.contains("Key facts"), "the page's own text is in English too");

    browser.click_link("header .lang-switch", "Tiếng Việt").await;
    browser.wait_for_path("/platforms/vov-bacsi24?lang=vi").await;
    assert_eq!(browser.js::<String>("return document.documentElement.lang", vec![]).await, "vi");
    assert_eq!(fact(&browser, "Cơ quan chủ quản").await, "Đài Tiếng nói Việt Nam");

    // The choice is remembered: a plain link now opens in Vietnamese.
    browser.click_link(".site-nav a", "Nền tảng").await;
    browser.wait_for_path("/platforms").await;
    assert_eq!(browser.js::<String>("return document.documentElement.lang", vec![]).await, "vi");
    browser.quit().await;
}

/// The visible value of a fact (a `dt`/`dd` row) on a platform page.
async fn fact(browser: &Browser, label: &str) -> String {
    let value: Option<String> = browser
        .js(
            "const row = [...document.querySelectorAll('.facts__row')].find(r => r.querySelector('dt').innerText.trim() === arguments[0]);
             return row ? row.querySelector('dd').innerText.trim() : null;",
            vec![json!(label)],
        )
        .await;
    value.unwrap_or_else(|| panic!("no fact {label:?} on the page"))
}
