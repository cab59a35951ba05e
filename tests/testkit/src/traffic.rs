//! A steady, realistic flow of customer traffic for `helpdesk demo`: multilingual questions,
//! follow-ups in the same conversation, edits, photos, group chatter and channel posts.

use crate::graph::{fb_comment_webhook, messenger_webhook, whatsapp_text, GraphEmulator};
use crate::telegram::{TelegramEmulator, User};
use std::time::Duration;

const PEOPLE: &[(i64, &str, Option<&str>, Option<&str>)] = &[
    (5101, "Ana", Some("García"), Some("anagarcia")),
    (5102, "Lukas", Some("Becker"), Some("lukasb")),
    (5103, "Priya", Some("Nair"), None),
    (5104, "Chloé", Some("Martin"), Some("chloe_m")),
    (5105, "João", Some("Silva"), Some("joaosilva")),
    (5106, "Emily", Some("Clark"), Some("emclark")),
    (5107, "Kenji", Some("Sato"), None),
    (5108, "Olu", Some("Adeyemi"), Some("olu_a")),
    (5109, "Marta", Some("Kowalska"), Some("martak")),
    (5110, "Omar", None, Some("omar_h")),
];

const FIRST: &[&str] = &[
    "Hi! My order #48213 still hasn't arrived, it's been 9 days. Can you check?",
    "Hola, ¿puedo cambiar la talla de mi pedido? Pedí una M y necesito una L.",
    "Hallo, ich wurde zweimal belastet für dieselbe Bestellung. Bitte um Rückerstattung.",
    "Bonjour, le code promo WELCOME10 ne fonctionne pas au moment du paiement.",
    "Olá! Vocês entregam em Portugal? Não encontro a opção no checkout.",
    "The app keeps logging me out every time I close it. iPhone 15, latest iOS.",
    "こんにちは、注文をキャンセルしたいのですが、どうすればいいですか？",
    "Do you have the blue backpack back in stock? It's been sold out for weeks.",
    "Cześć, paczka przyszła uszkodzona. Co mam zrobić?",
    "I'd like a refund for order #47750, the jacket doesn't fit.",
    "Can I change the delivery address? I'm moving next week.",
    "Your courier left my parcel at the wrong door and now it's gone.",
];

const FOLLOW_UP: &[&str] = &[
    "Any update on this?",
    "Thanks! Also, is express shipping available?",
    "Here is my order number: #48213",
    "Still waiting for an answer 🙁",
    "Perfect, that worked. Thank you!",
    "¿Hay alguna novedad?",
    "Danke für die schnelle Antwort!",
];

const GROUP: &[&str] = &[
    "Does anyone know when the winter collection drops?",
    "Is the discount code for members still valid?",
    "Support answered me in 5 minutes, impressed 👏",
];

const POSTS: &[&str] = &[
    "📦 Holiday shipping deadlines are live — order by Dec 18 for delivery before Christmas.",
    "New in: the recycled-wool collection. Questions? Message @acme_support_bot.",
];

/// Send traffic through `emu` roughly every `every`, forever.
pub async fn run(emu: TelegramEmulator, every: Duration) {
    let people: Vec<User> = PEOPLE.iter().map(|(id, f, l, u)| User::new(*id, f, *l, *u)).collect();
    let mut sent: Vec<(usize, i64)> = Vec::new();
    let mut step = 0usize;
    loop {
        let who = fastrand::usize(..people.len());
        let user = &people[who];
        match fastrand::u8(..100) {
            0..=49 => {
                let id = emu.private_text(user, FIRST[fastrand::usize(..FIRST.len())]);
                sent.push((who, id));
            }
            50..=69 => {
                emu.private_text(user, FOLLOW_UP[fastrand::usize(..FOLLOW_UP.len())]);
            }
            70..=77 => {
                let id = emu.private_photo(user, "This is what arrived — see the torn box");
                sent.push((who, id));
            }
            78..=85 => {
                if let Some(&(w, id)) = sent.last() {
                    emu.edit_private_text(&people[w], id, &format!("{} (edited: order #4{:04})", FIRST[w % FIRST.len()], fastrand::u16(..9999)));
                }
            }
            86..=95 => {
                emu.group_text(-100_200_300, "Acme Community", user, GROUP[fastrand::usize(..GROUP.len())]);
            }
            _ => {
                emu.channel_post(-100_999_000, "Acme News", POSTS[step % POSTS.len()]);
            }
        }
        step += 1;
        let jitter = 0.5 + fastrand::f64();
        tokio::time::sleep(every.mul_f64(jitter)).await;
    }
}

const WHATSAPP: &[(&str, &str)] = &[
    ("5511987650001", "Beatriz Souza"),
    ("447700900123", "Harriet Jones"),
    ("4915112345678", "Jonas Weber"),
    ("34612345678", "Lucía Fernández"),
    ("919812345678", "Arjun Mehta"),
];

