//! Payments in the portal (待遇支付, Art. 35-41).
//!
//! - A citizen or unit sees what was paid to them, when and to which account (masked), what is
//!   due and why a payment waits, and records their own account.
//! - The contractor's finance staff see their county's lines due (Art. 38: 10 working days),
//!   waiting ones first with why; record a payee's account; follow batches, download each
//!   bank's payment file and upload its return; work the month's cycle (summary, request,
//!   periodic benefits) and reconcile.
//! - The agency's officers work the cycle's decisions: the request approved or refused with
//!   reasons, the transfer recorded, the cycle closed. Supervisors read everything.
//!
//! Every page asks the payment step's API and shows its answer; no rule is decided here.

use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use swi_domain::Role;
use swi_domain::payment::{CycleStep, LineStatus};
use swi_payables::account::Bank;
use swi_payment_batch::accounts::AccountView;
use swi_payment_batch::cycle::Cycle;
use swi_payment_batch::model::{Batch, BatchStatus, LineView, Source};
use swi_payment_batch::routes_payments::Due;

use super::forms::fresh_key;
use super::{Chrome, Signed, attachment, error_page_for, html, not_found, segment};
use crate::Portal;
use crate::session::Session;

fn status_zh(s: LineStatus) -> &'static str {
    match s {
        LineStatus::AwaitingAccount => "待登记收款账户",
        LineStatus::Ready => "待发放",
        LineStatus::Batched => "银行发放中",
        LineStatus::Paid => "已支付",
        LineStatus::Failed => "银行退回，待更正账户",
        LineStatus::Withdrawn => "已停发",
    }
}

fn what(l: &LineView) -> String {
    let item = l
        .item
        .map_or("退还补充工伤保险费", swi_rules::benefits::Item::chinese);
    match &l.source {
        Source::Instalment { month, .. } => format!("{item}（{}）", month.format("%Y年%m月")),
        _ => item.to_owned(),
    }
}

/// A line as a row.
#[derive(Debug, Clone)]
pub struct LineRow {
    id: String,
    what: String,
    payee: String,
    amount: String,
    due: String,
    status: &'static str,
    paid_on: String,
    account: String,
    note: String,
}

fn line_row(l: &LineView) -> LineRow {
    LineRow {
        id: l.id.clone(),
        what: what(l),
        payee: l.payee.name.clone(),
        amount: l.amount.to_string(),
        due: l.due.to_string(),
        status: status_zh(l.status),
        paid_on: l.paid_on.map(|d| d.to_string()).unwrap_or_default(),
        account: l.account.clone().unwrap_or_default(),
        note: l
            .failures
            .last()
            .map(|f| format!("第 {} 次发放被银行退回：{}", f.attempt, f.reason))
            .unwrap_or_default(),
    }
}

/// A waiting line as a row.
#[derive(Debug, Clone)]
pub struct WaitingRow {
    href: String,
    id: String,
    payee: String,
    amount: String,
    due: String,
    late: bool,
    soon: bool,
    reason: String,
}

/// A batch as a row.
#[derive(Debug, Clone)]
pub struct BatchRow {
    id: String,
    href: String,
    kind: &'static str,
    made_on: String,
    lines: u64,
    amount: String,
    status: &'static str,
}

fn batch_status(s: BatchStatus) -> &'static str {
    match s {
        BatchStatus::Filling => "生成中",
        BatchStatus::Sealed => "待银行回盘",
        BatchStatus::Returned => "已回盘",
    }
}

fn batch_row(b: &Batch) -> BatchRow {
    BatchRow {
        id: b.id.clone(),
        href: format!("/payments/batches/{}", segment(&b.id)),
        kind: match b.kind {
            swi_payment_batch::model::BatchKind::Daily => "一次性待遇与退费",
            swi_payment_batch::model::BatchKind::Periodic => "定期待遇",
        },
        made_on: b.made_on.to_string(),
        lines: b.lines,
        amount: b.amount.to_string(),
        status: batch_status(b.status),
    }
}

