//! `PageCtx` → `Layout`: the data the shared layout needs (language, request id, current path,
//! the search box's text, asset URLs, the signed-in account, the CSRF token and a one-time
//! message), built once per request.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use tower_sessions::Session;

use crate::auth::AuthSession;
use crate::auth::csrf::{AnonToken, mask};
use crate::error::AppError;
use crate::i18n::Lang;

/// The signed-in account as the header shows it.
#[derive(Debug, Clone)]
pub struct HeaderUser {
    /// Name.
    pub display_name: String,
    /// Role at sign-in (links only; pages check the stored role).
    pub role: crate::domain::account::Role,
}

impl HeaderUser {
    /// Whether to link the staff area.
    pub fn is_staff(&self) -> bool {
        self.role.is_staff()
    }
}

/// What the shared layout (`templates/base.html`) shows around every page.
#[derive(Debug, Clone)]
pub struct Layout {
    /// The language of the page.
    pub lang: Lang,
    /// The request path, to mark the current section and build the language switch.
    pub path: String,
    /// The query string without `lang=`.
    query: String,
    /// The request id, shown on error pages.
    pub request_id: String,
    /// Text for the header's search box.
    pub search_q: String,
    /// The signed-in account.
    pub user: Option<HeaderUser>,
    /// The CSRF token, masked for this response (empty when the visitor has none; form pages make
    /// sure there is one).
    pub csrf_token: String,
    /// A one-time message (translation key) left by the previous request.
    pub flash: Option<String>,
}

impl Layout {
    /// Builds the layout from request parts (also used by the error-page middleware).
    pub fn from_parts(parts: &Parts) -> Self {
        let lang = parts.extensions.get::<Lang>().copied().unwrap_or_default();
        let request_id = parts.headers.get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-").to_owned();
        let query: Vec<(String, String)> = serde_urlencoded::from_str(parts.uri.query().unwrap_or("")).unwrap_or_default();
        let search_q = query.iter().find(|(k, _)| k == "q").map(|(_, v)| v.chars().take(200).collect()).unwrap_or_default();
        let kept: Vec<&(String, String)> = query.iter().filter(|(k, _)| k != "lang").collect();
        Self {
            lang,
            path: parts.uri.path().to_owned(),
            query: serde_urlencoded::to_string(kept).unwrap_or_default(),
            request_id,
            search_q,
            user: None,
            csrf_token: String::new(),
            flash: None,
        }
    }

    /// Adds what the session holds: the account, the CSRF token, a one-time message.
    async fn attach(&mut self, session: &Session) {
        if let Some(auth) = AuthSession::current(session).await {
            self.user = Some(HeaderUser { display_name: auth.display_name, role: auth.role });
        }
        if let Some(token) = crate::auth::session::csrf_token(session).await {
            self.csrf_token = mask(&token);
        }
        self.flash = crate::auth::session::take_flash(session).await;
    }

    /// The translation of `key`.
    pub fn t(&self, key: &str) -> String {
        self.lang.t(key)
    }

    /// The label of form field `name` (key `field.<name>`).
    pub fn field(&self, name: &str) -> String {
        self.lang.t(&format!("field.{name}"))
    }

    /// The label of a stored value (a role, a state, a kind) in the page's language.
    pub fn label(&self, value: impl crate::domain::Labelled) -> String {
        self.t(value.label_key())
    }

    /// The translation of the key `<prefix>.<value>` (labels of stored values).
    pub fn tp(&self, prefix: &str, value: &str) -> String {
        self.lang.t(&format!("{prefix}.{value}"))
    }

    /// The translation of `key` with placeholders filled in.
    pub fn tw(&self, key: &str, name: &str, value: impl std::fmt::Display) -> String {
        self.lang.t_with(key, &[(name, &value.to_string())])
    }

    /// The translation of `key` for a count (singular form where the language has one).
    pub fn tc(&self, key: &str, count: impl AsCount) -> String {
        self.lang.t_count(key, count.as_count())
    }

