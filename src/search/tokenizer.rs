//! One-pass tokenizer for Vietnamese text: splits into words, lower-cases and (for the folded
//! analyzer) folds the diacritics away, walking the text once.
//!
//! Its tokens are exactly those of tantivy's `SimpleTokenizer` followed by `LowerCaser` (and
//! `AsciiFoldingFilter` when folding): words made of ASCII and of the letters of the Vietnamese
//! alphabet are mapped from a table, and a word holding any other letter or digit (Greek, Han,
//! superscripts…) is handed to that tantivy chain, so the output never differs (tested letter by
//! letter and on random text). It matters for speed because snippets tokenize the stored text of
//! every result shown, and the chain spent most of that time in Unicode case and folding lookups.

use std::sync::OnceLock;

use tantivy::tokenizer::{AsciiFoldingFilter, LowerCaser, SimpleTokenizer, TextAnalyzer, Token, TokenStream, Tokenizer};

/// The letters of the Vietnamese alphabet that carry diacritics, lower case, by the letter they
/// fold to.
const VIETNAMESE: [(&str, char); 7] = [
    ("àáảãạăằắẳẵặâầấẩẫậ", 'a'),
    ("đ", 'd'),
    ("èéẻẽẹêềếểễệ", 'e'),
    ("ìíỉĩị", 'i'),
    ("òóỏõọôồốổỗộơờớởỡợ", 'o'),
    ("ùúủũụưừứửữự", 'u'),
    ("ỳýỷỹỵ", 'y'),
];

/// First and last code points of the table (À … ỹ).
const FIRST: u32 = 0xC0;
const LAST: u32 = 0x1EF9;

/// Per code point from [`FIRST`] to [`LAST`]: the lower-case and the folded letter, or `'\0'`
/// for a character the table does not know.
fn table() -> &'static [[char; 2]] {
    static TABLE: OnceLock<Vec<[char; 2]>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table = vec![['\0'; 2]; (LAST - FIRST + 1) as usize];
        for (letters, base) in VIETNAMESE {
            for lower in letters.chars() {
                for c in std::iter::once(lower).chain(lower.to_uppercase()) {
                    if let Some(slot) = (c as u32).checked_sub(FIRST).and_then(|i| table.get_mut(i as usize)) {
                        *slot = [lower, base];
                    }
                }
            }
        }
        table
    })
}

/// What a character is to the tokenizer.
enum Class {
    /// Not part of a word.
    Separator,
    /// A letter or digit of the table: its lower-case and folded forms.
    Known(char, char),
    /// Any other letter or digit: the word goes through tantivy's chain.
    Other,
}

fn classify(c: char, table: &[[char; 2]]) -> Class {
    if c.is_ascii() {
        return if c.is_ascii_alphanumeric() {
            let lower = c.to_ascii_lowercase();
            Class::Known(lower, lower)
        } else {
            Class::Separator
        };
    }
    match (c as u32).checked_sub(FIRST).and_then(|i| table.get(i as usize)) {
        Some([lower, folded]) if *lower != '\0' => Class::Known(*lower, *folded),
        _ if c.is_alphanumeric() => Class::Other,
        _ => Class::Separator,
    }
}

/// Splits on what is not a letter or a digit, lower-cases, and folds when asked to.
#[derive(Clone)]
pub struct VietnameseTokenizer {
    fold: bool,
    token: Token,
    /// tantivy's chain, for words with letters outside the table.
    fallback: TextAnalyzer,
}

impl VietnameseTokenizer {
    /// A tokenizer that lower-cases, and folds diacritics when `fold` is set.
    pub fn new(fold: bool) -> Self {
        Self { fold, token: Token::default(), fallback: chain(fold) }
    }
}

/// tantivy's own tokenizer and filters that this tokenizer stands for.
pub fn chain(fold: bool) -> TextAnalyzer {
    let builder = TextAnalyzer::builder(SimpleTokenizer::default()).filter(LowerCaser);
    if fold { builder.filter(AsciiFoldingFilter).build() } else { builder.build() }
}

impl Tokenizer for VietnameseTokenizer {
    type TokenStream<'a> = VietnameseStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> VietnameseStream<'a> {
        self.token.reset();
        VietnameseStream { text, at: 0, fold: self.fold, table: table(), token: &mut self.token, fallback: &mut self.fallback }
    }
}

