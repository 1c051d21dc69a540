//! The maintained roll-ups always equal a from-scratch recomputation, and a card's as-of
//! figures equal a naive reading of the raw records, after any sequence of writes,
//! corrections and deletions.

use std::collections::BTreeMap;

use proptest::prelude::*;
use xietong_core::permissions::Actor;
use xietong_core::Db;
use xietong_indicators::rules::{self, ActivityKind, Combine, Measures};
use xietong_indicators::store::{activities, catalogue, rollups, values};

#[derive(Debug, Clone)]
enum Op {
    Value {
        pairing: usize,
        indicator: usize,
        period: String,
        amount: u32,
    },
    DeleteValue(usize),
    Activity {
        pairing: usize,
        kind: usize,
        day: String,
        measure: u32,
    },
    DeleteActivity(usize),
}

const INDICATORS: &[&str] = &[
    "FUNDS",
    "JOBS_OFFERED",
    "FUND_SIZE",
    "LEADER_VISITS",
    "TEACHERS",
];
const KINDS: &[(&str, &str)] = &[
    ("visit", ""),
    ("exchange", "teacher"),
    ("land_trade", "forest_area"),
    ("purchase", "consumption"),
];

fn period() -> impl Strategy<Value = String> {
    prop_oneof![
        (2021i32..2023, 1u32..13).prop_map(|(y, m)| format!("{y}-{m:02}")),
        (2021i32..2023, 1u32..5).prop_map(|(y, q)| format!("{y}-Q{q}")),
        (2021i32..2023).prop_map(|y| y.to_string()),
    ]
}

fn day() -> impl Strategy<Value = String> {
    prop_oneof![
        (2021i32..2023, 1u32..13, 1u32..29).prop_map(|(y, m, d)| format!("{y}-{m:02}-{d:02}")),
        // A month's last day: the card then reads that month's roll-ups alone.
        (2021i32..2023, 1u8..13).prop_map(|(y, m)| {
            let month = time::Month::try_from(m).unwrap();
            format!("{y}-{m:02}-{:02}", month.length(y))
        }),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0usize..3, 0..INDICATORS.len(), period(), 0u32..1000).prop_map(|(pairing, indicator, period, amount)| Op::Value { pairing, indicator, period, amount }),
        1 => (0usize..50).prop_map(Op::DeleteValue),
        3 => (0usize..3, 0..KINDS.len(), day(), 1u32..500).prop_map(|(pairing, kind, day, measure)| Op::Activity { pairing, kind, day, measure }),
        1 => (0usize..50).prop_map(Op::DeleteActivity),
    ]
}

async fn fresh() -> Db {
    let dir = std::env::temp_dir().join("xietong-tests");
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!(
        "sqlite://{}",
        dir.join(format!("rollups_{:016x}.db", rand_u64()))
            .display()
    );
    prepared(&url).await
}

/// The PostgreSQL server the tests use (`scripts/test` sets it), if any.
fn postgres_admin_url() -> Option<String> {
    std::env::var("XIETONG_TEST_POSTGRES_URL")
        .ok()
        .filter(|v| !v.is_empty())
}

/// A new database on the test PostgreSQL server.
async fn fresh_postgres(admin_url: &str) -> Db {
    let admin = Db::connect(admin_url, 1).await.unwrap();
    let name = format!("xt_rollups_{:016x}", rand_u64());
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(admin.pool())
        .await
        .unwrap();
    admin.close().await;
    let base = admin_url
        .rsplit_once('/')
        .map(|(b, _)| b.to_string())
        .unwrap();
    prepared(&format!("{base}/{name}")).await
}

async fn prepared(url: &str) -> Db {
    let db = Db::connect(url, 2).await.unwrap();
    xietong_core::db::migrate::run(
        &db,
        &[
            xietong_core::db::migrate::MIGRATIONS,
            xietong_indicators::MIGRATIONS,
        ],
    )
    .await
    .unwrap();
    xietong_core::registry::regions::seed(&db).await.unwrap();
    catalogue::seed(&db).await.unwrap();
    db
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos(),
    );
    h.finish()
}

