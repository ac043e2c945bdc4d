//! The enterprise area and the staff desk: listing revisions under review, registrations,
//! monthly reports, logo uploads, enterprise approvals and the authorization matrix.

use crate::common::{PASSWORD, TestApp, csrf_in, wait_until};

/// Cốc Cốc's enterprise account owns the `coc-coc` listing; Vexere's owns `vexere`.
pub async fn enterprise_client(app: &TestApp, email: &str, enterprise: &str) -> reqwest::Client {
    app.create_user(email, "enterprise", Some(enterprise)).await;
    let client = TestApp::new_client();
    app.login_with(&client, email).await;
    client
}

pub async fn staff_client(app: &TestApp, email: &str, role: &str) -> reqwest::Client {
    app.create_user(email, role, None).await;
    let client = TestApp::new_client();
    app.login_staff_with(&client, email).await;
    client
}

/// The edit form's fields as a form body, with some changed.
pub fn edit_fields(page: &str, changes: &[(&str, &str)], action: &str) -> Vec<(String, String)> {
    let mut fields = Vec::new();
    for name in [
        "base_platform",
        "base_draft",
        "logo_path",
        "name",
        "name_en",
        "short_name",
        "website",
        "android_url",
        "ios_url",
        "accessibility_url",
        "languages",
        "reported_users",
    ] {
        fields.push((name.to_owned(), input_value(page, name)));
    }
    for name in ["summary", "description", "main_functions", "applicability"] {
        fields.push((name.to_owned(), textarea_value(page, name)));
    }
    for name in ["data_in_vietnam", "security_level"] {
        fields.push((name.to_owned(), selected_value(page, name)));
    }
    // The ticked need groups, as a browser sends them.
    for tag in page.split("<input").skip(1).map(|rest| &rest[..rest.find('>').unwrap_or(rest.len())]) {
        if tag.contains("name=\"need_groups\"") && tag.contains(" checked") {
            let value = tag.split_once("value=\"").map(|(_, v)| v.split('"').next().unwrap_or("")).unwrap_or("");
            fields.push(("need_groups".into(), unescape(value)));
        }
    }
    fields.retain(|(k, _)| !changes.iter().any(|(c, _)| c == k));
    fields.extend(changes.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    fields.push(("action".into(), action.into()));
    fields.push(("csrf_token".into(), csrf_in(page)));
    fields
}

fn unescape(s: &str) -> String {
    s.replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&#60;", "<")
        .replace("&gt;", ">")
        .replace("&#62;", ">")
        .replace("&amp;", "&")
        .replace("&#38;", "&")
}

fn input_value(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\"");
    let Some(at) = page.find(&marker) else { return String::new() };
    let rest = &page[at..];
    let tag_end = rest.find('>').unwrap_or(rest.len());
    let tag = &rest[..tag_end];
    tag.split_once("value=\"").map(|(_, v)| unescape(v.split('"').next().unwrap_or(""))).unwrap_or_default()
}

fn textarea_value(page: &str, name: &str) -> String {
    // Not just `name="..."`: the page's `<meta name="description">` comes first.
    let marker = format!("<textarea id=\"f-{name}\" name=\"{name}\"");
    let Some(at) = page.find(&marker) else { return String::new() };
    let rest = &page[at..];
    let open = rest.find('>').unwrap() + 1;
    let close = rest.find("</textarea>").unwrap();
    unescape(&rest[open..close])
}

pub fn selected_value(page: &str, name: &str) -> String {
    let marker = format!("<select id=\"f-{name}\" name=\"{name}\"");
    let Some(at) = page.find(&marker) else { return String::new() };
    let select = &page[at..at + page[at..].find("</select>").unwrap()];
    select
        .split("<option")
        .find(|option| option.split('>').next().is_some_and(|tag| tag.contains(" selected")))
        .and_then(|option| option.split_once("value=\"").map(|(_, v)| unescape(v.split('"').next().unwrap_or(""))))
        .unwrap_or_default()
}

pub async fn post_fields(app: &TestApp, client: &reqwest::Client, path: &str, fields: &[(String, String)]) -> reqwest::Response {
    client.post(format!("{}{path}", app.base)).form(fields).send().await.unwrap()
}

