//! What people do with the portal, step by step in a real browser, checked on what they see.

use std::time::Duration;

use fantoccini::key::Key;
use serde_json::json;

use super::Browser;
use crate::common::{PASSWORD, TestApp, link_in, wait_until};

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

/// Journey 2 of the browser-test issue: a citizen registers with the keyboard, confirms the email
/// from the mail folder, signs in, rates a platform with the keyboard only, sees the rating
/// published, then withdraws it.
#[tokio::test]
async fn citizen_registers_confirms_the_email_rates_a_platform_with_the_keyboard_and_withdraws_the_rating() {
    let app = TestApp::spawn().await;
    let browser = Browser::start(&app.base).await;
    browser.open("/register").await;
    assert_eq!(browser.text("h1").await, "Đăng ký tài khoản");
    // The citizen account type is chosen already; the rest is Tab, typing, Space and Enter.
    browser.tab_to("#f-display_name").await;
    browser.type_text("Trần Thị Bình").await;
    browser.tab_to("#f-email").await;
    browser.type_text("binh.tran@example.vn").await;
    browser.tab_to("#f-password").await;
    browser.type_text(PASSWORD).await;
    browser.tab_to("#f-consent").await;
    browser.press(Key::Space).await;
    browser.tab_to("main form button[type=submit]").await;
    browser.press(Key::Enter).await;
    browser.wait_for_path("/register/sent").await;
    assert_eq!(browser.text("h1").await, "Hãy kiểm tra hộp thư");

    let mail = mail_file(&app, "verify_email").await;
    assert!(mail.contains("To: binh.tran@example.vn"), "the mail goes to the address typed:\n{mail}");
    let link = link_in(mail.split_once("\n\n").map_or(mail.as_str(), |(_, body)| body));
    browser.open(&link).await;
    browser.click_button("main form", "Xác nhận email").await;
    let confirmed = wait_until(Duration::from_secs(20), || async {
        browser.js::<Option<String>>("const h1 = document.querySelector('h1'); return h1 && h1.innerText", vec![]).await.as_deref()
            == Some("Email đã được xác nhận")
    })
    .await;
    assert!(confirmed.is_ok(), "the link confirms the email; the page says:\n{}", browser.text("main").await);

    browser.click_link("main a", "Đăng nhập").await;
    browser.wait_for_path("/login").await;
    browser.sign_in("binh.tran@example.vn").await;
    assert_eq!(browser.path().await, "/account");
    assert!(browser.text("main").await.contains("Trần Thị Bình"), "the account page greets the name typed");
    assert!(!browser.text("main").await.contains("chưa được xác nhận"), "the email counts as confirmed");

    // Stars from accounts younger than a day wait for a moderator; this one is three days old.
    sqlx::query("update users set created_at = now() - interval '3 days' where email = 'binh.tran@example.vn'")
        .execute(&app.pool)
        .await
        .expect("age the account");
    browser.open("/platforms/vneid").await;
    assert_eq!(browser.text("#opinions .rating-summary").await, "Chưa có đánh giá nào.");
    // Tab reaches the group of star radios (none chosen yet: the first), the arrow keys choose.
    browser.tab_to("#opinions input[name=stars]").await;
    for _ in 0..3 {
        browser.press(Key::Right).await;
    }
    let chosen: Option<String> =
        browser.js("const c = document.querySelector('input[name=stars]:checked'); return c && c.value", vec![]).await;
    assert_eq!(chosen.as_deref(), Some("4"), "three presses of the right arrow from the first star choose four");
    browser.tab_to("#opinions form[action$='/ratings'] button[type=submit]").await;
    browser.press(Key::Enter).await;
    browser.wait_for_path("/platforms/vneid#opinions").await;
    assert_eq!(browser.text("main .notice[role=status]").await, "Đã ghi nhận đánh giá của bạn.");
    let summary = browser.text("#opinions .rating-summary__average").await;
    assert!(summary.starts_with("4.0") && summary.ends_with("1 đánh giá"), "stars alone are published at once: {summary:?}");
    assert!(browser.text("#opinions").await.contains("Bạn đã chấm 4 sao · Đã công bố"), "the citizen sees their rating and its state");
    let checked: Option<String> =
        browser.js("const c = document.querySelector('input[name=stars]:checked'); return c && c.value", vec![]).await;
    assert_eq!(checked.as_deref(), Some("4"), "the form shows the rating given, to change it");

    browser.tab_to("#opinions form[action$='/withdraw'] button").await;
    browser.press(Key::Enter).await;
    let withdrawn = wait_until(Duration::from_secs(20), || async {
        browser
            .js::<Option<String>>("const n = document.querySelector('main .notice[role=status]'); return n && n.innerText", vec![])
            .await
            .as_deref()
            == Some("Đã rút lại đánh giá.")
    })
    .await;
    assert!(withdrawn.is_ok(), "the withdrawal is confirmed; the page says:\n{}", browser.text("main").await);
    assert_eq!(browser.text("#opinions .rating-summary").await, "Chưa có đánh giá nào.", "the summary goes back");
    assert!(!browser.text("#opinions").await.contains("Bạn đã chấm"), "no rating of theirs is left");
    browser.quit().await;
}

