//! The types that cross module lines: ids, interactions, tickets, messages, contacts.
//! Every other module imports these; this module imports none of them.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// Milliseconds since the Unix epoch, UTC.
pub type Millis = i64;

pub fn now_ms() -> Millis {
    chrono::Utc::now().timestamp_millis()
}

/// A deterministic record id: the same (channel, key) always gives the same id, so a
/// redelivered interaction lands on the record it created the first time.
pub fn stable_id(channel: &str, key: &str) -> String {
    let digest = Sha256::digest(format!("{channel}\u{0}{key}").as_bytes());
    hex::encode(&digest[..10])
}

/// The queue a ticket is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Queue {
    /// Needs an answer.
    New,
    /// Answered; waiting on the customer.
    Pending,
    Resolved,
    /// Put away without action.
    Archived,
}

impl Queue {
    pub fn as_str(self) -> &'static str {
        match self {
            Queue::New => "new",
            Queue::Pending => "pending",
            Queue::Resolved => "resolved",
            Queue::Archived => "archived",
        }
    }
}

/// What an interaction is (mirrors the WIT `interaction-kind`; its kebab-case spelling is
/// accepted too).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    #[serde(alias = "private-message")]
    PrivateMessage,
    #[serde(alias = "group-message")]
    GroupMessage,
    Comment,
    Reply,
    #[serde(alias = "ad-comment")]
    AdComment,
    Post,
    Mention,
    Review,
}

impl Kind {
    /// Conversational kinds thread into one ticket per conversation; the others are a
    /// ticket each.
    pub fn is_conversation(self) -> bool {
        matches!(self, Kind::PrivateMessage | Kind::GroupMessage)
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::PrivateMessage => "private_message",
            Kind::GroupMessage => "group_message",
            Kind::Comment => "comment",
            Kind::Reply => "reply",
            Kind::AdComment => "ad_comment",
            Kind::Post => "post",
            Kind::Mention => "mention",
            Kind::Review => "review",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Inbound,
    Outbound,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Author {
    pub id: String,
    pub name: String,
    pub handle: Option<String>,
    pub avatar_url: Option<String>,
    pub profile_url: Option<String>,
}

/// The kind of media an attachment carries (mirrors the WIT `attachment-kind`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AttachmentKind {
    Image,
    Video,
    Audio,
    File,
    Sticker,
    /// A place: its `url` is a map link, not a file.
    Location,
    Other,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Attachment {
    pub kind: AttachmentKind,
    pub platform_id: Option<String>,
    pub url: Option<String>,
    pub mime_type: Option<String>,
    pub name: Option<String>,
    pub size: Option<u64>,
}

/// Who can see an interaction on its platform (mirrors the WIT `visibility`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    Public,
    Hidden,
    /// Held by the platform until the brand publishes it.
    HeldForReview,
    /// Held as likely spam.
    LikelySpam,
}

/// A normalised interaction as a plugin delivered it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Interaction {
    pub platform_id: String,
    pub kind: Kind,
    pub direction: Direction,
    pub thread_key: String,
    pub parent_id: Option<String>,
    pub author: Author,
    pub text: String,
    pub attachments: Vec<Attachment>,
    pub created_at: Millis,
    pub edited_at: Option<Millis>,
    pub permalink: Option<String>,
    pub from_ad: bool,
    /// Platform details the plugin needs back for actions.
    #[schema(value_type = Vec<Vec<String>>)]
    pub meta: Vec<(String, String)>,
    /// For public replies: the first post of the reply chain, where the platform's users read
    /// a chain as one conversation (X, Mastodon).
    #[serde(default)]
    pub chain_key: Option<String>,
    /// A heading the platform gives it: a post's or video's title, an ad's name.
    #[serde(default)]
    pub title: Option<String>,
    /// A review's stars, 1 to 5.
    #[serde(default)]
    pub rating: Option<u8>,
    /// Who can see it on the platform, as last reported (by the platform or our actions).
    #[serde(default)]
    pub visibility: Option<Visibility>,
    /// The listening term that found it (not a mention of the brand's account).
    #[serde(default)]
    pub found_by: Option<String>,
    /// No person wrote it (an auto-reply, a delivery report): recorded in its ticket without
    /// reopening it, counting it unread or answering it.
    #[serde(default)]
    pub automated: Option<Automated>,
    /// What the thread view folds away under it: an email's quoted history and signature.
    #[serde(default)]
    pub folded: Option<String>,
}