/// A cycle as a row.
#[derive(Debug, Clone)]
pub struct CycleRow {
    month: String,
    href: String,
    step: &'static str,
}

/// The account form's choices.
#[derive(Debug, Clone)]
pub struct BankChoice {
    value: &'static str,
    label: String,
}

fn banks() -> Vec<BankChoice> {
    Bank::ALL
        .iter()
        .map(|b| BankChoice {
            value: b.as_str(),
            label: format!("{}（{}）", b.zh(), b.code()),
        })
        .collect()
}

/// The payments page.
#[derive(Template)]
#[template(path = "payments.html")]
pub struct PaymentsPage {
    chrome: Chrome,
    csrf: String,
    idem: String,
    title: &'static str,
    payee: bool,
    lines: Vec<LineRow>,
    account: Option<AccountView>,
    banks: Vec<BankChoice>,
    message: Option<String>,
    clerk: bool,
    can_open: bool,
    month: String,
    today: String,
    waiting: Vec<WaitingRow>,
    not_taken: usize,
    batches: Vec<BatchRow>,
    cycles: Vec<CycleRow>,
}

/// `?done=` after a form.
#[derive(Debug, Deserialize)]
pub struct Done {
    /// What was done.
    pub done: Option<String>,
}

fn done_message(d: Option<&str>) -> Option<String> {
    match d? {
        "account" => Some("收款账户已登记。".into()),
        "returned" => Some("银行回盘已登记，系统正在入账。".into()),
        "file" => Some("支付文件已生成，可下载交银行。".into()),
        "step" => Some("已办理。".into()),
        "reconciled" => Some("对账完成，结果见下。".into()),
        "opened" => Some("已开启。".into()),
        _ => None,
    }
}

/// `GET /payments`.
pub async fn list(
    State(portal): State<Portal>,
    Signed(s): Signed,
    Query(d): Query<Done>,
) -> Response {
    let today = portal.platform.clock.today();
    let mut page = PaymentsPage {
        chrome: Chrome::of(&s),
        csrf: s.csrf.clone(),
        idem: fresh_key(),
        title: "待遇支付",
        payee: false,
        lines: Vec::new(),
        account: None,
        banks: banks(),
        message: done_message(d.done.as_deref()),
        clerk: false,
        can_open: matches!(s.role, Role::Finance | Role::AgencyOfficer),
        month: today.format("%Y-%m").to_string(),
        today: today.to_string(),
        waiting: Vec::new(),
        not_taken: 0,
        batches: Vec::new(),
        cycles: Vec::new(),
    };
    match s.role {
        Role::Citizen | Role::Employer => {
            page.payee = true;
            page.title = "我的待遇支付";
            let lines: Vec<LineView> = match portal
                .get(&s, "/api/payments/own")
                .await
                .and_then(|a| a.into())
            {
                Ok(l) => l,
                Err(e) => return error_page_for(Some(&s), &e),
            };
            page.lines = lines.iter().map(line_row).collect();
            page.account = portal
                .get(&s, "/api/accounts/own")
                .await
                .ok()
                .filter(|a| a.ok())
                .and_then(|a| a.into().ok());
        }
        Role::Finance | Role::AgencyOfficer | Role::Supervisor => {
            page.clerk = true;
            page.title = "待遇支付与资金周期";
            let county = s.county.clone();
            if county.len() != 6 || county == "360700" {
                return html(StatusCode::OK, &page);
            }
            let due: Due = match portal
                .get(&s, &format!("/api/payments/due?county={county}"))
                .await
                .and_then(|a| a.into())
            {
                Ok(d) => d,
                Err(e) => return error_page_for(Some(&s), &e),
            };
            page.not_taken = due.not_taken;
            page.waiting = due
                .waiting
                .iter()
                .map(|d| WaitingRow {
                    href: format!("/payments/lines/{}", segment(&d.waiting.line)),
                    id: d.waiting.line.clone(),
                    payee: d.waiting.payee.clone(),
                    amount: d.waiting.amount.to_string(),
                    due: d.waiting.due.to_string(),
                    late: d.late,
                    soon: d.soon,
                    reason: d.waiting.reason.clone(),
                })
                .collect();
            if let Ok(b) = portal
                .get(&s, &format!("/api/payments/batches?county={county}"))
                .await
                .and_then(|a| a.into::<Vec<Batch>>())
            {
                page.batches = b.iter().map(batch_row).collect();
            }
            if let Ok(c) = portal
                .get(&s, &format!("/api/payment-cycles?county={county}"))
                .await
                .and_then(|a| a.into::<Vec<Cycle>>())
            {
                page.cycles = c
                    .iter()
                    .map(|c| CycleRow {
                        month: c.month.format("%Y-%m").to_string(),
                        href: format!(
                            "/payments/cycles/{}/{}",
                            c.county.code(),
                            c.month.format("%Y-%m")
                        ),
                        step: crate::pages::payments::step_zh(c.step),
                    })
                    .collect();
            }
        }
        _ => return not_found(),
    }
    html(StatusCode::OK, &page)
}

