//! The seam between features and the supervision loop. A feature that can tell when its own
//! records lag (a pairing's monthly report not filed, say) offers a [`LagFinder`]; the server
//! hands every finder to the supervision sweep, which raises each [`ForeignLag`] as an alert
//! and closes the alert once the finder no longer reports it. Features stay unaware of each
//! other: they meet only in these types.

use std::future::Future;
use std::pin::Pin;

use time::Date;

use crate::error::Result;
use crate::Db;

/// A lag found outside supervision, keyed like every alert by (rule, subject kind, subject id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignLag {
    /// e.g. `indicator_report_missing`
    pub rule: &'static str,
    /// e.g. `pairing`
    pub subject_kind: &'static str,
    pub subject_id: i64,
    pub framework_id: i64,
    /// The organisation answerable for it (a warning letter is addressed there).
    pub unit_org_id: Option<i64>,
    /// How a letter names the subject: supervision knows task and project codes, not those of
    /// other features' records.
    pub subject_code: String,
    pub subject_title_zh: String,
    pub details_zh: String,
    pub details_en: String,
}

pub type Found<'a> = Pin<Box<dyn Future<Output = Result<Vec<ForeignLag>>> + Send + 'a>>;

/// Every lag a feature sees on a day.
#[derive(Clone, Copy)]
pub struct LagFinder {
    pub name: &'static str,
    /// The rules its lags carry: an open alert of these rules that the finder no longer
    /// reports is closed (alerts of other rules are not its to close).
    pub rules: &'static [&'static str],
    pub find: for<'a> fn(&'a Db, Date) -> Found<'a>,
}

impl std::fmt::Debug for LagFinder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LagFinder")
            .field("name", &self.name)
            .finish()
    }
}
