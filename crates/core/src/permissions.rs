//! Every permission decision of the registry, as pure functions over who acts and what they touch.
//!
//! Roles: `admin` may do everything; `coordinator` edits everything inside the frameworks it is
//! granted; `staff` edits only records its own organisation owns and reads its frameworks;
//! `viewer` reads its frameworks. Anonymous visitors read only what is marked public.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Coordinator,
    Staff,
    Viewer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Coordinator => "coordinator",
            Role::Staff => "staff",
            Role::Viewer => "viewer",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "admin" => Some(Role::Admin),
            "coordinator" => Some(Role::Coordinator),
            "staff" => Some(Role::Staff),
            "viewer" => Some(Role::Viewer),
            _ => None,
        }
    }
}

/// A role, scoped to a framework where the role needs one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub role: Role,
    pub framework_id: Option<i64>,
}

/// The signed-in user a request acts for.
#[derive(Debug, Clone, Serialize)]
pub struct Actor {
    pub user_id: Option<i64>,
    pub username: String,
    pub display_name: String,
    pub organisation_id: Option<i64>,
    pub grants: Vec<Grant>,
}

impl Actor {
    /// The command line acting on the operator's behalf (demo loading, user management).
    pub fn system(name: &str) -> Actor {
        Actor {
            user_id: None,
            username: name.to_string(),
            display_name: name.to_string(),
            organisation_id: None,
            grants: vec![Grant {
                role: Role::Admin,
                framework_id: None,
            }],
        }
    }

    pub fn is_admin(&self) -> bool {
        self.grants.iter().any(|g| g.role == Role::Admin)
    }

    pub fn has_role_in(&self, role: Role, framework_id: i64) -> bool {
        self.grants
            .iter()
            .any(|g| g.role == role && g.framework_id == Some(framework_id))
    }

    pub fn has_role(&self, role: Role) -> bool {
        self.grants.iter().any(|g| g.role == role)
    }

    /// Frameworks this actor may read; `None` means all of them.
    pub fn readable_frameworks(&self) -> Option<Vec<i64>> {
        if self.is_admin() {
            return None;
        }
        let mut ids: Vec<i64> = self.grants.iter().filter_map(|g| g.framework_id).collect();
        ids.sort_unstable();
        ids.dedup();
        Some(ids)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Read,
    Create,
    Update,
    Delete,
}

/// What kind of record is touched; some rules differ by kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Region,
    Organisation,
    Framework,
    Body,
    Pairing,
    User,
    Calendar,
    Audit,
    /// A framework-scoped record of a feature crate (a task, a project, a report…): read by the
    /// framework's readers, written by its coordinators or the owning organisation's staff.
    Record,
}

/// The facts about a record that decisions depend on.
#[derive(Debug, Clone)]
pub struct Resource {
    pub kind: Kind,
    /// The frameworks the record belongs to (empty for registry-wide records).
    pub frameworks: Vec<i64>,
    /// The organisation that owns the record, if any.
    pub owner_org: Option<i64>,
    pub public: bool,
}

impl Resource {
    pub fn new(kind: Kind) -> Self {
        Resource {
            kind,
            frameworks: vec![],
            owner_org: None,
            public: false,
        }
    }

    pub fn in_framework(mut self, id: i64) -> Self {
        self.frameworks.push(id);
        self
    }

    pub fn owned_by(mut self, org: Option<i64>) -> Self {
        self.owner_org = org;
        self
    }

