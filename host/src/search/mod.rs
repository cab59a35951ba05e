//! Tantivy: the derived full-text and filter index of tickets. Always rebuildable from the
//! store; each commit records the store change number (`seq`) it covers, so after a crash
//! the index catches up from there.

mod query;
mod schema;
mod tokenizer;

pub use query::{BadQuery, Sort, TicketQuery, OPEN};

use crate::model::Ticket;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use tantivy::collector::{Count, TopDocs};
use tantivy::query::TermQuery;
use tantivy::schema::{IndexRecordOption, Value};
use tantivy::{doc, Index, IndexReader, IndexWriter, Order, ReloadPolicy, TantivyDocument, Term};

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("search index error: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    #[error("search index directory: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    BadQuery(#[from] BadQuery),
    #[error("too many searches at once; try again in a moment")]
    Busy,
}

/// A ticket with the text of its open page to index.
pub struct TicketDoc {
    pub ticket: Ticket,
    /// (author name, text) of each message.
    pub texts: Vec<(String, String)>,
}

/// A full page of a long ticket's messages (`model::PAGE_MESSAGES`).
pub struct PageDoc {
    pub ticket: String,
    pub page: u32,
    /// (author name, text) of each message; empty removes the page from the index.
    pub texts: Vec<(String, String)>,
}

/// One page of results.
pub struct Hits {
    pub total: usize,
    pub ids: Vec<String>,
}

pub struct SearchIndex {
    index: Index,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    fields: schema::Fields,
    /// True when the index was missing or unreadable and was created empty.
    pub was_reset: bool,
}

const WRITER_MEMORY: usize = 64 << 20;

impl SearchIndex {
    /// Open the index in `dir`, or create it. An unreadable index (corrupted, or from another
    /// schema) is moved aside and recreated empty: the caller rebuilds it from the store.
    pub fn open(dir: &Path) -> Result<Self, SearchError> {
        let (schema, fields) = schema::build();
        std::fs::create_dir_all(dir)?;
        let (index, was_reset) = match try_open(dir, &schema) {
            Ok(Some(index)) => (index, false),
            Ok(None) => (Index::create_in_dir(dir, schema)?, true),
            Err(e) => {
                tracing::warn!(dir = %dir.display(), "search index unreadable ({e}); rebuilding it from the store");
                let aside = aside_path(dir);
                std::fs::rename(dir, &aside)?;
                std::fs::create_dir_all(dir)?;
                let _ = std::fs::remove_dir_all(&aside);
                (Index::create_in_dir(dir, schema)?, true)
            }
        };
        tokenizer::register(&index);
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        let writer = index.writer(WRITER_MEMORY)?;
        Ok(SearchIndex { index, reader, writer: Mutex::new(writer), fields, was_reset })
    }

    /// The store change number the last commit covers.
    pub fn watermark(&self) -> i64 {
        self.index.load_metas().ok().and_then(|m| m.payload).and_then(|p| p.parse().ok()).unwrap_or(0)
    }

    /// Add or replace tickets (visible after `commit`).
    pub fn upsert(&self, docs: &[TicketDoc]) -> Result<(), SearchError> {
        let f = &self.fields;
        let writer = self.writer.lock().expect("index writer lock");
        for d in docs {
            let t = &d.ticket;
            writer.delete_term(Term::from_field_text(f.id, &t.id));
            let mut doc = doc!(
                f.doc => schema::TICKET,
                f.id => t.id.as_str(),
                f.channel => t.channel.as_str(),
                f.platform => t.platform.as_str(),
                f.kind => t.kind.as_str(),
                f.queue => t.queue.as_str(),
                f.flagged => if t.flagged { "true" } else { "false" },
                f.last_message_at => t.last_message_at,
                f.created_at => t.created_at,
                f.waiting_since => schema::waiting_key(t),
                f.snoozed_until => t.snoozed_until.unwrap_or(i64::MAX),
                f.due_at => t.due.as_ref().map_or(i64::MAX, |d| d.at),
                f.soon_at => t.due.as_ref().map_or(i64::MAX, |d| d.soon_at),
            );
            doc.add_text(f.contact, &t.contact.name);
            doc.add_text(f.contact_id, &t.contact_id);
            if let Some(h) = &t.contact.handle {
                doc.add_text(f.contact, h);
            }
            if let Some(a) = &t.assignee {
                doc.add_text(f.assignee, a);
            }
            if let Some(team) = &t.team {
                doc.add_text(f.team, team);
            }
            if let Some(l) = &t.language {
                doc.add_text(f.language, l);
            }
            if let Some(s) = t.sentiment {
                doc.add_text(f.sentiment, s.as_str());
            }
            if let Some(r) = t.rating {
                doc.add_text(f.rating, r.to_string());
            }
            for tag in &t.tags {
                doc.add_text(f.tags, tag);
            }
            for (author, text) in &d.texts {
                doc.add_text(f.text, author);
                doc.add_text(f.text, text);
                doc.add_text(f.pairs, author);
                doc.add_text(f.pairs, text);
            }
            writer.add_document(doc)?;
        }
        Ok(())
    }

    /// Add or replace full pages of long tickets (visible after `commit`).
    pub fn upsert_pages(&self, pages: &[PageDoc]) -> Result<(), SearchError> {
        let f = &self.fields;
        let writer = self.writer.lock().expect("index writer lock");
        for p in pages {
            let key = format!("{}/{}", p.ticket, p.page);
            writer.delete_term(Term::from_field_text(f.page_key, &key));
            if p.texts.is_empty() {
                continue;
            }
            let mut doc = doc!(f.doc => schema::PAGE, f.page_of => p.ticket.as_str(), f.page_key => key.as_str());
            for (author, text) in &p.texts {
                doc.add_text(f.text, author);
                doc.add_text(f.text, text);
                doc.add_text(f.pairs, author);
                doc.add_text(f.pairs, text);
            }
            writer.add_document(doc)?;
        }
        Ok(())
    }

    /// Make everything added so far searchable, recording the store change number it covers.
    pub fn commit(&self, watermark: i64) -> Result<(), SearchError> {
        {
            let mut writer = self.writer.lock().expect("index writer lock");
            let mut prepared = writer.prepare_commit()?;
            prepared.set_payload(&watermark.to_string());
            prepared.commit()?;
        }
        self.reader.reload()?;
        Ok(())
    }

    /// Remove every document (before a rebuild).
    pub fn clear(&self) -> Result<(), SearchError> {
        self.writer.lock().expect("index writer lock").delete_all_documents()?;
        Ok(())
    }

    /// Tickets whose snooze is due at `now` (at most `limit`).
    pub fn snoozes_due(&self, now: i64, limit: usize) -> Result<Vec<String>, SearchError> {
        let f = &self.fields;
        let due = tantivy::query::RangeQuery::new(
            std::ops::Bound::Unbounded,
            std::ops::Bound::Included(Term::from_field_i64(f.snoozed_until, now)),
        );
        let searcher = self.reader.searcher();
        let hits = searcher.search(&due, &TopDocs::with_limit(limit.max(1)).order_by_score())?;
        hits.into_iter()
            .map(|(_, addr)| {
                let doc: TantivyDocument = searcher.doc(addr)?;
                Ok(doc.get_first(f.id).and_then(|v| v.as_str()).unwrap_or_default().to_string())
            })
            .collect()
    }

    /// Tickets in the index.
    pub fn doc_count(&self) -> u64 {
        let tickets = TermQuery::new(Term::from_field_text(self.fields.doc, schema::TICKET), IndexRecordOption::Basic);
        self.reader.searcher().search(&tickets, &Count).map(|n| n as u64).unwrap_or(0)
    }

    /// Matching ticket ids, newest activity first (or oldest, as asked).
    pub fn search(&self, q: &TicketQuery) -> Result<Hits, SearchError> {
        let searcher = self.reader.searcher();
        let query = query::build(&self.index, &self.fields, q, &searcher)?;
        let (field, order) = match q.sort.unwrap_or_default() {
            query::Sort::Newest => ("last_message_at", Order::Desc),
            query::Sort::Oldest => ("last_message_at", Order::Asc),
            query::Sort::Waiting => ("waiting_since", Order::Asc),
            query::Sort::Due => ("due_at", Order::Asc),
        };
        let top = TopDocs::with_limit(q.limit.unwrap_or(TicketQuery::DEFAULT_LIMIT).clamp(1, TicketQuery::MAX_LIMIT))
            .and_offset(q.offset.unwrap_or(0))
            .order_by_fast_field::<i64>(field, order);
        let (docs, total) = searcher.search(&query, &(top, Count))?;
        let mut ids = Vec::with_capacity(docs.len());
        for (_, addr) in docs {
            let doc: TantivyDocument = searcher.doc(addr)?;
            if let Some(id) = doc.get_first(self.fields.id).and_then(|v| v.as_str()) {
                ids.push(id.to_string());
            }
        }
        Ok(Hits { total, ids })
    }
}

/// The existing index in `dir`, `None` if there is none; an error if it cannot be read whole.
fn try_open(dir: &Path, schema: &tantivy::schema::Schema) -> Result<Option<Index>, SearchError> {
    let directory = tantivy::directory::MmapDirectory::open(dir)
        .map_err(|e| tantivy::TantivyError::SystemError(e.to_string()))?;
    if !Index::exists(&directory).map_err(|e| tantivy::TantivyError::SystemError(e.to_string()))? {
        return Ok(None);
    }
    let index = Index::open(directory)?;
    tokenizer::register(&index);
    if index.schema() != *schema {
        return Err(tantivy::TantivyError::SchemaError("the index has another schema".into()).into());
    }
    // Opening a searcher reads every segment: a damaged file fails here, not mid-query.
    index.reader()?.searcher();
    Ok(Some(index))
}

fn aside_path(dir: &Path) -> PathBuf {
    let mut name = dir.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".broken-{}", std::process::id()));
    dir.with_file_name(name)
}
