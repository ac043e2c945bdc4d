//! Typed ids: an account's id cannot be passed where a platform's or an enterprise's is
//! expected. Each is the table's `bigint` key, read and written as is (`sqlx(transparent)`), and
//! shown and serialised as the number.

macro_rules! ids {
    ($($(#[$meta:meta])* $name:ident),+ $(,)?) => {$(
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, sqlx::Type, serde::Serialize, serde::Deserialize)]
        #[sqlx(transparent)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    )+};
}

ids!(
    /// An account (`users.id`).
    UserId,
    /// A platform (`platforms.id`).
    PlatformId,
    /// An enterprise (`enterprises.id`).
    EnterpriseId,
);
