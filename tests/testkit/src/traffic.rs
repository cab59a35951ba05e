//! A steady, realistic flow of customer traffic for `helpdesk demo`: multilingual questions,
//! follow-ups in the same conversation, edits, photos, group chatter and channel posts.

use crate::graph::{fb_comment_webhook, messenger_webhook, whatsapp_text, GraphEmulator};
use crate::telegram::{TelegramEmulator, User};
use std::time::Duration;

/// A customer's language: each keeps theirs for the whole conversation.
#[derive(Clone, Copy)]
enum Lang {
    En,
    Es,
    De,
    Fr,
    Pt,
    Ja,
    Pl,
    It,
}

const PEOPLE: &[(i64, &str, Option<&str>, Option<&str>, Lang)] = &[
    (5101, "Ana", Some("García"), Some("anagarcia"), Lang::Es),
    (5102, "Lukas", Some("Becker"), Some("lukasb"), Lang::De),
    (5103, "Priya", Some("Nair"), None, Lang::En),
    (5104, "Chloé", Some("Martin"), Some("chloe_m"), Lang::Fr),
    (5105, "João", Some("Silva"), Some("joaosilva"), Lang::Pt),
    (5106, "Emily", Some("Clark"), Some("emclark"), Lang::En),
    (5107, "Kenji", Some("Sato"), None, Lang::Ja),
    (5108, "Olu", Some("Adeyemi"), Some("olu_a"), Lang::En),
    (5109, "Marta", Some("Kowalska"), Some("martak"), Lang::Pl),
    (5110, "Omar", None, Some("omar_h"), Lang::En),
];

/// What a customer writes first, then follows up with, then comments under a post, in `lang`.
fn lines(lang: Lang) -> (&'static [&'static str], &'static [&'static str], &'static [&'static str]) {
    match lang {
        Lang::En => (
            &[
                "Hi! My order #48213 still hasn't arrived, it's been 9 days. Can you check?",
                "The app keeps logging me out every time I close it. iPhone 15, latest iOS.",
                "Do you have the blue backpack back in stock? It's been sold out for weeks.",
                "I'd like a refund for order #47750, the jacket doesn't fit.",
                "Can I change the delivery address? I'm moving next week.",
                "Your courier left my parcel at the wrong door and now it's gone.",
            ],
            &["Any update on this?", "Thanks! Also, is express shipping available?", "Here is my order number: #48213", "Still waiting for an answer 🙁", "Perfect, that worked. Thank you!"],
            &["Is this available in size L?", "Ordered 2 weeks ago and still nothing. Not happy.", "Love this colour! When does it restock?", "Scam? My friend never got her order."],
        ),
        Lang::Es => (
            &["Hola, ¿puedo cambiar la talla de mi pedido? Pedí una M y necesito una L.", "Hola, mi pedido #48877 llegó sin la factura. ¿Me la podéis enviar?"],
            &["¿Hay alguna novedad?", "Gracias, ¡ya funciona!"],
            &["¿Hacen envíos a México?", "¿Cuánto tarda el envío a Chile?"],
        ),
        Lang::De => (
            &["Hallo, ich wurde zweimal belastet für dieselbe Bestellung. Bitte um Rückerstattung.", "Hallo, kann ich meine Bestellung #47120 noch ändern?"],
            &["Danke für die schnelle Antwort!", "Gibt es schon etwas Neues?"],
            &["Wie lange dauert die Lieferung nach Österreich?", "Gibt es das auch in Schwarz?"],
        ),
        Lang::Fr => (
            &["Bonjour, le code promo WELCOME10 ne fonctionne pas au moment du paiement.", "Bonjour, mon colis est marqué livré mais je ne l'ai pas reçu."],
            &["Des nouvelles ?", "Merci beaucoup, c'est réglé !"],
            &["Vous livrez en Belgique ?", "Magnifique, il reste des tailles S ?"],
        ),
        Lang::Pt => (
            &["Olá! Vocês entregam em Portugal? Não encontro a opção no checkout.", "Oi, meu pedido #46631 veio com o tamanho errado."],
            &["Alguma novidade?", "Obrigado, deu certo!"],
            &["Tem em azul?", "Entregam no Brasil?"],
        ),
        Lang::Ja => (&["こんにちは、注文をキャンセルしたいのですが、どうすればいいですか？"], &["ありがとうございます！", "まだ返事がありません。"], &["日本への発送はできますか？"]),
        Lang::Pl => (&["Cześć, paczka przyszła uszkodzona. Co mam zrobić?"], &["Jakieś wieści?", "Dziękuję, wszystko działa!"], &["Czy wysyłacie do Polski?"]),
        Lang::It => (&["Ciao, il mio ordine #48002 è in ritardo di una settimana."], &["Novità?", "Grazie mille!"], &["Quanto costa la spedizione in Italia?"]),
    }
}

