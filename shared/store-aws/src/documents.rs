//! The document port on S3. A put spools the stream to a temporary file while hashing it (the
//! key is the hash, known only at the end), then uploads it to `sha256/<hex>` with
//! `If-None-Match: *` (create-only: an existing object answers 412 and the put is a no-op),
//! `x-amz-checksum-sha256` (S3 refuses bytes that do not match) and a legal hold. Presigned
//! uploads go to `incoming/<hex>` (no lock; the bucket's lifecycle rule expires them); filing
//! copies one to `sha256/<hex>` asking S3 for the copy's SHA-256 checksum, which must be the
//! name, and places the legal hold.

use std::io::Write;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_s3::Client;
use aws_sdk_s3::error::SdkError;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ChecksumAlgorithm, ObjectLockLegalHoldStatus};
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

    /// The size of the object at `key`, if there is one.
    async fn size_of(&self, key: &str) -> Result<Option<u64>, DocError> {
        match self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key)
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
            .object_lock_legal_hold_status(ObjectLockLegalHoldStatus::On)
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
        for key in [sha256.key(), sha256.incoming_key()] {
            match self
                .client
                .get_object()
                .bucket(&self.bucket)
                .key(&key)
                .send()
                .await
            {
                Ok(out) => {
                    return Ok(Box::pin(VerifyingReader::new(
                        out.body.into_async_read(),
                        *sha256,
                    )));
                }
                Err(e) if e.as_service_error().is_some_and(|se| se.is_no_such_key()) => {}
                Err(e) => return Err(unavailable(&e)),
            }
        }
        Err(DocError::NotFound(*sha256))
    }

    async fn head(&self, sha256: &Sha256) -> Result<Option<u64>, DocError> {
        for key in [sha256.key(), sha256.incoming_key()] {
            if let Some(len) = self.size_of(&key).await? {
                return Ok(Some(len));
            }
        }
        Ok(None)
    }

    async fn file(&self, sha256: &Sha256) -> Result<u64, DocError> {
        if let Some(len) = self.size_of(&sha256.key()).await? {
            return Ok(len);
        }
        let Some(len) = self.size_of(&sha256.incoming_key()).await? else {
            return Err(DocError::NotFound(*sha256));
        };
        let out = self
            .client
            .copy_object()
            .bucket(&self.bucket)
            .copy_source(format!("{}/{}", self.bucket, sha256.incoming_key()))
            .key(sha256.key())
            .checksum_algorithm(ChecksumAlgorithm::Sha256)
            .object_lock_legal_hold_status(ObjectLockLegalHoldStatus::On)
            .send()
            .await
            .map_err(|e| unavailable(&e))?;
        let copied = out
            .copy_object_result()
            .and_then(|r| r.checksum_sha256())
            .map(str::to_owned);
        if copied.as_deref() != Some(sha256.base64().as_str()) {
            // Not the bytes the name says (or no checksum from the store): never filed.
            let (actual, _) = self.hash_object(&sha256.key()).await?;
            if actual != *sha256 {
                return Err(DocError::Corrupt {
                    expected: *sha256,
                    actual,
                });
            }
        }
        // The upload is no longer needed (the lifecycle rule would remove it anyway).
        let _ = self
            .client
            .delete_object()
            .bucket(&self.bucket)
            .key(sha256.incoming_key())
            .send()
            .await;
        Ok(len)
    }

    async fn is_filed(&self, sha256: &Sha256) -> Result<bool, DocError> {
        Ok(self.size_of(&sha256.key()).await?.is_some())
    }

    async fn sweep_incoming(&self, age: Duration) -> Result<usize, DocError> {
        let cutoff = std::time::SystemTime::now()
            .checked_sub(age)
            .unwrap_or(std::time::UNIX_EPOCH);
        let mut removed = 0;
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix("incoming/")
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| unavailable(&e))?;
            for object in page.contents() {
                let old = object
                    .last_modified()
                    .and_then(|t| std::time::SystemTime::try_from(*t).ok())
                    .is_some_and(|t| t <= cutoff);
                if let (true, Some(key)) = (old, object.key()) {
                    self.client
                        .delete_object()
                        .bucket(&self.bucket)
                        .key(key)
                        .send()
                        .await
                        .map_err(|e| unavailable(&e))?;
                    removed += 1;
                }
            }
        }
        Ok(removed)
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
            .key(sha256.incoming_key())
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
                    .or_else(|| key.strip_prefix("incoming/"))
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
