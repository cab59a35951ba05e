//! Agents' searches: a Tantivy query string plus exact filters, newest first.

use super::schema::Fields;
use std::ops::Bound;
use tantivy::query::{AllQuery, BooleanQuery, Occur, Query, QueryParser, RangeQuery, TermQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::{Index, Term};

/// What an agent asked for: the query string of `GET /api/v1/tickets`.
#[derive(Debug, Default, Clone, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TicketQuery {
    /// Full text in Tantivy's query syntax over messages and contact: `refund`, `"order late"`,
    /// `refund -paypal`, `contact:ann`.
    pub q: Option<String>,
    /// `new`, `pending`, `resolved`, `archived` or `all` (default).
    pub queue: Option<String>,
    pub channel: Option<String>,
    pub platform: Option<String>,
    /// `private_message`, `group_message`, `comment`, `reply`, `ad_comment`, `post`, `mention`, `review`.
    pub kind: Option<String>,
    pub tag: Option<String>,
    pub assignee: Option<String>,
    pub flagged: Option<bool>,
    /// Last message at or after this time (ms since epoch).
    pub from: Option<i64>,
    /// Last message before this time (ms since epoch).
    pub to: Option<i64>,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<usize>,
    pub offset: Option<usize>,
}

impl TicketQuery {
    pub const DEFAULT_LIMIT: usize = 50;
    pub const MAX_LIMIT: usize = 200;
}

#[derive(Debug, thiserror::Error)]
#[error("bad search query: {0}")]
pub struct BadQuery(pub String);

pub fn build(index: &Index, f: &Fields, tq: &TicketQuery) -> Result<Box<dyn Query>, BadQuery> {
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    if let Some(q) = tq.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        let mut parser = QueryParser::for_index(index, vec![f.text, f.contact]);
        // Agents expect every word to matter: `refund late` finds tickets with both.
        parser.set_conjunction_by_default();
        clauses.push((Occur::Must, parser.parse_query(q).map_err(|e| BadQuery(e.to_string()))?));
    }
    let term = |field, value: &str| -> Box<dyn Query> {
        Box::new(TermQuery::new(Term::from_field_text(field, value), IndexRecordOption::Basic))
    };
    for (field, value) in [
        (f.queue, &tq.queue.clone().filter(|q| q != "all")),
        (f.channel, &tq.channel),
        (f.platform, &tq.platform),
        (f.kind, &tq.kind),
        (f.tags, &tq.tag),
        (f.assignee, &tq.assignee),
    ] {
        if let Some(v) = value {
            clauses.push((Occur::Must, term(field, v)));
        }
    }
    if let Some(flagged) = tq.flagged {
        clauses.push((Occur::Must, term(f.flagged, if flagged { "true" } else { "false" })));
    }
    if tq.from.is_some() || tq.to.is_some() {
        let bound = |v: Option<i64>, incl: bool| match v {
            Some(v) if incl => Bound::Included(Term::from_field_i64(f.last_message_at, v)),
            Some(v) => Bound::Excluded(Term::from_field_i64(f.last_message_at, v)),
            None => Bound::Unbounded,
        };
        clauses.push((Occur::Must, Box::new(RangeQuery::new(bound(tq.from, true), bound(tq.to, false)))));
    }
    if clauses.is_empty() {
        return Ok(Box::new(AllQuery));
    }
    Ok(Box::new(BooleanQuery::new(clauses)))
}