/// What sent an interaction no person wrote.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Automated {
    /// An out-of-office or other auto-reply (RFC 3834 `Auto-Submitted`).
    AutoReply,
    /// A report that our message could not be delivered.
    Bounce,
}

impl Interaction {
    /// Written by the customer themself: what reopens a ticket and what the rules answer.
    pub fn from_customer(&self) -> bool {
        self.direction == Direction::Inbound && self.automated.is_none()
    }
}

/// Something a channel reported.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum ChannelEvent {
    Interaction(Interaction),
    /// A contact's relation to the brand's account changed.
    Contact { author: Author, status: ContactStatus, at: Millis },
    /// An interaction was removed on the platform.
    Removed { platform_id: String },
    /// What became of an outbound message.
    Delivery { platform_id: String, delivery: Delivery },
    /// Someone reacted to a message; an empty emoji takes the reaction back.
    Reaction { platform_id: String, author: Author, emoji: String, at: Millis },
}

/// What a contact did to the brand's account (mirrors the WIT `contact-status`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ContactStatus {
    BlockedUs,
    UnblockedUs,
    /// Asked for no more messages (an SMS `STOP`).
    OptedOut,
    OptedIn,
}

/// A reaction on a message, by someone.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Reaction {
    pub author_id: String,
    pub author_name: String,
    pub emoji: String,
    pub at: Millis,
}

/// How far an outbound message got. Ordered: reports can arrive out of order, and a later
/// state never goes back to an earlier one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    Sent,
    Delivered,
    Read,
    Failed,
}

/// How far an outbound message got, as the platform last reported it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Delivery {
    pub state: DeliveryState,
    pub at: Millis,
    /// For `failed`: the platform's error code and words.
    pub error: Option<String>,
}

/// What an agent can do to an interaction on its platform. The API, `plugin check` and the
/// UI spell them as here (`private_reply`); the contract spells the same names in WIT's
/// kebab-case (`private-reply`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    /// Answer publicly (a comment reply) or in the conversation.
    Reply,
    /// Answer a public comment in private.
    #[serde(alias = "private-reply")]
    PrivateReply,
    Like,
    Unlike,
    React,
    Hide,
    Unhide,
    Delete,
    Block,
    Unblock,
    #[serde(alias = "mark-read")]
    MarkRead,
    Follow,
    Repost,
    Unrepost,
    Mute,
    Unmute,
    Pin,
    Unpin,
    /// Release an interaction the platform holds for review or as spam.
    Publish,
    /// Remove it from public view for good (YouTube's `rejected`).
    Reject,
    Unfollow,
    /// Share it with our own text (X's quote post).
    Quote,
}

impl ActionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActionKind::Reply => "reply",
            ActionKind::PrivateReply => "private_reply",
            ActionKind::Like => "like",
            ActionKind::Unlike => "unlike",
            ActionKind::React => "react",
            ActionKind::Hide => "hide",
            ActionKind::Unhide => "unhide",
            ActionKind::Delete => "delete",
            ActionKind::Block => "block",
            ActionKind::Unblock => "unblock",
            ActionKind::MarkRead => "mark_read",
            ActionKind::Follow => "follow",
            ActionKind::Repost => "repost",
            ActionKind::Unrepost => "unrepost",
            ActionKind::Mute => "mute",
            ActionKind::Unmute => "unmute",
            ActionKind::Pin => "pin",
            ActionKind::Unpin => "unpin",
            ActionKind::Publish => "publish",
            ActionKind::Reject => "reject",
            ActionKind::Unfollow => "unfollow",
            ActionKind::Quote => "quote",
        }
    }
}

