//! Benefit supervision (待遇支付监督, Art. 43): an injury soon after cover started; one invoice
//! number in two claims; fees dated before the injury, mostly outside the catalogues, or far
//! above what earlier claims for the same body part were allowed; treatment outside the
//! agreement institutions without an emergency or an approved transfer (Art. 23, 49).
//!
//! Two indexes of supervision's own keep the comparisons off table scans, each written once per
//! claim by the rules as they meet it: `invoice#<number>` / `claim#<id>` (the claims relying on an
//! invoice number) and `fee-norm#<body part>` / `claim#<id>` (the allowed fees of approved claims by
//! body part).

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::Digest;
use swi_platform::{ApiError, Platform};
use swi_registry::enrolment::{Enrolment, enrolment_key};
use swi_registry::project::{Project, project_key};
use swi_store::{Condition, Item, Key, Query, StateError, TxOp};

use crate::catalogue::{Flag, RuleId, threshold};
use crate::views::{ClaimView, InjuryView};

/// The claim review commands after which a claim's fee lines are (re)judged.
pub const JUDGED: [&str; 3] = ["claim.first_review", "claim.re_review", "claim.approve"];

/// An injury `supervision.claim_after_cover_days` days or fewer after the cover it is claimed on
/// started.
///
/// # Errors
/// The store is unavailable, or a record no longer reads.
pub async fn soon_after_cover(
    p: &Platform,
    claim: &ClaimView,
    injury: &InjuryView,
) -> Result<Option<Flag>, ApiError> {
    let (started, cover_case) = match injury.covered_by.kind.as_str() {
        "enrolment" => {
            let Some(item) = p.state.get(&enrolment_key(&injury.covered_by.id)).await? else {
                return Ok(None);
            };
            let e: Enrolment = item.body().map_err(|e| ApiError::internal(&e))?;
            (
                e.cover_start.unwrap_or(e.start),
                format!("enrolment#{}", e.id),
            )
        }
        "project" => {
            let Some(item) = p.state.get(&project_key(&injury.covered_by.id)).await? else {
                return Ok(None);
            };
            let pr: Project = item.body().map_err(|e| ApiError::internal(&e))?;
            (pr.start, format!("project#{}", pr.id))
        }
        _ => return Ok(None),
    };
    let injured = injury.recognition.injured_on;
    let days = (injured - started).num_days();
    let params = p.params().await?;
    let limit = threshold(&params, "supervision.claim_after_cover_days", injured)?;
    if days < 0 || Decimal::from(days) > limit {
        return Ok(None);
    }
    Ok(Some(Flag {
        rule: RuleId::ClaimSoonAfterCover,
        key: claim.id.clone(),
        subject: format!("claim#{}", claim.id),
        county: Some(claim.county),
        evidence: json!({ "cover_started": started, "injured_on": injured, "days": days,
            "threshold_days": limit, "cover": cover_case }),
        links: vec![
            format!("claim#{}", claim.id),
            format!("injury#{}", injury.id),
            cover_case,
        ],
        says: (
            format!(
                "参保 {days} 天后即发生工伤（{injured}），申领 {} 须核实参保时间与受伤经过（第四十三条）",
                claim.id
            ),
            format!(
                "claim {}: injured {days} days after cover started ({started}); check when cover began and how the injury happened (Art. 43)",
                claim.id
            ),
        ),
    }))
}

/// An invoice number as compared: upper case, no spaces; a key part of letters, digits and
/// `-`, or a hash of the number when it holds anything else.
#[must_use]
pub fn invoice_key(number: &str) -> String {
    let n: String = number
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_uppercase)
        .collect();
    if !n.is_empty() && n.len() <= 64 && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        n
    } else {
        hex::encode(&sha2::Sha256::digest(n.as_bytes())[..12])
    }
}

/// A claim relying on an invoice number, in the invoice index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceUse {
    /// The claim.
    pub claim: String,
    /// Its injury.
    pub injury: String,
    /// The number as written.
    pub number: String,
    /// The provider.
    pub provider: String,
    /// The amount invoiced.
    pub amount: Decimal,
}

