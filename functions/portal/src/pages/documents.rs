//! A filed scan shown in the page (`/scans/{injury}/{material}`): the API decides who may read
//! it and answers it with its sniffed type (PDF or image), which the browser shows inline; the
//! policy keeps it to this origin.

use axum::extract::{Path, State};
use axum::response::Response;

use crate::Portal;
use crate::pages::Signed;
use crate::pages::segment;

/// `GET /scans/{injury}/{material}`.
pub async fn view(
    State(portal): State<Portal>,
    Signed(s): Signed,
    Path((injury, material)): Path<(String, String)>,
) -> Response {
    crate::pages::claims::file_answer(
        &portal,
        &s,
        &format!(
            "/api/injuries/{}/materials/{}",
            segment(&injury),
            segment(&material)
        ),
    )
    .await
}