fn one(options: &[&'static str]) -> &'static str {
    options[fastrand::usize(..options.len())]
}

/// Whose turn it may be: someone who just wrote waits a while before writing again, so a
/// ticket an agent has just resolved is not reopened seconds later by scripted traffic.
struct Turns(Vec<std::time::Instant>);

impl Turns {
    fn new(people: usize) -> Self {
        Turns(vec![std::time::Instant::now(); people])
    }

    /// Someone free to write (chosen at random), kept quiet for `quiet` to 2 × `quiet` after.
    fn next(&mut self, quiet: Duration) -> Option<usize> {
        let now = std::time::Instant::now();
        let free: Vec<usize> = (0..self.0.len()).filter(|&i| self.0[i] <= now).collect();
        let who = *free.get(fastrand::usize(..free.len().max(1)))?;
        self.0[who] = now + quiet.mul_f64(1.0 + fastrand::f64());
        Some(who)
    }
}

/// How long a customer stays quiet after writing.
fn quiet(every: Duration) -> Duration {
    (every * 10).max(Duration::from_secs(20))
}

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
    let people: Vec<User> = PEOPLE.iter().map(|(id, f, l, u, _)| User::new(*id, f, *l, *u)).collect();
    let mut sent: Vec<(usize, i64, &'static str)> = Vec::new();
    let mut turns = Turns::new(people.len());
    // The group and the channel have their turns too: each message there moves their ticket.
    let mut group = Turns::new(2);
    let mut step = 0usize;
    loop {
        let roll = fastrand::u8(..100);
        if roll >= 86 {
            match group.next(quiet(every) * 3) {
                Some(0) => {
                    let who = fastrand::usize(..people.len());
                    emu.group_text(-100_200_300, "Acme Community", &people[who], GROUP[fastrand::usize(..GROUP.len())]);
                }
                Some(_) => {
                    emu.channel_post(-100_999_000, "Acme News", POSTS[step % POSTS.len()]);
                }
                None => {}
            }
        } else if let Some(who) = turns.next(quiet(every)) {
            let user = &people[who];
            let (first, follow_up, _) = lines(PEOPLE[who].4);
            match roll {
                0..=49 => {
                    let text = one(first);
                    let id = emu.private_text(user, text);
                    sent.push((who, id, text));
                }
                50..=69 => {
                    emu.private_text(user, one(follow_up));
                }
                70..=77 => {
                    let id = emu.private_photo(user, "📷");
                    sent.push((who, id, "📷"));
                }
                _ => {
                    if let Some(&(w, id, text)) = sent.iter().rev().find(|(w, _, _)| *w == who) {
                        emu.edit_private_text(&people[w], id, &format!("{text} (#4{:04})", fastrand::u16(..9999)));
                    }
                }
            }
        }
        step += 1;
        let jitter = 0.5 + fastrand::f64();
        tokio::time::sleep(every.mul_f64(jitter)).await;
    }
}

const WHATSAPP: &[(&str, &str, Lang)] = &[
    ("5511987650001", "Beatriz Souza", Lang::Pt),
    ("447700900123", "Harriet Jones", Lang::En),
    ("4915112345678", "Jonas Weber", Lang::De),
    ("34612345678", "Lucía Fernández", Lang::Es),
    ("919812345678", "Arjun Mehta", Lang::En),
];

/// WhatsApp customers writing to `phone_number_id`, delivered as Meta does: signed webhooks
/// to `webhook_url`, retried until answered 2xx.
pub async fn run_whatsapp(graph: GraphEmulator, webhook_url: String, phone_number_id: String, every: Duration) {
    let mut turns = Turns::new(WHATSAPP.len());
    deliver_forever(graph, webhook_url, every, |n| {
        let (from, name, lang) = WHATSAPP[turns.next(quiet(every))?];
        let (first, follow_up, _) = lines(lang);
        let text = if fastrand::bool() { one(first) } else { one(follow_up) };
        Some(whatsapp_text(&phone_number_id, from, name, &format!("wamid.DEMO{n}"), text))
    })
    .await
}

/// Sign and post `make(n)` to the webhook every so often (retrying until it is taken), forever;
/// `None` when nobody's turn has come.
async fn deliver_forever(graph: GraphEmulator, webhook_url: String, every: Duration, mut make: impl FnMut(u64) -> Option<serde_json::Value>) {
    let mut n = 0u64;
    loop {
        n += 1;
        if let Some(event) = make(n) {
            let body = serde_json::to_vec(&event).unwrap_or_default();
            while graph.deliver(&webhook_url, &body, None).await / 100 != 2 {
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
        tokio::time::sleep(every.mul_f64(1.0 + fastrand::f64() * 2.0)).await;
    }
}

const COMMENTERS: &[(&str, &str, Lang)] = &[
    ("3101", "Sofia Rossi", Lang::It),
    ("3102", "Tom Becker", Lang::De),
    ("3103", "Aylin Demir", Lang::En),
    ("3104", "Noah Wilson", Lang::En),
    ("3105", "Inès Laurent", Lang::Fr),
];


/// A Facebook Page's audience: comments under its posts (one of them an ad) and Messenger
/// conversations, delivered as Meta's signed webhooks.
pub async fn run_facebook(graph: GraphEmulator, webhook_url: String, page_id: String, every: Duration) {
    for (id, name, _) in COMMENTERS {
        let (first, last) = name.split_once(' ').unwrap_or((name, ""));
        graph.fb_profile(&format!("psid-{id}"), first, last);
    }
    let posts = [(format!("{page_id}_5001"), false), (format!("{page_id}_5002"), false), (format!("{page_id}_5003"), true)];
    let captions = [
        "New in: the Trailhead 2 tent, up in 90 seconds. Free shipping this week 🏕️",
        "Which trail should we map next? Tell us below 👇",
        "Summer sale: 30% off every sleeping bag, until Sunday.",
    ];
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
    for (n, ((post, ad), caption)) in posts.iter().zip(captions).enumerate() {
        graph.fb_post(post, (&page_id, "Acme Outdoor"), caption, since - 86_400 * (3 - n as i64), *ad);
        if *ad {
            graph.fb_ad("23851000000001", "Summer sale: sleeping bags (EU, 25–45)", post);
        }
    }
    let mut turns = Turns::new(COMMENTERS.len());
    deliver_forever(graph, webhook_url, every, |n| {
        let (id, name, lang) = COMMENTERS[turns.next(quiet(every))?];
        let (first, follow_up, comments) = lines(lang);
        Some(if fastrand::u8(..3) == 0 {
            let text = if fastrand::bool() { one(first) } else { one(follow_up) };
            messenger_webhook(&page_id, &format!("psid-{id}"), &format!("m_DEMO{n}"), text, false)
        } else {
            let (post, ad) = &posts[fastrand::usize(..posts.len())];
            let post_number = post.rsplit('_').next().unwrap_or_default();
            fb_comment_webhook(&page_id, post, &format!("{post_number}_{n}"), (id, name), one(comments), "add", None, *ad)
        })
    })
    .await
}

const INSTAGRAMMERS: &[(&str, &str, Lang)] =
    &[("4101", "mila.travels", Lang::En), ("4102", "jonas_fit", Lang::De), ("4103", "the.kim.diaries", Lang::En), ("4104", "lu_ferreira", Lang::Pt)];

/// An Instagram account's audience: Direct messages (some replying to a story) and comments on
/// its media, delivered as Meta's signed webhooks.
pub async fn run_instagram(graph: GraphEmulator, webhook_url: String, ig_user_id: String, every: Duration) {
    for (id, username, _) in INSTAGRAMMERS {
        graph.fb_profile(&format!("igsid-{id}"), username, "");
    }
    graph.ig_media("17900000000000100", "acme.outdoor", "Sunrise from the Trailhead 2 🌄 Where would you pitch it?");
    let mut turns = Turns::new(INSTAGRAMMERS.len());
    deliver_forever(graph, webhook_url, every, |n| {
        let (id, username, lang) = INSTAGRAMMERS[turns.next(quiet(every))?];
        let (first, follow_up, comments) = lines(lang);
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_millis() as i64;
        Some(if fastrand::u8(..3) == 0 {
            let comment = serde_json::json!({"id": format!("179{n:014}"), "text": one(comments),
                "from": {"id": format!("igsid-{id}"), "username": username}, "media": {"id": "17900000000000100", "media_product_type": "FEED"}});
            serde_json::json!({"object": "instagram", "entry": [{"id": ig_user_id, "time": now, "changes": [{"field": "comments", "value": comment}]}]})
        } else {
            let text = if fastrand::bool() { one(first) } else { one(follow_up) };
            let mut message = serde_json::json!({"mid": format!("aWdDEMO{n}"), "text": text});
            if fastrand::u8(..4) == 0 {
                message["reply_to"] = serde_json::json!({"story": {"id": "story-1", "url": "https://cdn.example/acme-story.jpg"}});
            }
            serde_json::json!({"object": "instagram", "entry": [{"id": ig_user_id, "time": now, "messaging": [{
                "sender": {"id": format!("igsid-{id}")}, "recipient": {"id": ig_user_id}, "timestamp": now, "message": message}]}]})
        })
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_customer_who_just_wrote_waits_before_writing_again() {
        let mut turns = Turns::new(2);
        let quiet = Duration::from_secs(60);
        let (a, b) = (turns.next(quiet).unwrap(), turns.next(quiet).unwrap());
        assert_ne!(a, b, "the other one's turn");
        assert_eq!(turns.next(quiet), None, "nobody may write again yet");
    }

    #[test]
    fn every_customer_writes_in_one_language() {
        for (_, name, _, _, lang) in PEOPLE {
            let (first, follow_up, comments) = lines(*lang);
            assert!(!first.is_empty() && !follow_up.is_empty() && !comments.is_empty(), "{name}");
        }
    }
}

const REVIEWERS: &[(&str, Lang)] = &[("Jane Doe", Lang::En), ("Hans Meier", Lang::De), ("Lucía Romero", Lang::Es), ("Aiko Tanaka", Lang::Ja), ("Tom Baker", Lang::En)];

/// What a reviewer says with so many stars.
fn review_text(stars: u8, lang: Lang) -> &'static str {
    match (stars, lang) {
        (1..=2, Lang::De) => "Lange Wartezeit an der Kasse und niemand hat geholfen.",
        (1..=2, Lang::Es) => "El pedido llegó tarde y nadie contesta el teléfono.",
        (1..=2, _) => "Waited 20 minutes at the till and the kettle I bought leaks.",
        (3, Lang::Ja) => "品揃えは良いですが、店員さんが少ないです。",
        (3, _) => "Good choice of tents, but the staff seemed in a hurry.",
        (_, Lang::De) => "Sehr freundliche Beratung, komme gerne wieder!",
        (_, Lang::Es) => "¡Muy buena atención y precios justos!",
        (_, Lang::Ja) => "とても親切なスタッフでした。",
        _ => "Friendly staff and they fixed my stove on the spot. Five stars!",
    }
}

/// A shop's Google reviews and a YouTube channel's comments, added to the emulator for the
/// plugins' next poll: mostly praise, some complaints, now and then a comment YouTube holds
/// as spam.
pub async fn run_google(google: crate::google::GoogleEmulator, locations: Vec<String>, video: String, every: Duration) {
    let mut reviewers = Turns::new(REVIEWERS.len());
    let mut viewers = Turns::new(PEOPLE.len());
    loop {
        tokio::time::sleep(every.mul_f64(2.0 + fastrand::f64() * 2.0)).await;
        if fastrand::bool() {
            let Some(who) = reviewers.next(quiet(every) * 6) else { continue };
            let (name, lang) = REVIEWERS[who];
            let stars = [1, 2, 3, 4, 4, 5, 5, 5][fastrand::usize(..8)];
            let location = &locations[fastrand::usize(..locations.len())];
            google.add_review(location, name, stars, review_text(stars, lang));
        } else {
            let Some(who) = viewers.next(quiet(every)) else { continue };
            let (_, first, last, _, lang) = PEOPLE[who];
            let name = format!("{first} {}", last.unwrap_or_default()).trim().to_string();
            if fastrand::u8(..8) == 0 {
                google.add_comment(&video, None, Some("Kettle Deals 4U"), "FREE kettles!!! visit my channel 🔥🔥", "heldForReview");
            } else {
                google.add_comment(&video, None, Some(&name), one(lines(lang).2), "published");
            }
        }
    }
}

/// A TikTok account's audience: comments under its video (some answering each other), now and
/// then one under its ad, and direct messages delivered as signed webhooks.
pub async fn run_tiktok(tiktok: crate::tiktok::TikTokEmulator, webhook_url: String, video: String, every: Duration) {
    let mut turns = Turns::new(PEOPLE.len());
    let mut last_comment: Option<String> = None;
    loop {
        tokio::time::sleep(every.mul_f64(1.0 + fastrand::f64())).await;
        let Some(who) = turns.next(quiet(every)) else { continue };
        let (_, first, _, handle, lang) = PEOPLE[who];
        let user = handle.unwrap_or(first);
        let (opening, _, comments) = lines(lang);
        match fastrand::u8(..6) {
            0 => {
                tiktok.add_ad_comment("1790000000000001", "Autumn sale · tents", user, one(comments));
            }
            1 | 2 => {
                let m = tiktok.dm(&format!("tt-conv-{user}"), first, one(opening));
                let _ = tiktok.deliver(&webhook_url, &crate::tiktok::TikTokEmulator::envelope(&m), None).await;
            }
            3 if last_comment.is_some() => {
                tiktok.add_comment(&video, Some(user), "Same question here 👀", last_comment.as_deref());
            }
            _ => last_comment = Some(tiktok.add_comment(&video, Some(user), one(comments), None)),
        }
    }
}

/// Emily Clark has the same handle here as on Telegram: the helpdesk suggests linking the two.
const X_PEOPLE: &[(&str, &str, &str, Lang)] =
    &[("3101", "Nora Quinn", "noraq", Lang::En), ("3102", "Tomás Ruiz", "tomasr", Lang::Es), ("3103", "Lena Vogel", "lenav", Lang::De), ("3104", "Emily Clark", "emclark", Lang::En)];

/// An X account's audience: mentions, replies to its post (and to each other), DMs, and posts
/// about the Trailhead that do not name the account (found by listening).
pub async fn run_x(x: crate::x::XEmulator, every: Duration) {
    for (id, name, handle, _) in X_PEOPLE {
        x.add_user(id, name, handle);
    }
    let ours = x.post(crate::x::BRAND_ID, "The Trailhead 2 is back in stock. Questions? Reply here 👇", None);
    let mut turns = Turns::new(X_PEOPLE.len());
    let mut last = ours.clone();
    loop {
        tokio::time::sleep(every.mul_f64(1.5 + fastrand::f64())).await;
        let Some(who) = turns.next(quiet(every)) else { continue };
        let (id, _, _, lang) = X_PEOPLE[who];
        let (opening, _, comments) = lines(lang);
        match fastrand::u8(..4) {
            0 => last = x.post(id, &format!("@acme {}", one(comments)), Some(&last)),
            1 => {
                x.post(id, &format!("@acme {}", one(opening)), None);
            }
            2 => {
                x.dm(id, one(opening));
            }
            _ => {
                x.post(id, "Thinking about the trailhead tent for my next trip, any reviews?", None);
            }
        }
    }
}

/// A LinkedIn page's audience: comments under its post (some answered by others) and mentions.
pub async fn run_linkedin(li: crate::linkedin::LinkedInEmulator, every: Duration) {
    let post = li.post("We're opening our Lisbon store on Friday. Come say hi!");
    let mut last: Option<String> = None;
    loop {
        tokio::time::sleep(every.mul_f64(1.5 + fastrand::f64())).await;
        let person = format!("ACoAA{}", fastrand::u32(1000..9999));
        match fastrand::u8(..4) {
            0 => {
                li.mention(&person, "Shout-out to Acme Outdoor for the quick repair of my tent!");
            }
            1 if last.is_some() => {
                li.comment(&post, &person, "Same here, looking forward to it", last.as_deref());
            }
            _ => last = Some(li.comment(&post, &person, one(lines(Lang::En).2), None)),
        }
    }
}

/// A Viber bot's users: they subscribe, then write (text, now and then a photo or their
/// location), as signed callbacks.
pub async fn run_viber(viber: crate::viber::ViberEmulator, webhook_url: String, every: Duration) {
    let mut turns = Turns::new(PEOPLE.len());
    loop {
        tokio::time::sleep(every.mul_f64(1.5 + fastrand::f64())).await;
        let Some(who) = turns.next(quiet(every)) else { continue };
        let (id, first, _, _, lang) = PEOPLE[who];
        let user = format!("vb{id}=");
        viber.subscribe(&user);
        let message = match fastrand::u8(..6) {
            0 => serde_json::json!({"type": "location", "location": {"lat": 38.7223, "lon": -9.1393}}),
            _ => serde_json::json!({"type": "text", "text": one(lines(lang).0)}),
        };
        let _ = viber.deliver(&webhook_url, &viber.message(&user, first, message), None).await;
    }
}

/// Customers texting the SMS number (now and then a photo); `webhook_url` is the URL Twilio
/// signs, the host's public one.
pub async fn run_twilio(twilio: crate::twilio::TwilioEmulator, webhook_url: String, every: Duration) {
    let mut turns = Turns::new(PEOPLE.len());
    loop {
        tokio::time::sleep(every.mul_f64(1.5 + fastrand::f64())).await;
        let Some(who) = turns.next(quiet(every)) else { continue };
        let (id, _, _, _, lang) = PEOPLE[who];
        let from = format!("+1555010{:04}", id % 10_000);
        let params = match fastrand::u8(..5) {
            0 => twilio.inbound(&from, crate::twilio::NUMBER, "Here's the damaged box", &[("image/png", crate::PHOTO_PNG)]),
            _ => twilio.inbound(&from, crate::twilio::NUMBER, one(lines(lang).0), &[]),
        };
        let _ = twilio.deliver(&webhook_url, &params).await;
    }
}

/// Friends of the LINE account writing in (now and then a sticker or a photo).
pub async fn run_line(line: crate::line::LineEmulator, webhook_url: String, every: Duration) {
    let mut turns = Turns::new(PEOPLE.len());
    loop {
        tokio::time::sleep(every.mul_f64(1.5 + fastrand::f64())).await;
        let Some(who) = turns.next(quiet(every)) else { continue };
        let (id, first, last, _, lang) = PEOPLE[who];
        let user = format!("U{id:032x}");
        line.add_user(&user, &[Some(first), last].into_iter().flatten().collect::<Vec<_>>().join(" "));
        let message = match fastrand::u8(..6) {
            0 => serde_json::json!({"type": "sticker", "packageId": "11537", "stickerId": "52002738", "keywords": ["thanks"]}),
            1 => serde_json::json!({"type": "image"}),
            _ => serde_json::json!({"type": "text", "text": one(lines(lang).0)}),
        };
        let _ = line.deliver(&webhook_url, vec![line.message(&user, message)], None).await;
    }
}

/// Followers of the WeChat account writing in, in safe mode (now and then a voice message or
/// a location).
pub async fn run_wechat(wechat: crate::wechat::WeChatEmulator, webhook_url: String, every: Duration) {
    let mut turns = Turns::new(PEOPLE.len());
    loop {
        tokio::time::sleep(every.mul_f64(1.5 + fastrand::f64())).await;
        let Some(who) = turns.next(quiet(every)) else { continue };
        let (id, _, _, _, lang) = PEOPLE[who];
        let openid = format!("oLVPpjqs9Bhvz{id}A-vTYAX3GLc");
        let xml = match fastrand::u8(..6) {
            0 => wechat.message(&openid, "voice", &[("MediaId", "media_voice_1"), ("Format", "amr"), ("Recognition", "我的订单什么时候到？")]),
            1 => wechat.message(&openid, "location", &[("Location_X", "31.2304"), ("Location_Y", "121.4737"), ("Scale", "15"), ("Label", "上海市黄浦区")]),
            _ => wechat.message(&openid, "text", &[("Content", one(lines(lang).0))]),
        };
        let _ = wechat.deliver(&webhook_url, &xml, true, crate::wechat::TOKEN).await;
    }
}

/// The demo's customers' mailboxes on the real mail servers (`<first name>@customer.test`).
pub fn email_people() -> Vec<(String, String)> {
    PEOPLE.iter().map(|(id, first, ..)| (format!("{}{id}@customer.test", ascii(first)), format!("pw-{id}"))).collect()
}

fn ascii(name: &str) -> String {
    name.to_lowercase().chars().filter(|c| c.is_ascii_alphanumeric()).collect()
}

/// The demo's consultant: someone outside the helpdesk who answers each consultation emailed to
/// them a little later, above the quoted question, to its reply address.
pub async fn run_consultant(mail: std::sync::Arc<crate::mail::MailServers>, me: String) {
    let mut answered = 0;
    loop {
        tokio::time::sleep(Duration::from_secs(2)).await;
        let inbox = mail.mailbox(&me);
        for raw in &inbox[answered.min(inbox.len())..] {
            answered += 1;
            let text = String::from_utf8_lossy(raw).replace("\r\n", "\n");
            let headers = text.split("\n\n").next().unwrap_or("").replace("\n ", " ");
            let header = |name: &str| headers.lines().find_map(|l| l.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.trim().to_string()));
            let (Some(reply_to), Some(id)) = (header("Reply-To"), header("Message-ID")) else { continue };
            let reply_to = reply_to.trim_matches(['<', '>']).to_string();
            let subject = header("Subject").unwrap_or_default();
            tokio::time::sleep(Duration::from_secs(3)).await;
            let answer = ["Yes, go ahead: that is covered.", "No, we cannot do that; offer a voucher instead.", "I checked the stock: we have it, ship it tomorrow."][answered % 3];
            let raw = format!(
                "From: Lara Consultant <{me}>\r\nTo: {reply_to}\r\nSubject: Re: {subject}\r\nMessage-ID: <lara-{answered}-{}@consult.test>\r\nIn-Reply-To: {id}\r\nReferences: {id}\r\n\r\n{answer}\r\n\r\nLara\r\n",
                fastrand::u32(..)
            );
            let _ = mail.send(&me, &[&reply_to], raw.as_bytes()).await;
        }
    }
}

/// Customers emailing the support address through real SMTP: a new subject now and then, an
/// answer in the same conversation otherwise (threaded by `In-Reply-To`/`References`).
pub async fn run_email(mail: std::sync::Arc<crate::mail::MailServers>, support: String, every: Duration) {
    let mut turns = Turns::new(PEOPLE.len());
    let people = email_people();
    let mut started: std::collections::HashMap<usize, (String, String)> = Default::default();
    let mut n = 0u64;
    loop {
        tokio::time::sleep(every.mul_f64(2.0 + fastrand::f64())).await;
        let Some(who) = turns.next(quiet(every)) else { continue };
        let (_, first, last, _, lang) = PEOPLE[who];
        let (address, _) = &people[who];
        n += 1;
        let id = format!("demo-{n}-{}@customer.test", fastrand::u32(..));
        let name = format!("{first} {}", last.unwrap_or(""));
        let (subject, threading) = match started.get(&who) {
            Some((subject, root)) if fastrand::bool() => (format!("Re: {subject}"), format!("In-Reply-To: <{root}>\r\nReferences: <{root}>\r\n")),
            _ => {
                let subject = one(lines(lang).0).chars().take(40).collect::<String>();
                started.insert(who, (subject.clone(), id.clone()));
                (subject, String::new())
            }
        };
        let raw = format!(
            "From: {name} <{address}>\r\nTo: {support}\r\nSubject: {subject}\r\nMessage-ID: <{id}>\r\n{threading}Content-Type: text/plain; charset=utf-8\r\n\r\n{}\r\n\r\n-- \r\n{first}\r\n",
            one(lines(lang).0)
        );
        if let Err(e) = mail.send(address, &[support.as_str()], raw.as_bytes()).await {
            tracing::warn!("the demo's email did not go: {e}");
        }
    }
}