/// A framework with three pairings that reports every indicator.
async fn framework(db: &Db, n: usize) -> (i64, Vec<i64>) {
    let now = xietong_core::clock::now_rfc3339();
    let (fid,): (i64,) = sqlx::query_as("INSERT INTO frameworks (key, name_zh, kind, created_at, updated_at) VALUES ($1, '测试', 'district_pairing', $2, $2) RETURNING id")
        .bind(format!("T{n}"))
        .bind(&now)
        .fetch_one(db.pool())
        .await
        .unwrap();
    sqlx::query("INSERT INTO framework_indicators (framework_id, indicator_id, position) SELECT $1, id, id FROM indicators")
        .bind(fid)
        .execute(db.pool())
        .await
        .unwrap();
    let mut pairings = Vec::new();
    for (a, b) in [
        ("500106", "500236"),
        ("500105", "500242"),
        ("500118", "500243"),
    ] {
        let (id,): (i64,) = sqlx::query_as("INSERT INTO pairings (framework_id, party_a, party_b, party_lo, party_hi, status, started_on, created_at, updated_at) VALUES ($1, $2, $3, $2, $3, 'active', '2021-01-01', $4, $4) RETURNING id")
            .bind(fid)
            .bind(a)
            .bind(b)
            .bind(&now)
            .fetch_one(db.pool())
            .await
            .unwrap();
        pairings.push(id);
    }
    (fid, pairings)
}

async fn run(db: &Db, fid: i64, pairings: &[i64], ops: &[Op]) {
    let admin = Actor::system("property");
    for op in ops {
        match op {
            Op::Value {
                pairing,
                indicator,
                period,
                amount,
            } => {
                let _ = values::write(
                    db,
                    &admin,
                    fid,
                    &[values::ValueInput {
                        at: "v".into(),
                        pairing_id: pairings[*pairing],
                        indicator: INDICATORS[*indicator].into(),
                        period: period.clone(),
                        amount: amount.to_string(),
                        evidence: String::new(),
                    }],
                    "test",
                )
                .await;
            }
            Op::DeleteValue(k) => {
                let ids: Vec<(i64,)> = sqlx::query_as("SELECT id FROM indicator_values WHERE framework_id = $1 AND status = 'current' ORDER BY id").bind(fid).fetch_all(db.pool()).await.unwrap();
                if !ids.is_empty() {
                    values::delete(db, &admin, ids[k % ids.len()].0)
                        .await
                        .unwrap();
                }
            }
            Op::Activity {
                pairing,
                kind,
                day,
                measure,
            } => {
                let (kind, category) = KINDS[*kind];
                let input = activities::ActivityInput {
                    pairing_id: pairings[*pairing],
                    kind: kind.into(),
                    category: category.into(),
                    occurred_on: day.clone(),
                    title_zh: "活动".into(),
                    headcount: measure.to_string(),
                    amount: format!("{measure}元"),
                    area: measure.to_string(),
                    ..Default::default()
                };
                let _ = activities::record(db, &admin, &[input], "test").await;
            }
            Op::DeleteActivity(k) => {
                let ids: Vec<(i64,)> =
                    sqlx::query_as("SELECT id FROM activities WHERE framework_id = $1 ORDER BY id")
                        .bind(fid)
                        .fetch_all(db.pool())
                        .await
                        .unwrap();
                if !ids.is_empty() {
                    activities::delete(db, &admin, ids[k % ids.len()].0)
                        .await
                        .unwrap();
                }
            }
        }
    }
}

/// Each pairing's figure per indicator on `day`, read naively from every raw record.
async fn naive_as_of(db: &Db, fid: i64, day: &str) -> BTreeMap<(i64, i64), i64> {
    let (combines, ids) = rollups::combines(db).await.unwrap();
    let mut out: BTreeMap<(i64, i64), i64> = BTreeMap::new();
    let vals: Vec<(i64, i64, i64)> = sqlx::query_as("SELECT pairing_id, indicator_id, amount FROM indicator_values WHERE framework_id = $1 AND status = 'current' AND period_end <= $2 ORDER BY period_end, id")
        .bind(fid).bind(day).fetch_all(db.pool()).await.unwrap();
    for (p, i, a) in vals {
        if combines[&i] == Combine::Latest {
            out.insert((p, i), a);
        } else {
            *out.entry((p, i)).or_insert(0) += a;
        }
    }
    let acts: Vec<(i64, String, String, i64, i64, i64, i64)> = sqlx::query_as("SELECT pairing_id, kind, category, headcount, amount, area_mu, weight_kg FROM activities WHERE framework_id = $1 AND occurred_on <= $2")
        .bind(fid).bind(day).fetch_all(db.pool()).await.unwrap();
    for (p, kind, category, headcount, amount, area_mu, weight_kg) in acts {
        let m = Measures {
            events: 1,
            headcount,
            amount,
            area_mu,
            weight_kg,
        };
        for (code, a) in rules::contributions(ActivityKind::parse(&kind).unwrap(), &category, &m) {
            *out.entry((p, ids[code])).or_insert(0) += a;
        }
    }
    out
}

