//! Google Business Profile and YouTube end to end: the real plugins against the Google
//! emulator. Reviews arrive as tickets of kind review with their stars and the location as
//! context, an edited review comes back to New, answers and their deletion reach the API, a
//! Pub/Sub push is verified; YouTube comments and replies arrive with the video as context,
//! held ones marked, moderation reaches the API as it expects it and like is refused; the
//! quota is counted and shown; expired and revoked tokens show in channel health in words.

mod support;

use helpdesk_testkit::google::{GoogleEmulator, PUSH_TOKEN};
use serde_json::json;
use std::time::Duration;
use support::*;

const WAIT: Duration = Duration::from_secs(15);

#[tokio::test]
async fn reviews_arrive_with_their_stars_and_place_and_are_answered() {
    let google = GoogleEmulator::start().await.unwrap();
    google.add_location("456", "Acme Shop Main Street");
    google.add_location("789", "Acme Shop Harbour");
    let bad = google.add_review("456", "Jane D", 2, "Friendly staff, slow checkout.");
    google.add_review("456", "Sam K", 5, "Best kettles in town!");
    let answered = google.add_review("789", "Lu W", 4, "Nice harbour view");
    google.answer_review(&answered, "Thank you Lu!");
    let server = Server::start(&google.gbp_channel_toml("gbp", &["456", "789"], true)).await;

    let reviews = server.wait_tickets("kind=review&queue=all", 3, WAIT).await;
    assert_eq!(reviews.len(), 3, "{reviews:#?}");
    let jane = by_text(&reviews, "slow checkout");
    assert_eq!((jane["rating"].as_u64(), jane["queue"].as_str(), jane["platform"].as_str()), (Some(2), Some("new"), Some("gbp")), "{jane}");
    // Answered in Google's own tools: waiting on nobody.
    let lu = reviews.iter().find(|t| t["contact"]["name"] == "Lu W").unwrap();
    assert_eq!((lu["queue"].as_str(), lu["preview"].as_str(), lu["last_from_us"].as_bool()), (Some("pending"), Some("Thank you Lu!"), Some(true)), "{lu}");
    // The inbox filters by stars.
    let low = server.tickets("kind=review&queue=all&rating=1-2").await;
    assert_eq!(low.len(), 1, "{low:#?}");
    assert_eq!(server.tickets("queue=all&rating=5").await.len(), 1);
    let (s, b) = server.get("/api/v1/tickets?rating=6").await;
    assert_eq!(s, 400, "{b}");
    assert!(b["message"].as_str().unwrap().contains("1 to 5"), "{b}");

    // The ticket shows the place reviewed, once looked up per location.
    let view = server.ticket(jane["id"].as_str().unwrap()).await;
    assert_eq!(view["post"]["title"], "Acme Shop Main Street", "{view}");
    assert!(view["post"]["permalink"].as_str().unwrap().contains("maps.google.com"));
    assert_eq!(view["messages"][0]["rating"], 2);
    assert_eq!(google.calls("/v1/locations/456").len(), 1);

    // Answer it: the reply reaches Google and shows as ours; a second answer replaces it.
    let id = jane["id"].as_str().unwrap();
    let (s, b) = action(&server, id, json!({"type": "reply", "text": "Sorry Jane, we are opening a second till."})).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(google.review(&bad)["reviewReply"]["comment"], "Sorry Jane, we are opening a second till.");
    assert_eq!(b["ticket"]["queue"], "pending");
    let too_long = "x".repeat(4097);
    let (s, b) = action(&server, id, json!({"type": "reply", "text": too_long})).await;
    assert_eq!(s, 400, "{b}");
    // Google has no hiding, blocking or deleting of a customer's review.
    for kind in ["hide", "block", "like"] {
        let (s, b) = action(&server, id, json!({"type": kind})).await;
        assert_eq!(s, 422, "{kind}: {b}");
    }
    let review_msg = view["messages"][0]["id"].as_str().unwrap();
    let (s, b) = action(&server, id, json!({"type": "delete", "message_id": review_msg})).await;
    assert_eq!(s, 422, "{b}");
    assert!(b["message"].as_str().unwrap().contains("only on the brand's own"), "{b}");
    // Our own answer can be deleted.
    let view = server.ticket(id).await;
    let answer = view["messages"].as_array().unwrap().iter().find(|m| m["direction"] == "outbound").unwrap()["id"].as_str().unwrap().to_string();
    let (s, b) = action(&server, id, json!({"type": "delete", "message_id": answer})).await;
    assert_eq!(s, 200, "{b}");
    assert!(google.review(&bad)["reviewReply"].is_null());

    // Resolved, then the customer changes their stars: back in New with the new rating.
    server.patch(&format!("/api/v1/tickets/{id}"), json!({"queue": "resolved"})).await;
    google.edit_review(&bad, 4, "Friendly staff, and checkout is quicker now.");
    assert!(
        eventually(WAIT, || async { server.ticket(id).await["ticket"]["queue"] == "new" }).await,
        "an edited review comes back to New"
    );
    let t = server.ticket(id).await;
    assert_eq!(t["ticket"]["rating"], 4, "{t}");
    assert_eq!(t["messages"][0]["text"], "Friendly staff, and checkout is quicker now.");
    assert_eq!(t["messages"][0]["history"][0]["text"], "Friendly staff, slow checkout.");
    // Polled again and again, nothing doubles.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(server.tickets("kind=review&queue=all").await.len(), 3);
}

