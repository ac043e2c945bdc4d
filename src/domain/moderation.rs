//! Moderation: what can be moderated, the automatic rules that hold an item for a moderator,
//! the reasons a moderator gives, and the edit that removes personal data from a text.

use std::sync::LazyLock;

use crate::domain::text::fold;

vocabulary!(
    /// A kind of user content under moderation; each has its own table with the same moderation
    /// columns. The stored value also names it in flags, appeals and URLs.
    ItemKind, "item_kind", {
        Rating => "rating",
        Feedback => "feedback",
        Reply => "reply",
        Question => "question",
        Answer => "answer",
    }
);

vocabulary!(
    /// Where an item of user content is in moderation, mirrored by the `*_state_check` constraints.
    ItemState, "item_state", {
        Pending => "pending",
        Published => "published",
        Rejected => "rejected",
        Hidden => "hidden",
        Withdrawn => "withdrawn",
    }
);

#[expect(clippy::derivable_impls, reason = "the enum is made by vocabulary!, whose variants take no attributes")]
impl Default for RatingOrder {
    fn default() -> Self {
        Self::Newest
    }
}

impl ItemState {
    /// Refused by a moderator, or hidden by flags: the author may appeal.
    pub fn is_refused(self) -> bool {
        matches!(self, Self::Rejected | Self::Hidden)
    }

    /// Shown to the public.
    pub fn is_published(self) -> bool {
        self == Self::Published
    }

    /// Hidden by flags until a moderator decides.
    pub fn is_hidden(self) -> bool {
        self == Self::Hidden
    }
}

vocabulary!(
    /// What became of an appeal.
    AppealState, "appeal_state", {
        Pending => "pending",
        Upheld => "upheld",
        Overturned => "overturned",
    }
);

vocabulary!(
    /// The order of the ratings on a platform page (`?order=`).
    RatingOrder, "order", {
        Newest => "newest",
        Oldest => "oldest",
        Highest => "highest",
        Lowest => "lowest",
    }
);

impl ItemKind {
    /// The table holding this kind (a closed set: safe to place in SQL text).
    pub fn table(self) -> &'static str {
        match self {
            Self::Rating => "ratings",
            Self::Feedback => "feedback",
            Self::Reply => "replies",
            Self::Question => "questions",
            Self::Answer => "answers",
        }
    }

    /// The column with the item's text.
    pub fn text_column(self) -> &'static str {
        match self {
            Self::Rating => "comment",
            _ => "body",
        }
    }
}

/// Reasons for rejecting or hiding an item, and for flagging one (mirrored by `flags_reason_check`).
pub const REASONS: [&str; 6] = ["spam", "offensive", "personal_data", "off_topic", "false_information", "other"];

vocabulary!(
    /// Why an item was held for a moderator instead of being published at once (`hold_rule`).
    Hold, "hold", {
        Link => "link",
        Phone => "phone",
        IdNumber => "id_number",
        Blocklist => "blocklist",
        NewAccount => "new_account",
        Burst => "burst",
        Flagged => "flagged",
    }
);

/// What the rules look at besides the text.
#[derive(Debug, Clone, Copy, Default)]
pub struct Context {
    /// The author's account is younger than a day.
    pub new_account: bool,
    /// A burst of ratings from new accounts on this platform is under way.
    pub burst: bool,
}

/// The first rule that holds `text` (None: publish at once).
pub fn hold_rule(text: Option<&str>, terms: &[String], context: Context) -> Option<Hold> {
    if let Some(text) = text {
        if has_link(text) {
            return Some(Hold::Link);
        }
        if has_phone(text) {
            return Some(Hold::Phone);
        }
        if has_id_number(text) {
            return Some(Hold::IdNumber);
        }
        if has_term(text, terms) {
            return Some(Hold::Blocklist);
        }
    }
    if context.new_account {
        return Some(Hold::NewAccount);
    }
    context.burst.then_some(Hold::Burst)
}

/// The shipped blocklist, folded (the database copy starts from this).
pub static SHIPPED_TERMS: LazyLock<Vec<String>> = LazyLock::new(|| {
    include_str!("blocklist.txt").lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).map(str::to_lowercase).collect()
});

fn words(text: &str) -> Vec<String> {
    fold(text).split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_owned).collect()
}

/// Whether `text` contains one of `terms` as whole words (case and diacritics ignored).
pub fn has_term(text: &str, terms: &[String]) -> bool {
    let text_words = words(text);
    terms.iter().any(|term| {
        let term_words = words(term);
        !term_words.is_empty() && text_words.windows(term_words.len()).any(|w| w == term_words.as_slice())
    })
}

/// Whether `text` contains a web link or a bare domain name.
pub fn has_link(text: &str) -> bool {
    let lower = text.to_lowercase();
    if lower.contains("http://") || lower.contains("https://") || lower.contains("www.") {
        return true;
    }
    const TLDS: [&str; 9] = ["vn", "com", "net", "org", "info", "io", "xyz", "top", "me"];
    lower.split(|c: char| c.is_whitespace() || matches!(c, ',' | '(' | ')' | '"' | '\'')).any(|token| {
        let token = token.trim_end_matches(['.', '!', '?', ':', ';']);
        let mut parts = token.rsplit('.');
        match (parts.next(), parts.next()) {
            (Some(tld), Some(name)) => {
                TLDS.contains(&tld) && !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            }
            _ => false,
        }
    })
}

