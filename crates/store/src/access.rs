//! Storage of the Access Control System (A1.5.3, A1.33–34, A1.37): bodies (providers and consumers), the API
//! keys they call with, their employees with the functions each may use, their read grants, and the
//! append-only log of every change to any of these (`access_events`).
//!
//! An API key is shown once, when issued, and only its SHA-256 is kept: a copy of the database does not let
//! anyone call the API. Every change writes its `access_events` row in the same transaction as the change,
//! so there is no change without its record and no record of a change that did not happen.

use chrono::{DateTime, NaiveDate, SubsecRound, Utc};
use popreg_domain::access::{BodyType, Function};
use popreg_domain::{Code, DomainError, Psn};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::hot;
use crate::{Dialect, Inner, Store, StoreError, corrupt, pg_ops, sqlite_ops};

/// The prefix of every key the register issues: greppable in leaked text (secret scanners), and tells a
/// register key apart from other secrets at a glance.
pub const API_KEY_PREFIX: &str = "psr_";

/// The longest identifier, name, label or UID the access tables accept.
const MAX_TEXT: usize = 200;

/// A body: a provider or consumer of the register's data (A1.32).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Body {
    /// Stable identifier, e.g. `MED-0001`.
    pub id: String,
    pub body_type: BodyType,
    pub name_hy: String,
    pub name_en: String,
    pub name_ru: String,
    /// The X-Road member (with subsystem) it calls from, e.g. `AM/GOV/1234567/hospital`.
    pub xroad_member: Option<String>,
    pub contact_email: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A body to create.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewBody {
    pub id: String,
    pub body_type: BodyType,
    pub name_hy: String,
    pub name_en: String,
    pub name_ru: String,
    pub xroad_member: Option<String>,
    pub contact_email: Option<String>,
}

/// An API key as stored: never the key itself, nor (outside this module) its hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ApiKey {
    pub id: String,
    pub body_id: String,
    /// The identified user the key acts for (A1.37), when the request names no other.
    pub owner_uid: String,
    pub functions: Vec<Function>,
    pub label: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// An active key with its body: what a request presenting the key acts as.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyCaller {
    pub body: Body,
    pub key: ApiKey,
}

/// A responsible employee named by a body, with the functions permitted to them (A1.34).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Employee {
    pub body_id: String,
    pub psn: Psn,
    pub functions: Vec<Function>,
    pub since: DateTime<Utc>,
    pub until: Option<DateTime<Utc>>,
}

/// A body's permission to read data elements for a purpose on a legal basis (A1.33).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReadGrant {
    pub id: String,
    pub body_id: String,
    /// Identifiers of the data elements it covers.
    pub elements: Vec<String>,
    pub purpose: String,
    pub legal_basis: String,
    pub granted_at: DateTime<Utc>,
    /// The last day the grant holds, if it is for a term.
    pub ends_on: Option<NaiveDate>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A client certificate a body's system calls the API with (mutual TLS, issue 4 item 6): identified by the
/// SHA-256 fingerprint of its DER encoding; subject, issuer and validity are kept for display.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AgencyCert {
    pub id: String,
    pub body_id: String,
    /// SHA-256 of the DER certificate, 64 lower-case hex digits.
    pub fingerprint: String,
    pub subject: String,
    pub issuer: String,
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
    /// What a request with this certificate may do, as with an API key.
    pub functions: Vec<Function>,
    pub label: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A certificate to register: what the CLI or the administration read from its PEM file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewAgencyCert {
    pub fingerprint: String,
    pub subject: String,
    pub issuer: String,
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
}

/// An unrevoked registered certificate with its body: what a request presenting it acts as.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertCaller {
    pub body: Body,
    pub cert: AgencyCert,
}

/// One change to access control, as recorded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AccessEvent {
    pub id: i64,
    pub at: DateTime<Utc>,
    /// Who made the change (an operator's UID, `cli:USER`, `demo`…).
    pub actor: String,
    /// What was done, e.g. `key.issue`.
    pub action: String,
    /// What it was done to (a body, key or grant id, or `BODY/PSN` for an employee).
    pub target: String,
    /// JSON with the particulars; never a key or its hash.
    pub detail: String,
}

/// SHA-256 of an API key, as 64 lower-case hex digits: the only form in which keys are kept.
pub fn hash_api_key(key: &str) -> String {
    hex(&Sha256::digest(key.as_bytes()))
}

/// Whether `s` is an X-Road client identifier with a subsystem: `INSTANCE/CLASS/MEMBER/SUBSYSTEM`, each part
/// non-empty and made of ASCII letters, digits, `.`, `_` and `-`.
pub fn valid_xroad_member(s: &str) -> bool {
    let parts: Vec<&str> = s.split('/').collect();
    s.len() <= MAX_TEXT
        && parts.len() == 4
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        })
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn random_hex(n: usize) -> Result<String, StoreError> {
    let mut buf = vec![0u8; n];
    getrandom::fill(&mut buf)
        .map_err(|e| StoreError::Unavailable(format!("no randomness from the OS: {e}")))?;
    Ok(hex(&buf))
}

pub(crate) fn malformed(detail: impl Into<String>) -> StoreError {
    DomainError::new(Code::Malformed, detail).into()
}

fn unknown(detail: impl Into<String>) -> StoreError {
    DomainError::new(Code::AccessUnknown, detail).into()
}

