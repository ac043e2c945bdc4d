//! The public fields of a platform listing that its enterprise may propose changes to, their
//! validation, and the field-by-field comparison that revision review and public history show.

use serde::{Deserialize, Serialize};

use crate::domain::text::normalize;

vocabulary!(
    /// Where a proposed change to a listing is in review, mirrored by `revisions_state_check`.
    RevisionState, "revision_state", {
        Draft => "draft",
        Submitted => "submitted",
        Approved => "approved",
        Rejected => "rejected",
        Withdrawn => "withdrawn",
    }
);

/// A listing its enterprise has not confirmed for longer than this is marked as possibly out of
/// date on its public page (and the enterprise is asked to confirm it).
pub const CONFIRM_EVERY: time::Duration = time::Duration::days(183);

/// Whether a listing last confirmed at `confirmed` (never: `None`) is out of date at `now`.
pub fn is_stale(confirmed: Option<time::OffsetDateTime>, now: time::OffsetDateTime) -> bool {
    confirmed.is_none_or(|at| now - at > CONFIRM_EVERY)
}

/// The editable listing: what a revision proposes, and what approval publishes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Listing {
    /// Vietnamese name.
    pub name: String,
    /// English name.
    pub name_en: Option<String>,
    /// Short name or abbreviation.
    pub short_name: Option<String>,
    /// One-paragraph summary.
    pub summary: Option<String>,
    /// Description in Markdown.
    pub description: Option<String>,
    /// Main functions.
    pub main_functions: Option<String>,
    /// Who and what it applies to.
    pub applicability: Option<String>,
    /// Need-group slugs.
    pub need_groups: Vec<String>,
    /// Website.
    pub website: Option<String>,
    /// Google Play link.
    pub android_url: Option<String>,
    /// App Store link.
    pub ios_url: Option<String>,
    /// Interface languages (ISO 639-1 codes).
    pub languages: Vec<String>,
    /// Accessibility statement link.
    pub accessibility_url: Option<String>,
    /// Data stored in Vietnam (none = not stated).
    pub data_in_vietnam: Option<bool>,
    /// Information-security level (cấp độ 1–5).
    pub security_level: Option<i16>,
    /// Users reported by the owner.
    pub reported_users: Option<i64>,
    /// Logo file name under the uploads directory.
    pub logo_path: Option<String>,
}

/// The listing form as submitted: every field as text, so nothing typed is lost on an error.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ListingForm {
    pub name: String,
    pub name_en: String,
    pub short_name: String,
    pub summary: String,
    pub description: String,
    pub main_functions: String,
    pub applicability: String,
    #[serde(deserialize_with = "one_or_many")]
    pub need_groups: Vec<String>,
    pub website: String,
    pub android_url: String,
    pub ios_url: String,
    pub languages: String,
    pub accessibility_url: String,
    pub data_in_vietnam: String,
    pub security_level: String,
    pub reported_users: String,
    pub logo_path: String,
}

/// A checkbox group's values. Inside a flattened form struct a key sent once arrives as a plain
/// value and only a repeated key as a sequence, so both are accepted.
fn one_or_many<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(deserializer)? {
        OneOrMany::One(value) => vec![value],
        OneOrMany::Many(values) => values,
    })
}

/// A refused field: its name and the translation key of the reason.
pub type FieldError = (&'static str, &'static str);

fn opt(text: &str) -> Option<String> {
    let t = normalize(text);
    (!t.is_empty()).then_some(t)
}

fn check_len(errors: &mut Vec<FieldError>, field: &'static str, value: &Option<String>, max: usize) {
    if value.as_ref().is_some_and(|v| v.chars().count() > max) {
        errors.push((field, "form.too_long"));
    }
}

fn check_url(errors: &mut Vec<FieldError>, field: &'static str, value: &Option<String>) {
    if let Some(url) = value {
        let lower = url.to_ascii_lowercase();
        let ok = (lower.starts_with("https://") || lower.starts_with("http://"))
            && url.len() <= 500
            && !url.chars().any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | '"'))
            && url.split("://").nth(1).is_some_and(|rest| rest.split('/').next().is_some_and(|host| host.contains('.')));
        if !ok {
            errors.push((field, "form.url"));
        }
    }
}

