//! The LinkedIn channel end to end: the real plugin against the LinkedIn emulator. Comments and
//! replies on the organization's posts arrive with the post as context, mentions as mentions;
//! every call carries the configured LinkedIn-Version (a retired one shows in health in words);
//! webhooks are validated and signed, their retried notifications stored once; actions reach
//! the API as it expects them, and hiding or blocking is refused as LinkedIn has none.

mod support;

use helpdesk_testkit::linkedin::{LinkedInEmulator, ORG};
use serde_json::json;
use std::time::Duration;
use support::*;

const WAIT: Duration = Duration::from_secs(15);

#[tokio::test]
async fn comments_replies_and_mentions_become_the_right_tickets() {
    let li = LinkedInEmulator::start().await.unwrap();
    let post = li.post("We're hiring: three new roles in our Lisbon office");
    let c = li.comment(&post, "ACoAAA1", "Is remote possible?", None);
    li.comment(&post, "ACoAAA2", "Same question!", Some(&c));
    li.mention("ACoAAA3", "Great service from Acme Outdoor today");
    let server = Server::start(&li.channel_toml("li", "202611")).await;

    let tickets = server.wait_tickets("platform=linkedin&queue=all", 4, WAIT).await;
    assert_eq!(tickets.len(), 4, "a comment, a reply, a mention and our post as context: {tickets:#?}");
    assert_eq!(by_text(&tickets, "remote possible")["kind"], "comment");
    assert_eq!(by_text(&tickets, "Same question")["kind"], "reply");
    assert_eq!(by_text(&tickets, "Great service")["kind"], "mention");
    let view = server.ticket(by_text(&tickets, "remote possible")["id"].as_str().unwrap()).await;
    assert_eq!(view["post"]["text"], "We're hiring: three new roles in our Lisbon office", "{view}");
    assert!(li.calls("").iter().all(|c| c.version.as_deref() == Some("202611")), "every call names the version");
    assert!(li.calls("socialActions/urn%3Ali%3Ashare").len() >= 1, "URNs are encoded in paths");

    // New comments come with the next poll; nothing doubles.
    li.comment(&post, "ACoAAA4", "When do interviews start?", None);
    server.wait_tickets("platform=linkedin&queue=all&q=interviews", 1, WAIT).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(server.tickets("platform=linkedin&queue=all").await.len(), 5);
}

#[tokio::test]
async fn actions_reach_linkedin_as_the_organization_and_hiding_is_refused() {
    let li = LinkedInEmulator::start().await.unwrap();
    let post = li.post("Our new store opens Friday");
    let c = li.comment(&post, "ACoAAA1", "Which city?", None);
    li.comment(&post, "ACoAAA2", "Lisbon I think", Some(&c));
    let server = Server::start(&li.channel_toml("li", "202611")).await;
    let tickets = server.wait_tickets("platform=linkedin&queue=all", 3, WAIT).await;
    let comment = by_text(&tickets, "Which city")["id"].as_str().unwrap().to_string();
    let reply = by_text(&tickets, "Lisbon I think")["id"].as_str().unwrap().to_string();

    let (s, b) = action(&server, &comment, json!({"type": "reply", "text": "Lisbon, Rua Augusta 10!"})).await;
    assert_eq!(s, 200, "{b}");
    let sent = li.calls("socialActions/").into_iter().filter(|c| c.method == "POST").collect::<Vec<_>>();
    assert_eq!((sent[0].body["actor"].as_str(), sent[0].body["parentComment"].as_str()), (Some(ORG), Some(c.as_str())));
    // Answering the reply answers its comment: LinkedIn nests one level.
    let (s, b) = action(&server, &reply, json!({"type": "reply", "text": "Yes, Lisbon"})).await;
    assert_eq!(s, 200, "{b}");
    let last = li.calls("socialActions/").into_iter().filter(|c| c.method == "POST").last().unwrap();
    assert_eq!(last.body["parentComment"], c.as_str());

    let (s, b) = action(&server, &comment, json!({"type": "react", "emoji": "👏"})).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(li.reactions(), vec![(c.clone(), "PRAISE".to_string())]);
    let (s, b) = action(&server, &comment, json!({"type": "unlike"})).await;
    assert_eq!(s, 200, "{b}");
    assert!(li.reactions().is_empty());
    for kind in ["hide", "block"] {
        let (s, b) = action(&server, &comment, json!({"type": kind})).await;
        assert_eq!(s, 422, "{kind}: {b}");
    }
    // A comment on our own post can be deleted by the organization.
    let (s, b) = action(&server, &reply, json!({"type": "delete"})).await;
    assert_eq!(s, 200, "{b}");
    assert!(li.comments_of(&post).iter().all(|x| x["message"]["text"] != "Lisbon I think"));
}

