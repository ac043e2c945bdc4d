//! Accounts: registration, verification, sign-in, sessions, CSRF, throttling, password reset,
//! two-factor sign-in, own data. Everything through HTTP against a real database.

use crate::common::{PASSWORD, TestApp, csrf_in, link_in};

/// Strips the per-session parts of a page (CSRF token) so two answers can be compared.
fn without_token(html: &str) -> String {
    html.split("name=\"csrf_token\" value=\"")
        .enumerate()
        .map(|(i, part)| if i == 0 { part.to_owned() } else { part.split_once('"').map_or(String::new(), |(_, rest)| rest.to_owned()) })
        .collect()
}

#[tokio::test]
async fn citizen_registers_verifies_signs_in_and_out() {
    let app = TestApp::spawn().await;
    let form = [
        ("account_type", "citizen"),
        ("email", "an.nguyen@example.vn"),
        ("password", PASSWORD),
        ("display_name", "Nguyễn An"),
        ("consent", "yes"),
    ];
    let response = app.post("/register", "/register", &form).await;
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/register/sent");
    let status: String =
        sqlx::query_scalar("select status from users where email = 'an.nguyen@example.vn'").fetch_one(&app.pool).await.unwrap();
    assert_eq!(status, "pending", "unverified accounts wait");

    let link = link_in(&app.last_mail("an.nguyen@example.vn", "verify_email").await);
    let (status, page) = app.get(&link).await;
    assert_eq!(status, 200, "the link shows a confirm button (mail scanners must not use it up)");
    let response = app.post(&link, &link, &[]).await;
    assert_eq!(response.status(), 200);
    assert!(response.text().await.unwrap().contains("Email đã được xác nhận"));
    assert!(page.contains("Xác nhận email"));
    let (status, _) = app.get(&link).await;
    assert_eq!(status, 400, "a used link no longer works");

    assert_eq!(app.login_with(&app.client, "an.nguyen@example.vn").await, "/account");
    let (status, page) = app.get("/account").await;
    assert_eq!(status, 200);
    assert!(page.contains("Nguyễn An") && page.contains("Đăng xuất"));

    let (_, page) = app.get("/account").await;
    let token = csrf_in(&page);
    let response = app.client.post(format!("{}/logout", app.base)).form(&[("csrf_token", token.as_str())]).send().await.unwrap();
    assert_eq!(response.status(), 303);
    let (status, _) = app.get("/account").await;
    assert_eq!(status, 303, "signed out: the account page asks to sign in");
}

#[tokio::test]
async fn registration_errors_are_shown_with_the_input_kept_and_nothing_stored() {
    let app = TestApp::spawn().await;
    type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str);
    let cases: [Case<'_>; 5] = [
        (
            &[("account_type", "citizen"), ("email", "not-an-email"), ("password", PASSWORD), ("display_name", "A"), ("consent", "yes")],
            "Địa chỉ email chưa đúng dạng",
            "bad email",
        ),
        (
            &[("account_type", "citizen"), ("email", "a@example.vn"), ("password", "ngắn"), ("display_name", "A"), ("consent", "yes")],
            "ít nhất 10 ký tự",
            "short password",
        ),
        (
            &[
                ("account_type", "citizen"),
                ("email", "a@example.vn"),
                ("password", "password123"),
                ("display_name", "A"),
                ("consent", "yes"),
            ],
            "quá phổ biến",
            "common password",
        ),
        (
            &[("account_type", "citizen"), ("email", "a@example.vn"), ("password", PASSWORD), ("display_name", "A")],
            "cần đồng ý",
            "consent not given",
        ),
        (
            &[("account_type", "admin"), ("email", "a@example.vn"), ("password", PASSWORD), ("display_name", "A"), ("consent", "yes")],
            "chọn một giá trị",
            "role not offered",
        ),
    ];
    for (form, message, why) in cases {
        let response = app.post("/register", "/register", form).await;
        assert_eq!(response.status(), 422, "{why}");
        let page = response.text().await.unwrap();
        assert!(page.contains(message), "{why}: {page}");
        assert!(page.contains("aria-invalid=\"true\"") || page.contains("field--error"), "{why}: the field is marked");
        assert!(!page.contains(PASSWORD), "{why}: the password is never echoed");
    }
    let users: i64 = sqlx::query_scalar("select count(*) from users").fetch_one(&app.pool).await.unwrap();
    assert_eq!(users, 0);
}

