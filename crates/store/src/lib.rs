//! Persistence of the register on SQLite (embedded default) and PostgreSQL (production), one behaviour.
//!
//! The SQL text is shared between the dialects wherever it can be (`$n` placeholders work on both); the few
//! places where they differ (opening, transaction start, id reservation, migrations) are explicit. The same
//! conformance suite (`tests/it/store.rs`) runs against both.
//!
//! The entry log is append-only: this crate contains no `UPDATE` or `DELETE` of `entries`, and the
//! migrations install triggers that refuse both. The `persons` table is a projection rebuilt from a person's
//! entries in the same transaction that appends them.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod migrate;
mod sqlite;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, SubsecRound, Utc};
use popreg_domain::person::FoldError;
use popreg_domain::{
    AsOf, Clock, Code, DomainError, Entry, NewEntry, PersonState, Provenance, Psn,
};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, QueryBuilder, Row, SqlitePool};

pub use migrate::MIGRATIONS;

/// Rows per multi-row INSERT: under both dialects' bind-parameter limits (16 columns per entry).
const INSERT_CHUNK: usize = 1000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// Errors of the store. Each maps to a stable code.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database file {path} cannot be used: {reason}")]
    Foreign { path: PathBuf, reason: String },
    #[error("database error: {0}")]
    Database(String),
    #[error("stored data cannot be read: {0}")]
    Corrupt(String),
    /// The database broke off a transaction because of a concurrent one (PostgreSQL: deadlock `40P01`,
    /// serialization failure `40001`; SQLite: busy or locked). Nothing of it was written; running the
    /// transaction again is safe.
    #[error("database contention: {0}")]
    Contention(String),
}

impl StoreError {
    pub fn code(&self) -> Code {
        match self {
            StoreError::Domain(d) => d.code,
            StoreError::Unavailable(_) | StoreError::Contention(_) => Code::StorageUnavailable,
            StoreError::Foreign { .. } | StoreError::Corrupt(_) => Code::StorageCorrupt,
            StoreError::Database(_) => Code::Internal,
        }
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => StoreError::Unavailable(e.to_string()),
            sqlx::Error::Decode(_) | sqlx::Error::ColumnDecode { .. } => {
                StoreError::Corrupt(e.to_string())
            }
            sqlx::Error::Database(d) => match d.code() {
                Some(code) if is_contention_code(&code) => {
                    StoreError::Contention(format!("{d} [{code}]"))
                }
                Some(code) => StoreError::Database(format!("{d} [{code}]")),
                None => StoreError::Database(d.to_string()),
            },
            other => StoreError::Database(other.to_string()),
        }
    }
}

/// Whether a database error code says "a concurrent transaction got in the way, try again": PostgreSQL's
/// deadlock (`40P01`) and serialization failure (`40001`), SQLite's busy and locked result codes with their
/// extended forms (5, 6, 261, 262, 517, 773).
fn is_contention_code(code: &str) -> bool {
    matches!(
        code,
        "40P01" | "40001" | "5" | "6" | "261" | "262" | "517" | "773"
    )
}

pub(crate) fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

/// Tuning knobs for opening a store.
#[derive(Clone, Debug)]
pub struct StoreOptions {
    /// Reader connections (SQLite) or total connections (PostgreSQL).
    pub max_connections: u32,
    /// How long to wait for a connection before answering "unavailable".
    pub acquire_timeout: Duration,
    /// Bulk loading by a single offline writer (`popreg generate`, the demo's import). On SQLite the writer
    /// uses a rollback journal instead of WAL while loading: new pages appended to the file are not written
    /// twice (WAL frame, then checkpoint), and commits stay durable (`synchronous=FULL`). Readers opened
    /// meanwhile still work; the next normal open switches the file back to WAL. No effect on PostgreSQL.
    pub bulk: bool,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            max_connections: 16,
            acquire_timeout: Duration::from_secs(5),
            bulk: false,
        }
    }
}

#[derive(Clone)]
enum Inner {
    /// One writer connection (SQLite allows one writer; serialising in the pool avoids busy errors) and a
    /// pool of readers, which WAL lets run beside the writer.
    Sqlite {
        write: SqlitePool,
        read: SqlitePool,
        /// Plain read-only connections for the request path's point look-ups (see `hot.rs`).
        hot: Arc<hot::HotReaders>,
        /// The WAL checkpointer thread, stopped when the last clone is dropped (`None` for a bulk load,
        /// which writes without WAL).
        checkpointer: Option<Arc<usage_writer::Checkpointer>>,
    },
    Postgres(PgPool),
}

/// The register's storage. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    inner: Inner,
    clock: Arc<dyn Clock>,
    label: String,
    /// SQLite's submission queue: its one writer commits concurrent submissions together (started on first
    /// use; see `submit.rs`).
    submissions: Arc<std::sync::OnceLock<submit::Queue>>,
    /// The key that signs audit checkpoints (set by the server at start; see `audit.rs`).
    audit_signer: Arc<std::sync::OnceLock<Arc<audit::AuditSigner>>>,
    /// The usage log's writer (group commit; see `usage.rs`), started on first use.
    usage: Arc<std::sync::OnceLock<usage::Queue>>,
    /// The writer of received official mail (group commit; see `inbound.rs`), started on first use.
    inbound: Arc<std::sync::OnceLock<inbound::Queue>>,
    /// The automatic restrictions of A1.55 (set by the server at start; off until then).
    restrictions: Arc<std::sync::RwLock<submit::RestrictionRules>>,
}