/// Runs the operations on a fresh framework of `db` and checks the roll-ups, the as-of reading
/// and the card against their from-scratch counterparts.
async fn check(db: &Db, n: usize, ops: &[Op], probe: &str) {
    let (fid, pairings) = framework(db, n).await;
    run(db, fid, &pairings, ops).await;
    let stored = rollups::stored(db, fid).await.unwrap();
    let expected = rollups::recompute(db, fid).await.unwrap();
    assert_eq!(stored, expected, "after {ops:?}");
    let date = xietong_core::domain::text::date("d", probe).unwrap();
    let mut fast = rollups::as_of(db, fid, date).await.unwrap();
    fast.retain(|_, v| *v != 0);
    let mut naive = naive_as_of(db, fid, probe).await;
    naive.retain(|_, v| *v != 0);
    assert_eq!(fast, naive, "as of {probe} after {ops:?}");
    // The card's totals, and its totals a year earlier (added up by the database), equal
    // the naive reading folded by the pure rule.
    let card = xietong_indicators::store::card::build(db, fid, date)
        .await
        .unwrap();
    let indicators: Vec<rules::CardIndicator> = card
        .indicators
        .iter()
        .map(|l| rules::CardIndicator {
            id: l.id,
            code: l.code.clone(),
            combine: Combine::parse(&l.combine).unwrap(),
            basis_id: None,
        })
        .collect();
    let all = catalogue::all(db).await.unwrap();
    let indicators: Vec<rules::CardIndicator> = indicators
        .into_iter()
        .map(|mut i| {
            let entry = all.iter().find(|x| x.id == i.id).unwrap();
            i.basis_id = entry
                .basis_code
                .as_ref()
                .and_then(|b| all.iter().find(|x| &x.code == b))
                .map(|x| x.id);
            i
        })
        .collect();
    let earlier = xietong_indicators::periods::year_before(date);
    let then = naive_as_of(db, fid, &earlier.to_string()).await;
    let expected_then = rules::framework_totals(&indicators, &pairings, &then);
    let expected_now = rules::framework_totals(&indicators, &pairings, &naive);
    for line in &card.indicators {
        assert_eq!(
            line.total, expected_now[&line.id],
            "{} now, after {ops:?}",
            line.code
        );
        assert_eq!(
            line.last_year, expected_then[&line.id],
            "{} a year before {probe}, after {ops:?}",
            line.code
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]

    #[test]
    fn maintained_rollups_equal_a_recomputation(ops in proptest::collection::vec(op(), 1..30), probe in day()) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let db = fresh().await;
            check(&db, 1, &ops, &probe).await;
            db.close().await;
        });
    }
}

proptest! {
    // Fewer cases: each makes a database on the server.
    #![proptest_config(ProptestConfig { cases: 8, .. ProptestConfig::default() })]

    #[test]
    fn maintained_rollups_equal_a_recomputation_on_postgres(ops in proptest::collection::vec(op(), 1..30), probe in day()) {
        let Some(admin) = postgres_admin_url() else {
            eprintln!("XIETONG_TEST_POSTGRES_URL is not set: the PostgreSQL run of this test did not happen (scripts/test sets it)");
            return Ok(());
        };
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let db = fresh_postgres(&admin).await;
            check(&db, 1, &ops, &probe).await;
            db.close().await;
        });
    }
}

