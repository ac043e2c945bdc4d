//! Registration, email verification, sign-in (password, then TOTP when enabled), sign-out and
//! password reset. No answer reveals whether an email has an account: the same page, status and
//! (as far as the work allows) time for both.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use axum::response::{IntoResponse as _, Response};
use axum_extra::extract::Form;
use serde::Deserialize;
use tower_sessions::Session;

use crate::auth::session::{PendingSecondFactor, set_flash};
use crate::auth::{AuthSession, password, token, totp};
use crate::db::audit::{self, Actor, Event};
use crate::db::ids::UserId;
use crate::db::outbox::{self, Mail};
use crate::db::users::{self, NewUser};
use crate::domain::account::{Email, Role, Status, TaxCode, check_new_password, parse_display_name};
use crate::error::{AppError, AppResult};
use crate::extract::{FormCtx, Layout, client_addr, request_id};
use crate::limits::{self, AttemptKeys, device_cookie, known_device};
use crate::routes::form::{FormErrors, invalid, safe_next, see_other, with_cookie};
use crate::state::AppState;

/// A one-time link is valid this long for verification, and [`RESET_TTL`] for a password reset.
const VERIFY_TTL: time::Duration = time::Duration::hours(48);
const RESET_TTL: time::Duration = time::Duration::hours(1);

/// Counts a request for a mail from this client address: refused (429) past the hourly limit.
pub async fn mail_request_allowed(pool: &sqlx::PgPool, client_addr: Option<&str>) -> AppResult<()> {
    if !limits::MAIL_REQUESTS.take_from(pool, client_addr).await? {
        return Err(AppError::TooManyRequests("auth.mail_limit", 3600));
    }
    Ok(())
}

/// Counts a mail about to be queued to `to`: `false` when the recipient has had its hourly share.
/// Called only when a mail would really be sent, so that asking for mails to an address without
/// an account uses up nothing.
pub async fn recipient_allowed(db: impl sqlx::PgExecutor<'_>, to: &str) -> sqlx::Result<bool> {
    limits::MAILS_TO.take(db, &to.to_lowercase()).await
}

/// A page that only says something (sent, done, invalid link), with an optional link onwards.
#[derive(Template, WebTemplate)]
#[template(path = "auth/message.html")]
pub struct MessagePage {
    pub layout: Layout,
    pub title_key: &'static str,
    pub message_key: &'static str,
    pub link: Option<(&'static str, &'static str)>,
}

impl MessagePage {
    /// A message page.
    pub fn new(layout: Layout, title_key: &'static str, message_key: &'static str, link: Option<(&'static str, &'static str)>) -> Self {
        Self { layout, title_key, message_key, link }
    }
}

// ---------------------------------------------------------------- registration

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct RegisterForm {
    account_type: String,
    email: String,
    password: String,
    display_name: String,
    enterprise_name: String,
    tax_code: String,
    consent: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "auth/register.html")]
pub struct RegisterPage {
    layout: Layout,
    form: RegisterForm,
    errors: FormErrors,
}

impl RegisterPage {
    fn is_enterprise(&self) -> bool {
        self.form.account_type == "enterprise"
    }
}

/// `GET /register`.
pub async fn register_form(FormCtx(layout): FormCtx, Query(form): Query<RegisterForm>) -> RegisterPage {
    let form = RegisterForm { account_type: form.account_type, ..RegisterForm::default() };
    RegisterPage { layout, form, errors: FormErrors::new() }
}

/// `POST /register`: creates the account and mails a verification link. When the email already
/// has an account, its owner gets a mail saying so instead; the visitor sees the same page.
pub async fn register(
    FormCtx(layout): FormCtx,
    State(state): State<AppState>,
    client: Client,
    Form(mut form): Form<RegisterForm>,
) -> AppResult<Response> {
    let request = match form.parse() {
        Ok(request) => request,
        Err(errors) => {
            form.password.clear();
            return Ok(invalid(RegisterPage { layout, form, errors }));
        }
    };
    mail_request_allowed(&state.pool, client.addr.as_deref()).await?;
    let hash = password::hash(std::mem::take(&mut form.password)).await?;
    let mut tx = state.pool.begin().await?;
    let new = NewUser {
        email: request.email.as_str(),
        display_name: &request.display_name,
        password_hash: &hash,
        role: request.role,
        status: Status::Pending,
        locale: layout.lang.code(),
        enterprise_name: request.enterprise.as_ref().map(|(n, _)| n.as_str()),
        tax_code: request.enterprise.as_ref().map(|(_, t)| t.as_str()),
        verified: false,
        enterprise_id: None,
        registered_addr: client.addr.as_deref().and_then(|a| a.parse().ok()),
    };
    match users::insert(&mut *tx, &new).await? {
        Some(id) => welcome(&mut tx, id, &request, layout.lang, &state.site).await?,
        // The address has an account: its owner is told (within the hourly share); the visitor
        // sees the same page either way.
        None if recipient_allowed(&mut *tx, request.email.as_str()).await? => {
            queue_exists_notice(&mut tx, request.email.as_str(), layout.lang, &state.site).await?;
        }
        None => {}
    }
    tx.commit().await?;
    Ok(see_other("/register/sent"))
}

