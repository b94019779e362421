//! Secrets at rest and signed links, from one configured key (`NARRATE_SECRET_KEY`).
//!
//! - Separate keys for separate jobs: the sealing key and the link-signing key are derived from the
//!   configured key with HKDF-SHA256 (RFC 5869) under their own labels, so neither can stand in
//!   for the other.
//! - Sealed values are AES-256-GCM, stored as `v2:<base64 nonce ‖ ciphertext>`, and bound to where
//!   they live (tenant and row) as associated data: a sealed value copied into another tenant's
//!   row does not open. Values of the first version (`v1:`, the raw key, no binding) still open,
//!   and are re-sealed as `v2` at start ([`crate::engine::secrets::reseal_legacy`]).
//! - No fallback key anywhere: without a key nothing is sealed, opened or signed (fail closed).
//!
//! Decrypted values live only in memory, never in logs or answers; the API shows [`PLACEHOLDER`]
//! instead, and an edit that sends the placeholder back keeps the stored secret.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

/// What APIs return in place of a secret.
pub const PLACEHOLDER: &str = "••••••••";

/// Encryption failures (never contain the secret).
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    /// No key configured.
    #[error("NARRATE_SECRET_KEY is not configured, so secrets cannot be stored or links signed")]
    NoKey,
    /// Wrong key, wrong place or corrupted value.
    #[error("a stored secret could not be decrypted (was NARRATE_SECRET_KEY changed?)")]
    Decrypt,
}

/// HKDF-SHA256 (RFC 5869) of `ikm` with `salt` and `info`, 32 bytes out.
pub fn hkdf_sha256(salt: &[u8], ikm: &[u8], info: &[u8]) -> [u8; 32] {
    let mut extract = <Hmac<Sha256> as Mac>::new_from_slice(salt).expect("HMAC takes any key");
    extract.update(ikm);
    let prk = extract.finalize().into_bytes();
    let mut expand = <Hmac<Sha256> as Mac>::new_from_slice(&prk).expect("HMAC takes any key");
    expand.update(info);
    expand.update(&[1]);
    expand.finalize().into_bytes().into()
}

const SALT: &[u8] = b"narrate/keys";

/// The key that seals secrets at rest.
pub fn sealing_key(master: &[u8; 32]) -> [u8; 32] {
    hkdf_sha256(SALT, master, b"narrate/seal/v2")
}

/// The key that signs artifact download links.
pub fn link_key(master: &[u8; 32]) -> [u8; 32] {
    hkdf_sha256(SALT, master, b"narrate/links/v1")
}

/// Seals `plain` for the place `context` names (e.g. `destination\0<tenant>\0<id>`).
pub fn seal(master: Option<&[u8; 32]>, plain: &str, context: &str) -> Result<String, CryptoError> {
    let key = sealing_key(master.ok_or(CryptoError::NoKey)?);
    let cipher = Aes256Gcm::new_from_slice(&key).map_err(|_| CryptoError::NoKey)?;
    let mut nonce = [0u8; 12];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let ct = cipher
        .encrypt(Nonce::from_slice(&nonce), Payload { msg: plain.as_bytes(), aad: context.as_bytes() })
        .map_err(|_| CryptoError::Decrypt)?;
    let mut blob = nonce.to_vec();
    blob.extend(ct);
    Ok(format!("v2:{}", base64::engine::general_purpose::STANDARD.encode(blob)))
}