impl std::fmt::Display for ActionKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A ticket: one unit of work in the inbox.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Ticket {
    pub id: String,
    pub channel: String,
    pub platform: String,
    pub kind: Kind,
    pub queue: Queue,
    pub contact_id: String,
    pub contact: Author,
    pub thread_key: String,
    /// The newest message's text, shortened.
    pub preview: String,
    pub message_count: u64,
    pub created_at: Millis,
    pub updated_at: Millis,
    pub last_message_at: Millis,
    /// When the customer last wrote (for messaging windows).
    pub last_inbound_at: Option<Millis>,
    pub tags: Vec<String>,
    pub assignee: Option<String>,
    pub flagged: bool,
    pub from_ad: bool,
    /// Customer messages no agent has seen: counted as they arrive, cleared when an agent
    /// opens the ticket or answers.
    #[serde(default)]
    #[schema(required = true)]
    pub unseen: u32,
    /// Since when the customer has been waiting: their first message after our last answer,
    /// while the newest message is theirs.
    #[serde(default)]
    #[schema(required = true)]
    pub waiting_since: Option<Millis>,
    /// The newest message (the preview) is ours.
    #[serde(default)]
    #[schema(required = true)]
    pub last_from_us: bool,
    /// A snoozed ticket waits in Pending until then (or until the customer writes), then
    /// returns to New.
    #[serde(default)]
    #[schema(required = true)]
    pub snoozed_until: Option<Millis>,
    /// A review's stars, 1 to 5 (its latest version).
    #[serde(default)]
    #[schema(required = true)]
    pub rating: Option<u8>,
    /// When its assignee was given it.
    #[serde(default)]
    #[schema(required = true)]
    pub assigned_at: Option<Millis>,
    /// Given by the team's auto-assignment, not by a person.
    #[serde(default)]
    #[schema(required = true)]
    pub auto_assigned: bool,
    /// The team it was routed to by a rule (none: the team whose channel it is).
    #[serde(default)]
    #[schema(required = true)]
    pub team: Option<String>,
    /// The customer's language (ISO 639-3, `eng`): of their newest message whose language was clear.
    #[serde(default)]
    #[schema(required = true)]
    pub language: Option<String>,
    /// When an agent first answered it (rules' auto-replies do not count).
    #[serde(default)]
    #[schema(required = true)]
    pub first_response_at: Option<Millis>,
    /// When a customer last wrote again after it was resolved (its resolution time counts from
    /// then).
    #[serde(default)]
    #[schema(required = true)]
    pub reopened_at: Option<Millis>,
    /// How the customer seems to feel: an agent's mark on the ticket, else its newest customer
    /// message's sentiment.
    #[serde(default)]
    #[schema(required = true)]
    pub sentiment: Option<Sentiment>,
    #[serde(default)]
    #[schema(required = true)]
    pub sentiment_marked: bool,
    /// When its response target is next due, if one covers it and a clock runs.
    #[serde(default)]
    #[schema(required = true)]
    pub due: Option<Due>,
    /// The store's change counter when the ticket last changed (the search watermark).
    pub seq: i64,
}

/// How "breaching" a ticket is at `now`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Breach {
    /// Due within its last quarter, not yet past.
    Soon,
    /// Past due.
    Breached,
}

/// Which promise a due time keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Clock {
    FirstResponse,
    NextResponse,
    Resolution,
}

/// When a ticket is next due, and by which target.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Due {
    pub at: Millis,
    /// From then on it is "breaching soon": the last quarter of the time the target gives.
    pub soon_at: Millis,
    pub clock: Clock,
    pub target: String,
}


