//! Ratings, feedback, replies, flags, appeals and the moderation desk, through HTTP.

use crate::common::{TestApp, csrf_in, wait_until};

/// A verified citizen whose account is older than a day (new accounts are held by a rule).
pub(crate) async fn citizen(app: &TestApp, email: &str) -> reqwest::Client {
    let id = app.create_user(email, "citizen", None).await;
    sqlx::query("update users set created_at = now() - interval '3 days' where id = $1").bind(id).execute(&app.pool).await.unwrap();
    let client = TestApp::new_client();
    app.login_with(&client, email).await;
    client
}

pub(crate) async fn moderator(app: &TestApp, email: &str) -> reqwest::Client {
    app.create_user(email, "moderator", None).await;
    let client = TestApp::new_client();
    app.login_staff_with(&client, email).await;
    client
}

pub(crate) async fn rate(app: &TestApp, client: &reqwest::Client, slug: &str, stars: &str, comment: &str) -> reqwest::Response {
    let page = format!("/platforms/{slug}");
    app.post_with(client, &page, &format!("{page}/ratings"), &[("stars", stars), ("comment", comment)]).await
}

pub(crate) async fn decide(app: &TestApp, client: &reqwest::Client, kind: &str, id: i64, fields: &[(&str, &str)]) -> reqwest::Response {
    let path = format!("/staff/moderation/{kind}/{id}");
    app.post_with(client, &path, &path, fields).await
}

pub(crate) async fn one_id(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&app.pool).await.unwrap()
}

