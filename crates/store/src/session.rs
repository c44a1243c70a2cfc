//! Login sessions of the e-Citizen portal (issue 4 §4, G.2). A login — by ID card, Mobile ID or, in the
//! demo only, a demo card — opens a session: the browser gets a random token (a cookie), the register keeps
//! its SHA-256, the person's PSN, how they logged in, a CSRF token for the session's forms, and three times:
//! when it began, when it was last used, and its absolute end.
//!
//! A session ends at the first of: logout, `idle` without a request, its absolute end. An ended session is
//! never resumed; its row stays as the record of the login. Login and every end (logout, idle, absolute) are
//! leaves of the audit trail (`Leaf::act` with action `login` / `logout` / `session_end`), written in the same
//! transaction as the row change.

use chrono::{DateTime, Duration, SubsecRound, Utc};
use popreg_domain::{Code, DomainError, Psn};
use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::access::{hex, random_hex};
use crate::audit::Leaf;
use crate::{Inner, Store, StoreError, pg_ops, sqlite_ops};

/// How the person proved who they are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoginMethod {
    /// The national ID card's certificate in the TLS handshake (or forwarded by the register's proxy).
    IdCard,
    /// A registered device signed the server's challenge.
    MobileId,
    /// The demo's card chooser: exists only in `popreg demo`.
    DemoCard,
}

impl LoginMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            LoginMethod::IdCard => "id_card",
            LoginMethod::MobileId => "mobile_id",
            LoginMethod::DemoCard => "demo_card",
        }
    }

    pub fn parse(s: &str) -> Option<LoginMethod> {
        [
            LoginMethod::IdCard,
            LoginMethod::MobileId,
            LoginMethod::DemoCard,
        ]
        .into_iter()
        .find(|m| m.as_str() == s)
    }
}

/// Why a session ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionEnd {
    /// The person logged out.
    Logout,
    /// No request for longer than the idle limit.
    Idle,
    /// The absolute limit since login passed.
    Absolute,
}

impl SessionEnd {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionEnd::Logout => "logout",
            SessionEnd::Idle => "idle",
            SessionEnd::Absolute => "absolute",
        }
    }
}

/// The time limits of sessions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionLimits {
    /// A session without a request for this long ends.
    pub idle: Duration,
    /// A session ends this long after login, however busy.
    pub absolute: Duration,
}

impl Default for SessionLimits {
    /// 15 minutes idle, 8 hours absolute (a working day).
    fn default() -> Self {
        SessionLimits {
            idle: Duration::minutes(15),
            absolute: Duration::hours(8),
        }
    }
}

/// A session in force.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    /// SHA-256 of the token (hex): how the session is named in logs and the audit trail; not a credential.
    pub id: String,
    pub psn: Psn,
    pub method: LoginMethod,
    /// The token every state-changing form of this session must carry.
    pub csrf: String,
    pub created_at: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// Where a login came from, kept with the session (at most 200 characters each).
#[derive(Clone, Debug, Default)]
pub struct LoginContext {
    pub client_ip: Option<String>,
    pub user_agent: Option<String>,
}

/// The answer of [`Store::session`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionLookup {
    Active(Session),
    /// The token names a session that has ended (now, or earlier): the person must log in again.
    Ended(SessionEnd),
    /// No session has this token.
    Unknown,
}

/// A session's `last_seen` is written at most this often: requests in between do not write.
const TOUCH_EVERY_SECS: i64 = 60;

fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

fn clip(s: Option<&str>) -> Option<String> {
    s.map(|s| s.chars().filter(|c| !c.is_control()).take(200).collect())
}

/// The session's own name in the audit trail: the first 16 hex digits of its id.
fn short(id: &str) -> &str {
    id.get(..16).unwrap_or(id)
}

