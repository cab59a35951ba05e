//! Tokens for multilingual text: words for scripts that separate them with spaces, and
//! overlapping character bigrams for Chinese, Japanese and Korean, which do not; so a word
//! inside a Japanese sentence is found on its own (as Lucene's CJK analyzer does).

use tantivy::tokenizer::{LowerCaser, RemoveLongFilter, TextAnalyzer, Token, TokenStream, Tokenizer};

/// The name the analyzer is registered under.
pub const NAME: &str = "multilingual";
/// The name the pairs' analyzer is registered under.
pub const PAIRS: &str = "multilingual_pairs";

pub fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(Multilingual).filter(RemoveLongFilter::limit(60)).filter(LowerCaser).build()
}

/// Both analyzers, on an index opened or created.
pub fn register(index: &tantivy::Index) {
    index.tokenizers().register(NAME, analyzer());
    index.tokenizers().register(PAIRS, TextAnalyzer::builder(Pairs(analyzer())).build());
}

/// The words of `text` as the index has them, if they follow one another (none was dropped).
pub fn words(text: &str) -> Option<Vec<String>> {
    let tokens = tokens_of(&mut analyzer(), text);
    tokens.windows(2).all(|w| w[1].position == w[0].position + 1).then(|| tokens.into_iter().map(|t| t.text).collect())
}

/// The token for two neighbouring words.
pub fn pair(first: &str, second: &str) -> String {
    format!("{first} {second}")
}

fn tokens_of(analyzer: &mut TextAnalyzer, text: &str) -> Vec<Token> {
    let mut stream = analyzer.token_stream(text);
    let mut out = Vec::new();
    while let Some(t) = stream.next() {
        out.push(t.clone());
    }
    out
}

/// Each two neighbouring words as one token ("order late"): a phrase is then a term or two to
/// look up, where a phrase query walks the positions of every ticket with both words (58 ms for
/// a common pair at 1M tickets).
#[derive(Clone)]
pub struct Pairs(TextAnalyzer);

impl Tokenizer for Pairs {
    type TokenStream<'a> = Tokens;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Tokens {
        let words = tokens_of(&mut self.0, text);
        let tokens = words
            .windows(2)
            .filter(|w| w[1].position == w[0].position + 1)
            .enumerate()
            .map(|(position, w)| Token {
                offset_from: w[0].offset_from,
                offset_to: w[1].offset_to,
                position,
                text: pair(&w[0].text, &w[1].text),
                position_length: 1,
            })
            .collect();
        Tokens { tokens, next: 0 }
    }
}

#[derive(Clone, Default)]
pub struct Multilingual;

pub struct Tokens {
    tokens: Vec<Token>,
    next: usize,
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF      // Hiragana, Katakana
        | 0x3400..=0x4DBF    // CJK Extension A
        | 0x4E00..=0x9FFF    // CJK Unified Ideographs
        | 0xF900..=0xFAFF    // CJK Compatibility Ideographs
        | 0xFF66..=0xFF9D    // Half-width Katakana
        | 0x1100..=0x11FF | 0x3130..=0x318F | 0xAC00..=0xD7AF // Hangul
        | 0x20000..=0x2A6DF) // CJK Extension B
}

impl Tokenizer for Multilingual {
    type TokenStream<'a> = Tokens;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Tokens {
        let mut tokens = Vec::new();
        let mut push = |from: usize, to: usize| {
            let position = tokens.len();
            tokens.push(Token { offset_from: from, offset_to: to, position, text: text[from..to].to_string(), position_length: 1 });
        };
        let chars: Vec<(usize, char)> = text.char_indices().collect();
        let end_of = |i: usize| chars.get(i + 1).map(|(o, _)| *o).unwrap_or(text.len());
        let mut i = 0;
        while i < chars.len() {
            let (start, c) = chars[i];
            if is_cjk(c) {
                let run_end = (i..chars.len()).find(|&j| !is_cjk(chars[j].1)).unwrap_or(chars.len());
                if run_end - i == 1 {
                    push(start, end_of(i));
                }
                for j in i..run_end.saturating_sub(1) {
                    push(chars[j].0, end_of(j + 1));
                }
                i = run_end;
            } else if c.is_alphanumeric() {
                let run_end = (i..chars.len()).find(|&j| !chars[j].1.is_alphanumeric() || is_cjk(chars[j].1)).unwrap_or(chars.len());
                push(start, end_of(run_end - 1));
                i = run_end;
            } else {
                i += 1;
            }
        }
        Tokens { tokens, next: 0 }
    }
}

impl TokenStream for Tokens {
    fn advance(&mut self) -> bool {
        self.next += 1;
        self.next <= self.tokens.len()
    }
    fn token(&self) -> &Token {
        &self.tokens[self.next - 1]
    }
    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.next - 1]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(text: &str) -> Vec<String> {
        tokens_of(&mut analyzer(), text).into_iter().map(|t| t.text).collect()
    }

    #[test]
    fn pairs_are_neighbouring_words_lowercased() {
        let mut a = TextAnalyzer::builder(Pairs(analyzer())).build();
        let pairs: Vec<String> = tokens_of(&mut a, "Order LATE, again!").into_iter().map(|t| t.text).collect();
        assert_eq!(pairs, ["order late", "late again"]);
        assert!(tokens_of(&mut a, "alone").is_empty());
        assert_eq!(words("\"Order late\""), Some(vec!["order".to_string(), "late".to_string()]));
    }

    #[test]
    fn words_for_spaced_scripts_and_bigrams_for_cjk() {
        assert_eq!(tokens("Where is order #4821? Größe!"), ["where", "is", "order", "4821", "größe"]);
        assert_eq!(tokens("注文をキャンセル"), ["注文", "文を", "をキ", "キャ", "ャン", "ンセ", "セル"]);
        assert_eq!(tokens("iPhone 15で注"), ["iphone", "15", "で注"]);
        assert_eq!(tokens("猫"), ["猫"]);
    }
}
