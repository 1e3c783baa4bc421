//! The document port on S3. A put spools the stream to a temporary file while hashing it (the
//! key is the hash, known only at the end), then uploads it to `sha256/<hex>` with
//! `If-None-Match: *` (create-only: an existing object answers 412 and the put is a no-op),
//! `x-amz-checksum-sha256` (S3 refuses bytes that do not match) and a legal hold. Presigned
//! uploads go to `incoming/upload-<id>` (no lock; the bucket's lifecycle rule expires them),
//! registering one moves it to `incoming/<hex>`; filing
//! copies one to `sha256/<hex>` asking S3 for the copy's SHA-256 checksum, which must be the
//! name, and places the legal hold. Form uploads (a POST policy signed here with SigV4, as the
//! SDK has no presigned POST) land at `incoming/upload-<id>` too.

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
    DocError, DocMeta, DocReader, Documents, Filed, FormPolicy, Keep, PresignedPost, PresignedPut,
    Protection, Sha256, UploadId, VerifyReport, VerifyingReader,
};
use tokio::io::{AsyncRead, AsyncReadExt};

/// The largest document accepted: S3's largest single upload, 5 GiB.
pub const MAX_DOCUMENT_BYTES: u64 = 5 << 30;

/// Documents in one S3 bucket.
#[derive(Debug, Clone)]
pub struct S3Documents {
    client: Client,
    bucket: String,
    /// The credentials that sign form uploads (the client does not give its own back).
    credentials: Option<aws_sdk_s3::config::SharedCredentialsProvider>,
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

/// The first instant of `day` in China (UTC+8), as S3 takes a retain-until date.
fn day_start(day: chrono::NaiveDate) -> aws_smithy_types::DateTime {
    let secs = day
        .and_hms_opt(0, 0, 0)
        .map_or(0, |t| t.and_utc().timestamp() - 8 * 3600);
    aws_smithy_types::DateTime::from_secs(secs)
}

/// The day in China (UTC+8) of an instant S3 gives.
fn china_day(t: &aws_smithy_types::DateTime) -> Option<chrono::NaiveDate> {
    chrono::DateTime::from_timestamp(t.secs() + 8 * 3600, 0).map(|d| d.date_naive())
}

impl S3Documents {
    /// Places or releases the legal hold of a filed document.
    async fn hold(&self, sha256: &Sha256, on: bool) -> Result<(), DocError> {
        let status = if on {
            ObjectLockLegalHoldStatus::On
        } else {
            ObjectLockLegalHoldStatus::Off
        };
        self.client
            .put_object_legal_hold()
            .bucket(&self.bucket)
            .key(sha256.key())
            .legal_hold(
                aws_sdk_s3::types::ObjectLockLegalHold::builder()
                    .status(status)
                    .build(),
            )
            .send()
            .await
            .map_err(|e| unavailable(&e))?;
        Ok(())
    }

    /// Documents in `bucket`.
    #[must_use]
    pub fn new(client: Client, bucket: &str) -> Self {
        S3Documents {
            client,
            bucket: bucket.to_owned(),
            credentials: None,
        }
    }

