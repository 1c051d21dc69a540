//! Every permission decision of indicators, as pure functions.
//!
//! Staff report only for pairings their organisation's region is a party to; coordinators
//! manage agreements, targets, activities, the catalogue use and publication of their
//! frameworks; admins may do everything, including editing catalogue entries.

use xietong_core::permissions::{Actor, Decision, Role};

/// Manage a framework's agreements, targets, catalogue selection and publication.
pub fn manage(actor: Option<&Actor>, framework_id: i64) -> Decision {
    match actor {
        None => Decision::NeedsLogin,
        Some(a) if a.is_admin() || a.has_role_in(Role::Coordinator, framework_id) => {
            Decision::Allow
        }
        Some(_) => Decision::Deny,
    }
}

/// Report values or record activities for a pairing whose parties are `parties`, when the actor's
/// organisation lies in `actor_region`.
pub fn report(
    actor: Option<&Actor>,
    framework_id: i64,
    parties: [&str; 2],
    actor_region: Option<&str>,
) -> Decision {
    match actor {
        None => Decision::NeedsLogin,
        Some(a) if manage(Some(a), framework_id) == Decision::Allow => Decision::Allow,
        Some(a)
            if a.has_role_in(Role::Staff, framework_id)
                && actor_region.is_some_and(|r| parties.contains(&r)) =>
        {
            Decision::Allow
        }
        Some(_) => Decision::Deny,
    }
}

/// Edit the shared catalogue's entries (names, units, how values combine).
pub fn edit_catalogue(actor: Option<&Actor>) -> Decision {
    match actor {
        None => Decision::NeedsLogin,
        Some(a) if a.is_admin() => Decision::Allow,
        Some(_) => Decision::Deny,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use xietong_core::permissions::Grant;

    fn actor(role: Role, framework: Option<i64>) -> Actor {
        Actor {
            user_id: Some(1),
            username: "u".into(),
            display_name: "u".into(),
            organisation_id: Some(3),
            grants: vec![Grant {
                role,
                framework_id: framework,
            }],
        }
    }

    #[test]
    fn staff_report_only_for_their_own_pairings() {
        let s = actor(Role::Staff, Some(7));
        let parties = ["500106", "500236"];
        assert_eq!(
            report(Some(&s), 7, parties, Some("500236")),
            Decision::Allow
        );
        assert_eq!(report(Some(&s), 7, parties, Some("500118")), Decision::Deny);
        assert_eq!(report(Some(&s), 8, parties, Some("500236")), Decision::Deny);
        assert_eq!(report(Some(&s), 7, parties, None), Decision::Deny);
        assert_eq!(
            report(None, 7, parties, Some("500236")),
            Decision::NeedsLogin
        );
        let v = actor(Role::Viewer, Some(7));
        assert_eq!(report(Some(&v), 7, parties, Some("500236")), Decision::Deny);
    }

    #[test]
    fn coordinators_manage_their_frameworks_and_only_admins_edit_the_catalogue() {
        let c = actor(Role::Coordinator, Some(7));
        assert_eq!(manage(Some(&c), 7), Decision::Allow);
        assert_eq!(manage(Some(&c), 8), Decision::Deny);
        assert_eq!(report(Some(&c), 7, ["a", "b"], None), Decision::Allow);
        assert_eq!(edit_catalogue(Some(&c)), Decision::Deny);
        assert_eq!(
            edit_catalogue(Some(&actor(Role::Admin, None))),
            Decision::Allow
        );
    }
}
