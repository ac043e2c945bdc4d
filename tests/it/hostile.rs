//! Hostile, malformed and oversized input on every account, enterprise, staff and citizen form:
//! each answer is a 4xx page (or the form again), never a 500, and nothing is stored.

use crate::common::{TestApp, csrf_in};

/// Rows in every table a form could write to.
async fn stored(app: &TestApp) -> i64 {
    sqlx::query_scalar(
        "select (select count(*) from ratings) + (select count(*) from feedback) + (select count(*) from questions)
              + (select count(*) from answers) + (select count(*) from replies) + (select count(*) from revisions)
              + (select count(*) from monthly_reports) + (select count(*) from flags) + (select count(*) from appeals)
              + (select count(*) from moderation_terms) + (select count(*) from users)",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn hostile_input_on_every_form_gets_a_clear_4xx_and_stores_nothing() {
    let app = TestApp::spawn().await;
    let admin = TestApp::new_client();
    app.create_user("qt@mic.example.vn", "admin", None).await;
    app.login_staff_with(&admin, "qt@mic.example.vn").await;
    app.create_user("dn@coccoc.example.vn", "enterprise", Some("coc-coc")).await;
    let enterprise = TestApp::new_client();
    app.login_with(&enterprise, "dn@coccoc.example.vn").await;
    let citizen = TestApp::new_client();
    let id = app.create_user("dan@example.vn", "citizen", None).await;
    sqlx::query("update users set created_at = now() - interval '3 days' where id = $1").bind(id).execute(&app.pool).await.unwrap();
    app.login_with(&citizen, "dan@example.vn").await;
    let before = stored(&app).await;

    let nul = "a\u{0}b";
    let huge = "x".repeat(300 * 1024);
    let long = "Dài ".repeat(3000);
    let today = time::OffsetDateTime::now_utc().date();
    let last = ndp::db::reports::period_text(ndp::db::reports::previous_period(ndp::db::reports::period_of(today)));
    let report = format!("/account/platforms/coc-coc/reports/{last}");
    type Case<'a> = (&'a reqwest::Client, &'a str, Vec<(&'a str, &'a str)>, &'a str);
    let cases: Vec<Case<'_>> = vec![
        (&admin, "/login", vec![("email", nul), ("password", "x")], "NUL in the sign-in email"),
        (
            &admin,
            "/register",
            vec![("account_type", "citizen"), ("email", "a@b.vn"), ("password", nul), ("display_name", nul)],
            "NUL in registration",
        ),
        (&admin, "/password/forgot", vec![("email", nul)], "NUL in the reset email"),
        (&citizen, "/platforms/vneid/ratings", vec![("stars", "5 OR 1=1"), ("comment", "x")], "stars that are not a number"),
        (&citizen, "/platforms/vneid/ratings", vec![("stars", "4"), ("comment", nul)], "NUL in a comment"),
        (&citizen, "/platforms/vneid/ratings", vec![("stars", "4"), ("comment", long.as_str())], "a comment over the limit"),
        (&citizen, "/platforms/vneid/feedback", vec![("body", nul)], "NUL in feedback"),
        (&citizen, "/platforms/vneid/feedback", vec![("body", "   ")], "blank feedback"),
        (&citizen, "/flags/rating/999999", vec![("reason", "spam")], "a flag on nothing"),
        (&citizen, "/flags/rating/1", vec![("reason", "<script>")], "a flag with an unknown reason"),
        (&citizen, "/flags/table/1", vec![("reason", "spam")], "a flag on an unknown kind"),
        (&citizen, "/account/appeals/rating/999999", vec![("body", "x")], "an appeal on nothing"),
        (&citizen, "/qa/ask", vec![("title", nul), ("body", nul), ("platform", nul)], "NUL in a question"),
        (&citizen, "/qa/ask", vec![("title", long.as_str()), ("body", "x")], "a title over the limit"),
        (&citizen, "/qa/999999/answers", vec![("body", "x")], "an answer to nothing"),
        (&citizen, "/qa/1/accept", vec![("answer_id", "not-a-number")], "a malformed answer id"),
        (
            &enterprise,
            "/account/platforms/coc-coc/edit",
            vec![("name", nul), ("action", "submit"), ("base_platform", "x")],
            "NUL in a listing",
        ),
        (
            &enterprise,
            "/account/platforms/coc-coc/edit",
            vec![("name", "A"), ("action", "submit"), ("base_platform", "not-a-time")],
            "a forged form base",
        ),
        (&enterprise, "/account/platforms/new", vec![("name", nul), ("kind", "'; drop table platforms; --")], "a hostile dossier"),
        (&enterprise, report.as_str(), vec![("users", "1e99"), ("notes", nul)], "hostile report figures"),
        (&enterprise, "/account/platforms/khong-co/reports/2020-01", vec![("users", "1")], "a report on an unknown platform"),
        (&enterprise, "/account/platforms/coc-coc/reports/2020-13", vec![("users", "1")], "a report on a month that does not exist"),
        (&enterprise, "/account/replies/rating/999999", vec![("body", "x")], "a reply to nothing"),
        (&admin, "/staff/blocklist", vec![("add", nul)], "NUL in a blocklist term"),
        (&admin, "/staff/blocklist", vec![("add", long.as_str())], "a blocklist term over the limit"),
        (&admin, "/staff/users/999999/role", vec![("role", "admin")], "a role for nobody"),
        (&admin, "/staff/users/1/role", vec![("role", nul)], "NUL in a role"),
        (&admin, "/staff/enterprises/999999/approve", vec![("enterprise", nul)], "approving nobody"),
        (&admin, "/staff/moderation/rating/999999", vec![("action", "approve")], "deciding nothing"),
        (&admin, "/staff/revisions/999999/reject", vec![("reason", "other"), ("note", nul)], "rejecting nothing"),
        (&admin, "/account/settings/email", vec![("email", nul), ("current_password", nul)], "NUL in an email change"),
        (&admin, "/platforms/vneid/ratings", vec![("stars", "4"), ("comment", huge.as_str())], "a body over the form limit"),
    ];
    let mut wrong = Vec::new();
    for (client, path, fields, why) in cases {
        let (_, page) = app.get_with(client, "/account").await;
        let token = csrf_in(&page);
        let mut all = fields.clone();
        all.push(("csrf_token", &token));
        let response = client.post(format!("{}{path}", app.base)).form(&all).send().await.unwrap();
        let status = response.status().as_u16();
        if !(400..500).contains(&status) {
            wrong.push(format!("{why}: POST {path} answered {status}"));
        }
    }
    for path in [
        "/account/platforms/a%00b/edit",
        "/staff/users?q=a%00b",
        "/staff/audit?actor=a%00b",
        "/staff/moderation?platform=a%00b",
        "/qa/%00",
        "/staff/audit?before_id=x",
    ] {
        let status = app.get_with(&admin, path).await.0;
        if status >= 500 {
            wrong.push(format!("GET {path} answered {status}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert_eq!(stored(&app).await, before, "nothing was stored");
}
