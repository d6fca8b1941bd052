//! Word-level phrase patterns and the tokeniser they run on.
//!
//! A pattern is a space-separated list of terms:
//! - `word` matches that word exactly, so `cv` does not match `cvs`;
//! - `word*` matches any word that starts with `word` (`rank*` matches `ranks`, `ranking`);
//! - `face|faces|facial*` matches a word that any of the alternatives matches;
//! - `..` skips up to [`MAX_GAP`] words.
//!
//! Text is lower-cased and split at every character that is not a letter or digit, after
//! apostrophes are dropped (`doesn't` becomes `doesnt`). Sentence punctuation (`.`, `;`, `!`,
//! `?`) and the word `but` end a clause: a match never spans two clauses, and negation does
//! not carry over into the next one.

use std::fmt;

/// Maximum number of words that one `..` term skips.
const MAX_GAP: usize = 4;

/// Number of words before a match that are searched for a negation.
const NEGATION_WINDOW: usize = 4;

/// Words that negate a match when they come shortly before it in the same clause.
const NEGATIONS: [&str; 14] = [
    "not", "no", "never", "without", "doesnt", "dont", "isnt", "arent", "wont", "cannot",
    "neither", "nor", "nothing", "none",
];

/// One term of a pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Term {
    Word(String),
    Prefix(String),
    Either(Vec<Term>),
    Gap,
}

impl Term {
    /// Returns whether a single-word term matches `word`.
    fn matches_word(&self, word: &str) -> bool {
        match self {
            Term::Word(expected) => word == expected,
            Term::Prefix(stem) => word.starts_with(stem.as_str()),
            Term::Either(alternatives) => alternatives.iter().any(|term| term.matches_word(word)),
            Term::Gap => false,
        }
    }
}

/// A compiled phrase pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pattern {
    source: String,
    terms: Vec<Term>,
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl Pattern {
    /// Compiles a pattern; the error names the pattern and what is wrong with it.
    pub(crate) fn parse(source: &str) -> Result<Pattern, String> {
        let mut terms = Vec::new();
        for raw in source.split_whitespace() {
            terms.push(parse_term(source, raw)?);
        }
        let first_is_word = terms.first().is_some_and(|term| *term != Term::Gap);
        let last_is_word = terms.last().is_some_and(|term| *term != Term::Gap);
        if !first_is_word || !last_is_word {
            return Err(format!("phrase `{source}` must start and end with a word"));
        }
        Ok(Pattern {
            source: source.to_owned(),
            terms,
        })
    }

    /// Finds every match in the tokens and returns each as a word range.
    pub(crate) fn find_all(&self, tokens: &[Token]) -> Vec<Span> {
        (0..tokens.len())
            .filter_map(|start| match_at(&self.terms, tokens, start).map(|end| Span { start, end }))
            .collect()
    }
}

fn parse_term(source: &str, raw: &str) -> Result<Term, String> {
    if raw == ".." {
        return Ok(Term::Gap);
    }
    if raw.contains('|') {
        let alternatives: Result<Vec<Term>, String> = raw
            .split('|')
            .map(|alternative| parse_word(source, alternative))
            .collect();
        return alternatives.map(Term::Either);
    }
    parse_word(source, raw)
}

fn parse_word(source: &str, raw: &str) -> Result<Term, String> {
    let (word, is_prefix) = match raw.strip_suffix('*') {
        Some(stem) => (stem, true),
        None => (raw, false),
    };
    let valid = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_alphanumeric() && !c.is_uppercase());
    if !valid {
        return Err(format!(
            "phrase `{source}` has an invalid term `{raw}`: expected a lower-case word, `word*`, alternatives `a|b` or `..`"
        ));
    }
    Ok(match is_prefix {
        true => Term::Prefix(word.to_owned()),
        false => Term::Word(word.to_owned()),
    })
}

/// Returns the end (exclusive) of a match of `terms` that starts at `start`.
fn match_at(terms: &[Term], tokens: &[Token], start: usize) -> Option<usize> {
    let Some((term, rest)) = terms.split_first() else {
        return Some(start);
    };
    match term {
        Term::Gap => (0..=MAX_GAP)
            .map(|skip| start + skip)
            .take_while(|&index| index <= tokens.len())
            .take_while(|&index| {
                tokens[start..index]
                    .iter()
                    .all(|token| token.word().is_some())
            })
            .find_map(|index| match_at(rest, tokens, index)),
        single => {
            let word = tokens.get(start)?.word()?;
            match single.matches_word(word) {
                true => match_at(rest, tokens, start + 1),
                false => None,
            }
        }
    }
}

/// A word of the text, or the end of a clause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Token {
    /// A lower-cased word.
    Word(String),
    /// A clause boundary.
    Break,
}

