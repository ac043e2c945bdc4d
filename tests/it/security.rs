//! The findings of the security review (issue 14), one test each, named after the finding; each
//! failed on the code before its fix. Through HTTP, or raw TCP where the attack is below HTTP,
//! against a real database.

use std::time::Duration;

use futures_util::future::join_all;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::common::{PASSWORD, TestApp, csrf_in, link_in, wait_until};
use crate::enterprise::{edit_fields, enterprise_client, post_fields};
use crate::opinions::{citizen, decide, moderator, one_id, rate};

/// Signs in from client address `addr` (the portal believes `X-Forwarded-For` from loopback when
/// started with `NDP_TRUSTED_PROXIES=127.0.0.1`).
async fn sign_in_from(app: &TestApp, client: &reqwest::Client, addr: &str, email: &str, password: &str) -> reqwest::Response {
    let (_, page) = app.get_with(client, "/login").await;
    let token = csrf_in(&page);
    client
        .post(format!("{}/login", app.base))
        .header("x-forwarded-for", addr)
        .form(&[("email", email), ("password", password), ("csrf_token", token.as_str())])
        .send()
        .await
        .unwrap()
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&app.pool).await.unwrap()
}

// ---------------------------------------------------------------- 1. links follow the Host header

#[tokio::test]
async fn reset_links_are_built_from_configuration_never_from_a_forged_host() {
    let app = TestApp::spawn().await;
    app.create_user("nan.nhan@example.vn", "citizen", None).await;
    let (_, page) = app.get("/password/forgot").await;
    let token = csrf_in(&page);
    let response = app
        .client
        .post(format!("{}/password/forgot", app.base))
        .header("host", "evil.example")
        .form(&[("email", "nan.nhan@example.vn"), ("csrf_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    wait_until(Duration::from_secs(20), || async {
        count(&app, "select count(*) from mail_outbox where template = 'reset_password'").await == 1
    })
    .await
    .unwrap();
    let mail = app.last_mail("nan.nhan@example.vn", "reset_password").await;
    assert!(!mail.contains("evil.example"), "{mail}");
    assert!(mail.contains(&format!("{}/password/reset/", app.base)), "the bound address, as no base URL is set: {mail}");
}

#[tokio::test]
async fn a_request_naming_another_host_is_refused_when_a_base_url_is_set() {
    let app = TestApp::spawn_with(&[("NDP_BASE_URL", "https://nentangso.example.vn")]).await;
    app.create_user("host@example.vn", "citizen", None).await;
    let get = |host: &'static str, path: &'static str| {
        let request = app.client.get(format!("{}{path}", app.base)).header("host", host);
        async move { request.send().await.unwrap() }
    };
    let ok = get("nentangso.example.vn", "/").await;
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.headers()["strict-transport-security"], "max-age=31536000", "HSTS when the base URL is https");
    assert_eq!(get("NenTangSo.example.vn:443", "/").await.status(), 200, "case and the default port do not matter");
    let forged = get("evil.example", "/password/forgot").await;
    assert_eq!(forged.status(), 421);
    assert!(forged.text().await.unwrap().contains("không phải địa chỉ của cổng"), "an error page that says why");
    for path in ["/healthz", "/readyz"] {
        assert_eq!(get("10.0.0.7:8080", path).await.status(), 200, "{path} answers health checks by address");
    }

    // A reset asked for through the right host links to the base URL.
    let form = get("nentangso.example.vn", "/password/forgot").await;
    let cookie = form.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    assert!(cookie.starts_with("__Host-ndp_csrf="), "{cookie}");
    let token = csrf_in(&form.text().await.unwrap());
    let response = app
        .client
        .post(format!("{}/password/forgot", app.base))
        .header("host", "nentangso.example.vn")
        .header("cookie", cookie)
        .form(&[("email", "host@example.vn"), ("csrf_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    wait_until(Duration::from_secs(20), || async {
        count(&app, "select count(*) from mail_outbox where template = 'reset_password'").await == 1
    })
    .await
    .unwrap();
    assert!(app.last_mail("host@example.vn", "reset_password").await.contains("https://nentangso.example.vn/password/reset/"));
}

// ---------------------------------------------------------------- 2. deciding one's own items

#[tokio::test]
async fn moderators_never_decide_their_own_items_their_own_appeals_or_their_enterprises() {
    let app = TestApp::spawn().await;
    let m1 = moderator(&app, "m1@mic.example.vn").await;
    let m2 = moderator(&app, "m2@mic.example.vn").await;
    assert_eq!(rate(&app, &m1, "vneid", "5", "Ý kiến riêng của cán bộ kiểm duyệt").await.status(), 303);
    let own = one_id(&app, "select id from ratings where comment like 'Ý kiến riêng%'").await;
    let (_, queue) = app.get_with(&m1, "/staff/moderation").await;
    assert!(!queue.contains("Ý kiến riêng"), "hidden from its author's queue");
    let (_, item) = app.get_with(&m1, &format!("/staff/moderation/rating/{own}")).await;
    assert!(item.contains("một cán bộ khác sẽ quyết định") && !item.contains("value=\"approve\""), "no decision buttons");
    assert_eq!(decide(&app, &m1, "rating", own, &[("action", "approve")]).await.status(), 403, "its author cannot approve it");
    assert_eq!(count(&app, &format!("select count(*) from ratings where id = {own} and state = 'pending'")).await, 1);

    // Rejected by another moderator, appealed by its author: neither may decide the appeal.
    let (_, queue) = app.get_with(&m2, "/staff/moderation").await;
    assert!(queue.contains("Ý kiến riêng"));
    assert_eq!(decide(&app, &m2, "rating", own, &[("action", "reject"), ("reason", "spam")]).await.status(), 303);
    let appeal = app.post_with(&m1, "/account", &format!("/account/appeals/rating/{own}"), &[("body", "Xin xem lại")]).await;
    assert_eq!(appeal.status(), 303);
    assert_eq!(decide(&app, &m1, "rating", own, &[("action", "approve")]).await.status(), 403, "nor its own appeal");
    assert_eq!(decide(&app, &m2, "rating", own, &[("action", "approve")]).await.status(), 409, "nor the first moderator");
    let m3 = moderator(&app, "m3@mic.example.vn").await;
    assert_eq!(decide(&app, &m3, "rating", own, &[("action", "approve")]).await.status(), 303, "a third one does");

    // A moderator who gave an enterprise's tax code does not decide on its platform.
    sqlx::query("update enterprises set tax_code = '0312345678' where slug = 'coc-coc'").execute(&app.pool).await.unwrap();
    let m4 = moderator(&app, "m4@coccoc.example.vn").await;
    sqlx::query("update users set requested_tax_code = '0312345678' where email = 'm4@coccoc.example.vn'")
        .execute(&app.pool)
        .await
        .unwrap();
    let an = citizen(&app, "an@example.vn").await;
    let feedback = app.post_with(&an, "/platforms/coc-coc", "/platforms/coc-coc/feedback", &[("body", "Góp ý về Cốc Cốc")]).await;
    assert_eq!(feedback.status(), 303);
    let about_coccoc = one_id(&app, "select id from feedback where body = 'Góp ý về Cốc Cốc'").await;
    assert!(!app.get_with(&m4, "/staff/moderation").await.1.contains("Góp ý về Cốc Cốc"));
    assert_eq!(decide(&app, &m4, "feedback", about_coccoc, &[("action", "approve")]).await.status(), 403);
    assert_eq!(decide(&app, &m2, "feedback", about_coccoc, &[("action", "approve")]).await.status(), 303);

    // Nor on its listing changes.
    let enterprise = enterprise_client(&app, "dn@coccoc.example.vn", "coc-coc").await;
    let (_, page) = app.get_with(&enterprise, "/account/platforms/coc-coc/edit").await;
    let change = edit_fields(&page, &[("summary", "Tóm tắt do doanh nghiệp đề nghị")], "submit");
    assert_eq!(post_fields(&app, &enterprise, "/account/platforms/coc-coc/edit", &change).await.status(), 303);
    let revision = one_id(&app, "select id from revisions where state = 'submitted'").await;
    assert!(!app.get_with(&m4, "/staff/revisions").await.1.contains(&format!("/staff/revisions/{revision}\"")));
    let path = format!("/staff/revisions/{revision}");
    assert_eq!(app.post_with(&m4, &path, &format!("{path}/approve"), &[]).await.status(), 403);
    let reject = app.post_with(&m4, &path, &format!("{path}/reject"), &[("reason", "inaccurate"), ("note", "")]).await;
    assert_eq!(reject.status(), 403);
    assert_eq!(app.post_with(&m2, &path, &format!("{path}/approve"), &[]).await.status(), 303);
}

// ---------------------------------------------------------------- 3. verification links

#[tokio::test]
async fn a_verification_link_verifies_only_the_address_it_was_sent_to() {
    let app = TestApp::spawn().await;
    let form = [
        ("account_type", "enterprise"),
        ("email", "dang.ky@example.vn"),
        ("password", PASSWORD),
        ("display_name", "Người đăng ký"),
        ("enterprise_name", "Công ty Thử"),
        ("tax_code", "0109999999"),
        ("consent", "yes"),
    ];
    assert_eq!(app.post("/register", "/register", &form).await.status(), 303);
    let old_link = link_in(&app.last_mail("dang.ky@example.vn", "verify_email").await);
    app.login_with(&app.client, "dang.ky@example.vn").await;
    let change = app
        .post("/account/settings", "/account/settings/email", &[("email", "nguoi.khac@example.vn"), ("current_password", PASSWORD)])
        .await;
    assert_eq!(change.status(), 303);
    assert_eq!(app.get(&old_link).await.0, 400, "the old link no longer shows its form");
    assert_eq!(app.post("/account", &old_link, &[]).await.status(), 400, "nor verifies anything");
    let verified: bool = sqlx::query_scalar("select email_verified_at is not null from users where email = 'nguoi.khac@example.vn'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(!verified, "the new address is not verified by a link sent to the old one");
    let admin = moderator(&app, "duyet@mic.example.vn").await;
    let (_, pending) = app.get_with(&admin, "/staff/enterprises").await;
    assert!(pending.contains("nguoi.khac@example.vn") && pending.contains("email chưa xác nhận"), "the approval page tells");

    let new_link = link_in(&app.last_mail("nguoi.khac@example.vn", "verify_email").await);
    assert_eq!(app.post("/account", &new_link, &[]).await.status(), 200, "the link mailed to the new address works");
}

// ---------------------------------------------------------------- 4. throw-away flags

#[tokio::test]
async fn throwaway_accounts_cannot_hide_a_published_item() {
    let app = TestApp::spawn().await;
    let author = citizen(&app, "tac.gia@example.vn").await;
    let kd = moderator(&app, "kd@mic.example.vn").await;
    assert_eq!(rate(&app, &author, "coc-coc", "5", "Trình duyệt chạy nhanh").await.status(), 303);
    let id = one_id(&app, "select id from ratings where comment = 'Trình duyệt chạy nhanh'").await;
    assert_eq!(decide(&app, &kd, "rating", id, &[("action", "approve")]).await.status(), 303);
    let flag = |client: reqwest::Client| {
        let app = &app;
        async move { app.post_with(&client, "/platforms/coc-coc", &format!("/flags/rating/{id}"), &[("reason", "spam")]).await.status() }
    };

    // Unverified, and verified but new: refused, nothing stored.
    let pending = citizen(&app, "chua.xac.nhan@example.vn").await;
    sqlx::query("update users set email_verified_at = null, status = 'pending' where email = 'chua.xac.nhan@example.vn'")
        .execute(&app.pool)
        .await
        .unwrap();
    assert_eq!(flag(pending).await, 409, "an unverified account");
    app.create_user("moi.tao@example.vn", "citizen", None).await;
    let fresh = TestApp::new_client();
    app.login_with(&fresh, "moi.tao@example.vn").await;
    assert_eq!(flag(fresh).await, 409, "an account younger than a day");
    // The platform's own enterprise, linked or still waiting for approval, may not flag either.
    sqlx::query("update enterprises set tax_code = '0312345678' where slug = 'coc-coc'").execute(&app.pool).await.unwrap();
    let waiting = citizen(&app, "cho.duyet@coccoc.example.vn").await;
    sqlx::query("update users set role = 'enterprise', requested_tax_code = '0312345678' where email = 'cho.duyet@coccoc.example.vn'")
        .execute(&app.pool)
        .await
        .unwrap();
    assert_eq!(flag(waiting).await, 409, "an enterprise account about its own platform");
    assert_eq!(count(&app, "select count(*) from flags").await, 0);

    // Accounts registered from one network, each within an hour of the one before (across a
    // clock hour, from neighbouring IPv4 addresses or from one IPv6 /64), count as one person.
    let clones = [
        ("clone0@example.vn", "203.0.113.50", "10 minutes"),
        ("clone1@example.vn", "203.0.113.51", "55 minutes"),
        ("clone2@example.vn", "203.0.113.77", "100 minutes"),
        ("clone3@example.vn", "2001:db8:1:2::a", "0 minutes"),
        ("clone4@example.vn", "2001:db8:1:2:ffff::1", "30 minutes"),
    ];
    for (email, addr, after) in clones {
        let client = citizen(&app, email).await;
        sqlx::query(
            "update users set registered_addr = $2::inet, created_at = date_trunc('hour', now()) - interval '2 days' + $3::interval
             where email = $1",
        )
        .bind(email)
        .bind(addr)
        .bind(after)
        .execute(&app.pool)
        .await
        .unwrap();
        assert_eq!(flag(client).await, 303);
    }
    assert_eq!(
        count(&app, &format!("select count(*) from ratings where id = {id} and state = 'published'")).await,
        1,
        "two people: still published"
    );
    assert_eq!(flag(citizen(&app, "mot@example.vn").await).await, 303);
    assert_eq!(count(&app, &format!("select count(*) from ratings where id = {id} and state = 'hidden'")).await, 1, "three people: hidden");

    let (_, item) = app.get_with(&kd, &format!("/staff/moderation/rating/{id}")).await;
    assert!(item.contains("Người đã báo cáo") && item.contains("(#"), "the moderator sees who flagged");
    assert_eq!(item.matches("chỉ tính một lần").count(), 5, "and which accounts counted as one");
}

// ---------------------------------------------------------------- 5. sign-in throttling

#[tokio::test]
async fn a_successful_sign_in_clears_only_the_accounts_own_failures() {
    let app = TestApp::spawn().await;
    app.create_user("ke.tan.cong@example.vn", "citizen", None).await;
    for i in 0..19 {
        let response =
            app.post("/login", "/login", &[("email", &format!("nan.nhan{i}@example.vn")), ("password", "đoán thử xem sao")]).await;
        assert_eq!(response.status(), 422, "guess {i}");
    }
    assert_eq!(app.login_with(&TestApp::new_client(), "ke.tan.cong@example.vn").await, "/account", "the attacker's own sign-in");
    let mut answers = Vec::new();
    for i in 19..22 {
        answers
            .push(app.post("/login", "/login", &[("email", &format!("nan.nhan{i}@example.vn")), ("password", "đoán tiếp")]).await.status());
    }
    assert_eq!(answers, [422, 422, 429], "the address's earlier failures still count");
}

#[tokio::test]
async fn parallel_guesses_cannot_all_pass_one_lock_check() {
    let app = TestApp::spawn().await;
    app.create_user("song.song@example.vn", "citizen", None).await;
    let (_, page) = app.get("/login").await;
    let token = csrf_in(&page);
    let guesses = (0..24).map(|i| {
        let request = app.client.post(format!("{}/login", app.base)).form(&[
            ("email", "song.song@example.vn".to_owned()),
            ("password", format!("đoán song song {i}")),
            ("csrf_token", token.clone()),
        ]);
        async move { request.send().await.unwrap().status().as_u16() }
    });
    let answers = join_all(guesses).await;
    let checked = answers.iter().filter(|s| **s == 422).count();
    assert!(answers.iter().all(|s| matches!(s, 422 | 429)), "{answers:?}");
    assert!(checked <= 6, "five failures are allowed and the sixth locks: {checked} passwords were checked ({answers:?})");
}

#[tokio::test]
async fn a_burst_of_sign_ins_never_runs_more_password_hashes_than_cores() {
    let app = TestApp::spawn_with(&[("NDP_TRUSTED_PROXIES", "127.0.0.1")]).await;
    let (_, page) = app.get("/login").await;
    let token = csrf_in(&page);
    let attempts = (0..40).map(|i| {
        let request = app.client.post(format!("{}/login", app.base)).header("x-forwarded-for", format!("198.51.100.{i}")).form(&[
            ("email", format!("dot.bien{i}@example.vn")),
            ("password", "mật khẩu không đúng".to_owned()),
            ("csrf_token", token.clone()),
        ]);
        async move {
            let response = request.send().await.unwrap();
            (response.status().as_u16(), response.headers().contains_key("retry-after"))
        }
    });
    let answers = join_all(attempts).await;
    assert!(answers.iter().all(|(s, retry)| *s == 422 || (*s == 503 && *retry)), "{answers:?}");
    let (_, metrics) = app.get("/metrics").await;
    let figure = |name: &str| -> u64 {
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{name} in {metrics}"))
    };
    let (slots, peak) = (figure("ndp_password_slots"), figure("ndp_password_slots_peak"));
    assert!(peak >= 1 && peak <= slots, "at most one hash per core at a time: peak {peak}, slots {slots}");
}

/// Sends a second-factor code from client address `addr` in `client`'s pending sign-in.
async fn second_factor_from(app: &TestApp, client: &reqwest::Client, addr: &str, code: &str) -> u16 {
    let (_, page) = app.get_with(client, "/login/second-factor").await;
    client
        .post(format!("{}/login/second-factor", app.base))
        .header("x-forwarded-for", addr)
        .form(&[("code", code), ("csrf_token", csrf_in(&page).as_str())])
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn typing_a_staff_address_elsewhere_never_locks_its_owner_out() {
    let app = TestApp::spawn_with(&[("NDP_TRUSTED_PROXIES", "127.0.0.1")]).await;
    app.create_user("quan.tri@mic.example.vn", "admin", None).await;
    let owner = TestApp::new_client();
    let secret = app.login_staff_with(&owner, "quan.tri@mic.example.vn").await;
    app.create_user("cong.dan@example.vn", "citizen", None).await;
    let attacker = TestApp::new_client();
    let mut last = 0;
    for _ in 0..8 {
        last = sign_in_from(&app, &attacker, "198.51.100.7", "quan.tri@mic.example.vn", "đoán mật khẩu").await.status().as_u16();
    }
    assert_eq!(last, 429, "the attacker's own address is locked for this account");

    // Someone who has the password cannot guess the second factor from many addresses.
    let mut answers = Vec::new();
    for i in 0..13 {
        let thief = TestApp::new_client();
        let addr = format!("198.51.100.{}", 100 + i);
        assert_eq!(sign_in_from(&app, &thief, &addr, "quan.tri@mic.example.vn", PASSWORD).await.status(), 303);
        answers.push(second_factor_from(&app, &thief, &addr, "000000").await);
    }
    assert!(answers[..10].iter().all(|s| *s == 422) && answers[12] == 429, "ten wrong codes lock the account's second factor: {answers:?}");

    // Many addresses, one guess each, lock the account as a whole.
    for i in 0..60 {
        for email in ["quan.tri@mic.example.vn", "cong.dan@example.vn"] {
            sign_in_from(&app, &attacker, &format!("192.0.2.{i}"), email, "đoán mật khẩu").await;
        }
    }
    let citizen = TestApp::new_client();
    let refused = sign_in_from(&app, &citizen, "203.0.113.20", "cong.dan@example.vn", PASSWORD).await;
    assert_eq!(refused.status(), 429, "a device that never signed in stays locked out everywhere");
    let new_device = TestApp::new_client();
    let refused = sign_in_from(&app, &new_device, "203.0.113.21", "quan.tri@mic.example.vn", PASSWORD).await;
    assert_eq!(refused.status(), 429, "so is a new device of the owner's");

    let response = sign_in_from(&app, &owner, "203.0.113.20", "quan.tri@mic.example.vn", PASSWORD).await;
    assert_eq!(response.status(), 303, "the owner's own device, from an address that has not failed, reaches the second factor");
    assert_eq!(response.headers()["location"], "/login/second-factor");
    let code = app.fresh_totp_code("quan.tri@mic.example.vn", &secret).await;
    assert_eq!(second_factor_from(&app, &owner, "203.0.113.20", &code).await, 303, "and signs in");
    assert_eq!(app.get_with(&owner, "/staff").await.0, 200);
}

// ---------------------------------------------------------------- 6. slow clients

/// A connection to `addr` from the loopback address `from` (127.0.0.2, …: distinct clients).
async fn connect_from(from: &str, addr: &str) -> tokio::net::TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(format!("{from}:0").parse().unwrap()).unwrap();
    socket.connect(addr.parse().unwrap()).await.unwrap()
}

/// Opens a connection from `from` that sends the start of a request header, then one byte a second.
async fn slow_connection(from: &str, addr: &str) -> tokio::net::TcpStream {
    let mut stream = connect_from(from, addr).await;
    stream.write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ").await.unwrap();
    stream
}

/// Whether the server closes `stream` within `within` (reading EOF or a reset), trickling a
/// header byte a second meanwhile.
async fn closed_within(mut stream: tokio::net::TcpStream, within: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + within;
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout(Duration::from_secs(1), stream.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => return true,
            Ok(Ok(_)) => {}
            Err(_) => {
                if stream.write_all(b"a").await.is_err() {
                    return true;
                }
            }
        }
        if tokio::time::Instant::now() > deadline {
            return false;
        }
    }
}

#[tokio::test]
async fn slow_clients_are_closed_while_ordinary_requests_are_served() {
    let app = TestApp::spawn_with(&[("NDP_MAX_CONNECTIONS", "16"), ("NDP_MAX_CONNECTIONS_PER_CLIENT", "4")]).await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut slow = Vec::new();
    for i in 0..24 {
        slow.push(slow_connection(&format!("127.0.0.{}", 2 + i % 6), &addr).await);
    }
    let watchers: Vec<_> = slow.into_iter().map(|s| tokio::spawn(closed_within(s, Duration::from_secs(90)))).collect();
    let patient = reqwest::Client::builder().timeout(Duration::from_secs(60)).build().unwrap();
    let ordinary = patient.get(format!("{}/healthz", app.base)).send().await.unwrap();
    assert_eq!(ordinary.status(), 200, "an ordinary request gets its page once slow ones are cut off");
    for watcher in watchers {
        assert!(watcher.await.unwrap(), "every slow connection is closed by the server");
    }
    let (idle, stalled) = tokio::join!(idle_connection_is_closed(&addr), stalled_body_is_answered(&app, &addr));
    assert!(idle, "a kept-alive connection that sends nothing more is closed");
    assert!(stalled.starts_with("HTTP/1.1 408"), "a body that stops arriving ends the request with 408: {stalled}");
}

/// Keeps a connection from `from` busy with a request every second until `stop`; whether the
/// server served it at all.
async fn keep_busy(from: String, addr: String, stop: std::sync::Arc<std::sync::atomic::AtomicBool>) -> bool {
    let mut stream = connect_from(&from, &addr).await;
    let mut buf = [0u8; 512];
    let mut served = false;
    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        if stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").await.is_err() {
            return served;
        }
        match tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => served = true,
            _ => return served,
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    served
}

