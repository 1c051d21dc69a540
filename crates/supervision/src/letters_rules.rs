//! Pure rules of warning letters (提示函): their states, the moves between them, their numbers.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LetterStatus {
    Draft,
    Issued,
    Acknowledged,
    Responded,
    Resolved,
    Escalated,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LetterAction {
    Issue,
    Acknowledge,
    Respond,
    Resolve,
    Escalate,
}

impl LetterStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            LetterStatus::Draft => "draft",
            LetterStatus::Issued => "issued",
            LetterStatus::Acknowledged => "acknowledged",
            LetterStatus::Responded => "responded",
            LetterStatus::Resolved => "resolved",
            LetterStatus::Escalated => "escalated",
        }
    }

    pub fn parse(s: &str) -> Option<LetterStatus> {
        [
            LetterStatus::Draft,
            LetterStatus::Issued,
            LetterStatus::Acknowledged,
            LetterStatus::Responded,
            LetterStatus::Resolved,
            LetterStatus::Escalated,
        ]
        .into_iter()
        .find(|st| st.as_str() == s)
    }

    /// Still awaiting the addressee or the coordinator.
    pub fn is_open(self) -> bool {
        !matches!(self, LetterStatus::Resolved)
    }
}

/// Where `action` takes a letter in `from`, or none when the move is not allowed.
pub fn next(from: LetterStatus, action: LetterAction) -> Option<LetterStatus> {
    use LetterAction as A;
    use LetterStatus as S;
    match (from, action) {
        (S::Draft, A::Issue) => Some(S::Issued),
        (S::Issued, A::Acknowledge) => Some(S::Acknowledged),
        (S::Issued | S::Acknowledged | S::Escalated, A::Respond) => Some(S::Responded),
        (S::Responded | S::Escalated, A::Resolve) => Some(S::Resolved),
        (S::Issued | S::Acknowledged | S::Responded, A::Escalate) => Some(S::Escalated),
        _ => None,
    }
}

/// The official number, e.g. `川渝联办提示〔2022〕12号`.
pub fn number(issuer: &str, year: i64, n: i64) -> String {
    format!("{issuer}〔{year}〕{n}号")
}

#[cfg(test)]
mod tests {
    use super::*;
    use LetterAction as A;
    use LetterStatus as S;

    #[test]
    fn the_happy_path_and_escalation() {
        assert_eq!(next(S::Draft, A::Issue), Some(S::Issued));
        assert_eq!(next(S::Issued, A::Acknowledge), Some(S::Acknowledged));
        assert_eq!(next(S::Acknowledged, A::Respond), Some(S::Responded));
        assert_eq!(next(S::Responded, A::Resolve), Some(S::Resolved));
        assert_eq!(next(S::Acknowledged, A::Escalate), Some(S::Escalated));
        assert_eq!(next(S::Escalated, A::Resolve), Some(S::Resolved));
    }

    #[test]
    fn issued_letters_cannot_go_back_and_resolved_ones_stay_resolved() {
        for action in [
            A::Issue,
            A::Acknowledge,
            A::Respond,
            A::Resolve,
            A::Escalate,
        ] {
            assert_eq!(next(S::Resolved, action), None);
            if action != A::Issue {
                assert_eq!(next(S::Draft, action), None, "{action:?} on a draft");
            }
        }
        assert_eq!(next(S::Issued, A::Issue), None);
        assert_eq!(
            next(S::Issued, A::Resolve),
            None,
            "a letter is resolved only after its answer"
        );
    }

    #[test]
    fn numbers_follow_the_official_style() {
        assert_eq!(number("川渝联办提示", 2022, 12), "川渝联办提示〔2022〕12号");
        assert_eq!(LetterStatus::parse("escalated"), Some(S::Escalated));
        assert_eq!(LetterStatus::parse("lost"), None);
    }
}
