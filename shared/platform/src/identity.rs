//! Who a citizen is. A token carries only `sub`; the ID number a citizen acts for is linked to
//! that `sub` on the server, by an acceptor who saw the ID at the window (with its scan) — or, once
//! the portal plugs one in, by a real-name verification provider ([`RealNameCheck`]). Self-service
//! acts only for the linked number; a close relative acts for an injured or deceased person only
//! with recorded proof of kinship ([`may_act_for`]). Keys use person keys, never the number.

use crate::ErrorCode;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use serde_json::json;
use swi_domain::access::Owner;
use swi_domain::{Action, Actor, Role};
use swi_rules::ids::ResidentId;
use swi_store::{Condition, Item, Key, Sha256, TxOp};

use crate::auth::Authenticated;
use crate::json::ApiJson;
use crate::mutation::{Audit, Change, IdempotencyKey, apply, fingerprint};
use crate::{ApiError, Platform};

/// A real-name verification provider (公安实名认证): the portal issue plugs one in; until then
/// identities are verified at the window.
#[async_trait::async_trait]
pub trait RealNameCheck: Send + Sync {
    /// Whether `name` and `id` belong together, as the provider knows them.
    ///
    /// # Errors
    /// The provider is unavailable.
    async fn matches(&self, name: &str, id: &ResidentId) -> Result<bool, ApiError>;
}

/// How an identity was verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verification {
    /// At the window, by an acceptor who saw the ID (its scan is kept).
    Window,
    /// By a real-name verification provider.
    RealName,
}

/// A citizen's account linked to an ID number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Identity {
    /// The account (`sub`).
    pub sub: String,
    /// Real name.
    pub name: String,
    /// The ID number (answered masked).
    pub id_number: String,
    /// Person key; kept in the store, never answered.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[schema(ignore)]
    pub person: String,
    /// How it was verified.
    pub verification: Verification,
    /// By whom (the acceptor's subject, or the provider).
    pub verified_by: String,
    /// When.
    pub verified_at: DateTime<FixedOffset>,
    /// The ID's scan (window verification).
    pub evidence_sha256: Option<String>,
}

impl Identity {
    fn masked(&self) -> Self {
        let mut i = self.clone();
        i.person = String::new();
        i.id_number =
            ResidentId::parse(&self.id_number).map_or_else(|_| "****".into(), |id| id.masked());
        i
    }
}

/// Recorded proof that a citizen is a close relative of a person (for claims of an injured or
/// deceased person).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Kinship {
    /// The relative's account.
    pub sub: String,
    /// The person they act for (person key; never answered).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[schema(ignore)]
    pub person: String,
    /// The relation (`spouse`, `child`, `parent`, …, as the proof says).
    pub relation: String,
    /// The proof's scan (户口簿、结婚证、亲属关系证明).
    pub proof_sha256: String,
    /// Recorded by (acceptor).
    pub recorded_by: String,
    /// When.
    pub recorded_at: DateTime<FixedOffset>,
}

fn identity_key(sub: &str) -> Key {
    Key::new(format!("identity#{sub}"), "identity")
}

fn person_link_key(person: &str) -> Key {
    Key::new(format!("identity-of#{person}"), "link")
}

fn kin_key(sub: &str, person: &str) -> Key {
    Key::new(format!("identity#{sub}"), format!("kin#{person}"))
}

/// The identity linked to `sub`, if any.
///
/// # Errors
/// The store is unavailable.
pub async fn linked(p: &Platform, sub: &str) -> Result<Option<Identity>, ApiError> {
    p.state
        .get(&identity_key(sub))
        .await?
        .map(|i| i.body().map_err(|e| ApiError::internal(&e)))
        .transpose()
}

/// Whether `actor` may act for the holder of `id`: anyone but a citizen may (their role and
/// county are checked elsewhere); a citizen only for the ID linked to their account, or — where
/// `kin` allows it (claims for an injured or deceased person) — for a person whose close
/// relative they are on record as.
///
/// # Errors
/// 403 `identity_not_verified` (no ID linked yet: verify at the window) or `not_own_id`.
pub async fn may_act_for(
    p: &Platform,
    actor: &Actor,
    id: &ResidentId,
    kin: bool,
) -> Result<(), ApiError> {
    if actor.role != Role::Citizen {
        return Ok(());
    }
    let Some(own) = linked(p, &actor.sub).await? else {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::IdentityNotVerified,
            "请先到经办窗口核验身份（或完成实名认证）后再办理",
            "your account is not linked to a verified ID number yet: have it verified at the window",
        ));
    };
    let person = p.persons.of(id);
    if own.person == person || (kin && p.state.get(&kin_key(&actor.sub, &person)).await?.is_some())
    {
        return Ok(());
    }
    Err(ApiError::new(
        StatusCode::FORBIDDEN,
        ErrorCode::NotOwnId,
        "只能为本人（或经登记的近亲属）办理",
        "a citizen acts only for their own verified ID number, or as a close relative on record",
    ))
}