    /// A date in the page's language.
    pub fn date(&self, date: impl AsDate) -> String {
        self.lang.date(date.as_date())
    }

    /// A number in the page's language.
    pub fn number(&self, n: impl AsCount) -> String {
        self.lang.number(n.as_count())
    }

    /// Picks the English text when the page is in English and one exists.
    pub fn pick<'a>(&self, vi: &'a str, en: &'a Option<String>) -> &'a str {
        match (self.lang, en) {
            (Lang::En, Some(en)) if !en.trim().is_empty() => en,
            _ => vi,
        }
    }

    /// `lang` attribute of the document.
    pub fn lang_code(&self) -> &'static str {
        self.lang.code()
    }

    /// The other language, for the switch.
    pub fn other_lang(&self) -> Lang {
        match self.lang {
            Lang::Vi => Lang::En,
            Lang::En => Lang::Vi,
        }
    }

    /// This page in the other language.
    pub fn other_lang_href(&self) -> String {
        let lang = self.other_lang().code();
        if self.query.is_empty() { format!("{}?lang={lang}", self.path) } else { format!("{}?{}&lang={lang}", self.path, self.query) }
    }

    /// Whether the navigation item for `prefix` is the current section.
    pub fn is_current(&self, prefix: &str) -> bool {
        if prefix == "/" { self.path == "/" } else { self.path == prefix || self.path.starts_with(&format!("{prefix}/")) }
    }

    /// URL of a static file.
    pub fn asset(&self, logical: &str) -> String {
        crate::assets::url(logical)
    }
}

/// Anything that is a whole number behind references (templates bind values by reference).
pub trait AsCount {
    /// The number.
    fn as_count(&self) -> i64;
}

impl AsCount for i64 {
    fn as_count(&self) -> i64 {
        *self
    }
}

impl AsCount for i32 {
    fn as_count(&self) -> i64 {
        i64::from(*self)
    }
}

impl AsCount for i16 {
    fn as_count(&self) -> i64 {
        i64::from(*self)
    }
}

impl<T: AsCount + ?Sized> AsCount for &T {
    fn as_count(&self) -> i64 {
        (**self).as_count()
    }
}

/// Anything that is a date behind references (templates bind loop and `if let` values by reference).
pub trait AsDate {
    /// The date.
    fn as_date(&self) -> time::Date;
}

impl AsDate for time::Date {
    fn as_date(&self) -> time::Date {
        *self
    }
}

impl<T: AsDate + ?Sized> AsDate for &T {
    fn as_date(&self) -> time::Date {
        (**self).as_date()
    }
}

/// Extractor for the page context; handlers get a [`Layout`] from it.
#[derive(Debug, Clone)]
pub struct PageCtx(pub Layout);

impl<S: Send + Sync> FromRequestParts<S> for PageCtx {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let mut layout = Layout::from_parts(parts);
        if let Some(session) = parts.extensions.get::<Session>() {
            layout.attach(session).await;
        }
        if layout.csrf_token.is_empty()
            && let Some(token) = parts.extensions.get::<AnonToken>().and_then(AnonToken::existing)
        {
            layout.csrf_token = mask(token);
        }
        Ok(Self(layout))
    }
}

/// Extractor for pages with a form: like [`PageCtx`], and makes sure the visitor has a CSRF token
/// (a visitor without a session gets one in a signed cookie: no session is started).
#[derive(Debug, Clone)]
pub struct FormCtx(pub Layout);

impl<S: Send + Sync> FromRequestParts<S> for FormCtx {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let PageCtx(mut layout) = PageCtx::from_request_parts(parts, state).await?;
        if layout.csrf_token.is_empty() {
            let anon = parts.extensions.get::<AnonToken>().ok_or(AppError::BadRequest("no CSRF layer"))?;
            layout.csrf_token = mask(&anon.get_or_issue());
        }
        Ok(Self(layout))
    }
}
