//! Entry and approval (录入, Art. 34 (三)): the first-review post enters the re-reviewed claim;
//! the items are assessed once more with the parameters in force — an item waiting for a figure
//! the city has not set stops the approval, naming it and who sets it. Approval prints the two
//! forms, turns lump sums into payable lines due within 10 working days (Art. 38) and monthly
//! items into schedules, counts what was granted on the injury (caps and once-only items,
//! Art. 26, 29-32), and — where the rules say so — ends the person's supplementary relationship
//! (Art. 31) through the registry. All of it in one transaction.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use swi_domain::claim::{ClaimCommand, ClaimStatus};
use swi_payables::{
    LineStatus, PayableLine, Payee, PayeeKind, Schedule, ScheduleEnd, ScheduleStatus, line_put,
    schedule_put,
};
use swi_platform::auth::Authenticated;
use swi_platform::mutation::{IdempotencyKey, fingerprint};
use swi_platform::{ApiError, ErrorCode, Platform};
use swi_rules::benefits::Item;

use crate::assess::assess;
use crate::claim::{Approval, AssessedItem, Claim, ClaimantKind, Forms};
use crate::injury::Injury;
use crate::work::{Extra, advance, step_change};

fn payee_of(kind: PayeeKind, claim: &Claim, injury: &Injury, unit_name: Option<&str>) -> Payee {
    match kind {
        PayeeKind::Unit => Payee {
            kind,
            name: unit_name.unwrap_or_default().to_owned(),
            unit: claim.unit.clone(),
            id_number: None,
        },
        PayeeKind::Person => Payee {
            kind,
            name: injury.name.clone(),
            unit: None,
            id_number: Some(injury.id_number.clone()),
        },
        PayeeKind::Relatives | PayeeKind::Dependant => Payee {
            kind,
            // The relatives are paid through the one who claimed for them.
            name: if claim.claimant.kind == ClaimantKind::Relative {
                claim.claimant.name.clone()
            } else {
                injury.name.clone()
            },
            unit: None,
            id_number: None,
        },
    }
}

fn ends(item: Item) -> Vec<ScheduleEnd> {
    match item {
        Item::DependantPension => vec![ScheduleEnd::RecipientDies, ScheduleEnd::NoLongerDependant],
        _ => vec![ScheduleEnd::RecipientDies, ScheduleEnd::Reappraised],
    }
}

/// The payable lines and schedules of an approved assessment.
///
/// # Errors
/// A working-day calendar missing for the due date's year.
fn payables(
    params: &swi_rules::ParamSet,
    claim: &Claim,
    injury: &Injury,
    granted: &[&AssessedItem],
    unit_name: Option<&str>,
    on: NaiveDate,
) -> Result<(Vec<PayableLine>, Vec<Schedule>), ApiError> {
    let due = swi_rules::calendar::pay_by(params, on)?.value;
    let (mut lines, mut schedules) = (Vec::new(), Vec::new());
    for i in granted {
        let Some(amount) = i.amount.filter(|a| *a > Decimal::ZERO) else {
            continue;
        };
        let payee = payee_of(i.payee, claim, injury, unit_name);
        if !i.monthly {
            lines.push(PayableLine {
                id: format!("{}/{}", claim.id, i.item),
                claim: claim.id.clone(),
                injury: injury.id.clone(),
                item: i.item,
                county: claim.county,
                payee,
                amount,
                approved_on: on,
                due,
                basis: i.basis.clone(),
                assumptions: i.assumptions.clone(),
                status: LineStatus::Open,
            });
            continue;
        }
        let start = crate::assess::figures_on(i.item, injury).max(
            injury
                .appraisal
                .as_ref()
                .filter(|_| i.item != Item::DependantPension)
                .map_or(on, |a| a.appraised_on),
        );
        if i.item == Item::DependantPension {
            let dependants = claim
                .review
                .as_ref()
                .map(|r| r.dependants.clone())
                .unwrap_or_default();
            for (n, (d, monthly)) in dependants.iter().zip(&i.per_dependant).enumerate() {
                schedules.push(Schedule {
                    id: format!("{}/{}/{}", claim.id, i.item, n + 1),
                    claim: claim.id.clone(),
                    injury: injury.id.clone(),
                    item: i.item,
                    county: claim.county,
                    payee: Payee {
                        kind: PayeeKind::Dependant,
                        name: d.name.clone(),
                        unit: None,
                        id_number: d.id_number.clone(),
                    },
                    monthly: *monthly,
                    start,
                    ends: ends(i.item),
                    basis: i.basis.clone(),
                    assumptions: i.assumptions.clone(),
                    status: ScheduleStatus::Active,
                });
            }
        } else {
            schedules.push(Schedule {
                id: format!("{}/{}", claim.id, i.item),
                claim: claim.id.clone(),
                injury: injury.id.clone(),
                item: i.item,
                county: claim.county,
                payee,
                monthly: amount,
                start,
                ends: ends(i.item),
                basis: i.basis.clone(),
                assumptions: i.assumptions.clone(),
                status: ScheduleStatus::Active,
            });
        }
    }
    Ok((lines, schedules))
}