impl Token {
    fn word(&self) -> Option<&str> {
        match self {
            Token::Word(word) => Some(word),
            Token::Break => None,
        }
    }
}

/// A half-open range of token indices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    pub(crate) start: usize,
    pub(crate) end: usize,
}

/// Splits text into lower-case words and clause breaks.
pub(crate) fn tokenize(text: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut word = String::new();
    for c in text.chars() {
        if c.is_alphanumeric() {
            word.extend(c.to_lowercase());
            continue;
        }
        if matches!(c, '\'' | '’') {
            continue;
        }
        flush_word(&mut word, &mut tokens);
        if matches!(c, '.' | ';' | '!' | '?' | '\n') {
            tokens.push(Token::Break);
        }
    }
    flush_word(&mut word, &mut tokens);
    tokens
}

fn flush_word(word: &mut String, tokens: &mut Vec<Token>) {
    if word.is_empty() {
        return;
    }
    let finished = std::mem::take(word);
    if finished == "but" {
        tokens.push(Token::Break);
    }
    tokens.push(Token::Word(finished));
}

/// Returns whether a negation comes within [`NEGATION_WINDOW`] words before the span, in the
/// same clause.
pub(crate) fn is_negated(tokens: &[Token], span: Span) -> bool {
    tokens[..span.start]
        .iter()
        .rev()
        .take_while(|token| token.word().is_some())
        .take(NEGATION_WINDOW)
        .filter_map(Token::word)
        .any(|word| NEGATIONS.contains(&word))
}

/// Returns the words of a span joined by spaces, for quoting in a reason.
pub(crate) fn excerpt(tokens: &[Token], span: Span) -> String {
    let words: Vec<&str> = tokens[span.start..span.end]
        .iter()
        .filter_map(Token::word)
        .collect();
    words.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, text: &str) -> Vec<String> {
        let pattern = Pattern::parse(pattern).unwrap();
        let tokens = tokenize(text);
        pattern
            .find_all(&tokens)
            .into_iter()
            .map(|span| excerpt(&tokens, span))
            .collect()
    }

    #[test]
    fn word_terms_respect_word_boundaries() {
        assert_eq!(matches("cv", "Screens CVs"), Vec::<String>::new());
        assert_eq!(matches("cv*", "Screens CVs"), ["cvs"]);
        assert_eq!(matches("screen* cv*", "It screens CVs."), ["screens cvs"]);
    }

    #[test]
    fn gap_skips_up_to_four_words() {
        assert_eq!(
            matches("rank* .. applicants", "ranks the incoming job applicants"),
            ["ranks the incoming job applicants"]
        );
        assert_eq!(
            matches(
                "rank* .. applicants",
                "ranks one two three four five applicants"
            ),
            Vec::<String>::new()
        );
    }

    #[test]
    fn match_stops_at_clause_break() {
        assert_eq!(
            matches("rank* .. applicants", "It ranks. Applicants"),
            Vec::<String>::new()
        );
        assert_eq!(
            matches("rank* .. applicants", "ranks offers but applicants"),
            Vec::<String>::new()
        );
    }

    #[test]
    fn negation_applies_within_clause() {
        let tokens = tokenize("This tool does not rank job applicants");
        let pattern = Pattern::parse("rank* job applicant*").unwrap();
        let spans = pattern.find_all(&tokens);
        assert_eq!(spans.len(), 1);
        assert!(is_negated(&tokens, spans[0]));

        let tokens = tokenize("It doesn't store data. It ranks job applicants");
        let spans = pattern.find_all(&tokens);
        assert_eq!(spans.len(), 1);
        assert!(!is_negated(&tokens, spans[0]));
    }

    #[test]
    fn alternatives_match_any_listed_word() {
        assert_eq!(
            matches(
                "identif* people .. face|faces|facial",
                "identifies people by their faces"
            ),
            ["identifies people by their faces"]
        );
        assert_eq!(
            matches(
                "identif* people .. face|faces|facial",
                "identifies people entering the facility"
            ),
            Vec::<String>::new()
        );
    }

    #[test]
    fn apostrophes_are_dropped() {
        assert_eq!(tokenize("doesn’t"), [Token::Word("doesnt".into())]);
    }

    #[test]
    fn invalid_patterns_are_rejected() {
        assert!(Pattern::parse(".. rank").is_err());
        assert!(Pattern::parse("Rank").is_err());
        assert!(Pattern::parse("").is_err());
        assert!(Pattern::parse("credit-score").is_err());
        assert!(Pattern::parse("a|..").is_err());
        assert!(Pattern::parse("a||b").is_err());
    }
}