#[tokio::test]
async fn a_pubsub_push_brings_the_review_and_a_wrong_token_is_refused() {
    let google = GoogleEmulator::start().await.unwrap();
    google.add_location("456", "Acme Shop Main Street");
    let server = Server::start(&google.gbp_channel_toml("gbp", &["456"], true)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let name = google.add_review("456", "Ola P", 1, "Broken kettle, no answer by mail");
    let status = google.push_review(&server.url("/webhooks/gbp?token=wrong"), "NEW_REVIEW", &name).await;
    assert_eq!(status, 401);
    let status = google.push_review(&server.url("/webhooks/gbp"), "NEW_REVIEW", &name).await;
    assert_eq!(status, 401, "no token: refused");
    let status = google.push_review(&server.url(&format!("/webhooks/gbp?token={PUSH_TOKEN}")), "NEW_REVIEW", &name).await;
    assert_eq!(status, 200);
    assert!(google.calls(&format!("/v4/{name}")).iter().any(|c| c.method == "GET"), "the named review is fetched");
    let t = server.wait_tickets("kind=review", 1, WAIT).await;
    assert_eq!(t[0]["rating"], 1);
    // The next poll finds the same review: still one ticket.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(server.tickets("kind=review&queue=all").await.len(), 1);
}

#[tokio::test]
async fn a_revoked_refresh_token_and_an_expired_access_token_show_in_health() {
    let google = GoogleEmulator::start().await.unwrap();
    google.add_location("456", "Acme Shop Main Street");
    google.add_review("456", "Jane D", 3, "Fine");
    let server = Server::start(&google.gbp_channel_toml("gbp", &["456"], false)).await;
    server.wait_tickets("kind=review", 1, WAIT).await;
    // An access token that stopped working is refreshed without anyone noticing.
    let refreshes = google.calls("/token").len();
    google.expire_access_tokens();
    google.add_review("456", "Kim", 5, "Great");
    assert_eq!(server.wait_tickets("kind=review", 2, WAIT).await.len(), 2);
    assert!(google.calls("/token").len() > refreshes, "a new access token was asked for");
    assert_ne!(server.channel("gbp").await["health"]["state"], "needs_reconnect");
    // A revoked refresh token needs an admin.
    google.revoke_refresh_token();
    let c = server.wait_channel("gbp", WAIT, |c| c["health"]["state"] == "needs_reconnect").await;
    assert_eq!(c["health"]["state"], "needs_reconnect", "{c}");
    assert!(c["health"]["last_error"].as_str().unwrap().contains("invalid_grant"), "{c}");
}

#[tokio::test]
async fn youtube_comments_arrive_with_their_video_and_are_moderated_within_the_quota() {
    let google = GoogleEmulator::start().await.unwrap();
    google.add_video("JE8xdDp5B8Q", "How to descale your kettle");
    let q = google.add_comment("JE8xdDp5B8Q", None, Some("kun liu"), "Does this work with vinegar?", "published");
    google.add_comment("JE8xdDp5B8Q", Some(&q), Some("Mia"), "I used lemon, worked fine", "published");
    let held = google.add_comment("JE8xdDp5B8Q", None, Some("Spammy"), "Free kettles at my site", "heldForReview");
    let server = Server::start(&google.youtube_channel_toml("yt", 1_000_000)).await;

    let tickets = server.wait_tickets("platform=youtube&queue=all", 4, WAIT).await;
    assert_eq!(tickets.len(), 4, "two comments, a reply, and the video as their context: {tickets:#?}");
    let question = by_text(&tickets, "vinegar");
    assert_eq!(question["kind"], "comment");
    assert_eq!(by_text(&tickets, "lemon")["kind"], "reply");
    let view = server.ticket(question["id"].as_str().unwrap()).await;
    assert_eq!(view["post"]["title"], "How to descale your kettle", "{view}");
    assert_eq!(view["post"]["permalink"], "https://www.youtube.com/watch?v=JE8xdDp5B8Q");
    assert_eq!(google.calls("/youtube/v3/videos").len(), 1, "the video is looked up once");
    let spam = by_text(&tickets, "Free kettles");
    let spam_view = server.ticket(spam["id"].as_str().unwrap()).await;
    assert_eq!(spam_view["messages"][0]["visibility"], "held_for_review", "{spam_view}");

    // Answer: the reply hangs from the thread's first comment and shows in this ticket as ours.
    let qid = question["id"].as_str().unwrap();
    let (s, b) = action(&server, qid, json!({"type": "reply", "text": "Yes, one part vinegar to two of water."})).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["message"]["direction"], "outbound");
    let sent = google.calls("/youtube/v3/comments?part=snippet");
    assert_eq!(sent.last().unwrap().body["snippet"]["parentId"], q.as_str());
    // Answering the reply still goes to the top-level comment, as YouTube requires.
    let rid = by_text(&tickets, "lemon")["id"].as_str().unwrap().to_string();
    let (s, b) = action(&server, &rid, json!({"type": "reply", "text": "Lemon works too!"})).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(google.calls("/youtube/v3/comments?part=snippet").last().unwrap().body["snippet"]["parentId"], q.as_str());

    // Publish the held one, hide and block others: each as setModerationStatus expects it.
    let sid = spam["id"].as_str().unwrap();
    let (s, b) = action(&server, sid, json!({"type": "publish"})).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(google.comment(&held)["snippet"]["moderationStatus"], "published");
    let after = server.ticket(sid).await;
    assert_eq!(after["messages"][0]["visibility"], "public", "{after}");
    let (s, _) = action(&server, sid, json!({"type": "block"})).await;
    assert_eq!(s, 200);
    let blocked = google.calls("/youtube/v3/comments/setModerationStatus");
    assert!(blocked.last().unwrap().path.contains("moderationStatus=rejected&banAuthor=true"), "{blocked:?}");
    // Like is not in the API; deleting a customer's comment is not ours to do.
    let (s, b) = action(&server, qid, json!({"type": "like"})).await;
    assert_eq!(s, 422, "{b}");
    let (s, b) = action(&server, qid, json!({"type": "delete"})).await;
    assert_eq!(s, 422, "{b}");
    // Our own answer can be deleted.
    let ours = server.ticket(qid).await["messages"].as_array().unwrap().iter().find(|m| m["direction"] == "outbound").unwrap()["id"].as_str().unwrap().to_string();
    let (s, b) = action(&server, qid, json!({"type": "delete", "message_id": ours})).await;
    assert_eq!(s, 200, "{b}");

    // New comments come with the next poll; the quota spent shows in channel health.
    google.add_comment("JE8xdDp5B8Q", None, Some("Noor"), "Which descaler do you sell?", "published");
    server.wait_tickets("platform=youtube&queue=all&q=descaler", 1, WAIT).await;
    let c = server.channel("yt").await;
    let quota = &c["health"]["quota"];
    assert_eq!(quota["unit"], "units", "{c}");
    assert!(quota["used"].as_u64().unwrap() >= 4 * 50, "four writes of 50 units and the reads: {c}");
    assert_eq!(quota["limit"], 1_000_000);
    assert!(quota["resets_at"].as_i64().unwrap() > chrono_now_ms());
    assert_eq!(server.tickets("platform=youtube&queue=all&limit=50").await.len(), 5, "nothing doubled across polls");
}