/// Runs of digits in `text`, spaces, dots and hyphens inside a number ignored, with a `+` kept.
fn numbers(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() || (c == '+' && current.is_empty()) {
            current.push(c);
        } else if matches!(c, ' ' | '.' | '-') && !current.is_empty() && chars.peek().is_some_and(char::is_ascii_digit) {
            continue;
        } else if !current.is_empty() {
            out.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

fn is_phone(number: &str) -> bool {
    let digits = number.trim_start_matches('+');
    let national = if let Some(rest) = digits.strip_prefix("84") { format!("0{rest}") } else { digits.to_owned() };
    national.len() == 10 && national.starts_with('0') && matches!(national.as_bytes()[1], b'3' | b'5' | b'7' | b'8' | b'9')
        || national.len() == 11 && national.starts_with("02")
}

fn is_id_number(number: &str) -> bool {
    !number.starts_with('+') && (number.len() == 12 || number.len() == 9) && number.starts_with('0')
}

/// Whether `text` contains a Vietnamese phone number (mobile or landline).
pub fn has_phone(text: &str) -> bool {
    numbers(text).iter().any(|n| is_phone(n))
}

/// Whether `text` contains a citizen ID (CCCD, 12 digits) or old ID-card number (CMND, 9 digits).
pub fn has_id_number(text: &str) -> bool {
    numbers(text).iter().any(|n| !is_phone(n) && is_id_number(n))
}

/// Marker put where personal data was removed.
pub const REDACTED: &str = "[đã ẩn]";

/// The text with phone and ID numbers replaced by [`REDACTED`]; other text unchanged.
pub fn redact_personal_data(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        let start = rest.find(|c: char| c.is_ascii_digit() || c == '+').unwrap_or(rest.len());
        out.push_str(&rest[..start]);
        rest = &rest[start..];
        if rest.is_empty() {
            break;
        }
        let mut end = 0;
        let bytes = rest.as_bytes();
        while end < bytes.len()
            && (bytes[end].is_ascii_digit()
                || (end == 0 && bytes[end] == b'+')
                || (matches!(bytes[end], b' ' | b'.' | b'-') && bytes.get(end + 1).is_some_and(u8::is_ascii_digit) && end > 0))
        {
            end += 1;
        }
        let end = end.max(1);
        let number: String = rest[..end].chars().filter(|c| c.is_ascii_digit() || *c == '+').collect();
        if is_phone(&number) || is_id_number(&number) {
            out.push_str(REDACTED);
        } else {
            out.push_str(&rest[..end]);
        }
        rest = &rest[end..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_rule_fires_on_its_input_and_not_on_an_ordinary_one() {
        let terms = SHIPPED_TERMS.clone();
        let ordinary = "Ứng dụng chạy ổn, tra cứu nhanh, năm 2024 có 3.500 lượt dùng mỗi ngày.";
        let cases = [
            ("Xem thêm tại https://vidu.vn/khuyen-mai", Some(Hold::Link), "link with scheme"),
            ("Vào vidu.com mà tải", Some(Hold::Link), "bare domain"),
            ("Gọi tôi 0912 345 678 nhé", Some(Hold::Phone), "mobile number with spaces"),
            ("Zalo +84 912.345.678", Some(Hold::Phone), "international form"),
            ("CCCD của tôi 001203004567", Some(Hold::IdNumber), "citizen ID"),
            ("Ứng dụng này lừa đảo", Some(Hold::Blocklist), "blocklisted phrase"),
            ("UNG DUNG NAY LUA DAO", Some(Hold::Blocklist), "blocklist ignores case and diacritics"),
            (ordinary, None, "ordinary text"),
            ("Phiên bản 2.5 chạy tốt.", None, "version number is not a link"),
            ("Điểm 10 trên 10", None, "small numbers"),
            ("địa chỉ số dmx", None, "a term inside another word does not count"),
        ];
        for (text, expected, why) in cases {
            assert_eq!(hold_rule(Some(text), &terms, Context::default()), expected, "{why}: {text}");
        }
        assert_eq!(hold_rule(None, &terms, Context { new_account: true, burst: false }), Some(Hold::NewAccount));
        assert_eq!(hold_rule(None, &terms, Context { new_account: false, burst: true }), Some(Hold::Burst));
        assert_eq!(hold_rule(None, &terms, Context::default()), None, "stars alone publish at once");
    }

    #[test]
    fn personal_data_is_edited_out_and_the_rest_kept() {
        assert_eq!(
            redact_personal_data("Gọi 0912 345 678 hoặc CCCD 001203004567, phiên bản 2.5"),
            "Gọi [đã ẩn] hoặc CCCD [đã ẩn], phiên bản 2.5"
        );
        assert_eq!(redact_personal_data("Không có số nào"), "Không có số nào");
        assert_eq!(redact_personal_data("+84912345678"), "[đã ẩn]");
    }
}