fn conflict(detail: impl Into<String>) -> StoreError {
    DomainError::new(Code::AccessConflict, detail).into()
}

/// A required free text: trimmed, non-empty, at most [`MAX_TEXT`] characters, no control characters.
pub(crate) fn text(what: &str, s: &str) -> Result<String, StoreError> {
    let t = s.trim();
    if t.is_empty() || t.chars().count() > MAX_TEXT || t.chars().any(char::is_control) {
        return Err(malformed(format!(
            "{what}: 1 to {MAX_TEXT} characters without control characters"
        )));
    }
    Ok(t.to_string())
}

/// A body id: upper-case ASCII letters and digits in groups joined by `-`, starting with a letter.
fn body_id(s: &str) -> Result<String, StoreError> {
    let ok = s.len() <= 32
        && s.starts_with(|c: char| c.is_ascii_uppercase())
        && s.split('-').all(|g| {
            !g.is_empty()
                && g.bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        });
    if ok {
        Ok(s.to_string())
    } else {
        Err(malformed(format!(
            "body id {s:?}: upper-case letters and digits in groups joined by '-', like MED-0001"
        )))
    }
}

fn join_functions(fs: &[Function]) -> Result<String, StoreError> {
    if fs.is_empty() {
        return Err(malformed("at least one function"));
    }
    let mut v: Vec<Function> = fs.to_vec();
    v.sort();
    v.dedup();
    Ok(v.iter().map(|f| f.as_str()).collect::<Vec<_>>().join(","))
}

fn split_functions(s: &str) -> Result<Vec<Function>, StoreError> {
    s.split(',')
        .filter(|p| !p.is_empty())
        .map(|p| Function::parse(p).ok_or_else(|| corrupt("function", p)))
        .collect()
}

fn join_elements(es: &[String]) -> Result<String, StoreError> {
    if es.is_empty() {
        return Err(malformed("at least one data element"));
    }
    let mut v = Vec::new();
    for e in es {
        let e = e.trim();
        if !popreg_domain::disclosure::known_element(e) {
            return Err(malformed(format!(
                "data element {e:?} is not one a grant may name: {}",
                popreg_domain::disclosure::element_names().join(", ")
            )));
        }
        v.push(e.to_string());
    }
    v.sort();
    v.dedup();
    Ok(v.join(","))
}

type BodyRow = (
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    DateTime<Utc>,
);
const BODY_COLUMNS: &str =
    "id, body_type, name_hy, name_en, name_ru, xroad_member, contact_email, created_at";

fn body_of(r: BodyRow) -> Result<Body, StoreError> {
    Ok(Body {
        body_type: BodyType::parse(&r.1).ok_or_else(|| corrupt("body type", &r.1))?,
        id: r.0,
        name_hy: r.2,
        name_en: r.3,
        name_ru: r.4,
        xroad_member: r.5,
        contact_email: r.6,
        created_at: r.7,
    })
}

type KeyRow = (
    String,
    String,
    String,
    String,
    String,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
);
const KEY_COLUMNS: &str = "id, body_id, owner_uid, functions, label, created_at, revoked_at";

fn key_of(r: KeyRow) -> Result<ApiKey, StoreError> {
    Ok(ApiKey {
        functions: split_functions(&r.3)?,
        id: r.0,
        body_id: r.1,
        owner_uid: r.2,
        label: r.4,
        created_at: r.5,
        revoked_at: r.6,
    })
}

/// A key's columns followed by its body's, as `caller_for_key` reads them in one query.
type CallerRow = (
    String,
    String,
    String,
    String,
    String,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    DateTime<Utc>,
);

type EmployeeRow = (String, String, String, DateTime<Utc>, Option<DateTime<Utc>>);

fn employee_of(r: EmployeeRow) -> Result<Employee, StoreError> {
    Ok(Employee {
        psn: Psn::parse(&r.1).map_err(|e| corrupt("employee PSN", e))?,
        functions: split_functions(&r.2)?,
        body_id: r.0,
        since: r.3,
        until: r.4,
    })
}

type GrantRow = (
    String,
    String,
    String,
    String,
    String,
    DateTime<Utc>,
    Option<NaiveDate>,
    Option<DateTime<Utc>>,
);
const GRANT_COLUMNS: &str =
    "id, body_id, elements, purpose, legal_basis, granted_at, ends_on, revoked_at";

fn grant_of(r: GrantRow) -> ReadGrant {
    ReadGrant {
        id: r.0,
        body_id: r.1,
        elements: r.2.split(',').map(str::to_string).collect(),
        purpose: r.3,
        legal_basis: r.4,
        granted_at: r.5,
        ends_on: r.6,
        revoked_at: r.7,
    }
}

type CertRow = (
    String,
    String,
    String,
    String,
    String,
    DateTime<Utc>,
    DateTime<Utc>,
    String,
    String,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
);
const CERT_COLUMNS: &str = "id, body_id, fingerprint_sha256, subject, issuer, not_before, not_after, functions, \
     label, created_at, revoked_at";

fn cert_of(r: CertRow) -> Result<AgencyCert, StoreError> {
    Ok(AgencyCert {
        functions: split_functions(&r.7)?,
        id: r.0,
        body_id: r.1,
        fingerprint: r.2,
        subject: r.3,
        issuer: r.4,
        not_before: r.5,
        not_after: r.6,
        label: r.8,
        created_at: r.9,
        revoked_at: r.10,
    })
}

