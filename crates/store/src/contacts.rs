//! A person's forwarding addresses (G.3.3, G.5, G.7): up to three e-mail addresses and three mobile numbers,
//! each unverified until the person proves it is theirs.
//!
//! - Adding (or replacing) an e-mail address writes, **in the same transaction**, an outbox e-mail (template
//!   `verification`, sent from the portal's `noreply@…` sender with the subject "E-Citizen email
//!   verification") with a single-use link `<portal>/my/forwarding/verify?token=…` that works for
//!   [`ContactSettings::email_token_ttl`] (24 h by default). [`Store::verify_email`] takes the token.
//! - Adding a mobile number writes an outbox row on channel `sms` (template `phone_verification`) with a
//!   6-character code (G.7: "To verify this number E-Citizen portal please provide this token: 10128d"),
//!   valid [`ContactSettings::sms_token_ttl`]; [`Store::verify_phone`] takes it, with at most
//!   [`MAX_CODE_ATTEMPTS`] wrong tries per code.
//! - Only the SHA-256 of a token is kept in `contact_points`. The token itself travels in the outbox row's
//!   `params.secret` until the message is delivered; [`Store::outbox_sent`] then erases it.
//! - Sending again ([`Store::resend_verification`]) is rate-limited per address (one a minute, five a
//!   day) and per person (ten verification messages a day, whatever was removed and added meanwhile).
//!
//! For the portal: every function takes the logged-in person's PSN and refuses with a coded
//! [`StoreError::Domain`] (`PSR-CNT-…`, `PSR-AUTH-…`); the codes' texts are in the error-code classifier.

use chrono::{DateTime, Duration, SubsecRound, Utc};
use popreg_domain::{Code, Psn, Tin};
use serde::Serialize;
use serde_json::json;
use sqlx::Row;

use crate::audit::sha256_hex;
use crate::usage::refused;
use crate::{Inner, Store, StoreError, pg_ops, sqlite_ops};

/// At most this many e-mail addresses, and as many mobile numbers, per person (G.5).
pub const MAX_CONTACTS_PER_KIND: i64 = 3;
/// Wrong codes accepted for one SMS code before it stops working (a new one must be sent).
pub const MAX_CODE_ATTEMPTS: i64 = 5;
/// Verification messages to one address per day (Yerevan's calendar day).
pub const MAX_SENDS_PER_ADDRESS_PER_DAY: i64 = 5;
/// Verification messages for one person per day, all addresses together.
pub const MAX_SENDS_PER_PERSON_PER_DAY: i64 = 10;
/// The least time between two verification messages to one address.
pub const RESEND_INTERVAL: Duration = Duration::seconds(60);

/// The subject of the verification e-mail, as the portal guide announces it (G.5).
pub const VERIFICATION_SUBJECT: &str = "E-Citizen email verification";

/// What the verification messages need from the configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContactSettings {
    /// The portal's public address, e.g. `https://e-citizen.am`: the e-mails link
    /// `<portal_url>/my/forwarding/verify?token=…` and `<portal_url>/my/inbox/{id}`.
    pub portal_url: String,
    /// How long an e-mail verification link works.
    pub email_token_ttl: Duration,
    /// How long an SMS code works.
    pub sms_token_ttl: Duration,
}

impl Default for ContactSettings {
    fn default() -> Self {
        ContactSettings {
            portal_url: String::new(),
            email_token_ttl: Duration::hours(24),
            sms_token_ttl: Duration::minutes(30),
        }
    }
}

impl ContactSettings {
    fn base(&self) -> &str {
        self.portal_url.trim_end_matches('/')
    }

    /// The link a verification e-mail carries.
    pub fn verify_link(&self, token: &str) -> String {
        format!("{}/my/forwarding/verify?token={token}", self.base())
    }

    /// The portal's forwarding settings page.
    pub fn forwarding_link(&self) -> String {
        format!("{}/my/forwarding", self.base())
    }

    /// The portal page of one inbox message.
    pub fn inbox_link(&self, message_id: &str) -> String {
        format!("{}/my/inbox/{message_id}", self.base())
    }

    /// Where an owner's forwarding addresses are managed: `/my/forwarding` for a person, the company's
    /// section `/my/companies/{tin}` for a company (G.6).
    pub fn forwarding_link_of(&self, owner: &Owner) -> String {
        match owner {
            Owner::Person(_) => self.forwarding_link(),
            Owner::Company(tin) => format!("{}/my/companies/{tin}", self.base()),
        }
    }