/// What a valid registration asks for.
struct AccountRequest {
    role: Role,
    email: Email,
    display_name: String,
    enterprise: Option<(String, TaxCode)>,
}

impl RegisterForm {
    /// The registration, or every error of the form.
    fn parse(&self) -> Result<AccountRequest, FormErrors> {
        let mut errors = FormErrors::new();
        let role = match self.account_type.as_str() {
            "citizen" => Some(Role::Citizen),
            "enterprise" => Some(Role::Enterprise),
            _ => {
                errors.add("account_type", "form.choice");
                None
            }
        };
        let email = errors.check("email", Email::parse(&self.email));
        errors.check("password", check_new_password(&self.password, &self.email));
        let display_name = errors.check("display_name", parse_display_name(&self.display_name));
        let enterprise = if role == Some(Role::Enterprise) {
            let name = errors.check("enterprise_name", parse_display_name(&self.enterprise_name));
            name.zip(errors.check("tax_code", TaxCode::parse(&self.tax_code)))
        } else {
            None
        };
        if self.consent != "yes" {
            errors.add("consent", "form.consent");
        }
        match (role, email, display_name) {
            (Some(role), Some(email), Some(display_name)) if errors.is_empty() => {
                Ok(AccountRequest { role, email, display_name, enterprise })
            }
            _ => Err(errors),
        }
    }
}

/// A new account's first verification link (always sent, and counted: no one can keep it away)
/// and its audit event.
async fn welcome(tx: &mut sqlx::PgConnection, id: UserId, request: &AccountRequest, lang: crate::i18n::Lang, site: &str) -> AppResult<()> {
    let email = request.email.as_str();
    recipient_allowed(&mut *tx, email).await?;
    queue_verification(tx, id, email, lang, site).await?;
    let actor = Actor { id: Some(id), label: email.to_owned(), addr: None, request_id: None };
    let event = Event::new("user.registered", "user", id.to_string()).after(serde_json::json!({"role": request.role}));
    audit::record(&mut *tx, &actor, event).await?;
    Ok(())
}

/// Queues the mail with a one-time link that verifies `email` for account `user_id`.
pub async fn queue_verification(
    tx: &mut sqlx::PgConnection,
    user_id: UserId,
    email: &str,
    lang: crate::i18n::Lang,
    site: &str,
) -> sqlx::Result<()> {
    let secret = issue_token(tx, user_id, "verify_email", email, VERIFY_TTL).await?;
    let body = lang.t_with("mail.verify_body", &[("link", &format!("{site}/verify-email/{secret}"))]);
    outbox::queue(&mut *tx, Mail { to: email, subject: lang.t("mail.verify_subject"), body, template: "verify_email" }).await
}

/// Queues the mail telling the owner of `email` that someone tried to use it for another account.
pub async fn queue_exists_notice(tx: &mut sqlx::PgConnection, email: &str, lang: crate::i18n::Lang, site: &str) -> sqlx::Result<()> {
    let body = lang.t_with("mail.exists_body", &[("link", &format!("{site}/password/forgot"))]);
    outbox::queue(&mut *tx, Mail { to: email, subject: lang.t("mail.exists_subject"), body, template: "account_exists" }).await
}

/// A one-time link's secret for `user_id`, valid for `ttl`, usable only while the account's
/// address is still `email` (the one the link is mailed to).
async fn issue_token(
    tx: &mut sqlx::PgConnection,
    user_id: UserId,
    purpose: &str,
    email: &str,
    ttl: time::Duration,
) -> sqlx::Result<String> {
    let secret = token::random_token();
    users::create_token(&mut *tx, user_id, purpose, &token::digest(&secret), email, ttl).await?;
    Ok(secret)
}