/// A ticket's messages are filed in pages of this many, in arrival order: the ticket view
/// opens on the newest and the search index keeps each full page as its own document, so a
/// conversation of 50,000 messages costs a new message no more than a short one.
pub const PAGE_MESSAGES: u64 = 100;

impl Ticket {
    /// The page the next message goes to; every page before it is full.
    pub fn open_page(&self) -> u32 {
        (self.message_count / PAGE_MESSAGES) as u32
    }
}

/// One message of a ticket: the interaction as delivered, and where it is filed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Message {
    pub id: String,
    pub ticket_id: String,
    pub channel: String,
    #[serde(flatten)]
    pub interaction: Interaction,
    /// Removed on the platform (deleted, unsent); kept for the record.
    pub removed: bool,
    /// The agent who sent it, for replies sent from the helpdesk.
    pub sent_by: Option<String>,
    /// For outbound messages: the platform's latest delivery report.
    #[serde(default)]
    pub delivery: Option<Delivery>,
    /// Reactions on it, one per person (the latest).
    #[serde(default)]
    pub reactions: Vec<Reaction>,
    /// Earlier versions, oldest first, when the customer edited it.
    #[serde(default)]
    pub history: Vec<Revision>,
    /// Liked by us on the platform (through the helpdesk).
    #[serde(default)]
    #[schema(required = true)]
    pub liked: bool,
    /// Hidden by us on the platform: the author and their friends still see it, others do not.
    #[serde(default)]
    #[schema(required = true)]
    pub hidden: bool,
    /// Pinned by us to the top of the post's comments.
    #[serde(default)]
    #[schema(required = true)]
    pub pinned: bool,
    /// Its language (ISO 639-3, `eng`), detected offline for customers' messages long enough
    /// to tell (`inbox::language`).
    #[serde(default)]
    #[schema(required = true)]
    pub language: Option<String>,
    /// How the customer seems to feel: an agent's mark, else the offline suggestion
    /// (`inbox::sentiment`, English only); `sentiment_marked` tells which.
    #[serde(default)]
    #[schema(required = true)]
    pub sentiment: Option<Sentiment>,
    #[serde(default)]
    #[schema(required = true)]
    pub sentiment_marked: bool,
    /// Its text in other languages, as agents asked for them (each asked of the provider once).
    #[serde(default)]
    #[schema(required = true)]
    pub translations: Vec<Translation>,
    /// The store change that wrote it.
    pub seq: i64,
    /// Arrival order within that change: orders messages the platform dated the same second.
    #[serde(default)]
    pub ordinal: u32,
    /// Its page in the ticket (`PAGE_MESSAGES`).
    #[serde(default)]
    pub page: u32,
}

/// A version of a message before an edit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Revision {
    pub text: String,
    pub attachments: Vec<Attachment>,
    /// When this version was written by an edit; `None` for the original.
    pub edited_at: Option<Millis>,
}

/// A person writing to the brand on one channel.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Contact {
    pub id: String,
    pub channel: String,
    pub author: Author,
    /// They blocked the brand's account (e.g. blocked the Telegram bot).
    pub blocked_us: bool,
    /// They asked for no more messages (an SMS `STOP`); replies would not reach them.
    #[serde(default)]
    #[schema(required = true)]
    pub opted_out: bool,
    pub tags: Vec<String>,
    pub updated_at: Millis,
    /// The person this contact was linked into, with the brand's other contacts of theirs;
    /// `None` while it stands alone.
    #[serde(default)]
    #[schema(required = true)]
    pub person: Option<String>,
    /// The admin-defined attributes agents set on this contact, by key. A person's value of a
    /// key is the newest among their contacts (`inbox::contacts::resolve`).
    #[serde(default)]
    #[schema(required = true)]
    pub attributes: BTreeMap<String, AttributeEntry>,
    /// What a link is suggested on: `handle:…`, `phone:…`, `email:…` (`inbox::contacts::match_keys`).
    #[serde(default)]
    #[schema(required = true)]
    pub match_keys: Vec<String>,
}

