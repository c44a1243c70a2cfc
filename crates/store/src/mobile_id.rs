//! Mobile ID (issue 4 §3, G.2m): a person's phone as a login device.
//!
//! - **Enrolment.** In the portal the person generates a code: 8 characters of an alphabet without look-alikes
//!   ([`CODE_ALPHABET`], 31⁸ ≈ 8.5·10¹¹ values), valid [`CODE_LIFE`], single use; generating a new one ends the
//!   person's earlier unused codes. Only its SHA-256 is kept. The app sends the code with a device name and
//!   the device's **Ed25519** public key (raw 32 bytes, base64; `ring` verifies), and gets the device's id.
//!   A wrong code names no code, so guessing is limited per client: after [`MAX_WRONG_CODES`] wrong codes
//!   from one client in [`WRONG_CODE_WINDOW`] every further try is refused (`PSR-MID-0010`); the web edge
//!   also throttles every `401` per address.
//! - **Login.** The portal's login page starts a login for a PSN: a random id, a 4-digit verification code
//!   shown in the browser, and a token (only its hash kept) in the waiting browser's cookie. The app asks
//!   for a challenge for its device: it gets the person's newest waiting login (its verification code, shown
//!   on the phone too) and a random nonce, valid [`CHALLENGE_LIFE`] and once. The app signs
//!   [`signed_message`] — nonce, challenge, login and verification code — and the register marks the login
//!   approved; the waiting browser then takes it (once) and opens a session with `LoginMethod::MobileId`.
//!
//! Enrolment, revocation and each approval are audit acts (`mobile_id_enrol`, `mobile_id_revoke`,
//! `mobile_id_approve`) in the same transaction as their row change; the session's `login` act follows.

use chrono::{DateTime, Duration, SubsecRound, Utc};
use popreg_domain::{Code, DomainError, Psn};
use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::access::{hex, random_hex};
use crate::audit::Leaf;
use crate::{Inner, Store, StoreError, pg_ops, sqlite_ops};

/// The characters of enrolment codes: no `0`/`O`, `1`/`I`/`L`.
pub const CODE_ALPHABET: &[u8; 31] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
/// Characters in an enrolment code.
pub const CODE_LEN: usize = 8;
/// How long an enrolment code works.
pub const CODE_LIFE: Duration = Duration::minutes(5);
/// Wrong enrolment codes one client may send in [`WRONG_CODE_WINDOW`].
pub const MAX_WRONG_CODES: i64 = 10;
pub const WRONG_CODE_WINDOW: Duration = Duration::minutes(15);
/// How long a started login waits for the phone.
pub const LOGIN_LIFE: Duration = Duration::minutes(2);
/// Logins that may be started for one person in [`LOGIN_WINDOW`] (no flood of requests to their phone).
pub const MAX_LOGINS: i64 = 5;
pub const LOGIN_WINDOW: Duration = Duration::minutes(10);
/// How long a challenge may be signed.
pub const CHALLENGE_LIFE: Duration = Duration::seconds(60);

/// A new enrolment code, shown once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnrolmentCode {
    pub code: String,
    pub expires_at: DateTime<Utc>,
}

/// A registered device in force.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Device {
    pub id: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub last_used: Option<DateTime<Utc>>,
}

/// A login started on the portal, as the waiting browser knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MobileLogin {
    /// The token for the waiting browser's cookie (shown once; only its hash is kept).
    pub browser_token: String,
    pub verification: String,
    pub expires_at: DateTime<Utc>,
}

/// Where a started login stands, for the waiting browser.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MobileLoginState {
    Waiting {
        verification: String,
        expires_at: DateTime<Utc>,
    },
    /// A device approved it; taken now (answered once): open the session for this person.
    Approved(Psn),
    /// Expired, already taken, or unknown.
    Ended,
}

/// A challenge for a device to sign, with the login it approves.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Challenge {
    pub challenge_id: String,
    /// 32 random bytes, hex.
    pub nonce: String,
    pub expires_at: DateTime<Utc>,
    pub login_id: String,
    /// The code the browser shows: the person confirms on the phone that it is the same.
    pub verification_code: String,
}

/// The bytes a device signs: binds the nonce to the challenge, the login and the verification code.
pub fn signed_message(
    challenge_id: &str,
    login_id: &str,
    verification: &str,
    nonce: &str,
) -> Vec<u8> {
    format!("popreg-mobile-id-v1\n{challenge_id}\n{login_id}\n{verification}\n{nonce}").into_bytes()
}

