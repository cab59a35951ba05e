//! The ticket rules, as a pure function from (events, what is stored) to what to write.
//!
//! - A private conversation is one ticket per contact and channel; a group chat one ticket per
//!   group; every comment, post, mention and review is its own ticket.
//! - A platform id is stored once: a redelivery is skipped, an edit updates the message.
//! - Queues: a customer message puts the ticket in New (from any queue); an outbound message
//!   moves New to Pending.

use crate::model::{
    now_ms, preview, stable_id, Author, ChannelEvent, Contact, ContactStatus, Direction, Interaction, Kind, Message, Queue, Revision, Ticket,
    Visibility, PAGE_MESSAGES,
};
use std::collections::{BTreeSet, HashMap};

pub const PREVIEW_CHARS: usize = 140;
/// Earlier versions kept per message (the original and the latest ones).
pub const MAX_REVISIONS: usize = 50;

/// The key of the ticket an interaction belongs to.
pub fn ticket_key(i: &Interaction) -> String {
    if i.kind.is_conversation() {
        return format!("thread:{}", i.thread_key);
    }
    // A reply chain the channel files as one conversation (its `reply_chains = "one-ticket"`).
    if let Some(chain) = &i.chain_key {
        return format!("chain:{chain}");
    }
    match (&i.direction, &i.parent_id) {
        // Our own answer to a comment belongs to that comment's ticket.
        (Direction::Outbound, Some(parent)) => format!("item:{parent}"),
        _ => format!("item:{}", i.platform_id),
    }
}

pub fn message_id(channel: &str, platform_id: &str) -> String {
    stable_id(channel, &format!("msg:{platform_id}"))
}

pub fn contact_id(channel: &str, author_id: &str) -> String {
    stable_id(channel, &format!("contact:{author_id}"))
}

