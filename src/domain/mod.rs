//! Newtypes, enumerations and validation of the domain: no axum, no sqlx.

pub mod account;
pub mod listing;
pub mod moderation;
pub mod platform;
pub mod registration;
pub mod text;

/// A URL slug: lowercase ASCII letters and digits in words joined by single hyphens, at most 120 bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slug(String);

impl Slug {
    /// Parses a slug from a path segment; anything else is `None` (answered with 404).
    pub fn parse(input: &str) -> Option<Self> {
        let valid = !input.is_empty()
            && input.len() <= 120
            && input.split('-').all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
        valid.then(|| Self(input.to_owned()))
    }

    /// The slug text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::Slug;

    #[test]
    fn slug_parsing_accepts_only_the_canonical_form() {
        for good in ["vneid", "nen-tang-dia-chi-so", "qd-186-2022"] {
            assert!(Slug::parse(good).is_some(), "{good}");
        }
        let long = "a".repeat(121);
        for bad in ["", "-a", "a-", "a--b", "Abc", "a b", "a_b", "../etc", "sức", long.as_str()] {
            assert!(Slug::parse(bad).is_none(), "{bad:?}");
        }
    }
}