#[tokio::test]
async fn one_client_cannot_hold_every_connection() {
    let app = TestApp::spawn_with(&[("NDP_MAX_CONNECTIONS", "16"), ("NDP_MAX_CONNECTIONS_PER_CLIENT", "4")]).await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let hogs: Vec<_> = (0..16).map(|_| tokio::spawn(keep_busy("127.0.0.9".into(), addr.clone(), stop.clone()))).collect();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let patient = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
    let ordinary = patient.get(format!("{}/healthz", app.base)).send().await.expect("served while one client keeps its connections busy");
    assert_eq!(ordinary.status(), 200);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut served = 0;
    for hog in hogs {
        served += usize::from(hog.await.unwrap());
    }
    assert_eq!(served, 4, "the client holds only its share of connections");
}

/// Sends one request, reads the whole answer, then waits for the server to close the connection.
async fn idle_connection_is_closed(addr: &str) -> bool {
    let mut idle = tokio::net::TcpStream::connect(addr).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").await.unwrap();
    let mut buf = [0u8; 512];
    let mut answer = Vec::new();
    while !answer.ends_with(b"\r\n\r\nok") {
        let n = idle.read(&mut buf).await.unwrap();
        assert!(n > 0, "the whole answer arrives: {}", String::from_utf8_lossy(&answer));
        answer.extend_from_slice(&buf[..n]);
    }
    matches!(tokio::time::timeout(Duration::from_secs(60), idle.read(&mut buf)).await, Ok(Ok(0) | Err(_)))
}