impl ListingForm {
    /// The form filled with a listing's values.
    pub fn from_listing(l: &Listing) -> Self {
        let s = |v: &Option<String>| v.clone().unwrap_or_default();
        Self {
            name: l.name.clone(),
            name_en: s(&l.name_en),
            short_name: s(&l.short_name),
            summary: s(&l.summary),
            description: s(&l.description),
            main_functions: s(&l.main_functions),
            applicability: s(&l.applicability),
            need_groups: l.need_groups.clone(),
            website: s(&l.website),
            android_url: s(&l.android_url),
            ios_url: s(&l.ios_url),
            languages: l.languages.join(", "),
            accessibility_url: s(&l.accessibility_url),
            data_in_vietnam: match l.data_in_vietnam {
                Some(true) => "yes".into(),
                Some(false) => "no".into(),
                None => String::new(),
            },
            security_level: l.security_level.map(|v| v.to_string()).unwrap_or_default(),
            reported_users: l.reported_users.map(|v| v.to_string()).unwrap_or_default(),
            logo_path: s(&l.logo_path),
        }
    }

    /// Validates the form against the known need groups; every problem is reported at once.
    pub fn parse(&self, known_need_groups: &[String]) -> Result<Listing, Vec<FieldError>> {
        let mut errors = Vec::new();
        let name = normalize(&self.name);
        if name.is_empty() {
            errors.push(("name", "form.required"));
        } else if name.chars().count() > 200 {
            errors.push(("name", "form.too_long"));
        }
        let listing = Listing {
            name,
            name_en: opt(&self.name_en),
            short_name: opt(&self.short_name),
            summary: opt(&self.summary),
            description: opt(&self.description),
            main_functions: opt(&self.main_functions),
            applicability: opt(&self.applicability),
            need_groups: {
                let mut groups: Vec<String> = self.need_groups.iter().map(|g| g.trim().to_owned()).filter(|g| !g.is_empty()).collect();
                groups.sort();
                groups.dedup();
                if groups.iter().any(|g| !known_need_groups.contains(g)) {
                    errors.push(("need_groups", "form.choice"));
                }
                groups
            },
            website: opt(&self.website),
            android_url: opt(&self.android_url),
            ios_url: opt(&self.ios_url),
            languages: {
                let mut codes: Vec<String> =
                    self.languages.split([',', ' ', ';']).map(|c| c.trim().to_ascii_lowercase()).filter(|c| !c.is_empty()).collect();
                codes.dedup();
                if codes.len() > 20 || codes.iter().any(|c| c.len() != 2 || !c.bytes().all(|b| b.is_ascii_lowercase())) {
                    errors.push(("languages", "form.languages"));
                }
                codes
            },
            accessibility_url: opt(&self.accessibility_url),
            data_in_vietnam: match self.data_in_vietnam.as_str() {
                "yes" => Some(true),
                "no" => Some(false),
                "" => None,
                _ => {
                    errors.push(("data_in_vietnam", "form.choice"));
                    None
                }
            },
            security_level: match self.security_level.trim() {
                "" => None,
                v => match v.parse::<i16>() {
                    Ok(level @ 1..=5) => Some(level),
                    _ => {
                        errors.push(("security_level", "form.choice"));
                        None
                    }
                },
            },
            reported_users: match self.reported_users.trim().replace(['.', ',', ' '], "") {
                v if v.is_empty() => None,
                v => match v.parse::<i64>() {
                    Ok(n) if n >= 0 => Some(n),
                    _ => {
                        errors.push(("reported_users", "form.whole_number"));
                        None
                    }
                },
            },
            logo_path: opt(&self.logo_path).filter(|p| is_logo_name(p)),
        };
        check_len(&mut errors, "name_en", &listing.name_en, 200);
        check_len(&mut errors, "short_name", &listing.short_name, 60);
        check_len(&mut errors, "summary", &listing.summary, 1000);
        check_len(&mut errors, "description", &listing.description, 20_000);
        check_len(&mut errors, "main_functions", &listing.main_functions, 5000);
        check_len(&mut errors, "applicability", &listing.applicability, 3000);
        for (field, value) in [
            ("website", &listing.website),
            ("android_url", &listing.android_url),
            ("ios_url", &listing.ios_url),
            ("accessibility_url", &listing.accessibility_url),
        ] {
            check_url(&mut errors, field, value);
        }
        if errors.is_empty() { Ok(listing) } else { Err(errors) }
    }
}

/// Whether `name` is a file name the logo store produces (hex digest and `.png`).
pub fn is_logo_name(name: &str) -> bool {
    name.strip_suffix(".png").is_some_and(|stem| stem.len() == 64 && stem.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()))
}

/// One field that differs between two listings, as text for display.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// Field name (also the translation key suffix `listing.<field>`).
    pub field: &'static str,
    /// Published value.
    pub before: String,
    /// Proposed value.
    pub after: String,
}

