//! Verifying a Pub/Sub push: the OIDC token Google puts in `Authorization: Bearer` (RS256,
//! signed by one of Google's keys, issued by accounts.google.com for the audience the admin set
//! on the push subscription, not expired, from the service account if one is named), or a
//! shared token in the push URL.

use base64::Engine;
use helpdesk_plugin_sdk::prelude::*;
use helpdesk_plugin_sdk::time::now_ms;
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::signature::Verifier;
use rsa::{BigUint, RsaPublicKey};
use serde_json::{json, Value};
use sha2::Sha256;

pub const DEFAULT_CERTS_URL: &str = "https://www.googleapis.com/oauth2/v3/certs";
const CERTS_KEY: &str = "google:certs";
/// Google rotates its keys over days; an hour's copy is fresh enough, and an unknown `kid`
/// fetches them again at once.
const CERTS_TTL_MS: i64 = 3_600_000;
const SKEW_S: i64 = 300;

fn b64url(s: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(s.trim_end_matches('=')).ok()
}

/// Google's public keys (`{"keys":[{kid,n,e,alg}]}`), from kv while fresh unless `fresh`.
fn certs(fresh: bool) -> Result<Value, ChannelError> {
    if !fresh {
        if let Some(saved) = kv_get(CERTS_KEY)?.and_then(|b| serde_json::from_slice::<Value>(&b).ok()) {
            if saved["at"].as_i64().unwrap_or(0) + CERTS_TTL_MS > now_ms() {
                return Ok(saved["keys"].clone());
            }
        }
    }
    let keys: Value = Request::get(config_or("certs_url", DEFAULT_CERTS_URL)).send_checked()?.json()?;
    kv_set(CERTS_KEY, json!({"at": now_ms(), "keys": keys}).to_string().as_bytes())?;
    Ok(keys)
}

fn key_for(kid: &str) -> Result<Option<RsaPublicKey>, ChannelError> {
    for fresh in [false, true] {
        let keys = certs(fresh)?;
        if let Some(k) = keys["keys"].as_array().into_iter().flatten().find(|k| k["kid"].as_str() == Some(kid)) {
            let (Some(n), Some(e)) = (k["n"].as_str().and_then(b64url), k["e"].as_str().and_then(b64url)) else { return Ok(None) };
            return Ok(RsaPublicKey::new(BigUint::from_bytes_be(&n), BigUint::from_bytes_be(&e)).ok());
        }
    }
    Ok(None)
}

/// Why the bearer token is not a valid push from Google for `audience`, if it is not.
pub fn check_jwt(token: &str, audience: &str) -> Result<Result<(), String>, ChannelError> {
    let parts: Vec<&str> = token.split('.').collect();
    let [header, payload, signature] = parts.as_slice() else { return Ok(Err("not a JWT".into())) };
    let parse = |p: &str| b64url(p).and_then(|b| serde_json::from_slice::<Value>(&b).ok());
    let (Some(h), Some(claims), Some(sig)) = (parse(header), parse(payload), b64url(signature)) else { return Ok(Err("a JWT that does not decode".into())) };
    if h["alg"].as_str() != Some("RS256") {
        return Ok(Err(format!("a JWT signed with {} (Google signs RS256)", h["alg"])));
    }
    let Some(key) = key_for(h["kid"].as_str().unwrap_or_default())? else { return Ok(Err("a JWT signed by a key that is not Google's".into())) };
    let Ok(sig) = Signature::try_from(sig.as_slice()) else { return Ok(Err("a malformed signature".into())) };
    if VerifyingKey::<Sha256>::new(key).verify(format!("{header}.{payload}").as_bytes(), &sig).is_err() {
        return Ok(Err("a JWT whose signature does not verify".into()));
    }
    let now = now_ms() / 1000;
    if !matches!(claims["iss"].as_str(), Some("accounts.google.com" | "https://accounts.google.com")) {
        return Ok(Err("a JWT not issued by Google".into()));
    }
    if claims["aud"].as_str() != Some(audience) {
        return Ok(Err("a JWT for another audience".into()));
    }
    if claims["exp"].as_i64().unwrap_or(0) + SKEW_S < now {
        return Ok(Err("an expired JWT".into()));
    }
    if let Some(account) = config("push_service_account").filter(|a| !a.is_empty()) {
        if claims["email"].as_str() != Some(account.as_str()) || claims["email_verified"].as_bool() != Some(true) {
            return Ok(Err("a JWT of another service account".into()));
        }
    }
    Ok(Ok(()))
}

/// The answer to a push that fails verification, or none when it passes.
pub fn refused(request: &HttpRequest) -> Result<Option<WebhookOutcome>, ChannelError> {
    if let Some(audience) = config("push_audience").filter(|a| !a.is_empty()) {
        let token = request.header("authorization").and_then(|v| v.strip_prefix("Bearer ").or(v.strip_prefix("bearer "))).unwrap_or_default();
        return Ok(match check_jwt(token, &audience)? {
            Ok(()) => None,
            Err(why) if token.is_empty() => Some(WebhookOutcome::reject(401, &format!("a push without Google's bearer token ({why})"))),
            Err(why) => Some(WebhookOutcome::reject(401, &format!("refused: {why}"))),
        });
    }
    let Some(expected) = secret("push_token") else {
        return Ok(Some(WebhookOutcome::reject(404, "push is not set up for this channel (no push_audience or push_token)")));
    };
    if !helpdesk_plugin_sdk::constant_time_eq(request.query("token").unwrap_or_default().as_bytes(), expected.as_bytes()) {
        return Ok(Some(WebhookOutcome::reject(401, "wrong or missing push token")));
    }
    Ok(None)
}
