//! Signing in through an OpenID Connect provider (authorization code + PKCE), against a local
//! stand-in provider that checks what a real one checks (client, redirect URI, the PKCE
//! verifier against its challenge, single-use codes) and signs RS256 ID tokens published in its
//! JWKS. A citizen whose real name the provider vouches for is linked to her ID number; a staff
//! account gets the role and county of its administrator-managed claims; a callback from
//! another browser, a replayed one, a token with another nonce, one signed by another key or
//! with a symmetric algorithm, and a cancelled sign-in all start no session.

#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    reason = "a test fails loudly on what it does not expect"
)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::extract::{Form, Query, State};
use axum::http::{Request, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use sha2::Digest;
use swi_platform::Platform;
use swi_portal::oidc::{Oidc, OidcConfig};
use tower::ServiceExt;

const KEY: &str = include_str!("fixtures/oidc-test-key.pem");
const OTHER_KEY: &str = include_str!("fixtures/oidc-other-key.pem");
const CLIENT: &str = "swi-portal-test";
const PORTAL: &str = "https://portal.swi.test";

/// How the stand-in signs its next token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Signing {
    Honest,
    WrongNonce,
    OtherKey,
    Symmetric,
}

/// A code issued: the PKCE challenge, the nonce and the redirect URI it was issued for.
type Issued = (String, String, String);

#[derive(Clone)]
struct Provider {
    issuer: String,
    /// The claims of whoever signs in next.
    user: Arc<Mutex<Value>>,
    signing: Arc<Mutex<Signing>>,
    /// code → (challenge, nonce, redirect)
    codes: Arc<Mutex<BTreeMap<String, Issued>>>,
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

async fn discovery(State(p): State<Provider>) -> Response {
    axum::Json(json!({
        "issuer": p.issuer,
        "authorization_endpoint": format!("{}/authorize", p.issuer),
        "token_endpoint": format!("{}/token", p.issuer),
        "jwks_uri": format!("{}/jwks", p.issuer),
    }))
    .into_response()
}

/// A PKCS #8 PEM private key as the PKCS #1 DER `jsonwebtoken` signs with.
fn pkcs1_der(pem: &str) -> Vec<u8> {
    use rsa::pkcs1::EncodeRsaPrivateKey;
    use rsa::pkcs8::DecodePrivateKey;
    rsa::RsaPrivateKey::from_pkcs8_pem(pem)
        .unwrap()
        .to_pkcs1_der()
        .unwrap()
        .as_bytes()
        .to_vec()
}

async fn jwks() -> Response {
    use rsa::pkcs8::DecodePrivateKey;
    use rsa::traits::PublicKeyParts;
    let k = rsa::RsaPrivateKey::from_pkcs8_pem(KEY).unwrap();
    axum::Json(json!({ "keys": [{
        "kty": "RSA", "kid": "test-1", "alg": "RS256", "use": "sig",
        "n": b64(&k.n().to_bytes_be()), "e": b64(&k.e().to_bytes_be()),
    }]}))
    .into_response()
}

async fn authorize(
    State(p): State<Provider>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Response {
    let ok = q.get("response_type").map(String::as_str) == Some("code")
        && q.get("client_id").map(String::as_str) == Some(CLIENT)
        && q.get("redirect_uri").map(String::as_str) == Some(&format!("{PORTAL}/signin/callback"))
        && q.get("code_challenge_method").map(String::as_str) == Some("S256")
        && q.get("scope")
            .is_some_and(|s| s.split(' ').any(|x| x == "openid"));
    if !ok {
        return (StatusCode::BAD_REQUEST, "invalid_request").into_response();
    }
    let code = b64(&sha2::Sha256::digest(format!("{q:?}").as_bytes()));
    p.codes.lock().unwrap().insert(
        code.clone(),
        (
            q["code_challenge"].clone(),
            q["nonce"].clone(),
            q["redirect_uri"].clone(),
        ),
    );
    Redirect::to(&format!(
        "{}?code={code}&state={}",
        q["redirect_uri"], q["state"]
    ))
    .into_response()
}

async fn token(State(p): State<Provider>, Form(f): Form<BTreeMap<String, String>>) -> Response {
    let Some((challenge, nonce, redirect)) = f
        .get("code")
        .and_then(|c| p.codes.lock().unwrap().remove(c))
    else {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({ "error": "invalid_grant" })),
        )
            .into_response();
    };
    let verifier = f.get("code_verifier").cloned().unwrap_or_default();
    if b64(&sha2::Sha256::digest(verifier.as_bytes())) != challenge
        || f.get("redirect_uri") != Some(&redirect)
        || f.get("client_id").map(String::as_str) != Some(CLIENT)
        || f.get("grant_type").map(String::as_str) != Some("authorization_code")
    {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({ "error": "invalid_grant" })),
        )
            .into_response();
    }
    let signing = *p.signing.lock().unwrap();
    let now = chrono::Utc::now().timestamp();
    let mut claims = p.user.lock().unwrap().clone();
    claims["iss"] = json!(p.issuer);
    claims["aud"] = json!(CLIENT);
    claims["iat"] = json!(now);
    claims["exp"] = json!(now + 300);
    claims["nonce"] = json!(if signing == Signing::WrongNonce {
        "another nonce".to_owned()
    } else {
        nonce
    });
    let id_token = match signing {
        Signing::Symmetric => jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(b"anyone can sign with a shared secret"),
        ),
        _ => {
            let mut h = Header::new(Algorithm::RS256);
            h.kid = Some("test-1".into());
            let pem = if signing == Signing::OtherKey {
                OTHER_KEY
            } else {
                KEY
            };
            jsonwebtoken::encode(&h, &claims, &EncodingKey::from_rsa_der(&pkcs1_der(pem)))
        }
    }
    .unwrap();
    axum::Json(json!({ "access_token": "opaque", "token_type": "Bearer", "id_token": id_token }))
        .into_response()
}

