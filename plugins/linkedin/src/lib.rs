//! LinkedIn company page channel (Community Management API): comments on the organization's
//! posts and their replies (one level), and mentions of the organization, polled; the
//! organization's social-action webhooks where LinkedIn approved them (the `challengeCode`
//! validation, `X-LI-Signature`, batches deduplicated by `notificationId`). Actions: reply as
//! the organization, reactions, delete. Hiding and blocking are not in LinkedIn's API, and page
//! messages are not in its public API at all.

mod api;
mod social;

use api::urn;
use helpdesk_plugin_sdk::prelude::*;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

struct LinkedIn;

pub const PLATFORM: &str = "LinkedIn";

fn hmac_hex(secret: &str, parts: &[&[u8]]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    for p in parts {
        mac.update(p);
    }
    hex::encode(mac.finalize().into_bytes())
}

fn meta<'a>(t: &'a Target, key: &str) -> Option<&'a str> {
    t.meta.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// LinkedIn's reaction types for the emoji agents pick.
fn reaction_type(emoji: &str) -> &'static str {
    match emoji {
        "👏" => "PRAISE",
        "❤️" | "❤" => "EMPATHY",
        "💡" => "INTEREST",
        "🙏" => "APPRECIATION",
        "😂" | "😄" => "ENTERTAINMENT",
        _ => "LIKE",
    }
}

impl Channel for LinkedIn {
    fn describe() -> ChannelInfo {
        use ActionKind::*;
        let no_hide = "LinkedIn's API cannot hide comments or block members";
        let comments = |kind| {
            Capability::new(kind, &[Reply, Like, Unlike, React, Delete])
                .action_note(React, "LinkedIn's reactions: like 👍, celebrate 👏, love ❤️, insightful 💡, support 🙏, funny 😂")
                .action_note(Delete, "Our own comments, and comments on our organization's posts")
                .note(no_hide)
                .max_reply_chars(1250)
        };
        ChannelInfo {
            platform: "linkedin".into(),
            platform_name: PLATFORM.into(),
            capabilities: vec![
                comments(InteractionKind::Comment),
                comments(InteractionKind::Reply).note("Replies nest one level: answering a reply answers its comment"),
                Capability::new(InteractionKind::Mention, &[Reply, Like, Unlike, React]).note(no_hide).note("LinkedIn keeps mentions for 60 days").max_reply_chars(1250),
            ],
            polls: true,
            webhooks: true,
            reply_window_hours: None,
            tagged_reply_window: None,
            settings: vec![
                Setting::config("organization_id", "Organization id").required().help("The number in urn:li:organization:{id} (the company page)"),
                Setting::secret("access_token", "Access token").help("A member token of a page ADMINISTRATOR with r/w_organization_social"),
                Setting::secret("client_secret", "Client secret").optional().help("For webhooks: the app's client secret (validation and X-LI-Signature)"),
                Setting::config("linkedin_version", "LinkedIn-Version").default_value(api::DEFAULT_VERSION).help(
                    "The API version (YYYYMM) sent with every call; LinkedIn retires each about a year later",
                ),
                Setting::config("recent_posts", "Own posts watched").default_value("5"),
                Setting::config("poll_seconds", "Poll interval").default_value("120"),
                Setting::config("base_url", "API URL").default_value(api::DEFAULT_BASE_URL),
            ],
            allowed_hosts: vec!["https://api.linkedin.com".into()],
        }
    }

    fn check() -> Result<String, ChannelError> {
        let org = api::org()?;
        let id = org.rsplit(':').next().unwrap_or_default().to_string();
        let o = api::get(&format!("organizations/{id}"))?;
        let name = o["localizedName"].as_str().unwrap_or("the organization");
        let version = api::version();
        let sunset = match api::sunset(&version) {
            Some(d) => {
                let today = chrono::DateTime::from_timestamp_millis(helpdesk_plugin_sdk::time::now_ms()).unwrap_or_default().date_naive();
                let days = d.signed_duration_since(today).num_days();
                if days <= 60 { format!("; LinkedIn-Version {version} is sunset on {d} (in {days} days): move to a newer one") } else { format!("; LinkedIn-Version {version} until {d}") }
            }
            None => String::new(),
        };
        Ok(format!("LinkedIn page {name}{sunset}"))
    }

    fn fetch(cursor: Option<String>) -> Result<Page, ChannelError> {
        social::poll(cursor)
    }

