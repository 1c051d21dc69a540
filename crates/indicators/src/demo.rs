//! Demo data that tells the seeds' story. The report cards reproduce the seeds' figures exactly:
//! for the 一区两群 district pairing as of 2022-08-31 (seed 002), for Shandong–Chongqing in 2022
//! (seed 000) and for the cadres exchanged between Sichuan and Chongqing (seed 004).
//!
//! Where a seed gives a pair-level fact it is recorded at that pair with its quote. Totals the
//! seeds give only for the whole framework are spread over the pairs by a fixed, repeatable
//! split and marked `generated`; so are dates the seeds do not give.

use std::collections::HashMap;

use xietong_core::error::{Error, Result};
use xietong_core::permissions::Actor;
use xietong_core::Db;

use crate::store::activities::{self, ActivityInput};
use crate::store::agreements::{self, AgreementInput, TargetInput};
use crate::store::catalogue;
use crate::store::values::{self, ValueInput};

/// The 17 district pairs in the registry's order: (helping district, paired district).
const YQLQ: &[(&str, &str)] = &[
    ("500104", "500233"), // 大渡口–忠县
    ("500119", "500156"), // 南川–武隆
    ("500103", "500238"), // 渝中–巫溪
    ("500120", "500155"), // 璧山–梁平
    ("500118", "500243"), // 永川–彭水
    ("500112", "500235"), // 渝北–云阳
    ("509901", "500101"), // 两江新区–万州
    ("500106", "500236"), // 沙坪坝–奉节
    ("500153", "500230"), // 荣昌–丰都
    ("500105", "500242"), // 江北–酉阳
    ("509902", "500114"), // 重庆高新区–黔江
    ("500113", "500229"), // 巴南–城口 (placeholder pair)
    ("500117", "500241"), // 合川–秀山 (placeholder pair)
    ("500109", "500237"), // 北碚–巫山 (placeholder pair)
    ("500107", "500240"), // 九龙坡–石柱 (placeholder pair)
    ("500108", "500154"), // 南岸–开州 (placeholder pair)
    ("500115", "500231"), // 长寿–垫江 (placeholder pair)
];

const SEED002: &str = "主城协同区解决帮扶资金达到4.39亿元";

/// Splits `total` into `n` positive parts that always add up to it exactly, unevenly but
/// repeatably (a fixed linear-congruential sequence, no randomness).
pub fn split(total: i64, n: usize, salt: u64) -> Vec<i64> {
    if n == 0 {
        return Vec::new();
    }
    let mut state = salt
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let weights: Vec<i64> = (0..n)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            5 + ((state >> 33) % 10) as i64
        })
        .collect();
    let sum: i64 = weights.iter().sum();
    let mut parts: Vec<i64> = weights.iter().map(|w| total * w / sum).collect();
    let rest = total - parts.iter().sum::<i64>();
    parts[0] += rest;
    parts
}

struct Demo<'a> {
    db: &'a Db,
    actor: Actor,
    frameworks: HashMap<String, i64>,
    pairings: HashMap<(String, String), i64>,
}

impl Demo<'_> {
    fn framework(&self, key: &str) -> Result<i64> {
        self.frameworks
            .get(key)
            .copied()
            .ok_or_else(|| Error::Config(format!("indicators demo: no framework {key}")))
    }

    fn pairing(&self, a: &str, b: &str) -> Result<i64> {
        self.pairings
            .get(&(a.to_string(), b.to_string()))
            .copied()
            .ok_or_else(|| Error::Config(format!("indicators demo: no pairing {a}–{b}")))
    }

    fn yqlq(&self, i: usize) -> Result<i64> {
        self.pairing(YQLQ[i].0, YQLQ[i].1)
    }

    async fn activities(&self, list: Vec<ActivityInput>) -> Result<()> {
        activities::record(self.db, &self.actor, &list, "demo")
            .await
            .map(|_| ())
    }

    async fn values(&self, framework: &str, list: Vec<ValueInput>) -> Result<()> {
        values::write(
            self.db,
            &self.actor,
            self.framework(framework)?,
            &list,
            "demo",
        )
        .await
        .map(|_| ())
    }
}