/// `GET /register/sent`.
pub async fn register_sent(FormCtx(layout): FormCtx) -> MessagePage {
    MessagePage::new(layout, "auth.register_sent_title", "auth.register_sent", None)
}

#[derive(Template, WebTemplate)]
#[template(path = "auth/confirm_link.html")]
pub struct ConfirmLinkPage {
    layout: Layout,
    action: String,
}

/// `GET /verify-email/{token}`: a button, so that mail scanners opening links do not use them up.
pub async fn verify_email_form(FormCtx(layout): FormCtx, State(state): State<AppState>, Path(secret): Path<String>) -> AppResult<Response> {
    if !users::token_is_live(&state.pool, "verify_email", &token::digest(&secret)).await? {
        return Ok(invalid_link(layout));
    }
    Ok(ConfirmLinkPage { layout, action: format!("/verify-email/{secret}") }.into_response())
}

fn invalid_link(layout: Layout) -> Response {
    let page = MessagePage::new(layout, "auth.link_invalid_title", "auth.link_invalid", Some(("/login", "auth.sign_in")));
    (axum::http::StatusCode::BAD_REQUEST, page).into_response()
}

/// `POST /verify-email/{token}`.
pub async fn verify_email(FormCtx(layout): FormCtx, State(state): State<AppState>, Path(secret): Path<String>) -> AppResult<Response> {
    let mut tx = state.pool.begin().await?;
    let Some(used) = users::consume_token(&mut *tx, "verify_email", &token::digest(&secret)).await? else {
        return Ok(invalid_link(layout));
    };
    if !users::mark_verified(&mut *tx, used.user_id, &used.email).await? {
        return Ok(invalid_link(layout));
    }
    let user = users::find(&mut *tx, used.user_id).await?.ok_or(AppError::NotFound)?;
    tx.commit().await?;
    let message = if user.role == Role::Enterprise && user.enterprise_id.is_none() { "auth.verified_pending" } else { "auth.verified" };
    Ok(MessagePage::new(layout, "auth.verified_title", message, Some(("/login", "auth.sign_in"))).into_response())
}

// ---------------------------------------------------------------- sign-in

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct LoginForm {
    email: String,
    password: String,
    next: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "auth/login.html")]
pub struct LoginPage {
    layout: Layout,
    form: LoginForm,
    error: Option<&'static str>,
}

/// `GET /login`.
pub async fn login_form(FormCtx(layout): FormCtx, Query(form): Query<LoginForm>) -> LoginPage {
    LoginPage { layout, form: LoginForm { next: safe_next(&form.next), ..LoginForm::default() }, error: None }
}

fn anonymous(parts_addr: Option<String>, request: Option<String>) -> Actor {
    Actor { id: None, label: "anonymous".into(), addr: parts_addr, request_id: request }
}

/// Request facts the sign-in handlers log.
pub struct Client {
    addr: Option<String>,
    request_id: Option<String>,
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Client {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self { addr: client_addr(parts), request_id: request_id(parts) })
    }
}

/// `POST /login`.
pub async fn login(
    FormCtx(layout): FormCtx,
    State(state): State<AppState>,
    session: Session,
    client: Client,
    headers: HeaderMap,
    Form(mut form): Form<LoginForm>,
) -> AppResult<Response> {
    form.next = safe_next(&form.next);
    let keys = AttemptKeys::password(&form.email, client.addr.as_deref());
    let actor = anonymous(client.addr.clone(), client.request_id.clone());
    let user = users::find_by_email(&state.pool, form.email.trim()).await?;
    let device = known_device(&headers, &state.keys, state.config.is_https());
    keys.count(&state.pool, user.as_ref().is_some_and(|u| device == Some(u.id)), &actor).await?;
    let ok = match password::verify(std::mem::take(&mut form.password), user.as_ref().map(|u| u.password_hash.clone())).await {
        Ok(ok) => ok,
        Err(e) => {
            keys.give_back(&state.pool).await?;
            return Err(e.into());
        }
    };
    let user = match user {
        Some(user) if ok && user.status.may_sign_in() => user,
        _ => return Ok(invalid(LoginPage { layout, form, error: Some("auth.bad_credentials") })),
    };
    let actor = Actor { id: Some(user.id), label: user.email.clone(), ..actor };
    keys.succeeded(&state.pool, &actor).await?;
    if user.totp_enabled_at.is_some() {
        PendingSecondFactor::begin(&session, user.id, form.next).await?;
        return Ok(see_other("/login/second-factor"));
    }
    AuthSession::begin(&session, AuthSession::new(user.id, &user.display_name, user.role, false)).await?;
    users::record_login(&state.pool, user.id).await?;
    audit::record(&state.pool, &actor, Event::new("login.succeeded", "user", user.id.to_string())).await?;
    let staff = user.role.is_staff();
    let response = see_other(if staff { "/account/security?required=1" } else { &form.next });
    Ok(with_cookie(response, &device_cookie(&state.keys, user.id, state.config.is_https())))
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct SecondFactorForm {
    code: String,
    recovery_code: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "auth/second_factor.html")]