/// An enrolment code as typed: capitals, without spaces and dashes.
pub fn normalize_code(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_uppercase)
        .collect()
}

fn sha(s: &str) -> String {
    hex(&Sha256::digest(s.as_bytes()))
}

fn refused(code: Code, detail: &str) -> StoreError {
    DomainError::new(code, detail).into()
}

fn random_bytes(n: usize) -> Result<Vec<u8>, StoreError> {
    let mut buf = vec![0u8; n];
    getrandom::fill(&mut buf)
        .map_err(|e| StoreError::Unavailable(format!("no randomness from the OS: {e}")))?;
    Ok(buf)
}

fn new_code() -> Result<String, StoreError> {
    let mut code = String::with_capacity(CODE_LEN);
    while code.len() < CODE_LEN {
        // 248 = 8 × 31: bytes above it are dropped, so every character is equally likely.
        for b in random_bytes(CODE_LEN)? {
            if b < 248 && code.len() < CODE_LEN {
                code.push(CODE_ALPHABET[usize::from(b % 31)] as char);
            }
        }
    }
    Ok(code)
}

fn new_verification() -> Result<String, StoreError> {
    let b = random_bytes(4)?;
    let n = u32::from_be_bytes([b[0], b[1], b[2], b[3]]) % 10_000;
    Ok(format!("{n:04}"))
}

/// The raw Ed25519 public key of a device, from base64.
fn device_key(public_key: &str) -> Result<Vec<u8>, StoreError> {
    popreg_domain::merkle::base64_decode(public_key.trim())
        .filter(|k| k.len() == 32)
        .ok_or_else(|| {
            refused(
                Code::MobileIdKeyInvalid,
                "public_key must be a raw 32-byte Ed25519 key in base64",
            )
        })
}

fn device_name(name: &str) -> Result<String, StoreError> {
    let name = name.trim();
    let n = name.chars().count();
    if n == 0 || n > 64 || name.chars().any(char::is_control) {
        return Err(refused(
            Code::MobileIdKeyInvalid,
            "device_name must have 1 to 64 characters",
        ));
    }
    Ok(name.to_string())
}

fn person(p: String) -> Result<Psn, StoreError> {
    p.parse().map_err(|e| crate::corrupt("mobile id psn", e))
}

/// What a transaction decided, with the refusal to answer after committing what it recorded.
type Outcome<T> = Result<T, StoreError>;

impl Store {
    fn now6(&self) -> DateTime<Utc> {
        self.clock.now().trunc_subsecs(6)
    }