#[tokio::test]
async fn stars_alone_publish_at_once_and_a_comment_waits_for_a_moderator() {
    let app = TestApp::spawn().await;
    let an = citizen(&app, "an@example.vn").await;
    let response = rate(&app, &an, "vneid", "4", "").await;
    assert_eq!(response.status(), 303);
    let (_, page) = app.get("/platforms/vneid").await;
    assert!(page.contains("4.0") && page.contains("1 đánh giá"), "the summary counts it at once");

    let binh = citizen(&app, "binh@example.vn").await;
    let comment = "Đăng nhập nhanh <script>alert('x')</script>";
    assert_eq!(rate(&app, &binh, "vneid", "2", comment).await.status(), 303);
    let (_, page) = app.get("/platforms/vneid").await;
    assert!(!page.contains("Đăng nhập nhanh"), "a comment waits for moderation");
    let (_, account) = app.get_with(&binh, "/account").await;
    assert!(account.contains("Chờ kiểm duyệt") && !account.contains("<script>alert"), "the author sees the state, escaped");

    let kd = moderator(&app, "kd@mic.example.vn").await;
    let (_, queue) = app.get_with(&kd, "/staff/moderation").await;
    assert!(queue.contains("Đăng nhập nhanh") && !queue.contains("<script>alert"), "queued and escaped");
    let id = one_id(&app, "select id from ratings where comment is not null").await;
    assert_eq!(decide(&app, &kd, "rating", id, &[("action", "approve")]).await.status(), 303);
    let (_, page) = app.get("/platforms/vneid").await;
    assert!(page.contains("Đăng nhập nhanh") && !page.contains("<script>alert") && page.contains("2 đánh giá"));

    // Change, then withdraw.
    assert_eq!(rate(&app, &an, "vneid", "5", "").await.status(), 303);
    let stars: i16 = sqlx::query_scalar("select stars from ratings r join users u on u.id = r.user_id where u.email = 'an@example.vn'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(stars, 5, "one rating per account, changed in place");
    let page = "/platforms/vneid";
    assert_eq!(app.post_with(&an, page, "/platforms/vneid/ratings/withdraw", &[]).await.status(), 303);
    let (_, public) = app.get(page).await;
    assert!(public.contains("1 đánh giá"), "withdrawn ratings no longer count");
    let audited: i64 =
        sqlx::query_scalar("select count(*) from audit_events where action in ('rating.saved', 'rating.withdrawn', 'item.approved')")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(audited, 5);
}

#[tokio::test]
async fn who_may_rate_is_checked_and_bad_input_keeps_what_was_typed() {
    let app = TestApp::spawn().await;
    let form = [
        ("account_type", "citizen"),
        ("email", "chua@example.vn"),
        ("password", crate::common::PASSWORD),
        ("display_name", "Chưa"),
        ("consent", "yes"),
    ];
    app.post("/register", "/register", &form).await;
    let unverified = TestApp::new_client();
    app.login_with(&unverified, "chua@example.vn").await;
    let response = rate(&app, &unverified, "vneid", "5", "").await;
    assert_eq!(response.status(), 409, "unverified accounts cannot rate");
    assert!(response.text().await.unwrap().contains("xác nhận email"));

    app.create_user("dn@coccoc.example.vn", "enterprise", Some("coc-coc")).await;
    let owner = TestApp::new_client();
    app.login_with(&owner, "dn@coccoc.example.vn").await;
    assert_eq!(rate(&app, &owner, "coc-coc", "5", "").await.status(), 409, "an enterprise cannot rate its own platform");
    assert_eq!(rate(&app, &owner, "vexere", "4", "").await.status(), 303, "but it may rate another");

    let an = citizen(&app, "an@example.vn").await;
    let response = rate(&app, &an, "vneid", "7", "Nhận xét giữ lại").await;
    assert_eq!(response.status(), 422);
    let body = response.text().await.unwrap();
    assert!(body.contains("Hãy chọn từ 1 đến 5 sao") && body.contains("Nhận xét giữ lại") && body.contains("id=\"error-summary\""));
    let anonymous = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).cookie_store(true).build().unwrap();
    let token = csrf_in(&app.get_with(&anonymous, "/login").await.1);
    let response = anonymous
        .post(format!("{}/platforms/vneid/ratings", app.base))
        .form(&[("stars", "5"), ("csrf_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303, "visitors are sent to sign in");
    let ratings: i64 =
        sqlx::query_scalar("select count(*) from ratings where platform_id = (select id from platforms where slug = 'vneid')")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(ratings, 0);
}

#[tokio::test]
async fn the_eleventh_post_in_an_hour_is_refused_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    let an = citizen(&app, "an@example.vn").await;
    let slugs: Vec<String> = sqlx::query_scalar("select slug from platforms order by id limit 11").fetch_all(&app.pool).await.unwrap();
    for slug in &slugs[..10] {
        assert_eq!(rate(&app, &an, slug, "4", "").await.status(), 303, "{slug}");
    }
    let response = rate(&app, &an, &slugs[10], "4", "").await;
    assert_eq!(response.status(), 429);
    assert!(response.text().await.unwrap().contains("thử lại sau"));
    let stored: i64 = sqlx::query_scalar("select count(*) from ratings").fetch_one(&app.pool).await.unwrap();
    assert_eq!(stored, 10);
}

#[tokio::test]
async fn concurrent_ratings_by_one_account_leave_one_row() {
    let app = TestApp::spawn().await;
    let an = citizen(&app, "an@example.vn").await;
    let token = csrf_in(&app.get_with(&an, "/platforms/vneid").await.1);
    let url = format!("{}/platforms/vneid/ratings", app.base);
    let posts: Vec<_> = (1..=5)
        .map(|stars| {
            let (an, url, token) = (an.clone(), url.clone(), token.clone());
            tokio::spawn(async move {
                an.post(url).form(&[("stars", stars.to_string()), ("csrf_token", token)]).send().await.unwrap().status().as_u16()
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for post in posts {
        statuses.push(post.await.unwrap());
    }
    assert!(statuses.iter().all(|s| *s == 303), "{statuses:?}");
    let rows: i64 = sqlx::query_scalar("select count(*) from ratings").fetch_one(&app.pool).await.unwrap();
    assert_eq!(rows, 1);
}

#[tokio::test]
async fn feedback_is_moderated_and_published_with_the_enterprises_reply() {
    let app = TestApp::spawn().await;
    let an = citizen(&app, "an@example.vn").await;
    let kd = moderator(&app, "kd@mic.example.vn").await;
    app.create_user("dn@coccoc.example.vn", "enterprise", Some("coc-coc")).await;
    let owner = TestApp::new_client();
    app.login_with(&owner, "dn@coccoc.example.vn").await;

    let response =
        app.post_with(&an, "/platforms/coc-coc", "/platforms/coc-coc/feedback", &[("body", "Nên có chế độ tối cho trình duyệt")]).await;
    assert_eq!(response.status(), 303);
    let id = one_id(&app, "select id from feedback").await;
    assert_eq!(decide(&app, &kd, "feedback", id, &[("action", "approve")]).await.status(), 303);
    app.last_mail("dn@coccoc.example.vn", "new_item").await;

    let (_, about) = app.get_with(&owner, "/account/opinions").await;
    assert!(about.contains("chế độ tối"));
    let path = format!("/account/replies/feedback/{id}");
    assert_eq!(app.post_with(&owner, "/account/opinions", &path, &[("body", "Cảm ơn, chế độ tối có trong bản 120.")]).await.status(), 303);
    assert_eq!(app.post_with(&owner, "/account/opinions", &path, &[("body", "Lần hai")]).await.status(), 409, "one reply per item");
    let vexere_owner = TestApp::new_client();
    app.create_user("dn@vexere.example.vn", "enterprise", Some("vexere")).await;
    app.login_with(&vexere_owner, "dn@vexere.example.vn").await;
    assert_eq!(app.post_with(&vexere_owner, "/account", &path, &[("body", "Không phải của tôi")]).await.status(), 403);

    let reply = one_id(&app, "select id from replies").await;
    let (_, page) = app.get("/platforms/coc-coc").await;
    assert!(page.contains("chế độ tối") && !page.contains("có trong bản 120"), "the reply waits for moderation");
    assert_eq!(decide(&app, &kd, "reply", reply, &[("action", "approve")]).await.status(), 303);
    let (_, page) = app.get("/platforms/coc-coc").await;
    assert!(page.contains("có trong bản 120") && page.contains("Trả lời của"));
    assert!(page.contains("Doanh nghiệp thường trả lời sau khoảng"), "median reply time shown");
}

#[tokio::test]
async fn three_flags_hide_an_item_until_a_moderator_decides() {
    let app = TestApp::spawn().await;
    let author = citizen(&app, "tac.gia@example.vn").await;
    let kd = moderator(&app, "kd@mic.example.vn").await;
    rate(&app, &author, "vneid", "1", "Ứng dụng tệ").await;
    let id = one_id(&app, "select id from ratings").await;
    decide(&app, &kd, "rating", id, &[("action", "approve")]).await;
    let flag = format!("/flags/rating/{id}");
    for (i, email) in ["a@example.vn", "b@example.vn", "c@example.vn"].into_iter().enumerate() {
        let client = citizen(&app, email).await;
        let response = app.post_with(&client, "/platforms/vneid", &flag, &[("reason", "offensive"), ("back", "/platforms/vneid")]).await;
        assert_eq!(response.status(), 303);
        if i < 2 {
            assert!(app.get("/platforms/vneid").await.1.contains("Ứng dụng tệ"), "still shown after {} flags", i + 1);
            let again = app.post_with(&client, "/platforms/vneid", &flag, &[("reason", "spam"), ("back", "/")]).await;
            assert_eq!(again.status(), 303, "a repeated flag by the same person does not count twice");
        }
    }
    assert!(!app.get("/platforms/vneid").await.1.contains("Ứng dụng tệ"), "hidden after three people flag it");
    let (_, queue) = app.get_with(&kd, "/staff/moderation").await;
    assert!(queue.contains("Bị ba người trở lên báo cáo"));
    assert_eq!(decide(&app, &kd, "rating", id, &[("action", "approve")]).await.status(), 303);
    assert!(app.get("/platforms/vneid").await.1.contains("Ứng dụng tệ"), "back after review");
    let dismissed: i64 =
        sqlx::query_scalar("select count(*) from flags where resolution = 'dismissed'").fetch_one(&app.pool).await.unwrap();
    assert_eq!(dismissed, 3);
}

#[tokio::test]
async fn a_rejection_with_a_reason_can_be_appealed_to_another_moderator() {
    let app = TestApp::spawn().await;
    let an = citizen(&app, "an@example.vn").await;
    let first = moderator(&app, "kd1@mic.example.vn").await;
    let second = moderator(&app, "kd2@mic.example.vn").await;
    app.post_with(&an, "/platforms/vneid", "/platforms/vneid/feedback", &[("body", "Cần thêm hướng dẫn cho người cao tuổi")]).await;
    let id = one_id(&app, "select id from feedback").await;
    assert_eq!(
        decide(&app, &first, "feedback", id, &[("action", "reject"), ("reason", "other"), ("note", "")]).await.status(),
        422,
        "'other' needs a note"
    );
    assert_eq!(
        decide(&app, &first, "feedback", id, &[("action", "reject"), ("reason", "off_topic"), ("note", "Nên gửi qua tổng đài")])
            .await
            .status(),
        303
    );
    let (_, account) = app.get_with(&an, "/account").await;
    assert!(account.contains("Không liên quan đến nền tảng") && account.contains("Nên gửi qua tổng đài"), "the author sees the reason");
    let (_, report) = app.get("/moderation-report").await;
    assert!(report.contains("Không liên quan đến nền tảng: 1"), "the public report counts rejections by reason");

    let path = format!("/account/appeals/feedback/{id}");
    assert_eq!(app.post_with(&an, "/account", &path, &[("body", "Góp ý này đúng về nền tảng")]).await.status(), 303);
    assert_eq!(app.post_with(&an, "/account", &path, &[("body", "Lần hai")]).await.status(), 409, "one appeal per item");
    assert_eq!(decide(&app, &first, "feedback", id, &[("action", "approve")]).await.status(), 409, "not the same moderator");
    let (_, queue) = app.get_with(&second, "/staff/moderation").await;
    assert!(queue.contains("Có khiếu nại"));
    assert_eq!(decide(&app, &second, "feedback", id, &[("action", "approve")]).await.status(), 303);
    assert!(app.get("/platforms/vneid").await.1.contains("người cao tuổi"));
    let state: String = sqlx::query_scalar("select state from appeals").fetch_one(&app.pool).await.unwrap();
    assert_eq!(state, "overturned");
}

#[tokio::test]
async fn held_items_carry_their_rule_and_personal_data_can_be_edited_out() {
    let app = TestApp::spawn().await;
    let an = citizen(&app, "an@example.vn").await;
    let kd = moderator(&app, "kd@mic.example.vn").await;
    app.post_with(&an, "/platforms/vneid", "/platforms/vneid/feedback", &[("body", "Lỗi đăng nhập, gọi tôi 0912 345 678")]).await;
    let (_, queue) = app.get_with(&kd, "/staff/moderation").await;
    assert!(queue.contains("Có số điện thoại"));
    let (_, filtered) = app.get_with(&kd, "/staff/moderation?rule=link&platform=vneid").await;
    assert!(!filtered.contains("0912 345 678"), "filters by the rule that held it");
    let (_, filtered) = app.get_with(&kd, "/staff/moderation?rule=phone&platform=vneid").await;
    assert!(filtered.contains("0912 345 678"));
    let id = one_id(&app, "select id from feedback").await;
    assert_eq!(decide(&app, &kd, "feedback", id, &[("action", "redact")]).await.status(), 303);
    let (_, page) = app.get("/platforms/vneid").await;
    assert!(page.contains("gọi tôi [đã ẩn]") && !page.contains("345 678"));
    let recorded: i64 =
        sqlx::query_scalar("select count(*) from audit_events where action = 'item.redacted' and before::text like '%345 678%'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(recorded, 1, "the edit is recorded with the text before");

    // A brand-new account's stars are held; an admin-added blocklist term holds a comment.
    app.create_user("moi@example.vn", "citizen", None).await;
    let new = TestApp::new_client();
    app.login_with(&new, "moi@example.vn").await;
    rate(&app, &new, "vneid", "5", "").await;
    let rule: Option<String> =
        sqlx::query_scalar("select hold_rule from ratings r join users u on u.id = r.user_id where u.email = 'moi@example.vn'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(rule.as_deref(), Some("new_account"));
    app.create_user("qt@mic.example.vn", "admin", None).await;
    let admin = TestApp::new_client();
    app.login_staff_with(&admin, "qt@mic.example.vn").await;
    app.post_with(&admin, "/staff/blocklist", "/staff/blocklist", &[("add", "Hàng Nhái")]).await;
    rate(&app, &an, "vexere", "3", "Toàn hang nhai").await;
    let rule: Option<String> =
        sqlx::query_scalar("select hold_rule from ratings r join platforms p on p.id = r.platform_id where p.slug = 'vexere'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(rule.as_deref(), Some("blocklist"));
}

#[tokio::test]
async fn best_rated_order_is_not_topped_by_a_single_five_star_rating() {
    let app = TestApp::spawn().await;
    let one = citizen(&app, "mot@example.vn").await;
    rate(&app, &one, "coc-coc", "5", "").await;
    for i in 0..6 {
        let client = citizen(&app, &format!("nguoi{i}@example.vn")).await;
        rate(&app, &client, "vexere", "4", "").await;
    }
    let (_, page) = app.get("/platforms?sort=rating").await;
    let vexere = page.find("/platforms/vexere").expect("vexere listed");
    let coccoc = page.find("/platforms/coc-coc").expect("coc-coc listed");
    assert!(vexere < coccoc, "five published 4-star ratings outrank one 5-star rating");
    let card: String = page[vexere..].chars().take(1500).collect();
    assert!(card.contains("Người dân chấm 4.0/5") && card.contains("5 đánh giá"), "cards show the citizens' rating: {card}");
    let burst: i64 = sqlx::query_scalar("select count(*) from ratings where hold_rule = 'burst' and state = 'pending'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(burst, 1, "the sixth rating from week-old accounts within an hour is held as a burst");
    wait_until(std::time::Duration::from_secs(10), || async {
        let (_, page) = app.get("/platforms?q=phuc+vu+nguoi+dan&sort=rating").await;
        match (page.find("/platforms/vexere"), page.find("/platforms/coc-coc")) {
            (Some(v), Some(c)) => v < c,
            (Some(_), None) => true,
            _ => false,
        }
    })
    .await
    .expect("the search index orders by the same score");
    let (status, report) = app.get("/moderation-report").await;
    assert_eq!(status, 200);
    assert!(report.contains("(5 × 3 + tổng số sao)"));
}

#[tokio::test]
async fn a_question_is_answered_marked_helpful_and_promoted_to_the_faq() {
    let app = TestApp::spawn().await;
    let an = citizen(&app, "an@example.vn").await;
    let kd = moderator(&app, "kd@mic.example.vn").await;
    app.create_user("dn@coccoc.example.vn", "enterprise", Some("coc-coc")).await;
    let owner = TestApp::new_client();
    app.login_with(&owner, "dn@coccoc.example.vn").await;

    let empty = app.post_with(&an, "/qa/ask", "/qa/ask", &[("title", ""), ("body", "x")]).await;
    assert_eq!(empty.status(), 422);
    let asked = app
        .post_with(
            &an,
            "/qa/ask",
            "/qa/ask",
            &[("title", "Cốc Cốc có chặn quảng cáo không?"), ("body", "Tôi muốn biết cách bật chặn quảng cáo."), ("platform", "coc-coc")],
        )
        .await;
    assert_eq!(asked.status(), 303);
    let id = one_id(&app, "select id from questions").await;
    let path = format!("/qa/{id}");
    assert_eq!(app.get(&path).await.0, 404, "not public before moderation");
    assert_eq!(app.get_with(&an, &path).await.0, 200, "the asker sees it waiting");
    assert_eq!(decide(&app, &kd, "question", id, &[("action", "approve")]).await.status(), 303);
    assert!(app.get("/qa").await.1.contains("chặn quảng cáo"));

    let official = app.post_with(&owner, &path, &format!("{path}/answers"), &[("body", "Có, trong Cài đặt > Chặn quảng cáo.")]).await;
    assert_eq!(official.status(), 303);
    let vexere = TestApp::new_client();
    app.create_user("dn@vexere.example.vn", "enterprise", Some("vexere")).await;
    app.login_with(&vexere, "dn@vexere.example.vn").await;
    let token = csrf_in(&app.get_with(&vexere, &path).await.1);
    let foreign =
        vexere.post(format!("{}{path}/answers", app.base)).form(&[("body", "Không"), ("csrf_token", token.as_str())]).send().await.unwrap();
    assert_eq!(foreign.status(), 403, "another enterprise cannot answer for this platform");
    let (_, page) = app.get(&path).await;
    assert!(!page.contains("Cài đặt &gt; Chặn") && !page.contains("Cài đặt > Chặn"), "the enterprise's answer waits");
    let answer = one_id(&app, "select id from answers").await;
    assert_eq!(decide(&app, &kd, "answer", answer, &[("action", "approve")]).await.status(), 303);
    let (_, page) = app.get(&path).await;
    assert!(page.contains("Trả lời chính thức của") && page.contains("Cốc Cốc"));

    assert_eq!(app.post_with(&kd, &path, &format!("{path}/faq"), &[("faq", "yes")]).await.status(), 303);
    assert_eq!(app.post_with(&an, &path, &format!("{path}/accept"), &[("answer_id", &answer.to_string())]).await.status(), 303);
    let (_, page) = app.get(&path).await;
    assert!(page.contains("Câu trả lời hữu ích") && page.contains("Câu hỏi thường gặp"));
    let (_, account) = app.get_with(&an, "/account").await;
    assert!(account.contains("Cốc Cốc có chặn quảng cáo không?"), "own questions are listed with their state");
    let (_, signed_in) = app.get_with(&an, &path).await;
    assert!(
        signed_in.contains(&format!("action=\"/flags/question/{id}\"")) && signed_in.contains("/flags/answer/"),
        "questions and answers can be flagged"
    );
    let (_, platform) = app.get("/platforms/coc-coc").await;
    assert!(platform.contains(&format!("/qa/{id}")), "the FAQ appears on the platform page");
    wait_until(std::time::Duration::from_secs(10), || async { app.get("/search?q=chan+quang+cao").await.1.contains(&format!("/qa/{id}")) })
        .await
        .expect("published questions are searchable");

    for i in 0..2 {
        let title = format!("Câu hỏi số {i}");
        assert_eq!(app.post_with(&an, "/qa/ask", "/qa/ask", &[("title", title.as_str()), ("body", "Nội dung")]).await.status(), 303);
    }
    let fourth = app.post_with(&an, "/qa/ask", "/qa/ask", &[("title", "Câu thứ tư"), ("body", "Nội dung")]).await;
    assert_eq!(fourth.status(), 429, "three questions per hour");
    let stored: i64 = sqlx::query_scalar("select count(*) from questions").fetch_one(&app.pool).await.unwrap();
    assert_eq!(stored, 3);
}

#[tokio::test]
async fn admins_remove_blocklist_terms_and_moderators_take_questions_out_of_the_faq() {
    let app = TestApp::spawn().await;
    app.create_user("qt@mic.example.vn", "admin", None).await;
    let admin = TestApp::new_client();
    app.login_staff_with(&admin, "qt@mic.example.vn").await;
    let (_, page) = app.get_with(&admin, "/staff/blocklist").await;
    assert!(page.contains("lừa đảo"), "the shipped list is loaded on first start");
    assert_eq!(app.post_with(&admin, "/staff/blocklist", "/staff/blocklist", &[("remove", "lừa đảo")]).await.status(), 303);
    let left: i64 = sqlx::query_scalar("select count(*) from moderation_terms where term = 'lừa đảo'").fetch_one(&app.pool).await.unwrap();
    assert_eq!(left, 0);
    let moderator = moderator(&app, "kd@mic.example.vn").await;
    assert_eq!(app.get_with(&moderator, "/staff/blocklist").await.0, 403, "the blocklist is for admins");

    let an = citizen(&app, "an@example.vn").await;
    app.post_with(&an, "/qa/ask", "/qa/ask", &[("title", "Câu hỏi thử"), ("body", "Nội dung")]).await;
    let id = one_id(&app, "select id from questions").await;
    decide(&app, &moderator, "question", id, &[("action", "approve")]).await;
    let path = format!("/qa/{id}");
    let early = app.post_with(&moderator, &path, &format!("{path}/faq"), &[("faq", "yes")]).await;
    assert_eq!(early.status(), 409, "only answered questions join the FAQ");
    app.post_with(&moderator, &path, &format!("{path}/answers"), &[("body", "Trả lời của cán bộ")]).await;
    assert_eq!(app.post_with(&moderator, &path, &format!("{path}/faq"), &[("faq", "yes")]).await.status(), 303);
    assert_eq!(app.post_with(&moderator, &path, &format!("{path}/faq"), &[("faq", "no")]).await.status(), 303);
    let faq: bool = sqlx::query_scalar("select is_faq from questions").fetch_one(&app.pool).await.unwrap();
    assert!(!faq);
}