/// A cycle step's name.
#[must_use]
pub fn step_zh(s: CycleStep) -> &'static str {
    swi_payment_batch::routes_cycles::step_zh(s)
}

/// The account form.
#[derive(Debug, Deserialize)]
pub struct AccountForm {
    csrf: String,
    idem: String,
    kind: String,
    bank: String,
    branch: String,
    number: String,
    holder: String,
}

fn account_body(f: &AccountForm, line: Option<&str>) -> Value {
    json!({
        "line": line,
        "kind": f.kind.chars().take(40).collect::<String>(),
        "bank": f.bank.chars().take(40).collect::<String>(),
        "branch": f.branch.chars().take(80).collect::<String>(),
        "number": f.number.chars().take(60).collect::<String>(),
        "holder": f.holder.chars().take(80).collect::<String>(),
    })
}

async fn post(
    portal: &Portal,
    s: &Session,
    path: &str,
    body: &Value,
    idem: &str,
    next: String,
) -> Response {
    if idem.len() < 8 || idem.len() > 128 {
        return error_page_for(Some(s), &crate::pages::csrf_refused());
    }
    match portal
        .call(s, Method::POST, path, Some(body), Some(idem))
        .await
    {
        Ok(a) if a.ok() => Redirect::to(&next).into_response(),
        Ok(a) => error_page_for(Some(s), &a.refusal()),
        Err(e) => error_page_for(Some(s), &e),
    }
}

/// `POST /payments/account`: a citizen or unit records its own account.
pub async fn own_account(
    State(portal): State<Portal>,
    Signed(s): Signed,
    Form(f): Form<AccountForm>,
) -> Response {
    if !s.csrf_ok(&f.csrf) {
        return error_page_for(Some(&s), &crate::pages::csrf_refused());
    }
    post(
        &portal,
        &s,
        "/api/accounts",
        &account_body(&f, None),
        &f.idem,
        "/payments?done=account".into(),
    )
    .await
}

/// The line page.
#[derive(Template)]
#[template(path = "payment_line.html")]
pub struct LinePage {
    chrome: Chrome,
    csrf: String,
    idem: String,
    line: LineRow,
    finance: bool,
    account: Option<AccountView>,
    banks: Vec<BankChoice>,
    failures: Vec<(u32, String, String, String)>,
    message: Option<String>,
}