/// Runs the same body against whichever pool the store has. The body is compiled once per dialect, so it
/// may only use API that both have — which is exactly the point.
macro_rules! dispatch {
    ($self:expr, read, $pool:ident, $db:ident => $body:expr) => {
        match &$self.inner {
            Inner::Sqlite { read: $pool, .. } => {
                #[allow(unused_imports)]
                use sqlite_ops as $db;
                $body
            }
            Inner::Postgres($pool) => {
                #[allow(unused_imports)]
                use pg_ops as $db;
                $body
            }
        }
    };
    ($self:expr, write, $pool:ident, $db:ident => $body:expr) => {
        match &$self.inner {
            Inner::Sqlite { write: $pool, .. } => {
                #[allow(unused_imports)]
                use sqlite_ops as $db;
                $body
            }
            Inner::Postgres($pool) => {
                #[allow(unused_imports)]
                use pg_ops as $db;
                $body
            }
        }
    };
}

/// [`dispatch!`] with one more module of dialect-specific helpers: `$mine` names `$sqlite` or `$pg`, beside
/// `$db` (the dialect's `ops`). The body is compiled once per dialect.
macro_rules! dispatch_with {
    ($self:expr, $side:ident, $pool:ident, $db:ident, $mine:ident = ($sqlite:ident, $pg:ident) => $body:expr) => {
        match &$self.inner {
            Inner::Sqlite { $side: $pool, .. } => {
                #[allow(unused_imports)]
                use sqlite_ops as $db;
                #[allow(unused_imports)]
                use $sqlite as $mine;
                $body
            }
            Inner::Postgres($pool) => {
                #[allow(unused_imports)]
                use pg_ops as $db;
                #[allow(unused_imports)]
                use $pg as $mine;
                $body
            }
        }
    };
}

mod hot;

// After `dispatch!`, which it uses.
mod access;
pub use access::{
    API_KEY_PREFIX, AccessEvent, AgencyCert, ApiKey, Body, CertCaller, Employee, KeyCaller,
    NewAgencyCert, NewBody, ReadGrant, hash_api_key, valid_xroad_member,
};

// The submission pipeline's transaction; after `dispatch!`, which it uses.
mod outbox;
mod templates;
pub use templates::{MAX_TEMPLATE_BODY_CHARS, MAX_TEMPLATE_SUBJECT_CHARS, TemplateVersion};
mod submit;
pub use outbox::{Failure, OutboxMessage, ReceiptEffect, SmsReceipt};
pub use submit::{
    AUTOMATIC_RULE, BodyCounts, DayCount, HeldSubmission, Outcome, Receipt, Rejection,
    RestrictionRules, SubmissionStats, Suspension, armenian_date,
};

/// The columns of `entries`, in insert order (a macro so that queries stay static strings).
macro_rules! entry_columns {
    () => {
        "id, subject_psn, kind, payload, provider, user_uid, channel, xroad_client, xroad_id, \
         xroad_user_id, xroad_issue, idempotency_key, recorded_at, valid_from, valid_to, supersedes"
    };
}

// The audit trail and the usage log; after `dispatch!` and `entry_columns!`, which they use.
mod audit;
mod usage;
mod usage_writer;
mod verify;
pub use audit::{
    AUDIT_ORIGIN, AuditSigner, Checkpoint, Finding, InclusionProof, VerifyReport, key_id,
    signature_valid,
};
pub use popreg_domain::merkle::base64_decode;
pub use usage::*;

// Login sessions of the portal; after `dispatch!`, which it uses.
mod session;
pub use session::{
    LoginContext, LoginMethod, Session, SessionEnd, SessionLimits, SessionLookup, SessionRecord,
};
// Mobile ID: enrolment codes, devices, logins approved by a device's signature.
mod mobile_id;
pub use mobile_id::{
    CHALLENGE_LIFE, CODE_ALPHABET, CODE_LEN, CODE_LIFE, Challenge, Device, EnrolmentCode,
    LOGIN_LIFE, MAX_LOGINS, MAX_WRONG_CODES, MobileLogin, MobileLoginState, WRONG_CODE_WINDOW,
    normalize_code, signed_message,
};
// Notifications to persons: the portal inbox, the sending API's transaction, forwarding addresses.
mod contacts;
mod inbound;
mod inbox;
pub use contacts::{
    ContactKind, ContactPoint, ContactSettings, MAX_CODE_ATTEMPTS, MAX_CONTACTS_PER_KIND,
    MAX_SENDS_PER_ADDRESS_PER_DAY, MAX_SENDS_PER_PERSON_PER_DAY, Owner, RESEND_INTERVAL,
    VERIFICATION_SUBJECT, normalize_email, normalize_phone,
};
pub use inbound::*;
pub use inbox::*;
mod notices;
pub use notices::*;
mod webhook_guard;
pub use webhook_guard::{
    MAX_WEBHOOK_URL, Refusal, Resolver, WebhookGuard, WebhookPolicy, WebhookTarget, forbidden_range,
};
mod webhooks;
pub use webhooks::{Webhook, WebhookAttempt, WebhookDelivery, WebhookEvent, valid_webhook_url};
// The Appointment Booking System (A1.5.4): services, slots, bookings.
mod booking;
pub use booking::*;

/// The columns of `persons`, in insert order.
macro_rules! person_columns {
    () => {
        "psn, doc, surname_fold, first_fold, birth_date, sex, death_date, last_entry_id, updated_at, fold_tail"
    };
}

/// The column lists as strings, for statements built at run time (SQLite's submission writer).
const ENTRY_COLUMNS: &str = entry_columns!();
const PERSON_COLUMNS: &str = person_columns!();

const PERSON_UPSERT_TAIL: &str = " ON CONFLICT (psn) DO UPDATE SET doc = excluded.doc, \
     surname_fold = excluded.surname_fold, first_fold = excluded.first_fold, birth_date = excluded.birth_date, \
     sex = excluded.sex, death_date = excluded.death_date, last_entry_id = excluded.last_entry_id, \
     updated_at = excluded.updated_at, fold_tail = excluded.fold_tail";