/// Sends a form's header and the start of its body, then nothing: the answer the server gives.
async fn stalled_body_is_answered(app: &TestApp, addr: &str) -> String {
    let form_page = TestApp::new_client().get(format!("{}/login", app.base)).send().await.unwrap();
    let cookie = form_page.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    let mut stalled = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookie}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 400\r\n\r\nemail=a"
    );
    stalled.write_all(head.as_bytes()).await.unwrap();
    let mut buf = [0u8; 512];
    let n = tokio::time::timeout(Duration::from_secs(60), stalled.read(&mut buf)).await.map_or(0, |r| r.unwrap_or(0));
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

// ---------------------------------------------------------------- 7. multipart without a token

#[tokio::test]
async fn multipart_posts_need_the_token_too() {
    let app = TestApp::spawn().await;
    let an = citizen(&app, "an@example.vn").await;
    let bare = reqwest::multipart::Form::new().text("x", "1");
    let response = an.post(format!("{}/logout", app.base)).multipart(bare).send().await.unwrap();
    assert_eq!(response.status(), 415, "a route that takes no upload refuses multipart");
    assert_eq!(app.get_with(&an, "/account").await.0, 200, "still signed in");

    app.create_user("dn@coccoc.example.vn", "enterprise", Some("coc-coc")).await;
    let enterprise = TestApp::new_client();
    app.login_with(&enterprise, "dn@coccoc.example.vn").await;
    let (_, page) = app.get_with(&enterprise, "/account/platforms/coc-coc/edit").await;
    let token = csrf_in(&page);
    let upload = |first: Option<&str>, last: Option<&str>| {
        let mut form = reqwest::multipart::Form::new();
        if let Some(t) = first {
            form = form.text("csrf_token", t.to_owned());
        }
        form = form.part("logo", reqwest::multipart::Part::bytes(b"not an image".to_vec()).file_name("a.png"));
        if let Some(t) = last {
            form = form.text("csrf_token", t.to_owned());
        }
        enterprise.post(format!("{}/account/platforms/coc-coc/logo", app.base)).multipart(form).send()
    };
    assert_eq!(upload(None, None).await.unwrap().status(), 403, "no token");
    assert_eq!(upload(None, Some(&token)).await.unwrap().status(), 403, "the token must come first");
    assert_eq!(upload(Some("forged"), None).await.unwrap().status(), 403, "a wrong token");
    let accepted = upload(Some(&token), None).await.unwrap();
    assert_eq!(accepted.status(), 303, "with the token first the upload reaches the handler");
    assert!(accepted.headers()["location"].to_str().unwrap().ends_with("logo_error=type"), "which reads the file after it");

    // Browsers write boundaries in mixed case, which must be kept as they are.
    let boundary = "----WebKitFormBoundaryAbCdEfGh12XyZ";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{token}\r\n--{boundary}\r\n\
         Content-Disposition: form-data; name=\"logo\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\nnot an image\r\n--{boundary}--\r\n"
    );
    let browser = enterprise
        .post(format!("{}/account/platforms/coc-coc/logo", app.base))
        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(browser.status(), 303, "a browser's mixed-case boundary");
}