#[tokio::test]
async fn an_edit_goes_through_review_to_the_public_page_search_and_history() {
    let app = TestApp::spawn().await;
    let enterprise = enterprise_client(&app, "dn@coccoc.example.vn", "coc-coc").await;
    let moderator = staff_client(&app, "kd@mic.example.vn", "moderator").await;

    let (status, page) = app.get_with(&enterprise, "/account/platforms/coc-coc/edit").await;
    assert_eq!(status, 200);
    let summary = "Trình duyệt tiếng Việt với chế độ bảo vệ trẻ em xanhlamngoc";
    let response =
        post_fields(&app, &enterprise, "/account/platforms/coc-coc/edit", &edit_fields(&page, &[("summary", summary)], "submit")).await;
    assert_eq!(response.status(), 303);
    let (_, public) = app.get("/platforms/coc-coc").await;
    assert!(!public.contains("xanhlamngoc"), "nothing is public before review");

    let id: i64 = sqlx::query_scalar("select id from revisions where state = 'submitted'").fetch_one(&app.pool).await.unwrap();
    let (status, diff) = app.get_with(&moderator, &format!("/staff/revisions/{id}")).await;
    assert_eq!(status, 200);
    assert!(diff.contains("xanhlamngoc") && diff.contains("<del>"), "field diff against the published value");
    let response = app.post_with(&moderator, &format!("/staff/revisions/{id}"), &format!("/staff/revisions/{id}/approve"), &[]).await;
    assert_eq!(response.status(), 303);

    let (_, public) = app.get("/platforms/coc-coc").await;
    assert!(public.contains("xanhlamngoc"), "published at once");
    wait_until(std::time::Duration::from_secs(10), || async { app.get("/search?q=xanhlamngoc").await.1.contains("/platforms/coc-coc") })
        .await
        .expect("search follows the approval");
    let (status, history) = app.get("/platforms/coc-coc/history").await;
    assert_eq!(status, 200);
    assert!(
        history.contains("xanhlamngoc") && history.contains("Cốc Cốc") && !history.contains("dn@coccoc"),
        "who (the enterprise, not the person) and what"
    );
    app.last_mail("dn@coccoc.example.vn", "revision_approved").await;
    let audited: i64 = sqlx::query_scalar("select count(*) from audit_events where action in ('revision.submitted', 'revision.approved')")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(audited, 2);
}

#[tokio::test]
async fn a_rejection_carries_its_reason_to_the_enterprise() {
    let app = TestApp::spawn().await;
    let enterprise = enterprise_client(&app, "dn@coccoc.example.vn", "coc-coc").await;
    let moderator = staff_client(&app, "kd@mic.example.vn", "moderator").await;
    let (_, page) = app.get_with(&enterprise, "/account/platforms/coc-coc/edit").await;
    post_fields(&app, &enterprise, "/account/platforms/coc-coc/edit", &edit_fields(&page, &[("summary", "Tóm tắt mới")], "submit")).await;
    let id: i64 = sqlx::query_scalar("select id from revisions where state = 'submitted'").fetch_one(&app.pool).await.unwrap();
    let path = format!("/staff/revisions/{id}");
    let refused = app.post_with(&moderator, &path, &format!("{path}/reject"), &[("reason", "other"), ("note", "")]).await;
    assert_eq!(refused.status(), 422, "'other' needs a note");
    let response = app
        .post_with(&moderator, &path, &format!("{path}/reject"), &[("reason", "inaccurate"), ("note", "Cần dẫn nguồn số người dùng")])
        .await;
    assert_eq!(response.status(), 303);
    let (_, page) = app.get_with(&enterprise, "/account/platforms/coc-coc/edit").await;
    assert!(page.contains("Cần dẫn nguồn số người dùng"), "the enterprise sees the reason");
    assert!(app.last_mail("dn@coccoc.example.vn", "revision_rejected").await.contains("Cần dẫn nguồn"));
    let again = app.post_with(&moderator, &path, &format!("{path}/approve"), &[]).await;
    assert_eq!(again.status(), 409, "a decided revision cannot be decided again");
}

#[tokio::test]
async fn a_stale_form_is_refused_and_keeps_what_was_typed() {
    let app = TestApp::spawn().await;
    let enterprise = enterprise_client(&app, "dn@coccoc.example.vn", "coc-coc").await;
    let (_, page) = app.get_with(&enterprise, "/account/platforms/coc-coc/edit").await;
    sqlx::query("update platforms set summary = 'Cán bộ vừa sửa' where slug = 'coc-coc'").execute(&app.pool).await.unwrap();
    let response = post_fields(
        &app,
        &enterprise,
        "/account/platforms/coc-coc/edit",
        &edit_fields(&page, &[("summary", "Nội dung tôi gõ dở")], "draft"),
    )
    .await;
    assert_eq!(response.status(), 409);
    let body = response.text().await.unwrap();
    assert!(body.contains("Nội dung tôi gõ dở") && body.contains("vừa được cập nhật"), "{body}");
    let revisions: i64 = sqlx::query_scalar("select count(*) from revisions").fetch_one(&app.pool).await.unwrap();
    assert_eq!(revisions, 0, "nothing half-written");
}