/// The secondary (non-unique) indexes, exactly as the migrations create them, for rebuilding after a bulk
/// load. The same text works on both dialects.
const SECONDARY_INDEXES: &[&str] = &[
    "CREATE INDEX IF NOT EXISTS entries_subject ON entries (subject_psn, id)",
    "CREATE INDEX IF NOT EXISTS persons_name ON persons (surname_fold, first_fold, birth_date)",
];
const DROP_SECONDARY_INDEXES: &[&str] = &[
    "DROP INDEX IF EXISTS entries_subject",
    "DROP INDEX IF EXISTS persons_name",
];

/// Up to this many entries appended at once, the new persons' projections are folded on the writing task
/// itself; beyond, on a blocking thread while the entries are written.
const INLINE_FOLD: usize = 64;

/// A person row ready to write.
struct PersonRow {
    psn: String,
    doc: String,
    surname_fold: String,
    first_fold: String,
    birth_date: chrono::NaiveDate,
    sex: &'static str,
    death_date: Option<chrono::NaiveDate>,
    last_entry_id: i64,
    updated_at: DateTime<Utc>,
    /// The `fold_tail` column ([`FoldTail::code`]).
    fold_tail: Option<i64>,
}

impl PersonRow {
    fn of(state: &PersonState, tail: FoldTail) -> Result<PersonRow, StoreError> {
        Ok(PersonRow {
            psn: state.psn.to_string(),
            doc: serde_json::to_string(state).map_err(|e| corrupt("person projection", e))?,
            surname_fold: popreg_domain::names::fold_for_search(&state.names.surname.hy),
            first_fold: popreg_domain::names::fold_for_search(&state.names.first.hy),
            birth_date: state.birth_date,
            sex: match state.sex {
                popreg_domain::Sex::F => "F",
                popreg_domain::Sex::M => "M",
            },
            death_date: state.death.as_ref().map(|d| d.date),
            last_entry_id: state.last_entry_id,
            updated_at: state.updated_at,
            fold_tail: tail.code(),
        })
    }
}

/// Where a person's next entry lands in [`PersonState::fold`]'s order (the creating entry first, then by
/// valid-from date, undated before dated, then by id): the latest valid-from date among the person's entries
/// other than the creating one, `None` when none of them has a date or there are none. Kept with the
/// projection (`persons.fold_tail`) so that an appended entry that sorts last extends the stored state
/// ([`extend_projection`]) instead of every entry of the person being read and folded again (issue 3: a
/// mother's projection was refolded from all of her entries at each child's birth).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct FoldTail(Option<chrono::NaiveDate>);

impl FoldTail {
    /// The tail of a person's whole entry list. Entries that a correction or retraction made dead count
    /// too: the tail is then later than the live entries' own, which only sends more appends to a full
    /// fold, never fewer.
    fn of<'a>(entries: impl IntoIterator<Item = &'a Entry>) -> FoldTail {
        FoldTail(
            entries
                .into_iter()
                .filter(|e| !e.fact.creates_person())
                .map(|e| e.valid_from)
                .max()
                .flatten(),
        )
    }

    /// The column's value: 0 for no date, else the date's day number from the common era (≥ 1); `None`
    /// (unknown, fold in full next time) for a date that number cannot tell from "no date".
    fn code(self) -> Option<i64> {
        use chrono::Datelike;
        match self.0 {
            None => Some(0),
            Some(d) => Some(i64::from(d.num_days_from_ce())).filter(|&n| n >= 1),
        }
    }

    /// The column read back; `None` when it is not known.
    fn decode(code: Option<i64>) -> Option<FoldTail> {
        match code? {
            0 => Some(FoldTail(None)),
            n => i32::try_from(n)
                .ok()
                .filter(|&n| n >= 1)
                .and_then(chrono::NaiveDate::from_num_days_from_ce_opt)
                .map(|d| FoldTail(Some(d))),
        }
    }
}

/// A known person's projection after appending `new` (their entries, in id order), when that needs no
/// fold of all their entries: every new entry sorts after all the earlier ones in the fold's order (none
/// dated before the tail) and none corrects, retracts or creates anything. Then folding every entry gives
/// exactly the stored state with the new entries applied in order. `None`: fold them all.
fn extend_projection(
    mut state: PersonState,
    tail: Option<FoldTail>,
    new: &[&Entry],
) -> Option<(PersonState, FoldTail)> {
    let tail = tail?;
    // `corrected_entry` names the target of a correction and of a retraction alike.
    let appendable = |e: &Entry| {
        !e.fact.creates_person() && corrected_entry(e).is_none() && e.valid_from >= tail.0
    };
    if !new.iter().all(|e| appendable(e)) {
        return None;
    }
    let mut ordered = new.to_vec();
    ordered.sort_by_key(|e| (e.valid_from, e.id));
    for e in &ordered {
        state.apply(e);
    }
    let tail = FoldTail(
        tail.0
            .max(ordered.iter().map(|e| e.valid_from).max().flatten()),
    );
    Some((state, tail))
}

/// The entries' subjects in first-seen order, and each subject's entries (indexes into `recorded`).
fn group_by_subject(recorded: &[Entry]) -> (Vec<Psn>, HashMap<Psn, Vec<usize>>) {
    let mut order: Vec<Psn> = vec![];
    let mut by_subject: HashMap<Psn, Vec<usize>> = HashMap::new();
    for (i, e) in recorded.iter().enumerate() {
        by_subject
            .entry(e.subject)
            .or_insert_with(|| {
                order.push(e.subject);
                vec![]
            })
            .push(i);
    }
    (order, by_subject)
}

/// An entry about `psn` needs the person to exist, unless it creates them; one that creates them needs them
/// not to exist yet.
fn check_subject(psn: Psn, creates: bool, exists: bool) -> Result<(), StoreError> {
    if creates && exists {
        return Err(DomainError::new(
            Code::PersonExists,
            format!("person {psn} is already registered"),
        )
        .into());
    }
    if !creates && !exists {
        return Err(DomainError::new(Code::PsnUnknown, format!("no person with PSN {psn}")).into());
    }
    Ok(())
}