/// A value an agent set on a contact; a cleared value is kept as `null`, so it stays newer
/// than the value it cleared on the person's other contacts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AttributeEntry {
    pub value: serde_json::Value,
    pub at: Millis,
    pub by: String,
}

/// What an admin-defined contact attribute holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AttributeKind {
    Text,
    Number,
    /// `YYYY-MM-DD`.
    Date,
    /// One of the definition's `options`.
    List,
    Checkbox,
    /// An `http` or `https` address.
    Link,
    Email,
    /// International form: `+` and 7 to 15 digits.
    Phone,
}

/// A contact attribute an admin defined (Hootsuite's custom fields): ordered as listed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttributeDef {
    /// Stable name in the data: lowercase letters, digits and `_`.
    pub key: String,
    pub label: String,
    pub kind: AttributeKind,
    /// An agent saving a contact's attributes must give it.
    #[serde(default)]
    #[schema(required = true)]
    pub required: bool,
    /// Shown to agents; a hidden attribute keeps its values.
    #[serde(default = "yes")]
    #[schema(required = true)]
    pub shown: bool,
    /// A `list`'s choices.
    #[serde(default)]
    #[schema(required = true)]
    pub options: Vec<String>,
    /// A `text`'s pattern (a regular expression the whole value must match).
    #[serde(default)]
    #[schema(required = true)]
    pub pattern: Option<String>,
}

fn yes() -> bool {
    true
}

/// A note about a person, beside their tickets.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ContactNote {
    pub id: String,
    /// The contact it was written on (a person's page shows those of all their contacts).
    pub contact_id: String,
    pub author_id: String,
    pub author_name: String,
    pub text: String,
    pub created_at: Millis,
}

/// One link of contacts into a person, kept so it can be undone.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ContactMerge {
    pub id: String,
    /// The person they were linked into.
    pub person: String,
    /// The contact the agent linked from, and the one linked to it.
    pub into: String,
    pub linked: String,
    /// Their names then, for the history once they are apart again.
    #[serde(default)]
    #[schema(required = true)]
    pub into_name: String,
    #[serde(default)]
    #[schema(required = true)]
    pub linked_name: String,
    /// Each contact moved, with the person it was in before (`None`: alone).
    pub moved: Vec<MovedContact>,
    /// Why it was suggested (`phone:…`), if it was.
    pub matched: Vec<String>,
    pub by: String,
    pub at: Millis,
    pub undone_by: Option<String>,
    pub undone_at: Option<Millis>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MovedContact {
    pub contact: String,
    pub from: Option<String>,
}

/// An entry of a ticket's history: actions, status changes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Activity {
    pub id: String,
    pub ticket_id: String,
    pub at: Millis,
    /// Who did it: an agent, or `system`.
    pub actor: String,
    /// e.g. `action.reply`, `queue.resolved`.
    pub what: String,
    /// The outcome in words (the platform's error, if it failed).
    pub detail: String,
    pub ok: bool,
}

/// A translation service the host calls (`translation`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TranslationProvider {
    /// `POST {url}/v2/translate`, `Authorization: DeepL-Auth-Key …` (api-free.deepl.com or api.deepl.com).
    Deepl,
    /// `POST {url}/translate` with `api_key` in the body (libretranslate.com or your own).
    Libretranslate,
}

/// A message's text in another language, as a provider gave it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Translation {
    /// ISO 639-3 (`eng`).
    pub language: String,
    pub text: String,
    /// The language the provider read the original as (ISO 639-3), if it said.
    pub detected: Option<String>,
    pub provider: TranslationProvider,
    pub at: Millis,
}

/// How a customer seems to feel (NapoleonCat's sentiment mark).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Sentiment {
    Positive,
    Neutral,
    Negative,
}