#[tokio::test]
async fn concurrent_submissions_of_one_listing_make_exactly_one_revision() {
    let app = TestApp::spawn().await;
    let first = enterprise_client(&app, "mot@coccoc.example.vn", "coc-coc").await;
    let second = enterprise_client(&app, "hai@coccoc.example.vn", "coc-coc").await;
    let (_, page_a) = app.get_with(&first, "/account/platforms/coc-coc/edit").await;
    let (_, page_b) = app.get_with(&second, "/account/platforms/coc-coc/edit").await;
    let a = edit_fields(&page_a, &[("summary", "Bản của người thứ nhất")], "submit");
    let b = edit_fields(&page_b, &[("summary", "Bản của người thứ hai")], "submit");
    let (ra, rb) = tokio::join!(
        post_fields(&app, &first, "/account/platforms/coc-coc/edit", &a),
        post_fields(&app, &second, "/account/platforms/coc-coc/edit", &b)
    );
    let mut statuses = [ra.status().as_u16(), rb.status().as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [303, 409]);
    let open: i64 =
        sqlx::query_scalar("select count(*) from revisions where state in ('draft', 'submitted')").fetch_one(&app.pool).await.unwrap();
    assert_eq!(open, 1);
}

#[tokio::test]
async fn bad_listing_input_is_shown_again_with_messages() {
    let app = TestApp::spawn().await;
    let enterprise = enterprise_client(&app, "dn@coccoc.example.vn", "coc-coc").await;
    let (_, page) = app.get_with(&enterprise, "/account/platforms/coc-coc/edit").await;
    let script = "<script>alert('x')</script>";
    let changes = [("name", ""), ("website", "javascript:alert(1)"), ("security_level", "9"), ("summary", script)];
    let response = post_fields(&app, &enterprise, "/account/platforms/coc-coc/edit", &edit_fields(&page, &changes, "submit")).await;
    assert_eq!(response.status(), 422);
    let body = response.text().await.unwrap();
    assert!(body.contains("error-summary") && body.contains("href=\"#f-name\"") && body.contains("aria-describedby=\"e-website\""));
    assert!(
        !body.contains(script) && (body.contains("&lt;script&gt;") || body.contains("&#60;script&#62;")),
        "typed text comes back escaped"
    );
    let revisions: i64 = sqlx::query_scalar("select count(*) from revisions").fetch_one(&app.pool).await.unwrap();
    assert_eq!(revisions, 0);
    let preview = post_fields(
        &app,
        &enterprise,
        "/account/platforms/coc-coc/edit",
        &edit_fields(&page, &[("description", "**đậm** <script>x()</script>")], "preview"),
    )
    .await;
    let body = preview.text().await.unwrap();
    assert!(body.contains("<strong>đậm</strong>") && !body.contains("<script>x()"), "Markdown preview, sanitised");
}

