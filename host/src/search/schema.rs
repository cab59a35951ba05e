//! The index schema: one document per ticket, with its filter fields and the text of its
//! open page of messages, plus one document per full page of a long ticket (text only).

use tantivy::schema::{Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, FAST, INDEXED, STORED, STRING};

#[derive(Clone, Copy)]
pub struct Fields {
    /// `ticket` or `page`.
    pub doc: Field,
    pub id: Field,
    /// A page document's ticket.
    pub page_of: Field,
    /// A page document's `ticket/page`, to replace it.
    pub page_key: Field,
    pub channel: Field,
    pub platform: Field,
    pub kind: Field,
    pub queue: Field,
    pub tags: Field,
    pub assignee: Field,
    /// The team a rule or an agent routed it to.
    pub team: Field,
    /// The customer's language (ISO 639-3).
    pub language: Field,
    /// How the customer seems to feel (`positive`, `neutral`, `negative`).
    pub sentiment: Field,
    pub flagged: Field,
    /// A review's stars, `1` to `5`.
    pub rating: Field,
    /// Contact name and handle.
    pub contact: Field,
    /// The contact's id, for a person's other tickets.
    pub contact_id: Field,
    /// Message text and author names.
    pub text: Field,
    /// The same, as pairs of neighbouring words (`tokenizer::Pairs`), for phrases.
    pub pairs: Field,
    pub last_message_at: Field,
    pub created_at: Field,
    /// `Ticket::waiting_since`; for a ticket whose customer is not waiting, `waiting_key`'s
    /// value after every waiting one.
    pub waiting_since: Field,
    /// `Ticket::due`'s time, `i64::MAX` when none: "breached" and "due first".
    pub due_at: Field,
    /// When it becomes "breaching soon", `i64::MAX` when not due.
    pub soon_at: Field,
    /// `Ticket::snoozed_until`, or `i64::MAX`: the snoozes due are a range of it.
    pub snoozed_until: Field,
}

/// The sort key of "longest waiting first": the waiting tickets by how long, then the others
/// newest first (one fast field holds both orders, as a sort reads one).
pub fn waiting_key(t: &crate::model::Ticket) -> i64 {
    t.waiting_since.unwrap_or(i64::MAX - t.last_message_at.max(0))
}

pub fn build() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(super::tokenizer::NAME)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let fields = Fields {
        doc: b.add_text_field("doc", STRING),
        id: b.add_text_field("id", STRING | STORED),
        page_of: b.add_text_field("page_of", STRING | STORED),
        page_key: b.add_text_field("page_key", STRING),
        channel: b.add_text_field("channel", STRING),
        platform: b.add_text_field("platform", STRING),
        kind: b.add_text_field("kind", STRING),
        queue: b.add_text_field("queue", STRING),
        tags: b.add_text_field("tag", STRING),
        assignee: b.add_text_field("assignee", STRING),
        team: b.add_text_field("team", STRING),
        language: b.add_text_field("language", STRING),
        sentiment: b.add_text_field("sentiment", STRING),
        flagged: b.add_text_field("flagged", STRING),
        rating: b.add_text_field("rating", STRING),
        contact: b.add_text_field("contact", text.clone()),
        contact_id: b.add_text_field("contact_id", STRING),
        text: b.add_text_field("text", text),
        pairs: b.add_text_field(
            "pairs",
            TextOptions::default()
                .set_indexing_options(TextFieldIndexing::default().set_tokenizer(super::tokenizer::PAIRS).set_index_option(IndexRecordOption::Basic)),
        ),
        last_message_at: b.add_i64_field("last_message_at", INDEXED | FAST),
        created_at: b.add_i64_field("created_at", INDEXED | FAST),
        waiting_since: b.add_i64_field("waiting_since", FAST),
        snoozed_until: b.add_i64_field("snoozed_until", INDEXED),
        due_at: b.add_i64_field("due_at", INDEXED | FAST),
        soon_at: b.add_i64_field("soon_at", INDEXED),
    };
    (b.build(), fields)
}

/// Values of the `doc` field.
pub const TICKET: &str = "ticket";
pub const PAGE: &str = "page";