async fn provider() -> Provider {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("http://{}", listener.local_addr().unwrap());
    let p = Provider {
        issuer,
        user: Arc::new(Mutex::new(json!({}))),
        signing: Arc::new(Mutex::new(Signing::Honest)),
        codes: Arc::default(),
    };
    let app = Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/jwks", get(jwks))
        .route("/authorize", get(authorize))
        .route("/token", post(token))
        .with_state(p.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    p
}

fn platform(dir: &std::path::Path) -> Platform {
    let (state, docs) = swi_store_embedded::open(dir, PORTAL).unwrap();
    Platform {
        state,
        docs,
        tokens: Arc::new(swi_platform::auth::TokenKeys::from_secret(
            b"test secret: 32 bytes at least!!",
        )),
        persons: Arc::new(swi_platform::pseudonym::PersonKeys::from_secret(&[5; 32]).unwrap()),
        clock: Arc::new(swi_platform::clock::SetClock::new(
            chrono::DateTime::parse_from_rfc3339("2026-06-15T09:30:00+08:00").unwrap(),
        )),
        base_params: Arc::new(swi_rules::ParamSet::builtin().unwrap().clone()),
        city_params: Default::default(),
        public_url: PORTAL.into(),
    }
}

/// A browser: cookies kept, redirects to the provider followed over the network, the portal's
/// own answered in process.
struct Browser {
    portal: Router,
    cookies: BTreeMap<String, String>,
}

impl Browser {
    async fn portal(&mut self, path: &str) -> (StatusCode, String, String) {
        let cookie = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let req = Request::get(path)
            .header(header::COOKIE, cookie)
            .body(Body::empty())
            .unwrap();
        let res = self.portal.clone().oneshot(req).await.unwrap();
        for v in res.headers().get_all(header::SET_COOKIE) {
            let v = v.to_str().unwrap();
            let (name, rest) = v.split_once('=').unwrap();
            let value = rest.split(';').next().unwrap();
            if value.is_empty() || v.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        let status = res.status();
        let location = res
            .headers()
            .get(header::LOCATION)
            .map(|l| l.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let body = axum::body::to_bytes(res.into_body(), 1 << 20)
            .await
            .unwrap();
        (
            status,
            location,
            String::from_utf8_lossy(&body).into_owned(),
        )
    }

    /// The provider's answer to a URL of its own: where it sends the browser.
    async fn at_provider(url: &str) -> String {
        let rest = url.strip_prefix("http://").unwrap();
        let (authority, path) = rest.split_at(rest.find('/').unwrap());
        let mut s = tokio::net::TcpStream::connect(authority).await.unwrap();
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        s.write_all(
            format!("GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        )
        .await
        .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        out.lines()
            .find_map(|l| {
                l.strip_prefix("location: ")
                    .or_else(|| l.strip_prefix("Location: "))
            })
            .unwrap_or_else(|| panic!("the provider refused: {out}"))
            .to_owned()
    }

    /// Begins at the portal, passes the provider; answers the callback path.
    async fn through_provider(&mut self, next: &str) -> String {
        let (status, to, _) = self.portal(&format!("/signin/oidc?next={next}")).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let back = Self::at_provider(&to).await;
        back.strip_prefix(PORTAL).unwrap().to_owned()
    }
}

async fn setup(dir: &std::path::Path) -> (Provider, Platform, Browser) {
    let idp = provider().await;
    let p = platform(dir);
    let oidc = Oidc::new(OidcConfig {
        issuer: idp.issuer.clone(),
        client_id: CLIENT.into(),
        client_secret: None,
        redirect_uri: format!("{PORTAL}/signin/callback"),
        label: "赣服通统一身份认证登录".into(),
        id_number_claim: Some("id_number".into()),
        claims: swi_portal::oidc::ManagedClaims::default(),
    })
    .unwrap();
    let api = swi_platform::api::app(
        p.clone(),
        vec![swi_enrollment::routes(), swi_claim_review::routes()],
    )
    .0;
    let portal = swi_portal::router(p.clone(), api, Some(oidc));
    (
        idp,
        p,
        Browser {
            portal,
            cookies: BTreeMap::new(),
        },
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_citizen_signs_in_through_the_provider_and_her_real_name_is_linked() {
    let dir = tempfile::tempdir().unwrap();
    let (idp, p, mut b) = setup(dir.path()).await;
    let id = swi_rules::ids::ResidentId::with_check_character("36070219950303264").unwrap();
    *idp.user.lock().unwrap() =
        json!({ "sub": "gft|8d1c", "name": "林小芳", "id_number": id.expose() });

    let (status, _, page) = b.portal("/signin").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("赣服通统一身份认证登录"),
        "the provider's button"
    );
    let callback = b.through_provider("/cover").await;
    let (status, next, _) = b.portal(&callback).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(next, "/cover");
    assert!(b.cookies.contains_key("swi_session"));
    let (status, _, page) = b.portal("/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("林小芳") && page.contains("参保人员"),
        "{page}"
    );
    let identity = swi_platform::identity::linked(&p, "gft|8d1c")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        identity.verification,
        swi_platform::identity::Verification::RealName
    );
    assert_eq!(identity.person, p.persons.of(&id));
    // Her own cover page now knows her (none yet), instead of asking for the window.
    let (_, _, page) = b.portal("/cover").await;
    assert!(page.contains("个人参保登记"), "{page}");

    // The same callback again: the state was used.
    let mut again = Browser {
        portal: b.portal.clone(),
        cookies: b.cookies.clone(),
    };
    again.cookies.insert(
        "swi_oidc".into(),
        callback.split("state=").nth(1).unwrap().to_owned(),
    );
    again.cookies.remove("swi_session");
    let (status, _, _) = again.portal(&callback).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(!again.cookies.contains_key("swi_session"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clerk_gets_the_role_and_county_of_her_managed_claims() {
    let dir = tempfile::tempdir().unwrap();
    let (idp, _, mut b) = setup(dir.path()).await;
    *idp.user.lock().unwrap() = json!({
        "sub": "5f0c-acceptor", "name": "章贡区受理员", "custom:role": "acceptor", "custom:county": "360702"
    });
    let callback = b.through_provider("/work").await;
    let (status, next, _) = b.portal(&callback).await;
    assert_eq!((status, next.as_str()), (StatusCode::SEE_OTHER, "/work"));
    let (status, _, page) = b.portal("/work").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(
        page.contains("受理窗口") && page.contains("章贡区"),
        "{page}"
    );
    // A county that does not exist, a clerk without a county (not the whole city by default),
    // an employer without a unit: refused outright.
    for claims in [
        json!({ "sub": "x", "name": "x", "custom:role": "acceptor", "custom:county": "999999" }),
        json!({ "sub": "y", "name": "y", "custom:role": "acceptor" }),
        json!({ "sub": "z", "name": "z", "custom:role": "employer", "custom:county": "360702" }),
    ] {
        *idp.user.lock().unwrap() = claims.clone();
        let mut other = Browser {
            portal: b.portal.clone(),
            cookies: BTreeMap::new(),
        };
        let callback = other.through_provider("/").await;
        let (status, _, _) = other.portal(&callback).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{claims}");
        assert!(!other.cookies.contains_key("swi_session"), "{claims}");
    }
    // A plain `role` claim (not the managed one, which users cannot write) makes nobody a clerk.
    *idp.user.lock().unwrap() =
        json!({ "sub": "w", "name": "w", "role": "acceptor", "county": "360702" });
    let mut other = Browser {
        portal: b.portal.clone(),
        cookies: BTreeMap::new(),
    };
    let callback = other.through_provider("/").await;
    other.portal(&callback).await;
    let (_, _, page) = other.portal("/").await;
    assert!(
        page.contains("参保人员") && !page.contains("受理窗口"),
        "{page}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_does_not_check_out_starts_no_session() {
    let dir = tempfile::tempdir().unwrap();
    let (idp, _, b) = setup(dir.path()).await;
    *idp.user.lock().unwrap() = json!({ "sub": "mallory", "name": "某人" });
    for (signing, what) in [
        (Signing::WrongNonce, "a token of another sign-in"),
        (Signing::OtherKey, "a token signed by another key"),
        (Signing::Symmetric, "a token signed with a shared secret"),
    ] {
        *idp.signing.lock().unwrap() = signing;
        let mut fresh = Browser {
            portal: b.portal.clone(),
            cookies: BTreeMap::new(),
        };
        let callback = fresh.through_provider("/").await;
        let (status, _, page) = fresh.portal(&callback).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{what}: {page}");
        assert!(page.contains("统一身份认证未完成"), "{what}");
        assert!(!fresh.cookies.contains_key("swi_session"), "{what}");
    }
    *idp.signing.lock().unwrap() = Signing::Honest;
    // A callback arriving in a browser that did not begin it (login CSRF).
    let mut began = Browser {
        portal: b.portal.clone(),
        cookies: BTreeMap::new(),
    };
    let callback = began.through_provider("/").await;
    let mut victim = Browser {
        portal: b.portal.clone(),
        cookies: BTreeMap::new(),
    };
    let (status, _, _) = victim.portal(&callback).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(!victim.cookies.contains_key("swi_session"));
    // Cancelled at the provider.
    let (status, _, page) = began
        .portal("/signin/callback?error=access_denied&state=x")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("取消"));
    // The one that began it still can.
    let (status, _, _) = began.portal(&callback).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(began.cookies.contains_key("swi_session"));
}
