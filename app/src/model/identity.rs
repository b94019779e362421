//! Who is signed in: roles and the view of the current user.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A user's or API key's role; each role includes everything the one before it may do.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Sees dashboards, exports, reads reports and runs.
    Viewer,
    /// Also saves reports, edits templates and schedules, runs reports now.
    Editor,
    /// Also manages destinations, the AI provider, users and API keys.
    Admin,
}

impl Role {
    /// The lowercase name stored in the database and sent on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Editor => "editor",
            Role::Admin => "admin",
        }
    }

    /// Whether this role includes everything `needed` may do.
    pub fn allows(self, needed: Role) -> bool {
        self >= needed
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "viewer" => Ok(Role::Viewer),
            "editor" => Ok(Role::Editor),
            "admin" => Ok(Role::Admin),
            other => Err(format!("unknown role '{other}': expected viewer, editor or admin")),
        }
    }
}

/// The tenant as the signed-in user sees it.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantView {
    /// Short unique name, e.g. `acme`.
    pub slug: String,
    /// Display name, e.g. `Acme`.
    pub name: String,
}

/// `GET /api/v1/me`: the signed-in user.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    /// The user's email (or the API key's name for key callers).
    pub email: String,
    /// The effective role.
    pub role: Role,
    /// The tenant the caller belongs to.
    pub tenant: TenantView,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered_so_admin_may_do_what_an_editor_may() {
        assert!(Role::Admin.allows(Role::Editor));
        assert!(Role::Editor.allows(Role::Viewer));
        assert!(!Role::Viewer.allows(Role::Editor));
        assert!(!Role::Editor.allows(Role::Admin));
    }

    #[test]
    fn role_names_round_trip_and_unknown_names_are_refused() {
        for r in [Role::Viewer, Role::Editor, Role::Admin] {
            assert_eq!(r.as_str().parse::<Role>().unwrap(), r);
        }
        assert!("owner".parse::<Role>().unwrap_err().contains("owner"));
    }
}
