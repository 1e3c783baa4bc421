//! Local accounts of the embedded portal: a user name, a password hashed with Argon2id (PHC
//! string, a random salt per account), and the claims a session carries (role, county, unit,
//! display name, a stable `sub`). Created by an administrator (`swi user add`, audited); never by
//! the person themselves. Every sign-in attempt is counted before its password is checked, per
//! user name whether or not it exists, and [`MAX_FAILURES`] in a row lock the name for a while,
//! so that a password cannot be guessed online, not even by many attempts at once; the lock of a
//! real account is an audited change. Hashing runs off the async threads, a few at a time.
//!
//! In AWS, sign-in goes through the identity provider instead (OpenID Connect); these accounts
//! are the embedded deployment's.
//!
//! Keys: `account#{username}` / `account`. The user name is not personal data (never an ID
//! number: a name of 3-32 of `a-z 0-9 . _ -`).

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use serde::{Deserialize, Serialize};
use serde_json::json;
use swi_domain::{Actor, Role};
use swi_platform::auth::{Claims, ISSUER};
use swi_platform::mutation::{Audit, audit_ops};
use swi_platform::{ApiError, ErrorCode, Platform};
use swi_store::{Condition, Item, Key, StateError, TxOp};

/// Failed sign-ins in a row that lock an account.
pub const MAX_FAILURES: u32 = 5;

/// How long a locked account stays locked (seconds).
pub const LOCKED_SECS: i64 = 15 * 60;

/// The shortest password accepted.
pub const MIN_PASSWORD: usize = 10;

/// The longest password accepted (bounded before hashing).
pub const MAX_PASSWORD: usize = 128;

/// A local account as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// The name signed in with.
    pub username: String,
    /// The stable subject every token and audit event names.
    pub sub: String,
    /// Role.
    pub role: Role,
    /// County code, or `360700` for the city.
    pub county: String,
    /// Employers: the unit's credit code.
    pub unit: Option<String>,
    /// Display name.
    pub name: String,
    /// Argon2id hash in PHC form.
    pub password: String,
}

impl Account {
    /// The claims a session of this account carries (as a token would).
    #[must_use]
    pub fn claims(&self, now: i64, lifetime: i64) -> Claims {
        claims(
            &self.sub,
            self.role,
            &self.county,
            &self.name,
            self.unit.as_deref(),
            now,
            lifetime,
        )
    }
}

/// The claims of a signed-in person, as the API checks them (a token's, or the authorizer's).
#[must_use]
pub fn claims(
    sub: &str,
    role: Role,
    county: &str,
    name: &str,
    unit: Option<&str>,
    now: i64,
    lifetime: i64,
) -> Claims {
    Claims {
        sub: sub.to_owned(),
        role: role.as_str().to_owned(),
        county: county.to_owned(),
        name: name.to_owned(),
        unit: unit.map(str::to_owned),
        iss: ISSUER.to_owned(),
        iat: now,
        exp: now + lifetime,
    }
}

/// What an administrator asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAccount {
    /// User name.
    pub username: String,
    /// The subject, when the account stands for one already known (the demo's clerks);
    /// `local:{username}` otherwise.
    pub sub: Option<String>,
    /// Role.
    pub role: Role,
    /// County code or `360700`.
    pub county: String,
    /// Employers: the unit.
    pub unit: Option<String>,
    /// Display name.
    pub name: String,
    /// The password, in the clear (hashed here, never stored).
    pub password: String,
}

fn key(username: &str) -> Key {
    Key::new(format!("account#{username}"), "account")
}

fn case(username: &str) -> String {
    format!("account#{username}")
}

/// A user name as stored: 3-32 of `a-z 0-9 . _ -`, lower-cased.
///
/// # Errors
/// 400 otherwise.
pub fn username(s: &str) -> Result<String, ApiError> {
    let u = s.trim().to_ascii_lowercase();
    let ok = (3..=32).contains(&u.len())
        && u.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    if ok {
        Ok(u)
    } else {
        Err(ApiError::invalid(
            "用户名须为 3-32 位小写字母、数字或 . _ -",
            "a user name is 3-32 of a-z 0-9 . _ -",
        ))
    }
}

/// Checks a new password's length (in characters).
///
/// # Errors
/// 400 shorter than [`MIN_PASSWORD`] or longer than [`MAX_PASSWORD`].
pub fn password_ok(s: &str) -> Result<(), ApiError> {
    let n = s.chars().count();
    if (MIN_PASSWORD..=MAX_PASSWORD).contains(&n) && s.len() <= MAX_PASSWORD * 4 {
        Ok(())
    } else {
        Err(ApiError::invalid(
            format!("密码须为 {MIN_PASSWORD}-{MAX_PASSWORD} 个字符"),
            format!("a password is {MIN_PASSWORD}-{MAX_PASSWORD} characters"),
        ))
    }
}