fn chrono_now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

#[tokio::test]
async fn a_used_up_youtube_quota_says_when_it_comes_back_and_keeps_room_for_answers() {
    let google = GoogleEmulator::start().await.unwrap();
    google.add_video("vid1", "Unboxing");
    google.add_comment("vid1", None, Some("Ann"), "Where to buy?", "published");
    // A budget of 1,000 units, spread over the day: a poll or so a minute.
    let server = Server::start(&google.youtube_channel_toml("yt", 1_000)).await;
    let t = server.wait_tickets("platform=youtube&kind=comment", 1, WAIT).await;
    let id = t[0]["id"].as_str().unwrap().to_string();
    // YouTube itself says the quota is gone (another app shares the project's units).
    google.fail_next("/youtube/v3/comments", 403, "quotaExceeded", "The request cannot be completed because you have exceeded your quota.");
    let (s, b) = action(&server, &id, json!({"type": "reply", "text": "On our site"})).await;
    assert_eq!(s, 429, "{b}");
    assert!(b["message"].as_str().unwrap().contains("midnight Pacific"), "{b}");
    let c = server.wait_channel("yt", WAIT, |c| c["health"]["state"] == "degraded").await;
    assert!(c["health"]["last_error"].as_str().unwrap_or_default().contains("midnight Pacific"), "{c}");
    assert!(c["health"]["next_retry_at"].as_i64().unwrap() > chrono_now_ms() + 60_000, "waits for the reset: {c}");
    // From then on the plugin counts the day as spent: the next answer is refused in words
    // without a call into the wall.
    let calls = google.calls("/youtube/v3/").len();
    let (s, b) = action(&server, &id, json!({"type": "reply", "text": "On our site"})).await;
    assert_eq!(s, 429, "{b}");
    assert!(b["message"].as_str().unwrap().contains("no room for this action"), "{b}");
    assert_eq!(google.calls("/youtube/v3/").len(), calls);
}