/// `GET /payments/lines/{id}`.
pub async fn line(
    State(portal): State<Portal>,
    Signed(s): Signed,
    Path(id): Path<String>,
    Query(d): Query<Done>,
) -> Response {
    let l: LineView = match portal
        .get(&s, &format!("/api/payments/lines/{}", segment(&id)))
        .await
        .and_then(|a| a.into())
    {
        Ok(l) => l,
        Err(e) => return error_page_for(Some(&s), &e),
    };
    let account = portal
        .get(&s, &format!("/api/accounts/lines/{}", segment(&id)))
        .await
        .ok()
        .filter(|a| a.ok())
        .and_then(|a| a.into().ok());
    html(
        StatusCode::OK,
        &LinePage {
            chrome: Chrome::of(&s),
            csrf: s.csrf.clone(),
            idem: fresh_key(),
            failures: l
                .failures
                .iter()
                .map(|f| {
                    (
                        f.attempt,
                        f.batch.clone(),
                        f.account.clone(),
                        f.reason.clone(),
                    )
                })
                .collect(),
            line: line_row(&l),
            finance: s.role == Role::Finance,
            account,
            banks: banks(),
            message: done_message(d.done.as_deref()),
        },
    )
}

/// `POST /payments/lines/{id}/account`: finance records the account of a line's payee.
pub async fn line_account(
    State(portal): State<Portal>,
    Signed(s): Signed,
    Path(id): Path<String>,
    Form(f): Form<AccountForm>,
) -> Response {
    if !s.csrf_ok(&f.csrf) {
        return error_page_for(Some(&s), &crate::pages::csrf_refused());
    }
    let next = format!("/payments/lines/{}?done=account", segment(&id));
    post(
        &portal,
        &s,
        "/api/accounts",
        &account_body(&f, Some(&id)),
        &f.idem,
        next,
    )
    .await
}

/// A bank's share of a batch, as a row.
#[derive(Debug, Clone)]
pub struct ShareRow {
    bank: String,
    code: &'static str,
    lines: u64,
    amount: String,
    paid: String,
    failed: u64,
    returned: String,
    upload: String,
    made: bool,
}

/// The batch page.
#[derive(Template)]
#[template(path = "payment_batch.html")]
pub struct BatchPage {
    chrome: Chrome,
    csrf: String,
    idem: String,
    batch: BatchRow,
    finance: bool,
    shares: Vec<ShareRow>,
    sealed: bool,
    message: Option<String>,
}

/// `GET /payments/batches/{id}`.
pub async fn batch(
    State(portal): State<Portal>,
    Signed(s): Signed,
    Path(id): Path<String>,
    Query(d): Query<Done>,
) -> Response {
    let b: Batch = match portal
        .get(&s, &format!("/api/payments/batches/{}", segment(&id)))
        .await
        .and_then(|a| a.into())
    {
        Ok(b) => b,
        Err(e) => return error_page_for(Some(&s), &e),
    };
    let shares = b
        .banks
        .iter()
        .map(|(bank, sh)| ShareRow {
            bank: bank.zh().to_owned(),
            code: bank.code(),
            lines: sh.lines,
            amount: sh.amount.to_string(),
            paid: sh.paid_amount.to_string(),
            failed: sh.failed_lines,
            returned: sh.returned_on.map(|d| d.to_string()).unwrap_or_default(),
            upload: format!("bank-return/{}/{}", b.id, bank.code()),
            made: sh.file.is_some(),
        })
        .collect();
    html(
        StatusCode::OK,
        &BatchPage {
            chrome: Chrome::of(&s),
            csrf: s.csrf.clone(),
            idem: fresh_key(),
            sealed: b.status != BatchStatus::Filling,
            batch: batch_row(&b),
            finance: s.role == Role::Finance,
            shares,
            message: done_message(d.done.as_deref()),
        },
    )
}

/// `?format=` of a download.
#[derive(Debug, Deserialize)]
pub struct FormatQuery {
    /// `csv`, `xlsx` or `pdf`.
    pub format: Option<String>,
}

fn format_of(q: &FormatQuery, allowed: &[&str]) -> Option<String> {
    let f = q.format.clone().unwrap_or_else(|| allowed[0].to_owned());
    allowed.contains(&f.as_str()).then_some(f)
}

/// The make-a-file form.
#[derive(Debug, Deserialize)]
pub struct MakeFileForm {
    csrf: String,
    idem: String,
}