    /// The portal page of one message of an owner's inbox.
    pub fn inbox_link_of(&self, owner: &Owner, message_id: &str) -> String {
        match owner {
            Owner::Person(_) => self.inbox_link(message_id),
            Owner::Company(tin) => format!("{}/my/companies/{tin}/inbox/{message_id}", self.base()),
        }
    }
}

/// Whose inbox and forwarding addresses: a person, or a company (G.6) by its TIN. In the tables the owner is
/// kept in the columns `contact_points.psn` and `inbox_messages.recipient_psn` as its key ([`Owner::key`],
/// also its `Display`): the PSN (10 digits) for a person, `tin:` and the 8 digits for a company, so the two
/// can never be confused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Owner {
    Person(Psn),
    Company(Tin),
}

impl Owner {
    /// The key the tables keep.
    pub fn key(&self) -> String {
        self.to_string()
    }

    /// The owner of a key, if it is one.
    pub fn from_key(key: &str) -> Option<Owner> {
        match key.strip_prefix("tin:") {
            Some(t) => Tin::parse(t).ok().map(Owner::Company),
            None => Psn::parse(key).ok().map(Owner::Person),
        }
    }
}

impl std::fmt::Display for Owner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Owner::Person(p) => write!(f, "{p}"),
            Owner::Company(t) => write!(f, "tin:{t}"),
        }
    }
}

impl From<Psn> for Owner {
    fn from(p: Psn) -> Owner {
        Owner::Person(p)
    }
}

impl From<Tin> for Owner {
    fn from(t: Tin) -> Owner {
        Owner::Company(t)
    }
}

/// E-mail address or mobile number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ContactKind {
    Email,
    Phone,
}

impl ContactKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ContactKind::Email => "email",
            ContactKind::Phone => "phone",
        }
    }

    fn parse(s: &str) -> Option<ContactKind> {
        match s {
            "email" => Some(ContactKind::Email),
            "phone" => Some(ContactKind::Phone),
            _ => None,
        }
    }
}

/// One forwarding address of a person, as the settings page shows it (verified: a check mark; not yet:
/// "!", G.7).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ContactPoint {
    pub id: i64,
    /// Whose address it is: a PSN, or `tin:` and the TIN for a company (G.6); see [`Owner`].
    pub owner: String,
    pub kind: ContactKind,
    /// The e-mail address (lower-case) or the number in international form (`+37491234567`).
    pub address: String,
    /// The language forwarded messages to it are written in (`hy`, `en`, `ru`).
    pub lang: String,
    pub created_at: DateTime<Utc>,
    pub verified_at: Option<DateTime<Utc>>,
    /// While unverified: until when the last link or code works (`None`: none works, send a new one).
    pub pending_until: Option<DateTime<Utc>>,
    /// Mail forwarded to it bounced for good (G.3.1): since when, and the relay's or the bounce's words.
    /// Nothing is forwarded to it while failing; removing and adding it again starts afresh.
    pub failing_since: Option<DateTime<Utc>>,
    pub failing_reason: Option<String>,
}

impl ContactPoint {
    pub fn verified(&self) -> bool {
        self.verified_at.is_some()
    }
}