#[tokio::test]
async fn enterprise_tax_codes_are_validated_and_normalised() {
    let app = TestApp::spawn().await;
    let cases = [
        ("0101234567", Some("0101234567"), "ten digits"),
        (" 0101 234 568 ", Some("0101234568"), "spaces removed"),
        ("0101234569-001", Some("0101234569-001"), "branch form"),
        ("010123456", None, "nine digits"),
        ("01012345678", None, "eleven digits"),
        ("01012345AB", None, "letters"),
        ("0101234567-01", None, "short branch"),
    ];
    for (i, (input, stored, why)) in cases.into_iter().enumerate() {
        let email = format!("dn{i}@example.vn");
        let form = [
            ("account_type", "enterprise"),
            ("email", email.as_str()),
            ("password", PASSWORD),
            ("display_name", "Cán bộ"),
            ("enterprise_name", "Công ty Thử"),
            ("tax_code", input),
            ("consent", "yes"),
        ];
        let response = app.post("/register", "/register", &form).await;
        match stored {
            Some(expected) => {
                assert_eq!(response.status(), 303, "{why}");
                let code: String = sqlx::query_scalar("select requested_tax_code from users where email = $1")
                    .bind(&email)
                    .fetch_one(&app.pool)
                    .await
                    .unwrap();
                assert_eq!(code, expected, "{why}");
            }
            None => {
                assert_eq!(response.status(), 422, "{why}");
                assert!(response.text().await.unwrap().contains("Mã số thuế gồm 10 chữ số"), "{why}");
            }
        }
    }
}

#[tokio::test]
async fn no_answer_reveals_whether_an_email_has_an_account() {
    let app = TestApp::spawn().await;
    app.create_user("co.tai.khoan@example.vn", "citizen", None).await;

    // Sign-in: wrong password for an account and any password for no account look the same.
    let mut answers = Vec::new();
    for email in ["co.tai.khoan@example.vn", "khong.co@example.vn"] {
        let response = app.post("/login", "/login", &[("email", email), ("password", "sai mật khẩu rồi nhé")]).await;
        let status = response.status().as_u16();
        answers.push((status, without_token(&response.text().await.unwrap()).replace(email, "EMAIL")));
    }
    assert_eq!(answers[0].0, 422);
    assert_eq!(answers[0], answers[1], "the sign-in failure is identical");

    // Registration with a taken email looks like a fresh one; the owner gets a mail instead.
    let mut answers = Vec::new();
    for email in ["co.tai.khoan@example.vn", "moi@example.vn"] {
        let form = [("account_type", "citizen"), ("email", email), ("password", PASSWORD), ("display_name", "A"), ("consent", "yes")];
        let response = app.post("/register", "/register", &form).await;
        answers.push((response.status().as_u16(), response.headers()["location"].to_str().unwrap().to_owned()));
    }
    assert_eq!(answers[0], answers[1]);
    app.last_mail("co.tai.khoan@example.vn", "account_exists").await;

    // Password reset: the same redirect either way.
    let mut answers = Vec::new();
    for email in ["co.tai.khoan@example.vn", "khong.co@example.vn"] {
        let response = app.post("/password/forgot", "/password/forgot", &[("email", email)]).await;
        answers.push((response.status().as_u16(), response.headers()["location"].to_str().unwrap().to_owned()));
    }
    assert_eq!(answers[0], answers[1]);
    assert_eq!(answers[0], (303, "/password/forgot/sent".to_owned()));
}