/// The ids a batch of events touches, to load before planning.
pub fn ids_touched(channel: &str, events: &[ChannelEvent]) -> (Vec<String>, Vec<String>, Vec<String>) {
    let (mut messages, mut tickets, mut contacts) = (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
    for e in events {
        match e {
            ChannelEvent::Interaction(i) => {
                messages.insert(message_id(channel, &i.platform_id));
                tickets.insert(stable_id(channel, &ticket_key(i)));
                contacts.insert(contact_id(channel, &i.author.id));
            }
            ChannelEvent::Contact { author, .. } => {
                contacts.insert(contact_id(channel, &author.id));
            }
            ChannelEvent::Removed { platform_id } | ChannelEvent::Delivery { platform_id, .. } | ChannelEvent::Reaction { platform_id, .. } => {
                messages.insert(message_id(channel, platform_id));
            }
        }
    }
    (messages.into_iter().collect(), tickets.into_iter().collect(), contacts.into_iter().collect())
}

/// What is stored, keyed by id; planning updates it in place and remembers what changed.
#[derive(Default)]
pub struct Working {
    pub messages: HashMap<String, Message>,
    pub tickets: HashMap<String, Ticket>,
    pub contacts: HashMap<String, Contact>,
    pub changed_messages: BTreeSet<String>,
    pub changed_tickets: BTreeSet<String>,
    pub created_tickets: BTreeSet<String>,
    /// Messages not in the store before this batch.
    pub created_messages: BTreeSet<String>,
    pub changed_contacts: BTreeSet<String>,
    /// New messages, in arrival order (for live events).
    pub new_messages: Vec<String>,
    /// Audit log entries this write appends (actions on the platforms).
    pub audit: Vec<crate::model::AuditEntry>,
}

impl Working {
    pub fn new(messages: Vec<Message>, tickets: Vec<Ticket>, contacts: Vec<Contact>) -> Self {
        Working {
            messages: messages.into_iter().map(|m| (m.id.clone(), m)).collect(),
            tickets: tickets.into_iter().map(|t| (t.id.clone(), t)).collect(),
            contacts: contacts.into_iter().map(|c| (c.id.clone(), c)).collect(),
            ..Default::default()
        }
    }

    /// Apply one event.
    pub fn apply(&mut self, channel: &str, platform: &str, event: ChannelEvent, seq: i64) {
        match event {
            ChannelEvent::Interaction(i) => {
                self.interaction(channel, platform, i, None, None, seq);
            }
            ChannelEvent::Contact { author, status, at } => {
                let c = self.contact(channel, &author, at);
                let (flag, on) = match status {
                    ContactStatus::BlockedUs => (&mut c.blocked_us, true),
                    ContactStatus::UnblockedUs => (&mut c.blocked_us, false),
                    ContactStatus::OptedOut => (&mut c.opted_out, true),
                    ContactStatus::OptedIn => (&mut c.opted_out, false),
                };
                if *flag != on {
                    *flag = on;
                    c.updated_at = at;
                    let id = c.id.clone();
                    self.changed_contacts.insert(id);
                }
            }
            ChannelEvent::Delivery { platform_id, delivery } => {
                let id = message_id(channel, &platform_id);
                // Reports for messages not sent from here (or not stored yet) are dropped.
                if let Some(m) = self.messages.get_mut(&id) {
                    if m.delivery.as_ref().is_none_or(|d| delivery.state > d.state) {
                        m.delivery = Some(delivery);
                        m.seq = seq;
                        let ticket = m.ticket_id.clone();
                        self.changed_messages.insert(id);
                        self.touch(&ticket, seq);
                    }
                }
            }
            ChannelEvent::Reaction { platform_id, author, emoji, at } => {
                let id = message_id(channel, &platform_id);
                // Reactions to messages we do not have are dropped, like delivery reports.
                if let Some(m) = self.messages.get_mut(&id) {
                    let before = m.reactions.clone();
                    m.reactions.retain(|r| r.author_id != author.id);
                    if !emoji.is_empty() {
                        m.reactions.push(crate::model::Reaction { author_id: author.id, author_name: author.name, emoji, at });
                    }
                    if m.reactions != before {
                        m.seq = seq;
                        let ticket = m.ticket_id.clone();
                        self.changed_messages.insert(id);
                        self.touch(&ticket, seq);
                    }
                }
            }
            ChannelEvent::Removed { platform_id } => {
                let id = message_id(channel, &platform_id);
                if let Some(m) = self.messages.get_mut(&id).filter(|m| !m.removed) {
                    m.removed = true;
                    m.seq = seq;
                    let ticket = m.ticket_id.clone();
                    self.changed_messages.insert(id);
                    self.touch(&ticket, seq);
                }
            }
        }
    }

    /// Store an interaction, into `into_ticket` when the caller knows its ticket (an agent's
    /// reply). Returns the message id.
    pub fn interaction(
        &mut self,
        channel: &str,
        platform: &str,
        i: Interaction,
        into_ticket: Option<&str>,
        sent_by: Option<String>,
        seq: i64,
    ) -> String {
        let id = message_id(channel, &i.platform_id);
        if let Some(existing) = self.messages.get_mut(&id) {
            let known = &mut existing.interaction;
            // Only a newer edit applies: a replayed or out-of-order delivery of an older
            // version cannot take back what the customer wrote last.
            let newer = match (i.edited_at, known.edited_at) {
                (Some(new), Some(old)) => new > old,
                (Some(_), None) => true,
                (None, _) => false,
            };
            let edited = newer && (known.text != i.text || known.attachments != i.attachments || known.rating != i.rating);
            // What the platform says of it now, edit or not: who can see it, its heading.
            // (A post the platform now says is an ad, say, promoted after its first comments.)
            let restated = (i.visibility.is_some() && i.visibility != known.visibility)
                || (i.title.is_some() && i.title != known.title)
                || (i.from_ad && !known.from_ad);
            if restated && !edited {
                known.visibility = i.visibility.or(known.visibility);
                known.title = i.title.clone().or(known.title.take());
                known.from_ad |= i.from_ad;
                existing.hidden = known.visibility == Some(Visibility::Hidden) || (existing.hidden && i.visibility.is_none());
                existing.seq = seq;
                let ticket = existing.ticket_id.clone();
                self.changed_messages.insert(id.clone());
                self.touch(&ticket, seq);
                return id;
            }
            if edited {
                if existing.history.len() >= MAX_REVISIONS {
                    // Keep the original and the latest ones.
                    existing.history.remove(1);
                }
                existing.history.push(Revision {
                    text: known.text.clone(),
                    attachments: known.attachments.clone(),
                    edited_at: known.edited_at,
                });
                let rating_changed = known.rating != i.rating;
                known.text = i.text;
                known.attachments = i.attachments;
                known.edited_at = i.edited_at;
                known.rating = i.rating;
                known.visibility = i.visibility.or(known.visibility);
                known.title = i.title.or(known.title.take());
                existing.seq = seq;
                let ticket = existing.ticket_id.clone();
                let (kind, inbound, rating) = (known.kind, known.direction == Direction::Inbound, known.rating);
                self.changed_messages.insert(id.clone());
                self.refresh_preview(&ticket);
                // A customer who changes their review (its words or stars) wants it read again.
                if kind == Kind::Review && inbound {
                    if let Some(t) = self.tickets.get_mut(&ticket) {
                        if rating_changed {
                            t.rating = rating;
                        }
                        if t.queue != Queue::New {
                            t.queue = Queue::New;
                            t.snoozed_until = None;
                            t.waiting_since = Some(t.waiting_since.unwrap_or_else(now_ms));
                        }
                        t.unseen += 1;
                    }
                }
                self.touch(&ticket, seq);
            }
            return id;
        }
        let ticket_id = into_ticket.map(str::to_string).unwrap_or_else(|| stable_id(channel, &ticket_key(&i)));
        let inbound = i.direction == Direction::Inbound;
        // An auto-reply or a delivery report is kept in its ticket, and changes nothing else.
        let automated = inbound && i.automated.is_some();
        // Nor does it speak for the person: a mail server's report has no name of theirs.
        if inbound && !automated {
            self.contact(channel, &i.author, i.created_at);
        }
        let now = now_ms();
        let ticket = self.tickets.entry(ticket_id.clone()).or_insert_with(|| {
            self.created_tickets.insert(ticket_id.clone());
            Ticket {
                id: ticket_id.clone(),
                channel: channel.to_string(),
                platform: platform.to_string(),
                kind: i.kind,
                // The brand's own post is context for the comments under it, not work.
                queue: match (inbound, i.kind) {
                    // Nobody wrote it: nothing to do until someone does.
                    (true, _) if automated => Queue::Archived,
                    (true, _) => Queue::New,
                    (false, Kind::Post) => Queue::Archived,
                    (false, _) => Queue::Pending,
                },
                contact_id: contact_id(channel, &i.author.id),
                contact: i.author.clone(),
                thread_key: i.thread_key.clone(),
                preview: String::new(),
                message_count: 0,
                created_at: now,
                updated_at: now,
                last_message_at: i.created_at,
                last_inbound_at: None,
                tags: Vec::new(),
                assignee: None,
                flagged: false,
                from_ad: i.from_ad,
                unseen: 0,
                waiting_since: None,
                last_from_us: false,
                snoozed_until: None,
                rating: None,
                assigned_at: None,
                auto_assigned: false,
                team: None,
                language: None,
                first_response_at: None,
                reopened_at: None,
                sentiment: None,
                sentiment_marked: false,
                due: None,
                seq,
            }
        });
        if inbound && i.rating.is_some() && ticket.kind == Kind::Review {
            ticket.rating = i.rating;
        }
        ticket.message_count += 1;
        // Only the newest message says who is waiting: an older one delivered late does not.
        if automated {
            if ticket.message_count == 1 {
                ticket.last_message_at = i.created_at;
                ticket.preview = preview(&message_preview(&i.text, i.attachments.len()), PREVIEW_CHARS);
            }
        } else if i.created_at >= ticket.last_message_at || ticket.message_count == 1 {
            ticket.last_message_at = i.created_at;
            ticket.preview = preview(&message_preview(&i.text, i.attachments.len()), PREVIEW_CHARS);
            ticket.last_from_us = !inbound;
            ticket.waiting_since = if inbound { Some(ticket.waiting_since.unwrap_or(i.created_at)) } else { None };
        }
        if inbound && !automated {
            ticket.unseen += 1;
        } else if !inbound {
            // Whoever answered saw what they answered.
            ticket.unseen = 0;
        }
        if inbound && !automated {
            ticket.last_inbound_at = Some(ticket.last_inbound_at.unwrap_or(i.created_at).max(i.created_at));
            ticket.queue = Queue::New;
            // A snooze lasts until the customer answers.
            ticket.snoozed_until = None;
            // A group's ticket shows who spoke last; a person's ticket keeps up with their profile.
            let author_contact = contact_id(channel, &i.author.id);
            if ticket.kind == Kind::GroupMessage || ticket.contact_id == author_contact {
                ticket.contact_id = author_contact;
                ticket.contact = i.author.clone();
            }
        } else if !inbound && ticket.queue == Queue::New {
            ticket.queue = Queue::Pending;
        }
        if !inbound && sent_by.as_deref().is_some_and(super::automation::is_person) && ticket.first_response_at.is_none() {
            ticket.first_response_at = Some(i.created_at.max(ticket.created_at));
        }
        let language = if inbound { super::language::detect(&i.text) } else { None };
        if language.is_some() && i.created_at >= ticket.last_message_at {
            ticket.language = language.clone();
        }
        let sentiment = if inbound { super::sentiment::suggest(&i.text, language.as_deref()) } else { None };
        if inbound && !ticket.sentiment_marked && i.created_at >= ticket.last_message_at {
            ticket.sentiment = sentiment;
        }
        let ordinal = self.new_messages.len() as u32;
        let page = ((ticket.message_count - 1) / PAGE_MESSAGES) as u32;
        self.messages.insert(id.clone(), Message {
            id: id.clone(),
            ticket_id: ticket_id.clone(),
            channel: channel.to_string(),
            removed: false,
            sent_by,
            delivery: None,
            reactions: Vec::new(),
            history: Vec::new(),
            liked: false,
            hidden: i.visibility == Some(Visibility::Hidden),
            pinned: false,
            language,
            sentiment,
            sentiment_marked: false,
            translations: Vec::new(),
            seq,
            ordinal,
            page,
            interaction: i,
        });
        self.changed_messages.insert(id.clone());
        self.created_messages.insert(id.clone());
        self.new_messages.push(id.clone());
        self.touch(&ticket_id, seq);
        id
    }

    fn contact(&mut self, channel: &str, author: &Author, at: i64) -> &mut Contact {
        let id = contact_id(channel, &author.id);
        let mut is_new = false;
        let c = self.contacts.entry(id.clone()).or_insert_with(|| {
            is_new = true;
            Contact {
                id: id.clone(),
                channel: channel.to_string(),
                author: author.clone(),
                blocked_us: false,
                opted_out: false,
                tags: Vec::new(),
                updated_at: at,
                person: None,
                attributes: Default::default(),
                match_keys: Vec::new(),
            }
        });
        if is_new || c.author != *author {
            c.author = author.clone();
            c.updated_at = at;
            c.match_keys = super::contacts::match_keys(c);
            self.changed_contacts.insert(id.clone());
        }
        self.contacts.get_mut(&id).expect("inserted above")
    }

    /// Mark a ticket changed by change `seq` (re-indexed, broadcast).
    pub fn touch(&mut self, ticket_id: &str, seq: i64) {
        if let Some(t) = self.tickets.get_mut(ticket_id) {
            t.seq = seq;
            t.updated_at = now_ms();
            self.changed_tickets.insert(ticket_id.to_string());
        }
    }

    /// After an edit, the preview shows the newest message's current text.
    fn refresh_preview(&mut self, ticket_id: &str) {
        let newest = self
            .messages
            .values()
            .filter(|m| m.ticket_id == ticket_id)
            .max_by_key(|m| (m.interaction.created_at, m.seq, m.ordinal))
            .map(|m| message_preview(&m.interaction.text, m.interaction.attachments.len()));
        if let (Some(text), Some(t)) = (newest, self.tickets.get_mut(ticket_id)) {
            t.preview = preview(&text, PREVIEW_CHARS);
        }
    }
}

fn message_preview(text: &str, attachments: usize) -> String {
    match (text.is_empty(), attachments) {
        (true, 0) => String::new(),
        (true, 1) => "[attachment]".into(),
        (true, n) => format!("[{n} attachments]"),
        _ => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(id: &str, kind: Kind, dir: Direction, thread: &str, text: &str) -> Interaction {
        Interaction {
            platform_id: id.into(),
            kind,
            direction: dir,
            thread_key: thread.into(),
            parent_id: None,
            author: Author { id: "u1".into(), name: "Ann".into(), ..Default::default() },
            text: text.into(),
            attachments: vec![],
            created_at: 1000,
            edited_at: None,
            permalink: None,
            from_ad: false,
            meta: vec![],
            chain_key: None,
            title: None,
            rating: None,
            visibility: None,
            found_by: None,
            automated: None,
            folded: None,
        }
    }

    #[test]
    fn a_conversation_is_one_ticket_and_comments_are_one_each() {
        let mut w = Working::default();
        for (n, i) in [
            msg("c:1", Kind::PrivateMessage, Direction::Inbound, "c", "hi"),
            msg("c:2", Kind::PrivateMessage, Direction::Inbound, "c", "there"),
            msg("p:1", Kind::Comment, Direction::Inbound, "post", "nice"),
            msg("p:2", Kind::Comment, Direction::Inbound, "post", "bad"),
        ]
        .into_iter()
        .enumerate()
        {
            w.apply("ch", "x", ChannelEvent::Interaction(i), n as i64);
        }
        assert_eq!(w.tickets.len(), 3);
        let convo = w.tickets.values().find(|t| t.kind == Kind::PrivateMessage).unwrap();
        assert_eq!(convo.message_count, 2);
        assert_eq!(convo.preview, "there");
    }

    #[test]
    fn a_reply_chain_marked_by_the_channel_is_one_ticket_and_other_comments_stay_apart() {
        let mut w = Working::default();
        let chained = |id: &str, text: &str| Interaction { chain_key: Some("root".into()), ..msg(id, Kind::Reply, Direction::Inbound, "post", text) };
        for (n, i) in [chained("r:1", "first"), chained("r:2", "second"), msg("p:3", Kind::Comment, Direction::Inbound, "post", "alone")].into_iter().enumerate() {
            w.apply("ch", "x", ChannelEvent::Interaction(i), n as i64);
        }
        assert_eq!(w.tickets.len(), 2);
        let chain = w.tickets.values().find(|t| t.message_count == 2).expect("the chain in one ticket");
        assert_eq!(chain.preview, "second");
    }

    #[test]
    fn a_review_shows_its_stars_and_an_edit_of_them_brings_it_back_to_new() {
        let mut w = Working::default();
        let review = Interaction { rating: Some(2), ..msg("rv:1", Kind::Review, Direction::Inbound, "shop", "slow") };
        w.apply("ch", "x", ChannelEvent::Interaction(review.clone()), 1);
        let id = w.tickets.keys().next().unwrap().clone();
        assert_eq!(w.tickets[&id].rating, Some(2));
        w.tickets.get_mut(&id).unwrap().queue = Queue::Resolved;
        w.apply("ch", "x", ChannelEvent::Interaction(Interaction { rating: Some(4), edited_at: Some(5000), ..review }), 2);
        let t = &w.tickets[&id];
        assert_eq!((t.rating, t.queue, t.message_count), (Some(4), Queue::New, 1));
        assert_eq!(w.messages.values().next().unwrap().history.len(), 1);
    }

    #[test]
    fn what_the_platform_says_of_a_message_later_updates_it_without_an_edit() {
        let mut w = Working::default();
        let held = Interaction { visibility: Some(Visibility::HeldForReview), ..msg("yt:1", Kind::Comment, Direction::Inbound, "video", "buy now") };
        w.apply("ch", "x", ChannelEvent::Interaction(held.clone()), 1);
        w.apply("ch", "x", ChannelEvent::Interaction(Interaction { visibility: Some(Visibility::Hidden), ..held.clone() }), 2);
        let m = w.messages.values().next().unwrap();
        assert_eq!((m.interaction.visibility, m.hidden, m.history.len()), (Some(Visibility::Hidden), true, 0));
        // Saying nothing of it keeps what was known.
        w.apply("ch", "x", ChannelEvent::Interaction(Interaction { visibility: None, ..held }), 3);
        assert_eq!(w.messages.values().next().unwrap().interaction.visibility, Some(Visibility::Hidden));
    }

    #[test]
    fn a_contact_who_opts_out_is_marked_and_opting_in_clears_it() {
        let mut w = Working::default();
        let ann = Author { id: "u1".into(), name: "Ann".into(), ..Default::default() };
        w.apply("ch", "x", ChannelEvent::Contact { author: ann.clone(), status: ContactStatus::OptedOut, at: 1 }, 1);
        assert!(w.contacts.values().next().unwrap().opted_out);
        assert!(!w.contacts.values().next().unwrap().blocked_us);
        w.apply("ch", "x", ChannelEvent::Contact { author: ann, status: ContactStatus::OptedIn, at: 2 }, 2);
        assert!(!w.contacts.values().next().unwrap().opted_out);
    }

    #[test]
    fn a_group_ticket_shows_who_spoke_last() {
        let mut w = Working::default();
        let mut second = msg("g:2", Kind::GroupMessage, Direction::Inbound, "g", "two");
        second.author = Author { id: "u2".into(), name: "Bo".into(), ..Default::default() };
        w.apply("ch", "x", ChannelEvent::Interaction(msg("g:1", Kind::GroupMessage, Direction::Inbound, "g", "one")), 1);
        w.apply("ch", "x", ChannelEvent::Interaction(second), 2);
        assert_eq!(w.tickets.len(), 1);
        assert_eq!(w.tickets.values().next().unwrap().contact.name, "Bo");
    }

    #[test]
    fn duplicates_are_skipped_and_edits_update_in_place() {
        let mut w = Working::default();
        let first = msg("c:1", Kind::PrivateMessage, Direction::Inbound, "c", "helo");
        w.apply("ch", "x", ChannelEvent::Interaction(first.clone()), 1);
        w.apply("ch", "x", ChannelEvent::Interaction(first.clone()), 2);
        let mut edit = first;
        edit.text = "hello".into();
        edit.edited_at = Some(2000);
        w.apply("ch", "x", ChannelEvent::Interaction(edit), 3);
        assert_eq!(w.messages.len(), 1);
        assert_eq!(w.messages.values().next().unwrap().interaction.text, "hello");
        assert_eq!(w.tickets.values().next().unwrap().message_count, 1);
    }

    #[test]
    fn an_edit_keeps_the_earlier_version_and_an_older_edit_never_reverts_a_newer_one() {
        let mut w = Working::default();
        let first = msg("c:1", Kind::PrivateMessage, Direction::Inbound, "c", "my order is 123");
        w.apply("ch", "x", ChannelEvent::Interaction(first.clone()), 1);
        let edit = |text: &str, at: i64| Interaction { text: text.into(), edited_at: Some(at), ..first.clone() };
        w.apply("ch", "x", ChannelEvent::Interaction(edit("my order is 124", 3000)), 2);
        // A replayed webhook of an earlier edit, and a late redelivery of the original.
        w.apply("ch", "x", ChannelEvent::Interaction(edit("my order is 12", 2000)), 3);
        w.apply("ch", "x", ChannelEvent::Interaction(first.clone()), 4);
        let m = w.messages.values().next().unwrap();
        assert_eq!(m.interaction.text, "my order is 124");
        assert_eq!(m.interaction.edited_at, Some(3000));
        assert_eq!(m.history.len(), 1, "{:?}", m.history);
        assert_eq!(m.history[0].text, "my order is 123", "the original is kept");
        assert_eq!(m.history[0].edited_at, None);
    }

    #[test]
    fn an_auto_reply_or_a_bounce_is_kept_in_its_ticket_without_reopening_it_or_counting_unread() {
        let mut w = Working::new(vec![], vec![], vec![]);
        w.apply("ch", "x", ChannelEvent::Interaction(msg("m1", Kind::PrivateMessage, Direction::Inbound, "c", "help")), 1);
        w.apply("ch", "x", ChannelEvent::Interaction(msg("m2", Kind::PrivateMessage, Direction::Outbound, "c", "done")), 2);
        let id = w.tickets.keys().next().unwrap().clone();
        w.tickets.get_mut(&id).unwrap().queue = Queue::Resolved;
        let auto = Interaction { automated: Some(crate::model::Automated::AutoReply), ..msg("m3", Kind::PrivateMessage, Direction::Inbound, "c", "I am away") };
        w.apply("ch", "x", ChannelEvent::Interaction(auto), 3);
        let t = &w.tickets[&id];
        assert_eq!((t.queue, t.unseen, t.message_count, t.waiting_since, t.last_from_us), (Queue::Resolved, 0, 3, None, true));
        assert_eq!(t.preview, "done");
        // Nobody wrote to a new ticket: it waits for nobody.
        let bounce = Interaction { automated: Some(crate::model::Automated::Bounce), ..msg("m4", Kind::PrivateMessage, Direction::Inbound, "other", "undeliverable") };
        w.apply("ch", "x", ChannelEvent::Interaction(bounce), 4);
        let other = w.tickets.values().find(|t| t.thread_key == "other").unwrap();
        assert_eq!((other.queue, other.unseen), (Queue::Archived, 0));
    }

    #[test]
    fn queues_follow_who_wrote_last() {
        let mut w = Working::default();
        w.apply("ch", "x", ChannelEvent::Interaction(msg("c:1", Kind::PrivateMessage, Direction::Inbound, "c", "q")), 1);
        let t = w.tickets.keys().next().unwrap().clone();
        assert_eq!(w.tickets[&t].queue, Queue::New);
        w.apply("ch", "x", ChannelEvent::Interaction(msg("c:2", Kind::PrivateMessage, Direction::Outbound, "c", "a")), 2);
        assert_eq!(w.tickets[&t].queue, Queue::Pending);
        w.tickets.get_mut(&t).unwrap().queue = Queue::Resolved;
        w.apply("ch", "x", ChannelEvent::Interaction(msg("c:3", Kind::PrivateMessage, Direction::Inbound, "c", "q2")), 3);
        assert_eq!(w.tickets[&t].queue, Queue::New);
    }

    /// A private message of conversation `c` whose id is its text, written at `t`.
    fn dated(id: &str, dir: Direction, t: i64) -> ChannelEvent {
        ChannelEvent::Interaction(Interaction { created_at: t, ..msg(id, Kind::PrivateMessage, dir, "c", id) })
    }

    #[test]
    fn the_customer_waits_from_their_first_unanswered_message_until_we_answer() {
        let mut w = Working::default();
        w.apply("ch", "x", dated("c:1", Direction::Inbound, 1_000), 1);
        w.apply("ch", "x", dated("c:2", Direction::Inbound, 5_000), 2);
        let t = w.tickets.keys().next().unwrap().clone();
        assert_eq!((w.tickets[&t].waiting_since, w.tickets[&t].unseen, w.tickets[&t].last_from_us), (Some(1_000), 2, false));
        w.apply("ch", "x", dated("c:3", Direction::Outbound, 9_000), 3);
        assert_eq!((w.tickets[&t].waiting_since, w.tickets[&t].unseen, w.tickets[&t].last_from_us), (None, 0, true));
        w.apply("ch", "x", dated("c:4", Direction::Inbound, 12_000), 4);
        assert_eq!(w.tickets[&t].waiting_since, Some(12_000), "waiting again from their new message");
    }

    #[test]
    fn an_older_message_delivered_late_does_not_change_who_is_waiting() {
        let mut w = Working::default();
        w.apply("ch", "x", dated("c:2", Direction::Outbound, 9_000), 1);
        w.apply("ch", "x", dated("c:1", Direction::Inbound, 1_000), 2);
        let t = w.tickets.keys().next().unwrap().clone();
        assert_eq!((w.tickets[&t].waiting_since, w.tickets[&t].last_from_us), (None, true), "our answer is still the newest");
        assert_eq!(w.tickets[&t].unseen, 1, "but nobody has seen the customer's message yet");
    }
}
