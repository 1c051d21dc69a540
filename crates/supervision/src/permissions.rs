//! Every permission decision of supervision, as pure functions.
//!
//! Coordinators manage meetings, tasks, closing and the sweep within their frameworks; staff
//! file progress reports only for tasks their organisation leads or co-owns; everyone who may
//! read a framework may read its tasks. Admins may do everything.

use xietong_core::permissions::{Actor, Decision, Role};

/// Create meetings, decisions and tasks; close or drop tasks; run the sweep.
pub fn manage(actor: Option<&Actor>, framework_id: i64) -> Decision {
    match actor {
        None => Decision::NeedsLogin,
        Some(a) if a.is_admin() || a.has_role_in(Role::Coordinator, framework_id) => {
            Decision::Allow
        }
        Some(_) => Decision::Deny,
    }
}

/// File a progress report for a task owned by `owners`.
pub fn report(actor: Option<&Actor>, framework_id: i64, owners: &[i64]) -> Decision {
    match actor {
        None => Decision::NeedsLogin,
        Some(a) if manage(Some(a), framework_id) == Decision::Allow => Decision::Allow,
        Some(a)
            if a.has_role(Role::Staff)
                && a.organisation_id.is_some_and(|o| owners.contains(&o)) =>
        {
            Decision::Allow
        }
        Some(_) => Decision::Deny,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use xietong_core::permissions::Grant;

    fn actor(org: i64, role: Role, framework: Option<i64>) -> Actor {
        Actor {
            user_id: Some(1),
            username: "u".into(),
            display_name: "u".into(),
            organisation_id: Some(org),
            grants: vec![Grant {
                role,
                framework_id: framework,
            }],
        }
    }

    #[test]
    fn coordinators_manage_their_frameworks_only() {
        let c = actor(1, Role::Coordinator, Some(7));
        assert_eq!(manage(Some(&c), 7), Decision::Allow);
        assert_eq!(manage(Some(&c), 8), Decision::Deny);
        assert_eq!(manage(None, 7), Decision::NeedsLogin);
        assert_eq!(
            manage(Some(&actor(1, Role::Admin, None)), 8),
            Decision::Allow
        );
    }

    #[test]
    fn staff_report_for_owned_tasks_only() {
        let s = actor(5, Role::Staff, Some(7));
        assert_eq!(report(Some(&s), 7, &[5, 6]), Decision::Allow);
        assert_eq!(report(Some(&s), 7, &[6]), Decision::Deny);
        let v = actor(5, Role::Viewer, Some(7));
        assert_eq!(
            report(Some(&v), 7, &[5]),
            Decision::Deny,
            "viewers never report"
        );
        let c = actor(9, Role::Coordinator, Some(7));
        assert_eq!(report(Some(&c), 7, &[5]), Decision::Allow);
        assert_eq!(manage(Some(&s), 7), Decision::Deny);
    }
}

/// Acknowledge or answer a letter addressed to `addressee`: its staff (and admins).
pub fn answer(actor: Option<&Actor>, addressee: i64) -> Decision {
    match actor {
        None => Decision::NeedsLogin,
        Some(a) if a.is_admin() => Decision::Allow,
        Some(a)
            if a.organisation_id == Some(addressee)
                && (a.has_role(Role::Staff) || a.has_role(Role::Coordinator)) =>
        {
            Decision::Allow
        }
        Some(_) => Decision::Deny,
    }
}

#[cfg(test)]
mod letter_tests {
    use super::*;
    use xietong_core::permissions::Grant;

    #[test]
    fn only_the_addressee_answers() {
        let staff = Actor {
            user_id: Some(1),
            username: "s".into(),
            display_name: "s".into(),
            organisation_id: Some(5),
            grants: vec![Grant {
                role: Role::Staff,
                framework_id: Some(1),
            }],
        };
        assert_eq!(answer(Some(&staff), 5), Decision::Allow);
        assert_eq!(answer(Some(&staff), 6), Decision::Deny);
        assert_eq!(answer(None, 5), Decision::NeedsLogin);
    }
}