/// `POST /payments/batches/{id}/files/{bank}`: makes (and keeps) a bank's payment file, the
/// step a return is recorded against.
pub async fn make_file(
    State(portal): State<Portal>,
    Signed(s): Signed,
    Path((id, bank)): Path<(String, String)>,
    Form(f): Form<MakeFileForm>,
) -> Response {
    if !s.csrf_ok(&f.csrf) {
        return error_page_for(Some(&s), &crate::pages::csrf_refused());
    }
    let Some(bank) = Bank::of_code(&bank) else {
        return not_found();
    };
    let body = json!({ "bank": bank.as_str(), "format": "csv" });
    let path = format!("/api/payments/batches/{}/files", segment(&id));
    let next = format!("/payments/batches/{}?done=file", segment(&id));
    post(&portal, &s, &path, &body, &f.idem, next).await
}

/// `GET /payments/batches/{id}/files/{bank}`: a bank's payment file.
pub async fn bank_file(
    State(portal): State<Portal>,
    Signed(s): Signed,
    Path((id, bank)): Path<(String, String)>,
    Query(q): Query<FormatQuery>,
) -> Response {
    let Some(format) = format_of(&q, &["csv", "xlsx"]) else {
        return not_found();
    };
    attachment(
        &portal,
        &s,
        &format!(
            "/api/payments/batches/{}/files/{}?format={format}",
            segment(&id),
            segment(&bank)
        ),
        &format!("{}-{}.{format}", segment(&id), segment(&bank)),
    )
    .await
}

