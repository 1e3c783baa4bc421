//! What the jobs' tests start from: an active unit with an approved declaration of more rows
//! than one transaction, its job's pointer, and the recorded events AWS would deliver.

#![allow(dead_code, reason = "each test binary uses what it needs")]

use std::sync::Arc;

use chrono::{DateTime, NaiveDate};
use serde_json::{Value, json};
use swi_enrollment::declarations::apply::{ApplyPointer, NAME, ROWS_PER_TRANSACTION};
use swi_enrollment::declarations::{Declaration, ReviewStatus};
use swi_platform::Platform;
use swi_platform::clock::FixedClock;
use swi_registry::enrolment::Member;
use swi_registry::unit::{Account, Contact, Unit, UnitStatus, unit_put};
use swi_store::{Condition, Item, Query, SkRange, TxOp};

/// The business date of these tests (a Monday).
pub const TODAY: &str = "2026-06-15";

/// The unit the declaration is of.
pub const UNIT: &str = "91360702MA35K8TN2H";

/// A platform on the embedded store in `dir`, on [`TODAY`].
pub fn embedded(dir: &std::path::Path) -> Platform {
    let (state, docs) = swi_store_embedded::open(dir, "http://127.0.0.1:1").unwrap();
    Platform {
        state,
        docs,
        tokens: Arc::new(swi_platform::auth::TokenKeys::from_secret(&[1; 32])),
        persons: Arc::new(swi_platform::pseudonym::PersonKeys::from_secret(&[3; 32]).unwrap()),
        clock: Arc::new(FixedClock(
            DateTime::parse_from_rfc3339(&format!("{TODAY}T09:30:00+08:00")).unwrap(),
        )),
        base_params: Arc::new(swi_rules::ParamSet::builtin().unwrap().clone()),
        city_params: Default::default(),
        public_url: String::new(),
    }
}

/// What was seeded.
pub struct Seeded {
    /// Rows of the declaration.
    pub rows: usize,
    /// The declaration.
    pub id: String,
}

/// Seeds the unit, the approved declaration `id` and its pointer.
pub async fn declaration(p: &Platform, id: &str) -> Seeded {
    let today: NaiveDate = TODAY.parse().unwrap();
    let rows = ROWS_PER_TRANSACTION + 5;
    let mut csv = String::from("变动类型,姓名,公民身份号码,人员类别,申报工资,变动日期,手机号码\n");
    for i in 0..rows {
        let number = swi_rules::ids::ResidentId::with_check_character(&format!(
            "3607021991{:02}{:02}{:03}",
            1 + i / 28,
            1 + i % 28,
            200 + i
        ))
        .unwrap();
        csv.push_str(&format!(
            "增,职工{i},{},employee,5000.00,{today},1390797{i:04}\n",
            number.expose()
        ));
    }
    let sha = p
        .docs
        .receive(&mut csv.as_bytes(), 1 << 30)
        .await
        .unwrap()
        .sha256;
    let d = Declaration {
        id: id.to_owned(),
        unit: UNIT.into(),
        county: swi_rules::ids::County::parse("360702").unwrap(),
        month: chrono::Datelike::with_day(&today, 1).unwrap(),
        sha256: sha.hex(),
        joiners: rows,
        leavers: 0,
        status: ReviewStatus::Applying,
        received_on: today,
        review_by: today,
        review_by_assumes: None,
        reviewed_by: Some("测试审核员".into()),
        reviewed_on: Some(today),
        note: None,
        applied: 0,
        not_applied: 0,
        cursor: 0,
    };
    let unit = Unit {
        code: UNIT.into(),
        name: "赣州某某建材有限公司".into(),
        county: swi_rules::ids::County::parse("360702").unwrap(),
        industry_class: 4,
        rate_band: "1.2".parse().unwrap(),
        work_injury_no: "GS-360702-0001".into(),
        account: Account {
            bank: "中国银行赣州分行".into(),
            number: "6216610100001234567".into(),
            holder: "赣州某某建材有限公司".into(),
        },
        contact: Contact {
            name: "张三".into(),
            phone: "13907970001".into(),
        },
        status: UnitStatus::Active,
        registered_on: today,
        cancelled_on: None,
        members_ended: 0,
        ending_members: false,
        moving_members: false,
        members_moved: 0,
        band_history: Vec::new(),
    };
    p.state
        .transact(vec![
            unit_put(&unit, Condition::None).unwrap(),
            TxOp::Put {
                item: Item::new(format!("declaration#{id}"), "profile", &d).unwrap(),
                condition: Condition::NotExists,
            },
            TxOp::Put {
                item: Item::new(
                    swi_platform::jobs::pointer_partition(NAME),
                    id,
                    &ApplyPointer {
                        declaration: id.to_owned(),
                        cursor: 0,
                    },
                )
                .unwrap(),
                condition: Condition::NotExists,
            },
        ])
        .await
        .unwrap();
    Seeded {
        rows,
        id: id.to_owned(),
    }
}

/// Makes the first member of the unit reach the retirement age today.
pub async fn retirement_pointer(p: &Platform, _s: &Seeded) {
    let members = p
        .state
        .query(
            &Query::partition(format!("unit#{UNIT}"))
                .range(SkRange::Prefix("member#".into()))
                .limit(1),
        )
        .await
        .unwrap();
    let member: Member = members.items[0].body().unwrap();
    p.state
        .transact(vec![
            swi_enrollment::retirement::pointer_op(
                &swi_enrollment::retirement::RetirementPointer {
                    enrolment: member.id.clone(),
                    unit: UNIT.into(),
                    reached_on: TODAY.parse().unwrap(),
                },
            )
            .unwrap(),
        ])
        .await
        .unwrap();
}

/// A DynamoDB stream batch (KEYS_ONLY) with the declaration job's pointer to `id`.
pub fn stream_event(table: &str, id: &str) -> Value {
    json!({ "Records": [{
        "eventID": "1", "eventName": "INSERT", "eventVersion": "1.1", "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "ApproximateCreationDateTime": 1_764_000_000, "SequenceNumber": "100", "SizeBytes": 60,
            "StreamViewType": "KEYS_ONLY",
            "Keys": { "pk": { "S": "jobs#declaration-apply" }, "sk": { "S": id } }
        },
        "eventSourceARN": format!("arn:aws:dynamodb:us-east-1:123456789012:table/{table}/stream/2026-01-01T00:00:00.000")
    }]})
}

/// An S3 batch: an object created under `incoming/`.
pub fn s3_event() -> Value {
    json!({ "Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
        "eventTime": "2026-06-15T01:30:00.000Z", "eventName": "ObjectCreated:Put",
        "s3": { "s3SchemaVersion": "1.0", "configurationId": "incoming",
            "bucket": { "name": "swi-docs", "arn": "arn:aws:s3:::swi-docs" },
            "object": { "key": "incoming/ab12", "size": 1024, "eTag": "e", "sequencer": "0A" } }
    }]})
}