    /// A new enrolment code for `psn` (shown once); the person's earlier unused codes end.
    pub async fn new_enrolment_code(&self, psn: Psn) -> Result<EnrolmentCode, StoreError> {
        let code = new_code()?;
        let now = self.now6();
        let expires_at = now + CODE_LIFE;
        dispatch!(self, write, pool, ops => {
            let mut tx = ops::begin(pool).await?;
            sqlx::query("UPDATE mobile_id_codes SET used_at = $1 WHERE psn = $2 AND used_at IS NULL")
                .bind(now)
                .bind(psn.to_string())
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO mobile_id_codes (code_sha256, psn, created_at, expires_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(sha(&code))
            .bind(psn.to_string())
            .bind(now)
            .bind(expires_at)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        });
        Ok(EnrolmentCode { code, expires_at })
    }

    /// Register a device with an enrolment code: answers the device's id. `client` (the caller's address)
    /// is charged with a wrong code.
    pub async fn enrol_device(
        &self,
        code: &str,
        name: &str,
        public_key: &str,
        client: &str,
    ) -> Result<String, StoreError> {
        let key = popreg_domain::merkle::base64(&device_key(public_key)?);
        let name = device_name(name)?;
        let hash = sha(&normalize_code(code));
        let now = self.now6();
        let id = random_hex(16)?;
        let outcome: Outcome<()> = dispatch!(self, write, pool, ops => {
            let mut tx = ops::begin(pool).await?;
            let wrong: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM mobile_id_tries WHERE client = $1 AND at > $2",
            )
            .bind(client)
            .bind(now - WRONG_CODE_WINDOW)
            .fetch_one(&mut *tx)
            .await?;
            let row = sqlx::query(
                "SELECT psn, expires_at, used_at FROM mobile_id_codes WHERE code_sha256 = $1",
            )
            .bind(&hash)
            .fetch_optional(&mut *tx)
            .await?;
            let outcome = if wrong >= MAX_WRONG_CODES {
                Err(refused(Code::MobileIdTooManyTries, "too many wrong enrolment codes from this client"))
            } else if let Some(row) = row {
                let psn: String = row.try_get(0)?;
                let expires_at: DateTime<Utc> = row.try_get(1)?;
                let used_at: Option<DateTime<Utc>> = row.try_get(2)?;
                if used_at.is_some() {
                    Err(refused(Code::MobileIdCodeUsed, "this enrolment code was already used"))
                } else if now >= expires_at {
                    Err(refused(Code::MobileIdCodeExpired, "this enrolment code has expired"))
                } else {
                    let n = sqlx::query(
                        "UPDATE mobile_id_codes SET used_at = $1 WHERE code_sha256 = $2 AND used_at IS NULL",
                    )
                    .bind(now)
                    .bind(&hash)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    if n == 1 {
                        sqlx::query(
                            "INSERT INTO mobile_id_devices (id, psn, name, public_key, created_at) \
                             VALUES ($1, $2, $3, $4, $5)",
                        )
                        .bind(&id)
                        .bind(&psn)
                        .bind(&name)
                        .bind(&key)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                        let leaf = Leaf::act(
                            "mobile_id_enrol",
                            &psn,
                            &format!("device:{id}"),
                            json!({ "name": name }),
                        );
                        ops::audit::append(&mut tx, now, &[leaf]).await?;
                        Ok(())
                    } else {
                        Err(refused(Code::MobileIdCodeUsed, "this enrolment code was already used"))
                    }
                }
            } else {
                sqlx::query("INSERT INTO mobile_id_tries (client, at) VALUES ($1, $2)")
                    .bind(client)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                Err(refused(Code::MobileIdCodeInvalid, "no enrolment has this code"))
            };
            tx.commit().await?;
            outcome
        });
        outcome?;
        tracing::info!(target: "security", device = %id, "mobile id: device enrolled");
        Ok(id)
    }

    /// The person's devices in force, oldest first.
    pub async fn devices_of(&self, psn: Psn) -> Result<Vec<Device>, StoreError> {
        dispatch!(self, read, pool, _ops => {
            let rows = sqlx::query(
                "SELECT id, name, created_at, last_used FROM mobile_id_devices \
                 WHERE psn = $1 AND revoked_at IS NULL ORDER BY created_at, id",
            )
            .bind(psn.to_string())
            .fetch_all(pool)
            .await?;
            rows.iter()
                .map(|r| {
                    Ok(Device {
                        id: r.try_get(0)?,
                        name: r.try_get(1)?,
                        created_at: r.try_get(2)?,
                        last_used: r.try_get(3)?,
                    })
                })
                .collect()
        })
    }

    /// Revoke one of the person's own devices; another person's (or an unknown, or a revoked) device is
    /// `PSR-MID-0005`.
    pub async fn revoke_device(&self, psn: Psn, device_id: &str) -> Result<(), StoreError> {
        let now = self.now6();
        let leaf = Leaf::act(
            "mobile_id_revoke",
            &psn.to_string(),
            &format!("device:{device_id}"),
            json!({}),
        );
        let n = dispatch!(self, write, pool, ops => {
            let mut tx = ops::begin(pool).await?;
            let n = sqlx::query(
                "UPDATE mobile_id_devices SET revoked_at = $1 WHERE id = $2 AND psn = $3 AND revoked_at IS NULL",
            )
            .bind(now)
            .bind(device_id)
            .bind(psn.to_string())
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 1 {
                ops::audit::append(&mut tx, now, &[leaf]).await?;
            }
            tx.commit().await?;
            n
        });
        if n != 1 {
            return Err(refused(
                Code::MobileIdDeviceUnknown,
                "the person has no such device in force",
            ));
        }
        tracing::info!(target: "security", device = %device_id, "mobile id: device revoked");
        Ok(())
    }