#[tokio::test]
async fn every_account_and_staff_route_answers_each_role_as_it_should() {
    let app = TestApp::spawn().await;
    let citizen = TestApp::new_client();
    app.create_user("dan@example.vn", "citizen", None).await;
    app.login_with(&citizen, "dan@example.vn").await;
    let enterprise = enterprise_client(&app, "dn@coccoc.example.vn", "coc-coc").await;
    let moderator = staff_client(&app, "kd@mic.example.vn", "moderator").await;
    let admin = staff_client(&app, "qt@mic.example.vn", "admin").await;
    let anonymous = TestApp::new_client();
    let period = {
        let today = time::OffsetDateTime::now_utc().date();
        let last = ndp::db::reports::previous_period(ndp::db::reports::period_of(today));
        ndp::db::reports::period_text(last)
    };
    let own_report = format!("/account/platforms/coc-coc/reports/{period}");
    let other_report = format!("/account/platforms/vexere/reports/{period}");
    // (path, anonymous, citizen, enterprise, moderator, admin); 303 = sent to sign in.
    let table: Vec<(&str, [u16; 5])> = vec![
        ("/account", [303, 200, 200, 200, 200]),
        ("/account/settings", [303, 200, 200, 200, 200]),
        ("/account/security", [303, 200, 200, 200, 200]),
        ("/account/export", [303, 200, 200, 200, 200]),
        ("/account/reports", [303, 403, 200, 403, 403]),
        ("/account/platforms/new", [303, 403, 200, 403, 403]),
        ("/account/platforms/coc-coc/edit", [303, 403, 200, 403, 403]),
        ("/account/platforms/vexere/edit", [303, 403, 403, 403, 403]),
        ("/account/platforms/khong-ton-tai/edit", [303, 403, 404, 403, 403]),
        (own_report.as_str(), [303, 403, 200, 403, 403]),
        (other_report.as_str(), [303, 403, 404, 403, 403]),
        ("/staff", [303, 403, 403, 200, 200]),
        ("/staff/revisions", [303, 403, 403, 200, 200]),
        ("/staff/enterprises", [303, 403, 403, 200, 200]),
        ("/staff/reports", [303, 403, 403, 200, 200]),
        ("/staff/users", [303, 403, 403, 403, 200]),
        ("/staff/audit", [303, 403, 403, 403, 200]),
    ];
    let clients = [&anonymous, &citizen, &enterprise, &moderator, &admin];
    let names = ["anonymous", "citizen", "enterprise", "moderator", "admin"];
    let mut wrong = Vec::new();
    for (path, expected) in &table {
        for (i, client) in clients.iter().enumerate() {
            let (status, _) = app.get_with(client, path).await;
            if status != expected[i] {
                wrong.push(format!("{} GET {path}: {status}, expected {}", names[i], expected[i]));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));

    // Tampering: another enterprise's listing through the URL, a foreign field, a staff action.
    let (_, page) = app.get_with(&enterprise, "/account/platforms/coc-coc/edit").await;
    let mut fields = edit_fields(&page, &[("summary", "Chiếm quyền")], "submit");
    let response = post_fields(&app, &enterprise, "/account/platforms/vexere/edit", &fields).await;
    assert_eq!(response.status(), 403, "URL tampering");
    fields.push(("platform_id".into(), "2".into()));
    fields.push(("enterprise_id".into(), "2".into()));
    let response = post_fields(&app, &enterprise, "/account/platforms/coc-coc/edit", &fields).await;
    assert_eq!(response.status(), 303, "extra fields are ignored");
    let target: String =
        sqlx::query_scalar("select p.slug from revisions r join platforms p on p.id = r.platform_id").fetch_one(&app.pool).await.unwrap();
    assert_eq!(target, "coc-coc", "form-field tampering cannot redirect the revision");
    let id: i64 = sqlx::query_scalar("select id from revisions").fetch_one(&app.pool).await.unwrap();
    let token = csrf_in(&page);
    for (client, name) in [(&enterprise, "enterprise"), (&citizen, "citizen")] {
        let response =
            client.post(format!("{}/staff/revisions/{id}/approve", app.base)).form(&[("csrf_token", token.as_str())]).send().await.unwrap();
        assert!(matches!(response.status().as_u16(), 403), "{name} approving by revision id");
    }
    let state: String = sqlx::query_scalar("select state from revisions where id = $1").bind(id).fetch_one(&app.pool).await.unwrap();
    assert_eq!(state, "submitted");

    // Every unsafe route refuses a request without a token, whoever sends it.
    let posts = [
        "/logout",
        "/register",
        "/login",
        "/password/forgot",
        "/account/settings/password",
        "/account/settings/email",
        "/account/security/totp",
        "/account/security/totp/disable",
        "/account/security/recovery-codes",
        "/account/delete",
        "/account/platforms/new",
        "/account/platforms/coc-coc/edit",
        "/account/platforms/coc-coc/confirm",
        "/staff/revisions/1/approve",
        "/staff/revisions/1/reject",
        "/staff/enterprises/1/approve",
        "/staff/enterprises/1/reject",
        "/staff/users/1/role",
        "/staff/users/1/status",
    ];
    for path in posts {
        let response = admin.post(format!("{}{path}", app.base)).form(&[("x", "y")]).send().await.unwrap();
        assert_eq!(response.status(), 403, "POST {path} without a token");
    }
    let upload = reqwest::multipart::Form::new().part("logo", reqwest::multipart::Part::bytes(vec![0u8; 10]).file_name("a.png"));
    let response = enterprise.post(format!("{}/account/platforms/coc-coc/logo", app.base)).multipart(upload).send().await.unwrap();
    assert_eq!(response.status(), 403, "multipart upload without a token");
}

#[tokio::test]
async fn an_enterprise_account_is_approved_onto_a_new_or_existing_enterprise_and_tax_codes_stay_unique() {
    let app = TestApp::spawn().await;
    let moderator = staff_client(&app, "kd@mic.example.vn", "moderator").await;
    for (email, tax) in [("a@dn.example.vn", "0312345678"), ("b@dn.example.vn", "0312345678"), ("c@dn.example.vn", "0399999999")] {
        let form = [
            ("account_type", "enterprise"),
            ("email", email),
            ("password", PASSWORD),
            ("display_name", "Cán bộ"),
            ("enterprise_name", "Công ty Cổ phần Thử Nghiệm"),
            ("tax_code", tax),
            ("consent", "yes"),
        ];
        assert_eq!(app.post("/register", "/register", &form).await.status(), 303);
    }
    let id = |email: &'static str| {
        let pool = app.pool.clone();
        async move { sqlx::query_scalar::<_, i64>("select id from users where email = $1").bind(email).fetch_one(&pool).await.unwrap() }
    };
    let (a, b, c) = (id("a@dn.example.vn").await, id("b@dn.example.vn").await, id("c@dn.example.vn").await);
    let (_, queue) = app.get_with(&moderator, "/staff/enterprises").await;
    assert!(queue.contains("0312345678") && queue.contains("0399999999"));
    let (_, home) = app.get_with(&moderator, "/staff").await;
    assert!(home.contains("Duyệt tài khoản doanh nghiệp</a> (3)"), "the staff home counts what waits");
    let response =
        app.post_with(&moderator, "/staff/enterprises", &format!("/staff/enterprises/{a}/approve"), &[("enterprise", "new")]).await;
    assert_eq!(response.status(), 303);
    let duplicate =
        app.post_with(&moderator, "/staff/enterprises", &format!("/staff/enterprises/{b}/approve"), &[("enterprise", "new")]).await;
    assert_eq!(duplicate.status(), 409, "a second enterprise with the same tax code is refused");
    assert!(duplicate.text().await.unwrap().contains("đã thuộc một doanh nghiệp khác"));
    let (_, queue) = app.get_with(&moderator, "/staff/enterprises").await;
    let slug: String = sqlx::query_scalar("select slug from enterprises where tax_code = '0312345678'").fetch_one(&app.pool).await.unwrap();
    assert!(queue.contains(&format!("value=\"{slug}\" selected")), "the matching enterprise is suggested");
    let response =
        app.post_with(&moderator, "/staff/enterprises", &format!("/staff/enterprises/{b}/approve"), &[("enterprise", slug.as_str())]).await;
    assert_eq!(response.status(), 303, "the colleague joins the existing enterprise");
    let response = app.post_with(&moderator, "/staff/enterprises", &format!("/staff/enterprises/{c}/reject"), &[]).await;
    assert_eq!(response.status(), 303);
    let rows: Vec<(String, Option<i64>)> = sqlx::query_as("select status, enterprise_id from users where id = any($1) order by id")
        .bind(vec![a, b, c])
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(rows[0].1, rows[1].1);
    assert_eq!((rows[0].0.as_str(), rows[2].0.as_str()), ("active", "disabled"));
    app.last_mail("a@dn.example.vn", "account_approved").await;
    app.last_mail("c@dn.example.vn", "account_rejected").await;
}

