//! Every public page: status, key content, language, escaping, errors, headers.

use crate::common::TestApp;

#[tokio::test]
async fn every_public_page_answers_with_real_content() {
    let app = TestApp::spawn().await;
    let cases: &[(&str, &str)] = &[
        ("/", "Nền tảng số Việt Nam"),
        ("/", "Sức khỏe"),
        ("/platforms", "Danh mục nền tảng số"),
        ("/platforms", "Nền tảng địa chỉ số quốc gia"),
        ("/platforms/dia-chi-so-quoc-gia", "Tổng công ty Bưu điện Việt Nam"),
        ("/platforms/dia-chi-so-quoc-gia", "392/QĐ-BTTTT"),
        ("/agencies", "Cục Tin học hóa"),
        ("/agencies/bo-thong-tin-va-truyen-thong", "Vụ Quản lý doanh nghiệp"),
        ("/enterprises", "Tổng công ty Bưu điện Việt Nam"),
        ("/enterprises/tong-cong-ty-buu-dien-viet-nam", "Nền tảng địa chỉ số quốc gia"),
        ("/documents", "186/QĐ-BTTTT"),
        ("/documents/578-qd-btttt-2022", "An toàn, an ninh mạng"),
        ("/documents/1230-qd-btttt-2023", "Mức độ người dùng phổ biến"),
        ("/news", "Tin tức"),
        ("/recognitions", "Cốc Cốc"),
        ("/recognitions/cong-nhan-coc-coc-2022", "07/10/2022"),
        ("/search?q=vneid", "VNeID"),
        ("/healthz", "ok"),
        ("/readyz", "ready"),
    ];
    for (path, needle) in cases {
        let (status, body) = app.get(path).await;
        assert_eq!(status, 200, "{path}");
        assert!(body.contains(needle), "{path} should contain {needle:?}");
    }
}

