//! Keys (issue 12): stored secrets sealed with a key derived for sealing, bound to their tenant and
//! row; secrets of the first version re-sealed at start and still working; artifact links signed
//! with a separate derived key and refused outright without one (no fallback key); the demo key
//! file readable by its owner only.

use crate::common;

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use app::model::Role;
use base64::Engine as _;
use common::{Backend, TestApp};
use serde_json::json;

const KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

/// What the first version stored: AES-256-GCM with the configured key itself, no binding.
fn seal_v1(plain: &str) -> String {
    let key = base64::engine::general_purpose::STANDARD.decode(KEY).unwrap();
    let cipher = Aes256Gcm::new_from_slice(&key).unwrap();
    let nonce = [3u8; 12];
    let mut blob = nonce.to_vec();
    blob.extend(cipher.encrypt(Nonce::from_slice(&nonce), plain.as_bytes()).unwrap());
    format!("v1:{}", base64::engine::general_purpose::STANDARD.encode(blob))
}

db_test!(first_version_secrets_are_resealed_bound_to_their_row_and_keep_working, |app| {
    let t = app.tenant("acme").await;
    let admin = app.client_as(&t, Role::Admin).await;
    let sink = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::header("x-token", "kept-across-versions"))
        .respond_with(wiremock::ResponseTemplate::new(200))
        .mount(&sink)
        .await;
    let v: serde_json::Value = admin
        .post(app.url("/api/v1/notifications/destinations"))
        .json(&json!({"kind": "webhook", "name": "Old", "config": {"url": format!("{}/hook", sink.uri()), "headers": {"x-token": "placeholder-for-now"}}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = v["id"].as_str().unwrap().to_string();
    let pool = &app.state.db.pool;
    // Rewind it to how the first version stored it.
    let legacy = seal_v1(r#"{"headers":{"x-token":"kept-across-versions"}}"#);
    sqlx::query("UPDATE destinations SET secret_sealed = $1 WHERE id = $2")
        .bind(&legacy)
        .bind(&id)
        .execute(pool)
        .await
        .unwrap();
    // A restart re-seals it.
    let restarted = app.peer().await;
    let stored: String = sqlx::Row::get(
        &sqlx::query("SELECT secret_sealed FROM destinations WHERE id = $1").bind(&id).fetch_one(pool).await.unwrap(),
        0,
    );
    assert!(stored.starts_with("v2:"), "{stored}");
    let outcome = app::engine::destinations::test(&restarted, &t.id, "admin@acme.test", &id).await.unwrap();
    assert!(outcome.ok, "the re-sealed secret still works: {outcome:?}");
    // Copied into another tenant's row, it does not open.
    let other = app.tenant("globex").await;
    let other_admin = app.client_as(&other, Role::Admin).await;
    let w: serde_json::Value = other_admin
        .post(app.url("/api/v1/notifications/destinations"))
        .json(&json!({"kind": "webhook", "name": "Theirs", "config": {"url": format!("{}/hook", sink.uri())}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    sqlx::query("UPDATE destinations SET secret_sealed = $1 WHERE id = $2")
        .bind(&stored)
        .bind(w["id"].as_str().unwrap())
        .execute(pool)
        .await
        .unwrap();
    let r = other_admin
        .get(app.url(&format!("/api/v1/notifications/destinations/{}", w["id"].as_str().unwrap())))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 500, "a sealed value moved to another tenant's row does not open");
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_key_no_link_is_signed_or_accepted() {
    let app = TestApp::start_with(Backend::Sqlite, &[("NARRATE_SECRET_KEY", " ")]).await.unwrap();
    assert!(app.state.config.secret_key.is_none());
    assert!(app::engine::scheduler::runs::sign_link(&app.state, "run", "pdf", i64::MAX).is_err(), "no fallback key");
    let forged = app
        .plain()
        .get(app.url("/api/v1/reports/runs/run/artifacts/pdf?expires=9999999999999&sig=00"))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
}

#[test]
fn the_demo_key_file_is_readable_by_its_owner_only_and_reused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data/secret.key");
    let config = || app::engine::Config::from_lookup(|k| (k == "NARRATE_DEMO").then(|| "1".to_string())).unwrap();
    let mut first = config();
    server::ensure_secret_key_at(&mut first, &path).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let mut second = config();
    server::ensure_secret_key_at(&mut second, &path).unwrap();
    assert_eq!(first.secret_key, second.secret_key, "the same key after a restart");
}