    fn handle_webhook(request: HttpRequest) -> Result<WebhookOutcome, ChannelError> {
        let Some(secret) = secret("client_secret") else {
            return Ok(WebhookOutcome::reject(404, "webhooks are not set up for this channel (no client_secret)"));
        };
        if request.method == "GET" {
            let Some(challenge) = request.query("challengeCode") else { return Ok(WebhookOutcome::reject(400, "no challengeCode")) };
            let body = json!({"challengeCode": challenge, "challengeResponse": hmac_hex(&secret, &[challenge.as_bytes()])}).to_string();
            return Ok(WebhookOutcome {
                response: HttpResponse { status: 200, headers: vec![("content-type".into(), "application/json".into())], body: body.into_bytes() },
                events: Vec::new(),
            });
        }
        // The string signed is not settled in LinkedIn's pages: the body, or "hmacsha256=" and
        // the body; either proves the sender holds the secret.
        let given = request.header("x-li-signature").unwrap_or_default().trim_start_matches("hmacsha256=").to_ascii_lowercase();
        let ok = [hmac_hex(&secret, &[b"hmacsha256=", &request.body]), hmac_hex(&secret, &[&request.body])]
            .iter()
            .any(|expected| helpdesk_plugin_sdk::constant_time_eq(given.as_bytes(), expected.as_bytes()));
        if !ok {
            return Ok(WebhookOutcome::reject(401, "missing or wrong X-LI-Signature"));
        }
        let body: Value = serde_json::from_slice(&request.body).map_err(|e| err::permanent(format!("a delivery that is not JSON: {e}")))?;
        let org = api::org()?;
        let mut events = Vec::new();
        for n in body["notifications"].as_array().into_iter().flatten() {
            // LinkedIn retries for hours: a notification seen before is not handled twice.
            let key = format!("notification:{}", n["notificationId"].as_str().map(str::to_string).or_else(|| n["notificationId"].as_i64().map(|i| i.to_string())).unwrap_or_default());
            if matches!(kv_get(&key), Ok(Some(_))) {
                continue;
            }
            match n["action"].as_str().unwrap_or_default() {
                "COMMENT" | "ADMIN_COMMENT" | "COMMENT_EDIT" => {
                    let c = &n["decoratedGeneratedActivity"]["comment"];
                    let post = n["sourcePost"].as_str().unwrap_or_default();
                    let element = json!({"commentUrn": n["generatedActivity"], "id": c["id"], "actor": c["owner"].as_str().or(c["actor"].as_str()),
                        "message": {"text": c["text"]}, "created": {"time": c["created"]["time"].as_i64().or(n["lastModifiedAt"].as_i64())}});
                    let parent = c["parentComment"].as_str();
                    events.extend(social::comment(&element, post, parent, &org).map(Event::Interaction));
                }
                "SHARE_MENTION" | "COMMENT_MENTION" => events.extend(social::mention(n, &org).map(Event::Interaction)),
                "COMMENT_DELETE" => events.extend(n["generatedActivity"].as_str().map(|c| Event::Removed(c.to_string()))),
                // Likes and shares of our posts: nothing to answer.
                _ => {}
            }
            let _ = kv_set(&key, b"1");
        }
        Ok(WebhookOutcome::accept(events))
    }

    fn perform(target: Target, action: Action) -> Result<ActionOutcome, ChannelError> {
        let org = api::org()?;
        let post = meta(&target, "post").unwrap_or(&target.thread_key).to_string();
        let id = target.platform_id.clone();
        let done = |_| ActionOutcome { created: None };
        match action {
            Action::Reply(r) => {
                // One level of nesting: a reply to a reply goes under its comment.
                let parent = match target.kind {
                    InteractionKind::Comment => Some(id.clone()),
                    InteractionKind::Reply => meta(&target, "parent").map(str::to_string),
                    _ => None,
                };
                let on = parent.clone().unwrap_or_else(|| post.clone());
                let mut body = json!({"actor": org, "object": post, "message": {"text": r.text}});
                if let Some(p) = &parent {
                    body["parentComment"] = json!(p);
                }
                let (answer, resp) = api::call("POST", &format!("socialActions/{}/comments", urn(&on)), Some(&body))?;
                let comment_id = resp.header("x-restli-id").map(str::to_string).or_else(|| answer["id"].as_str().map(str::to_string)).unwrap_or_default();
                let comment_urn = answer["commentUrn"].as_str().map(str::to_string).unwrap_or_else(|| format!("urn:li:comment:({post},{comment_id})"));
                let element = json!({"commentUrn": comment_urn, "id": comment_id, "actor": org, "message": {"text": r.text}});
                let mut created = social::comment(&element, &post, parent.as_deref(), &org).ok_or_else(|| err::transient("LinkedIn gave no comment back"))?;
                created.parent_id = Some(id);
                Ok(ActionOutcome { created: Some(created) })
            }
            Action::Like | Action::React(_) => {
                let kind = if let Action::React(e) = &action { reaction_type(e) } else { "LIKE" };
                api::call("POST", &format!("reactions?actor={}", urn(&org)), Some(&json!({"root": id, "reactionType": kind}))).map(done)
            }
            Action::Unlike => api::call("DELETE", &format!("reactions/(actor:{},entity:{})", urn(&org), urn(&id)), None).map(done),
            Action::Delete => {
                let comment_id = meta(&target, "comment_id").unwrap_or_default().to_string();
                let on = meta(&target, "parent").map(str::to_string).unwrap_or_else(|| post.clone());
                api::call("DELETE", &format!("socialActions/{}/comments/{}?actor={}", urn(&on), comment_id, urn(&org)), None).map(done)
            }
            _ => Err(err::unsupported("LinkedIn's API cannot hide comments or block members")),
        }
    }
}

export_channel!(LinkedIn);