#[tokio::test]
async fn catalogue_filters_combine_and_show_counts() {
    let app = TestApp::spawn().await;
    let (_, all) = app.get("/platforms").await;
    let total: i64 = sqlx::query_scalar("select count(*) from platforms").fetch_one(&app.pool).await.unwrap();
    assert!(all.contains(&format!("{total} nền tảng")), "the count of every platform is shown");

    let (status, body) = app.get("/platforms?kind=citizen_serving&need=hoc-tap").await;
    assert_eq!(status, 200);
    assert!(body.contains("Hocmai"), "a learning platform serving citizens is listed");
    assert!(!body.contains("Nền tảng địa chỉ số quốc gia"), "a national platform is filtered out");
    assert!(body.contains(r#"<option value="hoc-tap" selected>"#), "the chosen need group stays selected");
}

#[tokio::test]
async fn unaccented_catalogue_query_finds_accented_names() {
    let app = TestApp::spawn().await;
    for (query, expected) in
        [("dia+chi+so", "Nền tảng địa chỉ số quốc gia"), ("DIA%20CHI", "Nền tảng địa chỉ số quốc gia"), ("vneid", "VNeID")]
    {
        let (status, body) = app.get(&format!("/platforms?q={query}")).await;
        assert_eq!(status, 200);
        assert!(body.contains(expected), "{query} should find {expected}");
    }
}

#[tokio::test]
async fn unknown_slugs_and_paths_get_the_friendly_404_page() {
    let app = TestApp::spawn().await;
    for path in [
        "/platforms/khong-co",
        "/platforms/BAD_slug",
        "/agencies/x",
        "/enterprises/x",
        "/documents/x",
        "/news/x",
        "/recognitions/x",
        "/nowhere",
        "/static/css/ndp.css",
    ] {
        let (status, body) = app.get(path).await;
        assert_eq!(status, 404, "{path}");
        assert!(body.contains("Không tìm thấy trang"), "{path} shows the 404 page");
        assert!(body.contains("Mã yêu cầu"), "{path} shows a request id");
    }
}

#[tokio::test]
async fn hostile_query_parameters_never_cause_a_server_error() {
    let app = TestApp::spawn().await;
    let long = "a".repeat(10_000);
    let hostile: Vec<String> = vec![
        "/platforms?page=-1".into(),
        "/platforms?page=99999999999999999999".into(),
        "/platforms?page=abc&sort=drop%20table".into(),
        "/platforms?kind=%27%3B%20drop%20table%20platforms%3B--".into(),
        "/platforms?need=..%2F..%2Fetc&agency=%00".into(),
        "/platforms?status=recognised&status=trial".into(),
        "/platforms?q=%25%25%25_%5C".into(),
        format!("/platforms?q={long}"),
        format!("/search?q={long}"),
        "/search?q=%22%3Cscript%3Ealert(1)%3C%2Fscript%3E".into(),
        "/search?q=AND%20OR%20NOT%20*%20~%20title%3Ax".into(),
        "/search?q=%E2%80%AE%E2%80%8F%D8%B9%D8%B1%D8%A8%D9%8A".into(),
        "/search?q=%FF%FE".into(),
        "/platforms?lang=xx".into(),
        "/?lang=%00".into(),
    ];
    for path in &hostile {
        let (status, body) = app.get(path).await;
        assert!((200..500).contains(&status), "{path} answered {status}");
        assert!(!body.contains("<script>alert(1)</script>"), "{path} reflected a script");
    }
    let (_, truncated) = app.get(&format!("/search?q={long}")).await;
    assert!(truncated.contains("quá dài"), "an over-long query is cut with a message");
}

#[tokio::test]
async fn stored_text_is_escaped_on_every_page_that_shows_it() {
    let app = TestApp::spawn().await;
    let evil = r#"<script>alert("x")</script><img src=x onerror=alert(1)>"#;
    sqlx::query(
        "insert into platforms (slug, name, summary, description, kind, host_agency_id, origin)
         values ('doc-hai', $1, $1, $2, 'national', (select id from agencies where slug = 'cuc-tin-hoc-hoa'), 'portal')",
    )
    .bind(evil)
    .bind(format!("Mô tả **đậm** {evil} [link](javascript:alert(1))"))
    .execute(&app.pool)
    .await
    .unwrap();
    crate::common::wait_until(std::time::Duration::from_secs(5), || async {
        app.get("/search?q=script").await.1.contains("/platforms/doc-hai")
    })
    .await
    .expect("the new platform reaches the search index");
    for path in ["/platforms/doc-hai", "/platforms", "/agencies/cuc-tin-hoc-hoa", "/search?q=script", "/platforms?q=alert"] {
        let (status, body) = app.get(path).await;
        assert_eq!(status, 200, "{path}");
        assert!(!body.contains("<script>alert"), "{path} must not contain a live script");
        assert!(!body.contains("<img src=x"), "{path} must not contain a live image");
        assert!(
            body.contains("&lt;script&gt;") || body.contains("&#60;script&#62;") || body.contains("\\u003cscript"),
            "{path} shows the text escaped"
        );
    }
    let (_, page) = app.get("/platforms/doc-hai").await;
    assert!(page.contains("<strong>đậm</strong>"), "Markdown is rendered");
    assert!(!page.contains("javascript:"), "script links are removed");
}

#[tokio::test]
async fn english_is_chosen_with_lang_and_remembered_in_a_cookie() {
    let app = TestApp::spawn().await;
    let response = app.get_response("/platforms?lang=en").await;
    let cookie = response.headers().get("set-cookie").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    assert!(cookie.starts_with("ndp_lang=en"), "cookie set: {cookie}");
    let body = response.text().await.unwrap();
    assert!(body.contains(r#"<html lang="en">"#));
    assert!(body.contains("<h1>Digital platforms catalogue</h1>") || body.contains(">Digital platforms catalogue<"), "English text");
    let (_, next) = app.get("/agencies").await;
    assert!(next.contains(r#"<html lang="en">"#), "the cookie keeps English on the next page");
    let (_, back) = app.get("/agencies?lang=vi").await;
    assert!(back.contains(r#"<html lang="vi">"#), "switching back works");
}

#[tokio::test]
async fn unknown_values_are_shown_as_unknown_not_invented() {
    let app = TestApp::spawn().await;
    let (_, body) = app.get("/platforms/dien-toan-dam-may-chinh-phu").await;
    assert!(body.contains("Chưa có thông tin"), "missing facts are labelled");
}

#[tokio::test]
async fn platform_page_carries_schema_org_json_ld() {
    let app = TestApp::spawn().await;
    let (_, body) = app.get("/platforms/dia-chi-so-quoc-gia").await;
    let start = body.find(r#"<script type="application/ld+json">"#).expect("JSON-LD present") + 35;
    let end = start + body[start..].find("</script>").unwrap();
    let value: serde_json::Value = serde_json::from_str(&body[start..end]).expect("valid JSON");
    assert_eq!(value["@type"], "SoftwareApplication");
    assert_eq!(value["name"], "Nền tảng địa chỉ số quốc gia gắn với bản đồ số");
}

#[tokio::test]
async fn static_files_have_hashed_names_long_cache_and_gzip() {
    let app = TestApp::spawn().await;
    let (_, home) = app.get("/").await;
    let start = home.find("/static/css/ndp.").unwrap();
    let href = &home[start..start + home[start..].find('"').unwrap()];
    let response = app.client.get(format!("{}{href}", app.base)).header("accept-encoding", "gzip").send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "public, max-age=31536000, immutable");
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/css"));
}

#[tokio::test]
async fn responses_carry_security_headers_and_a_request_id() {
    let app = TestApp::spawn().await;
    let response = app.get_response("/").await;
    let h = response.headers();
    assert!(h["content-security-policy"].to_str().unwrap().contains("script-src 'self'"));
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["x-frame-options"], "DENY");
    assert!(!h["x-request-id"].is_empty());
}

#[tokio::test]
async fn wrong_method_and_oversized_bodies_get_error_pages() {
    let app = TestApp::spawn().await;
    let (_, form) = app.get("/login").await;
    let token = crate::common::csrf_in(&form);
    let response = app.client.post(format!("{}/platforms", app.base)).form(&[("csrf_token", token.as_str())]).send().await.unwrap();
    assert_eq!(response.status(), 405, "a genuine form sent to a page that takes none");
    assert!(response.text().await.unwrap().contains("Mã yêu cầu"));
    // A form over the form limit (256 kB) to a route that reads forms, and a body over the whole
    // limit (1 MB + 64 kB), refused from its length alone: both 413 with the error page.
    let padded = format!("email=a%40b.vn&csrf_token={token}&pad={}", "a".repeat(300 * 1024));
    let oversized_form = app
        .client
        .post(format!("{}/password/forgot", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(padded)
        .send()
        .await
        .unwrap();
    assert_eq!(oversized_form.status(), 413);
    assert!(oversized_form.text().await.unwrap().contains("quá lớn"));
    let oversized_body = app
        .client
        .post(format!("{}/qa/ask", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(vec![b'a'; 1_200_000])
        .send()
        .await
        .unwrap();
    assert_eq!(oversized_body.status(), 413);
    assert!(oversized_body.text().await.unwrap().contains("quá lớn"));
}

#[tokio::test]
async fn readiness_fails_when_migrations_are_missing() {
    let app = TestApp::spawn().await;
    sqlx::query("delete from _sqlx_migrations where version = (select max(version) from _sqlx_migrations)")
        .execute(&app.pool)
        .await
        .unwrap();
    let (status, _) = app.get("/readyz").await;
    assert_eq!(status, 503);
}

#[tokio::test]
async fn server_errors_show_a_request_id_and_never_the_cause() {
    let app = TestApp::spawn().await;
    sqlx::query("alter table news rename to news_gone").execute(&app.pool).await.unwrap();
    let response = app.get_response("/news").await;
    assert_eq!(response.status(), 500);
    let request_id = response.headers()["x-request-id"].to_str().unwrap().to_owned();
    let body = response.text().await.unwrap();
    assert!(body.contains("Đã có lỗi xảy ra"));
    assert!(body.contains(&request_id), "the page shows the request id of the log lines");
    for leak in ["relation", "does not exist", "sqlx", "news_gone"] {
        assert!(!body.contains(leak), "the cause leaked: {leak}");
    }
}