// ---------------------------------------------------------------- also fixed

#[tokio::test]
async fn a_totp_secret_being_set_up_is_new_in_every_session() {
    let app = TestApp::spawn().await;
    app.create_user("hai.phien@mic.example.vn", "moderator", None).await;
    let secret_in = |page: &str| -> String {
        let start = page.find("id=\"totp-secret\">").expect("secret shown") + "id=\"totp-secret\">".len();
        page[start..].chars().take_while(|c| *c != '<').filter(|c| !c.is_whitespace()).collect()
    };
    let first = TestApp::new_client();
    app.login_with(&first, "hai.phien@mic.example.vn").await;
    let one = secret_in(&app.get_with(&first, "/account/security").await.1);
    assert_eq!(secret_in(&app.get_with(&first, "/account/security").await.1), one, "a reload keeps the scanned secret");
    let second = TestApp::new_client();
    app.login_with(&second, "hai.phien@mic.example.vn").await;
    let two = secret_in(&app.get_with(&second, "/account/security").await.1);
    assert_ne!(one, two, "another session gets another secret");
    let stale = ndp::auth::totp::code_at(&one, ndp::auth::totp::now_unix()).unwrap();
    assert_eq!(app.post_with(&second, "/account/security", "/account/security/totp", &[("code", &stale)]).await.status(), 422);
    let stored: Option<String> =
        sqlx::query_scalar("select totp_secret from users where email = 'hai.phien@mic.example.vn'").fetch_one(&app.pool).await.unwrap();
    assert!(stored.is_none(), "nothing is stored until set-up succeeds");
    let code = ndp::auth::totp::code_at(&two, ndp::auth::totp::now_unix()).unwrap();
    assert_eq!(app.post_with(&second, "/account/security", "/account/security/totp", &[("code", &code)]).await.status(), 200);
}