impl Sentiment {
    pub fn as_str(self) -> &'static str {
        match self {
            Sentiment::Positive => "positive",
            Sentiment::Neutral => "neutral",
            Sentiment::Negative => "negative",
        }
    }
}

/// What an audit log entry is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuditKind {
    SignIn,
    SignInFailed,
    SignOut,
    Setup,
    User,
    Invitation,
    Token,
    Channel,
    Plugin,
    Rule,
    SavedReply,
    Team,
    ResponseTarget,
    Settings,
    /// Contacts linked into a person, unlinked, or a link undone.
    Contact,
    /// An action on a platform: a reply, a hide, a delete... by an agent or a rule.
    PlatformAction,
}

/// One line of the append-only audit log: who did what, when, and how it went.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AuditEntry {
    pub id: String,
    pub at: Millis,
    /// The person's name, a rule (`Rule: …`), or the email a failed sign-in tried.
    pub actor: String,
    pub actor_id: Option<String>,
    pub kind: AuditKind,
    /// `POST /api/v1/rules`, or the platform action (`reply`, `hide`, `delete`...).
    pub action: String,
    /// What it was done to: the id in the path, or the ticket.
    pub target: Option<String>,
    /// The request as sent (passwords and secrets left out), or the platform's answer.
    pub detail: String,
    /// What a platform delete or hide took away, kept because it cannot be undone.
    pub content: Option<String>,
    pub status: u16,
    pub ok: bool,
}

/// An internal note on a ticket, by an agent for agents.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Note {
    pub id: String,
    pub ticket_id: String,
    pub author_id: String,
    pub author_name: String,
    pub text: String,
    pub created_at: Millis,
    pub edited_at: Option<Millis>,
    /// The teammates it @mentions (user ids): each is told.
    #[serde(default)]
    #[schema(required = true)]
    pub mentions: Vec<String>,
    /// The consultation it is part of: what an agent asked someone outside, or their answer.
    #[serde(default)]
    #[schema(required = true)]
    pub consultation_id: Option<String>,
    /// The address of the outside person who wrote it by email (then no agent did).
    #[serde(default)]
    #[schema(required = true)]
    pub email: Option<String>,
}

/// Shorten `text` to at most `max` characters for previews.
pub fn preview(text: &str, max: usize) -> String {
    let mut s: String = text.chars().take(max).collect();
    if text.chars().count() > max {
        s.push('…');
    }
    s
}

/// How a channel is doing, as admins see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HealthState {
    Starting,
    Ok,
    /// Failing: see `last_error`; retried with backoff.
    Degraded,
    /// The platform refused the credentials: an admin must reconnect the channel.
    NeedsReconnect,
    Disabled,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ChannelHealth {
    pub state: HealthState,
    pub last_error: Option<String>,
    pub last_error_at: Option<Millis>,
    pub last_ok_at: Option<Millis>,
    /// When the channel last delivered an interaction.
    pub last_activity_at: Option<Millis>,
    pub consecutive_failures: u32,
    pub next_retry_at: Option<Millis>,
    /// The platform's call budget, as the plugin last counted it (YouTube's daily units).
    #[serde(default)]
    pub quota: Option<Quota>,
    /// What the plugin says the admin should know (the API version retiring soon).
    #[serde(default)]
    pub notice: Option<String>,
}

/// How much of a platform's call budget is used.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Quota {
    /// What the platform counts, in words ("units").
    pub unit: String,
    pub used: u64,
    pub limit: u64,
    pub resets_at: Option<Millis>,
}

impl ChannelHealth {
    pub fn new(state: HealthState) -> Self {
        ChannelHealth {
            state,
            last_error: None,
            last_error_at: None,
            last_ok_at: None,
            last_activity_at: None,
            consecutive_failures: 0,
            next_retry_at: None,
            quota: None,
            notice: None,
        }
    }
}