/// `POST /api/claims/{id}/approve`: the first-review post enters the re-reviewed claim and it
/// is approved, with its forms, payable lines and schedules (Art. 31, 34, 35, 38).
///
/// # Errors
/// 403 (separation of duties included); 404; 409 not at entry, or a concurrent change; 422 an
/// item waits for a parameter the city has not set (named, with who sets it), or the person's
/// relationship ended meanwhile; 503 forms unavailable.
#[utoipa::path(post, path = "/api/claims/{id}/approve", tag = "claims",
    params(("id" = String, Path), ("Idempotency-Key" = String, Header)),
    responses((status = 200, description = "approved", body = Claim),
        (status = "4XX", description = "refused: see `code`", body = swi_platform::error::ErrorBody),
        (status = "5XX", description = "forms or store unavailable", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn approve(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    key: IdempotencyKey,
    Path(id): Path<String>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let fp = fingerprint(&format!("POST /api/claims/{id}/approve"), &());
    let params = p.params().await?;
    let a = actor.clone();
    let pp = p.clone();
    step_change(&p, &actor, &key, &fp, &id, "claim.approve", &[ClaimStatus::Entry], |mut claim, mut injury, _, now| async move {
        let to = advance(&claim, ClaimCommand::Enter)?;
        let on = now.date();
        if let Some(end) = swi_registry::relationship::ended_on(&pp, &claim.person).await? {
            return Err(ApiError::refused(
                ErrorCode::CoverEnded,
                "补充工伤保险关系已终止，不再享受补充工伤保险待遇（第三十一条）",
                format!("the person's supplementary relationship ended on {} (Art. 31)", end.on),
            ));
        }
        let facts = claim.review.clone().unwrap_or_default();
        let assessment = assess(&params, &claim, &injury, &facts, on)?;
        if let Some((item, pending)) = assessment.pending() {
            return Err(ApiError::refused(
                ErrorCode::ParameterPending,
                format!(
                    "{}所需参数 {} 尚未设定，暂不能核定；由市级经办机构设定后可继续办理",
                    item.item.chinese(),
                    pending.parameter
                ),
                format!(
                    "{} needs parameter {}, which the city has not set: {}",
                    item.item, pending.parameter, pending.set_by
                ),
            ));
        }
        let granted: Vec<&AssessedItem> = assessment
            .items
            .iter()
            .filter(|i| i.refusal.is_none())
            .collect();
        let unit_name = match &claim.unit {
            Some(code) => Some(swi_registry::unit::load_unit(&pp, code).await?.0.name),
            None => None,
        };
        let (lines, schedules) =
            payables(&params, &claim, &injury, &granted, unit_name.as_deref(), on)?;
        // What this claim granted counts for the injury's later claims.
        for i in &granted {
            if let Some(amount) = i.amount {
                *injury.granted.entry(i.item).or_default() += amount;
            }
        }
        injury.reserved.retain(|_, c| *c != claim.id);
        injury
            .invoices
            .extend(facts.fee_lines.iter().map(|l| l.invoice_number.clone()));
        let ending = granted
            .iter()
            .find(|i| i.ends_cover && i.amount.is_some_and(|a| a > Decimal::ZERO));
        let mut extra = Extra {
            injury_changed: true,
            injury_event: Some((
                "injury.granted",
                json!({ "claim": claim.id, "granted": injury.granted }),
            )),
            ..Extra::default()
        };
        if let Some(i) = ending {
            // Creates the marker (create-only: the relationship ends once).
            let (ops, audit) =
                swi_registry::relationship::end(&pp, &claim.person, on, &claim.id, i.item.as_str())
                    .await?;
            extra.ops.extend(ops);
            extra.audit.extend(audit);
        } else {
            extra.ops.push(swi_registry::relationship::still_open(&claim.person));
        }
        for l in &lines {
            extra.ops.push(line_put(l)?);
        }
        for s in &schedules {
            extra.ops.push(schedule_put(s)?);
        }
        let (assessment_form, issued) = crate::forms::store(
            &pp,
            crate::forms::assessment_form(&claim, &injury, unit_name.as_deref(), &assessment, on),
            &claim,
            on,
        )
        .await?;
        extra.ops.extend(issued);
        let (application_form, issued) = crate::forms::store(
            &pp,
            crate::forms::application_form(&claim, &injury, unit_name.as_deref(), &assessment, on),
            &claim,
            on,
        )
        .await?;
        extra.ops.extend(issued);
        let forms = Forms {
            assessment_form,
            application_form,
        };
        // Decided: the claim's documents count their retention from now (Art. 45).
        extra
            .ops
            .push(swi_platform::dossier::closed_op(&crate::claim::claim_case(&claim.id), on)?);
        claim.status = to;
        claim.assessment = Some(assessment.clone());
        claim.approval = Some(Approval {
            on,
            forms: forms.clone(),
            payable_lines: lines.iter().map(|l| l.id.clone()).collect(),
            schedules: schedules.iter().map(|s| s.id.clone()).collect(),
            relationship_ended: ending.is_some(),
        });
        claim.record(&a, "approved", now, None);
        let detail = json!({
            "assessment": assessment,
            "forms": forms,
            "payable_lines": lines.iter().map(|l| json!({ "id": l.id, "amount": l.amount, "due": l.due })).collect::<Vec<_>>(),
            "schedules": schedules.iter().map(|s| json!({ "id": s.id, "monthly": s.monthly, "start": s.start })).collect::<Vec<_>>(),
            "relationship_ended": ending.map(|i| json!({ "on": on, "item": i.item, "basis": "Art. 31" })),
            "basis": ["Art. 31", "Art. 34", "Art. 35", "Art. 38"],
        });
        Ok((claim, injury, detail, extra))
    })
    .await
}
