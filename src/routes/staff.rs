//! The staff area: listing revisions under review, enterprise account approvals, users and roles,
//! the audit log, and who has not reported their monthly figures. Every decision is audited.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse as _, Response};
use axum_extra::extract::Form;
use serde::Deserialize;
use time::OffsetDateTime;

use crate::auth::session::set_flash;
use crate::db::audit::{self, Event, EventRow};
use crate::db::ids::UserId;
use crate::db::outbox::{self, Mail};
use crate::db::registrations;
use crate::db::reports::{self, Missing, Report, VIETNAM};
use crate::db::revisions::{self, DecideRefused, QueueItem, Revision};
use crate::db::users::{self, Listed};
use crate::domain::account::{Role, Status};
use crate::domain::listing::{Change, Listing, RevisionState};
use crate::domain::registration::Dossier;
use crate::error::{AppError, AppResult};
use crate::extract::{Admin, Layout, Moderator, PageCtx, Staff};
use crate::routes::form::see_other;
use crate::state::AppState;

#[derive(Template, WebTemplate)]
#[template(path = "staff/home.html")]
pub struct StaffHome {
    layout: Layout,
    role: Role,
    revisions: i64,
    accounts: i64,
}

impl StaffHome {
    fn moderates(&self) -> bool {
        self.role.can_moderate()
    }
    fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

/// `GET /staff`.
pub async fn staff_home(PageCtx(layout): PageCtx, State(state): State<AppState>, Staff(user): Staff) -> AppResult<StaffHome> {
    let (revisions, accounts) = revisions::waiting(&state.pool).await?;
    Ok(StaffHome { layout, role: user.role, revisions, accounts })
}

#[derive(Template, WebTemplate)]
#[template(path = "staff/revisions.html")]
pub struct RevisionsPage {
    layout: Layout,
    items: Vec<QueueItem>,
}

/// `GET /staff/revisions`: submitted revisions and registrations, oldest first.
pub async fn list_revisions(
    PageCtx(layout): PageCtx,
    State(state): State<AppState>,
    Moderator(user): Moderator,
) -> AppResult<RevisionsPage> {
    Ok(RevisionsPage { layout, items: revisions::queue(&state.pool, user.id()).await? })
}

#[derive(Template, WebTemplate)]
#[template(path = "staff/revision.html")]
pub struct RevisionPage {
    layout: Layout,
    revision: Revision,
    platform: Option<(String, String)>,
    enterprise: Option<String>,
    changes: Vec<Change>,
    dossier: Option<Dossier>,
    error: Option<&'static str>,
}

impl RevisionPage {
    fn is_open(&self) -> bool {
        self.revision.state == RevisionState::Submitted
    }
    fn reasons(&self) -> [&'static str; 4] {
        REJECT_REASONS
    }
}

/// Reasons a moderator picks from when rejecting (each a translation key `reject.<reason>`).
const REJECT_REASONS: [&str; 4] = ["incomplete", "inaccurate", "not_owner", "other"];

async fn revision_page(state: &AppState, layout: Layout, id: i64, error: Option<&'static str>) -> AppResult<RevisionPage> {
    let revision = revisions::find(&state.pool, id).await?.ok_or(AppError::NotFound)?;
    let enterprise = match revision.enterprise_id {
        Some(e) => revisions::enterprise_name(&state.pool, e).await?,
        None => None,
    };
    let is_registration = revision.proposed.get("potential_users").is_some();
    let (platform, changes, dossier) = match (revision.platform_id, is_registration) {
        (Some(pid), false) => {
            let platform = revisions::platform_ref(&state.pool, pid).await?;
            let proposed: Listing = serde_json::from_value(revision.proposed.clone()).unwrap_or_default();
            let base = match &revision.previous {
                Some(previous) => serde_json::from_value(previous.clone()).unwrap_or_default(),
                None => revisions::listing(&state.pool, pid).await?,
            };
            let mut changes = proposed.changes_from(&base);
            crate::domain::listing::name_need_groups(&mut changes, &crate::db::revisions::need_group_names(&state.pool).await?);
            (Some(platform), changes, None)
        }
        _ => (None, Vec::new(), serde_json::from_value(revision.proposed.clone()).ok()),
    };
    Ok(RevisionPage { layout, revision, platform, enterprise, changes, dossier, error })
}

/// `GET /staff/revisions/{id}`: the field-by-field diff against the published listing.
pub async fn show_revision(
    PageCtx(layout): PageCtx,
    State(state): State<AppState>,
    _m: Moderator,
    Path(id): Path<i64>,
) -> AppResult<RevisionPage> {
    revision_page(&state, layout, id, None).await
}

async fn notify(
    tx: &mut sqlx::PgConnection,
    enterprise_id: Option<i64>,
    subject: String,
    body: String,
    template: &str,
) -> sqlx::Result<()> {
    let Some(enterprise_id) = enterprise_id else { return Ok(()) };
    for (email, _) in revisions::enterprise_recipients(&mut *tx, enterprise_id).await? {
        outbox::queue(&mut *tx, Mail { to: &email, subject: subject.clone(), body: body.clone(), template }).await?;
    }
    Ok(())
}

/// `POST /staff/revisions/{id}/approve`: publishes at once (search follows through the database's
/// change notifications); a registration creates the platform in status "registered".
pub async fn approve_revision(
    PageCtx(layout): PageCtx,
    State(state): State<AppState>,
    Moderator(user): Moderator,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let revision = revisions::find(&state.pool, id).await?.ok_or(AppError::NotFound)?;
    let mut tx = state.pool.begin().await?;
    let published = if revision.platform_id.is_none() {
        registrations::accept(&mut tx, id, user.id()).await?.ok_or(DecideRefused::NotSubmitted)
    } else {
        match revisions::approve(&mut tx, id, user.id()).await? {
            Ok(pid) => Ok(revisions::platform_ref(&mut *tx, pid).await?.0),
            Err(e) => Err(e),
        }
    };
    let slug = match published {
        Ok(slug) => slug,
        Err(refused) => {
            drop(tx);
            let own = refused == DecideRefused::OwnItem || revisions::conflicted(&state.pool, id, user.id()).await?;
            let (status, key) =
                if own { (StatusCode::FORBIDDEN, "staff.own_revision") } else { (StatusCode::CONFLICT, "staff.already_decided") };
            let page = revision_page(&state, layout, id, Some(key)).await?;
            return Ok((status, page).into_response());
        }
    };
    let event =
        Event::new("revision.approved", "revision", id.to_string()).before_opt(revision.previous.clone()).after(revision.proposed.clone());
    audit::record(&mut *tx, &user.actor, event).await?;
    let lang = layout.lang;
    let body = lang.t_with("mail.revision_approved_body", &[("slug", &slug)]);
    notify(&mut tx, revision.enterprise_id, lang.t("mail.revision_approved_subject"), body, "revision_approved").await?;
    tx.commit().await?;
    set_flash(&user.session, "staff.approved").await?;
    Ok(see_other("/staff/revisions"))
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct RejectForm {
    reason: String,
    note: String,
}

/// `POST /staff/revisions/{id}/reject`: a reason from the list, plus an optional note; the
/// enterprise sees both.
pub async fn reject_revision(
    PageCtx(layout): PageCtx,
    State(state): State<AppState>,
    Moderator(user): Moderator,
    Path(id): Path<i64>,
    Form(form): Form<RejectForm>,
) -> AppResult<Response> {
    let note = crate::domain::text::normalize(&form.note);
    if !REJECT_REASONS.contains(&form.reason.as_str()) || (form.reason == "other" && note.is_empty()) || note.chars().count() > 2000 {
        let page = revision_page(&state, layout, id, Some("staff.reason_required")).await?;
        return Ok(crate::routes::form::invalid(page));
    }
    let label = layout.t(&format!("reject.{}", form.reason));
    let reason = if note.is_empty() { label } else { format!("{label}: {note}") };
    let revision = revisions::find(&state.pool, id).await?.ok_or(AppError::NotFound)?;
    let mut tx = state.pool.begin().await?;
    if let Err(refused) = revisions::reject(&mut tx, id, user.id(), &reason).await? {
        drop(tx);
        let (status, key) = if refused == DecideRefused::OwnItem {
            (StatusCode::FORBIDDEN, "staff.own_revision")
        } else {
            (StatusCode::CONFLICT, "staff.already_decided")
        };
        let page = revision_page(&state, layout, id, Some(key)).await?;
        return Ok((status, page).into_response());
    }
    let event = Event::new("revision.rejected", "revision", id.to_string()).after(serde_json::json!({"reason": reason}));
    audit::record(&mut *tx, &user.actor, event).await?;
    let body = layout.lang.t_with("mail.revision_rejected_body", &[("reason", &reason)]);
    notify(&mut tx, revision.enterprise_id, layout.t("mail.revision_rejected_subject"), body, "revision_rejected").await?;
    tx.commit().await?;
    set_flash(&user.session, "staff.rejected").await?;
    Ok(see_other("/staff/revisions"))
}

#[derive(Template, WebTemplate)]
#[template(path = "staff/enterprises.html")]
pub struct EnterpriseAccountsPage {
    layout: Layout,
    accounts: Vec<Listed>,
    enterprises: Vec<(String, String)>,
    error: Option<&'static str>,
}

/// `GET /staff/enterprises`: enterprise accounts waiting for approval.
pub async fn list_enterprise_accounts(
    PageCtx(layout): PageCtx,
    State(state): State<AppState>,
    _m: Moderator,
) -> AppResult<EnterpriseAccountsPage> {
    enterprise_page(&state, layout, None).await
}

async fn enterprise_page(state: &AppState, layout: Layout, error: Option<&'static str>) -> AppResult<EnterpriseAccountsPage> {
    let accounts = users::pending_enterprise_accounts(&state.pool).await?;
    let enterprises = users::enterprise_choices(&state.pool).await?;
    Ok(EnterpriseAccountsPage { layout, accounts, enterprises, error })
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ApproveAccountForm {
    /// An existing enterprise's slug, or `new` to create one from the registration.
    enterprise: String,
}

/// `POST /staff/enterprises/{user_id}/approve`: links the account to an existing enterprise or a
/// new one made from its registration (no two enterprises share a tax code).
pub async fn approve_enterprise_account(
    PageCtx(layout): PageCtx,
    State(state): State<AppState>,
    Moderator(staff): Moderator,
    Path(user_id): Path<UserId>,
    Form(form): Form<ApproveAccountForm>,
) -> AppResult<Response> {
    let account = users::find(&state.pool, user_id).await?.ok_or(AppError::NotFound)?;
    if account.role != Role::Enterprise || account.status != Status::Pending {
        return Ok((StatusCode::CONFLICT, enterprise_page(&state, layout, Some("staff.already_decided")).await?).into_response());
    }
    let mut tx = state.pool.begin().await?;
    let enterprise_id = if form.enterprise == "new" {
        let Some(id) = users::enterprise_from_registration(&mut tx, &account).await? else {
            drop(tx);
            return Ok((StatusCode::CONFLICT, enterprise_page(&state, layout, Some("staff.tax_code_taken")).await?).into_response());
        };
        id
    } else {
        users::enterprise_by_slug(&mut *tx, &form.enterprise).await?.ok_or(AppError::BadRequest("unknown enterprise"))?.0
    };
    if !users::approve_enterprise(&mut *tx, user_id, enterprise_id, staff.id()).await? {
        drop(tx);
        let own = users::find(&state.pool, user_id).await?.is_some_and(|a| a.status == Status::Pending);
        return Err(if own { AppError::Forbidden } else { AppError::Conflict("staff.already_decided") });
    }
    let event = Event::new("enterprise_account.approved", "user", user_id.to_string())
        .before(serde_json::json!({"status": "pending"}))
        .after(serde_json::json!({"status": "active", "enterprise_id": enterprise_id}));
    audit::record(&mut *tx, &staff.actor, event).await?;
    crate::mail::queue_account_decided(&mut tx, &account, true).await?;
    tx.commit().await?;
    set_flash(&staff.session, "staff.account_approved").await?;
    Ok(see_other("/staff/enterprises"))
}

/// `POST /staff/enterprises/{user_id}/reject`: the account is switched off and its owner told.
pub async fn reject_enterprise_account(
    State(state): State<AppState>,
    Moderator(staff): Moderator,
    Path(user_id): Path<UserId>,
) -> AppResult<Response> {
    let account = users::find(&state.pool, user_id).await?.ok_or(AppError::NotFound)?;
    if account.role != Role::Enterprise || account.status != Status::Pending {
        return Err(AppError::Conflict("staff.already_decided"));
    }
    let mut tx = state.pool.begin().await?;
    users::set_status(&mut *tx, user_id, Status::Disabled).await?;
    let event = Event::new("enterprise_account.rejected", "user", user_id.to_string())
        .before(serde_json::json!({"status": "pending"}))
        .after(serde_json::json!({"status": "disabled"}));
    audit::record(&mut *tx, &staff.actor, event).await?;
    crate::mail::queue_account_decided(&mut tx, &account, false).await?;
    tx.commit().await?;
    set_flash(&staff.session, "staff.account_rejected").await?;
    Ok(see_other("/staff/enterprises"))
}

#[derive(Template, WebTemplate)]
#[template(path = "staff/users.html")]
pub struct UsersPage {
    layout: Layout,
    q: String,
    users: Vec<Listed>,
    me: UserId,
}

impl UsersPage {
    fn roles(&self) -> &'static [Role] {
        Role::ALL
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct UsersQuery {
    q: String,
}

/// `GET /staff/users` (admins).
pub async fn list_users(
    PageCtx(layout): PageCtx,
    State(state): State<AppState>,
    Admin(admin): Admin,
    Query(query): Query<UsersQuery>,
) -> AppResult<UsersPage> {
    let q: String = query.q.trim().chars().take(100).collect();
    let users = users::list(&state.pool, &q, 200).await?;
    Ok(UsersPage { layout, q, users, me: admin.id() })
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct RoleForm {
    role: String,
}

/// `POST /staff/users/{user_id}/role` (admins; not their own).
pub async fn set_user_role(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(user_id): Path<UserId>,
    Form(form): Form<RoleForm>,
) -> AppResult<Response> {
    let role = Role::parse(&form.role).ok_or(AppError::BadRequest("role"))?;
    if user_id == admin.id() {
        return Err(AppError::Conflict("staff.not_yourself"));
    }
    let account = users::find(&state.pool, user_id).await?.ok_or(AppError::NotFound)?;
    let mut tx = state.pool.begin().await?;
    users::set_role(&mut *tx, user_id, role).await?;
    let event = Event::new("user.role_changed", "user", user_id.to_string())
        .before(serde_json::json!({"role": account.role}))
        .after(serde_json::json!({"role": role.as_str()}));
    audit::record(&mut *tx, &admin.actor, event).await?;
    tx.commit().await?;
    set_flash(&admin.session, "staff.role_changed").await?;
    Ok(see_other("/staff/users"))
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct StatusForm {
    status: String,
}

/// `POST /staff/users/{user_id}/status` (admins; `active` or `disabled`; not their own).
pub async fn set_user_status(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(user_id): Path<UserId>,
    Form(form): Form<StatusForm>,
) -> AppResult<Response> {
    let status =
        Status::parse(&form.status).filter(|s| matches!(s, Status::Active | Status::Disabled)).ok_or(AppError::BadRequest("status"))?;
    if user_id == admin.id() {
        return Err(AppError::Conflict("staff.not_yourself"));
    }
    let account = users::find(&state.pool, user_id).await?.ok_or(AppError::NotFound)?;
    if account.status == Status::Deleted {
        return Err(AppError::Conflict("staff.already_decided"));
    }
    let mut tx = state.pool.begin().await?;
    users::set_status(&mut *tx, user_id, status).await?;
    let event = Event::new("user.status_changed", "user", user_id.to_string())
        .before(serde_json::json!({"status": account.status}))
        .after(serde_json::json!({"status": status}));
    audit::record(&mut *tx, &admin.actor, event).await?;
    tx.commit().await?;
    set_flash(&admin.session, "staff.status_changed").await?;
    Ok(see_other("/staff/users"))
}

#[derive(Template, WebTemplate)]
#[template(path = "staff/audit.html")]
pub struct AuditPage {
    layout: Layout,
    filter: audit::Filter,
    events: Vec<EventRow>,
    next: Option<String>,
}

impl AuditPage {
    fn json(&self, value: &Option<serde_json::Value>) -> String {
        value.as_ref().map(|v| v.to_string()).unwrap_or_default()
    }
    fn when(&self, at: &OffsetDateTime) -> String {
        let t = at.to_offset(VIETNAM);
        format!("{:04}-{:02}-{:02} {:02}:{:02}:{:02}", t.year(), u8::from(t.month()), t.day(), t.hour(), t.minute(), t.second())
    }
}

const AUDIT_PAGE: i64 = 100;

/// `GET /staff/audit` (admins): newest first, filtered by action, actor and target.
pub async fn list_audit(
    PageCtx(layout): PageCtx,
    State(state): State<AppState>,
    _a: Admin,
    Query(filter): Query<audit::Filter>,
) -> AppResult<AuditPage> {
    let events = audit::list(&state.pool, &filter, AUDIT_PAGE).await?;
    let next = (events.len() as i64 == AUDIT_PAGE).then(|| {
        let last = events.last().map_or(0, |e| e.id);
        serde_urlencoded::to_string([
            ("action", filter.action.as_str()),
            ("actor", filter.actor.as_str()),
            ("target_type", filter.target_type.as_str()),
            ("target_id", filter.target_id.as_str()),
            ("before_id", &last.to_string()),
        ])
        .unwrap_or_default()
    });
    Ok(AuditPage { layout, filter, events, next })
}

#[derive(Template, WebTemplate)]
#[template(path = "staff/reports.html")]
pub struct MissingReportsPage {
    layout: Layout,
    period: String,
    missing: Vec<Missing>,
    submitted: Vec<(String, String, Report)>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct PeriodQuery {
    period: String,
}

/// `GET /staff/reports?period=YYYY-MM`: who has reported a month and who has not (default: last month).
pub async fn list_missing_reports(
    PageCtx(layout): PageCtx,
    State(state): State<AppState>,
    _m: Moderator,
    Query(q): Query<PeriodQuery>,
) -> AppResult<MissingReportsPage> {
    let default = reports::previous_period(reports::period_of(OffsetDateTime::now_utc().to_offset(VIETNAM).date()));
    let period = reports::parse_period(&q.period).unwrap_or(default);
    let missing = reports::missing(&state.pool, period).await?;
    let submitted = reports::submitted(&state.pool, period).await?;
    Ok(MissingReportsPage { layout, period: reports::period_text(period), missing, submitted })
}