#[tokio::test]
async fn recovery_codes_carry_80_bits_and_are_stored_as_keyed_hashes() {
    let app = TestApp::spawn().await;
    app.create_user("khoi.phuc@mic.example.vn", "moderator", None).await;
    app.login_with(&app.client, "khoi.phuc@mic.example.vn").await;
    let (_, page) = app.get("/account/security").await;
    let start = page.find("id=\"totp-secret\">").unwrap() + "id=\"totp-secret\">".len();
    let secret: String = page[start..].chars().take_while(|c| *c != '<').filter(|c| !c.is_whitespace()).collect();
    let code = ndp::auth::totp::code_at(&secret, ndp::auth::totp::now_unix()).unwrap();
    let shown = app.post("/account/security", "/account/security/totp", &[("code", &code)]).await.text().await.unwrap();
    let codes: Vec<String> = shown.split("<li><code>").skip(1).map(|rest| rest.split('<').next().unwrap().to_owned()).collect();
    assert_eq!(codes.len(), 10);
    assert!(codes.iter().all(|c| c.len() == 19 && c.matches('-').count() == 3), "16 symbols of 5 bits: {codes:?}");
    let stored: Vec<String> = sqlx::query_scalar("select code_hash from user_recovery_codes").fetch_all(&app.pool).await.unwrap();
    assert!(codes.iter().all(|c| !stored.contains(&ndp::auth::token::digest(c))), "not bare SHA-256");

    let other = TestApp::new_client();
    app.login_with(&other, "khoi.phuc@mic.example.vn").await;
    let typed = codes[3].to_uppercase().replace('-', " ");
    let response = app.post_with(&other, "/login/second-factor", "/login/second-factor", &[("recovery_code", &typed)]).await;
    assert_eq!(response.status(), 303, "a code as typed by hand signs in");
}

