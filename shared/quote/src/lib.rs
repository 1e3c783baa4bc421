//! `swi quote`: questions to the rules as JSON lines, one answer line per question, in order
//! (the contract is `QUOTE.md` of the design notes, restated in the README).
//!
//! [`Quoter::answer`] turns one line into one answer line and never fails: a line that cannot be
//! answered gets `{"error": {"code", "message"}}`. [`run`] streams standard input to standard
//! output. Pure apart from the streams handed to [`run`]; today's date comes from the caller and
//! is used only where a request leaves its date out.

mod json;
mod kinds;
pub mod wire;

use std::io::{self, BufRead, Write};

use chrono::NaiveDate;
use swi_rules::{Determination, ParamSet, RuleError};

use json::Obj;
use wire::{Refused, Request};

/// Answers quote requests against one parameter set.
#[derive(Debug, Clone, Copy)]
pub struct Quoter<'p> {
    params: &'p ParamSet,
    today: NaiveDate,
}

/// The kinds answered, in the order of the README's table.
pub const KINDS: [&str; 18] = [
    "premium",
    "project_premium",
    "nursing_subsidy",
    "cover_start",
    "pay_by",
    "review_by",
    "resident_id",
    "retirement",
    "eligibility",
    "insured_wage",
    "payee",
    "prevention_fund",
    "benefit",
    "credit_code",
    "fund_cycle",
    "change_notice",
    "third_party_top_up",
    "industry_class",
];

impl<'p> Quoter<'p> {
    /// A quoter on `params`; `today` (a China date) fills in dates that a request may omit.
    #[must_use]
    pub const fn new(params: &'p ParamSet, today: NaiveDate) -> Self {
        Quoter { params, today }
    }

    /// Appends the answer to one request line (without its newline) and a newline to `out`.
    pub fn answer(&self, line: &[u8], out: &mut Vec<u8>) {
        let mark = out.len();
        if let Err((id, kind, refused)) = self.try_answer(line, out) {
            out.truncate(mark);
            let mut o = Obj::open(out);
            if let Some(id) = id {
                o.json("id", id);
            }
            if let Some(kind) = kind {
                o.str("kind", &kind);
            }
            o.obj("error", |e| {
                e.str("code", refused.code).str("message", &refused.message);
            });
            o.close();
        }
        out.push(b'\n');
    }

    /// Answers one line as a string (for tests and the portal's estimator).
    #[must_use]
    pub fn answer_str(&self, line: &str) -> String {
        let mut out = Vec::with_capacity(256);
        self.answer(line.as_bytes(), &mut out);
        out.pop();
        String::from_utf8(out).unwrap_or_default()
    }

    #[allow(clippy::type_complexity)]
    fn try_answer<'l>(
        &self,
        line: &'l [u8],
        out: &mut Vec<u8>,
    ) -> Result<(), (Option<&'l str>, Option<String>, Refused)> {
        if line.iter().all(u8::is_ascii_whitespace) {
            return Err((
                None,
                None,
                Refused::invalid("empty line: one JSON request per line"),
            ));
        }
        // serde_json checks UTF-8 where it matters (inside strings); anything else that is not
        // ASCII is a syntax error.
        let req: Request<'l> = serde_json::from_slice(line).map_err(|e| {
            let e = e.to_string();
            // serde lists every known field after an unknown one: name the culprit only.
            let e = e.split(", expected one of").next().unwrap_or(&e);
            (
                None,
                None,
                Refused::invalid(format!("not a JSON request object: {e}")),
            )
        })?;
        let id = req.id.map(serde_json::value::RawValue::get);
        let Some(kind) = req.kind.as_deref() else {
            return Err((id, None, Refused::invalid("`kind` is required")));
        };
        let mut o = Obj::open(out);
        if let Some(id) = id {
            o.json("id", id);
        }
        o.str("kind", kind);
        match kinds::answer(self, kind, &req, &mut o) {
            Ok(()) => {
                o.close();
                Ok(())
            }
            Err(refused) => Err((id, Some(kind.to_owned()), refused)),
        }
    }
}

/// Maps a rule's refusal to an answer code.
fn rule_error(e: RuleError) -> Refused {
    let code = match &e {
        RuleError::NotInForce { .. } => "not_in_force",
        RuleError::ParameterPending { .. } => "parameter_pending",
        RuleError::CalendarNotLoaded { .. } => "calendar_not_loaded",
        RuleError::InvalidFacts(_) => "invalid_request",
        RuleError::UnknownParameter(_) => "parameter_missing",
    };
    Refused {
        code,
        message: e.to_string(),
    }
}

/// Writes `basis` and `assumptions` of a determination.
fn finish<T>(o: &mut Obj<'_>, d: &Determination<'_, T>) {
    o.list("basis", &d.basis, |c, cite| {
        c.str("doc", cite.doc.as_str());
        if let Some(a) = cite.article {
            c.int("article", i64::from(a));
        }
    });
    o.list("assumptions", d.assumptions(), |a, u| {
        a.str("parameter", u.parameter)
            .str("status", u.status.as_str())
            .str("source", u.source.label());
    });
}

/// Counts of one run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunStats {
    /// Lines read.
    pub lines: u64,
}

/// Answers every line of `input` on `output`, in order, flushing at the end.
///
/// # Errors
/// Only reading `input` or writing `output` can fail; a bad request is an answer, not an error.
pub fn run(
    quoter: &Quoter<'_>,
    mut input: impl BufRead,
    output: impl Write,
) -> io::Result<RunStats> {
    let mut output = io::BufWriter::with_capacity(1 << 16, output);
    let mut line = Vec::with_capacity(1024);
    let mut out = Vec::with_capacity(1 << 16);
    let mut stats = RunStats::default();
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        if line.last() == Some(&b'\n') {
            line.pop();
        }
        stats.lines += 1;
        quoter.answer(&line, &mut out);
        if out.len() >= 1 << 15 {
            output.write_all(&out)?;
            out.clear();
        }
    }
    output.write_all(&out)?;
    output.flush()?;
    Ok(stats)
}