#[tokio::test]
async fn webhooks_are_validated_signed_and_deduplicated() {
    let li = LinkedInEmulator::start().await.unwrap();
    let post = li.post("Autumn sale starts now");
    let server = Server::start(&li.channel_toml("li", "202611")).await;
    let url = server.url("/webhooks/li");
    assert!(li.validate(&url).await, "the challengeCode is answered with the client secret's HMAC");
    let n = li.comment_notification(&post, "ACoAAB1", "Does it include shoes?");
    assert_eq!(li.deliver(&url, &[n.clone()], Some("")).await, 401, "unsigned");
    assert_eq!(li.deliver(&url, &[n.clone()], Some("deadbeef")).await, 401, "wrongly signed");
    assert_eq!(li.deliver(&url, &[n.clone()], None).await, 200);
    // LinkedIn retries a batch: the same notification is handled once.
    assert_eq!(li.deliver(&url, &[n.clone(), n], None).await, 200);
    let t = server.wait_tickets("platform=linkedin&kind=comment", 1, WAIT).await;
    assert_eq!(t.len(), 1);
    // The poll finds the same comment: still one ticket.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(server.tickets("platform=linkedin&kind=comment").await.len(), 1);
}

#[tokio::test]
async fn a_retired_linkedin_version_and_the_daily_limit_show_in_health() {
    let li = LinkedInEmulator::start().await.unwrap();
    li.post("Hello");
    let server = Server::start(&li.channel_toml("li", "202401")).await;
    let c = server.wait_channel("li", WAIT, |c| c["health"]["last_error"].as_str().is_some_and(|e| e.contains("202401"))).await;
    assert!(c["health"]["last_error"].as_str().unwrap().contains("no longer active"), "{c}");
    // A version still served but retiring within 60 days: a notice in health, not an error.
    let soon = {
        let now = chrono::Utc::now().date_naive();
        let month = now - chrono::Months::new(11);
        chrono::Datelike::year(&month) * 100 + chrono::Datelike::month(&month) as i32
    };
    let li_soon = LinkedInEmulator::start().await.unwrap();
    li_soon.post("Hello");
    let server_soon = Server::start(&li_soon.channel_toml("lisoon", &soon.to_string())).await;
    let c = server_soon.wait_channel("lisoon", WAIT, |c| c["health"]["notice"].is_string()).await;
    assert!(c["health"]["notice"].as_str().unwrap().contains("retires on"), "{c}");
    assert_eq!(c["health"]["state"], "ok", "{c}");

    let li = LinkedInEmulator::start().await.unwrap();
    let post = li.post("Hello");
    li.comment(&post, "ACoAAA1", "Hi!", None);
    let server = Server::start(&li.channel_toml("li2", "202611")).await;
    let t = server.wait_tickets("platform=linkedin&kind=comment", 1, WAIT).await;
    li.fail_next("reactions", 429, "Resource level throttle APPLICATION DAY limit for calls to this resource is reached.");
    let (s, b) = action(&server, t[0]["id"].as_str().unwrap(), json!({"type": "like"})).await;
    assert_eq!(s, 429, "{b}");
    assert!(b["message"].as_str().unwrap().contains("midnight UTC"), "{b}");
}