/// The earlier entry a correction or retraction names.
fn corrected_entry(e: &Entry) -> Option<i64> {
    e.supersedes.or(match &e.fact {
        popreg_domain::Fact::Retraction { entry_id, .. } => Some(*entry_id),
        _ => None,
    })
}

/// A correction or retraction must name an earlier entry (`target`, whose subject is `owner`) of the same
/// person.
fn check_corrected(e: &Entry, target: i64, owner: Option<&str>) -> Result<(), StoreError> {
    if owner != Some(e.subject.to_string().as_str()) {
        return Err(DomainError::new(
            Code::EntryUnknown,
            format!("entry {target} does not exist or is about another person"),
        )
        .into());
    }
    Ok(())
}

/// Fold one person's entries into the row to write.
fn fold_row(psn: Psn, entries: &[Entry]) -> Result<PersonRow, StoreError> {
    let state = PersonState::fold(entries, AsOf::default()).map_err(|_| {
        StoreError::from(DomainError::new(
            Code::PsnUnknown,
            format!("no creating entry for {psn}"),
        ))
    })?;
    PersonRow::of(&state, FoldTail::of(entries))
}

/// Fold groups of entries (by index into `recorded`), one group per person.
fn fold_rows(recorded: &[Entry], groups: &[Vec<usize>]) -> Result<Vec<PersonRow>, StoreError> {
    groups
        .iter()
        .filter_map(|g| {
            let first = g.first()?;
            let mine: Vec<Entry> = g.iter().map(|&i| recorded[i].clone()).collect();
            Some(fold_row(recorded[*first].subject, &mine))
        })
        .collect()
}