    /// Signs form uploads with `credentials` (those the client was built with).
    #[must_use]
    pub fn signing_forms_with(
        mut self,
        credentials: Option<aws_sdk_s3::config::SharedCredentialsProvider>,
    ) -> Self {
        self.credentials = credentials;
        self
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

    /// Spools `body` to a temporary file while hashing it, then uploads it under its hash:
    /// filed and held, or to the incoming area.
    async fn store(
        &self,
        body: &mut (dyn AsyncRead + Send + Unpin),
        limit: u64,
        filed: bool,
    ) -> Result<DocMeta, DocError> {
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
            if size > limit {
                return Err(DocError::TooLarge { size, limit });
            }
            hasher.update(&buf[..n]);
            file.write_all(&buf[..n])?;
        }
        file.flush()?;
        let sha256 = Sha256::from_bytes(hasher.finalize().into());
        let stream = ByteStream::from_path(spool.path())
            .await
            .map_err(|e| DocError::Unavailable(e.to_string()))?;
        let mut request = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(if filed {
                sha256.key()
            } else {
                sha256.incoming_key()
            })
            .body(stream)
            .content_length(i64::try_from(size).unwrap_or(i64::MAX))
            .checksum_sha256(sha256.base64())
            .if_none_match("*");
        if filed {
            request = request.object_lock_legal_hold_status(ObjectLockLegalHoldStatus::On);
        }
        let created = match request.send().await {
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

    /// The URL a form posts to: the bucket's own, in the addressing the client uses (path
    /// style on LocalStack, virtual-hosted on AWS), read from a presigned request for `key`.
    async fn bucket_url(&self, key: &str) -> Result<String, DocError> {
        let config = PresigningConfig::expires_in(Duration::from_secs(60))
            .map_err(|e| DocError::Unavailable(e.to_string()))?;
        let request = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .presigned(config)
            .await
            .map_err(|e| unavailable(&e))?;
        let uri = request.uri();
        let without_query = uri.split('?').next().unwrap_or(uri);
        Ok(without_query.strip_suffix(key).map_or_else(
            || without_query.to_owned(),
            |b| b.trim_end_matches('/').to_owned(),
        ))
    }

    /// Deletes an object, ignoring failure (the lifecycle rule removes what is left).
    async fn delete(&self, key: &str) {
        let _ = self
            .client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await;
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
        self.store(body, MAX_DOCUMENT_BYTES, true).await
    }

    async fn receive(
        &self,
        body: &mut (dyn AsyncRead + Send + Unpin),
        max_len: u64,
    ) -> Result<DocMeta, DocError> {
        self.store(body, max_len.min(MAX_DOCUMENT_BYTES), false)
            .await
    }

    async fn presign_post(&self, policy: &FormPolicy) -> Result<PresignedPost, DocError> {
        use aws_sdk_s3::config::ProvideCredentials;
        use base64::Engine;
        let config = self.client.config();
        let region = config
            .region()
            .map_or_else(|| "us-east-1".to_owned(), ToString::to_string);
        let credentials = self
            .credentials
            .as_ref()
            .ok_or_else(|| DocError::Unavailable("no AWS credentials to sign a form".into()))?
            .provide_credentials()
            .await
            .map_err(|e| DocError::Unavailable(e.to_string()))?;
        let now = std::time::SystemTime::now();
        let stamp = chrono::DateTime::<chrono::Utc>::from(now);
        let date = stamp.format("%Y%m%d").to_string();
        let amz_date = stamp.format("%Y%m%dT%H%M%SZ").to_string();
        let expiration = (stamp
            + chrono::Duration::seconds(
                i64::try_from(policy.expires_in.as_secs()).unwrap_or(3600),
            ))
        .format("%Y-%m-%dT%H:%M:%S.000Z")
        .to_string();
        let credential = format!(
            "{}/{date}/{region}/s3/aws4_request",
            credentials.access_key_id()
        );
        let key = policy.id.key();
        let mut fields = vec![
            ("key".to_owned(), key.clone()),
            ("Content-Type".to_owned(), policy.content_type.clone()),
            (
                "success_action_redirect".to_owned(),
                policy.redirect.clone(),
            ),
            ("x-amz-algorithm".to_owned(), "AWS4-HMAC-SHA256".to_owned()),
            ("x-amz-credential".to_owned(), credential),
            ("x-amz-date".to_owned(), amz_date),
        ];
        if let Some(token) = credentials.session_token() {
            fields.push(("x-amz-security-token".to_owned(), token.to_owned()));
        }
        let mut conditions = vec![
            serde_json::json!({ "bucket": self.bucket }),
            serde_json::json!(["content-length-range", 1, policy.max_len]),
        ];
        conditions.extend(
            fields
                .iter()
                .map(|(k, v)| serde_json::json!({ k.as_str(): v })),
        );
        let document = serde_json::json!({ "expiration": expiration, "conditions": conditions });
        let encoded = base64::engine::general_purpose::STANDARD.encode(document.to_string());
        let signing_key = aws_sigv4::sign::v4::generate_signing_key(
            credentials.secret_access_key(),
            now,
            &region,
            "s3",
        );
        let signature = aws_sigv4::sign::v4::calculate_signature(signing_key, encoded.as_bytes());
        fields.push(("policy".to_owned(), encoded));
        fields.push(("x-amz-signature".to_owned(), signature));
        Ok(PresignedPost {
            url: self.bucket_url(&key).await?,
            fields,
            expires_in: policy.expires_in,
        })
    }

    async fn register(&self, id: &UploadId, max_len: u64) -> Result<DocMeta, DocError> {
        let key = id.key();
        let Some(size) = self.size_of(&key).await? else {
            return Err(DocError::NotFound(Sha256::from_bytes([0; 32])));
        };
        if size > max_len {
            self.delete(&key).await;
            return Err(DocError::TooLarge {
                size,
                limit: max_len,
            });
        }
        let (sha256, size) = self.hash_object(&key).await?;
        let created = self.size_of(&sha256.incoming_key()).await?.is_none();
        if created {
            let out = self
                .client
                .copy_object()
                .bucket(&self.bucket)
                .copy_source(format!("{}/{key}", self.bucket))
                .key(sha256.incoming_key())
                .checksum_algorithm(ChecksumAlgorithm::Sha256)
                .send()
                .await
                .map_err(|e| unavailable(&e))?;
            let copied = out
                .copy_object_result()
                .and_then(|r| r.checksum_sha256())
                .map(str::to_owned);
            if copied.as_deref() != Some(sha256.base64().as_str()) {
                let (actual, _) = self.hash_object(&sha256.incoming_key()).await?;
                if actual != sha256 {
                    self.delete(&sha256.incoming_key()).await;
                    return Err(DocError::Corrupt {
                        expected: sha256,
                        actual,
                    });
                }
            }
        }
        self.delete(&key).await;
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

    async fn file(&self, sha256: &Sha256) -> Result<Filed, DocError> {
        let Some(len) = self.size_of(&sha256.incoming_key()).await? else {
            return match self.size_of(&sha256.key()).await? {
                Some(size) => Ok(Filed {
                    size,
                    from_upload: false,
                }),
                None => Err(DocError::NotFound(*sha256)),
            };
        };
        if self.size_of(&sha256.key()).await?.is_some() {
            // Filed already: the upload still proves its uploader had these bytes.
            let (actual, _) = self.hash_object(&sha256.incoming_key()).await?;
            self.delete(&sha256.incoming_key()).await;
            if actual != *sha256 {
                return Err(DocError::Corrupt {
                    expected: *sha256,
                    actual,
                });
            }
            return Ok(Filed {
                size: len,
                from_upload: true,
            });
        }
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
        self.delete(&sha256.incoming_key()).await;
        Ok(Filed {
            size: len,
            from_upload: true,
        })
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
        id: &UploadId,
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
            .key(id.key())
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

    async fn keep(&self, sha256: &Sha256, keep: Keep) -> Result<Protection, DocError> {
        let now = self
            .protection(sha256)
            .await?
            .ok_or(DocError::NotFound(*sha256))?;
        match keep {
            Keep::Permanently => self.hold(sha256, true).await?,
            Keep::Until(day) => {
                let until = now.until.map_or(day, |u| u.max(day));
                if now.until != Some(until) {
                    let retention = aws_sdk_s3::types::ObjectLockRetention::builder()
                        .mode(aws_sdk_s3::types::ObjectLockRetentionMode::Compliance)
                        .retain_until_date(day_start(until))
                        .build();
                    self.client
                        .put_object_retention()
                        .bucket(&self.bucket)
                        .key(sha256.key())
                        .retention(retention)
                        .send()
                        .await
                        .map_err(|e| unavailable(&e))?;
                }
            }
        }
        self.protection(sha256)
            .await?
            .ok_or(DocError::NotFound(*sha256))
    }

    async fn release(&self, sha256: &Sha256) -> Result<Protection, DocError> {
        let now = self
            .protection(sha256)
            .await?
            .ok_or(DocError::NotFound(*sha256))?;
        if now.until.is_none() {
            return Err(DocError::Retained {
                sha256: *sha256,
                held: now.held,
                until: None,
            });
        }
        if now.held {
            self.hold(sha256, false).await?;
        }
        self.protection(sha256)
            .await?
            .ok_or(DocError::NotFound(*sha256))
    }

    async fn protection(&self, sha256: &Sha256) -> Result<Option<Protection>, DocError> {
        let head = match self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(sha256.key())
            .send()
            .await
        {
            Ok(h) => h,
            Err(e) if e.as_service_error().is_some_and(|se| se.is_not_found()) => return Ok(None),
            Err(e) if status(&e) == Some(404) => return Ok(None),
            Err(e) => return Err(unavailable(&e)),
        };
        Ok(Some(Protection {
            held: head.object_lock_legal_hold_status() == Some(&ObjectLockLegalHoldStatus::On),
            until: head.object_lock_retain_until_date().and_then(china_day),
            read_only: true,
        }))
    }

    async fn destroy(&self, sha256: &Sha256, today: chrono::NaiveDate) -> Result<(), DocError> {
        let p = self
            .protection(sha256)
            .await?
            .ok_or(DocError::NotFound(*sha256))?;
        let retained = DocError::Retained {
            sha256: *sha256,
            held: p.held,
            until: p.until,
        };
        if p.held || p.until.is_none_or(|u| u > today) {
            return Err(retained);
        }
        // Every version goes (a versioned bucket keeps the bytes under the one deleted); S3
        // itself refuses a version still locked.
        let versions = self
            .client
            .list_object_versions()
            .bucket(&self.bucket)
            .prefix(sha256.key())
            .send()
            .await
            .map_err(|e| unavailable(&e))?;
        for v in versions.versions() {
            if v.key() != Some(sha256.key().as_str()) {
                continue;
            }
            match self
                .client
                .delete_object()
                .bucket(&self.bucket)
                .key(sha256.key())
                .set_version_id(v.version_id().map(str::to_owned))
                .send()
                .await
            {
                Ok(_) => {}
                Err(e) if status(&e) == Some(403) => return Err(retained),
                Err(e) => return Err(unavailable(&e)),
            }
        }
        Ok(())
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
                if key
                    .strip_prefix("incoming/upload-")
                    .is_some_and(|id| UploadId::parse(id).is_ok())
                {
                    // An upload not yet registered has no name to check against.
                    continue;
                }
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
