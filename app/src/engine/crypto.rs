//! Secrets at rest: AES-256-GCM with a key from configuration (`NARRATE_SECRET_KEY`). Stored as
//! `v1:<base64 nonce ‖ ciphertext>`. Decrypted values live only in memory, never in logs or
//! answers; the API shows [`PLACEHOLDER`] instead, and an edit that sends the placeholder back
//! keeps the stored secret.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use rand::RngCore;

/// What APIs return in place of a secret.
pub const PLACEHOLDER: &str = "••••••••";

/// Encryption failures (never contain the secret).
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    /// No key configured.
    #[error("NARRATE_SECRET_KEY is not configured, so secrets cannot be stored")]
    NoKey,
    /// Wrong key or corrupted value.
    #[error("a stored secret could not be decrypted (was NARRATE_SECRET_KEY changed?)")]
    Decrypt,
}

/// A sealed secret.
pub fn seal(key: Option<&[u8; 32]>, plain: &str) -> Result<String, CryptoError> {
    let key = key.ok_or(CryptoError::NoKey)?;
    let cipher = Aes256Gcm::new_from_slice(key).map_err(|_| CryptoError::NoKey)?;
    let mut nonce = [0u8; 12];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let ct = cipher.encrypt(Nonce::from_slice(&nonce), plain.as_bytes()).map_err(|_| CryptoError::Decrypt)?;
    let mut blob = nonce.to_vec();
    blob.extend(ct);
    Ok(format!("v1:{}", base64::engine::general_purpose::STANDARD.encode(blob)))
}

/// Opens a sealed secret.
pub fn open(key: Option<&[u8; 32]>, sealed: &str) -> Result<String, CryptoError> {
    let key = key.ok_or(CryptoError::NoKey)?;
    let b64 = sealed.strip_prefix("v1:").ok_or(CryptoError::Decrypt)?;
    let blob = base64::engine::general_purpose::STANDARD.decode(b64).map_err(|_| CryptoError::Decrypt)?;
    if blob.len() < 13 {
        return Err(CryptoError::Decrypt);
    }
    let cipher = Aes256Gcm::new_from_slice(key).map_err(|_| CryptoError::NoKey)?;
    let plain = cipher.decrypt(Nonce::from_slice(&blob[..12]), &blob[12..]).map_err(|_| CryptoError::Decrypt)?;
    String::from_utf8(plain).map_err(|_| CryptoError::Decrypt)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secrets_round_trip_and_do_not_contain_the_plaintext() {
        let key = [7u8; 32];
        let s = seal(Some(&key), "sk-live-secret").unwrap();
        assert!(!s.contains("sk-live-secret"));
        assert_ne!(s, seal(Some(&key), "sk-live-secret").unwrap(), "fresh nonce each time");
        assert_eq!(open(Some(&key), &s).unwrap(), "sk-live-secret");
        assert!(open(Some(&[8u8; 32]), &s).is_err(), "another key cannot open it");
        assert!(matches!(seal(None, "x"), Err(CryptoError::NoKey)));
    }
}
