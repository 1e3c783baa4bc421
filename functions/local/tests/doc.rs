//! `swi doc put/get/verify` and `swi store health` as an operator runs them, on the embedded
//! store always and on DynamoDB + S3 (LocalStack) when `infra/test` runs the ignored tests.

#![allow(
    clippy::unwrap_used,
    reason = "a test fails loudly on what it does not expect"
)]

use std::path::Path;
use std::process::{Command, Output};

fn swi(env: &[(&str, String)], args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_swi"));
    cmd.args(args);
    for key in ["SWI_STORE", "SWI_DATA_DIR", "SWI_TABLE", "SWI_BUCKET"] {
        cmd.env_remove(key);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Upload twice (one copy), get back verified, verify clean; then corrupt and see both fail.
async fn operate(env: &[(&str, String)], scratch: &Path, corrupt: impl AsyncFnOnce(&str)) {
    let file = scratch.join("scan.pdf");
    let body: Vec<u8> = (0..250_000u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 24) as u8)
        .collect();
    let body = [scratch.display().to_string().into_bytes(), body].concat();
    std::fs::write(&file, &body).unwrap();
    let hash = sha256_hex(&body);

    let out = swi(
        env,
        &["doc", "put", file.to_str().unwrap(), "--for", "local:clerk"],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).starts_with(&format!("{hash}\t{} bytes\tuploaded", body.len())),
        "{}",
        text(&out)
    );
    let out = swi(
        env,
        &["doc", "put", file.to_str().unwrap(), "--for", "local:clerk"],
    );
    assert!(text(&out).contains("uploaded already"), "{}", text(&out));

    let out = swi(env, &["doc", "get", &hash]);
    assert!(out.status.success());
    assert_eq!(out.stdout, body);
    let out = swi(env, &["doc", "verify"]);
    assert!(out.status.success(), "{}", text(&out));
    let out = swi(env, &["store", "health"]);
    assert!(out.status.success(), "{}", text(&out));

    corrupt(&hash).await;
    let target = scratch.join("copy.pdf");
    let out = swi(env, &["doc", "get", &hash, "-o", target.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(text(&out).contains("corrupt"), "{}", text(&out));
    assert!(
        !target.exists(),
        "a corrupt document must not be written out"
    );
    let out = swi(env, &["doc", "verify"]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains(&format!("MISMATCH incoming/{hash}")),
        "{}",
        text(&out)
    );

    let out = swi(env, &["doc", "get", "not-a-hash"]);
    assert!(!out.status.success());
    assert!(text(&out).contains("not a SHA-256"));
}

fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(data))
}

#[tokio::test]
async fn doc_commands_on_the_embedded_store() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let env = [
        ("SWI_STORE", "embedded".to_owned()),
        ("SWI_DATA_DIR", data.display().to_string()),
    ];
    operate(&env, dir.path(), async |hash: &str| {
        // `doc put` uploads: the file waits in the incoming area.
        let path = data.join("documents/incoming").join(hash);
        std::fs::write(path, b"rotten").unwrap();
    })
    .await;
}

#[tokio::test]
#[ignore = "needs DynamoDB and S3: infra/test runs it on LocalStack"]
async fn doc_commands_on_dynamodb_and_s3() {
    let var = |k: &str| std::env::var(k).unwrap_or_else(|_| panic!("{k} must be set"));
    let (table, bucket) = (var("SWI_TABLE"), var("SWI_BUCKET"));
    let endpoint = std::env::var("AWS_ENDPOINT_URL").ok();
    let env = [
        ("SWI_STORE", "aws".to_owned()),
        ("SWI_TABLE", table.clone()),
        ("SWI_BUCKET", bucket.clone()),
    ];
    let dir = tempfile::tempdir().unwrap();
    let (_, docs) = swi_store_aws::open(&table, &bucket, endpoint.as_deref()).await;
    operate(&env, dir.path(), async |hash: &str| {
        docs.client()
            .put_object()
            .bucket(&bucket)
            .key(format!("incoming/{hash}"))
            .body(b"rotten".to_vec().into())
            .send()
            .await
            .unwrap();
    })
    .await;
}
