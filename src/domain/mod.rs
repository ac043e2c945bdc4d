//! Newtypes, enumerations and validation of the domain: no axum, no sqlx.
//!
//! Every closed set of stored values (roles, states, kinds) is an enum made by [`vocabulary!`]:
//! `as_str` is the stored text (and the URL value), `parse` reads it back, `label_key` is the
//! translation key of its label, and `ALL` lists the values in display order. The database layer
//! reads and writes them as text (`db::types`).

/// Defines a closed vocabulary: an enum whose values are stored as text.
macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident, $prefix:literal, { $($variant:ident => $value:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $(#[doc = $value] $variant),+ }

        impl $name {
            /// Every value, in display order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The stored value, also used in URLs.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $value),+ }
            }

            /// Parses a stored or URL value.
            pub fn parse(value: &str) -> Option<Self> {
                match value { $($value => Some(Self::$variant),)+ _ => None }
            }

            /// The translation key of the value's label.
            pub fn label_key(self) -> &'static str {
                match self { $(Self::$variant => concat!($prefix, ".", $value)),+ }
            }
        }

        impl $crate::domain::Labelled for $name {
            fn label_key(&self) -> &'static str {
                <$name>::label_key(*self)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                Self::parse(&text).ok_or_else(|| serde::de::Error::custom(format!("unknown {} {text:?}", stringify!($name))))
            }
        }
    };
}

/// A stored value with a translated label (every [`vocabulary!`] enum).
pub trait Labelled {
    /// The translation key of the label.
    fn label_key(&self) -> &'static str;
}

impl<T: Labelled + ?Sized> Labelled for &T {
    fn label_key(&self) -> &'static str {
        (**self).label_key()
    }
}

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