#[tokio::test]
async fn a_registered_platform_appears_after_staff_accept_it() {
    let app = TestApp::spawn().await;
    let enterprise = enterprise_client(&app, "dn@coccoc.example.vn", "coc-coc").await;
    let moderator = staff_client(&app, "kd@mic.example.vn", "moderator").await;
    let incomplete =
        app.post_with(&enterprise, "/account/platforms/new", "/account/platforms/new", &[("name", "Nền tảng bản đồ số mở")]).await;
    assert_eq!(incomplete.status(), 422);
    let dossier = [
        ("name", "Nền tảng bản đồ số mở"),
        ("summary", "Bản đồ số dùng chung cho địa phương"),
        ("kind", "sector_shared"),
        ("characteristics", "Cung cấp lớp bản đồ nền"),
        ("potential_users", "Các sở, ngành"),
        ("scalability", "Triển khai theo cụm máy chủ"),
        ("security_dossier", "preparing"),
        ("personal_data_plan", "Không xử lý dữ liệu cá nhân"),
        ("data_in_vietnam", "yes"),
    ];
    let response = app.post_with(&enterprise, "/account/platforms/new", "/account/platforms/new", &dossier).await;
    assert_eq!(response.status(), 303);
    let (status, _) = app.get("/platforms/nen-tang-ban-do-so-mo").await;
    assert_eq!(status, 404, "not public before acceptance");
    let id: i64 = sqlx::query_scalar("select id from revisions where platform_id is null").fetch_one(&app.pool).await.unwrap();
    let (_, page) = app.get_with(&moderator, &format!("/staff/revisions/{id}")).await;
    assert!(page.contains("Cung cấp lớp bản đồ nền"));
    let response = app.post_with(&moderator, &format!("/staff/revisions/{id}"), &format!("/staff/revisions/{id}/approve"), &[]).await;
    assert_eq!(response.status(), 303);
    let (status, page) = app.get("/platforms/nen-tang-ban-do-so-mo").await;
    assert_eq!(status, 200);
    assert!(page.contains("Bản đồ số dùng chung"));
    let (_, account) = app.get_with(&enterprise, "/account").await;
    assert!(account.contains("/account/platforms/nen-tang-ban-do-so-mo/edit"), "the new platform is the enterprise's to edit");
}

