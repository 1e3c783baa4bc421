//! What every data-entry form of the portal shares: the API's refusal placed next to the field
//! it names (its English message names the field in backticks, as every handler writes it), an
//! error summary that links to that field, and a fresh idempotency key on every rendering (a
//! corrected form is a new request; a double click of the same one is a retry).

use swi_platform::ApiError;

/// A refusal as a form shows it: the message, and the field it belongs to (if one of `fields`).
#[derive(Debug, Clone, Default)]
pub struct Problem {
    /// The Chinese message.
    pub message: Option<String>,
    /// The field (its `id` in the page), when the refusal names one the form has.
    pub field: Option<String>,
}

impl Problem {
    /// No problem.
    #[must_use]
    pub fn none() -> Self {
        Problem::default()
    }

    /// A problem with one field.
    #[must_use]
    pub fn at(field: &str, message: &str) -> Self {
        Problem {
            message: Some(message.to_owned()),
            field: Some(field.to_owned()),
        }
    }

    /// The API's refusal, placed at the first of `fields` its message names.
    #[must_use]
    pub fn of(e: &ApiError, fields: &[&str]) -> Self {
        let message = if e.status.is_server_error() {
            "系统暂时无法完成该操作，请稍后再试。".to_owned()
        } else {
            e.zh.clone()
        };
        let named =
            e.en.split('`')
                .skip(1)
                .step_by(2)
                .find(|f| fields.contains(f))
                .or_else(|| {
                    // A JSON body the API could not read names the field after its path; a
                    // rule names it as a word of its sentence.
                    fields.iter().copied().find(|f| {
                        e.en.contains(&format!("{f}:"))
                            || e.en.contains(&format!("field `{f}`"))
                            || e.en
                                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                                .any(|w| w == *f)
                    })
                });
        Problem {
            message: Some(message),
            field: named.map(str::to_owned),
        }
    }

    /// The message, if it belongs to `field`.
    #[must_use]
    pub fn on(&self, field: &str) -> Option<&str> {
        (self.field.as_deref() == Some(field))
            .then_some(self.message.as_deref())
            .flatten()
    }

    /// Where the summary's link goes: the field, else the form.
    #[must_use]
    pub fn anchor(&self, form: &str) -> String {
        self.field.clone().unwrap_or_else(|| form.to_owned())
    }
}

/// A fresh idempotency key for a form's next submission.
#[must_use]
pub fn fresh_key() -> String {
    crate::session::random_token().map_or_else(
        |_| "form-key-unavailable".to_owned(),
        |t| t[..32].to_owned(),
    )
}

/// The key a form brought back (8-128 characters, as the API takes them), else a fresh one.
#[must_use]
pub fn key_or_fresh(typed: &str) -> String {
    if (8..=128).contains(&typed.len()) {
        typed.to_owned()
    } else {
        fresh_key()
    }
}

/// A closed set's wire name (`labour_service_contract`), as its serde form spells it.
#[must_use]
pub fn wire<T: serde::Serialize>(t: &T) -> String {
    serde_json::to_value(t)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// A typed text, kept as typed (bounded) for the form shown again.
#[must_use]
pub fn kept(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode;

    #[test]
    fn a_refusal_lands_on_the_field_it_names() {
        let e = ApiError::invalid("公民身份号码不正确", "`id_number`: bad check digit");
        let p = Problem::of(&e, &["name", "id_number"]);
        assert_eq!(p.on("id_number"), Some("公民身份号码不正确"));
        assert_eq!(p.on("name"), None);
        let rule = ApiError::invalid("资料不符合规定", "agreement_end is required for an intern");
        assert_eq!(
            Problem::of(&rule, &["start", "agreement_end"])
                .field
                .as_deref(),
            Some("agreement_end")
        );
        let mut other = ApiError::invalid("该人员已参保", "already enrolled");
        other.status = StatusCode::CONFLICT;
        let p = Problem::of(&other, &["name"]);
        assert_eq!(p.field, None);
        assert_eq!(p.anchor("enrol"), "enrol");
    }
}
