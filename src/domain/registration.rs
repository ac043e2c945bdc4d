//! The registration dossier of a new platform (Decision 578's application: characteristics,
//! potential users, scalability, security-level dossier, personal-data protection plan, data
//! stored in Vietnam).

use serde::{Deserialize, Serialize};

use crate::domain::listing::FieldError;
use crate::domain::platform::Kind;
use crate::domain::text::normalize;

/// Where the information-security level dossier (hồ sơ cấp độ) stands.
pub const SECURITY_DOSSIER: [&str; 4] = ["not_started", "preparing", "submitted", "approved"];

/// The dossier as submitted and stored (in the revision's `proposed`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Dossier {
    pub name: String,
    pub short_name: String,
    pub summary: String,
    pub kind: String,
    pub host_agency: String,
    pub website: String,
    pub characteristics: String,
    pub potential_users: String,
    pub scalability: String,
    pub security_dossier: String,
    pub personal_data_plan: String,
    pub data_in_vietnam: String,
}

impl Dossier {
    /// Normalises the dossier's text in place and checks it; every problem at once.
    pub fn validate(&mut self, known_agencies: &[String]) -> Result<(), Vec<FieldError>> {
        for field in [
            &mut self.name,
            &mut self.short_name,
            &mut self.summary,
            &mut self.website,
            &mut self.characteristics,
            &mut self.potential_users,
            &mut self.scalability,
            &mut self.personal_data_plan,
        ] {
            *field = normalize(field);
        }
        let mut errors = Vec::new();
        let required = [
            ("name", &self.name, 200),
            ("summary", &self.summary, 1000),
            ("characteristics", &self.characteristics, 5000),
            ("potential_users", &self.potential_users, 3000),
            ("scalability", &self.scalability, 3000),
            ("personal_data_plan", &self.personal_data_plan, 5000),
        ];
        for (field, value, max) in required {
            if value.is_empty() {
                errors.push((field, "form.required"));
            } else if value.chars().count() > max {
                errors.push((field, "form.too_long"));
            }
        }
        if self.short_name.chars().count() > 60 {
            errors.push(("short_name", "form.too_long"));
        }
        if Kind::parse(&self.kind).is_none() {
            errors.push(("kind", "form.choice"));
        }
        if !self.host_agency.is_empty() && !known_agencies.contains(&self.host_agency) {
            errors.push(("host_agency", "form.choice"));
        }
        if !SECURITY_DOSSIER.contains(&self.security_dossier.as_str()) {
            errors.push(("security_dossier", "form.choice"));
        }
        if !matches!(self.data_in_vietnam.as_str(), "yes" | "no") {
            errors.push(("data_in_vietnam", "form.choice"));
        }
        let lower = self.website.to_ascii_lowercase();
        let web = lower.starts_with("https://") || lower.starts_with("http://");
        if !self.website.is_empty() && (!web || self.website.chars().any(char::is_whitespace)) {
            errors.push(("website", "form.url"));
        }
        if errors.is_empty() { Ok(()) } else { Err(errors) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_complete_dossier_passes_and_gaps_are_named() {
        let good = Dossier {
            name: "Nền tảng thử".into(),
            summary: "Tóm tắt".into(),
            kind: "sector_shared".into(),
            characteristics: "a".into(),
            potential_users: "b".into(),
            scalability: "c".into(),
            security_dossier: "preparing".into(),
            personal_data_plan: "d".into(),
            data_in_vietnam: "yes".into(),
            ..Dossier::default()
        };
        assert!(good.clone().validate(&[]).is_ok());
        let errors = Dossier { kind: "x".into(), personal_data_plan: " ".into(), ..good }.validate(&[]).unwrap_err();
        assert_eq!(errors, vec![("personal_data_plan", "form.required"), ("kind", "form.choice")]);
    }
}