fn activity(pairing_id: i64, kind: &str, category: &str, day: &str, title: &str) -> ActivityInput {
    ActivityInput {
        pairing_id,
        kind: kind.into(),
        category: category.into(),
        occurred_on: day.into(),
        title_zh: title.into(),
        generated: true,
        ..Default::default()
    }
}

fn quoted(mut a: ActivityInput, quote: &str) -> ActivityInput {
    a.generated = false;
    a.source_quote = Some(quote.into());
    a
}

fn value(pairing_id: i64, indicator: &str, period: &str, amount: String) -> ValueInput {
    ValueInput {
        at: format!("demo {indicator} {period}"),
        pairing_id,
        indicator: indicator.into(),
        period: period.into(),
        amount,
        evidence: String::new(),
    }
}

/// A day in 2021-09 … 2022-08 for the i-th generated record (the mechanism's first year).
fn day_in_first_year(i: usize) -> String {
    let months = [
        "2021-09", "2021-10", "2021-11", "2021-12", "2022-01", "2022-02", "2022-03", "2022-04",
        "2022-05", "2022-06", "2022-07", "2022-08",
    ];
    format!("{}-{:02}", months[i % months.len()], 3 + (i * 7) % 25)
}

pub async fn load(db: &Db) -> Result<()> {
    catalogue::seed_framework_lists(db).await?;
    let frameworks: Vec<(String, i64)> = sqlx::query_as("SELECT key, id FROM frameworks")
        .fetch_all(db.pool())
        .await?;
    let pairings: Vec<(String, String, i64)> =
        sqlx::query_as("SELECT party_a, party_b, id FROM pairings")
            .fetch_all(db.pool())
            .await?;
    let demo = Demo {
        db,
        actor: Actor::system("demo"),
        frameworks: frameworks.into_iter().collect(),
        pairings: pairings
            .into_iter()
            .map(|(a, b, id)| ((a, b), id))
            .collect(),
    };
    district_pairing(&demo).await?;
    shandong_chongqing(&demo).await?;
    sichuan_chongqing(&demo).await?;
    Ok(())
}

