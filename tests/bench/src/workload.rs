//! A realistic synthetic inbox: many channels and contacts, multilingual comment and DM text,
//! threads from one message to hundreds, queues, tags and dates spread over three months.

use helpdesk::model::{Author, Direction, Interaction, Kind, Message, Queue, Ticket};

const PLATFORMS: [&str; 6] = ["telegram", "facebook", "instagram", "whatsapp", "x", "youtube"];

const WORDS: &[&[&str]] = &[
    &["order", "refund", "delivery", "late", "parcel", "broken", "size", "exchange", "thanks", "please", "where", "still", "waiting", "app", "login", "password", "discount", "code", "invoice", "address", "tracking", "number", "help", "store", "price", "return", "damaged", "color", "stock", "weekend"],
    &["pedido", "reembolso", "entrega", "tarde", "paquete", "roto", "talla", "cambio", "gracias", "dónde", "todavía", "esperando", "código", "factura", "dirección"],
    &["Bestellung", "Rückerstattung", "Lieferung", "spät", "Paket", "kaputt", "Größe", "Umtausch", "danke", "bitte", "warten", "Rechnung", "Adresse"],
    &["commande", "remboursement", "livraison", "retard", "colis", "cassé", "taille", "échange", "merci", "attente", "facture", "adresse"],
    &["pedido", "reembolso", "entrega", "atrasado", "encomenda", "obrigado", "tamanho", "troca", "fatura", "endereço"],
    &["zamówienie", "zwrot", "dostawa", "paczka", "uszkodzona", "rozmiar", "dziękuję", "faktura", "adres"],
];

/// The workload, generated chunk by chunk so the full size (10M messages) never sits in memory:
/// every consumer walks the same deterministic chunks.
pub struct Workload {
    /// Thread weight per ticket; a ticket's message count is its share of the messages.
    weights: Vec<f64>,
    total_weight: f64,
    messages: usize,
    seed: u64,
}

/// A run of consecutive tickets and all their messages.
pub struct Chunk {
    pub tickets: Vec<Ticket>,
    pub messages: Vec<Message>,
}

/// A sentence of 5 to 24 words in one language, sometimes with an order number.
pub fn sentence(rng: &mut fastrand::Rng) -> String {
    let lang = WORDS[if rng.u8(..100) < 60 { 0 } else { rng.usize(1..WORDS.len()) }];
    let mut words: Vec<String> = (0..rng.usize(5..25)).map(|_| lang[rng.usize(..lang.len())].to_string()).collect();
    if rng.u8(..100) < 30 {
        words.push(format!("#{}", rng.u32(10_000..99_999)));
    }
    if rng.u8(..100) < 5 {
        words.extend(["order".to_string(), "late".to_string()]);
    }
    words.join(" ")
}

/// Tickets generated per chunk.
const CHUNK: usize = 10_000;

/// The newest a generated message can be (ms since epoch).
pub const NOW: i64 = 1_790_000_000_000;

impl Workload {
    /// `tickets` tickets holding about `messages` messages in all (at least one each).
    pub fn new(tickets: usize, messages: usize, seed: u64) -> Self {
        let mut rng = fastrand::Rng::with_seed(seed);
        // Thread lengths: most tickets are one comment, a few conversations are long.
        let weights: Vec<f64> = (0..tickets).map(|_| 1.0 / (rng.f64() + 0.01).powf(1.2)).collect();
        let total_weight = weights.iter().sum();
        Workload { weights, total_weight, messages, seed }
    }

    pub fn ticket_count(&self) -> usize {
        self.weights.len()
    }

    pub fn message_count(&self) -> usize {
        (0..self.weights.len()).map(|n| self.thread_len(n)).sum()
    }

    fn thread_len(&self, n: usize) -> usize {
        let extra = self.messages.saturating_sub(self.weights.len()) as f64;
        1 + (extra * self.weights[n] / self.total_weight) as usize
    }