#[tokio::test]
async fn mail_on_request_is_limited_per_recipient_and_per_address() {
    let app = TestApp::spawn().await;
    app.create_user("hop.thu@example.vn", "citizen", None).await;
    let (_, page) = app.get("/password/forgot").await;
    assert!(page.contains("tối đa 3 thư"), "the page says so");
    for _ in 0..5 {
        assert_eq!(app.post("/password/forgot", "/password/forgot", &[("email", "hop.thu@example.vn")]).await.status(), 303);
    }
    wait_until(Duration::from_secs(20), || async {
        count(&app, "select count(*) from mail_outbox where template = 'reset_password'").await >= 3
    })
    .await
    .unwrap();
    assert_eq!(count(&app, "select count(*) from mail_outbox where template = 'reset_password'").await, 3, "three a recipient per hour");
    // Asking for mails to an address without an account uses up nothing: its owner still gets
    // the link when registering.
    for _ in 0..3 {
        assert_eq!(app.post("/password/forgot", "/password/forgot", &[("email", "chua.co@example.vn")]).await.status(), 303);
    }
    let form = [
        ("account_type", "citizen"),
        ("email", "chua.co@example.vn"),
        ("password", PASSWORD),
        ("display_name", "Chưa Có"),
        ("consent", "yes"),
    ];
    assert_eq!(app.post("/register", "/register", &form).await.status(), 303);
    assert!(app.last_mail("chua.co@example.vn", "verify_email").await.contains("/verify-email/"));
    let mut last = 0;
    for i in 0..3 {
        last = app.post("/password/forgot", "/password/forgot", &[("email", &format!("khac{i}@example.vn"))]).await.status().as_u16();
    }
    assert_eq!(last, 429, "the eleventh request from one address in an hour is refused");
}

