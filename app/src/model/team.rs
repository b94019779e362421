//! Team and access on the wire (PRODUCT §13): users, API keys, and the signed-in user's own
//! sessions and password. Secrets never appear here: a key is answered once, at creation.

use super::Role;
use serde::{Deserialize, Serialize};

/// Whether a user may sign in.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UserStatus {
    /// May sign in.
    Active,
    /// May not; their sessions were ended when disabled.
    Disabled,
}

/// A user as answered.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserView {
    /// Id.
    pub id: String,
    /// Email (lowercased).
    pub email: String,
    /// Display name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Active or disabled.
    pub status: UserStatus,
    /// Last successful sign-in, RFC 3339.
    pub last_sign_in_at: Option<String>,
    /// RFC 3339.
    pub created_at: String,
}

/// `POST /users` (all required) and `PATCH /users/{id}` (any of role, name, disabled).
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UserInput {
    /// Email (create only).
    #[serde(default)]
    pub email: Option<String>,
    /// Display name, 1–120 characters.
    #[serde(default)]
    pub name: Option<String>,
    /// Role.
    #[serde(default)]
    pub role: Option<Role>,
    /// Initial password (create only), 8–256 characters.
    #[serde(default)]
    pub password: Option<String>,
    /// Disable (true) or re-enable (false).
    #[serde(default)]
    pub disabled: Option<bool>,
}

/// An API key as listed (never the key itself).
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyView {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// The key's first characters, to recognise it.
    pub prefix: String,
    /// RFC 3339.
    pub created_at: String,
    /// Who created it (an email, or `cli`).
    pub created_by: String,
    /// Last use, RFC 3339 (recorded at most once a minute).
    pub last_used_at: Option<String>,
    /// When it stops working, RFC 3339.
    pub expires_at: Option<String>,
}

/// `POST /apikeys`.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApiKeyInput {
    /// Name, 1–120 characters.
    #[serde(default)]
    pub name: Option<String>,
    /// Role.
    #[serde(default)]
    pub role: Option<Role>,
    /// Optional expiry, RFC 3339, in the future.
    #[serde(default)]
    pub expires_at: Option<String>,
}

/// A new key: answered once.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewApiKey {
    /// The key as listed.
    #[serde(flatten)]
    pub view: ApiKeyView,
    /// The key itself (`nk_…`); not stored, not shown again.
    pub key: String,
}

/// One of the signed-in user's sessions.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionView {
    /// A public handle (not the cookie, not its hash).
    pub id: String,
    /// RFC 3339.
    pub created_at: String,
    /// Last request, RFC 3339 (recorded at most once a minute).
    pub last_seen_at: Option<String>,
    /// RFC 3339.
    pub expires_at: String,
    /// The browser that opened it (its User-Agent, shortened).
    pub user_agent: Option<String>,
    /// Whether it is the session making this request.
    pub current: bool,
}

/// `PUT /me/password`.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PasswordChange {
    /// The current password.
    pub current_password: String,
    /// The new one, 8–256 characters.
    pub new_password: String,
}