#[tokio::test]
async fn monthly_reports_are_one_per_month_editable_until_the_deadline_and_late_ones_marked() {
    let app = TestApp::spawn().await;
    let enterprise = enterprise_client(&app, "dn@coccoc.example.vn", "coc-coc").await;
    let moderator = staff_client(&app, "kd@mic.example.vn", "moderator").await;
    let today = time::OffsetDateTime::now_utc().to_offset(ndp::db::reports::VIETNAM).date();
    let last = ndp::db::reports::period_text(ndp::db::reports::previous_period(ndp::db::reports::period_of(today)));
    let (_, missing) = app.get_with(&moderator, &format!("/staff/reports?period={last}")).await;
    assert!(missing.contains("/platforms/coc-coc"), "listed as not reported");
    let path = format!("/account/platforms/coc-coc/reports/{last}");
    let bad = app.post_with(&enterprise, &path, &path, &[("users", "-3")]).await;
    assert_eq!(bad.status(), 422);
    assert_eq!(app.post_with(&enterprise, &path, &path, &[("users", "1.200.000"), ("monthly_active_users", "300000")]).await.status(), 303);
    assert_eq!(app.post_with(&enterprise, &path, &path, &[("users", "1.250.000")]).await.status(), 303, "editable before the deadline");
    let (_, overview) = app.get_with(&enterprise, "/account/reports").await;
    assert!(overview.contains(&format!("/account/platforms/coc-coc/reports/{last}\">Đã gửi")), "the overview shows last month as sent");
    let (users, count): (Option<i64>, i64) =
        sqlx::query_as("select max(users), count(*) from monthly_reports").fetch_one(&app.pool).await.unwrap();
    assert_eq!((users, count), (Some(1_250_000), 1), "one report per platform and month");
    let (_, missing) = app.get_with(&moderator, &format!("/staff/reports?period={last}")).await;
    assert!(missing.contains("1.250.000"), "figures in Vietnamese notation");

    // A month long past: accepted once, marked late, then locked.
    let old = "2024-01";
    let old_path = format!("/account/platforms/coc-coc/reports/{old}");
    assert_eq!(app.post_with(&enterprise, &old_path, &old_path, &[("users", "10")]).await.status(), 303);
    let late: bool =
        sqlx::query_scalar("select is_late from monthly_reports where period = '2024-01-01'").fetch_one(&app.pool).await.unwrap();
    assert!(late);
    let (_, page) = app.get_with(&enterprise, &old_path).await;
    assert!(page.contains("không sửa được nữa"));
    let token = csrf_in(&app.get_with(&enterprise, "/account").await.1);
    let locked =
        enterprise.post(format!("{}{old_path}", app.base)).form(&[("users", "20"), ("csrf_token", token.as_str())]).send().await.unwrap();
    assert_eq!(locked.status(), 409);
    let (status, _) = app
        .get_with(
            &enterprise,
            &format!("/account/platforms/coc-coc/reports/{}", ndp::db::reports::period_text(ndp::db::reports::period_of(today))),
        )
        .await;
    assert_eq!(status, 404, "the current month cannot be reported yet");
}

#[tokio::test]
async fn the_owner_confirms_a_listing_and_the_stale_flag_goes() {
    let app = TestApp::spawn().await;
    let enterprise = enterprise_client(&app, "dn@coccoc.example.vn", "coc-coc").await;
    let (_, page) = app.get("/platforms/coc-coc").await;
    assert!(page.contains("chưa xác nhận gần đây"));
    let response = app.post_with(&enterprise, "/account", "/account/platforms/coc-coc/confirm", &[]).await;
    assert_eq!(response.status(), 303);
    let (_, page) = app.get("/platforms/coc-coc").await;
    assert!(!page.contains("chưa xác nhận gần đây"));
}

