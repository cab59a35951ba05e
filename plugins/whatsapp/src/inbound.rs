//! Webhook deliveries to events: the Cloud API envelope (`entry[].changes[].value`) and the
//! older on-premises / 360dialog shape (the value at the top level).

use helpdesk_plugin_sdk::prelude::*;
use serde_json::Value;

/// Every event of a delivery, skipping entries for other phone numbers than `number`.
pub fn events(body: &Value, number: Option<&str>) -> Vec<Event> {
    let values: Vec<&Value> = match body["entry"].as_array() {
        Some(entries) => entries
            .iter()
            .flat_map(|e| e["changes"].as_array().into_iter().flatten())
            .filter(|c| c["field"].as_str().is_none_or(|f| f == "messages"))
            .map(|c| &c["value"])
            .collect(),
        None => vec![body],
    };
    values
        .into_iter()
        .filter(|v| match (number, v["metadata"]["phone_number_id"].as_str()) {
            (Some(ours), Some(theirs)) => ours == theirs,
            _ => true,
        })
        .flat_map(value_events)
        .collect()
}

fn value_events(v: &Value) -> Vec<Event> {
    let contacts = v["contacts"].as_array().cloned().unwrap_or_default();
    let mut out: Vec<Event> = v["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| message(m, &contacts))
        .map(Event::Interaction)
        .collect();
    out.extend(v["statuses"].as_array().into_iter().flatten().filter_map(status).map(Event::Delivery));
    out
}

fn seconds(v: &Value) -> i64 {
    v.as_str().and_then(|s| s.parse().ok()).or(v.as_i64()).unwrap_or_default() * 1000
}

/// A customer's message. Contacts without a phone number carry only a business-scoped user id.
fn message(m: &Value, contacts: &[Value]) -> Option<Interaction> {
    let from = m["from"].as_str().or(m["from_user_id"].as_str())?;
    let kind = m["type"].as_str().unwrap_or("unknown");
    // Some deliveries (seen in captured traffic) carry no id: derive one that a redelivery
    // of the same message reproduces.
    let id = m["id"].as_str().map(str::to_string).unwrap_or_else(|| format!("{from}:{}:{kind}", m["timestamp"]));
    let contact = contacts.iter().find(|c| c["wa_id"].as_str() == Some(from) || c["user_id"].as_str() == Some(from));
    let name = contact.and_then(|c| c["profile"]["name"].as_str()).unwrap_or(from).to_string();
    let handle = contact.and_then(|c| c["profile"]["username"].as_str()).map(str::to_string);
    let media = |k: AttachmentKind| {
        let o = &m[kind];
        Attachment {
            kind: k,
            platform_id: o["id"].as_str().map(str::to_string),
            url: None,
            mime_type: o["mime_type"].as_str().map(str::to_string),
            name: o["filename"].as_str().map(str::to_string),
            size: None,
        }
    };
    let (text, attachments) = match kind {
        "text" => (m["text"]["body"].as_str().unwrap_or_default().to_string(), vec![]),
        "image" => (m["image"]["caption"].as_str().unwrap_or_default().into(), vec![media(AttachmentKind::Image)]),
        "video" => (m["video"]["caption"].as_str().unwrap_or_default().into(), vec![media(AttachmentKind::Video)]),
        "audio" | "voice" => (String::new(), vec![media(AttachmentKind::Audio)]),
        "document" => (m["document"]["caption"].as_str().unwrap_or_default().into(), vec![media(AttachmentKind::File)]),
        "sticker" => (String::new(), vec![media(AttachmentKind::Sticker)]),
        "location" => {
            let l = &m["location"];
            let (lat, lon) = (l["latitude"].as_f64().unwrap_or_default(), l["longitude"].as_f64().unwrap_or_default());
            let place = [l["name"].as_str(), l["address"].as_str()].into_iter().flatten().collect::<Vec<_>>().join(", ");
            let attachment = Attachment {
                kind: AttachmentKind::Location,
                platform_id: None,
                url: Some(format!("https://maps.google.com/?q={lat},{lon}")),
                mime_type: None,
                name: Some(if place.is_empty() { format!("{lat}, {lon}") } else { place.clone() }),
                size: None,
            };
            (place, vec![attachment])
        }
        "reaction" => (format!("reacted {} to a message", m["reaction"]["emoji"].as_str().unwrap_or("")), vec![]),
        "button" => (m["button"]["text"].as_str().unwrap_or_default().into(), vec![]),
        "interactive" => {
            let i = &m["interactive"];
            (i["button_reply"]["title"].as_str().or(i["list_reply"]["title"].as_str()).unwrap_or_default().into(), vec![])
        }
        other => {
            let why = m["errors"][0]["title"].as_str().unwrap_or("not shown by WhatsApp's API");
            (format!("[unsupported {other} message: {why}]"), vec![])
        }
    };
    let parent = m["context"]["id"].as_str().or(m["reaction"]["message_id"].as_str()).map(str::to_string);
    Some(Interaction {
        platform_id: id,
        kind: InteractionKind::PrivateMessage,
        direction: Direction::Inbound,
        thread_key: from.to_string(),
        parent_id: parent,
        author: Author { id: from.to_string(), name, handle, avatar_url: None, profile_url: None },
        text,
        attachments,
        created_at: Some(seconds(&m["timestamp"])).filter(|t| *t != 0),
        edited_at: None,
        permalink: None,
        from_ad: m["referral"].is_object(),
        meta: Vec::new(),
        chain_key: None,
        title: None,
        rating: None,
        visibility: None,
        found_by: None,
    })
}

fn status(s: &Value) -> Option<Delivery> {
    let state = match s["status"].as_str()? {
        "sent" => DeliveryState::Sent,
        "delivered" => DeliveryState::Delivered,
        "read" => DeliveryState::Read,
        "failed" => DeliveryState::Failed,
        _ => return None,
    };
    let error = s["errors"][0].as_object().map(|e| {
        format!("{}: {}", e.get("code").map(|c| c.to_string()).unwrap_or_default(), e.get("title").and_then(|t| t.as_str()).unwrap_or_default())
    });
    Some(Delivery { platform_id: s["id"].as_str()?.to_string(), state, at: seconds(&s["timestamp"]), error })
}

/// The reply the helpdesk just sent, as an outbound interaction.
pub fn outbound(id: &str, to: &str, thread: &str, parent: &str, text: &str) -> Interaction {
    let author = Author::new(format!("business:{to}"), "You");
    // created-at 0: the host stamps the send time.
    let sent = Interaction::new(id, InteractionKind::PrivateMessage, Direction::Outbound, thread, author, text, None);
    Interaction { parent_id: Some(parent.to_string()), ..sent }
}