async fn district_pairing(d: &Demo<'_>) -> Result<()> {
    let fid = d.framework("YQLQ")?;
    // 17 annual agreements for 2022, all signed by the end of August.
    for (i, _) in YQLQ.iter().enumerate() {
        let pairing_id = d.yqlq(i)?;
        agreements::create(
            d.db,
            &d.actor,
            &AgreementInput {
                framework_id: fid,
                pairing_id: Some(pairing_id),
                kind: "annual".into(),
                year: 2022,
                title_zh: "2022年对口协同发展年度合作协议".into(),
                signed_on: format!("2022-{:02}-{:02}", 2 + i % 5, 8 + i),
                generated: true,
                source_quote: Some("全市17对结对区县均已签订年度合作协议".into()),
                ..Default::default()
            },
        )
        .await?;
    }
    let sfj = d.yqlq(7)?;
    let t = |indicator: &str, amount: &str| TargetInput {
        indicator: indicator.into(),
        amount: amount.into(),
    };
    agreements::create(d.db, &d.actor, &AgreementInput {
        framework_id: fid,
        pairing_id: Some(sfj),
        kind: "target".into(),
        year: 2022,
        title_zh: "对口协同发展“百千万”目标工作协议".into(),
        signed_on: "2022-07-08".into(),
        text_zh: "沙坪坝区将帮扶奉节县100名困难青少年儿童，派出100名红岩志愿者；培训1000人以上，组织师生研学1000人以上；推动两地往来旅游人数1万人以上，销售奉节农产品3000万元以上。".into(),
        targets: vec![t("CHILDREN_HELPED", "100"), t("VOLUNTEERS", "100"), t("TRAINED", "1000"), t("STUDY_TOURS", "1000"), t("TOURISTS", "10000"), t("CONSUMPTION", "3000万元")],
        source_quote: Some("现场签订《对口协同发展“百千万”目标工作协议》".into()),
        ..Default::default()
    }).await?;

    // 13 of 17 pairs had leaders' mutual visits: the first 13 pairs, one or two visits each.
    let mut visits = Vec::new();
    for i in 0..13 {
        let p = d.yqlq(i)?;
        visits.push(quoted(
            activity(p, "visit", "", &day_in_first_year(i), "党政主要领导互访"),
            "13对结对区县开展党政主要领导互访",
        ));
        if i % 3 == 0 {
            visits.push(activity(
                p,
                "visit",
                "",
                &day_in_first_year(i + 5),
                "党政主要领导回访",
            ));
        }
    }
    d.activities(visits).await?;

    // Assistance funds 4.39亿元, typed per pair per period (split generated).
    let funds = split(43_900, 17, 2);
    let mut list = Vec::new();
    for (i, wan) in funds.iter().enumerate() {
        let p = d.yqlq(i)?;
        let first = wan * 2 / 5;
        list.push(value(p, "FUNDS", "2021-Q4", format!("{first}万元")));
        list.push(value(p, "FUNDS", "2022-Q2", format!("{}万元", wan - first)));
    }
    // Jobs offered (over 60,000) and people hired (3,187); 渝北→云阳's 795 jobs are the seed's.
    let jobs = split(60_318 - 795, 16, 3);
    let hired = split(3_187, 17, 4);
    let mut j = jobs.iter();
    for (i, people) in hired.iter().enumerate() {
        let p = d.yqlq(i)?;
        let offered = if i == 5 { 795 } else { *j.next().unwrap_or(&0) };
        list.push(value(p, "JOBS_OFFERED", "2022-Q2", offered.to_string()));
        list.push(value(p, "HIRED", "2022-Q2", people.to_string()));
    }
    list.push(value(d.yqlq(6)?, "FUND_SIZE", "2022-08", "10亿元".into()));
    d.values("YQLQ", list).await?;

    // 13 industrial projects landed with 3.63亿元 arrived.
    let mut list = vec![
        quoted(
            ActivityInput {
                amount: "1.21亿元".into(),
                ..activity(
                    d.yqlq(6)?,
                    "project",
                    "",
                    "2022-06-20",
                    "重庆川渝三峡港口物流有限公司在万州注册成立",
                )
            },
            "新到投资资金1.21亿元",
        ),
        quoted(
            ActivityInput {
                amount: "3800万元".into(),
                ..activity(
                    d.yqlq(1)?,
                    "project",
                    "",
                    "2022-04-15",
                    "重庆鑫百富供应链管理有限公司项目投产运营",
                )
            },
            "其中鑫百富、中荃食品等2个项目已正式投产运营",
        ),
        quoted(
            ActivityInput {
                amount: "2600万元".into(),
                ..activity(
                    d.yqlq(1)?,
                    "project",
                    "",
                    "2022-05-26",
                    "中荃重庆食品有限公司项目投产运营",
                )
            },
            "其中鑫百富、中荃食品等2个项目已正式投产运营",
        ),
    ];
    let rest = split(36_300 - 12_100 - 3_800 - 2_600, 10, 5);
    for (k, wan) in rest.iter().enumerate() {
        let pair = [0, 3, 4, 5, 7, 8, 9, 10, 13, 15][k];
        list.push(ActivityInput {
            amount: format!("{wan}万元"),
            ..activity(
                d.yqlq(pair)?,
                "project",
                "",
                &day_in_first_year(k + 2),
                "产业协同项目落地",
            )
        });
    }
    // 16 co-built parks; three are named in the seed.
    list.push(quoted(
        activity(
            d.yqlq(0)?,
            "park",
            "",
            "2022-07-01",
            "重庆小面产业园忠县园区",
        ),
        "今年7月1日,重庆小面产业园忠县园区揭牌",
    ));
    list.push(quoted(
        activity(
            d.yqlq(5)?,
            "park",
            "",
            "2022-01-20",
            "渝北对口协同云阳产业园",
        ),
        "布局“渝北对口协同云阳产业园”",
    ));
    list.push(quoted(
        activity(
            d.yqlq(5)?,
            "park",
            "",
            "2022-01-20",
            "渝北云阳产业协作孵化园",
        ),
        "在创新经济走廊区域布局“渝北云阳产业协作孵化园”",
    ));
    for k in 0..13 {
        list.push(activity(
            d.yqlq((k * 5 + 1) % 17)?,
            "park",
            "",
            &day_in_first_year(k),
            "共建产业协作园区",
        ));
    }
    // 27 co-built scenic projects; 南川–武隆's is in the seed.
    list.push(quoted(
        activity(d.yqlq(1)?, "scenic", "", "2022-03-18", "南川—武隆景区共建"),
        "南川与武隆也在探索开展“景区共建”",
    ));
    for k in 0..26 {
        list.push(activity(
            d.yqlq((k * 7 + 2) % 17)?,
            "scenic",
            "",
            &day_in_first_year(k + 1),
            "景区共建项目",
        ));
    }
    d.activities(list).await?;

    // Consumption assistance 2.67亿元; 江北 sold 125,000 kg of 涂市 rice (amount generated).
    let mut list = vec![
        quoted(
            ActivityInput {
                amount: "75万元".into(),
                weight: "12.5万公斤".into(),
                ..activity(
                    d.yqlq(9)?,
                    "purchase",
                    "consumption",
                    "2021-11-12",
                    "江北企业德优农业帮助销售涂市镇滞销大米",
                )
            },
            "帮12.5万公斤大米找到了买家",
        ),
        quoted(
            ActivityInput {
                amount: "6000万元".into(),
                ..activity(
                    d.yqlq(6)?,
                    "purchase",
                    "supply_chain",
                    "2022-07-31",
                    "长安跨越采购两江新区5家企业汽车配件（1-7月）",
                )
            },
            "今年1-7月,长安跨越采购两江新区5家企业汽车配件超6000万元",
        ),
    ];
    let rest = split(26_700 - 75, 17, 6);
    for (i, wan) in rest.iter().enumerate() {
        list.push(ActivityInput {
            amount: format!("{wan}万元"),
            ..activity(
                d.yqlq(i)?,
                "purchase",
                "consumption",
                &day_in_first_year(i + 3),
                "采购或帮助销售农特文旅产品",
            )
        });
    }
    d.activities(list).await?;

    // Exchanged staff: 204 medical staff, 136 teachers, 44 professionals; trainings.
    let mut list = vec![
        quoted(
            ActivityInput {
                headcount: "7".into(),
                direction: "a_to_b".into(),
                ..activity(
                    d.yqlq(11)?,
                    "exchange",
                    "teacher",
                    "2022-08-29",
                    "重庆南开中学马洪等7名教师赴城口实验中学支教一年半",
                )
            },
            "与崔维科、黄颖等6位同事在城口开展为期一年半的支教工作",
        ),
        quoted(
            ActivityInput {
                headcount: "3".into(),
                direction: "a_to_b".into(),
                ..activity(
                    d.yqlq(4)?,
                    "exchange",
                    "professional",
                    "2022-03-10",
                    "重庆文理学院和水稻种植研究所选派科技特派员赴彭水",
                )
            },
            "选派3名科技特派员到彭水开展技术服务",
        ),
        quoted(
            ActivityInput {
                headcount: "4".into(),
                direction: "a_to_b".into(),
                ..activity(
                    d.yqlq(4)?,
                    "exchange",
                    "professional",
                    "2022-04-12",
                    "市农科院特作所选派科技特派员赴彭水",
                )
            },
            "选派4名科技特派员到彭水开展技术指导",
        ),
        quoted(
            ActivityInput {
                headcount: "920".into(),
                ..activity(
                    d.yqlq(5)?,
                    "training",
                    "",
                    "2022-06-30",
                    "渝北为云阳开展就业培训",
                )
            },
            "帮助开展就业培训920人次",
        ),
    ];
    for (i, n) in split(204, 17, 7).iter().enumerate() {
        list.push(ActivityInput {
            headcount: n.to_string(),
            direction: "a_to_b".into(),
            ..activity(
                d.yqlq(i)?,
                "exchange",
                "medical",
                &day_in_first_year(i),
                "互派医务人员",
            )
        });
    }
    for (i, n) in split(136 - 7, 16, 8).iter().enumerate() {
        let pair = if i >= 11 { i + 1 } else { i };
        list.push(ActivityInput {
            headcount: n.to_string(),
            direction: "a_to_b".into(),
            ..activity(
                d.yqlq(pair)?,
                "exchange",
                "teacher",
                &day_in_first_year(i + 4),
                "互派教师",
            )
        });
    }
    for (i, n) in split(44 - 7, 16, 9).iter().enumerate() {
        let pair = if i >= 4 { i + 1 } else { i };
        list.push(ActivityInput {
            headcount: n.to_string(),
            direction: "a_to_b".into(),
            ..activity(
                d.yqlq(pair)?,
                "exchange",
                "professional",
                &day_in_first_year(i + 6),
                "专技人才挂职交流",
            )
        });
    }
    d.activities(list).await?;

    // 24 technology-transfer projects; three are named in the seed.
    let mut list = vec![
        quoted(
            activity(
                d.yqlq(4)?,
                "tech_transfer",
                "",
                "2022-03-10",
                "菜用生姜新品种生态适应性评价与示范推广",
            ),
            "菜用生姜新品种生态适应性评价与示范推广",
        ),
        quoted(
            activity(
                d.yqlq(4)?,
                "tech_transfer",
                "",
                "2022-04-12",
                "彭水中高山区优质高食味专用水稻品种筛选研究与示范",
            ),
            "彭水中高山区优质高食味专用水稻品种筛选研究与示范",
        ),
        quoted(
            activity(
                d.yqlq(8)?,
                "tech_transfer",
                "",
                "2022-05-20",
                "“红西本”三元杂交肉牛选育",
            ),
            "西南大学荣昌校区团队正有序推进“红西本”三元杂交肉牛选育工作",
        ),
    ];
    for k in 0..21 {
        list.push(activity(
            d.yqlq((k * 3 + 1) % 17)?,
            "tech_transfer",
            "",
            &day_in_first_year(k),
            "科技成果转化应用项目",
        ));
    }
    // 11 pairs with financing cooperation, 11 with ecological compensation.
    list.push(quoted(
        activity(
            d.yqlq(6)?,
            "financing",
            "",
            "2022-08-05",
            "万州区两江新区现代产业投资基金成立",
        ),
        "重庆万州区两江新区现代产业投资基金成立",
    ));
    for i in [0, 1, 2, 3, 4, 5, 7, 8, 9, 10] {
        list.push(activity(
            d.yqlq(i)?,
            "financing",
            "",
            &day_in_first_year(i + 1),
            "融资协作",
        ));
    }
    for i in [0, 1, 2, 4, 6, 8, 9, 11, 12, 13, 14] {
        list.push(activity(
            d.yqlq(i)?,
            "eco_compensation",
            "",
            &day_in_first_year(i + 2),
            "横向生态补偿协议",
        ));
    }
    // 5 pairs with land-resource cooperation; two trades are the seed's.
    list.push(quoted(
        ActivityInput {
            area: "7.5万亩".into(),
            amount: "1.875亿元".into(),
            direction: "a_to_b".into(),
            ..activity(
                d.yqlq(9)?,
                "land_trade",
                "forest_area",
                "2022-06-28",
                "江北区向酉阳县购买森林面积指标",
            )
        },
        "江北区向西阳县购买森林面积指标7.5万亩,交易金额1.875亿元",
    ));
    list.push(quoted(
        ActivityInput {
            area: "2300亩".into(),
            amount: "1.99亿元".into(),
            direction: "a_to_b".into(),
            ..activity(
                d.yqlq(10)?,
                "land_trade",
                "farmland_balance",
                "2022-07-15",
                "重庆高新区—黔江区耕地占补平衡指标交易",
            )
        },
        "重庆高新区-黔江区已完成耕地占补平衡指标交易2300亩,交易金额1.99亿元",
    ));
    for (k, i) in [2usize, 12, 15].iter().enumerate() {
        list.push(ActivityInput {
            area: format!("{}", 600 + 150 * k),
            amount: format!("{}万元", 4_800 + 1_200 * k),
            ..activity(
                d.yqlq(*i)?,
                "land_trade",
                "farmland_balance",
                &day_in_first_year(k + 7),
                "耕地占补平衡指标交易",
            )
        });
    }
    d.activities(list).await?;

    // 沙坪坝–奉节 "百千万" progress, generated, so the card shows progress against its targets.
    d.values(
        "YQLQ",
        vec![
            value(sfj, "CHILDREN_HELPED", "2022-08", "46".into()),
            value(sfj, "VOLUNTEERS", "2022-08", "38".into()),
            value(sfj, "STUDY_TOURS", "2022-08", "320".into()),
            value(sfj, "TOURISTS", "2022-08", "4600".into()),
        ],
    )
    .await?;
    d.activities(vec![ActivityInput {
        headcount: "410".into(),
        ..activity(
            sfj,
            "training",
            "",
            "2022-08-20",
            "沙坪坝为奉节培训党政、教育、卫生等人员",
        )
    }])
    .await?;
    let _ = SEED002;
    Ok(())
}

