//! Channel secrets an admin enters in the UI, sealed before they reach the store: a stolen
//! database or backup holds no token without the key, which lives apart from the data (a file
//! or an environment variable). Each value is sealed with XChaCha20-Poly1305 under its channel
//! and setting name, so a sealed value copied to another channel or setting does not open.

use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The environment variable holding the key (64 hex digits), when no key file is given.
pub const KEY_ENV: &str = "HELPDESK_SECRET_KEY";

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("no secret key is configured: start the server with --secret-key-file (or {KEY_ENV}) to store secrets")]
    NoKey,
    #[error("the stored secret `{0}` cannot be opened with this key (a different key, or the data was altered)")]
    WrongKey(String),
    #[error("the secret key {0}")]
    BadKey(String),
}

/// A sealed secret as stored (`channel_secret` table).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SealedSecret {
    pub channel: String,
    pub name: String,
    /// Hex of nonce (24 bytes) then ciphertext.
    pub sealed: String,
    pub updated_at: i64,
}

#[derive(Clone)]
pub struct Vault {
    cipher: Option<XChaCha20Poly1305>,
}

impl Vault {
    /// The key from `file`, else from `HELPDESK_SECRET_KEY`, else none (secrets can then only
    /// come from plugins.toml).
    pub fn load(file: Option<&Path>) -> Result<Self, VaultError> {
        let text = match file {
            Some(f) => Some(std::fs::read_to_string(f).map_err(|e| VaultError::BadKey(format!("file {} cannot be read: {e}", f.display())))?),
            None => std::env::var(KEY_ENV).ok(),
        };
        match text {
            Some(t) => Self::from_hex(t.trim()),
            None => Ok(Vault { cipher: None }),
        }
    }

    pub fn from_hex(hex_key: &str) -> Result<Self, VaultError> {
        let bytes = hex::decode(hex_key).map_err(|_| VaultError::BadKey("must be 64 hex digits (make one with `openssl rand -hex 32`)".into()))?;
        if bytes.len() != 32 {
            return Err(VaultError::BadKey(format!("must be 32 bytes (64 hex digits), not {}", bytes.len())));
        }
        Ok(Vault { cipher: Some(XChaCha20Poly1305::new_from_slice(&bytes).expect("32 bytes")) })
    }

    /// A vault with a fresh key from the OS, for a store that lives no longer than the process
    /// (the demo's).
    pub fn generate() -> Self {
        Vault { cipher: Some(XChaCha20Poly1305::new(&XChaCha20Poly1305::generate_key(&mut OsRng))) }
    }

    pub fn seal(&self, channel: &str, name: &str, value: &str) -> Result<String, VaultError> {
        let cipher = self.cipher.as_ref().ok_or(VaultError::NoKey)?;
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let aad = associated(channel, name);
        let sealed = cipher.encrypt(&nonce, Payload { msg: value.as_bytes(), aad: &aad }).expect("encryption does not fail");
        Ok(hex::encode([nonce.as_slice(), &sealed].concat()))
    }

    pub fn open(&self, secret: &SealedSecret) -> Result<String, VaultError> {
        let cipher = self.cipher.as_ref().ok_or(VaultError::NoKey)?;
        let wrong = || VaultError::WrongKey(secret.name.clone());
        let bytes = hex::decode(&secret.sealed).map_err(|_| wrong())?;
        if bytes.len() < 24 {
            return Err(wrong());
        }
        let (nonce, sealed) = bytes.split_at(24);
        let aad = associated(&secret.channel, &secret.name);
        let plain = cipher.decrypt(XNonce::from_slice(nonce), Payload { msg: sealed, aad: &aad }).map_err(|_| wrong())?;
        String::from_utf8(plain).map_err(|_| wrong())
    }
}

fn associated(channel: &str, name: &str) -> Vec<u8> {
    format!("helpdesk channel secret\0{channel}\0{name}").into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    fn sealed(vault: &Vault, channel: &str, name: &str, value: &str) -> SealedSecret {
        SealedSecret { channel: channel.into(), name: name.into(), sealed: vault.seal(channel, name, value).unwrap(), updated_at: 0 }
    }

    #[test]
    fn a_sealed_secret_opens_with_its_key_and_holds_no_plaintext() {
        let vault = Vault::from_hex(KEY).unwrap();
        let s = sealed(&vault, "tg", "bot_token", "123:secret-token");
        assert!(!s.sealed.contains("secret-token"));
        assert_ne!(s.sealed, vault.seal("tg", "bot_token", "123:secret-token").unwrap(), "a fresh nonce each time");
        assert_eq!(vault.open(&s).unwrap(), "123:secret-token");
    }

    #[test]
    fn another_key_or_another_place_does_not_open_it() {
        let vault = Vault::from_hex(KEY).unwrap();
        let s = sealed(&vault, "tg", "bot_token", "123:secret-token");
        let other = Vault::from_hex(&KEY.replace("00", "ff")).unwrap();
        assert!(matches!(other.open(&s), Err(VaultError::WrongKey(_))));
        let moved = SealedSecret { channel: "other".into(), ..s.clone() };
        assert!(vault.open(&moved).is_err());
        assert!(matches!(Vault { cipher: None }.open(&s), Err(VaultError::NoKey)));
    }

    #[test]
    fn a_malformed_key_is_refused_with_how_to_make_one() {
        let refusal = |key: &str| Vault::from_hex(key).err().expect("refused").to_string();
        assert!(refusal("abc").contains("openssl rand -hex 32"));
        assert!(refusal("abcd").contains("not 2"));
    }
}