    /// Start a login for `psn` on the portal. Answered the same whether or not the person has a device
    /// (the login page tells nobody who uses Mobile ID); at most [`MAX_LOGINS`] in [`LOGIN_WINDOW`].
    pub async fn start_mobile_login(&self, psn: Psn) -> Result<MobileLogin, StoreError> {
        let now = self.now6();
        let id = random_hex(16)?;
        let browser_token = random_hex(32)?;
        let verification = new_verification()?;
        let expires_at = now + LOGIN_LIFE;
        let outcome: Outcome<()> = dispatch!(self, write, pool, ops => {
            let mut tx = ops::begin(pool).await?;
            let recent: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM mobile_id_logins WHERE psn = $1 AND created_at > $2",
            )
            .bind(psn.to_string())
            .bind(now - LOGIN_WINDOW)
            .fetch_one(&mut *tx)
            .await?;
            let outcome = if recent >= MAX_LOGINS {
                Err(refused(Code::MobileIdTooManyTries, "too many Mobile ID logins started for this person"))
            } else {
                sqlx::query(
                    "INSERT INTO mobile_id_logins (id, psn, browser_sha256, verification, created_at, expires_at) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(&id)
                .bind(psn.to_string())
                .bind(sha(&browser_token))
                .bind(&verification)
                .bind(now)
                .bind(expires_at)
                .execute(&mut *tx)
                .await?;
                Ok(())
            };
            tx.commit().await?;
            outcome
        });
        outcome?;
        Ok(MobileLogin {
            browser_token,
            verification,
            expires_at,
        })
    }

    /// Where the login of the waiting browser's token stands; an approved login is taken (once).
    pub async fn mobile_login_state(&self, token: &str) -> Result<MobileLoginState, StoreError> {
        let hash = sha(token);
        let now = self.now6();
        dispatch!(self, write, pool, _ops => {
            let Some(r) = sqlx::query(
                "SELECT psn, verification, expires_at, approved_at, consumed_at FROM mobile_id_logins \
                 WHERE browser_sha256 = $1",
            )
            .bind(&hash)
            .fetch_optional(pool)
            .await?
            else {
                return Ok(MobileLoginState::Ended);
            };
            let approved: Option<DateTime<Utc>> = r.try_get(3)?;
            let consumed: Option<DateTime<Utc>> = r.try_get(4)?;
            let expires_at: DateTime<Utc> = r.try_get(2)?;
            if consumed.is_some() {
                return Ok(MobileLoginState::Ended);
            }
            if approved.is_some() {
                let n = sqlx::query(
                    "UPDATE mobile_id_logins SET consumed_at = $1 WHERE browser_sha256 = $2 AND consumed_at IS NULL",
                )
                .bind(now)
                .bind(&hash)
                .execute(pool)
                .await?
                .rows_affected();
                return Ok(if n == 1 {
                    MobileLoginState::Approved(person(r.try_get(0)?)?)
                } else {
                    MobileLoginState::Ended
                });
            }
            if now >= expires_at {
                return Ok(MobileLoginState::Ended);
            }
            Ok(MobileLoginState::Waiting { verification: r.try_get(1)?, expires_at })
        })
    }

