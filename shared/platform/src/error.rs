//! JSON errors: `{"error": {"code": "…", "zh": "…", "en": "…"}}` with the HTTP status that fits.
//! Internal causes are logged, never sent.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use swi_domain::Denied;
use swi_store::StateError;

pub use crate::codes::ErrorCode;

/// An error answered to a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable code.
    pub code: ErrorCode,
    /// 中文说明.
    pub zh: String,
    /// English message.
    pub en: String,
}

#[derive(Serialize)]
struct Body<'a> {
    error: Inner<'a>,
}

/// The body of every error answer (for the OpenAPI document).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// An error's code and messages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable code (e.g. `invalid_request`, `forbidden_county`, `not_in_work_injury_scheme`).
    pub code: ErrorCode,
    /// 中文说明.
    pub zh: String,
    /// English message.
    pub en: String,
}

#[derive(Serialize)]
struct Inner<'a> {
    code: ErrorCode,
    zh: &'a str,
    en: &'a str,
}

impl ApiError {
    /// An error.
    pub fn new(
        status: StatusCode,
        code: ErrorCode,
        zh: impl Into<String>,
        en: impl Into<String>,
    ) -> Self {
        ApiError {
            status,
            code,
            zh: zh.into(),
            en: en.into(),
        }
    }

    /// 400 `invalid_request`: the request is malformed or a field is invalid.
    pub fn invalid(zh: impl Into<String>, en: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, ErrorCode::InvalidRequest, zh, en)
    }

    /// 401 `unauthenticated`.
    pub fn unauthenticated(en: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::Unauthenticated,
            "未登录或登录凭证无效、已过期，请重新登录",
            en,
        )
    }

    /// 404 `not_found`.
    pub fn not_found(zh: impl Into<String>, en: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, zh, en)
    }

    /// 409 with a code.
    pub fn conflict(code: ErrorCode, zh: impl Into<String>, en: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, zh, en)
    }

    /// 422 `rule_refused`: valid input the regulation does not allow.
    pub fn refused(code: ErrorCode, zh: impl Into<String>, en: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, zh, en)
    }

    /// 500 `internal`, with the cause kept out of the answer.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(cause = %cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::Internal,
            "系统内部错误，请稍后重试",
            "internal error; please try again later",
        )
    }

    /// 503 `forms_unavailable`: a PDF form cannot be rendered because the server's CJK font is
    /// missing; the operator is told what to install (the font is retried on the next request).
    pub fn forms_unavailable(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(cause = %cause, "PDF forms unavailable");
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::FormsUnavailable,
            "暂时无法出具 PDF 文书：服务器缺少中文字体，请联系运维",
            "PDF forms are unavailable: the server's CJK font is missing (operators: bash infra/fonts, SWI_FONT)",
        )
    }

    /// 503 `unavailable`: the store is unreachable; retrying may help.
    pub fn unavailable(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(cause = %cause, "store unavailable");
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Unavailable,
            "服务暂时不可用，请稍后重试",
            "service temporarily unavailable; please retry",
        )
    }
}

impl From<swi_rules::RuleError> for ApiError {
    /// A rule that cannot decide: facts the rules refuse (400), a date outside the scheme (422
    /// `not_in_force`), or a parameter the city has not set yet (422 `parameter_pending`).
    fn from(e: swi_rules::RuleError) -> Self {
        match e {
            swi_rules::RuleError::InvalidFacts(m) => ApiError::invalid("资料不符合规定", m),
            swi_rules::RuleError::NotInForce { .. } => ApiError::refused(
                ErrorCode::NotInForce,
                "该日期不在补充工伤保险实施期内",
                e.to_string(),
            ),
            other => ApiError::refused(
                ErrorCode::ParameterPending,
                "所需参数尚未设定",
                other.to_string(),
            ),
        }
    }
}

impl From<Denied> for ApiError {
    fn from(d: Denied) -> Self {
        let zh = match &d {
            Denied::Role { .. } => "当前岗位无权办理此业务".to_owned(),
            Denied::County { .. } => "不能办理其他县（市、区）的业务".to_owned(),
            Denied::NotOwner => "只能办理本单位或本人的业务".to_owned(),
            Denied::Duties(_) => {
                "同一业务的受理、承办、初审、复核不得由同一人办理（第五条、第三十四条）".to_owned()
            }
        };
        let code = match &d {
            Denied::Role { .. } => ErrorCode::ForbiddenRole,
            Denied::County { .. } => ErrorCode::ForbiddenCounty,
            Denied::NotOwner => ErrorCode::ForbiddenOwner,
            Denied::Duties(_) => ErrorCode::SeparationOfDuties,
        };
        debug_assert_eq!(code, d.code());
        ApiError::new(StatusCode::FORBIDDEN, code, zh, d.to_string())
    }
}

impl From<StateError> for ApiError {
    fn from(e: StateError) -> Self {
        match e {
            StateError::Conflict { .. } => ApiError::conflict(
                ErrorCode::ConcurrentChange,
                "记录已被他人修改，请刷新后重试",
                "the record was changed meanwhile; reload and retry",
            ),
            StateError::ItemTooLarge { .. } => {
                ApiError::invalid("提交的内容过大", "the record is too large")
            }
            StateError::BadCursor => ApiError::invalid("分页参数无效", "invalid page cursor"),
            StateError::Unavailable(_) => ApiError::unavailable(&e),
            other => ApiError::internal(&other),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Body {
            error: Inner {
                code: self.code,
                zh: &self.zh,
                en: &self.en,
            },
        };
        let mut response = (self.status, Json(body)).into_response();
        // What the answer refused, for the layers that act on it (`crate::refusals`).
        response.extensions_mut().insert(self.code);
        response
    }
}

/// Middleware that gives every error answer the JSON error shape: what a handler answers already
/// has it; what the router or a layer answers by itself (no such route, a method the route does
/// not take, a query string that does not parse, a body over the limit) is rewritten by status.
pub async fn json_errors(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let response = next.run(req).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (code, zh, en) = match status {
        StatusCode::NOT_FOUND => (ErrorCode::NotFound, "请求的地址不存在", "no such route"),
        StatusCode::METHOD_NOT_ALLOWED => (
            ErrorCode::MethodNotAllowed,
            "该地址不支持此请求方法",
            "this route does not take that method",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => {
            (ErrorCode::TooLarge, "请求体过大", "the body is too large")
        }
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            ErrorCode::UnsupportedType,
            "请求内容类型不受支持",
            "unsupported content type",
        ),
        StatusCode::FORBIDDEN => (ErrorCode::Forbidden, "无权访问", "forbidden"),
        s if s.is_server_error() => (
            ErrorCode::Internal,
            "系统内部错误，请稍后重试",
            "internal error; please try again later",
        ),
        _ => (
            ErrorCode::InvalidRequest,
            "请求格式不正确（地址、查询参数或请求头）",
            "the request is malformed (path, query string or headers)",
        ),
    };
    let mut answer = ApiError::new(status, code, zh, en).into_response();
    // Keep what the original answer said about allowed methods.
    if let Some(allow) = response.headers().get(axum::http::header::ALLOW) {
        answer
            .headers_mut()
            .insert(axum::http::header::ALLOW, allow.clone());
    }
    answer
}