fn hasher() -> argon2::Argon2<'static> {
    // Argon2id, v19, with the crate's defaults (19 MiB, 2 passes, 1 lane: OWASP's minimum).
    argon2::Argon2::default()
}

/// Hashes a password with a fresh random salt.
///
/// # Errors
/// No randomness, or the hasher refuses (it does not for bounded input).
pub fn hash(password: &str) -> Result<String, ApiError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| ApiError::internal(&e))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| ApiError::internal(&e))?;
    Ok(hasher()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| ApiError::internal(&e))?
        .to_string())
}

fn verifies(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| hasher().verify_password(password.as_bytes(), &h).is_ok())
}

/// A hash no password matches, verified when the account does not exist, so that an unknown
/// name takes as long as a wrong password.
fn decoy() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash("decoy password never used").unwrap_or_default())
}

/// Creates an account (audited as `by`), refusing a name already taken.
///
/// # Errors
/// 400 bad name, password or claims (unknown role or county, an employer without a unit);
/// 409 the name is taken; 503 the store.
pub async fn add(p: &Platform, new: NewAccount, by: &Actor) -> Result<Account, ApiError> {
    let username = username(&new.username)?;
    password_ok(&new.password)?;
    if new.name.trim().is_empty() || new.name.chars().count() > 40 {
        return Err(ApiError::invalid(
            "姓名须为 1-40 个字符",
            "a display name is 1-40 characters",
        ));
    }
    let account = Account {
        sub: new
            .sub
            .clone()
            .unwrap_or_else(|| format!("local:{username}")),
        username: username.clone(),
        role: new.role,
        county: new.county,
        unit: new.unit,
        name: new.name.trim().to_owned(),
        password: hash(&new.password)?,
    };
    // The claims must be what the API accepts (role, county, an employer's unit).
    swi_platform::auth::actor_of(account.claims(0, 1)).map_err(|e| {
        ApiError::invalid(
            format!("账户信息不被接受：{}", e.zh),
            format!("the account would not be accepted: {}", e.en),
        )
    })?;
    let k = key(&username);
    let mut ops = vec![TxOp::Put {
        item: Item::new(k.pk, k.sk, &account)?,
        condition: Condition::NotExists,
    }];
    ops.extend(
        audit_ops(
            p,
            by,
            &[Audit {
                case: case(&username),
                command: "account.add".into(),
                change: json!({ "sub": account.sub, "role": account.role, "county": account.county, "unit": account.unit }),
            }],
        )
        .await?,
    );
    match p.state.transact(ops).await {
        Ok(()) => Ok(account),
        Err(StateError::Conflict { .. }) => Err(ApiError::conflict(
            ErrorCode::NameTaken,
            "该用户名已被使用",
            format!("the user name {username} is taken"),
        )),
        Err(e) => Err(e.into()),
    }
}

/// Loads an account.
///
/// # Errors
/// 503 the store.
pub async fn load(p: &Platform, username: &str) -> Result<Option<(Account, u64)>, ApiError> {
    match p.state.get(&key(username)).await? {
        Some(item) => Ok(Some((
            item.body().map_err(|e| ApiError::internal(&e))?,
            item.version,
        ))),
        None => Ok(None),
    }
}

/// The outcome of a sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignIn {
    /// The password matched.
    Accepted(Account),
    /// No such account, or a wrong password (never said which).
    Refused,
    /// Locked until (seconds since the epoch).
    Locked(i64),
}

/// The sign-in attempts of one user name, known or not (so that an unknown name locks as a
/// known one does, and the answers never tell them apart). Forgotten [`LOCKED_SECS`] after the
/// last attempt (`expires_at`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Attempts {
    /// Attempts since the last success, each counted before its password is checked.
    failures: u32,
    /// Locked until (seconds since the epoch).
    locked_until: Option<i64>,
}

/// Keyed by the name's SHA-256: an attacker's strings are never stored as they were sent.
fn attempts_key(username: &str) -> Key {
    use sha2::Digest;
    Key::new(
        format!(
            "signin#{}",
            hex::encode(sha2::Sha256::digest(username.as_bytes()))
        ),
        "attempts",
    )
}

async fn load_attempts(p: &Platform, k: &Key) -> Result<(Attempts, Option<u64>), ApiError> {
    Ok(match p.state.get(k).await? {
        Some(item) => (
            item.body().map_err(|e| ApiError::internal(&e))?,
            Some(item.version),
        ),
        None => (Attempts::default(), None),
    })
}

fn attempts_put(k: &Key, a: &Attempts, read: Option<u64>, now: i64) -> Result<TxOp, ApiError> {
    let expires = a.locked_until.unwrap_or(now).max(now) + LOCKED_SECS;
    Ok(TxOp::Put {
        item: Item::new(k.pk.clone(), k.sk.clone(), a)?.expiring_at(expires),
        condition: read.map_or(Condition::NotExists, Condition::VersionIs),
    })
}

