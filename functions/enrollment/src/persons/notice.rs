//! The one-time notice (一次性告知书, Art. 34) of a returned enrolment, as a PDF form: issued
//! with a verification code when the window returns the enrolment, kept, and served as issued.

use axum::extract::{Path, State};
use swi_domain::Action;
use swi_forms::Field;
use swi_platform::auth::Authenticated;
use swi_platform::{ApiError, Platform};
use swi_registry::enrolment::{Enrolment, Notice, load_enrolment};

/// The notice's form (without its verification code, which issuing adds).
#[must_use]
pub fn form(e: &Enrolment, notice: &Notice) -> swi_forms::Form {
    let masked = e.masked();
    swi_forms::OneTimeNotice {
        business: "补充工伤保险参保登记".into(),
        number: "GZBG-CB-02".into(),
        serial: e.id.clone(),
        subject: vec![
            Field {
                label: "参保人员".into(),
                value: format!("{}（{}）", e.name, masked.id_number),
            },
            Field {
                label: "人员类别".into(),
                value: e.category.chinese().into(),
            },
            Field {
                label: "参保单位".into(),
                value: e.unit.clone().unwrap_or_else(|| "个人参保".into()),
            },
        ],
        missing: notice
            .missing
            .iter()
            .map(|m| m.chinese().to_owned())
            .collect(),
        problems: notice.problems.clone(),
        issued_by: notice.issued_by.clone(),
        issued_on: notice.issued_on,
    }
    .form()
}

/// `GET /api/enrolments/{id}/notice`: the last one-time notice (一次性告知书, Art. 34) as a PDF
/// form, to hand or send to the unit or person.
///
/// # Errors
/// 403; 404 unknown enrolment or no notice.
#[utoipa::path(get, path = "/api/enrolments/{id}/notice", tag = "persons", params(("id" = String, Path)),
    responses((status = 200, description = "the one-time notice", content_type = "application/pdf"),
        (status = "4XX", description = "refused", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn notice_pdf(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    Path(id): Path<String>,
) -> Result<impl axum::response::IntoResponse, ApiError> {
    let (e, _) = load_enrolment(&p, &id).await?;
    actor.may(Action::Read, Some(e.county), e.owner())?;
    let notice = e.notice.as_ref().ok_or_else(|| {
        ApiError::not_found(
            "该参保登记没有一次性告知书",
            "this enrolment has no one-time notice",
        )
    })?;
    // Issued with its verification code: the very bytes the window issued.
    let pdf = match &notice.sha256 {
        Some(hash) => {
            let sha = swi_store::Sha256::parse(hash).map_err(|e| ApiError::internal(&e))?;
            swi_platform::documents::load_bounded(&p, &sha, 16 << 20).await?
        }
        // A notice issued before notices were kept is drawn again from its record.
        None => swi_forms::render(
            &*swi_forms::font().map_err(|e| ApiError::forms_unavailable(&e))?,
            &form(&e, notice),
        )
        .map_err(|err| ApiError::internal(&err))?,
    };
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "application/pdf".to_owned(),
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("inline; filename=\"notice-{id}.pdf\""),
            ),
        ],
        pdf,
    ))
}
