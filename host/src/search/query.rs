//! Agents' searches: a Tantivy query string plus exact filters, newest first.

use super::schema::{self, Fields};
use super::tokenizer;
use super::SearchError;
use crate::model::Queue;
use std::collections::BTreeSet;
use std::ops::Bound;
use tantivy::collector::DocSetCollector;
use tantivy::query::{BooleanQuery, BoostQuery, EmptyQuery, Occur, PhraseQuery, Query, QueryParser, RangeQuery, TermQuery, TermSetQuery};
use tantivy::query_grammar::{Delimiter, UserInputAst, UserInputLeaf, UserInputLiteral};
use tantivy::schema::{IndexRecordOption, Value};
use tantivy::{Index, Searcher, TantivyDocument, Term};

/// What an agent asked for: the query string of `GET /api/v1/tickets`.
#[derive(Debug, Default, Clone, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TicketQuery {
    /// Full text in Tantivy's query syntax over messages and contact: `refund`, `"order late"`,
    /// `refund -paypal`, `contact:ann`.
    pub q: Option<String>,
    /// `new`, `pending`, `resolved`, `archived`, `open` (new or pending) or `all` (default).
    pub queue: Option<String>,
    pub channel: Option<String>,
    pub platform: Option<String>,
    /// `private_message`, `group_message`, `comment`, `reply`, `ad_comment`, `post`, `mention`, `review`.
    pub kind: Option<String>,
    pub tag: Option<String>,
    pub assignee: Option<String>,
    /// Routed to this team (its id).
    pub team: Option<String>,
    /// The customer's language (ISO 639-3: `eng`, `spa`).
    pub language: Option<String>,
    /// How the customer seems to feel: `positive`, `neutral` or `negative`.
    pub sentiment: Option<String>,
    /// A contact's id: that person's tickets (their other conversations and comments).
    pub contact: Option<String>,
    /// A contact's id: the tickets of every contact linked with it into one person.
    pub person: Option<String>,
    /// The person's contacts, which the API looks up for `person`.
    #[serde(skip)]
    #[param(ignore)]
    pub contacts: Vec<String>,
    pub flagged: Option<bool>,
    /// Reviews with these stars: `1` to `5`, or a range such as `1-2`.
    pub rating: Option<String>,
    /// Last message at or after this time (ms since epoch).
    pub from: Option<i64>,
    /// Last message before this time (ms since epoch).
    pub to: Option<i64>,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<usize>,
    /// Results to skip, at most 10,000 (narrow the search to go further).
    pub offset: Option<usize>,
    /// `newest` (default) or `oldest` last message first, `waiting`: the longest waiting
    /// customer first, or `due`: the soonest due for its response target first.
    pub sort: Option<Sort>,
    /// `soon`: due within the last quarter of its target's time; `breached`: past due.
    #[param(value_type = Option<String>)]
    pub breach: Option<crate::model::Breach>,
}

/// The `queue` of a search for what is still someone's work: New or Pending.
pub const OPEN: &str = "open";

/// The order of a search's results: by each ticket's last message, or longest waiting customer
/// first (tickets whose customer is not waiting last).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Sort {
    #[default]
    Newest,
    Oldest,
    Waiting,
    Due,
}

impl TicketQuery {
    pub const DEFAULT_LIMIT: usize = 50;
    pub const MAX_LIMIT: usize = 200;
    pub const MAX_OFFSET: usize = 10_000;
    /// Characters of `q`.
    pub const MAX_QUERY_CHARS: usize = 1_000;
    /// Parentheses nested in `q`.
    pub const MAX_DEPTH: usize = 8;
    /// Words, phrases and operators in `q`.
    pub const MAX_TERMS: usize = 64;