/// Journey 3 of the browser-test issue: an enterprise edits its listing, a moderator signs in with
/// a TOTP code and approves, and a visitor sees and finds the new text.
#[tokio::test]
async fn enterprise_edit_is_approved_by_a_moderator_with_totp_and_the_visitor_sees_and_finds_it() {
    let app = TestApp::spawn().await;
    app.create_user("bientap@coccoc.example.vn", "enterprise", Some("coc-coc")).await;
    app.create_user("kiemduyet@mic.example.vn", "moderator", None).await;
    let secret = app.login_staff_with(&TestApp::new_client(), "kiemduyet@mic.example.vn").await;
    let browser = Browser::start(&app.base).await;
    let summary = "Trình duyệt của người Việt, nay có chế độ đọc to cho người khiếm thị ngoclamxanh";

    browser.sign_in("bientap@coccoc.example.vn").await;
    assert_eq!(browser.path().await, "/account");
    let edit =
        browser.client.find(fantoccini::Locator::Css("main a[href='/account/platforms/coc-coc/edit']")).await.expect("the edit link");
    assert!(edit.text().await.expect("link text").starts_with("Sửa thông tin"), "the link reads as an edit link");
    edit.click().await.expect("click the edit link");
    browser.wait_for_path("/account/platforms/coc-coc/edit").await;
    browser.fill("Tóm tắt", summary).await;
    browser.click_button("main form.listing-form", "Gửi duyệt").await;
    browser.wait_for_path("/account").await;
    assert_eq!(browser.text("main .notice").await, "Đã gửi đề nghị thay đổi để cán bộ duyệt.");
    browser.sign_out().await;
    browser.open("/platforms/coc-coc").await;
    assert!(!browser.text("main").await.contains("ngoclamxanh"), "nothing is public before review");

    browser.sign_in("kiemduyet@mic.example.vn").await;
    browser.enter_code(&app.fresh_totp_code("kiemduyet@mic.example.vn", &secret).await).await;
    browser.click_link(".account-links a", "Khu vực cán bộ").await;
    browser.wait_for_path("/staff").await;
    browser.click_link("main a", "Duyệt thay đổi thông tin").await;
    browser.wait_for_path("/staff/revisions").await;
    browser.click_link("main table a", "Cốc Cốc").await;
    let diff = browser.text("main table.diff").await;
    assert!(diff.contains("ngoclamxanh"), "the moderator sees the proposed text:\n{diff}");
    browser.click_button("main .decision", "Duyệt").await;
    browser.wait_for_path("/staff/revisions").await;
    assert_eq!(browser.text("main .notice").await, "Đã duyệt và công bố.");
    browser.sign_out().await;

    browser.open("/platforms/coc-coc").await;
    assert!(browser.text("main").await.contains(summary), "the visitor reads the approved summary");
    browser.fill("Tìm kiếm trên cổng", "ngoclamxanh").await;
    browser.press(Key::Enter).await;
    browser.wait_for_path("/search?q=ngoclamxanh").await;
    // The search index follows the database within moments: reload until it has caught up.
    let found = wait_until(Duration::from_secs(15), || async {
        browser.open("/search?q=ngoclamxanh").await;
        browser
            .js::<Vec<String>>("return [...document.querySelectorAll('.card__title a')].map(a => a.innerText)", vec![])
            .await
            .iter()
            .any(|name| name == "Cốc Cốc")
    })
    .await;
    assert!(found.is_ok(), "searching the new word finds the platform; the page says:\n{}", browser.text("main").await);
    browser.quit().await;
}