/// An e-mail address in the form the register keeps (lower-case), or `PSR-CNT-0002`. Plain ASCII
/// addresses only: a local part of letters, digits and `.!#$%&'*+/=?^_`{|}~-`, and a domain of at least two
/// labels.
pub fn normalize_email(raw: &str) -> Result<String, StoreError> {
    let bad = || refused(Code::EmailMalformed, "not a usable e-mail address");
    let s = raw.trim().to_ascii_lowercase();
    if s.len() > 254 {
        return Err(bad());
    }
    let (local, domain) = s.split_once('@').ok_or_else(bad)?;
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+/=?^_`{|}~.-".contains(&b));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
        && labels
            .last()
            .is_some_and(|t| t.len() >= 2 && t.bytes().all(|b| b.is_ascii_alphabetic()));
    if local_ok && domain_ok {
        Ok(s)
    } else {
        Err(bad())
    }
}

/// A mobile number in international form (`+` and 8 to 15 digits; spaces, dashes, dots and brackets are
/// dropped), or `PSR-CNT-0003`. Armenian numbers may also be written as at home: `0XX XXX XXX` (the trunk
/// prefix 0 and 8 digits) becomes `+374XXXXXXXX`; `00` before the country code is read as `+`.
pub fn normalize_phone(raw: &str) -> Result<String, StoreError> {
    let bad = || {
        refused(
            Code::PhoneMalformed,
            "not a mobile number in international form",
        )
    };
    let s: String = raw
        .trim()
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')'))
        .collect();
    let s = if let Some(rest) = s.strip_prefix("00") {
        format!("+{rest}")
    } else if s.len() == 9 && s.starts_with('0') && s.bytes().all(|b| b.is_ascii_digit()) {
        format!("+374{}", &s[1..])
    } else {
        s
    };
    let digits = s.strip_prefix('+').ok_or_else(bad)?;
    if (8..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0')
    {
        Ok(s)
    } else {
        Err(bad())
    }
}

fn lang_of(lang: &str) -> &'static str {
    match lang {
        "en" => "en",
        "ru" => "ru",
        _ => "hy",
    }
}

/// A new token: 32 random bytes (hex) for a link, 3 (6 hex characters, G.7) for an SMS code.
fn new_token(kind: ContactKind) -> Result<String, StoreError> {
    crate::access::random_hex(match kind {
        ContactKind::Email => 32,
        ContactKind::Phone => 3,
    })
}

/// The hash a token is kept as. An SMS code is compared case-insensitively.
fn token_hash(kind: ContactKind, token: &str) -> String {
    match kind {
        ContactKind::Email => sha256_hex(token.trim()),
        ContactKind::Phone => sha256_hex(&token.trim().to_ascii_lowercase()),
    }
}

const CONTACT_COLUMNS: &str = "id, psn, kind, address, lang, created_at, verified_at, token_expires, attempts, failing_since, failing_reason";

type ContactRow = (
    i64,
    String,
    String,
    String,
    String,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
    i64,
    Option<DateTime<Utc>>,
    Option<String>,
);

fn contact_of(r: ContactRow) -> Result<ContactPoint, StoreError> {
    let kind = ContactKind::parse(&r.2).ok_or_else(|| crate::corrupt("contact kind", &r.2))?;
    Ok(ContactPoint {
        id: r.0,
        owner: r.1,
        kind,
        address: r.3,
        lang: r.4,
        created_at: r.5,
        verified_at: r.6,
        pending_until: if r.6.is_none() { r.7 } else { None },
        failing_since: r.9,
        failing_reason: r.10,
    })
}

/// What one verification message is: the outbox row to write.
pub(crate) struct Verification {
    channel: &'static str,
    template: &'static str,
    params: serde_json::Value,
}

fn verification(
    owner: &Owner,
    kind: ContactKind,
    token: &str,
    expires: DateTime<Utc>,
    settings: &ContactSettings,
) -> Verification {
    match kind {
        ContactKind::Email => Verification {
            channel: "email",
            template: "verification",
            params: json!({
                "expires_at": expires.to_rfc3339(),
                "forwarding_url": settings.forwarding_link_of(owner),
                "secret": { "link": settings.verify_link(token) },
            }),
        },
        ContactKind::Phone => Verification {
            channel: "sms",
            template: "phone_verification",
            params: json!({
                "expires_at": expires.to_rfc3339(),
                "secret": { "token": token },
            }),
        },
    }
}

impl Store {
    /// A person's forwarding addresses, e-mail first, in the order they were added.
    pub async fn contact_points(
        &self,
        owner: impl Into<Owner>,
    ) -> Result<Vec<ContactPoint>, StoreError> {
        let owner: Owner = owner.into();
        let sql = format!(
            "SELECT {CONTACT_COLUMNS} FROM contact_points WHERE psn = $1 ORDER BY kind, id"
        );
        dispatch!(self, read, pool, ops => {
            let rows: Vec<ContactRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(owner.to_string())
                .fetch_all(pool)
                .await?;
            rows.into_iter().map(contact_of).collect()
        })
    }

    /// Add an e-mail address (G.5) and send its verification e-mail in the same transaction. `lang` is
    /// the language of the messages to it (the portal's language at the time). Refuses a malformed
    /// address (`PSR-CNT-0002`), a fourth one (`PSR-CNT-0001`), one already in the list (`PSR-CNT-0004`),
    /// and more verification messages than the daily limit (`PSR-CNT-0009`).
    pub async fn add_email(
        &self,
        owner: impl Into<Owner>,
        address: &str,
        lang: &str,
        settings: &ContactSettings,
    ) -> Result<ContactPoint, StoreError> {
        let owner: Owner = owner.into();
        let address = normalize_email(address)?;
        self.add_contact(owner, ContactKind::Email, &address, lang, None, settings)
            .await
    }

    /// Add a mobile number (G.7) and queue its SMS with the 6-character code, in one transaction. Refusals
    /// as [`Store::add_email`] (`PSR-CNT-0003` for a malformed number).
    pub async fn add_phone(
        &self,
        owner: impl Into<Owner>,
        number: &str,
        lang: &str,
        settings: &ContactSettings,
    ) -> Result<ContactPoint, StoreError> {
        let owner: Owner = owner.into();
        let number = normalize_phone(number)?;
        self.add_contact(owner, ContactKind::Phone, &number, lang, None, settings)
            .await
    }

    /// Replace one of the person's addresses by a new one of the same kind: the old one is removed and the
    /// new one added (unverified, with its verification message) in one transaction.
    pub async fn replace_contact(
        &self,
        owner: impl Into<Owner>,
        id: i64,
        new_address: &str,
        lang: &str,
        settings: &ContactSettings,
    ) -> Result<ContactPoint, StoreError> {
        let owner: Owner = owner.into();
        let old = self
            .contact_points(owner)
            .await?
            .into_iter()
            .find(|c| c.id == id)
            .ok_or_else(|| refused(Code::ContactUnknown, format!("no contact point {id}")))?;
        let address = match old.kind {
            ContactKind::Email => normalize_email(new_address)?,
            ContactKind::Phone => normalize_phone(new_address)?,
        };
        self.add_contact(owner, old.kind, &address, lang, Some(id), settings)
            .await
    }

    async fn add_contact(
        &self,
        owner: Owner,
        kind: ContactKind,
        address: &str,
        lang: &str,
        replacing: Option<i64>,
        settings: &ContactSettings,
    ) -> Result<ContactPoint, StoreError> {
        let now = self.clock.now().trunc_subsecs(6);
        let token = new_token(kind)?;
        let hash = token_hash(kind, &token);
        let expires = now
            + match kind {
                ContactKind::Email => settings.email_token_ttl,
                ContactKind::Phone => settings.sms_token_ttl,
            };
        let lang = lang_of(lang);
        let msg = verification(&owner, kind, &token, expires, settings);
        dispatch_with!(self, write, pool, ops, mine = (sqlite_contacts, pg_contacts) => {
            let mut tx = ops::begin(pool).await?;
            if let Some(old) = replacing {
                let r = sqlx::query("DELETE FROM contact_points WHERE id = $1 AND psn = $2")
                    .bind(old)
                    .bind(owner.to_string())
                    .execute(&mut *tx)
                    .await?;
                if r.rows_affected() != 1 {
                    return Err(refused(Code::ContactUnknown, format!("no contact point {old}")));
                }
            }
            let n: i64 = sqlx::query("SELECT COUNT(*) FROM contact_points WHERE psn = $1 AND kind = $2")
                .bind(owner.to_string())
                .bind(kind.as_str())
                .fetch_one(&mut *tx)
                .await?
                .try_get(0)?;
            if n >= MAX_CONTACTS_PER_KIND {
                return Err(refused(
                    Code::ContactLimit,
                    format!("at most {MAX_CONTACTS_PER_KIND} per kind; remove or replace one first"),
                ));
            }
            let exists = sqlx::query("SELECT 1 FROM contact_points WHERE psn = $1 AND kind = $2 AND address = $3")
                .bind(owner.to_string())
                .bind(kind.as_str())
                .bind(address)
                .fetch_optional(&mut *tx)
                .await?
                .is_some();
            if exists {
                return Err(refused(Code::ContactExists, "this address is already in the list"));
            }
            mine::send_allowed(&mut tx, &owner, address, now).await?;
            let id: i64 = sqlx::query(
                "INSERT INTO contact_points (psn, kind, address, lang, created_at, token_sha256, token_expires, \
                 attempts) VALUES ($1, $2, $3, $4, $5, $6, $7, 0) RETURNING id",
            )
            .bind(owner.to_string())
            .bind(kind.as_str())
            .bind(address)
            .bind(lang)
            .bind(now)
            .bind(&hash)
            .bind(expires)
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
            mine::enqueue_verification(&mut tx, &owner, id, address, lang, &hash, &msg, now).await?;
            tx.commit().await?;
            Ok(ContactPoint {
                id,
                owner: owner.to_string(),
                kind,
                address: address.to_string(),
                lang: lang.to_string(),
                created_at: now,
                verified_at: None,
                pending_until: Some(expires),
                failing_since: None,
                failing_reason: None,
            })
        })
    }

    /// Send a new link or code to an unverified address (the old one stops working). Rate-limited: one a
    /// minute and [`MAX_SENDS_PER_ADDRESS_PER_DAY`] a day per address, [`MAX_SENDS_PER_PERSON_PER_DAY`] per
    /// person (`PSR-CNT-0009`); a verified address needs none (`PSR-CNT-0010`).
    pub async fn resend_verification(
        &self,
        owner: impl Into<Owner>,
        id: i64,
        settings: &ContactSettings,
    ) -> Result<ContactPoint, StoreError> {
        let owner: Owner = owner.into();
        let now = self.clock.now().trunc_subsecs(6);
        let sql =
            format!("SELECT {CONTACT_COLUMNS} FROM contact_points WHERE id = $1 AND psn = $2");
        dispatch_with!(self, write, pool, ops, mine = (sqlite_contacts, pg_contacts) => {
            let mut tx = ops::begin(pool).await?;
            let row: Option<ContactRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(id)
                .bind(owner.to_string())
                .fetch_optional(&mut *tx)
                .await?;
            let mut point = contact_of(row.ok_or_else(|| refused(Code::ContactUnknown, format!("no contact point {id}")))?)?;
            if point.verified() {
                return Err(refused(Code::AlreadyVerified, "this address is already verified"));
            }
            mine::send_allowed(&mut tx, &owner, &point.address, now).await?;
            let token = new_token(point.kind)?;
            let hash = token_hash(point.kind, &token);
            let expires = now
                + match point.kind {
                    ContactKind::Email => settings.email_token_ttl,
                    ContactKind::Phone => settings.sms_token_ttl,
                };
            sqlx::query("UPDATE contact_points SET token_sha256 = $1, token_expires = $2, attempts = 0 WHERE id = $3")
                .bind(&hash)
                .bind(expires)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            let msg = verification(&owner, point.kind, &token, expires, settings);
            mine::enqueue_verification(&mut tx, &owner, id, &point.address, &point.lang, &hash, &msg, now).await?;
            tx.commit().await?;
            point.pending_until = Some(expires);
            Ok(point)
        })
    }

    /// Remove one of the person's addresses: nothing more is forwarded to it. `false`: no such address of
    /// this person.
    pub async fn remove_contact(
        &self,
        owner: impl Into<Owner>,
        id: i64,
    ) -> Result<bool, StoreError> {
        let owner: Owner = owner.into();
        dispatch!(self, write, pool, ops => {
            let r = sqlx::query("DELETE FROM contact_points WHERE id = $1 AND psn = $2")
                .bind(id)
                .bind(owner.to_string())
                .execute(pool)
                .await?;
            Ok(r.rows_affected() == 1)
        })
    }

    /// Follow a verification link (G.5): the address becomes verified and the token stops working. Needs no
    /// login (the link may be opened anywhere); the answer names the address so the page can confirm it.
    /// `PSR-CNT-0006` for an unknown or already used token, `PSR-CNT-0007` for an expired one.
    pub async fn verify_email(&self, token: &str) -> Result<ContactPoint, StoreError> {
        let token = token.trim();
        if token.is_empty() || token.len() > 200 {
            return Err(refused(Code::TokenInvalid, "no such verification link"));
        }
        let hash = token_hash(ContactKind::Email, token);
        let now = self.clock.now().trunc_subsecs(6);
        let sql = format!(
            "SELECT {CONTACT_COLUMNS} FROM contact_points WHERE token_sha256 = $1 AND kind = 'email'"
        );
        dispatch_with!(self, write, pool, ops, mine = (sqlite_contacts, pg_contacts) => {
            let mut tx = ops::begin(pool).await?;
            let row: Option<ContactRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(&hash)
                .fetch_optional(&mut *tx)
                .await?;
            let Some(row) = row else {
                return Err(refused(Code::TokenInvalid, "the link is unknown or was already used"));
            };
            let mut point = contact_of(row)?;
            if point.pending_until.is_none_or(|t| t <= now) {
                return Err(refused(Code::TokenExpired, "the link has expired; ask for a new one"));
            }
            mine::verified(&mut tx, point.id, now).await?;
            tx.commit().await?;
            point.verified_at = Some(now);
            point.pending_until = None;
            Ok(point)
        })
    }

    /// Check the code a person types for one of their numbers (G.7). A wrong code counts; after
    /// [`MAX_CODE_ATTEMPTS`] wrong ones the code stops working (`PSR-CNT-0008`) and a new one must be sent.
    /// `PSR-CNT-0006` for a wrong code, `PSR-CNT-0007` for an expired one, `PSR-CNT-0005` when the number
    /// is not the person's.
    pub async fn verify_phone(
        &self,
        owner: impl Into<Owner>,
        number: &str,
        token: &str,
    ) -> Result<ContactPoint, StoreError> {
        let owner: Owner = owner.into();
        let number = normalize_phone(number)?;
        let now = self.clock.now().trunc_subsecs(6);
        let sql = format!(
            "SELECT {CONTACT_COLUMNS}, token_sha256 FROM contact_points WHERE psn = $1 AND kind = 'phone' \
             AND address = $2"
        );
        // Checked in a transaction of its own, committed whatever the answer, so that a wrong code counts.
        let result: Result<ContactPoint, StoreError> = dispatch_with!(self, write, pool, ops, mine = (sqlite_contacts, pg_contacts) => {
            let mut tx = ops::begin(pool).await?;
            let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(owner.to_string())
                .bind(&number)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| refused(Code::ContactUnknown, "this number is not in the list"))?;
            let stored: Option<String> = row.try_get("token_sha256")?;
            let mut point = contact_of((
                row.try_get("id")?,
                row.try_get("psn")?,
                row.try_get("kind")?,
                row.try_get("address")?,
                row.try_get("lang")?,
                row.try_get("created_at")?,
                row.try_get("verified_at")?,
                row.try_get("token_expires")?,
                row.try_get("attempts")?,
                row.try_get("failing_since")?,
                row.try_get("failing_reason")?,
            ))?;
            let attempts: i64 = row.try_get("attempts")?;
            let outcome = if point.verified() {
                Err(refused(Code::AlreadyVerified, "this number is already verified"))
            } else if stored.is_none() || attempts >= MAX_CODE_ATTEMPTS {
                Err(refused(Code::TooManyAttempts, "this code no longer works; ask for a new one"))
            } else if point.pending_until.is_none_or(|t| t <= now) {
                Err(refused(Code::TokenExpired, "the code has expired; ask for a new one"))
            } else if stored.as_deref() != Some(token_hash(ContactKind::Phone, token).as_str()) {
                let left = MAX_CODE_ATTEMPTS - attempts - 1;
                // The last wrong try ends the code: it is erased, so nothing more can match it.
                sqlx::query(
                    "UPDATE contact_points SET attempts = attempts + 1, \
                     token_sha256 = CASE WHEN attempts + 1 >= $1 THEN NULL ELSE token_sha256 END, \
                     token_expires = CASE WHEN attempts + 1 >= $1 THEN NULL ELSE token_expires END WHERE id = $2",
                )
                .bind(MAX_CODE_ATTEMPTS)
                .bind(point.id)
                .execute(&mut *tx)
                .await?;
                if left <= 0 {
                    Err(refused(Code::TooManyAttempts, "wrong code, and no tries left; ask for a new one"))
                } else {
                    Err(refused(Code::TokenInvalid, format!("wrong code; {left} tries left")))
                }
            } else {
                mine::verified(&mut tx, point.id, now).await?;
                point.verified_at = Some(now);
                point.pending_until = None;
                Ok(point)
            };
            tx.commit().await?;
            outcome
        });
        result
    }
}

/// Mark a contact point verified and forget its token.
macro_rules! contact_tx_fns {
    ($module:ident, $db:ty) => {
        pub(crate) mod $module {
            use super::*;

            pub(crate) async fn verified(
                tx: &mut <$db as sqlx::Database>::Connection,
                id: i64,
                now: DateTime<Utc>,
            ) -> Result<(), StoreError> {
                sqlx::query(
                    "UPDATE contact_points SET verified_at = $1, token_sha256 = NULL, token_expires = NULL, \
                     attempts = 0 WHERE id = $2",
                )
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
                Ok(())
            }

            /// Refuse (`PSR-CNT-0009`) a verification message that would exceed the limits: one a minute and
            /// five a day to an address, ten a day per person. Counted from the outbox itself.
            pub(crate) async fn send_allowed(
                tx: &mut <$db as sqlx::Database>::Connection,
                owner: &Owner,
                address: &str,
                now: DateTime<Utc>,
            ) -> Result<(), StoreError> {
                let day = crate::submit::armenian_date(now);
                let day_start = day
                    .and_hms_opt(0, 0, 0)
                    .map(|t| t.and_utc() - Duration::hours(4))
                    .unwrap_or(now);
                let source = format!("contact:{owner}");
                let row = sqlx::query(
                    "SELECT COUNT(*), COALESCE(SUM(CASE WHEN recipient = $2 THEN 1 ELSE 0 END), 0), \
                     MAX(CASE WHEN recipient = $2 THEN created_at END) \
                     FROM outbox WHERE source = $1 AND created_at >= $3",
                )
                .bind(&source)
                .bind(address)
                .bind(day_start)
                .fetch_one(&mut *tx)
                .await?;
                let person: i64 = row.try_get(0)?;
                let here: i64 = row.try_get(1)?;
                let last: Option<DateTime<Utc>> = row.try_get(2)?;
                if last.is_some_and(|t| now - t < RESEND_INTERVAL) {
                    return Err(refused(
                        Code::ResendTooSoon,
                        "a verification message was sent less than a minute ago",
                    ));
                }
                if here >= MAX_SENDS_PER_ADDRESS_PER_DAY || person >= MAX_SENDS_PER_PERSON_PER_DAY {
                    return Err(refused(
                        Code::ResendTooSoon,
                        "the daily limit of verification messages is reached; try again tomorrow",
                    ));
                }
                Ok(())
            }

            #[allow(clippy::too_many_arguments)]
            pub(crate) async fn enqueue_verification(
                tx: &mut <$db as sqlx::Database>::Connection,
                owner: &Owner,
                id: i64,
                address: &str,
                lang: &str,
                hash: &str,
                msg: &Verification,
                now: DateTime<Utc>,
            ) -> Result<(), StoreError> {
                sqlx::query(crate::inbox::OUTBOX_INSERT)
                    .bind(msg.channel)
                    .bind(address)
                    .bind(msg.template)
                    .bind(lang)
                    .bind(msg.params.to_string())
                    .bind(format!("verify:{id}:{}", &hash[..16]))
                    .bind(now)
                    .bind(format!("contact:{owner}"))
                    .execute(&mut *tx)
                    .await?;
                Ok(())
            }
        }
    };
}

contact_tx_fns!(sqlite_contacts, sqlx::Sqlite);
contact_tx_fns!(pg_contacts, sqlx::Postgres);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn g_6_owner_keys_tell_persons_and_companies_apart() {
        let tin = Tin::parse("02512345").unwrap();
        assert_eq!(Owner::Company(tin).key(), "tin:02512345");
        assert_eq!(Owner::from_key("tin:02512345"), Some(Owner::Company(tin)));
        assert_eq!(Owner::from_key("tin:0251234"), None);
        assert_eq!(Owner::from_key("02512345"), None);
        let s = ContactSettings {
            portal_url: "https://e-citizen.am/".into(),
            ..ContactSettings::default()
        };
        assert_eq!(
            s.inbox_link_of(&Owner::Company(tin), "ab"),
            "https://e-citizen.am/my/companies/02512345/inbox/ab"
        );
        assert_eq!(
            s.forwarding_link_of(&Owner::Company(tin)),
            "https://e-citizen.am/my/companies/02512345"
        );
    }

    #[test]
    fn g_7_numbers_are_kept_in_international_form_whatever_the_writing() {
        for raw in [
            "+374 91 234567",
            "091 234 567",
            "(091) 23-45-67",
            "0037491234567",
            "+37491234567",
        ] {
            assert_eq!(normalize_phone(raw).unwrap(), "+37491234567", "{raw}");
        }
        assert_eq!(normalize_phone("+7 912 345 67 89").unwrap(), "+79123456789");
        for bad in [
            "91234567",
            "0912345678",
            "+0123",
            "abc",
            "",
            "+37491234567890123",
        ] {
            assert!(normalize_phone(bad).is_err(), "{bad}");
        }
    }
}
