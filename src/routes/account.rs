//! The own-account pages: overview (with the enterprise's platforms), settings (password, email),
//! two-factor sign-in, data export and account deletion (Personal Data Protection Law 91/2025).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse as _, Response};
use axum_extra::extract::Form;
use serde::Deserialize;

use crate::auth::session::{begin_totp_setup, end_totp_setup, set_flash, totp_setup};
use crate::auth::{AuthSession, password, token, totp};
use crate::db::audit::{self, Event};
use crate::db::registrations::{self, Registration};
use crate::db::revisions::{self, OwnedPlatform};
use crate::db::users;
use crate::domain::account::{Email, Role, check_new_password};
use crate::error::AppResult;
use crate::extract::{CurrentUser, Layout, PageCtx};
use crate::limits::AttemptKeys;
use crate::routes::auth::{mail_request_allowed, queue_exists_notice, queue_verification, recipient_allowed};
use crate::routes::form::{FormErrors, invalid, see_other};
use crate::state::AppState;

#[derive(Template, WebTemplate)]
#[template(path = "account/home.html")]
pub struct AccountPage {
    layout: Layout,
    user: CurrentUser,
    platforms: Vec<OwnedPlatform>,
    registrations: Vec<Registration>,
    contributions: Vec<crate::db::contributions::OwnItem>,
}

impl AccountPage {
    fn is_enterprise(&self) -> bool {
        self.user.role == Role::Enterprise
    }
    fn approved(&self) -> bool {
        self.user.row.enterprise_id.is_some()
    }
    fn is_stale(&self, p: &OwnedPlatform) -> bool {
        crate::domain::listing::is_stale(p.last_confirmed_at, time::OffsetDateTime::now_utc())
    }
    fn role_key(&self) -> &'static str {
        self.user.role.label_key()
    }
}

/// `GET /account`.
pub async fn account_home(PageCtx(layout): PageCtx, State(state): State<AppState>, user: CurrentUser) -> AppResult<AccountPage> {
    let (platforms, registrations) = match user.row.enterprise_id {
        Some(enterprise) => {
            (revisions::platforms_of(&state.pool, enterprise).await?, registrations::of_enterprise(&state.pool, enterprise).await?)
        }
        None => (Vec::new(), Vec::new()),
    };
    let contributions = crate::db::contributions::own_items(&state.pool, user.id()).await?;
    Ok(AccountPage { layout, user, platforms, registrations, contributions })
}

