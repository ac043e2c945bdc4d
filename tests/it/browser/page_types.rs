//! Every type of page the portal shows, with an example of each: the list the accessibility, HTML
//! and screenshot checks walk through. A new page type is one line here.

use crate::common::{PASSWORD, TestApp, link_in, wait_until};
use crate::enterprise::{edit_fields, enterprise_client, post_fields};

/// One example of a page type.
pub struct PageType {
    /// A short name for reports and file names.
    pub name: &'static str,
    /// Path and query, without `lang`.
    pub path: &'static str,
}

const fn page(name: &'static str, path: &'static str) -> PageType {
    PageType { name, path }
}

/// The public pages (signed out), from the seeded database plus [`arrange`].
pub const PUBLIC: &[PageType] = &[
    page("home", "/"),
    page("catalogue", "/platforms"),
    page("catalogue-page-2", "/platforms?page=2"),
    page("catalogue-filtered", "/platforms?q=hoc&kind=citizen_serving&need=hoc-tap&sort=name"),
    page("catalogue-empty", "/platforms?q=khongcogiday&status=revoked"),
    page("platform-national", "/platforms/dia-chi-so-quoc-gia"),
    page("platform-recognised", "/platforms/coc-coc"),
    page("platform-history", "/platforms/coc-coc/history"),
    page("search", "/search?q=suc+khoe"),
    page("search-no-query", "/search"),
    page("search-nothing-found", "/search?q=khongcogiday"),
    page("search-about", "/search/about"),
    page("agencies", "/agencies"),
    page("agency", "/agencies/bo-thong-tin-va-truyen-thong"),
    page("enterprises", "/enterprises"),
    page("enterprise", "/enterprises/tong-cong-ty-buu-dien-viet-nam"),
    page("documents", "/documents"),
    page("document", "/documents/578-qd-btttt-2022"),
    page("news", "/news"),
    page("news-item", "/news/cong-thong-tin-mo-phien-ban-thu-nghiem"),
    page("recognitions", "/recognitions"),
    page("recognition", "/recognitions/cong-nhan-coc-coc-2022"),
    page("qa", "/qa"),
    page("qa-question", "/qa/{question}"),
    page("moderation-report", "/moderation-report"),
    page("not-found", "/platforms/khong-co"),
];

/// The account forms a signed-out visitor uses. `{reset}` is a password reset link's token.
pub const SIGNED_OUT_FORMS: &[PageType] = &[
    page("login", "/login"),
    page("register", "/register"),
    page("password-forgot", "/password/forgot"),
    page("password-reset", "/password/reset/{reset}"),
];

/// The page between the password and the signed-in session of an account with TOTP: it only
/// opens for a session that has passed the password step.
pub const SECOND_FACTOR: PageType = page("second-factor", "/login/second-factor");

/// What each role sees when signed in. `{period}` is last month (`YYYY-MM`), `{revision}` a
/// revision waiting for review; `{question}`, `{held}` and `{appealed}` are made by
/// [`arrange_opinions`].
pub const SIGNED_IN: &[(Role, &[PageType])] = &[
    (
        Role::Citizen,
        &[
            page("citizen-account", "/account"),
            page("citizen-settings", "/account/settings"),
            page("citizen-security", "/account/security"),
            page("citizen-delete", "/account/delete"),
            page("citizen-platform", "/platforms/coc-coc"),
            page("citizen-platform-unrated", "/platforms/vneid"),
            page("qa-ask", "/qa/ask"),
            page("qa-question-asker", "/qa/{question}"),
        ],
    ),
    (
        Role::Enterprise,
        &[
            page("enterprise-account", "/account"),
            page("listing-edit", "/account/platforms/coc-coc/edit"),
            page("platform-new", "/account/platforms/new"),
            page("reports", "/account/reports"),
            page("report-form", "/account/platforms/coc-coc/reports/{period}"),
            page("enterprise-opinions", "/account/opinions"),
            page("enterprise-own-platform", "/platforms/coc-coc"),
        ],
    ),
    (
        Role::Moderator,
        &[
            page("staff-home", "/staff"),
            page("staff-revisions", "/staff/revisions"),
            page("staff-revision", "/staff/revisions/{revision}"),
            page("staff-enterprises", "/staff/enterprises"),
            page("staff-reports", "/staff/reports"),
            page("moderation-queue", "/staff/moderation"),
            page("moderation-queue-filtered", "/staff/moderation?kind=feedback"),
            page("moderation-held", "/staff/moderation/feedback/{held}"),
            page("moderation-appealed", "/staff/moderation/feedback/{appealed}"),
            page("qa-question-moderator", "/qa/{question}"),
        ],
    ),
    (Role::Admin, &[page("staff-users", "/staff/users"), page("staff-audit", "/staff/audit"), page("blocklist", "/staff/blocklist")]),
];