/// Journey 4 of the browser-test issue: a moderator rejects a citizen's feedback with a reason,
/// the author reads the reason on the account page and appeals, and a second moderator finds the
/// appeal in the queue and publishes the feedback.
#[tokio::test]
async fn moderator_rejects_feedback_with_a_reason_and_the_author_appeals_to_a_second_moderator() {
    let app = TestApp::spawn().await;
    let author = app.create_user("an.nguyen@example.vn", "citizen", None).await;
    super::page_types::age_account(&app, author).await;
    let mut moderators = Vec::new();
    for email in ["kiemduyet@mic.example.vn", "kiemduyet2@mic.example.vn"] {
        app.create_user(email, "moderator", None).await;
        moderators.push((email, app.login_staff_with(&TestApp::new_client(), email).await));
    }
    let browser = Browser::start(&app.base).await;
    let feedback = "Cần thêm hướng dẫn bằng video cho người cao tuổi hoaphuongdo";

    browser.sign_in("an.nguyen@example.vn").await;
    browser.open("/platforms/vneid").await;
    browser.fill("Góp ý cho nền tảng", feedback).await;
    browser.click_button("#opinions", "Gửi góp ý").await;
    browser.wait_for_path("/platforms/vneid#opinions").await;
    assert_eq!(browser.text("main .notice[role=status]").await, "Đã nhận góp ý; góp ý sẽ hiển thị sau khi được cán bộ xem.");
    assert!(!browser.text("#opinions").await.contains("hoaphuongdo"), "feedback waits for a moderator");
    browser.sign_out().await;

    let (first, secret) = &moderators[0];
    browser.sign_in(first).await;
    browser.enter_code(&app.fresh_totp_code(first, secret).await).await;
    browser.click_link(".account-links a", "Khu vực cán bộ").await;
    browser.wait_for_path("/staff").await;
    browser.click_link("main a", "Kiểm duyệt nội dung").await;
    browser.wait_for_path("/staff/moderation").await;
    assert_eq!(queue_row(&browser, "hoaphuongdo").await, ["Góp ý", "VNeID", "Nội dung mới"], "the queue says what and why");
    browser.click_link("main table a", feedback).await;
    browser.wait_for("main .decision").await;
    assert!(browser.text("main .facts").await.contains(feedback), "the moderator reads the whole text");
    let reason = browser.client.find(fantoccini::Locator::Css("#f-reason")).await.expect("the reason list");
    reason.select_by_label("Không liên quan đến nền tảng").await.expect("choose a reason");
    browser.fill("Ghi chú", "Hãy gửi qua tổng đài 1900 0368.").await;
    browser.click_button("main .decision", "Không công bố").await;
    browser.wait_for_path("/staff/moderation").await;
    assert_eq!(browser.text("main .notice[role=status]").await, "Đã không công bố; người viết sẽ thấy lý do.");
    assert!(!browser.text("main").await.contains("hoaphuongdo"), "the item has left the queue");
    browser.sign_out().await;

    browser.sign_in("an.nguyen@example.vn").await;
    assert_eq!(browser.path().await, "/account");
    let mine = browser.text("#contributions").await;
    assert!(mine.contains("Không được công bố"), "the author sees the state:\n{mine}");
    assert!(
        mine.contains("Lý do: Không liên quan đến nền tảng — Hãy gửi qua tổng đài 1900 0368."),
        "the author sees the reason and the note:\n{mine}"
    );
    browser.fill("Khiếu nại quyết định này", "Góp ý này nói về ứng dụng VNeID, xin xem lại.").await;
    browser.click_button("#contributions", "Gửi khiếu nại").await;
    browser.wait_for_path("/account#contributions").await;
    assert_eq!(browser.text("main .notice[role=status]").await, "Đã gửi khiếu nại; một cán bộ khác sẽ xem xét lại.");
    assert!(browser.text("#contributions").await.contains("Khiếu nại: Đang xem xét"), "the appeal is under way");
    browser.sign_out().await;

    let (second, secret) = &moderators[1];
    browser.sign_in(second).await;
    browser.enter_code(&app.fresh_totp_code(second, secret).await).await;
    browser.open("/staff/moderation").await;
    assert_eq!(queue_row(&browser, "hoaphuongdo").await, ["Góp ý", "VNeID", "Có khiếu nại"], "the appeal is back in the queue");
    browser.click_link("main table a", feedback).await;
    browser.wait_for("main .decision").await;
    let facts = browser.text("main .facts").await;
    assert!(facts.contains("Góp ý này nói về ứng dụng VNeID, xin xem lại."), "the second moderator reads the appeal:\n{facts}");
    browser.click_button("main .decision", "Công bố").await;
    browser.wait_for_path("/staff/moderation").await;
    assert_eq!(browser.text("main .notice[role=status]").await, "Đã công bố.");
    browser.sign_out().await;

    browser.open("/platforms/vneid").await;
    assert!(browser.text("#opinions").await.contains(feedback), "the feedback is public after the appeal");
    browser.quit().await;
}

/// The cells after the first of the moderation queue's row whose item contains `text`.
async fn queue_row(browser: &Browser, text: &str) -> Vec<String> {
    let cells: Option<Vec<String>> = browser
        .js(
            "const row = [...document.querySelectorAll('main table tbody tr')].find(r => r.cells[0].innerText.includes(arguments[0]));
             return row ? [...row.cells].slice(1, 4).map(c => c.innerText.trim()) : null;",
            vec![json!(text)],
        )
        .await;
    cells.unwrap_or_else(|| panic!("no row about {text:?} in the moderation queue"))
}

/// The text of the first mail with `template` that the portal wrote into its mail folder (the
/// background sender looks at the outbox every few seconds).
async fn mail_file(app: &TestApp, template: &str) -> String {
    let dir = app.data_dir().join("mail");
    let suffix = format!("-{template}.eml");
    let mut text = String::new();
    let written = wait_until(Duration::from_secs(20), || {
        let found = std::fs::read_dir(&dir)
            .into_iter()
            .flatten()
            .flatten()
            .find(|e| e.file_name().to_string_lossy().ends_with(&suffix))
            .and_then(|e| std::fs::read_to_string(e.path()).ok())
            .filter(|t| t.ends_with('\n'));
        let done = found.is_some();
        if let Some(found) = found {
            text = found;
        }
        async move { done }
    })
    .await;
    assert!(written.is_ok(), "no {template} mail appeared in {}", dir.display());
    text
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