    /// A challenge for the device: the person's newest waiting login and a nonce to sign.
    pub async fn mobile_id_challenge(&self, device_id: &str) -> Result<Challenge, StoreError> {
        let now = self.now6();
        let challenge_id = random_hex(16)?;
        let nonce = random_hex(32)?;
        dispatch!(self, write, pool, ops => {
            let mut tx = ops::begin(pool).await?;
            let device = sqlx::query("SELECT psn, revoked_at FROM mobile_id_devices WHERE id = $1")
                .bind(device_id)
                .fetch_optional(&mut *tx)
                .await?;
            let Some(device) = device else {
                return Err(refused(Code::MobileIdDeviceUnknown, "no device has this id"));
            };
            if device.try_get::<Option<DateTime<Utc>>, _>(1)?.is_some() {
                return Err(refused(Code::MobileIdDeviceRevoked, "this device was revoked"));
            }
            let psn: String = device.try_get(0)?;
            let login = sqlx::query(
                "SELECT id, verification, expires_at FROM mobile_id_logins WHERE psn = $1 \
                 AND approved_at IS NULL AND consumed_at IS NULL AND expires_at > $2 \
                 ORDER BY created_at DESC, id LIMIT 1",
            )
            .bind(&psn)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(login) = login else {
                return Err(refused(Code::MobileIdNoPendingLogin, "no login is waiting for this person"));
            };
            let login_id: String = login.try_get(0)?;
            let login_expires: DateTime<Utc> = login.try_get(2)?;
            let expires_at = (now + CHALLENGE_LIFE).min(login_expires);
            sqlx::query(
                "INSERT INTO mobile_id_challenges (id, device_id, login_id, nonce, expires_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&challenge_id)
            .bind(device_id)
            .bind(&login_id)
            .bind(&nonce)
            .bind(expires_at)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(Challenge {
                challenge_id,
                nonce,
                expires_at,
                login_id,
                verification_code: login.try_get(1)?,
            })
        })
    }

    /// The device's signature of a challenge ([`signed_message`], Ed25519, base64): approves the login.
    /// The challenge is spent by any attempt, right or wrong.
    pub async fn mobile_id_sign(
        &self,
        challenge_id: &str,
        signature: &str,
    ) -> Result<(), StoreError> {
        let now = self.now6();
        let signature = popreg_domain::merkle::base64_decode(signature.trim()).unwrap_or_default();
        let invalid = || {
            refused(
                Code::MobileIdChallengeInvalid,
                "the challenge is unknown, expired or used",
            )
        };
        let outcome: Outcome<String> = dispatch!(self, write, pool, ops => {
            let mut tx = ops::begin(pool).await?;
            let ch = sqlx::query(
                "SELECT c.device_id, c.login_id, c.nonce, c.expires_at, d.psn, d.public_key, d.revoked_at, \
                 l.psn, l.verification, l.expires_at, l.approved_at, l.consumed_at \
                 FROM mobile_id_challenges c JOIN mobile_id_devices d ON d.id = c.device_id \
                 JOIN mobile_id_logins l ON l.id = c.login_id WHERE c.id = $1 AND c.used_at IS NULL",
            )
            .bind(challenge_id)
            .fetch_optional(&mut *tx)
            .await?;
            let spent = sqlx::query("UPDATE mobile_id_challenges SET used_at = $1 WHERE id = $2 AND used_at IS NULL")
                .bind(now)
                .bind(challenge_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            let outcome = match ch {
                None => Err(invalid()),
                Some(_) if spent != 1 => Err(invalid()),
                Some(r) => {
                    let device_id: String = r.try_get(0)?;
                    let login_id: String = r.try_get(1)?;
                    let nonce: String = r.try_get(2)?;
                    let expires_at: DateTime<Utc> = r.try_get(3)?;
                    let device_psn: String = r.try_get(4)?;
                    let key: String = r.try_get(5)?;
                    let revoked: Option<DateTime<Utc>> = r.try_get(6)?;
                    let login_psn: String = r.try_get(7)?;
                    let verification: String = r.try_get(8)?;
                    let login_expires: DateTime<Utc> = r.try_get(9)?;
                    let approved: Option<DateTime<Utc>> = r.try_get(10)?;
                    let consumed: Option<DateTime<Utc>> = r.try_get(11)?;
                    let key = popreg_domain::merkle::base64_decode(&key).unwrap_or_default();
                    let message = signed_message(challenge_id, &login_id, &verification, &nonce);
                    if revoked.is_some() {
                        Err(refused(Code::MobileIdDeviceRevoked, "this device was revoked"))
                    } else if now >= expires_at.min(login_expires)
                        || approved.is_some()
                        || consumed.is_some()
                        || device_psn != login_psn
                    {
                        Err(invalid())
                    } else if ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, &key)
                        .verify(&message, &signature)
                        .is_err()
                    {
                        Err(refused(Code::MobileIdSignatureInvalid, "the signature does not match the device's key"))
                    } else {
                        sqlx::query(
                            "UPDATE mobile_id_logins SET approved_at = $1, approved_by = $2 WHERE id = $3 AND approved_at IS NULL",
                        )
                        .bind(now)
                        .bind(&device_id)
                        .bind(&login_id)
                        .execute(&mut *tx)
                        .await?;
                        sqlx::query("UPDATE mobile_id_devices SET last_used = $1 WHERE id = $2")
                            .bind(now)
                            .bind(&device_id)
                            .execute(&mut *tx)
                            .await?;
                        let leaf = Leaf::act(
                            "mobile_id_approve",
                            &device_psn,
                            &format!("device:{device_id}"),
                            json!({ "login": login_id }),
                        );
                        ops::audit::append(&mut tx, now, &[leaf]).await?;
                        Ok(device_id)
                    }
                }
            };
            tx.commit().await?;
            outcome
        });
        let device = outcome?;
        tracing::info!(target: "security", device = %device, "mobile id: login approved");
        Ok(())
    }
}