async fn shandong_chongqing(d: &Demo<'_>) -> Result<()> {
    let province = d.pairing("370000", "500000")?;
    // About 400 cadres and nearly 5,000 professional person-times exchanged (batches generated).
    let mut list = Vec::new();
    for (k, n) in split(400, 5, 10).iter().enumerate() {
        list.push(quoted(
            ActivityInput {
                headcount: n.to_string(),
                direction: "mutual".into(),
                batch: Some(k as i64 + 1),
                ..activity(
                    province,
                    "exchange",
                    "cadre",
                    &format!("{}-03-15", 2018 + k),
                    "鲁渝互派挂职干部",
                )
            },
            "已互派干部约400名，每年都有上百名干部处于相互交流的状态",
        ));
    }
    for (k, n) in split(4_980, 5, 11).iter().enumerate() {
        list.push(quoted(
            ActivityInput {
                headcount: n.to_string(),
                direction: "mutual".into(),
                ..activity(
                    province,
                    "exchange",
                    "professional",
                    &format!("{}-06-20", 2018 + k),
                    "鲁渝专技人才交流",
                )
            },
            "另外还有近5000人次的专技人才也参与到鲁渝互派交流中",
        ));
    }
    // 77 Shandong firms landed in 2022 with 49.23亿元 invested (split over the year generated).
    let amounts = split(492_300, 77, 12);
    let cities = [
        ("371600", "500236"),
        ("370700", "500154"),
        ("370300", "500240"),
        ("370100", "500156"),
    ];
    for (k, wan) in amounts.iter().enumerate() {
        let pairing = if k % 3 == 0 {
            d.pairing(cities[k % 4].0, cities[k % 4].1)?
        } else {
            province
        };
        list.push(quoted(
            ActivityInput {
                amount: format!("{wan}万元"),
                ..activity(
                    pairing,
                    "firm",
                    "",
                    &format!("2022-{:02}-{:02}", 1 + k % 12, 1 + k % 27),
                    "山东企业落地投产",
                )
            },
            "全市新增落地投产山东企业77家，实际到位投资额49.23亿元",
        ));
    }
    for a in &mut list {
        a.generated = true;
    }
    d.activities(list).await
}