impl Store {
    /// Open a store from a URL: `postgres://…` selects PostgreSQL, `sqlite:PATH` (or a bare path) SQLite.
    /// Does not run migrations; call [`Store::migrate`].
    pub async fn open(
        url: &str,
        opts: &StoreOptions,
        clock: Arc<dyn Clock>,
    ) -> Result<Store, StoreError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let connect: PgConnectOptions = url
                .parse()
                .map_err(|e| StoreError::Unavailable(format!("bad PostgreSQL URL: {e}")))?;
            let pool = PgPoolOptions::new()
                .max_connections(opts.max_connections.max(2))
                .acquire_timeout(opts.acquire_timeout)
                .connect_with(connect)
                .await?;
            let label = redact_url(url);
            Ok(Store {
                inner: Inner::Postgres(pool),
                clock,
                label,
                submissions: Arc::default(),
                audit_signer: Arc::default(),
                usage: Arc::default(),
                inbound: Arc::default(),
                restrictions: Arc::default(),
            })
        } else {
            let path = PathBuf::from(
                url.strip_prefix("sqlite://")
                    .or(url.strip_prefix("sqlite:"))
                    .unwrap_or(url),
            );
            let (write, read) = sqlite::open(&path, opts).await?;
            let hot = hot::HotReaders::new(path.clone(), opts.max_connections);
            let checkpointer = (!opts.bulk && path.as_os_str() != ":memory:")
                .then(|| Arc::new(usage_writer::start_checkpointer(&path)));
            Ok(Store {
                inner: Inner::Sqlite {
                    write,
                    read,
                    hot,
                    checkpointer,
                },
                clock,
                label: format!("sqlite:{}", path.display()),
                submissions: Arc::default(),
                audit_signer: Arc::default(),
                usage: Arc::default(),
                inbound: Arc::default(),
                restrictions: Arc::default(),
            })
        }
    }

    /// SQLite's hot readers (`hot.rs`); `None` on PostgreSQL.
    pub(crate) fn hot(&self) -> Option<&Arc<hot::HotReaders>> {
        match &self.inner {
            Inner::Sqlite { hot, .. } => Some(hot),
            Inner::Postgres(_) => None,
        }
    }

    pub fn dialect(&self) -> Dialect {
        match self.inner {
            Inner::Sqlite { .. } => Dialect::Sqlite,
            Inner::Postgres(_) => Dialect::Postgres,
        }
    }

    /// A printable description of the database (no password).
    pub fn label(&self) -> &str {
        &self.label
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// Apply pending migrations, and rebuild any secondary index an interrupted bulk load left missing.
    /// Safe to call on every start.
    pub async fn migrate(&self) -> Result<Vec<i64>, StoreError> {
        let applied = match &self.inner {
            Inner::Sqlite { write, .. } => migrate::run_sqlite(write).await,
            Inner::Postgres(pool) => migrate::run_postgres(pool).await,
        }?;
        self.finish_bulk_load().await?;
        Ok(applied)
    }

    /// Start an offline bulk load: drop the secondary indexes, which a load by random PSN would otherwise
    /// update page by page at random (the import rate fell from 6,800 to 2,600 persons/s over the first
    /// million persons on SQLite with them in place). Unique keys stay: the primary keys of `entries` and
    /// `persons` keep guarding identity during the load. Finish with [`Store::finish_bulk_load`]; if the load
    /// dies first, the next [`Store::migrate`] (which runs on every start) builds the indexes again.
    pub async fn begin_bulk_load(&self) -> Result<(), StoreError> {
        dispatch!(self, write, pool, ops => {
            for stmt in DROP_SECONDARY_INDEXES {
                sqlx::query(*stmt).execute(pool).await?;
            }
        });
        Ok(())
    }

    /// Build the secondary indexes (no-op when present). Part of every migration run.
    pub async fn finish_bulk_load(&self) -> Result<(), StoreError> {
        dispatch!(self, write, pool, ops => {
            for stmt in SECONDARY_INDEXES {
                sqlx::query(*stmt).execute(pool).await?;
            }
        });
        Ok(())
    }

    /// Cheap liveness check of the database, for `/readyz`.
    pub async fn ping(&self) -> Result<(), StoreError> {
        dispatch!(self, read, pool, ops => {
            sqlx::query("SELECT 1").execute(pool).await?;
        });
        Ok(())
    }

    pub async fn close(&self) {
        match &self.inner {
            Inner::Sqlite {
                write,
                read,
                hot,
                checkpointer,
            } => {
                if let Some(c) = checkpointer {
                    c.stop();
                }
                hot.close();
                read.close().await;
                write.close().await;
            }
            Inner::Postgres(p) => p.close().await,
        }
    }

    /// Append entries from one provenance in one transaction, updating the projections. Returns the
    /// recorded entries. Refuses (and writes nothing) when a creating entry names an existing person, a
    /// non-creating entry names an unknown person, or a correction names an entry of another person.
    pub async fn append(
        &self,
        prov: &Provenance,
        entries: Vec<NewEntry>,
    ) -> Result<Vec<Entry>, StoreError> {
        let items: Vec<(Provenance, NewEntry)> =
            entries.into_iter().map(|e| (prov.clone(), e)).collect();
        self.append_mixed(items).await
    }

    /// Append entries that may each have their own provenance (bulk import), in one transaction.
    pub async fn append_mixed(
        &self,
        items: Vec<(Provenance, NewEntry)>,
    ) -> Result<Vec<Entry>, StoreError> {
        if items.is_empty() {
            return Ok(vec![]);
        }
        let now = self.clock.now().trunc_subsecs(6);
        match &self.inner {
            Inner::Sqlite { write, .. } => sqlite_ops::append(write, now, items).await,
            Inner::Postgres(pool) => pg_ops::append(pool, now, items).await,
        }
    }

    /// The stored projection of a person as JSON text, exactly as kept (the fast path for reads).
    pub(crate) async fn person_json(&self, psn: Psn) -> Result<Option<String>, StoreError> {
        if let Some(hot) = self.hot() {
            let psn = psn.to_string();
            return hot
                .run(move |c| {
                    use rusqlite::OptionalExtension;
                    Ok(c.prepare_cached("SELECT doc FROM persons WHERE psn = $1")?
                        .query_row([psn], |r| r.get::<_, String>(0))
                        .optional()?)
                })
                .await;
        }
        dispatch!(self, read, pool, ops => {
            let row = sqlx::query("SELECT doc FROM persons WHERE psn = $1")
                .bind(psn.to_string())
                .fetch_optional(pool)
                .await?;
            Ok(row.map(|r| r.try_get::<String, _>(0)).transpose()?)
        })
    }

    /// The current state of a person.
    pub(crate) async fn person(&self, psn: Psn) -> Result<Option<PersonState>, StoreError> {
        match self.person_json(psn).await? {
            Some(doc) => Ok(Some(
                serde_json::from_str(&doc).map_err(|e| corrupt("person projection", e))?,
            )),
            None => Ok(None),
        }
    }

    /// Every entry about a person, in recording order.
    pub(crate) async fn entries(&self, psn: Psn) -> Result<Vec<Entry>, StoreError> {
        if let Some(hot) = self.hot() {
            let psn = psn.to_string();
            return hot
                .run(move |c| {
                    let mut st = c.prepare_cached(concat!(
                        "SELECT ",
                        entry_columns!(),
                        " FROM entries WHERE subject_psn = $1 ORDER BY id"
                    ))?;
                    let mut rows = st.query([psn])?;
                    let mut out = vec![];
                    while let Some(r) = rows.next()? {
                        out.push(hot::entry(r)?);
                    }
                    Ok(out)
                })
                .await;
        }
        match &self.inner {
            Inner::Sqlite { read, .. } => {
                sqlite_ops::load_entries(&mut *read.acquire().await?, psn).await
            }
            Inner::Postgres(pool) => pg_ops::load_entries(&mut *pool.acquire().await?, psn).await,
        }
    }

    /// A person as valid on a date and/or as known at an instant (A2.1). `Ok(None)`: no such person in that
    /// view (unknown PSN, or not yet recorded at `known_at`, or not yet born on `valid_on`).
    pub(crate) async fn person_as_of(
        &self,
        psn: Psn,
        as_of: AsOf,
    ) -> Result<Option<PersonState>, StoreError> {
        let entries = self.entries(psn).await?;
        match PersonState::fold(&entries, as_of) {
            Ok(s) => Ok(Some(s)),
            Err(FoldError::NotYetKnown) => Ok(None),
        }
    }

    /// One entry by id.
    pub(crate) async fn entry(&self, id: i64) -> Result<Option<Entry>, StoreError> {
        dispatch!(self, read, pool, ops => {
            let row = sqlx::query(concat!("SELECT ", entry_columns!(), " FROM entries WHERE id = $1"))
                .bind(id)
                .fetch_optional(pool)
                .await?;
            row.map(|r| ops::entry_from_row(&r)).transpose()
        })
    }

    pub async fn count_persons(&self) -> Result<i64, StoreError> {
        dispatch!(self, read, pool, ops => {
            let row = sqlx::query("SELECT COUNT(*) FROM persons").fetch_one(pool).await?;
            Ok(row.try_get::<i64, _>(0)?)
        })
    }

    pub async fn count_entries(&self) -> Result<i64, StoreError> {
        dispatch!(self, read, pool, ops => {
            let row = sqlx::query("SELECT COUNT(*) FROM entries").fetch_one(pool).await?;
            Ok(row.try_get::<i64, _>(0)?)
        })
    }

    /// Whether a PSN is taken (by any person, living or dead: a PSN is never reused).
    pub async fn psn_taken(&self, psn: Psn) -> Result<bool, StoreError> {
        dispatch!(self, read, pool, ops => {
            let row = sqlx::query("SELECT 1 FROM persons WHERE psn = $1 UNION ALL SELECT 1 FROM entries WHERE subject_psn = $1 LIMIT 1")
                .bind(psn.to_string())
                .fetch_optional(pool)
                .await?;
            Ok(row.is_some())
        })
    }

    /// Allocate a fresh random PSN not yet used (A1.42). The primary key on `persons` is the final guard:
    /// a race between two allocations ends in [`Code::PersonExists`] for one of them, which retries.
    pub async fn allocate_psn(&self) -> Result<Psn, StoreError> {
        for _ in 0..32 {
            let psn = Psn::allocate_os()?;
            if !self.psn_taken(psn).await? {
                return Ok(psn);
            }
        }
        Err(DomainError::new(Code::PsnExhausted, "no free PSN found in 32 draws").into())
    }
}