/// The accounts [`arrange`] creates, one per role.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Role {
    Citizen,
    Enterprise,
    Moderator,
    Admin,
}

impl Role {
    /// The account's email; its password is `common::PASSWORD`.
    pub fn email(self) -> &'static str {
        match self {
            Self::Citizen => "binh.tran@example.vn",
            Self::Enterprise => "bientap@coccoc.example.vn",
            Self::Moderator => "kiemduyet@mic.example.vn",
            Self::Admin => "quantri@mic.example.vn",
        }
    }

    /// Staff sign in with a TOTP code after the password.
    pub fn is_staff(self) -> bool {
        matches!(self, Self::Moderator | Self::Admin)
    }
}

/// What [`arrange`] made, for the pages whose address depends on it.
pub struct Arranged {
    /// A password reset token of the citizen.
    pub reset: String,
    /// A revision (of Vexere's listing) waiting for review.
    pub revision: i64,
    /// Last month, `YYYY-MM`: the month an enterprise reports on now.
    pub period: String,
    /// TOTP secrets of the staff accounts.
    pub secrets: Vec<(Role, String)>,
    /// A signed-in HTTP client for each role.
    pub clients: Vec<(Role, reqwest::Client)>,
    /// What citizens said, and what the moderators did with it.
    pub opinions: ArrangedOpinions,
}

/// The ids [`arrange_opinions`] hands out.
#[derive(Default)]
pub struct ArrangedOpinions {
    /// A published question with answers, one marked helpful, in the FAQ.
    pub question: i64,
    /// Feedback held for a phone number: the item page offers to edit it out.
    pub held: i64,
    /// Rejected feedback whose author appealed.
    pub appealed: i64,
}

impl Arranged {
    /// A path with its placeholders filled in.
    pub fn path(&self, path: &str) -> String {
        path.replace("{reset}", &self.reset)
            .replace("{revision}", &self.revision.to_string())
            .replace("{period}", &self.period)
            .replace("{question}", &self.opinions.question.to_string())
            .replace("{held}", &self.opinions.held.to_string())
            .replace("{appealed}", &self.opinions.appealed.to_string())
    }

    /// The TOTP secret of a staff account.
    pub fn secret(&self, role: Role) -> &str {
        self.secrets.iter().find(|(r, _)| *r == role).map(|(_, s)| s.as_str()).expect("a staff role")
    }

    /// The signed-in HTTP client of a role.
    pub fn client(&self, role: Role) -> &reqwest::Client {
        self.clients.iter().find(|(r, _)| *r == role).map(|(_, c)| c).expect("a client per role")
    }
}

