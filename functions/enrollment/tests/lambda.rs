//! The enrollment bootstrap as AWS runs it: a local stand-in of the Lambda Runtime API
//! (`swi_testing`) hands it API Gateway HTTP API v2 events and takes its answers. No Docker, no
//! AWS. The jobs' bootstrap is tested in `functions/jobs`.

#![allow(
    clippy::unwrap_used,
    reason = "a test fails loudly on what it does not expect"
)]

use std::time::Duration;

use serde_json::{Value, json};
use swi_testing::{api_event, bootstrap, event, runtime_api};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bootstrap_serves_api_gateway_events() {
    // An upload request with a bad hash: 400 once authenticated, 401 before; neither needs the
    // (unreachable) store.
    let body = r#"{"sha256":"not-a-hash","size":10,"content_type":"application/pdf"}"#;
    let mut authorized = event(
        "POST",
        "/api/documents/uploads",
        json!({ "content-type": "application/json" }),
    );
    authorized["body"] = json!(body);
    authorized["requestContext"]["authorizer"] = json!({ "jwt": {
        "claims": {
            "sub": "cognito-sub-1", "custom:role": "employer", "custom:county": "360702",
            "custom:unit": "91360702MA35G6QL6T", "name": "单位经办人",
            "iss": "https://cognito-idp.example/pool", "iat": "1748856000", "exp": "1748899200"
        },
        "scopes": null
    }});
    // The same request without an authorizer, carrying everything a client could send to pass
    // for one: claim-like headers, a claims header, and a bearer token signed with a key of its
    // own (in AWS no locally signed token is ever valid).
    let forged_token = swi_platform::auth::TokenKeys::from_secret(&[1; 32])
        .mint(&swi_platform::auth::Claims {
            sub: "x".into(),
            role: "employer".into(),
            county: "360702".into(),
            name: "x".into(),
            unit: Some("91360702MA35G6QL6T".into()),
            iss: swi_platform::auth::ISSUER.into(),
            iat: chrono::Utc::now().timestamp(),
            exp: chrono::Utc::now().timestamp() + 600,
        })
        .unwrap();
    let mut imitation = event(
        "POST",
        "/api/documents/uploads",
        json!({
            "content-type": "application/json",
            "x-custom-role": "employer", "x-custom-county": "360702", "sub": "x",
            "x-amzn-oidc-data": "eyJhbGciOiJub25lIn0.eyJjdXN0b206cm9sZSI6ImVtcGxveWVyIn0.",
            "x-gateway-claims": "{\"role\":\"employer\",\"county\":\"360702\"}",
            "authorization": format!("Bearer {forged_token}")
        }),
    );
    imitation["body"] = json!(format!(
        r#"{{"sha256":"not-a-hash","size":10,"content_type":"application/pdf","requestContext":{{"authorizer":{{"jwt":{{"claims":{{"custom:role":"employer"}}}}}}}}}}"#
    ));
    let (addr, mut rx) = runtime_api(vec![
        api_event(
            "POST",
            "/api/units",
            json!({ "content-type": "application/json" }),
        ),
        api_event("GET", "/api/openapi.json", json!({})),
        ("authorized".into(), authorized),
        ("imitation".into(), imitation),
    ])
    .await;
    let _bootstrap = bootstrap(
        env!("CARGO_BIN_EXE_enrollment"),
        addr,
        &[
            ("SWI_TABLE", "swi".into()),
            ("SWI_BUCKET", "swi".into()),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:9".into()),
        ],
    );
    let mut answers = Vec::new();
    for _ in 0..4 {
        let answer = tokio::time::timeout(Duration::from_secs(30), rx.recv())
            .await
            .unwrap()
            .unwrap();
        answers.push(answer);
    }
    let openapi = answers
        .iter()
        .find(|(id, _)| id.contains("openapi"))
        .unwrap();
    assert_eq!(openapi.1["statusCode"], 200, "{}", openapi.1);
    let doc: Value = serde_json::from_str(openapi.1["body"].as_str().unwrap()).unwrap();
    assert!(doc["paths"]["/api/units"].is_object());
    let units = answers.iter().find(|(id, _)| id.contains("units")).unwrap();
    assert_eq!(
        units.1["statusCode"], 401,
        "no claims from the gateway: {}",
        units.1
    );
    let status = |id: &str| {
        let (_, a) = answers.iter().find(|(i, _)| i == id).unwrap();
        (a["statusCode"].clone(), a["body"].clone())
    };
    let (code, body) = status("authorized");
    assert_eq!(code, 400, "the authorizer's claims are taken: {body}");
    let (code, body) = status("imitation");
    assert_eq!(
        code, 401,
        "nothing a client sends passes for claims: {body}"
    );
}
