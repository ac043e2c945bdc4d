//! The one translation mechanism: Vietnamese by default, English on request.
//!
//! The language is per request (query `?lang=`, then the `ndp_lang` cookie); nothing sets a
//! process-wide locale. Texts live in `src/locales/*.yml`.

/// Name of the cookie that remembers the chosen language.
pub const LANG_COOKIE: &str = "ndp_lang";

/// A language the portal is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// Vietnamese, the default.
    #[default]
    Vi,
    /// English.
    En,
}

impl Lang {
    /// Every language, in the order the switcher shows them.
    pub const ALL: [Self; 2] = [Self::Vi, Self::En];

    /// The language code, as used in `lang=` and `<html lang>`.
    pub fn code(self) -> &'static str {
        match self {
            Self::Vi => "vi",
            Self::En => "en",
        }
    }

    /// Parses a language code.
    pub fn parse(code: &str) -> Option<Self> {
        match code.trim() {
            "vi" => Some(Self::Vi),
            "en" => Some(Self::En),
            _ => None,
        }
    }

    /// The translation of `key` in this language (the key itself when it has none).
    pub fn t(self, key: &str) -> String {
        rust_i18n::t!(key, locale = self.code()).into_owned()
    }

    /// The translation of `key` with `%{name}` placeholders filled in.
    pub fn t_with(self, key: &str, args: &[(&str, &str)]) -> String {
        args.iter().fold(self.t(key), |text, (name, value)| text.replace(&format!("%{{{name}}}"), value))
    }

    /// The translation of `key` for a count, filled in as `%{count}`: English uses `<key>_one`
    /// for exactly one when it exists; Vietnamese does not inflect.
    pub fn t_count(self, key: &str, count: i64) -> String {
        let one = format!("{key}_one");
        let key = if count == 1 && self.has(&one) { one.as_str() } else { key };
        self.t_with(key, &[("count", &self.number(count))])
    }

    /// Whether `key` has a translation in this language (rust-i18n gives the key back when not).
    pub fn has(self, key: &str) -> bool {
        self.t(key) != key
    }

    /// A date in this language's usual form (`07/10/2022` or `7 Oct 2022`).
    pub fn date(self, date: time::Date) -> String {
        match self {
            Self::Vi => format!("{:02}/{:02}/{}", date.day(), u8::from(date.month()), date.year()),
            Self::En => format!("{} {} {}", date.day(), &date.month().to_string()[..3], date.year()),
        }
    }

    /// A whole number with the language's thousands separator.
    pub fn number(self, n: i64) -> String {
        let sep = match self {
            Self::Vi => '.',
            Self::En => ',',
        };
        let digits = n.unsigned_abs().to_string();
        let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
        if n < 0 {
            out.push('-');
        }
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(sep);
            }
            out.push(c);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_languages_translate_the_portal_name() {
        assert!(Lang::Vi.t("site.name").contains("nền tảng số"));
        assert!(Lang::En.t("site.name").contains("Digital Platforms"));
    }

    #[test]
    fn numbers_and_dates_follow_the_language() {
        assert_eq!(Lang::Vi.number(65_000_000), "65.000.000");
        assert_eq!(Lang::En.number(1234), "1,234");
        assert_eq!(Lang::En.number(-5), "-5");
        let d = time::macros::date!(2022 - 10 - 07);
        assert_eq!(Lang::Vi.date(d), "07/10/2022");
        assert_eq!(Lang::En.date(d), "7 Oct 2022");
    }

    #[test]
    fn counts_use_the_singular_form_where_the_language_has_one() {
        assert_eq!(Lang::En.t_count("catalogue.count", 1), "1 platform");
        assert_eq!(Lang::En.t_count("catalogue.count", 1200), "1,200 platforms");
        assert_eq!(Lang::Vi.t_count("catalogue.count", 1), "1 nền tảng");
    }

    /// Every literal key passed to a translation call in the templates and the code, in both languages.
    /// Sections whose keys appear as plain string literals in the code.
    const KEYED_SECTIONS: [&str; 11] =
        ["form", "auth", "listing", "staff", "account", "security", "report", "logo", "error", "registration", "mail"];

    #[test]
    fn every_key_used_is_translated_in_both_languages() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        let mut dirs = vec![root.join("templates"), root.join("src")];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "html" || e == "rs") {
                    files.push(path);
                }
            }
        }
        let mut missing = Vec::new();
        let mut checked = 0;
        let field_files = files.clone();
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for call in [
                ".t(\"",
                ".tw(\"",
                ".tc(\"",
                ".t_with(\"",
                ".t_count(\"",
                "Fact::text(lang, \"",
                "Fact::links(lang, \"",
                "error_response(StatusCode::NOT_FOUND, \"",
            ] {
                for piece in text.split(call).skip(1) {
                    let key: String = piece.chars().take_while(|c| *c != '"').collect();
                    if !key.contains('.') || key.contains(' ') || key.contains('{') {
                        continue;
                    }
                    checked += 1;
                    for lang in Lang::ALL {
                        if !lang.has(&key) {
                            missing.push(format!("{}: {key} ({})", file.display(), lang.code()));
                        }
                    }
                }
            }
        }
        // Field labels: `layout.field("x")`, the form macros and form errors all use `field.<name>`.
        for file in field_files.iter().filter(|f| !f.ends_with("i18n.rs")) {
            let text = std::fs::read_to_string(file).unwrap();
            for call in ["layout.field(\"", "self.errors, \"", "errors.add(\"", "errors.check(\""] {
                for piece in text.split(call).skip(1) {
                    let name: String = piece.chars().take_while(|c| *c != '"').collect();
                    checked += 1;
                    for lang in Lang::ALL {
                        if !lang.has(&format!("field.{name}")) {
                            missing.push(format!("{}: field.{name} ({})", file.display(), lang.code()));
                        }
                    }
                }
            }
            // Message keys held in string literals (form errors, flashes, conflicts).
            for piece in text.split('"').skip(1).step_by(2) {
                let section = piece.split('.').next().unwrap_or("");
                let keyish = piece.split('.').count() == 2 && piece.chars().all(|c| c.is_ascii_lowercase() || c == '_' || c == '.');
                if keyish && !piece.ends_with(".html") && KEYED_SECTIONS.contains(&section) {
                    checked += 1;
                    for lang in Lang::ALL {
                        if !lang.has(piece) {
                            missing.push(format!("{}: {piece} ({})", file.display(), lang.code()));
                        }
                    }
                }
            }
        }
        // Labels of the stored vocabularies (`layout.label(value)`), read from the enums themselves,
        // and of the value lists that are not enums.
        use crate::domain::{Labelled, account, listing, moderation, platform};
        fn keys<T: Labelled>(values: &[T]) -> Vec<&'static str> {
            values.iter().map(Labelled::label_key).collect()
        }
        let mut labels = [
            keys(account::Role::ALL),
            keys(account::Status::ALL),
            keys(moderation::ItemKind::ALL),
            keys(moderation::ItemState::ALL),
            keys(moderation::AppealState::ALL),
            keys(moderation::Hold::ALL),
            keys(moderation::RatingOrder::ALL),
            keys(listing::RevisionState::ALL),
            keys(platform::Kind::ALL),
            keys(platform::Pillar::ALL),
            keys(platform::Status::ALL),
            keys(platform::AgencyKind::ALL),
            keys(platform::DecisionKind::ALL),
        ]
        .concat()
        .into_iter()
        .map(str::to_owned)
        .collect::<Vec<String>>();
        let lists: [(&str, &[&str]); 4] = [
            ("reason", &crate::domain::moderation::REASONS),
            ("report_state", &["due", "overdue", "submitted", "late"]),
            ("security_dossier", &crate::domain::registration::SECURITY_DOSSIER),
            ("reject", &["incomplete", "inaccurate", "not_owner", "other"]),
        ];
        labels.extend(lists.iter().flat_map(|(prefix, values)| values.iter().map(move |v| format!("{prefix}.{v}"))));
        for key in labels {
            for lang in Lang::ALL {
                if !lang.has(&key) {
                    missing.push(format!("{key} ({})", lang.code()));
                }
            }
        }
        assert!(checked > 100, "the scan found the calls ({checked})");
        assert!(missing.is_empty(), "untranslated keys:\n{}", missing.join("\n"));
    }

    #[test]
    fn both_locale_files_have_the_same_keys_apart_from_singular_forms() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/locales");
        let keys = |file: &str| -> Vec<String> {
            let text = std::fs::read_to_string(root.join(file)).unwrap();
            let mut section = String::new();
            let mut out = Vec::new();
            for line in text.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('_')) {
                let name = line.trim().split(':').next().unwrap_or("").to_owned();
                if line.starts_with("  ") {
                    if !name.ends_with("_one") {
                        out.push(format!("{section}.{name}"));
                    }
                } else {
                    section = name;
                }
            }
            out
        };
        assert_eq!(keys("vi.yml"), keys("en.yml"));
    }

    #[test]
    fn placeholders_are_filled() {
        assert_eq!(Lang::En.t_with("catalogue.count", &[("count", "3")]), "3 platforms");
    }
}