pub struct SecondFactorPage {
    layout: Layout,
    error: Option<&'static str>,
}

/// `GET /login/second-factor`.
pub async fn second_factor_form(FormCtx(layout): FormCtx, session: Session) -> Response {
    if PendingSecondFactor::current(&session).await.is_none() {
        return see_other("/login");
    }
    SecondFactorPage { layout, error: None }.into_response()
}

/// `POST /login/second-factor`: a TOTP code, or one of the recovery codes.
pub async fn second_factor(
    FormCtx(layout): FormCtx,
    State(state): State<AppState>,
    session: Session,
    client: Client,
    headers: HeaderMap,
    Form(form): Form<SecondFactorForm>,
) -> AppResult<Response> {
    let Some(pending) = PendingSecondFactor::current(&session).await else { return Ok(see_other("/login")) };
    let keys = AttemptKeys::second_factor(pending.user_id, client.addr.as_deref());
    let user = users::find(&state.pool, pending.user_id).await?.ok_or(AppError::NotFound)?;
    let actor = Actor { id: Some(user.id), label: user.email.clone(), addr: client.addr, request_id: client.request_id };
    let known = known_device(&headers, &state.keys, state.config.is_https()) == Some(user.id);
    keys.count(&state.pool, known, &actor).await?;
    let accepted = second_factor_ok(&state, &user, &form, &actor).await?;
    if !accepted {
        return Ok(invalid(SecondFactorPage { layout, error: Some("auth.bad_code") }));
    }
    keys.succeeded(&state.pool, &actor).await?;
    AuthSession::begin(&session, AuthSession::new(user.id, &user.display_name, user.role, true)).await?;
    users::record_login(&state.pool, user.id).await?;
    let event = Event::new("login.succeeded", "user", user.id.to_string()).after(serde_json::json!({"second_factor": true}));
    audit::record(&state.pool, &actor, event).await?;
    Ok(with_cookie(see_other(&pending.next), &device_cookie(&state.keys, user.id, state.config.is_https())))
}

/// Whether the form holds a TOTP code this account has not used yet, or one of its unused
/// recovery codes (which is then used up).
async fn second_factor_ok(state: &AppState, user: &users::UserRow, form: &SecondFactorForm, actor: &Actor) -> AppResult<bool> {
    if !form.recovery_code.trim().is_empty() {
        let used = users::use_recovery_code(&state.pool, user.id, &token::recovery_code_hash(&state.keys, &form.recovery_code)).await?;
        if used {
            audit::record(&state.pool, actor, Event::new("login.recovery_code_used", "user", user.id.to_string())).await?;
        }
        return Ok(used);
    }
    let Some(secret) = user.totp_secret.as_deref().map(|s| state.keys.open(s)).transpose()? else { return Ok(false) };
    match totp::verify(&secret, &form.code, totp::now_unix(), user.totp_last_step) {
        Some(step) => Ok(users::accept_totp_step(&state.pool, user.id, step).await?),
        None => Ok(false),
    }
}

/// `POST /logout`.
pub async fn logout(session: Session) -> AppResult<Response> {
    AuthSession::end(&session).await?;
    Ok(see_other("/"))
}

// ---------------------------------------------------------------- password reset

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ForgotForm {
    email: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "auth/forgot.html")]
pub struct ForgotPage {
    layout: Layout,
    email: String,
    errors: FormErrors,
}

/// `GET /password/forgot`.
pub async fn forgot_form(FormCtx(layout): FormCtx) -> ForgotPage {
    ForgotPage { layout, email: String::new(), errors: FormErrors::new() }
}