#[tokio::test]
async fn corrections_and_deletions_move_running_totals_exactly() {
    let db = fresh().await;
    let (fid, pairings) = framework(&db, 2).await;
    let admin = Actor::system("test");
    let funds = |period: &str, amount: &str| values::ValueInput {
        at: "v".into(),
        pairing_id: pairings[0],
        indicator: "FUNDS".into(),
        period: period.into(),
        amount: amount.into(),
        evidence: String::new(),
    };
    values::write(
        &db,
        &admin,
        fid,
        &[funds("2022-03", "100"), funds("2022-01", "10")],
        "t",
    )
    .await
    .unwrap();
    let summary = values::write(&db, &admin, fid, &[funds("2022-01", "30")], "t")
        .await
        .unwrap();
    assert_eq!((summary.created, summary.corrected), (0, 1));
    let again = values::write(&db, &admin, fid, &[funds("2022-01", "30")], "t")
        .await
        .unwrap();
    assert_eq!(again.unchanged, 1, "the same figure twice changes nothing");
    let id = catalogue::by_code(&db, "FUNDS").await.unwrap().id;
    let stored = rollups::stored(&db, fid).await.unwrap();
    // 万元 in fen: 30万 = 30 × 1,000,000 fen.
    assert_eq!(
        stored[&(pairings[0], id, "2022-01".to_string())],
        (30_000_000, 30_000_000)
    );
    assert_eq!(
        stored[&(pairings[0], id, "2022-03".to_string())],
        (100_000_000, 130_000_000)
    );
    let first: (i64,) = sqlx::query_as(
        "SELECT id FROM indicator_values WHERE period = '2022-01' AND status = 'current'",
    )
    .fetch_one(db.pool())
    .await
    .unwrap();
    values::delete(&db, &admin, first.0).await.unwrap();
    let stored = rollups::stored(&db, fid).await.unwrap();
    assert!(!stored.contains_key(&(pairings[0], id, "2022-01".to_string())));
    assert_eq!(
        stored[&(pairings[0], id, "2022-03".to_string())],
        (100_000_000, 100_000_000)
    );
    assert_eq!(stored, rollups::recompute(&db, fid).await.unwrap());
}

#[tokio::test]
async fn a_derived_indicator_is_never_also_typed_for_the_same_pairing_and_period() {
    let db = fresh().await;
    let (fid, pairings) = framework(&db, 3).await;
    let admin = Actor::system("test");
    let visit = activities::ActivityInput {
        pairing_id: pairings[1],
        kind: "visit".into(),
        occurred_on: "2022-05-19".into(),
        title_zh: "党政主要领导互访".into(),
        ..Default::default()
    };
    activities::record(&db, &admin, std::slice::from_ref(&visit), "t")
        .await
        .unwrap();
    let typed = values::ValueInput {
        at: "v".into(),
        pairing_id: pairings[1],
        indicator: "LEADER_VISITS".into(),
        period: "2022-Q2".into(),
        amount: "1".into(),
        evidence: String::new(),
    };
    let err = values::write(&db, &admin, fid, std::slice::from_ref(&typed), "t")
        .await
        .unwrap_err();
    assert!(format!("{err:?}").contains("double_entry"), "{err:?}");
    // The other way round: typed first, then the activity is refused.
    let typed_other = values::ValueInput {
        pairing_id: pairings[2],
        ..typed
    };
    values::write(&db, &admin, fid, &[typed_other], "t")
        .await
        .unwrap();
    let err = activities::record(
        &db,
        &admin,
        &[activities::ActivityInput {
            pairing_id: pairings[2],
            ..visit
        }],
        "t",
    )
    .await
    .unwrap_err();
    assert!(format!("{err:?}").contains("double_entry"), "{err:?}");
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM activities")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(n, 1, "the refused activity was not stored");
}

#[tokio::test]
async fn roll_ups_written_before_they_were_dense_are_rebuilt_at_start() {
    let db = fresh().await;
    let (fid, pairings) = framework(&db, 4).await;
    let ops = [
        Op::Value {
            pairing: 0,
            indicator: 0,
            period: "2021-02".into(),
            amount: 40,
        },
        Op::Value {
            pairing: 1,
            indicator: 2,
            period: "2021-05".into(),
            amount: 7,
        },
        Op::Activity {
            pairing: 2,
            kind: 1,
            day: "2022-03-09".into(),
            measure: 12,
        },
    ];
    run(&db, fid, &pairings, &ops).await;
    // As an older version left them: months without figures had no row, and no horizon.
    sqlx::query("DELETE FROM indicator_rollups WHERE own_amount = 0")
        .execute(db.pool())
        .await
        .unwrap();
    sqlx::query("DELETE FROM indicator_rollup_horizons")
        .execute(db.pool())
        .await
        .unwrap();
    assert_ne!(
        rollups::stored(&db, fid).await.unwrap(),
        rollups::recompute(&db, fid).await.unwrap()
    );
    assert_eq!(rollups::ensure_dense(&db).await.unwrap(), vec![fid]);
    assert_eq!(
        rollups::stored(&db, fid).await.unwrap(),
        rollups::recompute(&db, fid).await.unwrap()
    );
    assert!(
        rollups::ensure_dense(&db).await.unwrap().is_empty(),
        "only once"
    );
}