/// Opens a sealed secret stored at `context`. A `v1:` value (first version) opens with the raw
/// key and no binding; [`is_legacy`] tells the caller to re-seal it.
pub fn open(master: Option<&[u8; 32]>, sealed: &str, context: &str) -> Result<String, CryptoError> {
    let master = master.ok_or(CryptoError::NoKey)?;
    let (key, b64, aad): ([u8; 32], &str, &[u8]) = if let Some(b) = sealed.strip_prefix("v2:") {
        (sealing_key(master), b, context.as_bytes())
    } else if let Some(b) = sealed.strip_prefix("v1:") {
        (*master, b, b"")
    } else {
        return Err(CryptoError::Decrypt);
    };
    let blob = base64::engine::general_purpose::STANDARD.decode(b64).map_err(|_| CryptoError::Decrypt)?;
    if blob.len() < 13 {
        return Err(CryptoError::Decrypt);
    }
    let cipher = Aes256Gcm::new_from_slice(&key).map_err(|_| CryptoError::NoKey)?;
    let plain = cipher
        .decrypt(Nonce::from_slice(&blob[..12]), Payload { msg: &blob[12..], aad })
        .map_err(|_| CryptoError::Decrypt)?;
    String::from_utf8(plain).map_err(|_| CryptoError::Decrypt)
}

/// Whether a sealed value is of the first version (to be re-sealed).
pub fn is_legacy(sealed: &str) -> bool {
    sealed.starts_with("v1:")
}

/// The place a destination's secrets are bound to.
pub fn destination_context(tenant_id: &str, id: &str) -> String {
    format!("destination\0{tenant_id}\0{id}")
}

/// The place a tenant's AI provider secrets are bound to (`column` tells the two apart).
pub fn ai_context(tenant_id: &str, column: &str) -> String {
    format!("ai\0{tenant_id}\0{column}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hkdf_matches_rfc_5869_test_case_1() {
        // RFC 5869, Appendix A.1 (SHA-256): the first 32 bytes of its 42-byte OKM.
        let ikm = [0x0bu8; 22];
        let salt: Vec<u8> = (0x00..=0x0c).collect();
        let info: Vec<u8> = (0xf0..=0xf9).collect();
        let okm = hkdf_sha256(&salt, &ikm, &info);
        assert_eq!(hex::encode(okm), "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf");
    }

    #[test]
    fn sealed_secrets_round_trip_only_in_their_own_place() {
        let key = [7u8; 32];
        let here = destination_context("t1", "d1");
        let s = seal(Some(&key), "sk-live-secret", &here).unwrap();
        assert!(s.starts_with("v2:") && !s.contains("sk-live-secret"));
        assert_ne!(s, seal(Some(&key), "sk-live-secret", &here).unwrap(), "fresh nonce each time");
        assert_eq!(open(Some(&key), &s, &here).unwrap(), "sk-live-secret");
        assert!(
            open(Some(&key), &s, &destination_context("t2", "d1")).is_err(),
            "copied to another tenant, it does not open"
        );
        assert!(open(Some(&key), &s, &destination_context("t1", "d2")).is_err(), "nor in another row");
        assert!(open(Some(&[8u8; 32]), &s, &here).is_err(), "another key cannot open it");
        assert!(matches!(seal(None, "x", &here), Err(CryptoError::NoKey)));
    }

    #[test]
    fn the_sealing_and_signing_keys_differ_from_each_other_and_from_the_configured_key() {
        let master = [9u8; 32];
        assert_ne!(sealing_key(&master), link_key(&master));
        assert_ne!(sealing_key(&master), master);
        assert_ne!(link_key(&master), master);
    }

    #[test]
    fn a_first_version_value_still_opens_and_is_flagged_for_resealing() {
        use aes_gcm::aead::Aead;
        let key = [7u8; 32];
        let cipher = Aes256Gcm::new_from_slice(&key).unwrap();
        let nonce = [1u8; 12];
        let mut blob = nonce.to_vec();
        blob.extend(cipher.encrypt(Nonce::from_slice(&nonce), b"old-secret".as_ref()).unwrap());
        let v1 = format!("v1:{}", base64::engine::general_purpose::STANDARD.encode(blob));
        assert!(is_legacy(&v1));
        assert_eq!(open(Some(&key), &v1, "anywhere").unwrap(), "old-secret");
    }
}