#[tokio::test]
async fn password_reset_works_once_and_replaces_the_password() {
    let app = TestApp::spawn().await;
    app.create_user("quen@example.vn", "citizen", None).await;
    let other_device = TestApp::new_client();
    app.login_with(&other_device, "quen@example.vn").await;
    app.post("/password/forgot", "/password/forgot", &[("email", "quen@example.vn")]).await;
    crate::common::wait_until(std::time::Duration::from_secs(10), || async {
        sqlx::query_scalar::<_, i64>("select count(*) from mail_outbox where template = 'reset_password'")
            .fetch_one(&app.pool)
            .await
            .unwrap()
            == 1
    })
    .await
    .unwrap();
    let link = link_in(&app.last_mail("quen@example.vn", "reset_password").await);
    let response = app.post(&link, &link, &[("password", "ngắn")]).await;
    assert_eq!(response.status(), 422, "a weak password is refused and the link stays usable");
    let response = app.post(&link, &link, &[("password", "một mật khẩu mới thật dài")]).await;
    assert_eq!(response.status(), 303);
    assert_eq!(app.get_with(&other_device, "/account").await.0, 303, "a reset signs out every other device");
    let (status, _) = app.get(&link).await;
    assert_eq!(status, 400, "the link is used up");
    let stored: String =
        sqlx::query_scalar("select token_hash from email_tokens where purpose = 'reset_password'").fetch_one(&app.pool).await.unwrap();
    assert!(!link.contains(&stored), "tokens are stored hashed");

    let old = app.post("/login", "/login", &[("email", "quen@example.vn"), ("password", PASSWORD)]).await;
    assert_eq!(old.status(), 422);
    let new = app.post("/login", "/login", &[("email", "quen@example.vn"), ("password", "một mật khẩu mới thật dài")]).await;
    assert_eq!(new.status(), 303);
}

#[tokio::test]
async fn unsafe_requests_without_the_right_token_or_from_another_site_are_refused() {
    let app = TestApp::spawn().await;
    app.create_user("csrf@example.vn", "citizen", None).await;
    let (_, page) = app.get("/login").await;
    let token = csrf_in(&page);
    let url = format!("{}/login", app.base);
    let fields = |t: &str| vec![("email", "csrf@example.vn".to_owned()), ("password", PASSWORD.to_owned()), ("csrf_token", t.to_owned())];
    type Case<'a> = (Vec<(&'a str, String)>, Option<(&'a str, &'a str)>, &'a str);
    let cases: [Case<'_>; 4] = [
        (fields("").into_iter().filter(|(k, _)| *k != "csrf_token").collect(), None, "no token"),
        (fields("wrong-token"), None, "wrong token"),
        (fields(&token), Some(("sec-fetch-site", "cross-site")), "cross-site by Fetch-Metadata"),
        (fields(&token), Some(("origin", "http://evil.example")), "foreign Origin"),
    ];
    for (form, header, why) in cases {
        let mut request = app.client.post(&url).form(&form);
        if let Some((name, value)) = header {
            request = request.header(name, value);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 403, "{why}");
        assert!(response.text().await.unwrap().contains("Biểu mẫu đã hết hạn"), "{why}: a clear page");
    }
    let logins: i64 =
        sqlx::query_scalar("select count(*) from audit_events where action = 'login.succeeded'").fetch_one(&app.pool).await.unwrap();
    assert_eq!(logins, 0);
    let ok = app.client.post(&url).header("sec-fetch-site", "same-origin").form(&fields(&token)).send().await.unwrap();
    assert_eq!(ok.status(), 303, "the same request from the portal's page works");
}

fn session_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("ndp_session="))
        .map(|c| c.trim_start_matches("ndp_session=").split(';').next().unwrap_or("").to_owned())
}

