//! Translation providers as the host calls them, from their public API documentation: DeepL
//! (`POST /v2/translate`, `Authorization: DeepL-Auth-Key <key>`, `{"text": [..], "target_lang":
//! "EN"}` → `{"translations": [{"detected_source_language": "DE", "text": ".."}]}`, 403 for a
//! wrong key, 456 when the quota is used up) and LibreTranslate (`POST /translate`, `{"q", "source":
//! "auto", "target", "api_key"}` → `{"translatedText", "detectedLanguage": {"language",
//! "confidence"}}`, 403 for a bad key). Translations come from a small phrase book; anything else
//! comes back marked with its target (`[en] …`), so a test sees which way it went.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// The phrase book: (language, text) in every language it knows.
const PHRASES: &[&[(&str, &str)]] = &[
    &[("de", "Wann öffnet der Laden am Sonntag?"), ("en", "When does the shop open on Sunday?"), ("es", "¿Cuándo abre la tienda el domingo?")],
    &[("de", "Mein Paket ist kaputt angekommen."), ("en", "My parcel arrived broken."), ("es", "Mi paquete llegó roto.")],
    &[("de", "Wann öffnet der Laden am Sonntag? Ich möchte meine Jacke umtauschen."), ("en", "When does the shop open on Sunday? I would like to exchange my jacket.")],
    &[("en", "We open at 10 on Sundays."), ("de", "Sonntags öffnen wir um 10."), ("es", "Los domingos abrimos a las 10.")],
];

fn translate(text: &str, target: &str) -> (String, String) {
    for phrase in PHRASES {
        if let Some((from, _)) = phrase.iter().find(|(_, t)| *t == text) {
            if let Some((_, to)) = phrase.iter().find(|(l, _)| *l == target) {
                return (to.to_string(), from.to_string());
            }
        }
    }
    (format!("[{target}] {text}"), "en".into())
}

#[derive(Default)]
struct Inner {
    /// Every text asked for, with its target.
    calls: Vec<(String, String)>,
    quota_used_up: bool,
}

#[derive(Clone)]
pub struct TranslateEmulator {
    inner: Arc<Mutex<Inner>>,
    key: String,
    pub addr: SocketAddr,
}

impl TranslateEmulator {
    /// Both APIs at one address, accepting `key`.
    pub async fn start(key: &str) -> std::io::Result<Self> {
        let (listener, addr) = crate::listen().await?;
        let emu = TranslateEmulator { inner: Arc::default(), key: key.to_string(), addr };
        let app = Router::new()
            .route("/v2/translate", post(deepl))
            .route("/translate", post(libre))
            .route("/_emulator/calls", axum::routing::get(|State(e): State<TranslateEmulator>| async move { Json(json!({"calls": e.calls().len()})) }))
            .with_state(emu.clone());
        crate::serve(listener, app);
        Ok(emu)
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// What was asked: (text, target).
    pub fn calls(&self) -> Vec<(String, String)> {
        self.inner.lock().unwrap().calls.clone()
    }

    pub fn use_up_quota(&self) {
        self.inner.lock().unwrap().quota_used_up = true;
    }
}

async fn deepl(State(e): State<TranslateEmulator>, headers: HeaderMap, Json(b): Json<Value>) -> (StatusCode, Json<Value>) {
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default();
    if auth != format!("DeepL-Auth-Key {}", e.key) {
        return (StatusCode::FORBIDDEN, Json(json!({"message": "Wrong endpoint or authentication key"})));
    }
    if e.inner.lock().unwrap().quota_used_up {
        return (StatusCode::from_u16(456).unwrap(), Json(json!({"message": "Quota exceeded"})));
    }
    let target = b["target_lang"].as_str().unwrap_or_default().to_lowercase();
    let texts: Vec<String> = b["text"].as_array().into_iter().flatten().filter_map(|t| t.as_str().map(str::to_string)).collect();
    if texts.is_empty() || target.is_empty() {
        return (StatusCode::BAD_REQUEST, Json(json!({"message": "Parameter 'text' or 'target_lang' not specified."})));
    }
    let mut out = Vec::new();
    for t in texts {
        e.inner.lock().unwrap().calls.push((t.clone(), target.clone()));
        let (text, from) = translate(&t, &target);
        out.push(json!({"detected_source_language": from.to_uppercase(), "text": text}));
    }
    (StatusCode::OK, Json(json!({"translations": out})))
}

async fn libre(State(e): State<TranslateEmulator>, Json(b): Json<Value>) -> (StatusCode, Json<Value>) {
    if b["api_key"].as_str().unwrap_or_default() != e.key {
        return (StatusCode::FORBIDDEN, Json(json!({"error": "Invalid API key"})));
    }
    let (q, target) = (b["q"].as_str().unwrap_or_default().to_string(), b["target"].as_str().unwrap_or_default().to_string());
    if q.is_empty() || target.is_empty() {
        return (StatusCode::BAD_REQUEST, Json(json!({"error": "Invalid request: missing q or target parameter"})));
    }
    e.inner.lock().unwrap().calls.push((q.clone(), target.clone()));
    let (text, from) = translate(&q, &target);
    (StatusCode::OK, Json(json!({"translatedText": text, "detectedLanguage": {"language": from, "confidence": 90.0}})))
}