    pub fn public(mut self, public: bool) -> Self {
        self.public = public;
        self
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// Nobody is signed in and the record is not public.
    NeedsLogin,
    Deny,
}

/// The one place that decides whether `actor` may do `action` on `resource`.
pub fn decide(actor: Option<&Actor>, action: Action, resource: &Resource) -> Decision {
    let Some(actor) = actor else {
        return if action == Action::Read && resource.public {
            Decision::Allow
        } else {
            Decision::NeedsLogin
        };
    };
    if actor.is_admin() {
        return Decision::Allow;
    }
    let allowed = match action {
        Action::Read => may_read(actor, resource),
        Action::Create | Action::Update | Action::Delete => may_write(actor, action, resource),
    };
    if allowed {
        Decision::Allow
    } else {
        Decision::Deny
    }
}

fn may_read(actor: &Actor, r: &Resource) -> bool {
    match r.kind {
        Kind::User | Kind::Calendar | Kind::Audit if !r.public => false,
        _ if r.public || r.frameworks.is_empty() => true,
        _ => {
            r.frameworks
                .iter()
                .any(|f| actor.grants.iter().any(|g| g.framework_id == Some(*f)))
                || owns(actor, r)
        }
    }
}

fn may_write(actor: &Actor, action: Action, r: &Resource) -> bool {
    match r.kind {
        // Registry-wide reference data and accounts are the administrators' job.
        Kind::Region | Kind::User | Kind::Calendar | Kind::Audit | Kind::Framework
            if action == Action::Create =>
        {
            false
        }
        Kind::Region | Kind::User | Kind::Calendar | Kind::Audit => false,
        // Coordinators register the units they work with; staff keep their own unit's record.
        Kind::Organisation => match action {
            Action::Create => actor.has_role(Role::Coordinator),
            _ => {
                owns(actor, r) && (actor.has_role(Role::Staff) || actor.has_role(Role::Coordinator))
            }
        },
        Kind::Framework | Kind::Body | Kind::Pairing | Kind::Record => {
            r.frameworks
                .iter()
                .any(|f| actor.has_role_in(Role::Coordinator, *f))
                || (action != Action::Create && actor.has_role(Role::Staff) && owns(actor, r))
        }
    }
}

fn owns(actor: &Actor, r: &Resource) -> bool {
    matches!((actor.organisation_id, r.owner_org), (Some(a), Some(b)) if a == b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(org: i64, grants: &[(Role, Option<i64>)]) -> Actor {
        Actor {
            user_id: Some(1),
            username: "u".into(),
            display_name: "u".into(),
            organisation_id: Some(org),
            grants: grants
                .iter()
                .map(|&(role, framework_id)| Grant { role, framework_id })
                .collect(),
        }
    }

    fn pairing(framework: i64, owner: Option<i64>) -> Resource {
        Resource::new(Kind::Pairing)
            .in_framework(framework)
            .owned_by(owner)
    }

    #[test]
    fn anonymous_visitors_read_only_public_records() {
        assert_eq!(
            decide(None, Action::Read, &pairing(1, None).public(true)),
            Decision::Allow
        );
        assert_eq!(
            decide(None, Action::Read, &pairing(1, None)),
            Decision::NeedsLogin
        );
        assert_eq!(
            decide(None, Action::Create, &pairing(1, None).public(true)),
            Decision::NeedsLogin
        );
    }

    #[test]
    fn admins_may_do_everything() {
        let a = actor(1, &[(Role::Admin, None)]);
        for action in [Action::Read, Action::Create, Action::Update, Action::Delete] {
            assert_eq!(
                decide(Some(&a), action, &Resource::new(Kind::User)),
                Decision::Allow
            );
        }
    }

    #[test]
    fn coordinators_edit_inside_their_frameworks_only() {
        let c = actor(9, &[(Role::Coordinator, Some(1))]);
        assert_eq!(
            decide(Some(&c), Action::Create, &pairing(1, None)),
            Decision::Allow
        );
        assert_eq!(
            decide(Some(&c), Action::Update, &pairing(2, None)),
            Decision::Deny
        );
        assert_eq!(
            decide(Some(&c), Action::Read, &pairing(2, None)),
            Decision::Deny
        );
        assert_eq!(
            decide(Some(&c), Action::Create, &Resource::new(Kind::Framework)),
            Decision::Deny
        );
        assert_eq!(
            decide(
                Some(&c),
                Action::Update,
                &Resource::new(Kind::Framework).in_framework(1)
            ),
            Decision::Allow
        );
        assert_eq!(
            decide(Some(&c), Action::Create, &Resource::new(Kind::User)),
            Decision::Deny
        );
    }

    #[test]
    fn staff_edit_only_what_their_organisation_owns() {
        let s = actor(5, &[(Role::Staff, Some(1))]);
        assert_eq!(
            decide(Some(&s), Action::Update, &pairing(1, Some(5))),
            Decision::Allow
        );
        assert_eq!(
            decide(Some(&s), Action::Update, &pairing(1, Some(6))),
            Decision::Deny
        );
        assert_eq!(
            decide(Some(&s), Action::Create, &pairing(1, Some(5))),
            Decision::Deny
        );
        assert_eq!(
            decide(Some(&s), Action::Read, &pairing(1, Some(6))),
            Decision::Allow
        );
        let own_org = Resource::new(Kind::Organisation).owned_by(Some(5));
        assert_eq!(decide(Some(&s), Action::Update, &own_org), Decision::Allow);
        let other_org = Resource::new(Kind::Organisation).owned_by(Some(6));
        assert_eq!(decide(Some(&s), Action::Update, &other_org), Decision::Deny);
    }

    #[test]
    fn viewers_only_read_their_frameworks() {
        let v = actor(5, &[(Role::Viewer, Some(1))]);
        assert_eq!(
            decide(Some(&v), Action::Read, &pairing(1, Some(5))),
            Decision::Allow
        );
        assert_eq!(
            decide(Some(&v), Action::Read, &pairing(2, None)),
            Decision::Deny
        );
        assert_eq!(
            decide(Some(&v), Action::Update, &pairing(1, Some(5))),
            Decision::Deny
        );
        assert_eq!(
            decide(Some(&v), Action::Read, &Resource::new(Kind::Audit)),
            Decision::Deny
        );
    }

    #[test]
    fn registry_wide_records_are_readable_by_anyone_signed_in() {
        let v = actor(5, &[(Role::Viewer, Some(1))]);
        assert_eq!(
            decide(Some(&v), Action::Read, &Resource::new(Kind::Organisation)),
            Decision::Allow
        );
        assert_eq!(
            decide(Some(&v), Action::Read, &Resource::new(Kind::Region)),
            Decision::Allow
        );
    }
}
