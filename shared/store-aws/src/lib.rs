//! The AWS backend of the storage ports: state in one DynamoDB table (`pk`, `sk`, `gsi1pk`,
//! `gsi1sk`, `version`, `body` as a map via `serde_dynamo`), documents in one S3 bucket under
//! `sha256/<hex>`, written with `If-None-Match: *` and `x-amz-checksum-sha256` so that S3 itself
//! enforces create-only and the hash.
//!
//! Clients are built once from [`sdk_config`]: the endpoint comes from `AWS_ENDPOINT_URL` when set
//! (LocalStack), with path-style S3 addressing; throttling is retried by the SDK's standard retry
//! with backoff, and unprocessed batch items are retried here.

pub mod dead_letters;
mod documents;
mod state;

use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// A short description of an SDK error: the service's code and message, or the cause chain of
/// a transport failure (never the raw response).
pub(crate) fn describe<E, R>(e: &aws_sdk_dynamodb::error::SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match e {
        aws_sdk_dynamodb::error::SdkError::ServiceError(se) => format!(
            "{}: {}",
            se.err().code().unwrap_or("ServiceError"),
            se.err().message().unwrap_or_default()
        ),
        other => DisplayErrorContext(other).to_string(),
    }
}

pub use documents::S3Documents;
pub use state::DynamoState;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_smithy_http_client::tls;

/// The SDK configuration shared by both clients: rustls (ring) HTTPS client, standard retries
/// with backoff (8 attempts, for throttling), and `endpoint` when given.
pub async fn sdk_config(endpoint: Option<&str>) -> aws_config::SdkConfig {
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https();
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(http)
        .retry_config(RetryConfig::standard().with_max_attempts(8));
    if let Some(url) = endpoint {
        loader = loader.endpoint_url(url);
    }
    loader.load().await
}

/// Both stores on one configuration.
pub async fn open(table: &str, bucket: &str, endpoint: Option<&str>) -> (DynamoState, S3Documents) {
    let sdk = sdk_config(endpoint).await;
    let dynamo = aws_sdk_dynamodb::Client::new(&sdk);
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&sdk)
            .force_path_style(endpoint.is_some())
            .build(),
    );
    (
        DynamoState::new(dynamo, table),
        S3Documents::new(s3, bucket).signing_forms_with(sdk.credentials_provider()),
    )
}

/// The bytes of a Secrets Manager secret (its binary value, or its string value as UTF-8):
/// the person-key secret of the Lambdas.
///
/// # Errors
/// The secret cannot be read, with the service's reason.
pub async fn secret(secret_id: &str, endpoint: Option<&str>) -> Result<Vec<u8>, String> {
    let sdk = sdk_config(endpoint).await;
    let client = aws_sdk_secretsmanager::Client::new(&sdk);
    let out = client
        .get_secret_value()
        .secret_id(secret_id)
        .send()
        .await
        .map_err(|e| match &e {
            aws_sdk_secretsmanager::error::SdkError::ServiceError(se) => format!(
                "{}: {}",
                se.err().code().unwrap_or("ServiceError"),
                se.err().message().unwrap_or_default()
            ),
            other => DisplayErrorContext(other).to_string(),
        })?;
    if let Some(b) = out.secret_binary() {
        return Ok(b.as_ref().to_vec());
    }
    out.secret_string()
        .map(|s| s.as_bytes().to_vec())
        .ok_or_else(|| format!("the secret {secret_id} has no value"))
}
