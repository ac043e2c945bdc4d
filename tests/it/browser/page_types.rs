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
/// revision waiting for review.
pub const SIGNED_IN: &[(Role, &[PageType])] = &[
    (
        Role::Citizen,
        &[
            page("citizen-account", "/account"),
            page("citizen-settings", "/account/settings"),
            page("citizen-security", "/account/security"),
            page("citizen-delete", "/account/delete"),
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
        ],
    ),
    (Role::Admin, &[page("staff-users", "/staff/users"), page("staff-audit", "/staff/audit")]),
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
}

impl Arranged {
    /// A path with its placeholders filled in.
    pub fn path(&self, path: &str) -> String {
        path.replace("{reset}", &self.reset).replace("{revision}", &self.revision.to_string()).replace("{period}", &self.period)
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
    app.create_user(Role::Citizen.email(), "citizen", None).await;
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
    Arranged { reset, revision, period, secrets, clients }
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