#[tokio::test]
async fn a_poll_after_a_restart_misses_nothing_and_doubles_nothing() {
    let google = GoogleEmulator::start().await.unwrap();
    google.add_location("456", "Acme Shop Main Street");
    google.add_video("vid1", "Unboxing");
    for n in 0..60 {
        // More reviews than one page of 50: the listing is followed.
        google.add_review("456", &format!("Reviewer {n}"), (n % 5 + 1) as u8, &format!("review number {n}"));
    }
    google.add_comment("vid1", None, Some("Ann"), "first comment", "published");
    let toml = [google.gbp_channel_toml("gbp", &["456"], false), google.youtube_channel_toml("yt", 1_000_000)].concat();
    let server = Server::start_with(&toml, Options::disk(), None).await;
    assert_eq!(server.wait_tickets("kind=review&queue=all&limit=100", 60, WAIT).await.len(), 60);
    server.wait_tickets("platform=youtube&kind=comment", 1, WAIT).await;
    let data = server.kill().await;
    // While the helpdesk is down, a review and a comment arrive and a review is edited.
    google.add_review("456", "Late Reviewer", 1, "written while you were down");
    google.add_comment("vid1", None, Some("Bo"), "comment while you were down", "published");
    let server = Server::start_with(&toml, Options::disk(), Some(data)).await;
    assert!(
        eventually(WAIT, || async {
            server.tickets("kind=review&queue=all&limit=100").await.len() == 61 && server.tickets("platform=youtube&kind=comment").await.len() == 2
        })
        .await
    );
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(server.tickets("kind=review&queue=all&limit=100").await.len(), 61);
    assert_eq!(server.tickets("platform=youtube&queue=all").await.len(), 3, "two comments and the video");
}

#[tokio::test]
async fn an_authenticated_push_is_verified_against_googles_keys_and_its_audience() {
    use helpdesk_testkit::google::push_token;
    let google = GoogleEmulator::start().await.unwrap();
    google.add_location("456", "Acme Shop Main Street");
    let audience = "https://helpdesk.example/webhooks/gbp";
    let server = Server::start(&google.gbp_channel_toml_authenticated("gbp", &["456"], audience)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let name = google.add_review("456", "Pia", 3, "Okay-ish");
    let url = server.url("/webhooks/gbp");
    // No token, another audience, an expired one, one signed by a key that is not Google's.
    assert_eq!(google.push_review_with(&url, "NEW_REVIEW", &name, None).await, 401);
    assert_eq!(google.push_review_with(&url, "NEW_REVIEW", &name, Some(&push_token("https://elsewhere.example/", 3600))).await, 401);
    assert_eq!(google.push_review_with(&url, "NEW_REVIEW", &name, Some(&push_token(audience, -3600))).await, 401);
    let forged = helpdesk_testkit::google::push_token_signed_by_a_stranger(audience);
    assert_eq!(google.push_review_with(&url, "NEW_REVIEW", &name, Some(&forged)).await, 401);
    assert!(google.calls(&format!("/v4/{name}")).is_empty(), "nothing refused was fetched");
    // Google's own token for this audience: the review comes in.
    assert_eq!(google.push_review_with(&url, "NEW_REVIEW", &name, Some(&push_token(audience, 3600))).await, 200);
    let t = server.wait_tickets("kind=review", 1, WAIT).await;
    assert_eq!(t[0]["rating"], 3);
}