/// A kind of thing that is revoked by setting its `revoked_at`: the statements and the words for it.
struct Revocable {
    select: &'static str,
    update: &'static str,
    action: &'static str,
    noun: &'static str,
}

const REVOKE_KEY: Revocable = Revocable {
    select: "SELECT body_id, revoked_at FROM api_keys WHERE id = $1",
    update: "UPDATE api_keys SET revoked_at = $1 WHERE id = $2",
    action: "key.revoke",
    noun: "API key",
};

const REVOKE_GRANT: Revocable = Revocable {
    select: "SELECT body_id, revoked_at FROM read_grants WHERE id = $1",
    update: "UPDATE read_grants SET revoked_at = $1 WHERE id = $2",
    action: "grant.revoke",
    noun: "grant",
};

const REVOKE_CERT: Revocable = Revocable {
    select: "SELECT body_id, revoked_at FROM agency_certs WHERE id = $1",
    update: "UPDATE agency_certs SET revoked_at = $1 WHERE id = $2",
    action: "cert.revoke",
    noun: "client certificate",
};

pub(crate) const INSERT_EVENT: &str = "INSERT INTO access_events (at, actor, action, target, detail) \
     VALUES ($1, $2, $3, $4, $5) RETURNING id";

/// Begin a write transaction: `BEGIN IMMEDIATE` on SQLite, so that a second process (the CLI beside the
/// server) waits for the write lock at the start instead of failing half-way.
macro_rules! begin_write {
    ($self:expr, $pool:expr) => {
        match $self.dialect() {
            Dialect::Sqlite => $pool.begin_with("BEGIN IMMEDIATE").await?,
            Dialect::Postgres => $pool.begin().await?,
        }
    };
}

/// Record one change inside the transaction that makes it.
/// The event is also a leaf of the audit trail (by id and the hash of its row, see `audit.rs`).
macro_rules! record {
    ($tx:expr, $at:expr, $actor:expr, $action:expr, $target:expr, $detail:expr) => {{
        let at: DateTime<Utc> = $at;
        let actor = text("actor", $actor)?;
        let action: &str = $action;
        let target: &str = $target;
        let detail = $detail.to_string();
        let id: i64 = sqlx::query(INSERT_EVENT)
            .bind(at)
            .bind(&actor)
            .bind(action)
            .bind(target)
            .bind(&detail)
            .fetch_one(&mut *$tx)
            .await?
            .try_get(0)?;
        let line = crate::audit::access_line(
            &id.to_string(),
            &crate::audit::ts(&at),
            &actor,
            action,
            target,
            &detail,
        );
        ops::audit::append(
            &mut *$tx,
            at,
            &[crate::audit::Leaf::row("access", id, &line)],
        )
        .await?;
    }};
}
pub(crate) use {begin_write, record};

impl Store {
    fn access_now(&self) -> DateTime<Utc> {
        self.clock.now().trunc_subsecs(6)
    }

