//! `PageCtx` → `Layout`: the data the shared layout needs (language, request id, current path,
//! the search box's text, asset URLs), built once per request.

use std::borrow::Borrow;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use crate::error::AppError;
use crate::i18n::Lang;

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
}

impl Layout {
    /// Builds the layout from request parts (also used by the error-page middleware).
    pub fn from_parts(parts: &Parts) -> Self {
        let lang = parts.extensions.get::<Lang>().copied().unwrap_or_default();
        let request_id = parts.headers.get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-").to_owned();
        let query: Vec<(String, String)> = serde_urlencoded::from_str(parts.uri.query().unwrap_or("")).unwrap_or_default();
        let search_q = query.iter().find(|(k, _)| k == "q").map(|(_, v)| v.chars().take(200).collect()).unwrap_or_default();
        let kept: Vec<&(String, String)> = query.iter().filter(|(k, _)| k != "lang").collect();
        Self { lang, path: parts.uri.path().to_owned(), query: serde_urlencoded::to_string(kept).unwrap_or_default(), request_id, search_q }
    }

    /// The translation of `key`.
    pub fn t(&self, key: &str) -> String {
        self.lang.t(key)
    }

    /// The translation of `key` with placeholders filled in.
    pub fn tw(&self, key: &str, name: &str, value: impl std::fmt::Display) -> String {
        self.lang.t_with(key, &[(name, &value.to_string())])
    }

    /// The translation of `key` for a count (singular form where the language has one).
    pub fn tc(&self, key: &str, count: impl Borrow<i64>) -> String {
        self.lang.t_count(key, *count.borrow())
    }

    /// A date in the page's language.
    pub fn date(&self, date: impl AsDate) -> String {
        self.lang.date(date.as_date())
    }

    /// A number in the page's language.
    pub fn number(&self, n: impl Borrow<i64>) -> String {
        self.lang.number(*n.borrow())
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
        Ok(Self(Layout::from_parts(parts)))
    }
}