    pub fn chunks(&self) -> impl Iterator<Item = Chunk> + '_ {
        (0..self.weights.len()).step_by(CHUNK).map(|first| self.chunk(first, (first + CHUNK).min(self.weights.len())))
    }

    fn chunk(&self, first: usize, end: usize) -> Chunk {
        let mut rng = fastrand::Rng::with_seed(self.seed ^ (first as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let now = NOW;
        let contacts = (self.weights.len() / 2).max(1);
        let mut out = Chunk { tickets: Vec::with_capacity(end - first), messages: Vec::new() };
        for n in first..end {
            let count = self.thread_len(n);
            let platform = PLATFORMS[n % PLATFORMS.len()];
            let channel = format!("{platform}-{}", n % 20);
            let kind = match rng.u8(..100) {
                0..=44 => Kind::PrivateMessage,
                45..=79 => Kind::Comment,
                80..=87 => Kind::AdComment,
                88..=93 => Kind::Mention,
                94..=97 => Kind::Post,
                _ => Kind::Review,
            };
            let contact_n = rng.usize(..contacts);
            let author = Author { id: format!("u{contact_n}"), name: format!("Customer {contact_n}"), handle: Some(format!("cust{contact_n}")), ..Default::default() };
            let id = format!("t{n:08}");
            let start = now - rng.i64(0..90 * 86_400_000);
            let mut last = start;
            for k in 0..count {
                let created = start + k as i64 * rng.i64(1_000..600_000);
                last = created;
                let inbound = k % 3 != 1;
                out.messages.push(Message {
                    id: format!("{id}m{k}"),
                    ticket_id: id.clone(),
                    channel: channel.clone(),
                    interaction: Interaction {
                        platform_id: format!("{id}:{k}"),
                        kind,
                        direction: if inbound { Direction::Inbound } else { Direction::Outbound },
                        thread_key: id.clone(),
                        parent_id: None,
                        author: if inbound { author.clone() } else { Author { id: "brand".into(), name: "Acme".into(), ..Default::default() } },
                        text: sentence(&mut rng),
                        attachments: Vec::new(),
                        created_at: created,
                        edited_at: None,
                        permalink: None,
                        from_ad: kind == Kind::AdComment,
                        meta: Vec::new(),
                        chain_key: None,
                        title: None,
                        rating: None,
                        visibility: None,
                        found_by: None,
                    },
                    removed: false,
                    sent_by: None,
                    delivery: None,
                    reactions: Vec::new(),
                    history: Vec::new(),
                    liked: false,
                    hidden: false,
                    pinned: false,
                    language: None,
                    sentiment: None,
                    sentiment_marked: false,
                    translations: Vec::new(),
                    seq: n as i64 + 1,
                    ordinal: k as u32,
                    page: (k as u64 / helpdesk::model::PAGE_MESSAGES) as u32,
                });
            }
            let mut tags = Vec::new();
            for (tag, pct) in [("vip", 10), ("billing", 15), ("shipping", 10)] {
                if rng.u8(..100) < pct {
                    tags.push(tag.to_string());
                }
            }
            out.tickets.push(Ticket {
                id,
                channel,
                platform: platform.to_string(),
                kind,
                queue: match rng.u8(..100) {
                    0..=29 => Queue::New,
                    30..=59 => Queue::Pending,
                    60..=94 => Queue::Resolved,
                    _ => Queue::Archived,
                },
                contact_id: format!("c{contact_n}"),
                contact: author,
                thread_key: format!("thread{n}"),
                preview: String::new(),
                message_count: count as u64,
                created_at: start,
                updated_at: last,
                last_message_at: last,
                last_inbound_at: Some(last),
                tags,
                assignee: if rng.u8(..100) < 20 { Some(format!("agent{}", rng.u8(..5))) } else { None },
                flagged: rng.u8(..100) < 5,
                from_ad: kind == Kind::AdComment,
                unseen: 0,
                waiting_since: None,
                last_from_us: false,
                snoozed_until: None,
                assigned_at: None,
                auto_assigned: false,
                team: None,
                language: None,
                first_response_at: None,
                reopened_at: None,
                sentiment: None,
                sentiment_marked: false,
                due: None,
                rating: None,
                seq: n as i64 + 1,
            });
        }
        out
    }
}