    /// Create a body. Refuses an id or X-Road member already taken ([`Code::AccessConflict`]).
    pub async fn create_body(&self, actor: &str, new: &NewBody) -> Result<Body, StoreError> {
        let xroad_member = match new.xroad_member.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(m) if valid_xroad_member(m) => Some(m.to_string()),
            Some(m) => {
                return Err(malformed(format!(
                    "X-Road member {m:?}: INSTANCE/CLASS/MEMBER/SUBSYSTEM"
                )));
            }
        };
        let contact_email = match new.contact_email.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(e) => {
                let e = text("contact e-mail", e)?;
                if !e.contains('@') || e.contains(char::is_whitespace) {
                    return Err(malformed(format!("contact e-mail {e:?}")));
                }
                Some(e)
            }
        };
        let body = Body {
            id: body_id(&new.id)?,
            body_type: new.body_type,
            name_hy: text("name (hy)", &new.name_hy)?,
            name_en: text("name (en)", &new.name_en)?,
            name_ru: text("name (ru)", &new.name_ru)?,
            xroad_member,
            contact_email,
            created_at: self.access_now(),
        };
        dispatch!(self, write, pool, ops => {
            let mut tx = begin_write!(self, pool);
            let taken = sqlx::query("SELECT id FROM bodies WHERE id = $1 OR xroad_member = $2")
                .bind(&body.id)
                .bind(&body.xroad_member)
                .fetch_optional(&mut *tx)
                .await?;
            if taken.is_some() {
                return Err(conflict(format!(
                    "a body with id {} or X-Road member {} exists",
                    body.id,
                    body.xroad_member.as_deref().unwrap_or("-")
                )));
            }
            sqlx::query(
                "INSERT INTO bodies (id, body_type, name_hy, name_en, name_ru, xroad_member, contact_email, \
                 created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(&body.id)
            .bind(body.body_type.as_str())
            .bind(&body.name_hy)
            .bind(&body.name_en)
            .bind(&body.name_ru)
            .bind(&body.xroad_member)
            .bind(&body.contact_email)
            .bind(body.created_at)
            .execute(&mut *tx)
            .await?;
            let detail = serde_json::json!({
                "body_type": body.body_type.as_str(),
                "name_en": body.name_en,
                "xroad_member": body.xroad_member,
            });
            record!(tx, body.created_at, actor, "body.create", &body.id, detail);
            tx.commit().await?;
        });
        Ok(body)
    }

    /// Every body, by id.
    pub async fn bodies(&self) -> Result<Vec<Body>, StoreError> {
        let sql = format!("SELECT {BODY_COLUMNS} FROM bodies ORDER BY id");
        if let Some(hot) = self.hot() {
            // Every portal page names bodies (sources of facts, senders): one of the hot look-ups.
            return hot
                .run(|c| {
                    let mut st = c.prepare_cached(&sql)?;
                    let rows = st.query_map([], |r| {
                        Ok((
                            (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?),
                            (r.get(5)?, r.get(6)?, r.get::<_, String>(7)?),
                        ))
                    })?;
                    let mut out = vec![];
                    for row in rows {
                        let (b, t): ((String, String, String, String, String), _) = row?;
                        out.push(body_of((
                            b.0,
                            b.1,
                            b.2,
                            b.3,
                            b.4,
                            t.0,
                            t.1,
                            hot::instant(&t.2)?,
                        ))?);
                    }
                    Ok(out)
                })
                .await;
        }
        dispatch!(self, read, pool, ops => {
            let rows: Vec<BodyRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(pool).await?;
            rows.into_iter().map(body_of).collect()
        })
    }

    /// One body by id.
    pub async fn body(&self, id: &str) -> Result<Option<Body>, StoreError> {
        let sql = format!("SELECT {BODY_COLUMNS} FROM bodies WHERE id = $1");
        dispatch!(self, read, pool, ops => {
            let row: Option<BodyRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(id)
                .fetch_optional(pool)
                .await?;
            row.map(body_of).transpose()
        })
    }

    /// The body an X-Road client member (`INSTANCE/CLASS/MEMBER/SUBSYSTEM`) is bound to.
    pub async fn body_by_xroad_member(&self, member: &str) -> Result<Option<Body>, StoreError> {
        let sql = format!("SELECT {BODY_COLUMNS} FROM bodies WHERE xroad_member = $1");
        dispatch!(self, read, pool, ops => {
            let row: Option<BodyRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(member)
                .fetch_optional(pool)
                .await?;
            row.map(body_of).transpose()
        })
    }

    /// Issue a new API key for a body, acting for `owner_uid` with `functions`. Returns the key's id and
    /// the key itself, which is never shown again: only its SHA-256 is kept.
    pub async fn issue_api_key(
        &self,
        actor: &str,
        body_id: &str,
        owner_uid: &str,
        functions: &[Function],
        label: &str,
    ) -> Result<(String, String), StoreError> {
        let plaintext = format!("{API_KEY_PREFIX}{}", random_hex(32)?);
        let id = self
            .register_api_key_hash(
                actor,
                body_id,
                owner_uid,
                functions,
                label,
                &hash_api_key(&plaintext),
            )
            .await?;
        Ok((id, plaintext))
    }

    /// Register a key of which only the SHA-256 is handed over (a body that generates its keys itself, so
    /// that nobody at the register ever sees them). Returns the key's id.
    pub async fn register_api_key_hash(
        &self,
        actor: &str,
        body_id: &str,
        owner_uid: &str,
        functions: &[Function],
        label: &str,
        key_sha256: &str,
    ) -> Result<String, StoreError> {
        let sha = key_sha256.trim().to_ascii_lowercase();
        if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(malformed("a key's SHA-256 is 64 hex digits"));
        }
        let owner_uid = text("owner UID", owner_uid)?;
        let functions = join_functions(functions)?;
        let label = if label.trim().is_empty() {
            String::new()
        } else {
            text("label", label)?
        };
        let id = format!("KEY-{}", random_hex(6)?.to_ascii_uppercase());
        let now = self.access_now();
        dispatch!(self, write, pool, ops => {
            let mut tx = begin_write!(self, pool);
            if sqlx::query("SELECT 1 FROM bodies WHERE id = $1").bind(body_id).fetch_optional(&mut *tx).await?.is_none() {
                return Err(unknown(format!("no body {body_id}")));
            }
            if sqlx::query("SELECT 1 FROM api_keys WHERE key_sha256 = $1").bind(&sha).fetch_optional(&mut *tx).await?.is_some() {
                return Err(conflict("this key is already registered"));
            }
            sqlx::query(
                "INSERT INTO api_keys (id, body_id, key_sha256, owner_uid, functions, label, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(&id)
            .bind(body_id)
            .bind(&sha)
            .bind(&owner_uid)
            .bind(&functions)
            .bind(&label)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            let detail = serde_json::json!({
                "body": body_id, "owner_uid": owner_uid, "functions": functions, "label": label,
            });
            record!(tx, now, actor, "key.issue", &id, detail);
            tx.commit().await?;
        });
        Ok(id)
    }

    /// Replace a key by a new one with the same body, owner, functions and label; the old key stops working
    /// at once. Returns the new key's id and the new key (shown once).
    pub async fn rotate_api_key(
        &self,
        actor: &str,
        key_id: &str,
    ) -> Result<(String, String), StoreError> {
        let plaintext = format!("{API_KEY_PREFIX}{}", random_hex(32)?);
        let sha = hash_api_key(&plaintext);
        let new_id = format!("KEY-{}", random_hex(6)?.to_ascii_uppercase());
        let now = self.access_now();
        let sql = format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE id = $1");
        dispatch!(self, write, pool, ops => {
            let mut tx = begin_write!(self, pool);
            let row: Option<KeyRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(key_id)
                .fetch_optional(&mut *tx)
                .await?;
            let old = key_of(row.ok_or_else(|| unknown(format!("no API key {key_id}")))?)?;
            if old.revoked_at.is_some() {
                return Err(conflict(format!("API key {key_id} is revoked")));
            }
            sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2")
                .bind(now)
                .bind(key_id)
                .execute(&mut *tx)
                .await?;
            let functions = join_functions(&old.functions)?;
            sqlx::query(
                "INSERT INTO api_keys (id, body_id, key_sha256, owner_uid, functions, label, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(&new_id)
            .bind(&old.body_id)
            .bind(&sha)
            .bind(&old.owner_uid)
            .bind(&functions)
            .bind(&old.label)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            let detail = serde_json::json!({ "body": old.body_id, "replaced_by": new_id });
            record!(tx, now, actor, "key.rotate", key_id, detail);
            tx.commit().await?;
        });
        Ok((new_id, plaintext))
    }

    /// Revoke a key: the next request with it is refused.
    pub async fn revoke_api_key(&self, actor: &str, key_id: &str) -> Result<(), StoreError> {
        self.revoke(actor, &REVOKE_KEY, key_id).await
    }

    /// A body's keys, revoked ones included, oldest first.
    pub async fn api_keys(&self, body_id: &str) -> Result<Vec<ApiKey>, StoreError> {
        let sql = format!(
            "SELECT {KEY_COLUMNS} FROM api_keys WHERE body_id = $1 ORDER BY created_at, id"
        );
        dispatch!(self, read, pool, ops => {
            let rows: Vec<KeyRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(body_id)
                .fetch_all(pool)
                .await?;
            rows.into_iter().map(key_of).collect()
        })
    }

    /// The body and key a presented API key stands for, if the key is known and not revoked.
    pub async fn caller_for_key(&self, plaintext: &str) -> Result<Option<KeyCaller>, StoreError> {
        let sha = hash_api_key(plaintext);
        let sql = "SELECT k.id, k.body_id, k.owner_uid, k.functions, k.label, k.created_at, k.revoked_at, \
                   b.id, b.body_type, b.name_hy, b.name_en, b.name_ru, b.xroad_member, b.contact_email, \
                   b.created_at FROM api_keys k JOIN bodies b ON b.id = k.body_id \
                   WHERE k.key_sha256 = $1 AND k.revoked_at IS NULL";
        if let Some(hot) = self.hot() {
            return hot
                .run(move |c| {
                    use rusqlite::OptionalExtension;
                    let row = c
                        .prepare_cached(sql)?
                        .query_row([sha], |r| {
                            Ok((
                                (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?),
                                (r.get::<_, String>(5)?, r.get::<_, Option<String>>(6)?),
                                (r.get(7)?, r.get(8)?, r.get(9)?, r.get(10)?, r.get(11)?),
                                (r.get(12)?, r.get(13)?, r.get::<_, String>(14)?),
                            ))
                        })
                        .optional()?;
                    row.map(|(k, kt, b, bt)| {
                        Ok(KeyCaller {
                            key: key_of((
                                k.0,
                                k.1,
                                k.2,
                                k.3,
                                k.4,
                                hot::instant(&kt.0)?,
                                hot::opt_instant(kt.1)?,
                            ))?,
                            body: body_of((
                                b.0,
                                b.1,
                                b.2,
                                b.3,
                                b.4,
                                bt.0,
                                bt.1,
                                hot::instant(&bt.2)?,
                            ))?,
                        })
                    })
                    .transpose()
                })
                .await;
        }
        dispatch!(self, read, pool, ops => {
            let row: Option<CallerRow> =
                sqlx::query_as(sql).bind(&sha).fetch_optional(pool).await?;
            row.map(|r| {
                Ok(KeyCaller {
                    key: key_of((r.0, r.1, r.2, r.3, r.4, r.5, r.6))?,
                    body: body_of((r.7, r.8, r.9, r.10, r.11, r.12, r.13, r.14))?,
                })
            })
            .transpose()
        })
    }

    /// Name a responsible employee of a body with the functions permitted to them (A1.34). Refuses a
    /// person who is already an active employee of that body.
    pub async fn add_employee(
        &self,
        actor: &str,
        body_id: &str,
        psn: Psn,
        functions: &[Function],
    ) -> Result<Employee, StoreError> {
        let fs = join_functions(functions)?;
        let now = self.access_now();
        let key = psn.to_string();
        dispatch!(self, write, pool, ops => {
            let mut tx = begin_write!(self, pool);
            if sqlx::query("SELECT 1 FROM bodies WHERE id = $1").bind(body_id).fetch_optional(&mut *tx).await?.is_none() {
                return Err(unknown(format!("no body {body_id}")));
            }
            let active = sqlx::query("SELECT 1 FROM employees WHERE body_id = $1 AND psn = $2 AND until IS NULL")
                .bind(body_id)
                .bind(&key)
                .fetch_optional(&mut *tx)
                .await?;
            if active.is_some() {
                return Err(conflict(format!("{key} is already an employee of {body_id}")));
            }
            sqlx::query("INSERT INTO employees (body_id, psn, functions, since) VALUES ($1, $2, $3, $4)")
                .bind(body_id)
                .bind(&key)
                .bind(&fs)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            let target = format!("{body_id}/{key}");
            record!(tx, now, actor, "employee.add", &target, serde_json::json!({ "functions": fs }));
            tx.commit().await?;
        });
        Ok(Employee {
            body_id: body_id.to_string(),
            psn,
            functions: split_functions(&fs)?,
            since: now,
            until: None,
        })
    }

    /// End a person's employment at a body: from now on they act for it no more.
    pub async fn end_employee(
        &self,
        actor: &str,
        body_id: &str,
        psn: Psn,
    ) -> Result<(), StoreError> {
        let now = self.access_now();
        let key = psn.to_string();
        dispatch!(self, write, pool, ops => {
            let mut tx = begin_write!(self, pool);
            let done = sqlx::query("UPDATE employees SET until = $1 WHERE body_id = $2 AND psn = $3 AND until IS NULL")
                .bind(now)
                .bind(body_id)
                .bind(&key)
                .execute(&mut *tx)
                .await?;
            if done.rows_affected() == 0 {
                return Err(unknown(format!("{key} is not an active employee of {body_id}")));
            }
            let target = format!("{body_id}/{key}");
            record!(tx, now, actor, "employee.end", &target, serde_json::json!({}));
            tx.commit().await?;
        });
        Ok(())
    }

    /// A body's employees, past ones included, in order of appointment.
    pub async fn employees(&self, body_id: &str) -> Result<Vec<Employee>, StoreError> {
        dispatch!(self, read, pool, ops => {
            let rows: Vec<EmployeeRow> = sqlx::query_as(
                "SELECT body_id, psn, functions, since, until FROM employees WHERE body_id = $1 ORDER BY since, psn",
            )
            .bind(body_id)
            .fetch_all(pool)
            .await?;
            rows.into_iter().map(employee_of).collect()
        })
    }

    /// A person's active employments, at any body (the provider workspace finds the body by the ID card).
    pub async fn employments(&self, psn: Psn) -> Result<Vec<Employee>, StoreError> {
        dispatch!(self, read, pool, ops => {
            let rows: Vec<EmployeeRow> = sqlx::query_as(
                "SELECT body_id, psn, functions, since, until FROM employees \
                 WHERE psn = $1 AND until IS NULL ORDER BY since, body_id",
            )
            .bind(psn.to_string())
            .fetch_all(pool)
            .await?;
            rows.into_iter().map(employee_of).collect()
        })
    }

    /// The active employment of a person at a body, if any.
    pub async fn employee(&self, body_id: &str, psn: Psn) -> Result<Option<Employee>, StoreError> {
        dispatch!(self, read, pool, ops => {
            let row: Option<EmployeeRow> = sqlx::query_as(
                "SELECT body_id, psn, functions, since, until FROM employees \
                 WHERE body_id = $1 AND psn = $2 AND until IS NULL",
            )
            .bind(body_id)
            .bind(psn.to_string())
            .fetch_optional(pool)
            .await?;
            row.map(employee_of).transpose()
        })
    }

    /// Grant a body the reading of data elements for a purpose on a legal basis (A1.33), until `ends_on`
    /// (inclusive) or without end.
    pub async fn add_grant(
        &self,
        actor: &str,
        body_id: &str,
        elements: &[String],
        purpose: &str,
        legal_basis: &str,
        ends_on: Option<NaiveDate>,
    ) -> Result<ReadGrant, StoreError> {
        let els = join_elements(elements)?;
        let purpose = text("purpose", purpose)?;
        let legal_basis = text("legal basis", legal_basis)?;
        let now = self.access_now();
        let id = format!("GRANT-{}", random_hex(6)?.to_ascii_uppercase());
        dispatch!(self, write, pool, ops => {
            let mut tx = begin_write!(self, pool);
            if sqlx::query("SELECT 1 FROM bodies WHERE id = $1").bind(body_id).fetch_optional(&mut *tx).await?.is_none() {
                return Err(unknown(format!("no body {body_id}")));
            }
            sqlx::query(
                "INSERT INTO read_grants (id, body_id, elements, purpose, legal_basis, granted_at, ends_on) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(&id)
            .bind(body_id)
            .bind(&els)
            .bind(&purpose)
            .bind(&legal_basis)
            .bind(now)
            .bind(ends_on)
            .execute(&mut *tx)
            .await?;
            let detail = serde_json::json!({
                "body": body_id, "elements": els, "purpose": purpose, "legal_basis": legal_basis,
                "ends_on": ends_on,
            });
            record!(tx, now, actor, "grant.add", &id, detail);
            tx.commit().await?;
        });
        Ok(grant_of((
            id,
            body_id.to_string(),
            els,
            purpose,
            legal_basis,
            now,
            ends_on,
            None,
        )))
    }

    /// Revoke a grant: it counts no more from now on.
    pub async fn revoke_grant(&self, actor: &str, grant_id: &str) -> Result<(), StoreError> {
        self.revoke(actor, &REVOKE_GRANT, grant_id).await
    }

    /// Mark a key or grant revoked as of now, with its access event; refuses an unknown or revoked one.
    async fn revoke(&self, actor: &str, what: &Revocable, id: &str) -> Result<(), StoreError> {
        let now = self.access_now();
        dispatch!(self, write, pool, ops => {
            let mut tx = begin_write!(self, pool);
            let row: Option<(String, Option<DateTime<Utc>>)> =
                sqlx::query_as(what.select).bind(id).fetch_optional(&mut *tx).await?;
            let (body, revoked) = row.ok_or_else(|| unknown(format!("no {} {id}", what.noun)))?;
            if revoked.is_some() {
                return Err(conflict(format!("{} {id} is already revoked", what.noun)));
            }
            sqlx::query(what.update).bind(now).bind(id).execute(&mut *tx).await?;
            record!(tx, now, actor, what.action, id, serde_json::json!({ "body": body }));
            tx.commit().await?;
        });
        Ok(())
    }

    /// A body's grants in force today (by the store's clock): not revoked, and not past their last day.
    pub async fn active_grants(&self, body_id: &str) -> Result<Vec<ReadGrant>, StoreError> {
        let today = self.clock.now().date_naive();
        let sql = format!(
            "SELECT {GRANT_COLUMNS} FROM read_grants WHERE body_id = $1 AND revoked_at IS NULL \
             AND (ends_on IS NULL OR ends_on >= $2) ORDER BY granted_at, id"
        );
        if let Some(hot) = self.hot() {
            let (body_id, today) = (body_id.to_string(), today.format("%Y-%m-%d").to_string());
            return hot
                .run(move |c| {
                    let mut st = c.prepare_cached(&sql)?;
                    let rows = st.query_map([body_id, today], |r| {
                        Ok((
                            (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?),
                            (
                                r.get::<_, String>(5)?,
                                r.get::<_, Option<String>>(6)?,
                                r.get::<_, Option<String>>(7)?,
                            ),
                        ))
                    })?;
                    let mut out = vec![];
                    for row in rows {
                        let (g, t): ((String, String, String, String, String), _) = row?;
                        out.push(grant_of((
                            g.0,
                            g.1,
                            g.2,
                            g.3,
                            g.4,
                            hot::instant(&t.0)?,
                            hot::opt_date(t.1)?,
                            hot::opt_instant(t.2)?,
                        )));
                    }
                    Ok(out)
                })
                .await;
        }
        dispatch!(self, read, pool, ops => {
            let rows: Vec<GrantRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(body_id)
                .bind(today)
                .fetch_all(pool)
                .await?;
            Ok(rows.into_iter().map(grant_of).collect())
        })
    }

    /// A body's grants, revoked and expired ones included.
    pub async fn grants(&self, body_id: &str) -> Result<Vec<ReadGrant>, StoreError> {
        let sql = format!(
            "SELECT {GRANT_COLUMNS} FROM read_grants WHERE body_id = $1 ORDER BY granted_at, id"
        );
        dispatch!(self, read, pool, ops => {
            let rows: Vec<GrantRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(body_id)
                .fetch_all(pool)
                .await?;
            Ok(rows.into_iter().map(grant_of).collect())
        })
    }

    /// Replace the functions of a person's active employment at a body (A1.34).
    pub async fn set_employee_functions(
        &self,
        actor: &str,
        body_id: &str,
        psn: Psn,
        functions: &[Function],
    ) -> Result<Employee, StoreError> {
        let fs = join_functions(functions)?;
        let now = self.access_now();
        let key = psn.to_string();
        dispatch!(self, write, pool, ops => {
            let mut tx = begin_write!(self, pool);
            let done = sqlx::query("UPDATE employees SET functions = $1 WHERE body_id = $2 AND psn = $3 AND until IS NULL")
                .bind(&fs)
                .bind(body_id)
                .bind(&key)
                .execute(&mut *tx)
                .await?;
            if done.rows_affected() == 0 {
                return Err(unknown(format!("{key} is not an active employee of {body_id}")));
            }
            let target = format!("{body_id}/{key}");
            record!(tx, now, actor, "employee.functions", &target, serde_json::json!({ "functions": fs }));
            tx.commit().await?;
        });
        self.employee(body_id, psn)
            .await?
            .ok_or_else(|| unknown(format!("{key} is not an active employee of {body_id}")))
    }

    /// Register a client certificate for a body's API calls over mutual TLS, with the functions such calls
    /// hold. Refuses a fingerprint already registered (revoked ones included: a certificate is never
    /// registered twice) and a malformed fingerprint.
    pub async fn register_agency_cert(
        &self,
        actor: &str,
        body_id: &str,
        new: &NewAgencyCert,
        functions: &[Function],
        label: &str,
    ) -> Result<AgencyCert, StoreError> {
        let fp = new.fingerprint.trim().to_ascii_lowercase();
        if fp.len() != 64 || !fp.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(malformed(
                "a certificate's SHA-256 fingerprint is 64 hex digits",
            ));
        }
        let fs = join_functions(functions)?;
        let label = if label.trim().is_empty() {
            String::new()
        } else {
            text("label", label)?
        };
        let subject: String = new
            .subject
            .chars()
            .filter(|c| !c.is_control())
            .take(1000)
            .collect();
        let issuer: String = new
            .issuer
            .chars()
            .filter(|c| !c.is_control())
            .take(1000)
            .collect();
        let id = format!("CERT-{}", random_hex(6)?.to_ascii_uppercase());
        let now = self.access_now();
        dispatch!(self, write, pool, ops => {
            let mut tx = begin_write!(self, pool);
            if sqlx::query("SELECT 1 FROM bodies WHERE id = $1").bind(body_id).fetch_optional(&mut *tx).await?.is_none() {
                return Err(unknown(format!("no body {body_id}")));
            }
            if sqlx::query("SELECT 1 FROM agency_certs WHERE fingerprint_sha256 = $1").bind(&fp).fetch_optional(&mut *tx).await?.is_some() {
                return Err(conflict("this certificate is already registered"));
            }
            sqlx::query(
                "INSERT INTO agency_certs (id, body_id, fingerprint_sha256, subject, issuer, not_before, not_after, \
                 functions, label, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(&id)
            .bind(body_id)
            .bind(&fp)
            .bind(&subject)
            .bind(&issuer)
            .bind(new.not_before)
            .bind(new.not_after)
            .bind(&fs)
            .bind(&label)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            let detail = serde_json::json!({
                "body": body_id, "fingerprint_sha256": fp, "subject": subject, "issuer": issuer,
                "not_after": new.not_after, "functions": fs, "label": label,
            });
            record!(tx, now, actor, "cert.add", &id, detail);
            tx.commit().await?;
        });
        cert_of((
            id,
            body_id.to_string(),
            fp,
            subject,
            issuer,
            new.not_before,
            new.not_after,
            fs,
            label,
            now,
            None,
        ))
    }

    /// Revoke a registered client certificate: the next request with it is refused.
    pub async fn revoke_agency_cert(&self, actor: &str, cert_id: &str) -> Result<(), StoreError> {
        self.revoke(actor, &REVOKE_CERT, cert_id).await
    }

    /// A body's registered client certificates, revoked ones included, oldest first.
    pub async fn agency_certs(&self, body_id: &str) -> Result<Vec<AgencyCert>, StoreError> {
        let sql = format!(
            "SELECT {CERT_COLUMNS} FROM agency_certs WHERE body_id = $1 ORDER BY created_at, id"
        );
        dispatch!(self, read, pool, ops => {
            let rows: Vec<CertRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(body_id)
                .fetch_all(pool)
                .await?;
            rows.into_iter().map(cert_of).collect()
        })
    }

    /// The body and registration a presented client certificate (by its SHA-256 fingerprint) stands for,
    /// if it is registered and not revoked. Its chain and validity are the caller's to check.
    pub async fn caller_for_cert(
        &self,
        fingerprint: &str,
    ) -> Result<Option<CertCaller>, StoreError> {
        let fp = fingerprint.trim().to_ascii_lowercase();
        let sql = format!(
            "SELECT {CERT_COLUMNS} FROM agency_certs WHERE fingerprint_sha256 = $1 AND revoked_at IS NULL"
        );
        let found = dispatch!(self, read, pool, ops => {
            let row: Option<CertRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(&fp)
                .fetch_optional(pool)
                .await?;
            row.map(cert_of).transpose()?
        });
        let Some(cert) = found else { return Ok(None) };
        let body = self
            .body(&cert.body_id)
            .await?
            .ok_or_else(|| corrupt("certificate's body", &cert.body_id))?;
        Ok(Some(CertCaller { body, cert }))
    }

    /// The record of changes to access control, oldest first; only those about `target` when given.
    pub async fn access_events(
        &self,
        target: Option<&str>,
    ) -> Result<Vec<AccessEvent>, StoreError> {
        dispatch!(self, read, pool, ops => {
            let rows: Vec<(i64, DateTime<Utc>, String, String, String, String)> = sqlx::query_as(
                "SELECT id, at, actor, action, target, detail FROM access_events \
                 WHERE $1 IS NULL OR target = $1 ORDER BY id",
            )
            .bind(target)
            .fetch_all(pool)
            .await?;
            Ok(rows
                .into_iter()
                .map(|r| AccessEvent { id: r.0, at: r.1, actor: r.2, action: r.3, target: r.4, detail: r.5 })
                .collect())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn x_road_members_have_four_plain_parts() {
        assert!(valid_xroad_member("AM/GOV/1234567/hospital"));
        assert!(valid_xroad_member("ee-dev/COM/12-3/sub_1.x"));
        for bad in [
            "AM/GOV/1234567",
            "AM/GOV/1234567/a/b",
            "AM//1/x",
            "AM/GOV/1 2/x",
            "AM/GOV/1/x\n",
            "",
        ] {
            assert!(!valid_xroad_member(bad), "{bad:?}");
        }
    }

    #[test]
    fn body_ids_are_upper_case_groups() {
        assert!(body_id("MED-0001").is_ok());
        assert!(body_id("OPERATOR").is_ok());
        for bad in ["med-0001", "0001-MED", "MED--1", "MED-", "MED 1", ""] {
            assert!(body_id(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn functions_are_kept_sorted_and_once() {
        let s =
            join_functions(&[Function::ReadPersons, Function::Submit, Function::Submit]).unwrap();
        assert_eq!(s, "submit,read_persons");
        assert_eq!(
            split_functions(&s).unwrap(),
            vec![Function::Submit, Function::ReadPersons]
        );
        assert!(join_functions(&[]).is_err());
    }

    #[test]
    fn key_hash_is_lower_case_hex_sha256() {
        assert_eq!(
            hash_api_key("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