impl Listing {
    /// Every field as the form shows it (need groups and languages joined by ", ").
    fn fields(&self) -> Vec<(&'static str, String)> {
        let f = ListingForm::from_listing(self);
        vec![
            ("name", f.name),
            ("name_en", f.name_en),
            ("short_name", f.short_name),
            ("summary", f.summary),
            ("description", f.description),
            ("main_functions", f.main_functions),
            ("applicability", f.applicability),
            ("need_groups", f.need_groups.join(", ")),
            ("website", f.website),
            ("android_url", f.android_url),
            ("ios_url", f.ios_url),
            ("languages", f.languages),
            ("accessibility_url", f.accessibility_url),
            ("data_in_vietnam", f.data_in_vietnam),
            ("security_level", f.security_level),
            ("reported_users", f.reported_users),
            ("logo_path", f.logo_path),
        ]
    }

    /// The fields that differ from `before`, in form order.
    pub fn changes_from(&self, before: &Self) -> Vec<Change> {
        before
            .fields()
            .into_iter()
            .zip(self.fields())
            .filter(|((_, a), (_, b))| a != b)
            .map(|((field, a), (_, b))| Change { field, before: a, after: b })
            .collect()
    }
}

/// Shows need groups by name instead of slug in a list of changes (`names` maps slug to name).
pub fn name_need_groups(changes: &mut [Change], names: &[(String, String)]) {
    let readable = |list: &str| {
        list.split(", ")
            .filter(|s| !s.is_empty())
            .map(|slug| names.iter().find(|(s, _)| s == slug).map_or(slug, |(_, n)| n.as_str()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    for change in changes.iter_mut().filter(|c| c.field == "need_groups") {
        change.before = readable(&change.before);
        change.after = readable(&change.after);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> ListingForm {
        ListingForm { name: " Nền tảng  thử ".into(), website: "https://vd.gov.vn".into(), ..ListingForm::default() }
    }

    #[test]
    fn a_good_form_parses_and_round_trips() {
        let known = vec!["y-te".to_owned()];
        let mut f = form();
        f.need_groups = vec!["y-te".into(), "y-te".into()];
        f.languages = "vi, en".into();
        f.data_in_vietnam = "yes".into();
        f.security_level = "3".into();
        f.reported_users = "1.200.000".into();
        let listing = f.parse(&known).unwrap();
        assert_eq!(listing.name, "Nền tảng  thử");
        assert_eq!(listing.need_groups, vec!["y-te"]);
        assert_eq!(listing.reported_users, Some(1_200_000));
        assert_eq!(ListingForm::from_listing(&listing).parse(&known).unwrap(), listing);
    }

    #[test]
    fn bad_fields_are_all_reported() {
        type Case = (fn(&mut ListingForm), &'static str, &'static str);
        let cases: [Case; 8] = [
            (|f| f.name = "  ".into(), "name", "form.required"),
            (|f| f.website = "javascript:alert(1)".into(), "website", "form.url"),
            (|f| f.ios_url = "https://a b.vn".into(), "ios_url", "form.url"),
            (|f| f.security_level = "9".into(), "security_level", "form.choice"),
            (|f| f.reported_users = "-5".into(), "reported_users", "form.whole_number"),
            (|f| f.need_groups = vec!["khong-co".into()], "need_groups", "form.choice"),
            (|f| f.languages = "vietnamese".into(), "languages", "form.languages"),
            (|f| f.summary = "x".repeat(1001), "summary", "form.too_long"),
        ];
        for (change, field, key) in cases {
            let mut f = form();
            change(&mut f);
            let errors = f.parse(&[]).unwrap_err();
            assert!(errors.contains(&(field, key)), "{field}: {errors:?}");
        }
    }

    #[test]
    fn changes_list_only_differing_fields() {
        let a = Listing { name: "A".into(), summary: Some("x".into()), ..Listing::default() };
        let b = Listing { name: "A".into(), summary: Some("y".into()), ..Listing::default() };
        assert_eq!(b.changes_from(&a), vec![Change { field: "summary", before: "x".into(), after: "y".into() }]);
        assert!(a.changes_from(&a).is_empty());
        assert!(is_logo_name(&format!("{}.png", "a".repeat(64))));
        assert!(!is_logo_name("../etc/passwd.png"));
    }

    #[test]
    fn need_groups_are_named_in_changes() {
        let mut changes = vec![Change { field: "need_groups", before: "y-te".into(), after: "di-lai, y-te".into() }];
        name_need_groups(&mut changes, &[("y-te".into(), "Y tế".into()), ("di-lai".into(), "Đi lại".into())]);
        assert_eq!((changes[0].before.as_str(), changes[0].after.as_str()), ("Y tế", "Đi lại, Y tế"));
    }
}