/// A window verification of a citizen's identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyIdentity {
    /// The citizen's account (`sub` of their token).
    pub sub: String,
    /// Real name, as on the ID.
    pub name: String,
    /// ID number.
    pub id_number: String,
    /// SHA-256 of the ID's uploaded scan.
    pub evidence_sha256: String,
}

/// `POST /api/identities`: an acceptor links a citizen's account to the ID number they saw at
/// the window. One account, one ID; one ID, one account.
///
/// # Errors
/// 400 fields; 403 not an acceptor; 409 the account or the ID is linked already; 422 no scan.
#[utoipa::path(post, path = "/api/identities", tag = "identities", request_body = VerifyIdentity,
    params(("Idempotency-Key" = String, Header)),
    responses((status = 201, description = "linked (ID number masked)", body = Identity),
        (status = "4XX", description = "refused: see `code`", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn verify(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    key: IdempotencyKey,
    ApiJson(req): ApiJson<VerifyIdentity>,
) -> Result<(StatusCode, axum::Json<serde_json::Value>), ApiError> {
    let fp = fingerprint("POST /api/identities", &req);
    actor.may(Action::VerifyIdentity, None, Owner::Nobody)?;
    crate::wire::name(&req.name, "name")?;
    crate::wire::subject(&req.sub, "sub")?;
    let id = ResidentId::parse(&req.id_number)
        .map_err(|e| ApiError::invalid("公民身份号码不正确", format!("`id_number`: {e}")))?;
    let scan = Sha256::parse(&req.evidence_sha256)
        .map_err(|e| ApiError::invalid("文件哈希不正确", e.to_string()))?;
    let (status, body) = apply(&p, &actor, &key, &fp, async {
        crate::documents::require_scan(&p, &actor, &scan, "身份证件扫描件").await?;
        let case = format!("identity#{}", req.sub);
        let county = actor.jurisdiction.code();
        let registered = crate::documents::file(
            &p,
            &actor,
            &scan,
            crate::dossier::Filing {
                case: &case,
                county: &county,
                class: swi_archive::retention::RecordClass::PersonRegistration,
                material: "身份证件扫描件",
            },
        )
        .await?;
        let person = p.persons.of(&id);
        let identity = Identity {
            sub: req.sub.clone(),
            name: req.name.clone(),
            id_number: id.expose().to_owned(),
            person: person.clone(),
            verification: Verification::Window,
            verified_by: actor.sub.clone(),
            verified_at: p.clock.now(),
            evidence_sha256: Some(scan.hex()),
        };
        if linked(&p, &req.sub).await?.is_some()
            || p.state.get(&person_link_key(&person)).await?.is_some()
        {
            return Err(ApiError::conflict(
                ErrorCode::IdentityLinked,
                "该账号或该公民身份号码已完成核验",
                "this account, or this ID number, is linked already",
            ));
        }
        let k = identity_key(&req.sub);
        let link = person_link_key(&person);
        let body = serde_json::to_value(identity.masked()).map_err(|e| ApiError::internal(&e))?;
        let mut ops = vec![
            TxOp::Put {
                item: Item::new(k.pk, k.sk, &identity)?,
                condition: Condition::NotExists,
            },
            TxOp::Put {
                item: Item::new(link.pk, link.sk, &json!({ "sub": req.sub }))?,
                condition: Condition::NotExists,
            },
        ];
        ops.extend(registered);
        Ok(Change {
            ops,
            audit: vec![Audit {
                case,
                command: "identity.verify_at_window".into(),
                change: json!({ "sub": req.sub, "evidence_sha256": scan.hex() }),
            }],
            status: StatusCode::CREATED,
            response: body,
        })
    })
    .await?;
    Ok((status, axum::Json(body)))
}

/// Links `sub` to the ID number an identity provider verified (its ID token's real-name
/// claims, checked by the portal's OpenID Connect port): the same link the window makes, made
/// by the provider. Answers the identity; nothing changes when the account is linked to that
/// number already.
///
/// # Errors
/// 400 a malformed name or number; 409 the account, or the number, is linked to another.
pub async fn link_verified_by_provider(
    p: &Platform,
    sub: &str,
    name: &str,
    id_number: &str,
    provider: &str,
) -> Result<Identity, ApiError> {
    crate::wire::name(name, "name")?;
    crate::wire::subject(sub, "sub")?;
    let id = ResidentId::parse(id_number)
        .map_err(|e| ApiError::invalid("公民身份号码不正确", format!("`id_number`: {e}")))?;
    let person = p.persons.of(&id);
    if let Some(existing) = linked(p, sub).await? {
        if existing.person == person {
            return Ok(existing);
        }
        return Err(ApiError::conflict(
            ErrorCode::IdentityLinked,
            "该账号已关联其他公民身份号码",
            "this account is linked to another ID number",
        ));
    }
    if p.state.get(&person_link_key(&person)).await?.is_some() {
        return Err(ApiError::conflict(
            ErrorCode::IdentityLinked,
            "该公民身份号码已关联其他账号",
            "this ID number is linked to another account",
        ));
    }
    let identity = Identity {
        sub: sub.to_owned(),
        name: name.to_owned(),
        id_number: id.expose().to_owned(),
        person: person.clone(),
        verification: Verification::RealName,
        verified_by: provider.to_owned(),
        verified_at: p.clock.now(),
        evidence_sha256: None,
    };
    let actor = Actor {
        sub: sub.to_owned(),
        role: Role::Citizen,
        jurisdiction: swi_domain::access::Jurisdiction::City,
        name: name.to_owned(),
        unit: None,
    };
    let k = identity_key(sub);
    let link = person_link_key(&person);
    let mut ops = vec![
        TxOp::Put {
            item: Item::new(k.pk, k.sk, &identity)?,
            condition: Condition::NotExists,
        },
        TxOp::Put {
            item: Item::new(link.pk, link.sk, &json!({ "sub": sub }))?,
            condition: Condition::NotExists,
        },
    ];
    ops.extend(
        crate::mutation::audit_ops(
            p,
            &actor,
            &[Audit {
                case: format!("identity#{sub}"),
                command: "identity.verify_by_provider".into(),
                change: json!({ "sub": sub, "provider": provider }),
            }],
        )
        .await?,
    );
    p.state.transact(ops).await.map_err(|e| match e {
        swi_store::StateError::Conflict { .. } => ApiError::conflict(
            ErrorCode::IdentityLinked,
            "该账号或该公民身份号码已完成核验",
            "this account, or this ID number, is linked already",
        ),
        other => other.into(),
    })?;
    Ok(identity)
}

/// A close relative's proof of kinship.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordKinship {
    /// The ID number of the injured or deceased person.
    pub id_number: String,
    /// The relation, as the proof says.
    pub relation: String,
    /// SHA-256 of the proof's uploaded scan.
    pub proof_sha256: String,
}

/// `POST /api/identities/{sub}/kin`: an acceptor records that the (verified) citizen `sub` is a
/// close relative of the holder of an ID number, with the proof.
///
/// # Errors
/// 400; 403 not an acceptor; 409 the relative's own identity is not verified; 422 no scan.
#[utoipa::path(post, path = "/api/identities/{sub}/kin", tag = "identities", request_body = RecordKinship,
    params(("sub" = String, Path), ("Idempotency-Key" = String, Header)),
    responses((status = 201, description = "recorded", body = Kinship),
        (status = "4XX", description = "refused: see `code`", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn record_kin(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    key: IdempotencyKey,
    Path(sub): Path<String>,
    ApiJson(req): ApiJson<RecordKinship>,
) -> Result<(StatusCode, axum::Json<serde_json::Value>), ApiError> {
    let fp = fingerprint(&format!("POST /api/identities/{sub}/kin"), &req);
    actor.may(Action::VerifyIdentity, None, Owner::Nobody)?;
    crate::wire::name(&req.relation, "relation")?;
    let id = ResidentId::parse(&req.id_number)
        .map_err(|e| ApiError::invalid("公民身份号码不正确", format!("`id_number`: {e}")))?;
    let proof = Sha256::parse(&req.proof_sha256)
        .map_err(|e| ApiError::invalid("文件哈希不正确", e.to_string()))?;
    let (status, body) = apply(&p, &actor, &key, &fp, async {
        let Some(_) = linked(&p, &sub).await? else {
            return Err(ApiError::conflict(
                ErrorCode::IdentityNotVerified,
                "请先核验该近亲属本人的身份",
                "verify the relative's own identity first",
            ));
        };
        crate::documents::require_scan(&p, &actor, &proof, "亲属关系证明").await?;
        let case = format!("identity#{sub}");
        let county = actor.jurisdiction.code();
        let registered = crate::documents::file(
            &p,
            &actor,
            &proof,
            crate::dossier::Filing {
                case: &case,
                county: &county,
                class: swi_archive::retention::RecordClass::PersonRegistration,
                material: "亲属关系证明",
            },
        )
        .await?;
        let person = p.persons.of(&id);
        let kin = Kinship {
            sub: sub.clone(),
            person: person.clone(),
            relation: req.relation.clone(),
            proof_sha256: proof.hex(),
            recorded_by: actor.sub.clone(),
            recorded_at: p.clock.now(),
        };
        let k = kin_key(&sub, &person);
        let mut answer = kin.clone();
        answer.person = String::new();
        let body = serde_json::to_value(&answer).map_err(|e| ApiError::internal(&e))?;
        let mut ops = vec![TxOp::Put {
            item: Item::new(k.pk, k.sk, &kin)?,
            condition: Condition::NotExists,
        }];
        ops.extend(registered);
        Ok(Change {
            ops,
            audit: vec![Audit {
                case,
                command: "identity.record_kinship".into(),
                change: json!({ "relation": req.relation, "proof_sha256": proof.hex() }),
            }],
            status: StatusCode::CREATED,
            response: body,
        })
    })
    .await?;
    Ok((status, axum::Json(body)))
}