/// Adds what the seed lacks for every page type to have an example: a news item (the reference
/// facts hold none) whose body uses the Markdown the editors will use; an account per role (staff
/// with TOTP set up); an approved edit of Cốc Cốc's listing (for its history), an edit of Vexere's
/// waiting for review, an enterprise account waiting for approval and a password reset link.
pub async fn arrange(app: &TestApp) -> Arranged {
    sqlx::query("insert into news (slug, title, summary, body, published_at) values ($1, $2, $3, $4, now() - interval '1 day')")
        .bind("cong-thong-tin-mo-phien-ban-thu-nghiem")
        .bind("Cổng thông tin nền tảng số quốc gia mở phiên bản thử nghiệm")
        .bind("Người dân và doanh nghiệp có thể tra cứu danh mục nền tảng số quốc gia.")
        .bind(
            "## Có gì mới\n\nDanh mục gồm các **nền tảng số quốc gia** và nền tảng phục vụ người dân.\n\n\
         - Tra cứu theo nhóm nhu cầu\n- Xem cơ quan chủ quản và doanh nghiệp\n\n\
         Xem [danh mục](/platforms).",
        )
        .execute(&app.pool)
        .await
        .expect("insert a news item");

    let citizen = TestApp::new_client();
    let citizen_id = app.create_user(Role::Citizen.email(), "citizen", None).await;
    age_account(app, citizen_id).await;
    app.login_with(&citizen, Role::Citizen.email()).await;
    let enterprise = enterprise_client(app, Role::Enterprise.email(), "coc-coc").await;
    let mut secrets = Vec::new();
    let mut clients = vec![(Role::Citizen, citizen), (Role::Enterprise, enterprise.clone())];
    for (role, name) in [(Role::Moderator, "moderator"), (Role::Admin, "admin")] {
        app.create_user(role.email(), name, None).await;
        let client = TestApp::new_client();
        secrets.push((role, app.login_staff_with(&client, role.email()).await));
        clients.push((role, client));
    }
    let moderator = &clients[2].1;

    let approved =
        submit_edit(app, &enterprise, "coc-coc", "Trình duyệt web và công cụ tìm kiếm của người Việt, bảo vệ trẻ em khi lướt web").await;
    let path = format!("/staff/revisions/{approved}");
    let response = app.post_with(moderator, &path, &format!("{path}/approve"), &[]).await;
    assert_eq!(response.status(), 303, "the moderator approves the edit");
    let vexere = enterprise_client(app, "bientap@vexere.example.vn", "vexere").await;
    let revision = submit_edit(app, &vexere, "vexere", "Đặt vé xe khách, tàu hoả và máy bay trực tuyến trên cả nước").await;

    let registration = [
        ("account_type", "enterprise"),
        ("email", "canbo@thunghiem.example.vn"),
        ("password", PASSWORD),
        ("display_name", "Lê Văn Cường"),
        ("enterprise_name", "Công ty Cổ phần Công nghệ Thử Nghiệm"),
        ("tax_code", "0312345678"),
        ("consent", "yes"),
    ];
    assert_eq!(app.post("/register", "/register", &registration).await.status(), 303, "an enterprise account waits for approval");

    let forgot = app.post_with(&TestApp::new_client(), "/password/forgot", "/password/forgot", &[("email", Role::Citizen.email())]).await;
    assert_eq!(forgot.status(), 303, "a reset link is sent");
    // The reset mail is queued by a background task, so the answer's timing tells nothing.
    let queued = wait_until(std::time::Duration::from_secs(10), || async {
        sqlx::query_scalar::<_, bool>("select exists (select 1 from mail_outbox where template = 'reset_password')")
            .fetch_one(&app.pool)
            .await
            .expect("query")
    })
    .await;
    assert!(queued.is_ok(), "the reset mail is queued");
    let link = link_in(&app.last_mail(Role::Citizen.email(), "reset_password").await);
    let reset = link.rsplit('/').next().expect("token").to_owned();

    let today = time::OffsetDateTime::now_utc().to_offset(ndp::db::reports::VIETNAM).date();
    let period = ndp::db::reports::period_text(ndp::db::reports::previous_period(ndp::db::reports::period_of(today)));
    let mut arranged = Arranged { reset, revision, period, secrets, clients, opinions: ArrangedOpinions::default() };
    arranged.opinions = arrange_opinions(app, &arranged).await;
    arranged
}

/// Makes an account older than a day, so that its stars publish at once (younger accounts are
/// held by the `new_account` rule).
pub async fn age_account(app: &TestApp, user_id: i64) {
    sqlx::query("update users set created_at = now() - interval '3 days' where id = $1")
        .bind(user_id)
        .execute(&app.pool)
        .await
        .expect("age the account");
}