fn png(width: u32, height: u32) -> Vec<u8> {
    let image = image::RgbaImage::from_pixel(width, height, image::Rgba([200, 30, 30, 255]));
    let mut out = std::io::Cursor::new(Vec::new());
    image.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// A PNG whose header declares `side`×`side` pixels, with almost no data behind it.
fn png_claiming(side: u32) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend_from_slice(&side.to_be_bytes());
    ihdr.extend_from_slice(&side.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
    let mut crc = flate2::Crc::new();
    crc.update(&ihdr);
    bytes.extend_from_slice(&13u32.to_be_bytes());
    bytes.extend_from_slice(&ihdr);
    bytes.extend_from_slice(&crc.sum().to_be_bytes());
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut encoder, &[0u8; 64]).unwrap();
    let mut idat = b"IDAT".to_vec();
    idat.extend_from_slice(&encoder.finish().unwrap());
    let mut crc = flate2::Crc::new();
    crc.update(&idat);
    bytes.extend_from_slice(&u32::try_from(idat.len() - 4).unwrap().to_be_bytes());
    bytes.extend_from_slice(&idat);
    bytes.extend_from_slice(&crc.sum().to_be_bytes());
    bytes.extend_from_slice(b"\x00\x00\x00\x00IEND\xaeB`\x82");
    bytes
}