impl Store {
    /// Open a session for `psn` after a successful login: answers the token for the cookie (shown once,
    /// only its hash is kept) and the session. The login is a leaf of the audit trail.
    pub async fn open_session(
        &self,
        psn: Psn,
        method: LoginMethod,
        limits: SessionLimits,
        from: &LoginContext,
    ) -> Result<(String, Session), StoreError> {
        if limits.idle <= Duration::zero() || limits.absolute <= Duration::zero() {
            return Err(
                DomainError::new(Code::Malformed, "session limits must be positive").into(),
            );
        }
        let token = random_hex(32)?;
        let id = token_hash(&token);
        let csrf = random_hex(24)?;
        let now = self.clock.now().trunc_subsecs(6);
        let session = Session {
            id: id.clone(),
            psn,
            method,
            csrf: csrf.clone(),
            created_at: now,
            last_seen: now,
            expires_at: now + limits.absolute,
        };
        let ip = clip(from.client_ip.as_deref());
        let agent = clip(from.user_agent.as_deref());
        let leaf = Leaf::act(
            "login",
            &psn.to_string(),
            &format!("session:{}", short(&id)),
            json!({ "method": method.as_str(), "client_ip": ip }),
        );
        dispatch!(self, write, pool, ops => {
            let mut tx = ops::begin(pool).await?;
            sqlx::query(
                "INSERT INTO sessions (id_sha256, psn, method, csrf, created_at, last_seen, expires_at, \
                 client_ip, user_agent) VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8)",
            )
            .bind(&id)
            .bind(psn.to_string())
            .bind(method.as_str())
            .bind(&csrf)
            .bind(now)
            .bind(session.expires_at)
            .bind(&ip)
            .bind(&agent)
            .execute(&mut *tx)
            .await?;
            ops::audit::append(&mut tx, now, &[leaf]).await?;
            tx.commit().await?;
        });
        tracing::info!(target: "security", session = short(&id), method = method.as_str(), "login");
        Ok((token, session))
    }