/// Writes `ops` once (a write already made is as good).
async fn once(p: &Platform, ops: Vec<TxOp>) -> Result<(), ApiError> {
    if ops.is_empty() {
        return Ok(());
    }
    match p.state.transact(ops).await {
        Ok(()) | Err(StateError::Conflict { .. }) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// One invoice number in two claims of different injuries (one injury's claims may not rely on
/// an invoice twice already): one alert per number and later claim.
///
/// # Errors
/// The store is unavailable.
pub async fn invoice_reused(p: &Platform, claim: &ClaimView) -> Result<Vec<Flag>, ApiError> {
    let Some(review) = &claim.review else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for line in &review.fee_lines {
        let key = invoice_key(&line.invoice_number);
        let mine = Key::new(format!("invoice#{key}"), format!("claim#{}", claim.id));
        if p.state.get(&mine).await?.is_none() {
            let use_ = InvoiceUse {
                claim: claim.id.clone(),
                injury: claim.injury.clone(),
                number: line.invoice_number.clone(),
                provider: line.provider.clone(),
                amount: line.amount,
            };
            once(
                p,
                vec![TxOp::Put {
                    item: Item::new(mine.pk.clone(), mine.sk.clone(), &use_)?,
                    condition: Condition::NotExists,
                }],
            )
            .await?;
        }
        let uses: Vec<InvoiceUse> = p
            .state
            .query_all(&Query::partition(format!("invoice#{key}")).limit(100))
            .await?
            .iter()
            .map(|i| i.body().map_err(|e| ApiError::internal(&e)))
            .collect::<Result<_, _>>()?;
        let others: Vec<&InvoiceUse> = uses
            .iter()
            .filter(|u| u.claim != claim.id && u.injury != claim.injury)
            .collect();
        if others.is_empty() {
            continue;
        }
        let mut links = vec![format!("claim#{}", claim.id)];
        links.extend(others.iter().map(|u| format!("claim#{}", u.claim)));
        out.push(Flag {
            rule: RuleId::InvoiceReused,
            key: format!("{key}:{}", claim.id),
            subject: format!("claim#{}", claim.id),
            county: Some(claim.county),
            evidence: json!({ "invoice": line.invoice_number, "provider": line.provider,
                "amount": line.amount, "also_in": others }),
            links,
            says: (
                format!(
                    "票据号 {} 同时出现在申领 {} 与 {} 中，须核实是否重复报销（第四十三条）",
                    line.invoice_number,
                    claim.id,
                    others
                        .iter()
                        .map(|u| u.claim.as_str())
                        .collect::<Vec<_>>()
                        .join("、")
                ),
                format!(
                    "invoice {} is relied on by claim {} and by {} other claim(s) (Art. 43)",
                    line.invoice_number,
                    claim.id,
                    others.len()
                ),
            ),
        });
    }
    Ok(out)
}

/// An approved claim's allowed fees, in the body part's index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeeNorm {
    /// The claim.
    pub claim: String,
    /// The fees allowed.
    pub allowed: Decimal,
}

fn body_part_key(part: &str) -> String {
    let p: String = part.chars().filter(|c| !c.is_whitespace()).collect();
    hex::encode(&sha2::Sha256::digest(p.as_bytes())[..12])
}

fn median(mut v: Vec<Decimal>) -> Option<Decimal> {
    if v.is_empty() {
        return None;
    }
    v.sort();
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / Decimal::TWO
    })
}