#[tokio::test]
async fn logo_uploads_are_decoded_bounded_and_re_encoded() {
    let app = TestApp::spawn().await;
    let enterprise = enterprise_client(&app, "dn@coccoc.example.vn", "coc-coc").await;
    let mut polyglot = png(64, 64);
    polyglot.extend_from_slice(b"<html><script>alert(1)</script></html>");
    let mut truncated = png(64, 64);
    truncated.truncate(truncated.len() / 2);
    let cases: Vec<(&str, Vec<u8>, Option<&str>)> = vec![
        ("renamed executable", b"\x7fELF\x02\x01\x01\x00binary".to_vec(), Some("type")),
        ("SVG with script", b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>".to_vec(), Some("type")),
        ("truncated PNG", truncated, Some("type")),
        ("20000x20000 PNG", png_claiming(20000), Some("dimensions")),
        ("over 1 MB", vec![0u8; 1024 * 1024 + 1], Some("size")),
        ("tiny image", png(4, 4), Some("dimensions")),
        ("PNG with a script appended", polyglot, None),
        ("big photo", png(1500, 900), None),
    ];
    for (why, bytes, refused) in cases {
        let (_, page) = app.get_with(&enterprise, "/account/platforms/coc-coc/edit").await;
        let form = reqwest::multipart::Form::new()
            .text("csrf_token", csrf_in(&page))
            .part("logo", reqwest::multipart::Part::bytes(bytes).file_name("logo.png").mime_str("image/png").unwrap());
        let response = enterprise.post(format!("{}/account/platforms/coc-coc/logo", app.base)).multipart(form).send().await.unwrap();
        assert_eq!(response.status(), 303, "{why}");
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        match refused {
            Some(code) => assert!(location.ends_with(&format!("logo_error={code}")), "{why}: {location}"),
            None => {
                let name = location.split("logo=").nth(1).expect("stored");
                let served = app.get_response(&format!("/media/logos/{name}")).await;
                assert_eq!(served.headers()["content-type"], "image/png", "{why}");
                let bytes = served.bytes().await.unwrap();
                assert!(!bytes.windows(7).any(|w| w == b"<script"), "{why}: re-encoded, nothing appended survives");
                let decoded = image::load_from_memory(&bytes).unwrap();
                assert!(decoded.width() <= 512 && decoded.height() <= 512, "{why}: bounded");
                let (_, form) = app.get_with(&enterprise, &location).await;
                assert!(form.contains(&format!("value=\"{name}\"")), "{why}: the form carries the new logo");
            }
        }
    }
    let (status, _) = app.get("/media/logos/..%2Fsecret-key").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn admins_change_roles_and_status_and_every_change_is_in_the_audit_log() {
    let app = TestApp::spawn().await;
    let admin = staff_client(&app, "qt@mic.example.vn", "admin").await;
    let citizen_id = app.create_user("dan@example.vn", "citizen", None).await;
    let citizen = TestApp::new_client();
    app.login_with(&citizen, "dan@example.vn").await;
    let admin_id: i64 = sqlx::query_scalar("select id from users where email = 'qt@mic.example.vn'").fetch_one(&app.pool).await.unwrap();

    let (_, page) = app.get_with(&admin, "/staff/users?q=dan@").await;
    assert!(page.contains("dan@example.vn") && !page.contains("qt@mic.example.vn"), "search narrows the list");
    let own = app.post_with(&admin, "/staff/users", &format!("/staff/users/{admin_id}/role"), &[("role", "citizen")]).await;
    assert_eq!(own.status(), 409, "an admin cannot demote themselves");
    let bad = app.post_with(&admin, "/staff/users", &format!("/staff/users/{citizen_id}/role"), &[("role", "superuser")]).await;
    assert_eq!(bad.status(), 400);
    let ok = app.post_with(&admin, "/staff/users", &format!("/staff/users/{citizen_id}/role"), &[("role", "evaluator")]).await;
    assert_eq!(ok.status(), 303);
    let (status, _) = app.get_with(&citizen, "/staff").await;
    assert_eq!(status, 303, "the new evaluator is asked for a second factor before the staff area");
    let off = app.post_with(&admin, "/staff/users", &format!("/staff/users/{citizen_id}/status"), &[("status", "disabled")]).await;
    assert_eq!(off.status(), 303);
    let (status, _) = app.get_with(&citizen, "/account").await;
    assert_eq!(status, 303, "a disabled account's session stops working at once");

    let (_, audit) = app.get_with(&admin, "/staff/audit?action=user.").await;
    assert!(audit.contains("user.role_changed") && audit.contains("user.status_changed") && audit.contains("evaluator"));
    assert!(!audit.contains("login.succeeded"), "the action filter applies");
    let (_, filtered) = app.get_with(&admin, &format!("/staff/audit?target_type=user&target_id={citizen_id}")).await;
    assert!(filtered.contains("user.role_changed") && filtered.contains("127.0.0.1"), "with the client address");
    let refused = sqlx::query("delete from audit_events").execute(&app.pool).await;
    assert!(refused.is_err(), "the log is append-only, for the app too");
}

#[tokio::test]
async fn enterprises_owing_last_months_report_get_one_reminder_before_the_deadline() {
    let app = TestApp::spawn().await;
    app.create_user("dn@coccoc.example.vn", "enterprise", Some("coc-coc")).await;
    app.create_user("dn@vexere.example.vn", "enterprise", Some("vexere")).await;
    let vexere: i64 = sqlx::query_scalar("select id from platforms where slug = 'vexere'").fetch_one(&app.pool).await.unwrap();
    let enterprise: i64 = sqlx::query_scalar("select id from enterprises where slug = 'vexere'").fetch_one(&app.pool).await.unwrap();
    sqlx::query(
        "insert into monthly_reports (platform_id, enterprise_id, period, users, submitted_at) values ($1, $2, '2026-10-01', 5, now())",
    )
    .bind(vexere)
    .bind(enterprise)
    .execute(&app.pool)
    .await
    .unwrap();
    let early = time::macros::datetime!(2026-11-10 09:00 +7).to_offset(time::UtcOffset::UTC);
    assert_eq!(ndp::mail::queue_report_reminders(&app.pool, early).await.unwrap(), 0, "nothing before the 20th");
    let due = time::macros::datetime!(2026-11-21 09:00 +7).to_offset(time::UtcOffset::UTC);
    assert_eq!(ndp::mail::queue_report_reminders(&app.pool, due).await.unwrap(), 1, "only the enterprise that owes October");
    assert_eq!(ndp::mail::queue_report_reminders(&app.pool, due).await.unwrap(), 0, "once per month");
    let mail = app.last_mail("dn@coccoc.example.vn", "report_reminder_2026-10").await;
    assert!(mail.contains("Cốc Cốc") && mail.contains("25/11/2026"), "{mail}");
}

#[tokio::test]
async fn a_draft_can_be_discarded_and_the_form_returns_to_the_published_listing() {
    let app = TestApp::spawn().await;
    let enterprise = enterprise_client(&app, "dn@coccoc.example.vn", "coc-coc").await;
    let (_, page) = app.get_with(&enterprise, "/account/platforms/coc-coc/edit").await;
    let response =
        post_fields(&app, &enterprise, "/account/platforms/coc-coc/edit", &edit_fields(&page, &[("summary", "Bản nháp dở dang")], "draft"))
            .await;
    assert_eq!(response.status(), 303);
    let (_, page) = app.get_with(&enterprise, "/account/platforms/coc-coc/edit").await;
    assert!(page.contains("Bản nháp dở dang"), "the draft is loaded back");
    let response = post_fields(&app, &enterprise, "/account/platforms/coc-coc/edit", &edit_fields(&page, &[], "discard")).await;
    assert_eq!(response.status(), 303);
    let (_, page) = app.get_with(&enterprise, "/account/platforms/coc-coc/edit").await;
    assert!(!page.contains("Bản nháp dở dang"), "the published text is back");
    let state: String = sqlx::query_scalar("select state from revisions").fetch_one(&app.pool).await.unwrap();
    assert_eq!(state, "withdrawn");
}