    /// Refuse, before Tantivy parses anything, what would keep a search thread busy: a long
    /// or deeply nested query, or a page far down the results.
    pub fn check(&self) -> Result<(), BadQuery> {
        if self.offset.is_some_and(|o| o > Self::MAX_OFFSET) {
            return Err(BadQuery(format!("offset is at most {}; narrow the search instead", Self::MAX_OFFSET)));
        }
        if let Some(l) = self.language.as_deref().filter(|l| crate::inbox::language::name(l).is_none()) {
            return Err(BadQuery(format!("`{l}` is not a language code (ISO 639-3, such as `eng`; see /api/v1/languages)")));
        }
        if let Some(s) = self.sentiment.as_deref().filter(|s| !["positive", "neutral", "negative"].contains(s)) {
            return Err(BadQuery(format!("`{s}` is not a sentiment: positive, neutral or negative")));
        }
        if let Some(r) = &self.rating {
            rating_range(r)?;
        }
        let Some(q) = self.q.as_deref() else { return Ok(()) };
        if q.chars().count() > Self::MAX_QUERY_CHARS {
            return Err(BadQuery(format!("a search is at most {} characters", Self::MAX_QUERY_CHARS)));
        }
        let (mut depth, mut deepest) = (0usize, 0usize);
        for c in q.chars() {
            match c {
                '(' => {
                    depth += 1;
                    deepest = deepest.max(depth);
                }
                ')' => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
        if deepest > Self::MAX_DEPTH {
            return Err(BadQuery(format!("parentheses nest at most {} deep", Self::MAX_DEPTH)));
        }
        if q.split_whitespace().count() > Self::MAX_TERMS {
            return Err(BadQuery(format!("a search has at most {} words", Self::MAX_TERMS)));
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("bad search query: {0}")]
pub struct BadQuery(pub String);

/// The ticket documents matching `tq`. Text is matched on each ticket's open page and, for
/// long tickets, on their full pages too (`schema::PAGE`): every word or phrase of the query
/// matches a ticket if it is on any of its pages, so `refund late` finds a ticket whose first
/// page says refund and whose last one says late.
pub fn build(index: &Index, f: &Fields, tq: &TicketQuery, searcher: &Searcher) -> Result<Box<dyn Query>, SearchError> {
    tq.check()?;
    let term = |field, value: &str| -> Box<dyn Query> {
        Box::new(TermQuery::new(Term::from_field_text(field, value), IndexRecordOption::Basic))
    };
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, term(f.doc, schema::TICKET))];
    if let Some(q) = tq.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        let mut parser = QueryParser::for_index(index, vec![f.text, f.contact]);
        // Agents expect every word to matter: `refund late` finds tickets with both.
        parser.set_conjunction_by_default();
        let has_pages = searcher.doc_freq(&Term::from_field_text(f.doc, schema::PAGE)).unwrap_or(0) > 0;
        let ast = tantivy::query_grammar::parse_query(q).map_err(|_| BadQuery(format!("syntax error in `{q}`")))?;
        let on_pages = |leaf: &dyn Query| if has_pages { tickets_with_pages_matching(searcher, f, leaf) } else { Ok(BTreeSet::new()) };
        let text = widen(ast, &parser, f, &on_pages)?.unwrap_or_else(|| Box::new(EmptyQuery));
        clauses.push((Occur::Must, text));
    }
    if tq.queue.as_deref() == Some(OPEN) {
        let open = [Queue::New, Queue::Pending].map(|q| (Occur::Should, term(f.queue, q.as_str())));
        clauses.push((Occur::Must, Box::new(BooleanQuery::new(open.into()))));
    }
    for (field, value) in [
        (f.queue, &tq.queue.clone().filter(|q| q != "all" && q != OPEN)),
        (f.channel, &tq.channel),
        (f.platform, &tq.platform),
        (f.kind, &tq.kind),
        (f.tags, &tq.tag),
        (f.assignee, &tq.assignee),
        (f.team, &tq.team),
        (f.language, &tq.language),
        (f.sentiment, &tq.sentiment),
        (f.contact_id, &tq.contact),
    ] {
        if let Some(v) = value {
            clauses.push((Occur::Must, term(field, v)));
        }
    }
    if !tq.contacts.is_empty() {
        let any = tq.contacts.iter().map(|c| (Occur::Should, term(f.contact_id, c))).collect::<Vec<_>>();
        clauses.push((Occur::Must, Box::new(BooleanQuery::new(any))));
    }
    if let Some(flagged) = tq.flagged {
        clauses.push((Occur::Must, term(f.flagged, if flagged { "true" } else { "false" })));
    }
    if let Some(r) = &tq.rating {
        let (low, high) = rating_range(r)?;
        let stars = (low..=high).map(|n| (Occur::Should, term(f.rating, &n.to_string()))).collect::<Vec<_>>();
        clauses.push((Occur::Must, Box::new(BooleanQuery::new(stars))));
    }
    if tq.from.is_some() || tq.to.is_some() {
        let bound = |v: Option<i64>, incl: bool| match v {
            Some(v) if incl => Bound::Included(Term::from_field_i64(f.last_message_at, v)),
            Some(v) => Bound::Excluded(Term::from_field_i64(f.last_message_at, v)),
            None => Bound::Unbounded,
        };
        clauses.push((Occur::Must, Box::new(RangeQuery::new(bound(tq.from, true), bound(tq.to, false)))));
    }
    if let Some(breach) = tq.breach {
        let now = crate::model::now_ms();
        let until = |field, v: i64, incl: bool| -> Box<dyn Query> {
            let end = if incl { Bound::Included(Term::from_field_i64(field, v)) } else { Bound::Excluded(Term::from_field_i64(field, v)) };
            Box::new(RangeQuery::new(Bound::Unbounded, end))
        };
        match breach {
            crate::model::Breach::Breached => clauses.push((Occur::Must, until(f.due_at, now, true))),
            crate::model::Breach::Soon => {
                clauses.push((Occur::Must, until(f.soon_at, now, true)));
                clauses.push((Occur::MustNot, until(f.due_at, now, true)));
            }
        }
    }
    Ok(Box::new(BooleanQuery::new(clauses)))
}

/// `4` or `1-2`: the stars a rating filter asks for.
fn rating_range(r: &str) -> Result<(u8, u8), BadQuery> {
    let bad = || BadQuery(format!("rating `{r}` is not a number of stars from 1 to 5, or a range such as 1-2"));
    let star = |s: &str| s.trim().parse::<u8>().ok().filter(|n| (1..=5).contains(n));
    let (low, high) = match r.split_once('-') {
        Some((a, b)) => (star(a).ok_or_else(bad)?, star(b).ok_or_else(bad)?),
        None => (star(r).ok_or_else(bad)?, star(r).ok_or_else(bad)?),
    };
    if low > high {
        return Err(bad());
    }
    Ok((low, high))
}

type PageMatcher<'a> = dyn Fn(&dyn Query) -> Result<BTreeSet<String>, SearchError> + 'a;

/// The query with each word, phrase or range also matching the tickets whose full pages
/// match it. `None` for a part that matches no term at all (punctuation), which the query
/// parser would drop too.
fn widen(ast: UserInputAst, parser: &QueryParser, f: &Fields, on_pages: &PageMatcher) -> Result<Option<Box<dyn Query>>, SearchError> {
    match ast {
        UserInputAst::Clause(items) => {
            let mut clauses = Vec::with_capacity(items.len());
            for (occur, sub) in items {
                if let Some(q) = widen(sub, parser, f, on_pages)? {
                    clauses.push((occur.unwrap_or(Occur::Must), q));
                }
            }
            Ok((!clauses.is_empty()).then(|| Box::new(BooleanQuery::new(clauses)) as Box<dyn Query>))
        }
        UserInputAst::Boost(inner, boost) => {
            Ok(widen(*inner, parser, f, on_pages)?.map(|q| Box::new(BoostQuery::new(q, boost.into_inner() as f32)) as Box<dyn Query>))
        }
        UserInputAst::Leaf(leaf) => {
            let matches_all = matches!(*leaf, UserInputLeaf::All);
            let pairs = match &*leaf {
                UserInputLeaf::Literal(lit) => phrase_by_pairs(lit, f),
                _ => None,
            };
            let q = match pairs {
                Some(q) => q,
                None => parser.build_query_from_user_input_ast(UserInputAst::Leaf(leaf)).map_err(|e| BadQuery(e.to_string()))?,
            };
            if q.is::<EmptyQuery>() {
                return Ok(None);
            }
            if matches_all {
                return Ok(Some(q));
            }
            let tickets = on_pages(q.as_ref())?;
            if tickets.is_empty() {
                return Ok(Some(q));
            }
            let ids = TermSetQuery::new(tickets.iter().map(|t| Term::from_field_text(f.id, t)));
            Ok(Some(Box::new(BooleanQuery::new(vec![(Occur::Should, q), (Occur::Should, Box::new(ids))]))))
        }
    }
}

/// A quoted phrase of two words or more in any field: its neighbouring pairs looked up in
/// `pairs` (a term each) instead of every position of its words walked. Three words or more
/// also keep the phrase itself, checked only where every pair is. The contact's name, a short
/// field, is matched as a phrase.
fn phrase_by_pairs(lit: &UserInputLiteral, f: &Fields) -> Option<Box<dyn Query>> {
    if lit.field_name.is_some() || lit.delimiter != Delimiter::DoubleQuotes || lit.slop != 0 || lit.prefix {
        return None;
    }
    let words = tokenizer::words(&lit.phrase).filter(|w| w.len() >= 2)?;
    let term = |field, text: &str| Term::from_field_text(field, text);
    let mut text: Vec<(Occur, Box<dyn Query>)> = words
        .windows(2)
        .map(|w| (Occur::Must, Box::new(TermQuery::new(term(f.pairs, &tokenizer::pair(&w[0], &w[1])), IndexRecordOption::Basic)) as Box<dyn Query>))
        .collect();
    if words.len() > 2 {
        text.push((Occur::Must, Box::new(PhraseQuery::new(words.iter().map(|w| term(f.text, w)).collect()))));
    }
    let contact = PhraseQuery::new(words.iter().map(|w| term(f.contact, w)).collect());
    Some(Box::new(BooleanQuery::new(vec![(Occur::Should, Box::new(BooleanQuery::new(text))), (Occur::Should, Box::new(contact))])))
}

/// Tickets with a full page matching `leaf`. Only long tickets have such pages, so the set
/// is small beside the inbox.
fn tickets_with_pages_matching(searcher: &Searcher, f: &Fields, leaf: &dyn Query) -> Result<BTreeSet<String>, SearchError> {
    let pages = BooleanQuery::new(vec![
        (Occur::Must, leaf.box_clone()),
        (Occur::Must, Box::new(TermQuery::new(Term::from_field_text(f.doc, schema::PAGE), IndexRecordOption::Basic))),
    ]);
    let mut tickets = BTreeSet::new();
    for addr in searcher.search(&pages, &DocSetCollector)? {
        let doc: TantivyDocument = searcher.doc(addr)?;
        if let Some(t) = doc.get_first(f.page_of).and_then(|v| v.as_str()) {
            tickets.insert(t.to_string());
        }
    }
    Ok(tickets)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(text: &str) -> TicketQuery {
        TicketQuery { q: Some(text.into()), ..Default::default() }
    }

    #[test]
    fn a_query_that_would_keep_the_parser_busy_is_refused_before_parsing() {
        let started = std::time::Instant::now();
        assert!(q(&"(".repeat(30_000)).check().is_err());
        assert!(q(&format!("{}refund{}", "(".repeat(9), ")".repeat(9))).check().unwrap_err().0.contains("nest"));
        assert!(q(&"refund ".repeat(65)).check().unwrap_err().0.contains("words"));
        assert!(TicketQuery { offset: Some(10_001), ..Default::default() }.check().is_err());
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: fuzz_cases(), ..Default::default() })]
        /// Whatever an agent types, the query is refused or built, quickly and without a panic.
        #[test]
        fn any_search_text_is_refused_or_parsed_without_a_panic(text in "(\\PC|[()\"+\\-:*~^\\[\\]{}]){0,1200}") {
            let (schema, fields) = crate::search::schema::build();
            let index = tantivy::Index::create_in_ram(schema);
            crate::search::tokenizer::register(&index);
            let searcher = index.reader().unwrap().searcher();
            let started = std::time::Instant::now();
            let _ = build(&index, &fields, &q(&text), &searcher);
            proptest::prop_assert!(started.elapsed() < std::time::Duration::from_secs(1));
        }
    }

    /// Cases per property: a few hundred in CI, more with `HELPDESK_FUZZ_CASES`.
    pub fn fuzz_cases() -> u32 {
        std::env::var("HELPDESK_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256)
    }

    #[test]
    fn ordinary_searches_pass() {
        for ok in ["refund", "\"order late\" -paypal", "(refund OR return) AND contact:ann", "注文"] {
            q(ok).check().unwrap();
        }
    }
}