fn redact_url(url: &str) -> String {
    // postgres://user:password@host/db → postgres://user:***@host/db
    if let Some((scheme, rest)) = url.split_once("://")
        && let Some((creds, host)) = rest.split_once('@')
    {
        let user = creds.split(':').next().unwrap_or("");
        let masked = if creds.contains(':') {
            format!("{user}:***")
        } else {
            user.to_string()
        };
        return format!("{scheme}://{masked}@{host}");
    }
    url.to_string()
}

/// The dialect-specific operations. The macro body is compiled once per database type: the SQL and the code
/// are shared, and only `DIALECT` branches differ.
macro_rules! dialect_ops {
    ($module:ident, $db:ty, $dialect:expr, $writer:ident, $audit:ident) => {
        pub(crate) mod $module {
            use super::*;
            pub(crate) use crate::audit::$audit as audit;
            type DB = $db;
            const DIALECT: Dialect = $dialect;

            pub(crate) fn entry_from_row(r: &<DB as sqlx::Database>::Row) -> Result<Entry, StoreError> {
                let payload: String = r.try_get("payload")?;
                let fact = serde_json::from_str(&payload).map_err(|e| corrupt("entry payload", e))?;
                let subject: String = r.try_get("subject_psn")?;
                let channel: String = r.try_get("channel")?;
                Ok(Entry {
                    id: r.try_get("id")?,
                    subject: Psn::parse(&subject).map_err(|e| corrupt("entry subject", e))?,
                    kind: r.try_get("kind")?,
                    fact,
                    provider: r.try_get("provider")?,
                    user_uid: r.try_get("user_uid")?,
                    channel: popreg_domain::Channel::parse(&channel)
                        .ok_or_else(|| corrupt("entry channel", &channel))?,
                    external: popreg_domain::ExternalIds {
                        xroad_client: r.try_get("xroad_client")?,
                        xroad_id: r.try_get("xroad_id")?,
                        xroad_user_id: r.try_get("xroad_user_id")?,
                        xroad_issue: r.try_get("xroad_issue")?,
                        idempotency_key: r.try_get("idempotency_key")?,
                    },
                    recorded_at: r.try_get("recorded_at")?,
                    valid_from: r.try_get("valid_from")?,
                    valid_to: r.try_get("valid_to")?,
                    supersedes: r.try_get("supersedes")?,
                })
            }

            /// A person's stored projection and its fold tail (`None` for a person not in `persons`).
            async fn load_projection(
                conn: &mut <DB as sqlx::Database>::Connection,
                psn: Psn,
            ) -> Result<Option<(PersonState, Option<FoldTail>)>, StoreError> {
                let row = sqlx::query("SELECT doc, fold_tail FROM persons WHERE psn = $1")
                    .bind(psn.to_string())
                    .fetch_optional(&mut *conn)
                    .await?;
                let Some(row) = row else { return Ok(None) };
                let doc: String = row.try_get(0)?;
                let state: PersonState =
                    serde_json::from_str(&doc).map_err(|e| corrupt("person projection", e))?;
                Ok(Some((state, FoldTail::decode(row.try_get(1)?))))
            }

            pub(crate) async fn load_entries(
                conn: &mut <DB as sqlx::Database>::Connection,
                psn: Psn,
            ) -> Result<Vec<Entry>, StoreError> {
                let rows =
                    sqlx::query(concat!(
                        "SELECT ",
                        entry_columns!(),
                        " FROM entries WHERE subject_psn = $1 ORDER BY id"
                    ))
                        .bind(psn.to_string())
                        .fetch_all(&mut *conn)
                        .await?;
                rows.iter().map(entry_from_row).collect()
            }

            async fn reserve_ids(
                conn: &mut <DB as sqlx::Database>::Connection,
                n: usize,
            ) -> Result<Vec<i64>, StoreError> {
                if DIALECT == Dialect::Sqlite {
                    // The write transaction holds SQLite's single write lock: max(id)+1.. is ours alone.
                    let row = sqlx::query("SELECT COALESCE(MAX(id), 0) FROM entries").fetch_one(&mut *conn).await?;
                    let max: i64 = row.try_get(0)?;
                    Ok((1..=n as i64).map(|i| max + i).collect())
                } else {
                    let rows = sqlx::query(
                        "SELECT nextval(pg_get_serial_sequence('entries', 'id')) FROM generate_series(1, $1)",
                    )
                    .bind(n as i64)
                    .fetch_all(&mut *conn)
                    .await?;
                    rows.iter().map(|r| r.try_get::<i64, _>(0).map_err(StoreError::from)).collect()
                }
            }

            async fn existing_persons(
                conn: &mut <DB as sqlx::Database>::Connection,
                psns: &[String],
            ) -> Result<HashSet<String>, StoreError> {
                let mut out = HashSet::new();
                for chunk in psns.chunks(INSERT_CHUNK) {
                    let mut qb = QueryBuilder::<DB>::new("SELECT psn FROM persons WHERE psn IN (");
                    let mut sep = qb.separated(", ");
                    for p in chunk {
                        sep.push_bind(p.clone());
                    }
                    qb.push(")");
                    for r in qb.build().fetch_all(&mut *conn).await? {
                        out.insert(r.try_get::<String, _>(0)?);
                    }
                }
                Ok(out)
            }

            /// Start a write transaction. On SQLite `BEGIN IMMEDIATE` takes the write lock at once, so what the
            /// transaction reads stays true until it commits.
            pub(crate) async fn begin(pool: &sqlx::Pool<DB>) -> Result<sqlx::Transaction<'static, DB>, StoreError> {
                Ok(if DIALECT == Dialect::Sqlite {
                    pool.begin_with("BEGIN IMMEDIATE").await?
                } else {
                    pool.begin().await?
                })
            }

            pub(crate) async fn append(
                pool: &sqlx::Pool<DB>,
                now: DateTime<Utc>,
                items: Vec<(Provenance, NewEntry)>,
            ) -> Result<Vec<Entry>, StoreError> {
                let mut tx = begin(pool).await?;
                let out = append_tx(&mut tx, now, items).await?;
                tx.commit().await?;
                Ok(out)
            }

            /// Append entries inside a transaction the caller owns (and commits).
            pub(crate) async fn append_tx(
                tx: &mut <DB as sqlx::Database>::Connection,
                now: DateTime<Utc>,
                items: Vec<(Provenance, NewEntry)>,
            ) -> Result<Vec<Entry>, StoreError> {
                let (recorded, payloads) = append_tx_unaudited(&mut *tx, now, items).await?;
                // Last, so that PostgreSQL holds the audit head's lock only until the commit.
                crate::audit::$audit::append(&mut *tx, now, &[crate::audit::Leaf::entries(&recorded, &payloads)]).await?;
                Ok(recorded)
            }

            /// [`append_tx`] without the audit leaf: answers the entries and their payloads, and the caller
            /// appends the leaf of the whole transaction ([`crate::audit::Leaf::entries`]) before it commits
            /// (the submission writer: one leaf for all the entries of a batch).
            pub(crate) async fn append_tx_unaudited(
                tx: &mut <DB as sqlx::Database>::Connection,
                now: DateTime<Utc>,
                items: Vec<(Provenance, NewEntry)>,
            ) -> Result<(Vec<Entry>, Vec<String>), StoreError> {
                let ids = reserve_ids(&mut *tx, items.len()).await?;
                let recorded: Vec<Entry> =
                    items.into_iter().zip(ids).map(|((prov, new), id)| Entry::recorded(id, now, new, &prov)).collect();

                // Group by subject, keeping first-seen order; decide which subjects are created here.
                let (order, mut by_subject) = group_by_subject(&recorded);
                let subjects: Vec<String> = order.iter().map(|p| p.to_string()).collect();
                let existing = existing_persons(&mut *tx, &subjects).await?;
                for (psn, key) in order.iter().zip(&subjects) {
                    let creates = by_subject
                        .get(psn)
                        .is_some_and(|es| es.iter().any(|&i| recorded[i].fact.creates_person()));
                    check_subject(*psn, creates, existing.contains(key))?;
                }
                // Corrections and retractions must name an earlier entry of the same person.
                for e in &recorded {
                    if let Some(t) = corrected_entry(e) {
                        let row = sqlx::query("SELECT subject_psn FROM entries WHERE id = $1")
                            .bind(t)
                            .fetch_optional(&mut *tx)
                            .await?;
                        let owner: Option<String> = row.map(|r| r.try_get::<String, _>(0)).transpose()?;
                        check_corrected(e, t, owner.as_deref())?;
                    }
                }

                let payloads: Vec<String> = recorded
                    .iter()
                    .map(|e| serde_json::to_string(&e.fact).map_err(|x| corrupt("entry payload", x)))
                    .collect::<Result<_, _>>()?;

                // The projections of persons created here depend only on these entries. Many of them (an
                // import): fold them on a blocking thread while the database writes the entries (two cores,
                // two stages). A few (a submission): fold them here, which is cheaper than the hand-off.
                let recorded = Arc::new(recorded);
                let fresh: Vec<Vec<usize>> = order
                    .iter()
                    .zip(&subjects)
                    .filter(|(_, key)| !existing.contains(*key))
                    .filter_map(|(psn, _)| by_subject.remove(psn))
                    .collect();
                let fresh_rows = if recorded.len() <= INLINE_FOLD {
                    let rows = fold_rows(&recorded, &fresh)?;
                    $writer::insert_entries(&mut *tx, &recorded, &payloads).await?;
                    rows
                } else {
                    let fold_job = {
                        let recorded = Arc::clone(&recorded);
                        tokio::task::spawn_blocking(move || fold_rows(&recorded, &fresh))
                    };
                    $writer::insert_entries(&mut *tx, &recorded, &payloads).await?;
                    fold_job
                        .await
                        .map_err(|e| StoreError::Database(format!("projection task failed: {e}")))??
                };

                // Persons who existed before: their stored projection extended by the new entries when
                // these sort last, else rebuilt from all of their entries.
                let mut known_rows = Vec::new();
                for (psn, key) in order.iter().zip(&subjects) {
                    if existing.contains(key) {
                        let new: Vec<&Entry> = by_subject
                            .get(psn)
                            .map(|ix| ix.iter().map(|&i| &recorded[i]).collect())
                            .unwrap_or_default();
                        let extended = match load_projection(&mut *tx, *psn).await? {
                            Some((state, tail)) => extend_projection(state, tail, &new),
                            None => None,
                        };
                        known_rows.push(match extended {
                            Some((state, tail)) => PersonRow::of(&state, tail)?,
                            None => fold_row(*psn, &load_entries(&mut *tx, *psn).await?)?,
                        });
                    }
                }
                $writer::insert_persons(&mut *tx, &fresh_rows).await?;
                $writer::upsert_persons(&mut *tx, &known_rows).await?;
                Ok((Arc::try_unwrap(recorded).unwrap_or_else(|shared| (*shared).clone()), payloads))
            }
        }
    };
}