/// The cycle page.
#[derive(Template)]
#[template(path = "payment_cycle.html")]
pub struct CyclePage {
    chrome: Chrome,
    csrf: String,
    idem: String,
    county: String,
    month: String,
    step: &'static str,
    due: Vec<(&'static str, String, bool)>,
    summary: Vec<(String, String, String)>,
    summary_total: String,
    requests: Vec<(u32, String, String, String)>,
    decisions: Vec<(String, &'static str, String, String)>,
    transfer: Option<(String, String, String)>,
    periodic: Option<(u64, String)>,
    actions: Vec<(&'static str, &'static str)>,
    officer_decides: bool,
    officer_transfers: bool,
    approved_amount: String,
    reconciliations: Vec<(String, usize, usize, Vec<String>)>,
    finance: bool,
    statement_kinds: Vec<(String, &'static str)>,
    message: Option<String>,
}

/// `GET /payments/cycles/{county}/{month}`.
pub async fn cycle(
    State(portal): State<Portal>,
    Signed(s): Signed,
    Path((county, month)): Path<(String, String)>,
    Query(d): Query<Done>,
) -> Response {
    let c: Cycle = match portal
        .get(
            &s,
            &format!(
                "/api/payment-cycles/{}/{}",
                segment(&county),
                segment(&month)
            ),
        )
        .await
        .and_then(|a| a.into())
    {
        Ok(c) => c,
        Err(e) => return error_page_for(Some(&s), &e),
    };
    let today = portal.platform.clock.today();
    let use_command = |cmd: swi_domain::payment::CycleCommand| {
        swi_domain::payment::cycle_actor_may(s.role, cmd)
            && swi_domain::payment::cycle_next(c.step, cmd).is_ok()
    };
    use swi_domain::payment::CycleCommand as C;
    let mut actions = Vec::new();
    for (cmd, wire, label) in [
        (C::SubmitSummary, "submit_summary", "报送上月赔付资料"),
        (C::SubmitRequest, "submit_request", "提交请款计划"),
        (
            C::RecordPeriodicPaid,
            "record_periodic_paid",
            "登记本月定期待遇已发放",
        ),
        (C::Close, "close", "关闭本月资金周期"),
    ] {
        if use_command(cmd) {
            actions.push((wire, label));
        }
    }
    let reconciliations = portal
        .get(
            &s,
            &format!(
                "/api/payments/reconciliations?county={}&month={}",
                segment(&county),
                segment(&month)
            ),
        )
        .await
        .and_then(|a| a.into::<Vec<swi_payment_batch::reconcile::Reconciliation>>())
        .unwrap_or_default()
        .iter()
        .map(|r| {
            (
                r.kind.zh().to_owned(),
                r.outcome.matched,
                r.outcome.differences.len(),
                r.outcome.differences.iter().map(difference_zh).collect(),
            )
        })
        .collect();
    let before = c
        .month
        .checked_sub_months(chrono::Months::new(1))
        .unwrap_or(c.month);
    html(
        StatusCode::OK,
        &CyclePage {
            chrome: Chrome::of(&s),
            csrf: s.csrf.clone(),
            idem: fresh_key(),
            county: c.county.code().to_string(),
            month: c.month.format("%Y-%m").to_string(),
            step: step_zh(c.step),
            due: vec![
                (
                    "报送上月赔付资料",
                    c.due.summary.to_string(),
                    c.step < CycleStep::SummarySubmitted && today > c.due.summary,
                ),
                (
                    "提交请款计划",
                    c.due.request.to_string(),
                    c.step < CycleStep::RequestApproved && today > c.due.request,
                ),
                (
                    "拨付",
                    c.due.transfer.to_string(),
                    c.step < CycleStep::TransferRecorded && today > c.due.transfer,
                ),
                (
                    "支付本月定期待遇",
                    c.due.periodic.to_string(),
                    c.step < CycleStep::PeriodicPaid && today > c.due.periodic,
                ),
            ],
            summary: c
                .summary
                .as_ref()
                .map(|s| s.by_account.clone())
                .unwrap_or_default(),
            summary_total: c
                .summary
                .as_ref()
                .map(|s| {
                    format!(
                        "{}（{} 笔，{} 赔付）",
                        s.total,
                        s.lines,
                        before.format("%Y年%m月")
                    )
                })
                .unwrap_or_default(),
            requests: c
                .requests
                .iter()
                .map(|r| {
                    (
                        r.n,
                        r.amount.to_string(),
                        r.at.format("%Y-%m-%d %H:%M").to_string(),
                        r.by.clone(),
                    )
                })
                .collect(),
            decisions: c
                .decisions
                .iter()
                .map(|d| {
                    (
                        format!("第 {} 次请款", d.request),
                        if d.approved { "批准" } else { "不予拨款" },
                        d.reasons.clone(),
                        format!("{} {}", d.at.format("%Y-%m-%d %H:%M"), d.by),
                    )
                })
                .collect(),
            transfer: c
                .transfer
                .as_ref()
                .map(|t| (t.amount.to_string(), t.on.to_string(), t.reference.clone())),
            periodic: c.periodic.as_ref().map(|p| (p.lines, p.amount.to_string())),
            officer_decides: use_command(C::ApproveRequest),
            officer_transfers: use_command(C::RecordTransfer),
            approved_amount: c
                .requests
                .last()
                .map(|r| r.amount.to_string())
                .unwrap_or_default(),
            actions,
            reconciliations,
            finance: s.role == Role::Finance,
            statement_kinds: vec![(
                format!(
                    "statement/{}/{}/contractor_bank",
                    c.county.code(),
                    before.format("%Y-%m")
                ),
                "上传开户银行对账单（上月）",
            )],
            message: done_message(d.done.as_deref()),
        },
    )
}

fn difference_zh(d: &swi_payment_batch::reconcile::Difference) -> String {
    use swi_payment_batch::reconcile::Difference as D;
    match d {
        D::OnlyOurs { ours } => format!(
            "系统有、对方无：{} {} {} 元",
            ours.date, ours.reference, ours.amount
        ),
        D::OnlyTheirs { theirs } => format!(
            "对方有、系统无：{} {} {} 元",
            theirs.date, theirs.reference, theirs.amount
        ),
        D::Amount {
            ours,
            theirs,
            difference,
        } => format!(
            "金额不符：{} 系统 {} 元，对方 {} 元，相差 {} 元",
            ours.reference, ours.amount, theirs.amount, difference
        ),
    }
}

/// A cycle step's form.
#[derive(Debug, Deserialize)]
pub struct StepForm {
    csrf: String,
    idem: String,
    command: String,
    #[serde(default)]
    reasons: String,
    #[serde(default)]
    amount: String,
    #[serde(default)]
    on: String,
    #[serde(default)]
    reference: String,
}

/// `POST /payments/cycles/{county}/{month}/steps`.
pub async fn cycle_step(
    State(portal): State<Portal>,
    Signed(s): Signed,
    Path((county, month)): Path<(String, String)>,
    Form(f): Form<StepForm>,
) -> Response {
    if !s.csrf_ok(&f.csrf) {
        return error_page_for(Some(&s), &crate::pages::csrf_refused());
    }
    let command: String = f.command.chars().take(40).collect();
    let mut body = json!({ "command": command });
    if !f.reasons.trim().is_empty() {
        body["reasons"] = json!(f.reasons.trim().chars().take(600).collect::<String>());
    }
    if command == "record_transfer" {
        body["transfer"] = json!({
            "amount": f.amount.trim().chars().take(20).collect::<String>(),
            "on": f.on.trim().chars().take(10).collect::<String>(),
            "reference": f.reference.trim().chars().take(80).collect::<String>(),
        });
    }
    let path = format!(
        "/api/payment-cycles/{}/{}/steps",
        segment(&county),
        segment(&month)
    );
    let next = format!(
        "/payments/cycles/{}/{}?done=step",
        segment(&county),
        segment(&month)
    );
    post(&portal, &s, &path, &body, &f.idem, next).await
}

/// `GET /payments/cycles/{county}/{month}/requests/{n}`: a payment request as submitted.
pub async fn request_doc(
    State(portal): State<Portal>,
    Signed(s): Signed,
    Path((county, month, n)): Path<(String, String, u32)>,
    Query(q): Query<FormatQuery>,
) -> Response {
    let Some(format) = format_of(&q, &["pdf", "xlsx"]) else {
        return not_found();
    };
    attachment(
        &portal,
        &s,
        &format!(
            "/api/payment-cycles/{}/{}/requests/{n}?format={format}",
            segment(&county),
            segment(&month)
        ),
        &format!(
            "request-{}-{}-{n}.{format}",
            segment(&county),
            segment(&month)
        ),
    )
    .await
}

/// The open-a-cycle form.
#[derive(Debug, Deserialize)]
pub struct OpenForm {
    csrf: String,
    idem: String,
    month: String,
}

/// `POST /payments/cycles`: opens this month's cycle for the clerk's county.
pub async fn open_cycle(
    State(portal): State<Portal>,
    Signed(s): Signed,
    Form(f): Form<OpenForm>,
) -> Response {
    if !s.csrf_ok(&f.csrf) {
        return error_page_for(Some(&s), &crate::pages::csrf_refused());
    }
    let month: String = f.month.chars().take(7).collect();
    let body = json!({ "county": s.county, "month": month });
    let next = format!(
        "/payments/cycles/{}/{}?done=opened",
        segment(&s.county),
        segment(&month)
    );
    post(&portal, &s, "/api/payment-cycles", &body, &f.idem, next).await
}

/// `GET /payments/books/{month}`: the month's trial balance and ledgers of the clerk's county.
pub async fn books(
    State(portal): State<Portal>,
    Signed(s): Signed,
    Path(month): Path<String>,
    Query(q): Query<FormatQuery>,
) -> Response {
    let Some(format) = format_of(&q, &["xlsx", "pdf"]) else {
        return not_found();
    };
    attachment(
        &portal,
        &s,
        &format!(
            "/api/payments/books/{}?county={}&format={format}",
            segment(&month),
            segment(&s.county)
        ),
        &format!("books-{}-{}.{format}", segment(&s.county), segment(&month)),
    )
    .await
}
