//! Small view models shared by several pages: labelled facts, pagination, safe links.

use crate::i18n::Lang;

/// Longest free-text query accepted; longer text is cut and the page says so.
pub const MAX_QUERY_CHARS: usize = 200;

/// Cleans a free-text query: NFC, no control characters, at most [`MAX_QUERY_CHARS`].
/// Returns the text and whether it was cut.
pub fn clean_query(raw: Option<&str>) -> (String, bool) {
    let normalized = crate::domain::text::normalize(raw.unwrap_or(""));
    let cleaned: Vec<char> = normalized.chars().filter(|c| !c.is_control()).collect();
    let truncated = cleaned.len() > MAX_QUERY_CHARS;
    (cleaned.into_iter().take(MAX_QUERY_CHARS).collect(), truncated)
}

/// One labelled fact on a detail page; unknown values are shown as such, never left out.
#[derive(Debug, Clone)]
pub struct Fact {
    /// Translated label.
    pub label: String,
    /// The value.
    pub value: FactValue,
}

/// The value of a [`Fact`].
#[derive(Debug, Clone)]
pub enum FactValue {
    /// Not known: the page says so.
    Unknown,
    /// Plain text.
    Text(String),
    /// Links (internal or external), shown as a list when more than one.
    Links(Vec<Link>),
}

/// A link shown in a fact.
#[derive(Debug, Clone)]
pub struct Link {
    /// Target.
    pub href: String,
    /// Text.
    pub text: String,
    /// Whether it leaves the portal.
    pub external: bool,
}

impl Fact {
    /// A fact with a text value or unknown.
    pub fn text(lang: Lang, key: &str, value: Option<String>) -> Self {
        Self { label: lang.t(key), value: value.filter(|v| !v.trim().is_empty()).map_or(FactValue::Unknown, FactValue::Text) }
    }

    /// A fact with links, or unknown when there are none.
    pub fn links(lang: Lang, key: &str, links: Vec<Link>) -> Self {
        Self { label: lang.t(key), value: if links.is_empty() { FactValue::Unknown } else { FactValue::Links(links) } }
    }
}

impl FactValue {
    /// Whether the value is not known.
    pub fn is_unknown(&self) -> bool {
        matches!(self, Self::Unknown)
    }

    /// The text, for a text value.
    pub fn text(&self) -> Option<&str> {
        match self {
            Self::Text(t) => Some(t),
            _ => None,
        }
    }

    /// The links, for a links value (empty otherwise).
    pub fn links(&self) -> &[Link] {
        match self {
            Self::Links(l) => l,
            _ => &[],
        }
    }
}

impl Link {
    /// A link inside the portal.
    pub fn internal(href: String, text: String) -> Self {
        Self { href, text, external: false }
    }

    /// A link to another site, only for `http(s)` addresses (stored text never becomes a script URL).
    pub fn external(url: &str) -> Option<Self> {
        let url = url.trim();
        let lower = url.to_ascii_lowercase();
        (lower.starts_with("https://") || lower.starts_with("http://")).then(|| Self {
            href: url.to_owned(),
            text: url.trim_start_matches("https://").trim_start_matches("http://").trim_end_matches('/').to_owned(),
            external: true,
        })
    }
}

/// A source citation: a link when it is an address (with or without scheme), else text.
#[derive(Debug, Clone)]
pub struct Source {
    /// The citation as stored.
    pub text: String,
    /// A link to it, when it is a web address.
    pub href: Option<String>,
}

/// Turns stored citations into displayable sources.
pub fn sources(stored: &[String]) -> Vec<Source> {
    stored
        .iter()
        .map(|s| {
            let t = s.trim();
            let first = t.split_whitespace().next().unwrap_or("");
            let looks_like_address = first.contains('.') && first.contains('/') && !first.contains('@') && first.len() == t.len();
            let href = if t.starts_with("https://") || t.starts_with("http://") {
                Some(t.to_owned())
            } else if looks_like_address {
                Some(format!("https://{t}"))
            } else {
                None
            };
            Source { text: t.to_owned(), href }
        })
        .collect()
}

/// Page numbers around the current one, for a pagination bar.
#[derive(Debug, Clone)]
pub struct Pager {
    /// Current page (1-based).
    pub page: i64,
    /// Last page.
    pub last: i64,
}

impl Pager {
    /// Builds a pager for `total` items at `per_page`.
    pub fn new(page: i64, total: i64, per_page: i64) -> Self {
        let last = ((total + per_page - 1) / per_page).max(1);
        Self { page: page.clamp(1, last), last }
    }

    /// The pages to show: first, last, and two around the current one; 0 marks a gap.
    pub fn numbers(&self) -> Vec<i64> {
        let mut out: Vec<i64> = Vec::new();
        for n in 1..=self.last {
            if n == 1 || n == self.last || (n - self.page).abs() <= 2 {
                out.push(n);
            } else if out.last() != Some(&0) {
                out.push(0);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_web_addresses_become_external_links() {
        assert!(Link::external("https://vneid.gov.vn/").is_some());
        assert_eq!(Link::external("https://vneid.gov.vn/").unwrap().text, "vneid.gov.vn");
        for bad in ["javascript:alert(1)", "JAVASCRIPT:alert(1)", "data:text/html,x", "//evil.example", "vneid.gov.vn"] {
            assert!(Link::external(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn citations_that_are_addresses_become_links() {
        let s = sources(&["ictvietnam.vn/bo-tt-tt-cong-bo-35".into(), "Decision 186, Điều 2".into(), "https://x.vn/a".into()]);
        assert_eq!(s[0].href.as_deref(), Some("https://ictvietnam.vn/bo-tt-tt-cong-bo-35"));
        assert_eq!(s[1].href, None);
        assert_eq!(s[2].href.as_deref(), Some("https://x.vn/a"));
    }

    #[test]
    fn queries_are_cleaned_and_capped() {
        assert_eq!(clean_query(Some("  suc\u{0}\u{202e} khoe ")), ("suc\u{202e} khoe".to_owned(), false));
        let (long, cut) = clean_query(Some(&"ạ".repeat(5000)));
        assert!(cut);
        assert_eq!(long.chars().count(), MAX_QUERY_CHARS);
        assert_eq!(clean_query(None), (String::new(), false));
    }

    #[test]
    fn pager_shows_ends_and_neighbours_with_gaps() {
        assert_eq!(Pager::new(5, 200, 20).numbers(), [1, 0, 3, 4, 5, 6, 7, 0, 10]);
        assert_eq!(Pager::new(1, 0, 20).numbers(), [1]);
        assert_eq!(Pager::new(99, 40, 20).page, 2);
    }
}