dialect_ops!(
    sqlite_ops,
    sqlx::Sqlite,
    Dialect::Sqlite,
    sqlite_write,
    sqlite_audit
);
dialect_ops!(
    pg_ops,
    sqlx::Postgres,
    Dialect::Postgres,
    pg_write,
    pg_audit
);

/// Multi-row INSERTs, shared by both dialects (SQLite's bulk path; PostgreSQL's path for updates).
macro_rules! insert_rows {
    ($db:ty) => {
        pub(crate) async fn insert_entries_values(
            conn: &mut <$db as sqlx::Database>::Connection,
            recorded: &[Entry],
            payloads: &[String],
        ) -> Result<(), StoreError> {
            for (chunk, pchunk) in recorded
                .chunks(INSERT_CHUNK)
                .zip(payloads.chunks(INSERT_CHUNK))
            {
                let mut qb = QueryBuilder::<$db>::new(concat!(
                    "INSERT INTO entries (",
                    entry_columns!(),
                    ") "
                ));
                qb.push_values(chunk.iter().zip(pchunk), |mut b, (e, payload)| {
                    b.push_bind(e.id)
                        .push_bind(e.subject.to_string())
                        .push_bind(e.kind.clone())
                        .push_bind(payload.clone())
                        .push_bind(e.provider.clone())
                        .push_bind(e.user_uid.clone())
                        .push_bind(e.channel.as_str())
                        .push_bind(e.external.xroad_client.clone())
                        .push_bind(e.external.xroad_id.clone())
                        .push_bind(e.external.xroad_user_id.clone())
                        .push_bind(e.external.xroad_issue.clone())
                        .push_bind(e.external.idempotency_key.clone())
                        .push_bind(e.recorded_at)
                        .push_bind(e.valid_from)
                        .push_bind(e.valid_to)
                        .push_bind(e.supersedes);
                });
                qb.build().execute(&mut *conn).await?;
            }
            Ok(())
        }

        pub(crate) async fn upsert_persons(
            conn: &mut <$db as sqlx::Database>::Connection,
            rows: &[PersonRow],
        ) -> Result<(), StoreError> {
            for chunk in rows.chunks(INSERT_CHUNK) {
                let mut qb = QueryBuilder::<$db>::new(concat!(
                    "INSERT INTO persons (",
                    person_columns!(),
                    ") "
                ));
                qb.push_values(chunk, |mut b, r| {
                    b.push_bind(r.psn.clone())
                        .push_bind(r.doc.clone())
                        .push_bind(r.surname_fold.clone())
                        .push_bind(r.first_fold.clone())
                        .push_bind(r.birth_date)
                        .push_bind(r.sex)
                        .push_bind(r.death_date)
                        .push_bind(r.last_entry_id)
                        .push_bind(r.updated_at)
                        .push_bind(r.fold_tail);
                });
                qb.push(PERSON_UPSERT_TAIL);
                qb.build().execute(&mut *conn).await?;
            }
            Ok(())
        }
    };
}