/// Fees out of line with the injury or the catalogues: lines dated before the injury; a share of
/// the fees invoiced outside the catalogues above `supervision.out_of_catalogue_share`; and, once
/// approved, fees allowed above `supervision.fee_outlier_multiple` times the median of the earlier
/// approved claims for the same body part (when there are `supervision.fee_outlier_min_claims`).
///
/// # Errors
/// The store is unavailable, or a threshold is not in force.
pub async fn fees_out_of_line(
    p: &Platform,
    claim: &ClaimView,
    injury: &InjuryView,
) -> Result<Vec<Flag>, ApiError> {
    let Some(review) = &claim.review else {
        return Ok(Vec::new());
    };
    let lines = &review.fee_lines;
    if lines.is_empty() {
        return Ok(Vec::new());
    }
    let params = p.params().await?;
    let on = injury.recognition.injured_on;
    let case = format!("claim#{}", claim.id);
    let links = vec![case.clone(), format!("injury#{}", injury.id)];
    let flag = |part: &str, evidence, zh: String, en: String| Flag {
        rule: RuleId::FeesOutOfLine,
        key: format!("{}:{part}", claim.id),
        subject: case.clone(),
        county: Some(claim.county),
        evidence,
        links: links.clone(),
        says: (zh, en),
    };
    let mut out = Vec::new();
    let before: Vec<_> = lines
        .iter()
        .filter(|l| l.date < on)
        .map(|l| json!({ "invoice": l.invoice_number, "date": l.date, "amount": l.amount, "provider": l.provider }))
        .collect();
    if !before.is_empty() {
        out.push(flag(
            "before_injury",
            json!({ "injured_on": on, "lines": before }),
            format!(
                "申领 {} 有 {} 张票据早于受伤日 {on}（第四十三条：诊疗是否与伤情相符）",
                claim.id,
                before.len()
            ),
            format!(
                "claim {}: {} fee line(s) dated before the injury on {on} (Art. 43)",
                claim.id,
                before.len()
            ),
        ));
    }
    let total: Decimal = lines.iter().map(|l| l.amount).sum();
    let outside: Decimal = lines
        .iter()
        .filter(|l| l.catalogue == "outside" || l.item == "out_of_catalogue")
        .map(|l| l.amount)
        .sum();
    let share_limit = threshold(&params, "supervision.out_of_catalogue_share", on)?;
    if total > Decimal::ZERO && outside / total > share_limit {
        let share = (outside / total).round_dp(4);
        out.push(flag(
            "catalogue",
            json!({ "invoiced": total, "outside_catalogues": outside, "share": share, "threshold": share_limit }),
            format!("申领 {} 目录外费用 {outside} 元，占 {}%，超过提示线（第四十三条）", claim.id, (share * Decimal::ONE_HUNDRED).round_dp(1)),
            format!("claim {}: {outside} of {total} invoiced is outside the catalogues (Art. 43)", claim.id),
        ));
    }
    if claim.status == "approved" {
        let allowed: Decimal = lines.iter().map(|l| l.allowed).sum();
        let part = body_part_key(&injury.recognition.body_part);
        let pk = format!("fee-norm#{part}");
        let earlier: Vec<FeeNorm> = p
            .state
            .query_all(&Query::partition(pk.clone()).limit(1000))
            .await?
            .iter()
            .map(|i| i.body().map_err(|e| ApiError::internal(&e)))
            .collect::<Result<Vec<FeeNorm>, _>>()?
            .into_iter()
            .filter(|n| n.claim != claim.id)
            .collect();
        let min = threshold(&params, "supervision.fee_outlier_min_claims", on)?;
        let multiple = threshold(&params, "supervision.fee_outlier_multiple", on)?;
        if let Some(m) = median(earlier.iter().map(|n| n.allowed).collect())
            && Decimal::from(earlier.len()) >= min
            && m > Decimal::ZERO
            && allowed > m * multiple
        {
            out.push(flag(
                "outlier",
                json!({ "allowed": allowed, "body_part": injury.recognition.body_part,
                    "median": m, "claims_compared": earlier.len(), "multiple": multiple }),
                format!(
                    "申领 {} 核定费用 {allowed} 元，为同部位（{}）以往申领中位数 {m} 元的 {} 倍（第四十三条）",
                    claim.id, injury.recognition.body_part, (allowed / m).round_dp(1)
                ),
                format!(
                    "claim {}: {allowed} allowed, {}× the median {m} of {} earlier claims for the same body part (Art. 43)",
                    claim.id, (allowed / m).round_dp(1), earlier.len()
                ),
            ));
        }
        once(
            p,
            vec![TxOp::Put {
                item: Item::new(
                    pk,
                    format!("claim#{}", claim.id),
                    &FeeNorm {
                        claim: claim.id.clone(),
                        allowed,
                    },
                )?,
                condition: Condition::NotExists,
            }],
        )
        .await?;
    }
    Ok(out)
}

/// Fees at institutions outside the agreement (Art. 49) while handling found neither an
/// emergency nor an approved transfer (Art. 23).
#[must_use]
pub fn non_agreement_treatment(claim: &ClaimView) -> Option<Flag> {
    let review = claim.review.as_ref()?;
    let transfer = claim.handling.as_ref().and_then(|h| h.transfer.clone());
    if matches!(transfer.as_deref(), Some("emergency" | "approved")) {
        return None;
    }
    let outside: Vec<_> = review
        .fee_lines
        .iter()
        .filter(|l| !l.agreement_institution)
        .map(|l| json!({ "provider": l.provider, "invoice": l.invoice_number, "amount": l.amount, "allowed": l.allowed, "date": l.date }))
        .collect();
    if outside.is_empty() {
        return None;
    }
    Some(Flag {
        rule: RuleId::NonAgreementTreatment,
        key: claim.id.clone(),
        subject: format!("claim#{}", claim.id),
        county: Some(claim.county),
        evidence: json!({ "lines": outside, "transfer_finding": transfer }),
        links: vec![
            format!("claim#{}", claim.id),
            format!("injury#{}", claim.injury),
        ],
        says: (
            format!(
                "申领 {} 有 {} 笔费用发生在非协议机构，且无急诊或转诊批准（第二十三条、第四十九条）",
                claim.id,
                outside.len()
            ),
            format!(
                "claim {}: {} fee line(s) at institutions outside the agreement, with no emergency or approved transfer (Art. 23, 49)",
                claim.id,
                outside.len()
            ),
        ),
    })
}