/// At most this many passwords are hashed at once: Argon2 is slow and large by design, and a
/// burst of sign-ins must not starve the server's other work.
static HASHING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// Whether `password` matches `phc`, computed off the async threads, a few at a time.
async fn check(password: &str, phc: Option<String>) -> bool {
    let Ok(_permit) = HASHING.acquire().await else {
        return false;
    };
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || match phc {
        Some(h) => verifies(&password, &h),
        None => {
            verifies(&password, decoy());
            false
        }
    })
    .await
    .unwrap_or(false)
}

/// Checks a sign-in at `now` (seconds since the epoch). The attempt is counted first, by a
/// write conditioned on the count as read, and only then is the password checked: attempts sent
/// at once are each counted, and at most [`MAX_FAILURES`] passwords are ever tried before the
/// name locks for [`LOCKED_SECS`] (a lock of a real account is audited). A success clears the
/// count. An unknown name is counted and locked the same way, and answers exactly as a wrong
/// password does.
///
/// # Errors
/// 409 too many attempts at the same moment; 503 the store.
pub async fn sign_in(
    p: &Platform,
    username_given: &str,
    password: &str,
    now: i64,
) -> Result<SignIn, ApiError> {
    let Ok(name) = username(username_given) else {
        check(password, None).await;
        return Ok(SignIn::Refused);
    };
    if password.len() > MAX_PASSWORD * 4 {
        return Ok(SignIn::Refused);
    }
    let k = attempts_key(&name);
    // Count the attempt (cheap, retried on a race) before any hashing.
    let mut counted = None;
    for _ in 0..20 {
        let (mut a, read) = load_attempts(p, &k).await?;
        if let Some(until) = a.locked_until.filter(|u| *u > now) {
            return Ok(SignIn::Locked(until));
        }
        if a.locked_until.is_some() {
            a = Attempts::default();
        }
        a.failures += 1;
        match p
            .state
            .transact(vec![attempts_put(&k, &a, read, now)?])
            .await
        {
            Ok(()) => {
                counted = Some(a.failures);
                break;
            }
            Err(StateError::Conflict { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let Some(attempt) = counted else {
        return Err(ApiError::conflict(
            ErrorCode::ConcurrentChange,
            "登录请求过于频繁，请稍后再试",
            "too many sign-ins at once for this name; try again shortly",
        ));
    };
    let account = load(p, &name).await?.map(|(a, _)| a);
    // Past the limit (attempts counted meanwhile by others): no password is tried any more.
    let ok = attempt <= MAX_FAILURES
        && check(password, account.as_ref().map(|a| a.password.clone())).await;
    match (ok, account) {
        (true, Some(account)) => {
            // Clear the count: whatever was counted meanwhile, this person knew the password.
            for _ in 0..20 {
                let (_, read) = load_attempts(p, &k).await?;
                let Some(version) = read else { break };
                match p
                    .state
                    .transact(vec![TxOp::Delete {
                        key: k.clone(),
                        condition: Condition::VersionIs(version),
                    }])
                    .await
                {
                    Ok(()) => break,
                    Err(StateError::Conflict { .. }) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            Ok(SignIn::Accepted(account))
        }
        (_, account) if attempt >= MAX_FAILURES => {
            let until = now + LOCKED_SECS;
            for _ in 0..20 {
                let (mut a, read) = load_attempts(p, &k).await?;
                if a.locked_until.is_some_and(|u| u > now) {
                    break;
                }
                a.failures = 0;
                a.locked_until = Some(until);
                let mut ops = vec![attempts_put(&k, &a, read, now)?];
                if account.is_some() {
                    let system = swi_platform::jobs::job_actor("portal", "系统：门户登录");
                    ops.extend(
                        audit_ops(
                            p,
                            &system,
                            &[Audit {
                                case: case(&name),
                                command: "account.lock".into(),
                                change: json!({ "until": until, "after_failures": MAX_FAILURES }),
                            }],
                        )
                        .await?,
                    );
                }
                match p.state.transact(ops).await {
                    Ok(()) => break,
                    Err(StateError::Conflict { .. }) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            Ok(SignIn::Locked(until))
        }
        _ => Ok(SignIn::Refused),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let h = hash("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$v=19$"), "{h}");
        assert!(verifies("correct horse battery", &h));
        assert!(!verifies("correct horse batterx", &h));
        assert_ne!(h, hash("correct horse battery").unwrap(), "salted");
    }

    #[test]
    fn user_names_and_passwords_are_bounded() {
        assert_eq!(username(" Clerk.Wang ").unwrap(), "clerk.wang");
        for bad in ["ab", "a b c", "王五五五", &"x".repeat(33), "../etc"] {
            assert!(username(bad).is_err(), "{bad}");
        }
        assert!(password_ok("short").is_err());
        assert!(password_ok(&"长".repeat(129)).is_err());
        assert!(password_ok("十个汉字组成的密码啊").is_ok());
    }
}
