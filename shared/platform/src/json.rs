//! `ApiJson<T>`: a JSON request body whose rejections (not JSON, wrong fields, wrong types) are
//! answered as [`ApiError`]s like every other error, naming what is wrong.

use crate::ErrorCode;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

use crate::ApiError;

/// A JSON body of type `T`.
#[derive(Debug, Clone)]
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(rejection) => Err(match rejection {
                JsonRejection::MissingJsonContentType(_) => ApiError::invalid(
                    "请求体须为 JSON（Content-Type: application/json）",
                    "the body must be JSON (Content-Type: application/json)",
                ),
                JsonRejection::JsonSyntaxError(e) => ApiError::invalid(
                    "请求体不是有效的 JSON",
                    format!("the body is not valid JSON: {}", e.body_text()),
                ),
                JsonRejection::JsonDataError(e) => ApiError::invalid(
                    "请求字段缺失或格式不正确",
                    format!("a field is missing or malformed: {}", e.body_text()),
                ),
                other if other.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
                    ApiError::new(
                        axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                        ErrorCode::TooLarge,
                        "请求体过大",
                        "the body is larger than this route accepts",
                    )
                }
                other => ApiError::invalid("请求体无法读取", format!("unreadable body: {other}")),
            }),
        }
    }
}