/// `POST /password/forgot`: answers at once with the same page; the lookup and the mail happen in
/// a background task, so neither the page nor its timing depends on the account existing.
pub async fn forgot(
    FormCtx(layout): FormCtx,
    State(state): State<AppState>,
    client: Client,
    Form(form): Form<ForgotForm>,
) -> AppResult<Response> {
    let mut errors = FormErrors::new();
    let Some(email) = errors.check("email", Email::parse(&form.email)) else {
        return Ok(invalid(ForgotPage { layout, email: form.email, errors }));
    };
    mail_request_allowed(&state.pool, client.addr.as_deref()).await?;
    let lang = layout.lang;
    tokio::spawn(async move {
        if let Err(e) = send_reset(&state, email, lang).await {
            tracing::error!(error = %e, "password reset mail failed");
        }
    });
    Ok(see_other("/password/forgot/sent"))
}

async fn send_reset(state: &AppState, email: Email, lang: crate::i18n::Lang) -> anyhow::Result<()> {
    let Some(user) = users::find_by_email(&state.pool, email.as_str()).await? else { return Ok(()) };
    if !user.status.may_sign_in() {
        return Ok(());
    }
    let mut tx = state.pool.begin().await?;
    if !recipient_allowed(&mut *tx, &user.email).await? {
        tx.commit().await?;
        return Ok(());
    }
    let secret = issue_token(&mut tx, user.id, "reset_password", &user.email, RESET_TTL).await?;
    let body = lang.t_with("mail.reset_body", &[("link", &state.link(&format!("/password/reset/{secret}")))]);
    outbox::queue(&mut *tx, Mail { to: &user.email, subject: lang.t("mail.reset_subject"), body, template: "reset_password" }).await?;
    tx.commit().await?;
    Ok(())
}

/// `GET /password/forgot/sent`.
pub async fn forgot_sent(FormCtx(layout): FormCtx) -> MessagePage {
    MessagePage::new(layout, "auth.forgot_sent_title", "auth.forgot_sent", Some(("/login", "auth.sign_in")))
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ResetForm {
    password: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "auth/reset.html")]
pub struct ResetPage {
    layout: Layout,
    action: String,
    errors: FormErrors,
}

/// `GET /password/reset/{token}`.
pub async fn reset_form(FormCtx(layout): FormCtx, State(state): State<AppState>, Path(secret): Path<String>) -> AppResult<Response> {
    if !users::token_is_live(&state.pool, "reset_password", &token::digest(&secret)).await? {
        return Ok(invalid_link(layout));
    }
    Ok(ResetPage { layout, action: format!("/password/reset/{secret}"), errors: FormErrors::new() }.into_response())
}

/// `POST /password/reset/{token}`: sets the new password, uses up the token and the account's
/// other reset links, and asks the person to sign in.
pub async fn reset(
    FormCtx(layout): FormCtx,
    State(state): State<AppState>,
    session: Session,
    client: Client,
    Path(secret): Path<String>,
    Form(form): Form<ResetForm>,
) -> AppResult<Response> {
    let digest = token::digest(&secret);
    let mut tx = state.pool.begin().await?;
    let Some(users::UsedToken { user_id, .. }) = users::consume_token(&mut *tx, "reset_password", &digest).await? else {
        return Ok(invalid_link(layout));
    };
    let user = users::find(&mut *tx, user_id).await?.ok_or(AppError::NotFound)?;
    let mut errors = FormErrors::new();
    errors.check("password", check_new_password(&form.password, &user.email));
    if !errors.is_empty() {
        // The token stays usable: nothing is committed.
        return Ok(invalid(ResetPage { layout, action: format!("/password/reset/{secret}"), errors }));
    }
    let hash = password::hash(form.password).await?;
    users::set_password(&mut *tx, user_id, &hash).await?;
    users::revoke_tokens(&mut *tx, user_id, "reset_password").await?;
    let actor = Actor { id: Some(user_id), label: user.email.clone(), addr: client.addr, request_id: client.request_id };
    audit::record(&mut *tx, &actor, Event::new("user.password_reset", "user", user_id.to_string())).await?;
    tx.commit().await?;
    AuthSession::end(&session).await?;
    set_flash(&session, "auth.password_changed").await?;
    Ok(see_other("/login"))
}