/// WhatsApp customers writing to `phone_number_id`, delivered as Meta does: signed webhooks
/// to `webhook_url`, retried until answered 2xx.
pub async fn run_whatsapp(graph: GraphEmulator, webhook_url: String, phone_number_id: String, every: Duration) {
    deliver_forever(graph, webhook_url, every, |n| {
        let (from, name) = WHATSAPP[fastrand::usize(..WHATSAPP.len())];
        let text = if fastrand::bool() { FIRST[fastrand::usize(..FIRST.len())] } else { FOLLOW_UP[fastrand::usize(..FOLLOW_UP.len())] };
        whatsapp_text(&phone_number_id, from, name, &format!("wamid.DEMO{n}"), text)
    })
    .await
}

/// Sign and post `make(n)` to the webhook every so often (retrying until it is taken), forever.
async fn deliver_forever(graph: GraphEmulator, webhook_url: String, every: Duration, mut make: impl FnMut(u64) -> serde_json::Value) {
    let mut n = 0u64;
    loop {
        n += 1;
        let body = serde_json::to_vec(&make(n)).unwrap_or_default();
        while graph.deliver(&webhook_url, &body, None).await / 100 != 2 {
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        tokio::time::sleep(every.mul_f64(1.0 + fastrand::f64() * 2.0)).await;
    }
}

const COMMENTERS: &[(&str, &str)] = &[
    ("3101", "Sofia Rossi"),
    ("3102", "Tom Becker"),
    ("3103", "Aylin Demir"),
    ("3104", "Noah Wilson"),
    ("3105", "Inès Laurent"),
];

const COMMENTS: &[&str] = &[
    "Is this available in size L?",
    "How much is shipping to Italy?",
    "Ordered 2 weeks ago and still nothing. Not happy.",
    "Love this colour! When does it restock?",
    "¿Hacen envíos a México?",
    "Wie lange dauert die Lieferung nach Österreich?",
    "Scam? My friend never got her order.",
];

/// A Facebook Page's audience: comments under its posts (one of them an ad) and Messenger
/// conversations, delivered as Meta's signed webhooks.
pub async fn run_facebook(graph: GraphEmulator, webhook_url: String, page_id: String, every: Duration) {
    for (id, name) in COMMENTERS {
        let (first, last) = name.split_once(' ').unwrap_or((name, ""));
        graph.fb_profile(&format!("psid-{id}"), first, last);
    }
    let posts = [(format!("{page_id}_5001"), false), (format!("{page_id}_5002"), false), (format!("{page_id}_5003"), true)];
    deliver_forever(graph, webhook_url, every, |n| {
        let who = COMMENTERS[fastrand::usize(..COMMENTERS.len())];
        if fastrand::u8(..3) == 0 {
            let text = if fastrand::bool() { FIRST[fastrand::usize(..FIRST.len())] } else { FOLLOW_UP[fastrand::usize(..FOLLOW_UP.len())] };
            messenger_webhook(&page_id, &format!("psid-{}", who.0), &format!("m_DEMO{n}"), text, false)
        } else {
            let (post, ad) = &posts[fastrand::usize(..posts.len())];
            let post_number = post.rsplit('_').next().unwrap_or_default();
            fb_comment_webhook(&page_id, post, &format!("{post_number}_{n}"), who, COMMENTS[fastrand::usize(..COMMENTS.len())], "add", None, *ad)
        }
    })
    .await
}

const INSTAGRAMMERS: &[(&str, &str)] = &[("4101", "mila.travels"), ("4102", "jonas_fit"), ("4103", "the.kim.diaries"), ("4104", "lu_ferreira")];

/// An Instagram account's audience: Direct messages (some replying to a story) and comments on
/// its media, delivered as Meta's signed webhooks.
pub async fn run_instagram(graph: GraphEmulator, webhook_url: String, ig_user_id: String, every: Duration) {
    for (id, username) in INSTAGRAMMERS {
        graph.fb_profile(&format!("igsid-{id}"), username, "");
    }
    deliver_forever(graph, webhook_url, every, |n| {
        let (id, username) = INSTAGRAMMERS[fastrand::usize(..INSTAGRAMMERS.len())];
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_millis() as i64;
        if fastrand::u8(..3) == 0 {
            let comment = serde_json::json!({"id": format!("179{n:014}"), "text": COMMENTS[fastrand::usize(..COMMENTS.len())],
                "from": {"id": format!("igsid-{id}"), "username": username}, "media": {"id": "17900000000000100", "media_product_type": "FEED"}});
            serde_json::json!({"object": "instagram", "entry": [{"id": ig_user_id, "time": now, "changes": [{"field": "comments", "value": comment}]}]})
        } else {
            let text = if fastrand::bool() { FIRST[fastrand::usize(..FIRST.len())] } else { FOLLOW_UP[fastrand::usize(..FOLLOW_UP.len())] };
            let mut message = serde_json::json!({"mid": format!("aWdDEMO{n}"), "text": text});
            if fastrand::u8(..4) == 0 {
                message["reply_to"] = serde_json::json!({"story": {"id": "story-1", "url": "https://cdn.example/acme-story.jpg"}});
            }
            serde_json::json!({"object": "instagram", "entry": [{"id": ig_user_id, "time": now, "messaging": [{
                "sender": {"id": format!("igsid-{id}")}, "recipient": {"id": ig_user_id}, "timestamp": now, "message": message}]}]})
        }
    })
    .await
}