mod sqlite_write {
    use super::*;
    insert_rows!(sqlx::Sqlite);

    pub(crate) async fn insert_entries(
        conn: &mut sqlx::SqliteConnection,
        recorded: &[Entry],
        payloads: &[String],
    ) -> Result<(), StoreError> {
        insert_entries_values(conn, recorded, payloads).await
    }

    pub(crate) async fn insert_persons(
        conn: &mut sqlx::SqliteConnection,
        rows: &[PersonRow],
    ) -> Result<(), StoreError> {
        upsert_persons(conn, rows).await
    }
}

/// PostgreSQL's bulk path: COPY, in the text format.
mod pg_write {
    use super::*;
    insert_rows!(sqlx::Postgres);

    /// Append one COPY text-format row (the audit trail's canonical line format), ended by a newline.
    fn row(out: &mut String, cols: &[Option<&str>]) {
        out.push_str(&crate::audit::line(cols));
        out.push('\n');
    }

    use crate::audit::ts;

    /// Below this many rows, plain INSERTs are cheaper than starting a COPY.
    const COPY_THRESHOLD: usize = 64;

    pub(crate) async fn insert_entries(
        conn: &mut sqlx::PgConnection,
        recorded: &[Entry],
        payloads: &[String],
    ) -> Result<(), StoreError> {
        if recorded.len() < COPY_THRESHOLD {
            return insert_entries_values(conn, recorded, payloads).await;
        }
        // An entry's COPY row is its audit line (the same columns, the same escaping).
        let mut buf = String::with_capacity(recorded.len() * 512);
        for (e, payload) in recorded.iter().zip(payloads) {
            buf.push_str(&crate::audit::entry_line(e, payload));
            buf.push('\n');
        }
        let mut copy = conn
            .copy_in_raw(concat!("COPY entries (", entry_columns!(), ") FROM STDIN"))
            .await?;
        copy.send(buf.into_bytes()).await?;
        copy.finish().await?;
        Ok(())
    }

    pub(crate) async fn insert_persons(
        conn: &mut sqlx::PgConnection,
        rows: &[PersonRow],
    ) -> Result<(), StoreError> {
        if rows.len() < COPY_THRESHOLD {
            return upsert_persons(conn, rows).await;
        }
        let mut buf = String::with_capacity(rows.len() * 2048);
        for r in rows {
            let birth = r.birth_date.to_string();
            let death = r.death_date.map(|d| d.to_string());
            let last = r.last_entry_id.to_string();
            let updated = ts(&r.updated_at);
            let tail = r.fold_tail.map(|t| t.to_string());
            let cols: [Option<&str>; 10] = [
                Some(&r.psn),
                Some(&r.doc),
                Some(&r.surname_fold),
                Some(&r.first_fold),
                Some(&birth),
                Some(r.sex),
                death.as_deref(),
                Some(&last),
                Some(&updated),
                tail.as_deref(),
            ];
            row(&mut buf, &cols);
        }
        let mut copy = conn
            .copy_in_raw(concat!("COPY persons (", person_columns!(), ") FROM STDIN"))
            .await?;
        copy.send(buf.into_bytes()).await?;
        copy.finish().await?;
        Ok(())
    }
}