/// What citizens say and the moderators do, for the pages of issue 5: on Cốc Cốc a published
/// rating with a comment (the citizen's own), another one waiting for an enterprise reply, and
/// published feedback with the enterprise's published reply; feedback on VNeID rejected without
/// an appeal (the citizen's, so `/account` offers the appeal form), rejected and appealed (a
/// second citizen's), and held for a phone number; a question about Cốc Cốc answered by a
/// moderator and by the enterprise, marked helpful and in the FAQ. Ten posts at most: the limit
/// per client address.
async fn arrange_opinions(app: &TestApp, arranged: &Arranged) -> ArrangedOpinions {
    let (citizen, enterprise, moderator) =
        (arranged.client(Role::Citizen), arranged.client(Role::Enterprise), arranged.client(Role::Moderator));
    let an_id = app.create_user("an.nguyen@example.vn", "citizen", None).await;
    age_account(app, an_id).await;
    let an = TestApp::new_client();
    app.login_with(&an, "an.nguyen@example.vn").await;

    let post = |client: &reqwest::Client, path: String, fields: Vec<(&'static str, String)>| {
        let client = client.clone();
        async move {
            let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let response = app.post_with(&client, "/qa", &path, &fields).await;
            assert_eq!(response.status(), 303, "POST {path}: {}", response.text().await.unwrap_or_default());
        }
    };
    let text = |s: &str| s.to_owned();
    let decide = |kind: &'static str, id: i64, fields: Vec<(&'static str, String)>| {
        post(moderator, format!("/staff/moderation/{kind}/{id}"), fields)
    };

    post(
        citizen,
        text("/platforms/coc-coc/ratings"),
        vec![("stars", text("4")), ("comment", text("Chặn quảng cáo tốt, giao diện dễ dùng."))],
    )
    .await;
    post(
        &an,
        text("/platforms/coc-coc/ratings"),
        vec![("stars", text("2")), ("comment", text("Hay bị treo khi mở nhiều thẻ trên máy cũ."))],
    )
    .await;
    post(&an, text("/platforms/coc-coc/feedback"), vec![("body", text("Nên có chế độ đọc to cho người khiếm thị."))]).await;
    post(citizen, text("/platforms/vneid/feedback"), vec![("body", text("Ứng dụng này chán quá, không nói thêm."))]).await;
    post(&an, text("/platforms/vneid/feedback"), vec![("body", text("Cần thêm hướng dẫn cho người cao tuổi."))]).await;
    post(&an, text("/platforms/vneid/feedback"), vec![("body", text("Đăng nhập lỗi, gọi tôi theo số 0912 345 678."))]).await;

    let rating = |email: &'static str| id_of(app, "select r.id from ratings r join users u on u.id = r.user_id where u.email = $1", email);
    let feedback = |body: &'static str| id_of(app, "select id from feedback where body like $1", body);
    for id in [rating(Role::Citizen.email()).await, rating("an.nguyen@example.vn").await] {
        decide("rating", id, vec![("action", text("approve"))]).await;
    }
    let suggestion = feedback("Nên có chế độ đọc to%").await;
    decide("feedback", suggestion, vec![("action", text("approve"))]).await;
    post(
        enterprise,
        format!("/account/replies/feedback/{suggestion}"),
        vec![("body", text("Cảm ơn góp ý, tính năng đọc to sẽ có trong bản sau."))],
    )
    .await;
    let reply = id_of(app, "select id from replies where body like $1", "Cảm ơn góp ý%").await;
    decide("reply", reply, vec![("action", text("approve"))]).await;
    let rude = feedback("Ứng dụng này chán quá%").await;
    decide(
        "feedback",
        rude,
        vec![("action", text("reject")), ("reason", text("off_topic")), ("note", text("Hãy nêu cụ thể điều cần cải thiện."))],
    )
    .await;
    let appealed = feedback("Cần thêm hướng dẫn%").await;
    decide("feedback", appealed, vec![("action", text("reject")), ("reason", text("spam")), ("note", String::new())]).await;
    post(&an, format!("/account/appeals/feedback/{appealed}"), vec![("body", text("Đây là góp ý thật, không phải quảng cáo."))]).await;
    let held = feedback("Đăng nhập lỗi%").await;

    post(
        citizen,
        text("/qa/ask"),
        vec![
            ("title", text("Cốc Cốc có chặn quảng cáo không?")),
            ("body", text("Tôi muốn biết cách bật chặn quảng cáo trên điện thoại.")),
            ("platform", text("coc-coc")),
        ],
    )
    .await;
    let question = id_of(app, "select id from questions where title like $1", "Cốc Cốc có chặn%").await;
    decide("question", question, vec![("action", text("approve"))]).await;
    post(moderator, format!("/qa/{question}/answers"), vec![("body", text("Có. Xem hướng dẫn của doanh nghiệp bên dưới."))]).await;
    post(enterprise, format!("/qa/{question}/answers"), vec![("body", text("Có, trong Cài đặt > Chặn quảng cáo, bật “Chặn quảng cáo”."))])
        .await;
    let answer = id_of(app, "select id from answers where body like $1", "Có, trong Cài đặt%").await;
    decide("answer", answer, vec![("action", text("approve"))]).await;
    post(citizen, format!("/qa/{question}/accept"), vec![("answer_id", answer.to_string())]).await;
    post(moderator, format!("/qa/{question}/faq"), vec![("faq", text("yes"))]).await;
    ArrangedOpinions { question, held, appealed }
}

/// The id a query with one text parameter finds.
async fn id_of(app: &TestApp, sql: &str, value: &str) -> i64 {
    sqlx::query_scalar(sql).bind(value).fetch_one(&app.pool).await.unwrap_or_else(|e| panic!("{sql} ({value}): {e}"))
}

/// Submits an edit of a listing's summary through the edit form; returns the revision's id.
async fn submit_edit(app: &TestApp, client: &reqwest::Client, slug: &str, summary: &str) -> i64 {
    let edit = format!("/account/platforms/{slug}/edit");
    let (_, page) = app.get_with(client, &edit).await;
    let response = post_fields(app, client, &edit, &edit_fields(&page, &[("summary", summary)], "submit")).await;
    assert_eq!(response.status(), 303, "the edit of {slug} is submitted");
    sqlx::query_scalar("select r.id from revisions r join platforms p on p.id = r.platform_id where p.slug = $1 order by r.id desc limit 1")
        .bind(slug)
        .fetch_one(&app.pool)
        .await
        .expect("the revision")
}

/// `path` with `lang=<code>` added to its query.
pub fn with_lang(path: &str, lang: &str) -> String {
    let sep = if path.contains('?') { '&' } else { '?' };
    format!("{path}{sep}lang={lang}")
}
