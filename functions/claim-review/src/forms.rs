//! The official forms printed on approval (Art. 25-34): 《补充工伤保险待遇核定表》 (the
//! assessment: every item, amount, basis and payee) and 《补充工伤保险待遇申领表》 (the
//! application as entered), each listing the SHA-256 of every document relied on. Built as
//! `swi_forms::Form`s here (pure), rendered with the embedded CJK font and stored
//! content-addressed by [`store`].

use swi_forms::{Field, Form, chinese_date};
use swi_payables::PayeeKind;
use swi_platform::{ApiError, Platform};

use crate::claim::{Assessment, Claim, ClaimantKind};
use crate::injury::{Injury, InjuryKind};

fn payee_zh(p: PayeeKind) -> &'static str {
    match p {
        PayeeKind::Unit => "参保单位账户",
        PayeeKind::Person => "本人社会保障卡",
        PayeeKind::Dependant => "供养亲属",
        PayeeKind::Relatives => "近亲属",
    }
}

fn subject(claim: &Claim, injury: &Injury, unit_name: Option<&str>) -> Vec<Field> {
    let masked = claim.masked();
    let mut fields = vec![
        Field {
            label: "申领编号".into(),
            value: claim.id.clone(),
        },
        Field {
            label: "受伤人员".into(),
            value: format!("{}（{}）", claim.name, masked.id_number),
        },
        Field {
            label: "人员类别".into(),
            value: claim.category.chinese().into(),
        },
        Field {
            label: "参保单位".into(),
            value: match (&claim.unit, unit_name) {
                (Some(code), Some(name)) => format!("{name}（{code}）"),
                (Some(code), None) => code.clone(),
                (None, _) => "个人参保".into(),
            },
        },
        Field {
            label: "认定情况".into(),
            value: format!(
                "{}，{}认定，{}受伤（{}），受伤部位：{}",
                injury.recognition.decision_number,
                chinese_date(injury.recognition.decided_on),
                chinese_date(injury.recognition.injured_on),
                match injury.recognition.kind {
                    InjuryKind::Accident => "事故伤害",
                    InjuryKind::OccupationalDisease => "职业病",
                },
                injury.recognition.body_part
            ),
        },
    ];
    if let Some(l) = &injury.paid_leave {
        fields.push(Field {
            label: "停工留薪期".into(),
            value: format!("{}至{}", chinese_date(l.from), chinese_date(l.to)),
        });
    }
    if let Some(a) = &injury.appraisal {
        fields.push(Field {
            label: "劳动能力鉴定".into(),
            value: format!(
                "伤残{}级{}，{}，{}",
                a.grade,
                a.care_level
                    .map(|c| format!("，生活自理障碍{c}级"))
                    .unwrap_or_default(),
                a.committee,
                chinese_date(a.appraised_on)
            ),
        });
    }
    if let Some(d) = &injury.death {
        fields.push(Field {
            label: "死亡".into(),
            value: format!(
                "{}{}",
                chinese_date(d.died_on),
                if d.within_paid_leave {
                    "（停工留薪期内）"
                } else {
                    ""
                }
            ),
        });
    }
    fields.push(Field {
        label: "本人缴费工资".into(),
        value: format!(
            "{} 元（{}个月平均，第四十八条）",
            injury.insured_wage.amount, injury.insured_wage.months_used
        ),
    });
    fields
}

fn items(assessment: &Assessment) -> Vec<Field> {
    assessment
        .items
        .iter()
        .enumerate()
        .map(|(n, i)| {
            let value = match (&i.refusal, i.amount) {
                (Some(r), _) => format!("不予核定：{}（{}）", r.message, r.basis),
                (None, Some(a)) => format!(
                    "{} 元{}；支付至{}；依据：{}{}",
                    a,
                    if i.monthly { "／月" } else { "" },
                    payee_zh(i.payee),
                    i.basis.join("、"),
                    i.before_cap
                        .map(|b| format!("（按本次工伤累计上限由 {b} 元核减）"))
                        .unwrap_or_default()
                ),
                (None, None) => "待定：所需参数尚未设定".into(),
            };
            Field {
                label: format!("{}. {}", n + 1, i.item.chinese()),
                value,
            }
        })
        .collect()
}