    /// The session a cookie's token names, as of now. A session found past its idle or absolute limit is
    /// ended here (and the end audited), and answered as [`SessionLookup::Ended`]. Refreshes `last_seen` at
    /// most once a minute.
    pub async fn session(
        &self,
        token: &str,
        limits: SessionLimits,
    ) -> Result<SessionLookup, StoreError> {
        if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(SessionLookup::Unknown);
        }
        let id = token_hash(token);
        // Every portal page looks its session up: one of the hot look-ups (`hot.rs`).
        let row = if let Some(hot) = self.hot() {
            let key = id.clone();
            hot.run(move |c| {
                use rusqlite::OptionalExtension;
                let row = c
                    .prepare_cached(
                        "SELECT psn, method, csrf, created_at, last_seen, expires_at, end_reason \
                         FROM sessions WHERE id_sha256 = $1",
                    )?
                    .query_row([key], |r| {
                        Ok((
                            (
                                r.get::<_, String>(0)?,
                                r.get::<_, String>(1)?,
                                r.get::<_, String>(2)?,
                            ),
                            (
                                r.get::<_, String>(3)?,
                                r.get::<_, String>(4)?,
                                r.get::<_, String>(5)?,
                            ),
                            r.get::<_, Option<String>>(6)?,
                        ))
                    })
                    .optional()?;
                row.map(|(a, t, end)| -> Result<_, StoreError> {
                    Ok((
                        a.0,
                        a.1,
                        a.2,
                        crate::hot::instant(&t.0)?,
                        crate::hot::instant(&t.1)?,
                        crate::hot::instant(&t.2)?,
                        end,
                    ))
                })
                .transpose()
            })
            .await?
        } else {
            dispatch!(self, read, pool, _ops => {
            sqlx::query(
                "SELECT psn, method, csrf, created_at, last_seen, expires_at, end_reason \
                 FROM sessions WHERE id_sha256 = $1",
            )
            .bind(&id)
            .fetch_optional(pool)
            .await?
            .map(|r| -> Result<_, StoreError> {
                Ok((
                    r.try_get::<String, _>(0)?,
                    r.try_get::<String, _>(1)?,
                    r.try_get::<String, _>(2)?,
                    r.try_get::<DateTime<Utc>, _>(3)?,
                    r.try_get::<DateTime<Utc>, _>(4)?,
                    r.try_get::<DateTime<Utc>, _>(5)?,
                    r.try_get::<Option<String>, _>(6)?,
                ))
            })
            .transpose()?
            })
        };
        let Some((psn, method, csrf, created_at, last_seen, expires_at, ended)) = row else {
            return Ok(SessionLookup::Unknown);
        };
        if let Some(reason) = ended {
            return Ok(SessionLookup::Ended(match reason.as_str() {
                "idle" => SessionEnd::Idle,
                "absolute" => SessionEnd::Absolute,
                _ => SessionEnd::Logout,
            }));
        }
        let psn: Psn = psn.parse().map_err(|e| crate::corrupt("session psn", e))?;
        let method =
            LoginMethod::parse(&method).ok_or_else(|| crate::corrupt("session method", &method))?;
        let now = self.clock.now().trunc_subsecs(6);
        let expires_at = expires_at.min(created_at + limits.absolute);
        let end = if now >= expires_at {
            Some(SessionEnd::Absolute)
        } else if now - last_seen >= limits.idle {
            Some(SessionEnd::Idle)
        } else {
            None
        };
        if let Some(end) = end {
            self.end_session_by_id(&id, psn, end).await?;
            return Ok(SessionLookup::Ended(end));
        }
        if (now - last_seen).num_seconds() >= TOUCH_EVERY_SECS {
            dispatch!(self, write, pool, _ops => {
                sqlx::query("UPDATE sessions SET last_seen = $1 WHERE id_sha256 = $2 AND ended_at IS NULL")
                    .bind(now)
                    .bind(&id)
                    .execute(pool)
                    .await?;
            });
        }
        Ok(SessionLookup::Active(Session {
            id,
            psn,
            method,
            csrf,
            created_at,
            last_seen: now,
            expires_at,
        }))
    }

    /// Log out: end the session the token names. Answers whether a session in force was ended.
    pub async fn close_session(&self, token: &str) -> Result<bool, StoreError> {
        let id = token_hash(token);
        let psn = dispatch!(self, read, pool, _ops => {
            sqlx::query("SELECT psn FROM sessions WHERE id_sha256 = $1 AND ended_at IS NULL")
                .bind(&id)
                .fetch_optional(pool)
                .await?
                .map(|r| r.try_get::<String, _>(0))
                .transpose()?
        });
        let Some(psn) = psn.and_then(|p| p.parse::<Psn>().ok()) else {
            return Ok(false);
        };
        self.end_session_by_id(&id, psn, SessionEnd::Logout).await
    }

    /// End a session (once: a session already ended is left as it is), with its audit leaf.
    async fn end_session_by_id(
        &self,
        id: &str,
        psn: Psn,
        end: SessionEnd,
    ) -> Result<bool, StoreError> {
        let now = self.clock.now().trunc_subsecs(6);
        let action = if end == SessionEnd::Logout {
            "logout"
        } else {
            "session_end"
        };
        let leaf = Leaf::act(
            action,
            &psn.to_string(),
            &format!("session:{}", short(id)),
            json!({ "reason": end.as_str() }),
        );
        let ended = dispatch!(self, write, pool, ops => {
            let mut tx = ops::begin(pool).await?;
            let n = sqlx::query(
                "UPDATE sessions SET ended_at = $1, end_reason = $2 WHERE id_sha256 = $3 AND ended_at IS NULL",
            )
            .bind(now)
            .bind(end.as_str())
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n > 0 {
                ops::audit::append(&mut tx, now, &[leaf]).await?;
            }
            tx.commit().await?;
            n > 0
        });
        if ended {
            tracing::info!(target: "security", session = short(id), reason = end.as_str(), "session ended");
        }
        Ok(ended)
    }

    /// The person's sessions, newest first (at most `limit`): for "where am I logged in".
    pub async fn sessions_of(
        &self,
        psn: Psn,
        limit: i64,
    ) -> Result<Vec<SessionRecord>, StoreError> {
        dispatch!(self, read, pool, _ops => {
            let rows = sqlx::query(
                "SELECT id_sha256, method, created_at, last_seen, ended_at, end_reason, client_ip, user_agent \
                 FROM sessions WHERE psn = $1 ORDER BY created_at DESC LIMIT $2",
            )
            .bind(psn.to_string())
            .bind(limit.clamp(1, 1000))
            .fetch_all(pool)
            .await?;
            rows.iter()
                .map(|r| {
                    Ok(SessionRecord {
                        id: short(&r.try_get::<String, _>(0)?).to_string(),
                        method: r.try_get(1)?,
                        created_at: r.try_get(2)?,
                        last_seen: r.try_get(3)?,
                        ended_at: r.try_get(4)?,
                        end_reason: r.try_get(5)?,
                        client_ip: r.try_get(6)?,
                        user_agent: r.try_get(7)?,
                    })
                })
                .collect()
        })
    }
}

/// A session as the person may see it in their list of logins.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct SessionRecord {
    /// The first 16 hex digits of the session's id (its name in the audit trail).
    pub id: String,
    pub method: String,
    pub created_at: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub end_reason: Option<String>,
    pub client_ip: Option<String>,
    pub user_agent: Option<String>,
}
