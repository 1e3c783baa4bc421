//! The document port on S3. A put spools the stream to a temporary file while hashing it (the
//! key is the hash, known only at the end), then uploads it with `If-None-Match: *` (create-only:
//! an existing object answers 412 and the put is a no-op) and `x-amz-checksum-sha256` (S3
//! refuses bytes that do not match).

use std::io::Write;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_s3::Client;
use aws_sdk_s3::error::SdkError;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use sha2::Digest;
use swi_store::docs::{
    DocError, DocMeta, DocReader, Documents, PresignedPut, Sha256, VerifyReport, VerifyingReader,
};
use tokio::io::{AsyncRead, AsyncReadExt};

/// The largest document accepted: S3's largest single upload, 5 GiB.
pub const MAX_DOCUMENT_BYTES: u64 = 5 << 30;

/// Documents in one S3 bucket.
#[derive(Debug, Clone)]
pub struct S3Documents {
    client: Client,
    bucket: String,
}

fn unavailable<E, R>(e: &SdkError<E, R>) -> DocError
where
    E: aws_sdk_s3::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    DocError::Unavailable(crate::describe(e))
}

/// The HTTP status of a service error.
fn status<E>(e: &SdkError<E, aws_sdk_s3::config::http::HttpResponse>) -> Option<u16> {
    e.raw_response().map(|r| r.status().as_u16())
}

impl S3Documents {
    /// Documents in `bucket`.
    #[must_use]
    pub fn new(client: Client, bucket: &str) -> Self {
        S3Documents {
            client,
            bucket: bucket.to_owned(),
        }
    }

    /// The bucket.
    #[must_use]
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The S3 client (operators' tools and tests).
    #[must_use]
    pub fn client(&self) -> &Client {
        &self.client
    }

    async fn hash_object(&self, key: &str) -> Result<(Sha256, u64), DocError> {
        let out = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| unavailable(&e))?;
        let mut reader = out.body.into_async_read();
        Ok(swi_store::docs::hash_stream(&mut reader).await?)
    }
}

#[async_trait]
impl Documents for S3Documents {
    async fn put(&self, body: &mut (dyn AsyncRead + Send + Unpin)) -> Result<DocMeta, DocError> {
        let spool = tempfile::NamedTempFile::new()?;
        let mut file = spool.reopen()?;
        let mut hasher = sha2::Sha256::new();
        let mut buf = vec![0u8; 1 << 20];
        let mut size = 0u64;
        loop {
            let n = body.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            size += n as u64;
            if size > MAX_DOCUMENT_BYTES {
                return Err(DocError::TooLarge {
                    size,
                    limit: MAX_DOCUMENT_BYTES,
                });
            }
            hasher.update(&buf[..n]);
            file.write_all(&buf[..n])?;
        }
        file.flush()?;
        let sha256 = Sha256::from_bytes(hasher.finalize().into());
        let stream = ByteStream::from_path(spool.path())
            .await
            .map_err(|e| DocError::Unavailable(e.to_string()))?;
        let result = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(sha256.key())
            .body(stream)
            .content_length(i64::try_from(size).unwrap_or(i64::MAX))
            .checksum_sha256(sha256.base64())
            .if_none_match("*")
            .send()
            .await;
        let created = match result {
            Ok(_) => true,
            // 412: the object exists; its name is its hash, so these very bytes are stored.
            // 409: a concurrent put of the same object is in progress.
            Err(e) if matches!(status(&e), Some(412 | 409)) => false,
            Err(e) => return Err(unavailable(&e)),
        };
        Ok(DocMeta {
            sha256,
            size,
            created,
        })
    }

    async fn get(&self, sha256: &Sha256) -> Result<DocReader, DocError> {
        match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(sha256.key())
            .send()
            .await
        {
            Ok(out) => Ok(Box::pin(VerifyingReader::new(
                out.body.into_async_read(),
                *sha256,
            ))),
            Err(e) if e.as_service_error().is_some_and(|se| se.is_no_such_key()) => {
                Err(DocError::NotFound(*sha256))
            }
            Err(e) => Err(unavailable(&e)),
        }
    }

    async fn head(&self, sha256: &Sha256) -> Result<Option<u64>, DocError> {
        match self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(sha256.key())
            .send()
            .await
        {
            Ok(out) => Ok(Some(
                out.content_length
                    .and_then(|l| u64::try_from(l).ok())
                    .unwrap_or(0),
            )),
            Err(e) if e.as_service_error().is_some_and(|se| se.is_not_found()) => Ok(None),
            Err(e) if status(&e) == Some(404) => Ok(None),
            Err(e) => Err(unavailable(&e)),
        }
    }

    async fn presign_put(
        &self,
        sha256: &Sha256,
        len: u64,
        expires_in: Duration,
    ) -> Result<PresignedPut, DocError> {
        let config = PresigningConfig::expires_in(expires_in)
            .map_err(|e| DocError::Unavailable(e.to_string()))?;
        let request = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(sha256.key())
            .content_length(i64::try_from(len).unwrap_or(i64::MAX))
            .checksum_sha256(sha256.base64())
            .if_none_match("*")
            .presigned(config)
            .await
            .map_err(|e| unavailable(&e))?;
        Ok(PresignedPut {
            url: request.uri().to_owned(),
            headers: request
                .headers()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            expires_in,
        })
    }

    async fn verify_all(&self) -> Result<VerifyReport, DocError> {
        let mut report = VerifyReport::default();
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| unavailable(&e))?;
            for object in page.contents() {
                let Some(key) = object.key() else { continue };
                let Some(expected) = key
                    .strip_prefix("sha256/")
                    .and_then(|h| Sha256::parse(h).ok())
                else {
                    report.foreign.push(key.to_owned());
                    continue;
                };
                let (actual, len) = self.hash_object(key).await?;
                report.bytes += len;
                if actual == expected {
                    report.ok += 1;
                } else {
                    report.mismatched.push((key.to_owned(), actual.hex()));
                }
            }
        }
        Ok(report)
    }
}
