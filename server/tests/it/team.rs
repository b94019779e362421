//! Team and access through the API (issue 12): admins manage users and API keys; the last active
//! admin is protected even against two admins demoting each other at once; disabling ends
//! sessions at once; a revoked or expired key stops working on its next request; everyone changes
//! their own password and ends their own sessions; viewers and editors get 403 on every team
//! endpoint and another tenant's ids are 404. Sign-in throttling is per account and address, and
//! a forwarded address is believed only from a trusted proxy.

use crate::common;

use app::model::Role;
use common::{Backend, TestApp, NOW, PASSWORD};
use serde_json::{json, Value};

async fn status_of(r: reqwest::Response) -> (u16, Value) {
    let code = r.status().as_u16();
    (code, r.json().await.unwrap_or(Value::Null))
}

async fn sign_in(app: &TestApp, email: &str, password: &str) -> (reqwest::Client, u16) {
    let c = app.browser();
    let r = c
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap();
    let code = r.status().as_u16();
    (c, code)
}

db_test!(an_admin_adds_re_roles_disables_re_enables_and_removes_a_user, |app| {
    let t = app.tenant("acme").await;
    let admin = app.client_as(&t, Role::Admin).await;
    let (code, ana) = status_of(
        admin
            .post(app.url("/api/v1/users"))
            .json(&json!({"email": "Ana@Acme.test", "name": "Ana Analyst", "role": "viewer", "password": "initial-pass-1"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(code, 201, "{ana}");
    assert_eq!(
        (ana["email"].as_str(), ana["status"].as_str(), ana["lastSignInAt"].clone()),
        (Some("ana@acme.test"), Some("active"), Value::Null)
    );
    let id = ana["id"].as_str().unwrap().to_string();
    let (dup, body) = status_of(
        admin
            .post(app.url("/api/v1/users"))
            .json(&json!({"email": "ana@acme.test", "name": "Again", "role": "viewer", "password": "initial-pass-1"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((dup, body["error"]["code"].as_str()), (409, Some("CONFLICT")));

    let (ana_c, code) = sign_in(&app, "ana@acme.test", "initial-pass-1").await;
    assert_eq!(code, 200);
    assert_eq!(ana_c.get(app.url("/api/v1/me")).send().await.unwrap().json::<Value>().await.unwrap()["role"], "viewer");
    let editor: Value = admin
        .patch(app.url(&format!("/api/v1/users/{id}")))
        .json(&json!({"role": "editor"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(editor["role"], "editor");
    assert_eq!(
        ana_c.get(app.url("/api/v1/me")).send().await.unwrap().json::<Value>().await.unwrap()["role"],
        "editor",
        "the next request has the new role"
    );

    let off: Value = admin
        .patch(app.url(&format!("/api/v1/users/{id}")))
        .json(&json!({"disabled": true}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(off["status"], "disabled");
    assert_eq!(
        ana_c.get(app.url("/api/v1/me")).send().await.unwrap().status(),
        401,
        "disabling ends the session at once"
    );
    let (_, code) = sign_in(&app, "ana@acme.test", "initial-pass-1").await;
    assert_eq!(code, 403, "a disabled user cannot sign in");
    let (_, code) = sign_in(&app, "ana@acme.test", "wrong-password!").await;
    assert_eq!(code, 401, "a wrong password does not reveal that the account is disabled");

    admin.patch(app.url(&format!("/api/v1/users/{id}"))).json(&json!({"disabled": false})).send().await.unwrap();
    let (_, code) = sign_in(&app, "ana@acme.test", "initial-pass-1").await;
    assert_eq!(code, 200, "re-enabled");
    let list: Value = admin.get(app.url("/api/v1/users")).send().await.unwrap().json().await.unwrap();
    let row = list["data"].as_array().unwrap().iter().find(|u| u["id"] == id.as_str()).unwrap().clone();
    assert!(row["lastSignInAt"].as_str().is_some(), "{row}");

    assert_eq!(admin.delete(app.url(&format!("/api/v1/users/{id}"))).send().await.unwrap().status(), 204);
    assert_eq!(
        admin
            .patch(app.url(&format!("/api/v1/users/{id}")))
            .json(&json!({"role": "viewer"}))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    let mut audit: Vec<String> = sqlx::query("SELECT action FROM audit_log WHERE target_id = $1")
        .bind(&id)
        .fetch_all(&app.state.db.pool)
        .await
        .unwrap()
        .iter()
        .map(|r| sqlx::Row::get(r, 0))
        .collect();
    audit.sort();
    assert_eq!(
        audit,
        ["user.create", "user.delete", "user.update", "user.update", "user.update"],
        "every change audited"
    );
});

db_test!(the_last_active_admin_cannot_be_demoted_disabled_or_removed_even_by_two_admins_at_once, |app| {
    let t = app.tenant("acme").await;
    let admin = app.client_as(&t, Role::Admin).await;
    let me: Value = admin.get(app.url("/api/v1/users")).send().await.unwrap().json().await.unwrap();
    let my_id = me["data"].as_array().unwrap().iter().find(|u| u["role"] == "admin").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    for body in [json!({"role": "editor"}), json!({"disabled": true})] {
        let (code, e) =
            status_of(admin.patch(app.url(&format!("/api/v1/users/{my_id}"))).json(&body).send().await.unwrap()).await;
        assert_eq!(code, 422, "{e}");
        assert!(e["error"]["message"].as_str().unwrap().contains("last active admin"), "{e}");
    }
    assert_eq!(admin.delete(app.url(&format!("/api/v1/users/{my_id}"))).send().await.unwrap().status(), 422);
    // A second admin: now each may demote the other — but not both at once.
    let (_, second) = status_of(
        admin
            .post(app.url("/api/v1/users"))
            .json(&json!({"email": "bo@acme.test", "name": "Bo", "role": "admin", "password": "second-admin-pw"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let (bo, _) = sign_in(&app, "bo@acme.test", "second-admin-pw").await;
    let second_id = second["id"].as_str().unwrap().to_string();
    let (a, b) = tokio::join!(
        admin.patch(app.url(&format!("/api/v1/users/{second_id}"))).json(&json!({"role": "viewer"})).send(),
        bo.patch(app.url(&format!("/api/v1/users/{my_id}"))).json(&json!({"role": "viewer"})).send(),
    );
    let mut codes = [a.unwrap().status().as_u16(), b.unwrap().status().as_u16()];
    codes.sort();
    // The loser is refused as the last admin (422) or, if it was demoted before its own request
    // was authorised, as no longer an admin (403).
    assert!(codes == [200, 422] || codes == [200, 403], "exactly one demotion wins: {codes:?}");
    let admins: i64 = sqlx::Row::get(
        &sqlx::query("SELECT COUNT(*) FROM users WHERE tenant_id = $1 AND role = 'admin' AND disabled_at IS NULL")
            .bind(&t.id)
            .fetch_one(&app.state.db.pool)
            .await
            .unwrap(),
        0,
    );
    assert_eq!(admins, 1);
});

db_test!(viewers_and_editors_get_403_on_every_team_endpoint_and_other_tenants_ids_are_404, |app| {
    let t = app.tenant("acme").await;
    let other = app.tenant("globex").await;
    let admin = app.client_as(&t, Role::Admin).await;
    let users: Value = admin.get(app.url("/api/v1/users")).send().await.unwrap().json().await.unwrap();
    let uid = users["data"][0]["id"].as_str().unwrap().to_string();
    let key: Value = admin
        .post(app.url("/api/v1/apikeys"))
        .json(&json!({"name": "ingest", "role": "editor"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let kid = key["id"].as_str().unwrap().to_string();
    for role in [Role::Viewer, Role::Editor] {
        let c = app.client_as(&t, role).await;
        let calls = [
            c.get(app.url("/api/v1/users")).send().await,
            c.post(app.url("/api/v1/users"))
                .json(&json!({"email": "x@acme.test", "name": "X", "role": "admin", "password": "whatever-123"}))
                .send()
                .await,
            c.patch(app.url(&format!("/api/v1/users/{uid}"))).json(&json!({"role": "admin"})).send().await,
            c.delete(app.url(&format!("/api/v1/users/{uid}"))).send().await,
            c.get(app.url("/api/v1/apikeys")).send().await,
            c.post(app.url("/api/v1/apikeys")).json(&json!({"name": "mine", "role": "admin"})).send().await,
            c.delete(app.url(&format!("/api/v1/apikeys/{kid}"))).send().await,
        ];
        for r in calls {
            assert_eq!(r.unwrap().status(), 403, "{role}");
        }
    }
    let stranger = app.client_as(&other, Role::Admin).await;
    assert_eq!(
        stranger
            .patch(app.url(&format!("/api/v1/users/{uid}")))
            .json(&json!({"role": "viewer"}))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(stranger.delete(app.url(&format!("/api/v1/users/{uid}"))).send().await.unwrap().status(), 404);
    assert_eq!(stranger.delete(app.url(&format!("/api/v1/apikeys/{kid}"))).send().await.unwrap().status(), 404);
    let theirs: Value = stranger.get(app.url("/api/v1/users")).send().await.unwrap().json().await.unwrap();
    assert!(theirs["data"].as_array().unwrap().iter().all(|u| u["email"].as_str().unwrap().ends_with("@globex.test")));
});

db_test!(an_api_key_is_shown_once_works_until_revoked_or_expired_and_notes_its_use_once_a_minute, |app| {
    let t = app.tenant("acme").await;
    let admin = app.client_as(&t, Role::Admin).await;
    let expires = "2026-12-01T12:00:00Z"; // a day after NOW
    let (code, k) = status_of(
        admin
            .post(app.url("/api/v1/apikeys"))
            .json(&json!({"name": "Ingest job", "role": "editor", "expiresAt": expires}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(code, 201, "{k}");
    let key = k["key"].as_str().unwrap().to_string();
    assert!(key.starts_with("nk_") && key.starts_with(k["prefix"].as_str().unwrap()));
    assert_eq!((k["createdBy"].as_str(), k["expiresAt"].as_str()), (Some("admin@acme.test"), Some(expires)));
    let listed = admin.get(app.url("/api/v1/apikeys")).send().await.unwrap().text().await.unwrap();
    assert!(!listed.contains(&key), "the key is answered once, never listed");
    let me = |key: String| {
        let c = app.plain();
        let url = app.url("/api/v1/me");
        async move { c.get(url).header("x-api-key", key).send().await.unwrap().status().as_u16() }
    };
    assert_eq!(me(key.clone()).await, 200);
    let used = |app: &TestApp| {
        let pool = app.state.db.pool.clone();
        async move {
            let r = sqlx::query("SELECT last_used_at FROM api_keys WHERE name = 'Ingest job'")
                .fetch_one(&pool)
                .await
                .unwrap();
            app::engine::db::get_opt_i64(&r, "last_used_at")
        }
    };
    assert_eq!(used(&app).await, Some(NOW));
    app.state.clock.advance(30_000);
    me(key.clone()).await;
    assert_eq!(used(&app).await, Some(NOW), "not rewritten within the minute");
    app.state.clock.advance(31_000);
    me(key.clone()).await;
    assert_eq!(used(&app).await, Some(NOW + 61_000));
    app.state.clock.advance(86_400_000);
    assert_eq!(me(key.clone()).await, 401, "expired");

    let admin = app.client_as(&t, Role::Admin).await; // sessions last hours, not days
    let k2: Value = admin
        .post(app.url("/api/v1/apikeys"))
        .json(&json!({"name": "Other", "role": "viewer"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key2 = k2["key"].as_str().unwrap().to_string();
    assert_eq!(me(key2.clone()).await, 200);
    assert_eq!(
        admin
            .delete(app.url(&format!("/api/v1/apikeys/{}", k2["id"].as_str().unwrap())))
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert_eq!(me(key2).await, 401, "revoked: refused on the next request");
    let (code, e) = status_of(
        admin
            .post(app.url("/api/v1/apikeys"))
            .json(&json!({"name": "Past", "role": "viewer", "expiresAt": "2020-01-01T00:00:00Z"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((code, e["error"]["details"][0]["field"].as_str()), (422, Some("expiresAt")));
});

db_test!(a_user_changes_their_password_and_ends_their_own_sessions, |app| {
    let t = app.tenant("acme").await;
    let email = t.emails[&Role::Viewer].clone();
    let (laptop, _) = sign_in(&app, &email, PASSWORD).await;
    let (phone, _) = sign_in(&app, &email, PASSWORD).await;
    let sessions: Value = laptop.get(app.url("/api/v1/me/sessions")).send().await.unwrap().json().await.unwrap();
    let list = sessions["data"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list.iter().filter(|s| s["current"] == true).count(), 1);
    assert!(!sessions.to_string().contains("token"), "no token or hash is answered");
    let (code, e) = status_of(
        laptop
            .put(app.url("/api/v1/me/password"))
            .json(&json!({"currentPassword": "not-it-at-all", "newPassword": "a-new-password"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((code, e["error"]["details"][0]["field"].as_str()), (422, Some("currentPassword")));
    let ok = laptop
        .put(app.url("/api/v1/me/password"))
        .json(&json!({"currentPassword": PASSWORD, "newPassword": "a-new-password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 204);
    assert_eq!(laptop.get(app.url("/api/v1/me")).send().await.unwrap().status(), 200, "this session goes on");
    assert_eq!(phone.get(app.url("/api/v1/me")).send().await.unwrap().status(), 401, "every other session ended");
    assert_eq!(sign_in(&app, &email, PASSWORD).await.1, 401);
    let (tablet, code) = sign_in(&app, &email, "a-new-password").await;
    assert_eq!(code, 200);
    let r = laptop.delete(app.url("/api/v1/me/sessions")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["set-cookie"].to_str().unwrap().contains("Max-Age=0"));
    assert_eq!(tablet.get(app.url("/api/v1/me")).send().await.unwrap().status(), 401, "signed out everywhere");
    let key = app.api_key(&t, Role::Admin).await;
    let r = app.plain().get(app.url("/api/v1/me/sessions")).header("x-api-key", key).send().await.unwrap();
    assert_eq!(r.status(), 403, "an API key has no sessions");
});

db_test!(overlong_emails_are_refused_before_any_password_work, |app| {
    let t = app.tenant("acme").await;
    let long = format!("{}@acme.test", "a".repeat(300));
    let (_, code) = sign_in(&app, &long, PASSWORD).await;
    assert_eq!(code, 422);
    let admin = app.client_as(&t, Role::Admin).await;
    let (code, e) = status_of(
        admin
            .post(app.url("/api/v1/users"))
            .json(&json!({"email": long, "name": "L", "role": "viewer", "password": "long-enough-1"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((code, e["error"]["details"][0]["field"].as_str()), (422, Some("email")));
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forwarded_address_counts_only_from_a_trusted_proxy() {
    for (trusted, independent) in [(Some("127.0.0.1"), true), (None, false)] {
        let vars: Vec<(&str, &str)> = trusted.map(|p| vec![("NARRATE_TRUSTED_PROXIES", p)]).unwrap_or_default();
        let app = TestApp::start_with(Backend::Sqlite, &vars).await.unwrap();
        let t = app.tenant("acme").await;
        let email = t.emails[&Role::Viewer].clone();
        let attempt = |from: &'static str| {
            let c = app.browser();
            let (url, email) = (app.url("/api/v1/auth/login"), email.clone());
            async move {
                c.post(url)
                    .header("x-forwarded-for", from)
                    .json(&json!({"email": email, "password": "wrong-password"}))
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            }
        };
        for _ in 0..5 {
            assert_eq!(attempt("203.0.113.1").await, 401);
        }
        assert_eq!(attempt("203.0.113.1").await, 429);
        let other = attempt("198.51.100.2").await;
        if independent {
            assert_eq!(other, 401, "behind a trusted proxy, another client address has its own count");
        } else {
            assert_eq!(other, 429, "without one, a forged X-Forwarded-For changes nothing");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_sessions_are_purged_by_the_housekeeping() {
    let app = TestApp::start_with(Backend::Sqlite, &[("NARRATE_RUN_LEASE_SECS", "2")]).await.unwrap();
    let t = app.tenant("acme").await;
    app.client_as(&t, Role::Viewer).await;
    let count = || async {
        let r = sqlx::query("SELECT COUNT(*) AS n FROM sessions").fetch_one(&app.state.db.pool).await.unwrap();
        app::engine::db::get_i64(&r, "n")
    };
    assert_eq!(count().await, 1);
    app.state.clock.advance(13 * 3_600_000); // past the 12-hour session
    for _ in 0..50 {
        if count().await == 0 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the expired session was never purged");
}

db_test!(a_body_that_is_not_a_json_object_is_refused_and_changes_nothing, |app| {
    let t = app.tenant("acme").await;
    let admin = app.client_as(&t, Role::Admin).await;
    let (code, ana) = status_of(
        admin
            .post(app.url("/api/v1/users"))
            .json(&json!({"email": "ana@acme.test", "name": "Ana", "role": "viewer", "password": "initial-pass-1"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(code, 201, "{ana}");
    let url = app.url(&format!("/api/v1/users/{}", ana["id"].as_str().unwrap()));
    // serde's derived structs take an array of their fields in order: `[]` was an empty update (200).
    for body in [json!([]), json!(["editor"]), json!("x"), json!(null)] {
        let (code, e) = status_of(admin.patch(&url).json(&body).send().await.unwrap()).await;
        assert_eq!(code, 422, "{body}: {e}");
        assert_eq!(e["error"]["code"], "VALIDATION_ERROR", "{e}");
    }
    let (code, e) = status_of(admin.post(app.url("/api/v1/users")).json(&json!([])).send().await.unwrap()).await;
    assert_eq!(code, 422, "{e}");
    let (_, list) = status_of(admin.get(app.url("/api/v1/users")).send().await.unwrap()).await;
    let now = list["data"].as_array().unwrap().iter().find(|u| u["id"] == ana["id"]).cloned().unwrap();
    assert_eq!((&now["role"], &now["name"]), (&json!("viewer"), &json!("Ana")), "nothing changed: {now}");
});