/// The words of one text.
pub struct VietnameseStream<'a> {
    text: &'a str,
    /// Byte offset where the next word is looked for.
    at: usize,
    fold: bool,
    table: &'static [[char; 2]],
    token: &'a mut Token,
    fallback: &'a mut TextAnalyzer,
}

impl TokenStream for VietnameseStream<'_> {
    fn advance(&mut self) -> bool {
        self.token.text.clear();
        self.token.position = self.token.position.wrapping_add(1);
        let rest = self.text.get(self.at..).unwrap_or("");
        let mut start = None;
        let mut end = self.text.len();
        let mut other = false;
        for (i, c) in rest.char_indices() {
            match classify(c, self.table) {
                Class::Separator if start.is_some() => {
                    end = self.at + i;
                    break;
                }
                Class::Separator => {}
                Class::Known(lower, folded) => {
                    start.get_or_insert(self.at + i);
                    self.token.text.push(if self.fold { folded } else { lower });
                }
                Class::Other => {
                    start.get_or_insert(self.at + i);
                    other = true;
                }
            }
        }
        let Some(start) = start else {
            self.at = self.text.len();
            return false;
        };
        self.at = end;
        self.token.offset_from = start;
        self.token.offset_to = end;
        if other {
            // One run of letters and digits: tantivy's chain makes exactly one token of it.
            let mut stream = self.fallback.token_stream(&self.text[start..end]);
            self.token.text.clear();
            if stream.advance() {
                self.token.text.push_str(&stream.token().text);
            }
        }
        true
    }

    fn token(&self) -> &Token {
        self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        self.token
    }
}

#[cfg(test)]
mod tests {
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    use super::*;

    fn tokens(mut analyzer: TextAnalyzer, text: &str) -> Vec<(String, usize, usize, usize)> {
        let mut stream = analyzer.token_stream(text);
        let mut out = Vec::new();
        while let Some(t) = stream.next() {
            out.push((t.text.clone(), t.offset_from, t.offset_to, t.position));
        }
        out
    }

    fn same_as_the_chain(text: &str) {
        for fold in [true, false] {
            let ours = tokens(TextAnalyzer::builder(VietnameseTokenizer::new(fold)).build(), text);
            assert_eq!(ours, tokens(chain(fold), text), "fold {fold}: {text:?}");
        }
    }

    #[test]
    fn every_letter_of_the_table_is_lowered_and_folded_like_tantivy_does() {
        let mut known = 0;
        for code in FIRST..=LAST {
            let Some(c) = char::from_u32(code) else { continue };
            if matches!(classify(c, table()), Class::Known(..)) {
                known += 1;
                for text in [c.to_string(), format!("x{c}"), format!("{c}{c}y"), format!("Đ{c} {c}.")] {
                    same_as_the_chain(&text);
                }
            }
        }
        // 67 lower-case letters with diacritics, and their capitals.
        assert_eq!(known, 134);
        for c in (0u8..128).map(char::from) {
            same_as_the_chain(&format!("a{c}b {c}"));
        }
    }

    #[test]
    fn vietnamese_and_mixed_text_give_the_chain_s_tokens() {
        for text in [
            "Nền tảng số quốc gia: ĐỊNH DANH & xác thực điện tử (VNeID), 2025–2030!",
            "Hệ thống Thông tin giải quyết TTHC — cấp Bộ/tỉnh; e-Health, MOOC²",
            "Ελληνικά ΣΟΦΙΑ Дом 中文 한국어 ٣٤ עברית naïve façade straße ǅemal İstanbul",
            "  ",
            "",
            "\u{0}\u{202e}\u{200f}mà\u{301} ma\u{0300}",
        ] {
            same_as_the_chain(text);
        }
    }

    #[test]
    fn random_text_gives_the_chain_s_tokens() {
        let alphabet: Vec<char> = "aăâbcdđeêghiklmnoôơpqrstuưvxyAĂÂĐÊÔƠƯ àáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ\
             ÀÁẢÃẠẰẮẲẴẶẦẤẨẪẬÈÉẺẼẸỀẾỂỄỆỲÝỶỸỴ0123456789 .,;:-–/()\"'!?\n\tßøæœÆŒçÇñÑσςΣДж中²½ٳ\u{300}\u{301}\u{200b}"
            .chars()
            .collect();
        let mut rng = StdRng::seed_from_u64(186);
        for _ in 0..3_000 {
            let len = rng.random_range(0..40);
            let text: String = (0..len).map(|_| alphabet[rng.random_range(0..alphabet.len())]).collect();
            same_as_the_chain(&text);
        }
    }
}
