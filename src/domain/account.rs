//! Accounts: roles, email addresses, passwords, display names and Vietnamese tax codes.

use std::collections::HashSet;
use std::sync::LazyLock;

vocabulary!(
    /// The role of an account, mirrored by `users_role_check`; in order of power.
    Role, "role", {
        Citizen => "citizen",
        Enterprise => "enterprise",
        Moderator => "moderator",
        Evaluator => "evaluator",
        Admin => "admin",
    }
);

impl Role {
    /// Staff roles must sign in with a second factor.
    pub fn is_staff(self) -> bool {
        matches!(self, Self::Moderator | Self::Evaluator | Self::Admin)
    }

    /// Moderators and admins run the moderation desk, revisions and enterprise approvals.
    pub fn can_moderate(self) -> bool {
        matches!(self, Self::Moderator | Self::Admin)
    }
}

vocabulary!(
    /// The state of an account, mirrored by `users_status_check`.
    Status, "user_status", {
        Pending => "pending",
        Active => "active",
        Disabled => "disabled",
        Deleted => "deleted",
    }
);

impl Status {
    /// Whether the account may sign in (`pending` ones can, to verify and wait for approval).
    pub fn may_sign_in(self) -> bool {
        matches!(self, Self::Pending | Self::Active)
    }

    /// Switched off by staff.
    pub fn is_disabled(self) -> bool {
        self == Self::Disabled
    }

    /// Erased at the owner's request.
    pub fn is_deleted(self) -> bool {
        self == Self::Deleted
    }
}

/// Why a form value was refused; each maps to a translation key `form.<name>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invalid {
    /// Nothing was entered.
    Required,
    /// Not an email address.
    Email,
    /// Fewer than [`MIN_PASSWORD_CHARS`] characters.
    PasswordShort,
    /// More than [`MAX_PASSWORD_CHARS`] characters.
    PasswordLong,
    /// In the shipped list of common passwords, or the email itself.
    PasswordCommon,
    /// Too long for the field.
    TooLong,
    /// Not a tax code.
    TaxCode,
}

impl Invalid {
    /// The translation key of the message.
    pub fn message_key(self) -> &'static str {
        match self {
            Self::Required => "form.required",
            Self::Email => "form.email",
            Self::PasswordShort => "form.password_short",
            Self::PasswordLong => "form.password_long",
            Self::PasswordCommon => "form.password_common",
            Self::TooLong => "form.too_long",
            Self::TaxCode => "form.tax_code",
        }
    }
}

/// A syntactically valid email address, trimmed; compared case-insensitively by the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// Parses an address typed into a form.
    pub fn parse(input: &str) -> Result<Self, Invalid> {
        let email = input.trim();
        if email.is_empty() {
            return Err(Invalid::Required);
        }
        let Some((local, domain)) = email.split_once('@') else { return Err(Invalid::Email) };
        let valid = !local.is_empty()
            && email.chars().count() <= 254
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains('@')
            && !email.chars().any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | '"' | ',' | ';'));
        if valid { Ok(Self(email.to_owned())) } else { Err(Invalid::Email) }
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The lower-cased address, the key for throttling.
    pub fn key(&self) -> String {
        self.0.to_lowercase()
    }
}

/// Fewest characters in a password.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Most characters in a password (hashing cost stays bounded).
pub const MAX_PASSWORD_CHARS: usize = 200;

static COMMON_PASSWORDS: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("common-passwords.txt").lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).collect()
});

/// Checks a new password against the policy: length, and not a common password or the email.
pub fn check_new_password(password: &str, email: &str) -> Result<(), Invalid> {
    let chars = password.chars().count();
    if chars == 0 {
        return Err(Invalid::Required);
    }
    if chars < MIN_PASSWORD_CHARS {
        return Err(Invalid::PasswordShort);
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(Invalid::PasswordLong);
    }
    let lower = password.to_lowercase();
    let local = email.trim().to_lowercase();
    let local = local.split('@').next().unwrap_or_default();
    if COMMON_PASSWORDS.contains(lower.as_str()) || lower == email.trim().to_lowercase() || (!local.is_empty() && lower == local) {
        return Err(Invalid::PasswordCommon);
    }
    Ok(())
}

