//! The daily lag sweep: at a set hour of Asia/Shanghai time every instance wakes up, but the
//! slot key (the date) lets only the first one run it; then overdue letters are escalated.

use std::time::Duration;

use time::{OffsetDateTime, Time};
use xietong_core::calendar::SHANGHAI_OFFSET;
use xietong_core::lags::LagFinder;
use xietong_core::permissions::Actor;
use xietong_core::Db;

use crate::domain::LagRules;

/// How long until the next `hour:00` in Asia/Shanghai after `now`.
pub fn until_next(now: OffsetDateTime, hour: u8) -> Duration {
    let local = now.to_offset(SHANGHAI_OFFSET);
    let at = Time::from_hms(hour.min(23), 0, 0).unwrap_or(Time::MIDNIGHT);
    let mut next = local.replace_time(at);
    if next <= local {
        next += time::Duration::days(1);
    }
    Duration::from_secs((next - local).whole_seconds().max(1) as u64)
}

/// Runs forever: sleeps until the hour, runs the day's slot, repeats. Errors are logged and the
/// next day is tried again; a slot another instance ran is skipped.
pub async fn run_daily(db: Db, hour: u8, rules: LagRules, finders: Vec<LagFinder>) {
    loop {
        tokio::time::sleep(until_next(OffsetDateTime::now_utc(), hour)).await;
        let today = xietong_core::calendar::shanghai_date(OffsetDateTime::now_utc());
        let actor = Actor::system("scheduler");
        let slot = format!("daily-{today}");
        match crate::store::sweep::run(&db, &actor, today, Some(&slot), &rules, &finders).await {
            Ok(outcome) if outcome.skipped => {
                tracing::info!(%slot, "sweep already run by another instance")
            }
            Ok(outcome) => {
                let escalated = crate::store::letters::escalate_overdue(&db, &actor, today).await;
                tracing::info!(%slot, opened = outcome.opened, closed = outcome.closed, ?escalated, "daily sweep done");
            }
            Err(e) => tracing::error!(%slot, error = %e, "daily sweep failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn the_next_two_oclock_is_in_shanghai_time() {
        // 17:00 UTC is 01:00 in Shanghai: one hour to go.
        assert_eq!(
            until_next(datetime!(2026-11-28 17:00 UTC), 2),
            Duration::from_secs(3600)
        );
        // 18:30 UTC is 02:30 in Shanghai: the next run is tomorrow 02:00, 23.5 hours away.
        assert_eq!(
            until_next(datetime!(2026-11-28 18:30 UTC), 2),
            Duration::from_secs(23 * 3600 + 1800)
        );
    }
}