/// Checks the signed-in person's current password, counted like a sign-in attempt, so that a
/// borrowed or stolen session cannot be used to guess it.
async fn current_password_ok(state: &AppState, user: &CurrentUser, typed: String) -> AppResult<bool> {
    let keys = AttemptKeys::current_password(user.id(), user.actor.addr.as_deref());
    keys.check(&state.pool, false, &user.actor, password::verify(typed, Some(user.row.password_hash.clone()))).await
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct PasswordForm {
    current_password: String,
    new_password: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct EmailForm {
    email: String,
    current_password: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "account/settings.html")]
pub struct SettingsPage {
    layout: Layout,
    email: String,
    new_email: String,
    errors: FormErrors,
}

/// `GET /account/settings`.
pub async fn settings(PageCtx(layout): PageCtx, user: CurrentUser) -> SettingsPage {
    SettingsPage { layout, email: user.row.email, new_email: String::new(), errors: FormErrors::new() }
}

/// `POST /account/settings/password`.
pub async fn change_password(
    PageCtx(layout): PageCtx,
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<PasswordForm>,
) -> AppResult<Response> {
    let mut errors = FormErrors::new();
    if !current_password_ok(&state, &user, form.current_password).await? {
        errors.add("current_password", "form.wrong_password");
    }
    errors.check("new_password", check_new_password(&form.new_password, &user.row.email));
    if !errors.is_empty() {
        return Ok(invalid(SettingsPage { layout, email: user.row.email, new_email: String::new(), errors }));
    }
    let hash = password::hash(form.new_password).await?;
    let mut tx = state.pool.begin().await?;
    users::set_password(&mut *tx, user.id(), &hash).await?;
    users::revoke_tokens(&mut *tx, user.id(), "reset_password").await?;
    audit::record(&mut *tx, &user.actor, Event::new("user.password_changed", "user", user.id().to_string())).await?;
    tx.commit().await?;
    // Other devices are signed out; this one signs in again (new session id, new sign-in time).
    let fresh = AuthSession::new(user.id(), &user.row.display_name, user.role, user.auth.second_factor);
    AuthSession::begin(&user.session, fresh).await?;
    set_flash(&user.session, "account.password_changed").await?;
    Ok(see_other("/account/settings"))
}

/// `POST /account/settings/email`: the new address must be verified; if it belongs to another
/// account, its owner is told and this page says the same as for a free address.
pub async fn change_email(
    PageCtx(layout): PageCtx,
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<EmailForm>,
) -> AppResult<Response> {
    let mut errors = FormErrors::new();
    let email = errors.check("email", Email::parse(&form.email));
    if !current_password_ok(&state, &user, form.current_password).await? {
        errors.add("current_password", "form.wrong_password");
    }
    let (Some(email), true) = (email, errors.is_empty()) else {
        return Ok(invalid(SettingsPage { layout, email: user.row.email, new_email: form.email, errors }));
    };
    mail_request_allowed(&state.pool, user.actor.addr.as_deref()).await?;
    let site = &state.site;
    let mut tx = state.pool.begin().await?;
    if !recipient_allowed(&mut *tx, email.as_str()).await? {
        drop(tx);
        errors.add("email", "auth.mail_limit_recipient");
        return Ok(invalid(SettingsPage { layout, email: user.row.email, new_email: form.email, errors }));
    }
    if users::set_email(&mut tx, user.id(), email.as_str()).await? {
        queue_verification(&mut tx, user.id(), email.as_str(), layout.lang, site).await?;
        let event = Event::new("user.email_changed", "user", user.id().to_string())
            .before(serde_json::json!({"email": user.row.email}))
            .after(serde_json::json!({"email": email.as_str()}));
        audit::record(&mut *tx, &user.actor, event).await?;
    } else {
        queue_exists_notice(&mut tx, email.as_str(), layout.lang, site).await?;
    }
    tx.commit().await?;
    set_flash(&user.session, "account.email_sent").await?;
    Ok(see_other("/account/settings"))
}

#[derive(Template, WebTemplate)]
#[template(path = "account/security.html")]
pub struct SecurityPage {
    layout: Layout,
    required: bool,
    enabled: bool,
    is_staff: bool,
    secret: String,
    uri: String,
    codes_left: i64,
    new_codes: Vec<String>,
    error: Option<&'static str>,
}

impl SecurityPage {
    fn grouped_secret(&self) -> String {
        totp::grouped(&self.secret)
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct SecurityQuery {
    required: Option<String>,
}

/// `GET /account/security`: two-factor status; when off, a fresh secret to add to an app.
pub async fn security(
    PageCtx(layout): PageCtx,
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<SecurityQuery>,
) -> AppResult<SecurityPage> {
    security_page(layout, &state, &user, q.required.is_some(), Vec::new(), None).await
}

async fn security_page(
    layout: Layout,
    state: &AppState,
    user: &CurrentUser,
    required: bool,
    new_codes: Vec<String>,
    error: Option<&'static str>,
) -> AppResult<SecurityPage> {
    let enabled = user.totp_enabled() || !new_codes.is_empty();
    let secret = if enabled { String::new() } else { setup_secret(state, &user.session).await? };
    let uri = if secret.is_empty() { String::new() } else { totp::otpauth_uri(&secret, &layout.t("site.short_name"), &user.row.email) };
    let codes_left = users::recovery_codes_left(&state.pool, user.id()).await?;
    Ok(SecurityPage { layout, required, enabled, is_staff: user.role.is_staff(), secret, uri, codes_left, new_codes, error })
}

/// The TOTP secret this session is setting up: the one already offered here (so reloading the page
/// keeps a scanned code working), or a new one. Never the same across sessions, and gone after
/// `session::TOTP_SETUP_SECS`.
async fn setup_secret(state: &AppState, session: &tower_sessions::Session) -> AppResult<String> {
    if let Some(Ok(secret)) = totp_setup(session).await.map(|sealed| state.keys.open(&sealed)) {
        return Ok(secret);
    }
    let secret = totp::new_secret();
    begin_totp_setup(session, state.keys.seal(&secret)?).await?;
    Ok(secret)
}

/// Ten new recovery codes and their stored (keyed) hashes.
fn new_codes(state: &AppState) -> (Vec<String>, Vec<String>) {
    let codes: Vec<String> = (0..10).map(|_| token::recovery_code()).collect();
    let hashes = codes.iter().map(|c| token::recovery_code_hash(&state.keys, c)).collect();
    (codes, hashes)
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct CodeForm {
    code: String,
}

/// `POST /account/security/totp`: proves the app works with one code, switches TOTP on, and shows
/// the recovery codes once (rendered directly: they must not be stored anywhere readable).
pub async fn enable_totp(
    PageCtx(layout): PageCtx,
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<CodeForm>,
) -> AppResult<Response> {
    let sealed = match totp_setup(&user.session).await {
        Some(sealed) if !user.totp_enabled() => sealed,
        _ => return Ok(see_other("/account/security")),
    };
    let secret = state.keys.open(&sealed)?;
    let Some(step) = totp::verify(&secret, &form.code, totp::now_unix(), None) else {
        let page = security_page(layout, &state, &user, false, Vec::new(), Some("auth.bad_code")).await?;
        return Ok(invalid(page));
    };
    let (codes, hashes) = new_codes(&state);
    let mut tx = state.pool.begin().await?;
    if !users::enable_totp(&mut *tx, user.id(), &sealed, step).await? {
        return Ok(see_other("/account/security"));
    }
    users::replace_recovery_codes(&mut tx, user.id(), &hashes).await?;
    audit::record(&mut *tx, &user.actor, Event::new("user.totp_enabled", "user", user.id().to_string())).await?;
    tx.commit().await?;
    end_totp_setup(&user.session).await?;
    AuthSession::upgrade(&user.session, user.auth.clone()).await?;
    Ok(security_page(layout, &state, &user, false, codes, None).await?.into_response())
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct PasswordConfirmForm {
    current_password: String,
}

/// `POST /account/security/totp/disable`: not for staff, whose role requires it.
pub async fn disable_totp(
    PageCtx(layout): PageCtx,
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<PasswordConfirmForm>,
) -> AppResult<Response> {
    if user.role.is_staff() {
        return Err(crate::error::AppError::Forbidden);
    }
    if !current_password_ok(&state, &user, form.current_password).await? {
        let page = security_page(layout, &state, &user, false, Vec::new(), Some("form.wrong_password")).await?;
        return Ok(invalid(page));
    }
    let mut tx = state.pool.begin().await?;
    users::disable_totp(&mut *tx, user.id()).await?;
    users::replace_recovery_codes(&mut tx, user.id(), &[]).await?;
    audit::record(&mut *tx, &user.actor, Event::new("user.totp_disabled", "user", user.id().to_string())).await?;
    tx.commit().await?;
    set_flash(&user.session, "account.totp_disabled").await?;
    Ok(see_other("/account/security"))
}

/// `POST /account/security/recovery-codes`: new codes replace the old ones (second factor required).
pub async fn new_recovery_codes(PageCtx(layout): PageCtx, State(state): State<AppState>, user: CurrentUser) -> AppResult<Response> {
    if !user.totp_enabled() || !user.auth.second_factor {
        return Ok(see_other("/account/security"));
    }
    let (codes, hashes) = new_codes(&state);
    let mut tx = state.pool.begin().await?;
    users::replace_recovery_codes(&mut tx, user.id(), &hashes).await?;
    audit::record(&mut *tx, &user.actor, Event::new("user.recovery_codes_replaced", "user", user.id().to_string())).await?;
    tx.commit().await?;
    Ok(security_page(layout, &state, &user, false, codes, None).await?.into_response())
}

/// `GET /account/export`: all own data as a JSON download.
pub async fn export_data(State(state): State<AppState>, user: CurrentUser) -> AppResult<Response> {
    let document = users::export(&state.pool, user.id()).await?;
    audit::record(&state.pool, &user.actor, Event::new("user.exported", "user", user.id().to_string())).await?;
    let body = serde_json::to_string_pretty(&document).map_err(anyhow::Error::from)?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/json; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"ndp-du-lieu-ca-nhan-{}.json\"", user.id())),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        body,
    )
        .into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "account/delete.html")]
pub struct DeletePage {
    layout: Layout,
    errors: FormErrors,
}

/// `GET /account/delete`.
pub async fn delete_form(PageCtx(layout): PageCtx, _user: CurrentUser) -> DeletePage {
    DeletePage { layout, errors: FormErrors::new() }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct DeleteForm {
    current_password: String,
    confirm: String,
}

/// `POST /account/delete`: erases personal data, keeps contributions anonymised and the audit trail.
pub async fn delete_account(
    PageCtx(layout): PageCtx,
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<DeleteForm>,
) -> AppResult<Response> {
    let mut errors = FormErrors::new();
    if form.confirm != "yes" {
        errors.add("confirm", "form.confirm_delete");
    }
    if !current_password_ok(&state, &user, form.current_password).await? {
        errors.add("current_password", "form.wrong_password");
    }
    if !errors.is_empty() {
        return Ok(invalid(DeletePage { layout, errors }));
    }
    let mut tx = state.pool.begin().await?;
    users::erase(&mut tx, user.id()).await?;
    let event = Event::new("user.deleted", "user", user.id().to_string()).before(serde_json::json!({"role": user.role.as_str()}));
    audit::record(&mut *tx, &user.actor, event).await?;
    tx.commit().await?;
    AuthSession::end(&user.session).await?;
    set_flash(&user.session, "account.deleted").await?;
    Ok(see_other("/"))
}
