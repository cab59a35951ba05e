//! Translation through the provider an admin configures (DeepL or LibreTranslate, by their
//! HTTP APIs), called by the host under the same outbound rules as plugins: only the configured
//! URL's scheme, host and port, no redirects, a timeout, and the API key sealed in the store
//! (never shown again, never in an error). Messages keep their translations, so each is asked
//! for once per language.

pub use crate::model::{Translation, TranslationProvider as Provider};
use crate::model::now_ms;
use crate::store::{Store, StoreError};
use crate::sync::vault::{SealedSecret, Vault, VaultError};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use utoipa::ToSchema;

/// The provider as configured, as everyone may see it.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct TranslationSettings {
    pub provider: Provider,
    /// `https://api-free.deepl.com`: the only place translations are asked.
    pub url: String,
    pub timeout_seconds: u32,
    /// Whether an API key is stored (it is never shown).
    #[serde(default)]
    #[schema(required = true)]
    pub api_key_set: bool,
}

/// What an admin sets.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TranslationInput {
    pub provider: Provider,
    pub url: String,
    /// A new key; absent keeps the stored one, empty removes it.
    #[serde(default)]
    pub api_key: Option<String>,
    #[serde(default)]
    pub timeout_seconds: Option<u32>,
}

#[derive(Debug, thiserror::Error)]
pub enum TranslationError {
    #[error("no translation provider is configured: an admin sets one under Settings")]
    NotConfigured,
    #[error("{0}")]
    BadRequest(String),
    #[error("the translation provider refused: {0}")]
    Refused(String),
    #[error("the translation provider cannot be reached: {0}")]
    Unreachable(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Vault(#[from] VaultError),
}

const SETTINGS_ID: &str = "translation";
/// The vault's scope for the key: no channel id has a colon.
const SCOPE: &str = ":translation";
const KEY_NAME: &str = "api_key";

/// ISO 639-3 (the helpdesk's) to the two letters the providers take.
pub fn two_letters(code: &str) -> Option<&'static str> {
    isolang::Language::from_639_3(code).and_then(|l| l.to_639_1())
}

fn three_letters(code: &str) -> Option<String> {
    isolang::Language::from_639_1(&code.to_lowercase().chars().take(2).collect::<String>()).map(|l| l.to_639_3().to_string())
}

pub struct Translator {
    store: Store,
    vault: Vault,
}

impl Translator {
    pub fn new(store: Store, vault: Vault) -> Self {
        Translator { store, vault }
    }

    pub async fn settings(&self) -> Result<Option<TranslationSettings>, TranslationError> {
        Ok(self.store.get::<TranslationSettings>("settings", SETTINGS_ID).await?)
    }

    /// Check and keep an admin's settings (the key sealed apart).
    pub async fn configure(&self, input: TranslationInput) -> Result<TranslationSettings, TranslationError> {
        let url = reqwest::Url::parse(input.url.trim()).map_err(|_| TranslationError::BadRequest(format!("`{}` is not a URL (https://api-free.deepl.com)", input.url)))?;
        if !matches!(url.scheme(), "https" | "http") || url.host_str().is_none() || !url.username().is_empty() || url.query().is_some() {
            return Err(TranslationError::BadRequest("the URL is http(s)://host[:port][/path], without credentials or a query".into()));
        }
        let timeout = input.timeout_seconds.unwrap_or(10);
        if !(1..=60).contains(&timeout) {
            return Err(TranslationError::BadRequest("timeout_seconds is 1 to 60".into()));
        }
        let stored_key = self.key().await?;
        let key = match input.api_key.as_deref().map(str::trim) {
            Some("") => None,
            Some(k) => Some(k.to_string()),
            None => stored_key,
        };
        if input.provider == Provider::Deepl && key.is_none() {
            return Err(TranslationError::BadRequest("DeepL needs an API key".into()));
        }
        match &key {
            Some(k) => {
                let sealed = SealedSecret { channel: SCOPE.into(), name: KEY_NAME.into(), sealed: self.vault.seal(SCOPE, KEY_NAME, k)?, updated_at: now_ms() };
                self.store.put("channel_secret", SCOPE, &sealed).await?;
            }
            None => self.store.delete("channel_secret", SCOPE).await?,
        }
        let settings = TranslationSettings { provider: input.provider, url: url.as_str().trim_end_matches('/').to_string(), timeout_seconds: timeout, api_key_set: key.is_some() };
        self.store.put("settings", SETTINGS_ID, &settings).await?;
        Ok(settings)
    }

    async fn key(&self) -> Result<Option<String>, TranslationError> {
        match self.store.get::<SealedSecret>("channel_secret", SCOPE).await? {
            Some(s) => Ok(Some(self.vault.open(&s)?)),
            None => Ok(None),
        }
    }

    /// `text` in `to` (ISO 639-3).
    pub async fn translate(&self, text: &str, to: &str) -> Result<Translation, TranslationError> {
        let target = two_letters(to).ok_or_else(|| TranslationError::BadRequest(format!("`{to}` is not a language the providers translate into (ISO 639-3, such as `eng`)")))?;
        if text.trim().is_empty() || text.chars().count() > 5_000 {
            return Err(TranslationError::BadRequest("a text to translate is 1 to 5,000 characters".into()));
        }
        let s = self.settings().await?.ok_or(TranslationError::NotConfigured)?;
        let key = self.key().await?;
        // Only the configured place: no redirect may take the text or the key elsewhere.
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(u64::from(s.timeout_seconds)))
            .build()
            .map_err(|e| TranslationError::Unreachable(e.to_string()))?;
        let hide = |e: String| match &key {
            Some(k) if !k.is_empty() => e.replace(k.as_str(), "(the key)"),
            _ => e,
        };
        let request = match s.provider {
            Provider::Deepl => http
                .post(format!("{}/v2/translate", s.url))
                .header("authorization", format!("DeepL-Auth-Key {}", key.clone().unwrap_or_default()))
                .json(&serde_json::json!({ "text": [text], "target_lang": target.to_uppercase() })),
            Provider::Libretranslate => {
                let mut body = serde_json::json!({ "q": text, "source": "auto", "target": target, "format": "text" });
                if let Some(k) = &key {
                    body["api_key"] = serde_json::Value::String(k.clone());
                }
                http.post(format!("{}/translate", s.url)).json(&body)
            }
        };
        let response = request.send().await.map_err(|e| TranslationError::Unreachable(hide(e.without_url().to_string())))?;
        let status = response.status();
        let body: serde_json::Value = response.json().await.unwrap_or_default();
        if !status.is_success() {
            let said = body.get("message").or_else(|| body.get("error")).and_then(|v| v.as_str()).unwrap_or("no reason given");
            let why = match status.as_u16() {
                401 | 403 => format!("the API key was not accepted ({status}: {said})"),
                429 | 456 => format!("the quota or rate limit is reached ({status}: {said})"),
                _ => format!("{status}: {said}"),
            };
            return Err(TranslationError::Refused(hide(why)));
        }
        let (translated, detected) = match s.provider {
            Provider::Deepl => (body["translations"][0]["text"].as_str(), body["translations"][0]["detected_source_language"].as_str()),
            Provider::Libretranslate => (body["translatedText"].as_str(), body["detectedLanguage"]["language"].as_str()),
        };
        let translated = translated.ok_or_else(|| TranslationError::Refused("the answer held no translation".into()))?;
        Ok(Translation { language: to.to_string(), text: translated.to_string(), detected: detected.and_then(three_letters), provider: s.provider, at: now_ms() })
    }
}
