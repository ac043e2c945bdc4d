//! Text handling shared by storage, filters and search: NFC normalisation and Vietnamese folding.

use unicode_normalization::UnicodeNormalization as _;
use unicode_normalization::char::is_combining_mark;

/// Normalises to NFC and trims; every piece of user or seed text goes through this before storage.
pub fn normalize(input: &str) -> String {
    input.trim().nfc().collect()
}

/// Lower-cases and removes Vietnamese diacritics (`đ` → `d`), so `Sức khỏe` and `suc khoe` compare
/// equal. The SQL function `ndp_fold` does the same for Vietnamese letters.
pub fn fold(input: &str) -> String {
    input.nfd().filter(|c| !is_combining_mark(*c)).flat_map(char::to_lowercase).map(|c| if c == 'đ' { 'd' } else { c }).collect()
}

/// Turns a name into a URL slug: folded, ASCII letters and digits, words joined by `-`.
pub fn slugify(input: &str) -> String {
    let folded = fold(input);
    let mut slug = String::with_capacity(folded.len());
    for word in folded.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()) {
        if !slug.is_empty() {
            slug.push('-');
        }
        slug.push_str(word);
    }
    slug.truncate(120);
    slug.trim_end_matches('-').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_removes_vietnamese_diacritics_including_d_stroke() {
        let cases = [
            ("Sức khỏe", "suc khoe"),
            ("Địa chỉ số", "dia chi so"),
            ("ĐƯỜNG", "duong"),
            ("Nền tảng học kỹ năng trực tuyến mở", "nen tang hoc ky nang truc tuyen mo"),
            ("VNeID", "vneid"),
        ];
        for (input, expected) in cases {
            assert_eq!(fold(input), expected, "{input}");
        }
    }

    #[test]
    fn decomposed_input_folds_like_composed_input() {
        let nfd: String = "sức khỏe".nfd().collect();
        assert_eq!(fold(&nfd), fold("sức khỏe"));
        assert_eq!(normalize(&nfd), "sức khỏe");
    }

    #[test]
    fn slugs_are_ascii_words_joined_by_hyphens() {
        assert_eq!(slugify("Nền tảng địa chỉ số quốc gia"), "nen-tang-dia-chi-so-quoc-gia");
        assert_eq!(slugify("  Cốc Cốc!! (2022) "), "coc-coc-2022");
        assert_eq!(slugify("???"), "");
    }
}