fn totals_and_sources(claim: &Claim, injury: &Injury, assessment: &Assessment) -> Vec<Field> {
    let mut fields = vec![Field {
        label: "核定合计".into(),
        value: format!(
            "一次性 {} 元；按月 {} 元",
            assessment.lump_sum_total, assessment.monthly_total
        ),
    }];
    let mut assumed: Vec<String> = assessment
        .items
        .iter()
        .flat_map(|i| i.assumptions.iter())
        .map(|u| format!("{}（{}，{}）", u.parameter, u.status, u.source))
        .collect();
    assumed.sort();
    assumed.dedup();
    if !assumed.is_empty() {
        fields.push(Field {
            label: "采用的参数".into(),
            value: assumed.join("；"),
        });
    }
    for m in &claim.checklist {
        if let Some(sha) = injury.materials.get(m) {
            fields.push(Field {
                label: m.chinese().into(),
                value: format!("SHA-256 {sha}"),
            });
        }
    }
    fields
}

/// 《补充工伤保险待遇核定表》: who, the injury, every item with amount, basis and payee, the
/// totals, the figures used that are not confirmed, and every document relied on.
#[must_use]
pub fn assessment_form(
    claim: &Claim,
    injury: &Injury,
    unit_name: Option<&str>,
    assessment: &Assessment,
    on: chrono::NaiveDate,
) -> Form {
    let mut fields = subject(claim, injury, unit_name);
    fields.extend(items(assessment));
    fields.extend(totals_and_sources(claim, injury, assessment));
    Form {
        title: "补充工伤保险待遇核定表".into(),
        number: "表号：GZBG-DY-03".into(),
        serial: format!("编号：{}", claim.id),
        fields,
        statement: "经审核，上述待遇按《赣州市补充工伤保险业务经办规程》（赣市人社字〔2025〕7号）第二十三条至第三十五条、第四十八条核定，由工伤保险基金支付的不重复支付。".into(),
        signatures: vec![
            "初审（签字）".into(),
            "复核（签字）".into(),
            "承办机构（盖章）".into(),
        ],
        date_line: chinese_date(on),
        verification: None,
    }
}

/// 《补充工伤保险待遇申领表》: the claimant, the injured person, the items claimed and
/// approved, where each is paid (Art. 35), and every document relied on.
#[must_use]
pub fn application_form(
    claim: &Claim,
    injury: &Injury,
    unit_name: Option<&str>,
    assessment: &Assessment,
    on: chrono::NaiveDate,
) -> Form {
    let mut fields = vec![Field {
        label: "申领人".into(),
        value: format!(
            "{}（{}）",
            claim.claimant.name,
            match claim.claimant.kind {
                ClaimantKind::Unit => "参保单位",
                ClaimantKind::Person => "受伤职工本人",
                ClaimantKind::Relative => "近亲属",
            }
        ),
    }];
    fields.extend(subject(claim, injury, unit_name));
    fields.push(Field {
        label: "申领项目".into(),
        value: claim
            .items
            .iter()
            .map(|i| i.chinese())
            .collect::<Vec<_>>()
            .join("、"),
    });
    fields.extend(items(assessment));
    fields.extend(totals_and_sources(claim, injury, assessment));
    Form {
        title: "补充工伤保险待遇申领表".into(),
        number: "表号：GZBG-DY-02".into(),
        serial: format!("编号：{}", claim.id),
        fields,
        statement: "本人（单位）承诺所提供材料真实有效。经受理、承办、初审、复核，录入无误后打印本表（《赣州市补充工伤保险业务经办规程》第三十四条）。".into(),
        signatures: vec![
            "申领人（签字）".into(),
            "受理人".into(),
            "初审".into(),
            "复核".into(),
        ],
        date_line: chinese_date(on),
        verification: None,
    }
}

/// Renders a form with its verification code, stores it content-addressed, and answers its
/// SHA-256 with the record of its issue (to write in the approval's transaction).
///
/// # Errors
/// 503 the font is missing or the store is unavailable.
pub async fn store(
    p: &Platform,
    form: Form,
    claim: &Claim,
    on: chrono::NaiveDate,
) -> Result<(String, Vec<swi_store::TxOp>), ApiError> {
    let material = form.title.chars().take(40).collect::<String>();
    let class = crate::injury::claim_class(&claim.items);
    swi_platform::verification::issue(
        p,
        form,
        &claim.id,
        &format!("赣州市补充工伤保险承办机构（{}）", claim.county.name()),
        on,
        swi_platform::dossier::Filing {
            case: &crate::claim::claim_case(&claim.id),
            county: &claim.county.code().to_string(),
            class,
            material: &material,
        },
    )
    .await
}