/// A name shown beside contributions: trimmed, 1–100 characters, no control characters.
pub fn parse_display_name(input: &str) -> Result<String, Invalid> {
    let name: String = input.trim().chars().filter(|c| !c.is_control()).collect();
    match name.chars().count() {
        0 => Err(Invalid::Required),
        1..=100 => Ok(crate::domain::text::normalize(&name)),
        _ => Err(Invalid::TooLong),
    }
}

/// A Vietnamese tax code (mã số thuế): 10 digits, or 10 digits, a hyphen and 3 digits for a branch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaxCode(String);

impl TaxCode {
    /// Parses a tax code as people type it: spaces and dots between groups are dropped, and any
    /// dash or minus sign before the branch number becomes a hyphen.
    pub fn parse(input: &str) -> Result<Self, Invalid> {
        let compact: String = input
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '.')
            .map(|c| if matches!(c, '‐' | '‑' | '–' | '—' | '−') { '-' } else { c })
            .collect();
        if compact.is_empty() {
            return Err(Invalid::Required);
        }
        let (main, branch) = match compact.split_once('-') {
            Some((main, branch)) => (main, Some(branch)),
            None => (compact.as_str(), None),
        };
        let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
        if digits(main, 10) && branch.is_none_or(|b| digits(b, 3)) { Ok(Self(compact)) } else { Err(Invalid::TaxCode) }
    }

    /// The normalised code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tax_codes_are_validated_and_normalised() {
        let good = [
            ("0101234567", "0101234567", "ten digits"),
            (" 0101 234 567 ", "0101234567", "spaces between groups"),
            ("0101234567-001", "0101234567-001", "branch form"),
            ("0101234567 – 001", "0101234567-001", "en dash and spaces before the branch"),
            ("0101.234.567", "0101234567", "dots between groups"),
        ];
        for (input, expected, why) in good {
            assert_eq!(TaxCode::parse(input).map(|t| t.0), Ok(expected.to_owned()), "{why}");
        }
        let bad = [
            ("", Invalid::Required, "empty"),
            ("012345678", Invalid::TaxCode, "nine digits"),
            ("01234567890", Invalid::TaxCode, "eleven digits"),
            ("01012345AB", Invalid::TaxCode, "letters"),
            ("0101234567-01", Invalid::TaxCode, "branch of two digits"),
            ("0101234567-0011", Invalid::TaxCode, "branch of four digits"),
            ("0101234567-", Invalid::TaxCode, "hyphen without branch"),
            ("0101234567-001-002", Invalid::TaxCode, "two branches"),
            ("０１０１２３４５６７", Invalid::TaxCode, "full-width digits"),
        ];
        for (input, expected, why) in bad {
            assert_eq!(TaxCode::parse(input), Err(expected), "{why}: {input:?}");
        }
    }

    #[test]
    fn passwords_follow_the_policy() {
        assert_eq!(check_new_password("", "a@b.vn"), Err(Invalid::Required));
        assert_eq!(check_new_password("ngắn quá", "a@b.vn"), Err(Invalid::PasswordShort));
        assert_eq!(check_new_password(&"x".repeat(201), "a@b.vn"), Err(Invalid::PasswordLong));
        assert_eq!(check_new_password("1234567890", "a@b.vn"), Err(Invalid::PasswordCommon));
        assert_eq!(check_new_password("Password123", "a@b.vn"), Err(Invalid::PasswordCommon));
        assert_eq!(check_new_password("nguyenvanan", "nguyenvanan@mail.vn"), Err(Invalid::PasswordCommon));
        assert_eq!(check_new_password("mây trắng bay về núi", "a@b.vn"), Ok(()));
    }

    #[test]
    fn emails_are_checked_for_shape_only() {
        assert!(
            Email::parse(" An.Nguyen@Example.vn ").is_ok_and(|e| e.as_str() == "An.Nguyen@Example.vn" && e.key() == "an.nguyen@example.vn")
        );
        for bad in ["", "no-at-sign", "@example.vn", "a@b", "a@.vn", "a b@c.vn", "a@b@c.vn", "<a@b.vn>"] {
            assert!(Email::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn roles_round_trip_and_staff_is_moderator_evaluator_admin() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(*role));
        }
        assert_eq!(Role::ALL.iter().filter(|r| r.is_staff()).count(), 3);
    }
}