async fn sichuan_chongqing(d: &Demo<'_>) -> Result<()> {
    let province = d.pairing("510000", "500000")?;
    // 301 cadres since September 2020 in three batches (batch sizes generated).
    let batches = [
        ("2020-09-15", 100),
        ("2021-09-15", 101),
        ("2022-09-15", 100),
    ];
    let list = batches
        .iter()
        .enumerate()
        .map(|(k, (day, n))| ActivityInput {
            headcount: n.to_string(),
            direction: "mutual".into(),
            batch: Some(k as i64 + 1),
            ended_on: String::new(),
            note: "单向挂职、双边履职；任期一年，可接续挂职".into(),
            generated: true,
            ..quoted(
                activity(
                    province,
                    "exchange",
                    "cadre",
                    day,
                    &format!("川渝互派干部第{}批", k + 1),
                ),
                "从2020年9月开始,至今共有301名干部开始了这种双向奔赴",
            )
        })
        .collect();
    d.activities(list).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_add_up_exactly_and_stay_positive() {
        for (total, n) in [(43_900, 17), (204, 17), (37, 16), (492_300, 77)] {
            let parts = split(total, n, 3);
            assert_eq!(parts.iter().sum::<i64>(), total);
            assert!(parts.iter().all(|p| *p > 0), "{parts:?}");
        }
        assert_eq!(split(10, 3, 1), split(10, 3, 1), "repeatable");
    }
}