#[tokio::test]
async fn sign_in_changes_the_session_id_so_a_planted_session_gains_nothing() {
    let app = TestApp::spawn().await;
    app.create_user("fixation@example.vn", "citizen", None).await;
    app.create_user("planter@example.vn", "citizen", None).await;
    // The attacker's own session id, planted in the victim's browser.
    let attacker = TestApp::new_client();
    let response = app.post_with(&attacker, "/login", "/login", &[("email", "planter@example.vn"), ("password", PASSWORD)]).await;
    let planted = session_cookie(&response).expect("a session at sign-in");
    let cookie = response.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_owned()).collect::<Vec<_>>().join("; ");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");

    let victim = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let login_page = victim.get(format!("{}/login", app.base)).header("cookie", format!("ndp_session={planted}")).send().await.unwrap();
    let token = csrf_in(&login_page.text().await.unwrap());
    let response = victim
        .post(format!("{}/login", app.base))
        .header("cookie", format!("ndp_session={planted}"))
        .form(&[("email", "fixation@example.vn"), ("password", PASSWORD), ("csrf_token", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let after = session_cookie(&response).expect("a new session cookie");
    assert_ne!(planted, after, "the id changed at sign-in");

    let bare = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let response = bare.get(format!("{}/account", app.base)).header("cookie", format!("ndp_session={planted}")).send().await.unwrap();
    assert_eq!(response.status(), 303, "the planted id is not signed in as the victim (nor as anyone)");
    let response = bare.get(format!("{}/account", app.base)).header("cookie", format!("ndp_session={after}")).send().await.unwrap();
    assert_eq!(response.status(), 200, "the new id is");
}

#[tokio::test]
async fn repeated_failures_lock_sign_in_and_a_later_success_unlocks_it() {
    let app = TestApp::spawn().await;
    app.create_user("khoa@example.vn", "citizen", None).await;
    for attempt in 1..=5 {
        let response = app.post("/login", "/login", &[("email", "khoa@example.vn"), ("password", "sai mật khẩu rồi nhé")]).await;
        assert_eq!(response.status(), 422, "attempt {attempt}");
    }
    let sixth = app.post("/login", "/login", &[("email", "khoa@example.vn"), ("password", "sai mật khẩu rồi nhé")]).await;
    assert_eq!(sixth.status(), 422, "the sixth failure is counted and locks");
    let locked = app.post("/login", "/login", &[("email", "khoa@example.vn"), ("password", PASSWORD)]).await;
    assert_eq!(locked.status(), 429, "even the right password waits while locked");
    assert!(locked.headers().contains_key("retry-after"));
    assert!(locked.text().await.unwrap().contains("tạm dừng"));
    // The same lock applies to a name that has no account: nothing tells them apart.
    for _ in 0..6 {
        app.post("/login", "/login", &[("email", "ai.do@example.vn"), ("password", "sai mật khẩu rồi nhé")]).await;
    }
    let other = app.post("/login", "/login", &[("email", "ai.do@example.vn"), ("password", PASSWORD)]).await;
    assert_eq!(other.status(), 429);

    let locks: i64 =
        sqlx::query_scalar("select count(*) from audit_events where action = 'login.locked'").fetch_one(&app.pool).await.unwrap();
    assert!(locks >= 2, "locks are logged");
    sqlx::query("update login_throttle set locked_until = now() - interval '1 second' where key like 'pair:khoa@example.vn|%'")
        .execute(&app.pool)
        .await
        .unwrap();
    let ok = app.post("/login", "/login", &[("email", "khoa@example.vn"), ("password", PASSWORD)]).await;
    assert_eq!(ok.status(), 303);
    let unlocks: i64 =
        sqlx::query_scalar("select count(*) from audit_events where action = 'login.unlocked'").fetch_one(&app.pool).await.unwrap();
    assert_eq!(unlocks, 1, "the unlock is logged");
}

#[tokio::test]
async fn staff_must_set_up_and_then_use_a_second_factor() {
    let app = TestApp::spawn().await;
    app.create_user("kiemduyet@example.vn", "moderator", None).await;
    let target = app.login_with(&app.client, "kiemduyet@example.vn").await;
    assert_eq!(target, "/account/security?required=1", "staff without TOTP are sent to set it up");
    let (status, _) = app.get("/staff/revisions").await;
    assert_eq!(status, 303, "no staff page before the second factor");
    let secret = app.login_staff_with(&app.client, "kiemduyet@example.vn").await;
    let (status, _) = app.get("/staff/revisions").await;
    assert_eq!(status, 200);

    // The next sign-in asks for a code; a replayed or wrong code is refused, a recovery code works once.
    let client = TestApp::new_client();
    let response = app.post_with(&client, "/login", "/login", &[("email", "kiemduyet@example.vn"), ("password", PASSWORD)]).await;
    assert_eq!(response.headers()["location"], "/login/second-factor");
    let (status, _) = app.get_with(&client, "/staff").await;
    assert_eq!(status, 303, "a password alone is not a sign-in");
    let wrong = app.post_with(&client, "/login/second-factor", "/login/second-factor", &[("code", "000000")]).await;
    assert_eq!(wrong.status(), 422);
    let step_used: i64 =
        sqlx::query_scalar("select totp_last_step from users where email = 'kiemduyet@example.vn'").fetch_one(&app.pool).await.unwrap();
    let now = ndp::auth::totp::now_unix();
    let replay = ndp::auth::totp::code_at(&secret, u64::try_from(step_used).unwrap() * 30).unwrap();
    if ndp::auth::totp::verify(&secret, &replay, now, None).is_some() {
        let again = app.post_with(&client, "/login/second-factor", "/login/second-factor", &[("code", &replay)]).await;
        assert_eq!(again.status(), 422, "the code used at enrolment cannot be replayed");
    }
    let next = ndp::auth::totp::code_at(&secret, now + 30).unwrap();
    let ok = app.post_with(&client, "/login/second-factor", "/login/second-factor", &[("code", &next)]).await;
    assert_eq!(ok.status(), 303);
    let (status, _) = app.get_with(&client, "/staff").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn own_data_can_be_downloaded_and_the_account_deleted() {
    let app = TestApp::spawn().await;
    let id = app.create_user("xoa@example.vn", "citizen", None).await;
    app.login_with(&app.client, "xoa@example.vn").await;
    let response = app.get_response("/account/export").await;
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-disposition"].to_str().unwrap().starts_with("attachment"));
    let doc: serde_json::Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    assert_eq!(doc["account"]["email"], "xoa@example.vn");
    assert!(doc["account"].get("password_hash").is_none() && doc["account"].get("totp_secret").is_none());

    let (_, page) = app.get("/account/delete").await;
    assert!(!page.contains("checked"), "consent and confirmation boxes are never pre-ticked");
    let refused = app.post("/account/delete", "/account/delete", &[("current_password", PASSWORD)]).await;
    assert_eq!(refused.status(), 422, "the confirmation box is required");
    let response = app.post("/account/delete", "/account/delete", &[("current_password", PASSWORD), ("confirm", "yes")]).await;
    assert_eq!(response.status(), 303);
    let row: (String, String, String) =
        sqlx::query_as("select email, display_name, status from users where id = $1").bind(id).fetch_one(&app.pool).await.unwrap();
    assert!(!row.0.contains("xoa@") && row.2 == "deleted", "{row:?}");
    let events: i64 =
        sqlx::query_scalar("select count(*) from audit_events where actor_id = $1").bind(id).fetch_one(&app.pool).await.unwrap();
    assert!(events >= 2, "the audit trail stays");
    let login = app.post("/login", "/login", &[("email", "xoa@example.vn"), ("password", PASSWORD)]).await;
    assert_eq!(login.status(), 422);
}

#[tokio::test]
async fn operator_commands_create_change_and_disable_accounts() {
    let app = TestApp::spawn().await;
    let created = ndp::accounts::create(&app.pool, "op@example.vn", "enterprise", Some("coc-coc"), None, None).await.unwrap();
    let generated = created.generated_password.expect("a password is generated when none is given");
    assert_eq!(generated.len(), 19, "80 random bits in groups of four");
    assert!(
        ndp::accounts::create(&app.pool, "op2@example.vn", "enterprise", None, None, None).await.is_err(),
        "enterprise needs --enterprise"
    );
    assert!(
        ndp::accounts::create(&app.pool, "OP@example.vn", "citizen", None, None, None).await.is_err(),
        "emails are unique case-insensitively"
    );
    ndp::accounts::set_role(&app.pool, "op@example.vn", "moderator").await.unwrap();
    let (role, enterprise): (String, Option<i64>) =
        sqlx::query_as("select role, enterprise_id from users where id = $1").bind(created.id).fetch_one(&app.pool).await.unwrap();
    assert_eq!((role.as_str(), enterprise), ("moderator", None));
    ndp::accounts::disable(&app.pool, "op@example.vn").await.unwrap();
    let login = app.post("/login", "/login", &[("email", "op@example.vn"), ("password", &generated)]).await;
    assert_eq!(login.status(), 422, "a disabled account cannot sign in");
    let audited: i64 =
        sqlx::query_scalar("select count(*) from audit_events where actor_label = 'cli'").fetch_one(&app.pool).await.unwrap();
    assert_eq!(audited, 3);
}

#[tokio::test]
async fn mails_are_delivered_to_the_mail_folder_without_smtp() {
    let app = TestApp::spawn().await;
    let form =
        [("account_type", "citizen"), ("email", "thu@example.vn"), ("password", PASSWORD), ("display_name", "Thư"), ("consent", "yes")];
    app.post("/register", "/register", &form).await;
    let folder = app.data_dir().join("mail");
    // The file is written inside the transaction that marks the mail sent: wait for both.
    crate::common::wait_until(std::time::Duration::from_secs(15), || async {
        let written = std::fs::read_dir(&folder).map(|d| d.count() > 0).unwrap_or(false);
        let sent: bool = sqlx::query_scalar(
            "select coalesce(bool_and(sent_at is not null), false) from mail_outbox where to_address = 'thu@example.vn'",
        )
        .fetch_one(&app.pool)
        .await
        .unwrap();
        written && sent
    })
    .await
    .expect("the sender writes the mail and marks it sent");
    let file = std::fs::read_dir(&folder).unwrap().next().unwrap().unwrap().path();
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("To: thu@example.vn") && text.contains("/verify-email/"), "{text}");
    let sent: bool = sqlx::query_scalar("select sent_at is not null from mail_outbox where to_address = 'thu@example.vn'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(sent);
}

#[tokio::test]
async fn a_new_email_must_be_verified_and_a_taken_one_reveals_nothing() {
    let app = TestApp::spawn().await;
    app.create_user("cu@example.vn", "citizen", None).await;
    app.create_user("da.co@example.vn", "citizen", None).await;
    app.login_with(&app.client, "cu@example.vn").await;
    let wrong = app
        .post("/account/settings", "/account/settings/email", &[("email", "moi@example.vn"), ("current_password", "không phải mật khẩu")])
        .await;
    assert_eq!(wrong.status(), 422);
    let taken =
        app.post("/account/settings", "/account/settings/email", &[("email", "da.co@example.vn"), ("current_password", PASSWORD)]).await;
    let free =
        app.post("/account/settings", "/account/settings/email", &[("email", "moi@example.vn"), ("current_password", PASSWORD)]).await;
    assert_eq!((taken.status(), free.status()), (free.status(), reqwest::StatusCode::SEE_OTHER));
    app.last_mail("da.co@example.vn", "account_exists").await;
    let link = link_in(&app.last_mail("moi@example.vn", "verify_email").await);
    let (verified, email): (Option<time::OffsetDateTime>, String) =
        sqlx::query_as("select email_verified_at, email from users where email = 'moi@example.vn'").fetch_one(&app.pool).await.unwrap();
    assert!(verified.is_none() && email == "moi@example.vn");
    assert_eq!(app.post(&link, &link, &[]).await.status(), 200);
}

#[tokio::test]
async fn one_client_address_trying_many_accounts_is_locked_too() {
    let app = TestApp::spawn().await;
    app.create_user("that@example.vn", "citizen", None).await;
    for i in 0..21 {
        let email = format!("doan{i}@example.vn");
        app.post("/login", "/login", &[("email", email.as_str()), ("password", "sai mật khẩu rồi nhé")]).await;
    }
    let locked = app.post("/login", "/login", &[("email", "that@example.vn"), ("password", PASSWORD)]).await;
    assert_eq!(locked.status(), 429, "the address is locked whatever account it names");
}

#[tokio::test]
async fn an_idle_session_ends() {
    let app = TestApp::spawn().await;
    app.create_user("ngu@example.vn", "citizen", None).await;
    app.login_with(&app.client, "ngu@example.vn").await;
    assert_eq!(app.get("/account").await.0, 200);
    let expiry: time::OffsetDateTime =
        sqlx::query_scalar("select max(expiry_date) from tower_sessions.session").fetch_one(&app.pool).await.unwrap();
    let idle = expiry - time::OffsetDateTime::now_utc();
    assert!(idle > time::Duration::minutes(110) && idle <= time::Duration::minutes(120), "idle timeout of two hours: {idle}");
    sqlx::query("update tower_sessions.session set expiry_date = now() - interval '1 second'").execute(&app.pool).await.unwrap();
    assert_eq!(app.get("/account").await.0, 303, "an expired session is signed out");
}

#[tokio::test]
async fn housekeeping_removes_expired_sessions_old_tokens_counters_and_sent_mails() {
    let app = TestApp::spawn().await;
    let id = app.create_user("cu@example.vn", "citizen", None).await;
    sqlx::query("insert into tower_sessions.session (id, data, expiry_date) values ('old', '\\x00', now() - interval '1 hour')")
        .execute(&app.pool)
        .await
        .unwrap();
    sqlx::query(
        "insert into email_tokens (user_id, purpose, token_hash, email, expires_at) values ($1, 'verify_email', 'h', 'cu@example.vn', now() - interval '8 days')",
    )
    .bind(id)
    .execute(&app.pool)
    .await
    .unwrap();
    sqlx::query("insert into contribution_limits (key, window_start, count) values ('post:ip:x', now() - interval '2 days', 3)")
        .execute(&app.pool)
        .await
        .unwrap();
    sqlx::query("insert into login_throttle (key, failures, updated_at) values ('account:x', 2, now() - interval '2 days')")
        .execute(&app.pool)
        .await
        .unwrap();
    sqlx::query(
        "insert into mail_outbox (to_address, subject, body_text, template, sent_at) values ('cu@example.vn', 's', 'link', 't', now() - interval '8 days'),
                ('cu@example.vn', 's', 'link', 't', now() - interval '1 day')",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    assert_eq!(ndp::db::users::sweep(&app.pool).await.unwrap(), 5, "the recent mail stays");
}

#[tokio::test]
async fn changing_the_password_keeps_this_device_and_signs_out_the_others() {
    let app = TestApp::spawn().await;
    app.create_user("doi@example.vn", "citizen", None).await;
    let laptop = TestApp::new_client();
    app.login_with(&laptop, "doi@example.vn").await;
    app.login_with(&app.client, "doi@example.vn").await;
    let wrong = app
        .post(
            "/account/settings",
            "/account/settings/password",
            &[("current_password", "sai"), ("new_password", "một mật khẩu mới thật dài")],
        )
        .await;
    assert_eq!(wrong.status(), 422);
    let response = app
        .post(
            "/account/settings",
            "/account/settings/password",
            &[("current_password", PASSWORD), ("new_password", "một mật khẩu mới thật dài")],
        )
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(app.get("/account").await.0, 200, "this device stays signed in");
    assert_eq!(app.get_with(&laptop, "/account").await.0, 303, "the other device is signed out");
}

#[tokio::test]
async fn recovery_codes_can_be_replaced_and_two_step_sign_in_turned_off_except_by_staff() {
    let app = TestApp::spawn().await;
    app.create_user("hai.buoc@example.vn", "citizen", None).await;
    let secret = app.login_staff_with(&app.client, "hai.buoc@example.vn").await;
    assert!(!secret.is_empty());
    let old: Vec<String> = sqlx::query_scalar("select code_hash from user_recovery_codes order by id").fetch_all(&app.pool).await.unwrap();
    let response = app.post("/account/security", "/account/security/recovery-codes", &[]).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap().matches("<li><code>").count(), 10, "ten new codes shown once");
    let new: Vec<String> = sqlx::query_scalar("select code_hash from user_recovery_codes order by id").fetch_all(&app.pool).await.unwrap();
    assert_eq!(new.len(), 10);
    assert!(old.iter().all(|h| !new.contains(h)), "the old codes no longer work");

    let wrong = app.post("/account/security", "/account/security/totp/disable", &[("current_password", "sai")]).await;
    assert_eq!(wrong.status(), 422);
    let off = app.post("/account/security", "/account/security/totp/disable", &[("current_password", PASSWORD)]).await;
    assert_eq!(off.status(), 303);
    let (enabled, codes): (bool, i64) = sqlx::query_as(
        "select totp_enabled_at is not null, (select count(*) from user_recovery_codes) from users where email = 'hai.buoc@example.vn'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!((enabled, codes), (false, 0));

    app.create_user("kd@mic.example.vn", "moderator", None).await;
    let staff = TestApp::new_client();
    app.login_staff_with(&staff, "kd@mic.example.vn").await;
    let refused = app.post_with(&staff, "/account/security", "/account/security/totp/disable", &[("current_password", PASSWORD)]).await;
    assert_eq!(refused.status(), 403, "staff cannot turn off the second factor their role requires");
}