#[tokio::test]
async fn anonymous_form_pages_create_no_database_session() {
    let app = TestApp::spawn().await;
    app.create_user("vo.danh@example.vn", "citizen", None).await;
    let sessions = || count(&app, "select count(*) from tower_sessions.session");
    let before = sessions().await;
    let visitor = TestApp::new_client();
    for path in ["/login", "/register", "/password/forgot", "/login", "/register"] {
        let (status, page) = app.get_with(&visitor, path).await;
        assert!(status == 200 && !csrf_in(&page).is_empty(), "{path}");
    }
    assert_eq!(sessions().await, before, "showing forms stored no session");
    assert_eq!(app.login_with(&visitor, "vo.danh@example.vn").await, "/account", "the cookie's token works for the form");
    assert_eq!(sessions().await, before + 1, "signing in does");
}

#[tokio::test]
async fn csrf_tokens_are_masked_differently_in_every_response() {
    let app = TestApp::spawn().await;
    let first = csrf_in(&app.get("/password/forgot").await.1);
    let second = csrf_in(&app.get("/password/forgot").await.1);
    assert_ne!(first, second, "compression cannot find a repeated secret");
    for token in [first, second] {
        let response = app
            .client
            .post(format!("{}/password/forgot", app.base))
            .form(&[("email", "ai.do@example.vn"), ("csrf_token", token.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 303, "each masked form works");
    }
}

#[tokio::test]
async fn pages_for_a_signed_in_person_are_never_stored_by_caches() {
    let app = TestApp::spawn().await;
    let cache_control = |response: &reqwest::Response| response.headers().get("cache-control").map(|v| v.to_str().unwrap().to_owned());
    let public = app.get_response("/platforms/vneid").await;
    assert_ne!(cache_control(&public).as_deref(), Some("no-store"), "public pages stay cacheable for visitors");
    assert_eq!(cache_control(&app.get_response("/login").await).as_deref(), Some("no-store"), "sign-in carries a form secret");
    let an = citizen(&app, "an@example.vn").await;
    for path in ["/platforms/vneid", "/account", "/account/settings", "/"] {
        let response = an.get(format!("{}{path}", app.base)).send().await.unwrap();
        assert_eq!(cache_control(&response).as_deref(), Some("no-store"), "{path}");
    }
    let kd = moderator(&app, "kd@mic.example.vn").await;
    let staff = kd.get(format!("{}/staff/moderation", app.base)).send().await.unwrap();
    assert_eq!(cache_control(&staff).as_deref(), Some("no-store"));
    let page = app.get_with(&an, "/").await.1;
    let css = page.split("href=\"/static/").nth(1).and_then(|rest| rest.split('"').next()).expect("a stylesheet");
    let static_file = an.get(format!("{}/static/{css}", app.base)).send().await.unwrap();
    assert!(cache_control(&static_file).unwrap().contains("immutable"), "static files keep their long cache life");
}

#[tokio::test]
async fn metrics_answer_only_allowed_addresses() {
    let app = TestApp::spawn_with(&[("NDP_TRUSTED_PROXIES", "127.0.0.1"), ("NDP_METRICS_ALLOW", "10.1.2.3")]).await;
    let get = |forwarded: Option<&'static str>| {
        let mut request = app.client.get(format!("{}/metrics", app.base));
        if let Some(f) = forwarded {
            request = request.header("x-forwarded-for", f);
        }
        async move { request.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(get(None).await, 403, "loopback is not in this list");
    assert_eq!(get(Some("10.1.2.3")).await, 403, "nor is a request through a proxy, whatever address it names");
    let default = TestApp::spawn_with(&[]).await;
    assert_eq!(default.get("/metrics").await.0, 200, "a scraper on this host, by default");
    let through_proxy =
        default.client.get(format!("{}/metrics", default.base)).header("x-forwarded-for", "127.0.0.1").send().await.unwrap();
    assert_eq!(through_proxy.status(), 403, "a visitor behind a local proxy is not a local scraper");
}

#[tokio::test]
async fn forwarded_addresses_are_believed_only_from_trusted_proxies() {
    let last_login_addr = |app: &TestApp| {
        let pool = app.pool.clone();
        async move {
            sqlx::query_scalar::<_, Option<String>>(
                "select host(client_addr) from audit_events where action = 'login.succeeded' order by id desc limit 1",
            )
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };
    let direct = TestApp::spawn().await;
    direct.create_user("mot@example.vn", "citizen", None).await;
    assert_eq!(sign_in_from(&direct, &direct.client, "203.0.113.9", "mot@example.vn", PASSWORD).await.status(), 303);
    assert_eq!(last_login_addr(&direct).await.as_deref(), Some("127.0.0.1"), "without trusted proxies the header is ignored");

    let proxied = TestApp::spawn_with(&[("NDP_TRUSTED_PROXIES", "127.0.0.0/8")]).await;
    proxied.create_user("hai@example.vn", "citizen", None).await;
    assert_eq!(sign_in_from(&proxied, &proxied.client, "6.6.6.6, 203.0.113.9", "hai@example.vn", PASSWORD).await.status(), 303);
    assert_eq!(last_login_addr(&proxied).await.as_deref(), Some("203.0.113.9"), "the right-most untrusted hop");
}

#[tokio::test]
async fn an_enterprise_account_waiting_for_approval_cannot_rate_or_flag_its_own_platform() {
    let app = TestApp::spawn().await;
    sqlx::query("update enterprises set tax_code = '0312345678' where slug = 'coc-coc'").execute(&app.pool).await.unwrap();
    let form = [
        ("account_type", "enterprise"),
        ("email", "nhan.vien@coccoc.example.vn"),
        ("password", PASSWORD),
        ("display_name", "Nhân viên Cốc Cốc"),
        ("enterprise_name", "Công ty TNHH Cốc Cốc"),
        ("tax_code", "0312345678"),
        ("consent", "yes"),
    ];
    assert_eq!(app.post("/register", "/register", &form).await.status(), 303);
    let link = link_in(&app.last_mail("nhan.vien@coccoc.example.vn", "verify_email").await);
    assert_eq!(app.post("/register", &link, &[]).await.status(), 200);
    sqlx::query("update users set created_at = now() - interval '3 days' where email = 'nhan.vien@coccoc.example.vn'")
        .execute(&app.pool)
        .await
        .unwrap();
    app.login_with(&app.client, "nhan.vien@coccoc.example.vn").await;
    let response = rate(&app, &app.client, "coc-coc", "5", "").await;
    assert_eq!(response.status(), 409);
    assert!(response.text().await.unwrap().contains("không tự đánh giá"));
    assert_eq!(count(&app, "select count(*) from ratings").await, 0);

    let an = citizen(&app, "an@example.vn").await;
    assert_eq!(rate(&app, &an, "coc-coc", "2", "Chậm quá").await.status(), 303);
    let kd = moderator(&app, "kd@mic.example.vn").await;
    let id = one_id(&app, "select id from ratings where comment = 'Chậm quá'").await;
    assert_eq!(decide(&app, &kd, "rating", id, &[("action", "approve")]).await.status(), 303);
    let flag = app.post("/platforms/coc-coc", &format!("/flags/rating/{id}"), &[("reason", "false_information")]).await;
    assert_eq!(flag.status(), 409);
    assert_eq!(count(&app, "select count(*) from flags").await, 0);
}

#[tokio::test]
async fn rotating_the_secret_key_keeps_two_step_sign_in_and_removes_recovery_codes() {
    let app = TestApp::spawn().await;
    app.create_user("xoay.khoa@mic.example.vn", "moderator", None).await;
    let secret = app.login_staff_with(&app.client, "xoay.khoa@mic.example.vn").await;
    let stored = || async {
        sqlx::query_scalar::<_, String>("select totp_secret from users where email = 'xoay.khoa@mic.example.vn'")
            .fetch_one(&app.pool)
            .await
            .unwrap()
    };
    let before = stored().await;
    let old = ndp::auth::Keys::load(None, app.data_dir()).unwrap();
    let new = ndp::auth::Keys::from_secret("khoá bí mật mới của cổng");
    let wrong = ndp::auth::Keys::from_secret("không phải khoá cũ");
    assert!(ndp::accounts::rotate_secret(&app.pool, &wrong, &new).await.is_err(), "a wrong old key is refused");
    assert_eq!(stored().await, before, "and changes nothing");
    assert_eq!(count(&app, "select count(*) from user_recovery_codes").await, 10);

    let report = ndp::accounts::rotate_secret(&app.pool, &old, &new).await.unwrap();
    assert_eq!((report.totp_secrets, report.recovery_codes), (1, 10));
    assert_eq!(new.open(&stored().await).unwrap(), secret, "the same authenticator app keeps working with the new key");
    assert_eq!(count(&app, "select count(*) from user_recovery_codes").await, 0);
    assert_eq!(count(&app, "select count(*) from audit_events where action = 'secret.rotated'").await, 1);
}

#[tokio::test]
async fn a_request_id_is_always_the_portals_own() {
    let app = TestApp::spawn().await;
    let response = app.client.get(format!("{}/khong-co", app.base)).header("x-request-id", "forged\" id").send().await.unwrap();
    let id = response.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_ne!(id, "forged\" id");
    assert!(response.text().await.unwrap().contains(&id), "the error page shows the portal's id");
}
