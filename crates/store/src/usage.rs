//! The access gate and the data-usage log (G.3.4, A1.30, A1.37, A2.9).
//!
//! [`Store::read_person`] is the only way a person's data leave this crate: it checks that the caller may
//! read persons and which data elements its body's grants in force cover, cuts the record down to those,
//! and writes the usage record — who, for which body, for what purpose on which legal basis, through which
//! channel, with the X-Road ids, which elements — **durably, before it returns the data**. If the record
//! cannot be written the read fails (`PSR-AUD-0001`): nothing leaves unlogged. The raw reads are
//! `pub(crate)`; the conformance tests reach them through [`Store::unaudited`], and a test lists every use of
//! that in the workspace.
//!
//! Usage records are group-committed: one writer task takes every record waiting, writes them and their
//! audit-trail leaves in one transaction, commits once (one fsync for all), and only then answers each
//! request. A lone read is committed at once. On SQLite the writer is a thread with its own connection and
//! prepared statements (`usage_writer.rs`); on PostgreSQL a task on the sqlx pool (`Store::write_usage`).

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, SubsecRound, Utc};
use popreg_domain::access::{Caller, Function};
use popreg_domain::disclosure::{self, Granted};
use popreg_domain::person::NoticeAddress;
use popreg_domain::{AsOf, Channel, Code, DomainError, Entry, PersonState, Psn};
use serde::Serialize;
use serde_json::{Map, Value};
use sqlx::Row;

use crate::audit::{Leaf, UsageLineFields, ts, usage_line};
use crate::{Dialect, Inner, Store, StoreError, corrupt, pg_ops, sqlite_ops};

/// Binds the arguments of [`person_usage_sql`] to a sqlx query, in its order.
macro_rules! bind_person_usage {
    ($q:expr, $psn:expr, $today:expr, $f:expr) => {{
        let f: &PersonUsageFilter = $f;
        let mut q = $q.bind($psn.to_string()).bind($today);
        if let Some(b) = f.body_id {
            q = q.bind(b.to_string());
        }
        for t in [f.from, f.to].into_iter().flatten() {
            q = q.bind(t);
        }
        if let Some(b) = f.before {
            q = q.bind(b);
        }
        q
    }};
}

/// Which of a person's usage records their own view selects: those of one body, those of the period
/// `[from, to)`, and for a page those older than the record `before` (the last one of the page before).
/// `None`: all. (The manager's search of the whole log has [`UsageFilter`].)
#[derive(Clone, Copy, Debug, Default)]
pub struct PersonUsageFilter<'a> {
    pub body_id: Option<&'a str>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub before: Option<i64>,
}

/// The body named in the usage records of a person's reads of their own data ([`Store::read_own`]).
pub const SELF_BODY: &str = "SELF";
/// The purpose recorded for a person's reads of their own data.
const SELF_PURPOSE: &str = "the person's own request in the e-Citizen portal";
/// The legal basis recorded for a person's reads of their own data.
const SELF_BASIS: &str = "G.3.4";

/// What a reader asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    /// The person as known now.
    Current,
    /// The person valid on a date and/or as known at an instant (A2.1).
    AsOf(AsOf),
    /// Every entry about the person (element `person.history`).
    History,
    /// The address for official notices on a date (A1.21.2.b; element `person.notice_address`).
    NoticeAddress(NaiveDate),
    /// Whether the PSN belongs to a registered person (element `person.psn`).
    Exists,
}

impl View {
    fn action(&self) -> &'static str {
        match self {
            View::Current => "person",
            View::AsOf(_) => "person_as_of",
            View::History => "history",
            View::NoticeAddress(_) => "notice_address",
            View::Exists => "psn_check",
        }
    }
}

/// The data released by the gate.
#[derive(Clone, Debug)]
pub enum Released {
    /// The person record cut to the granted elements.
    Person(Map<String, Value>),
    /// The whole record as stored (JSON text), for a body granted `person.*`.
    PersonJson(String),
    History(Vec<Entry>),
    NoticeAddress(Option<NoticeAddress>),
    Exists,
}

/// A release and the usage record written for it.
#[derive(Clone, Debug)]
pub struct Release {
    pub data: Released,
    pub usage_id: i64,
    /// The data elements released, as recorded.
    pub elements: Vec<String>,
}

/// One usage record, as the citizen, the manager and the supervisor see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UsageRecord {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub psn: String,
    pub body_id: String,
    pub user_uid: String,
    pub channel: String,
    /// What was read: `person`, `person_as_of`, `history`, `notice_address`, `psn_check`,
    /// `usage_search`.
    pub action: String,
    pub elements: Vec<String>,
    pub purpose: String,
    pub legal_basis: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub xroad_client: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub xroad_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub xroad_user_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub xroad_issue: Option<String>,
    /// The leaf of the audit trail that records it.
    pub audit_seq: i64,
    /// Hidden from the person until this day (exclusive of the person's view only; the manager and the
    /// supervisor see it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hidden_until: Option<NaiveDate>,
}

/// A usage record to write.
#[derive(Clone, Debug)]
pub(crate) struct NewUsage {
    pub(crate) psn: String,
    pub(crate) body_id: String,
    pub(crate) user_uid: String,
    pub(crate) channel: Channel,
    pub(crate) action: &'static str,
    /// The elements, comma-separated, as stored and hashed.
    pub(crate) elements: String,
    pub(crate) purpose: String,
    pub(crate) legal_basis: String,
    pub(crate) xroad: [Option<String>; 4],
}

pub(crate) type Reply = tokio::sync::oneshot::Sender<Result<i64, StoreError>>;
/// The sending end of the usage writer's queue.
pub(crate) type Queue = tokio::sync::mpsc::UnboundedSender<(NewUsage, Reply)>;

/// Most usage records committed together.
const MAX_BATCH: usize = 512;

/// Filters of the manager's and supervisor's search (all optional; the period is `[from, to)`).
#[derive(Clone, Debug, Default)]
pub struct UsageFilter {
    pub psn: Option<Psn>,
    pub body_id: Option<String>,
    pub user_uid: Option<String>,
    pub purpose: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// Only records with an id below this (paging backwards).
    pub before_id: Option<i64>,
    pub limit: i64,
}

/// A pattern in the usage log worth a supervisor's look.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Anomaly {
    /// `volume`: far more distinct persons than the body's users usually read; `off_hours`: reads at night
    /// or on a weekend (Yerevan time).
    pub kind: String,
    pub body_id: String,
    pub user_uid: String,
    /// Distinct persons read (volume) or reads out of hours (off_hours) in the period.
    pub count: i64,
    /// The yardstick: the median of the body's users (volume) or 0 (off_hours).
    pub baseline: i64,
    pub first_at: DateTime<Utc>,
    pub last_at: DateTime<Utc>,
}

/// A lawful hiding of a usage record from the person (Data Tracker's covert reads).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Hiding {
    pub id: i64,
    pub usage_id: i64,
    pub hidden_until: NaiveDate,
    pub reason: String,
    pub body_id: String,
    pub user_uid: String,
    pub at: DateTime<Utc>,
}

/// A coded refusal (a [`DomainError`]) as a store error.
pub(crate) fn refused(code: Code, msg: impl Into<String>) -> StoreError {
    StoreError::from(DomainError::new(code, msg))
}

fn split_list(s: &str) -> Vec<String> {
    s.split(',')
        .filter(|e| !e.is_empty())
        .map(str::to_string)
        .collect()
}

/// The reads that do not pass the gate, for the conformance tests of the store and for nothing else (a
/// test lists every use in the workspace). Obtained with [`Store::unaudited`].
pub struct Unaudited<'a>(&'a Store);

impl Unaudited<'_> {
    pub async fn person_json(&self, psn: Psn) -> Result<Option<String>, StoreError> {
        self.0.person_json(psn).await
    }
    pub async fn person(&self, psn: Psn) -> Result<Option<PersonState>, StoreError> {
        self.0.person(psn).await
    }
    pub async fn entries(&self, psn: Psn) -> Result<Vec<Entry>, StoreError> {
        self.0.entries(psn).await
    }
    pub async fn person_as_of(
        &self,
        psn: Psn,
        as_of: AsOf,
    ) -> Result<Option<PersonState>, StoreError> {
        self.0.person_as_of(psn, as_of).await
    }
    pub async fn entry(&self, id: i64) -> Result<Option<Entry>, StoreError> {
        self.0.entry(id).await
    }
}

impl Store {
    /// Reads that bypass the access gate and write no usage record: for the store's conformance tests.
    pub fn unaudited(&self) -> Unaudited<'_> {
        Unaudited(self)
    }

    /// **The access gate.** Release `view` of person `psn` to `caller`, cut to the data elements its
    /// body's grants in force cover, after writing the usage record durably.
    ///
    /// Refuses with `PSR-API-0007` a caller without `read_persons`, with `PSR-ACC-0003` when no grant in
    /// force covers what the view needs, and with `PSR-AUD-0001` when the usage record cannot be written.
    /// `Ok(None)`: no such person (in that view); nothing was released and nothing is recorded.
    pub async fn read_person(
        &self,
        caller: &Caller,
        psn: Psn,
        view: View,
    ) -> Result<Option<Release>, StoreError> {
        if !caller.functions.contains(&Function::ReadPersons) {
            return Err(refused(
                Code::Forbidden,
                "reading persons needs the function read_persons",
            ));
        }
        let grants = self.active_grants(&caller.body_id).await?;
        let granted = Granted::of(
            grants
                .iter()
                .flat_map(|g| g.elements.iter().map(String::as_str)),
        );
        let no_grant = |what: &str| {
            refused(
                Code::NoReadGrant,
                format!(
                    "no read grant in force for body {} covers {what}",
                    caller.body_id
                ),
            )
        };
        if granted.is_empty() {
            return Err(no_grant("any data element"));
        }
        let Some((data, elements)) = self.release_view(psn, view, &granted, &no_grant).await?
        else {
            return Ok(None);
        };
        // The purposes and legal bases of the grants that cover what is released.
        let mut purposes = BTreeSet::new();
        let mut bases = BTreeSet::new();
        for g in &grants {
            let one = Granted::of(g.elements.iter().map(String::as_str));
            if elements.iter().any(|e| one.covers(e)) {
                purposes.insert(g.purpose.as_str());
                bases.insert(g.legal_basis.as_str());
            }
        }
        let usage = NewUsage {
            psn: psn.to_string(),
            body_id: caller.body_id.clone(),
            user_uid: caller.user_uid.clone(),
            channel: caller.channel,
            action: view.action(),
            elements: elements.join(","),
            purpose: purposes.into_iter().collect::<Vec<_>>().join("; "),
            legal_basis: bases.into_iter().collect::<Vec<_>>().join("; "),
            xroad: [
                caller.external.xroad_client.clone(),
                caller.external.xroad_id.clone(),
                caller.external.xroad_user_id.clone(),
                caller.external.xroad_issue.clone(),
            ],
        };
        let usage_id = self.log_usage(usage).await?;
        Ok(Some(Release {
            data,
            usage_id,
            elements,
        }))
    }

    /// **The citizen's gate** (G.3.4): release `view` of the person's own data to the person,
    /// logged in to the portal. Everything about themself is theirs to see; the release is still a usage
    /// record — body [`SELF_BODY`], user the PSN, channel `web` — written durably before the data are
    /// returned, like any other.
    /// The person's own reads are left out of their "who used my data" view ([`Store::usage_for_person`]),
    /// and kept for the supervisor.
    pub async fn read_own(&self, psn: Psn, view: View) -> Result<Option<Release>, StoreError> {
        let granted = Granted::of([
            disclosure::ALL,
            disclosure::HISTORY,
            disclosure::NOTICE_ADDRESS,
            "person.psn",
        ]);
        let never = |what: &str| refused(Code::NoReadGrant, format!("not released: {what}"));
        let Some((data, elements)) = self.release_view(psn, view, &granted, &never).await? else {
            return Ok(None);
        };
        let usage = NewUsage {
            psn: psn.to_string(),
            body_id: SELF_BODY.to_string(),
            user_uid: psn.to_string(),
            channel: Channel::Web,
            action: view.action(),
            elements: elements.join(","),
            purpose: SELF_PURPOSE.to_string(),
            legal_basis: SELF_BASIS.to_string(),
            xroad: [None, None, None, None],
        };
        let usage_id = self.log_usage(usage).await?;
        Ok(Some(Release {
            data,
            usage_id,
            elements,
        }))
    }

    /// The data of `view` of person `psn`, cut to `granted`, and the elements released; `None`: no such
    /// person. Writes nothing: both gates ([`Store::read_person`], [`Store::read_own`]) log the release.
    async fn release_view(
        &self,
        psn: Psn,
        view: View,
        granted: &Granted,
        no_grant: &(dyn Fn(&str) -> StoreError + Sync),
    ) -> Result<Option<(Released, Vec<String>)>, StoreError> {
        let need = |element: &'static str| -> Result<Vec<String>, StoreError> {
            if granted.covers(element) {
                Ok(vec![element.to_string()])
            } else {
                Err(no_grant(element))
            }
        };
        let cut = |state: Map<String, Value>| -> Result<(Released, Vec<String>), StoreError> {
            let (out, elements) = disclosure::cut_person(state, granted);
            if elements.is_empty() {
                return Err(no_grant("any element of a person's record"));
            }
            Ok((Released::Person(out), elements))
        };
        let (data, elements) = match view {
            View::Current => {
                let Some(doc) = self.person_json(psn).await? else {
                    return Ok(None);
                };
                if granted.covers(disclosure::ALL) {
                    // Everything is granted: the stored text goes out as kept (the fast path).
                    (Released::PersonJson(doc), vec![disclosure::ALL.to_string()])
                } else {
                    let map: Map<String, Value> =
                        serde_json::from_str(&doc).map_err(|e| corrupt("person projection", e))?;
                    cut(map)?
                }
            }
            View::AsOf(as_of) => {
                let Some(state) = self.person_as_of(psn, as_of).await? else {
                    return Ok(None);
                };
                match serde_json::to_value(&state).map_err(|e| corrupt("person", e))? {
                    Value::Object(m) => cut(m)?,
                    _ => return Err(corrupt("person", "not an object")),
                }
            }
            View::History => {
                let elements = need(disclosure::HISTORY)?;
                let entries = self.entries(psn).await?;
                if entries.is_empty() {
                    return Ok(None);
                }
                (Released::History(entries), elements)
            }
            View::NoticeAddress(date) => {
                let elements = need(disclosure::NOTICE_ADDRESS)?;
                let Some(p) = self.person(psn).await? else {
                    return Ok(None);
                };
                (
                    Released::NoticeAddress(p.official_notice_address(date)),
                    elements,
                )
            }
            View::Exists => {
                let elements = need("person.psn")?;
                if !self.psn_taken(psn).await? {
                    return Ok(None);
                }
                (Released::Exists, elements)
            }
        };
        Ok(Some((data, elements)))
    }

    /// Write one usage record through the group-commit writer; answers once it is durable.
    async fn log_usage(&self, usage: NewUsage) -> Result<i64, StoreError> {
        let queue = self.usage.get_or_init(|| {
            let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
            match self.hot() {
                // SQLite: a thread with its own connection and prepared statements (`usage_writer.rs`).
                Some(hot) => crate::usage_writer::start(hot.path(), Arc::clone(&self.clock), rx),
                None => {
                    tokio::spawn(usage_writer(self.clone(), rx));
                }
            }
            tx
        });
        let unavailable = |detail: String| {
            tracing::error!(error = %detail, "usage record not written: read refused");
            refused(
                Code::UsageLogUnavailable,
                "the usage record could not be stored, so no data were released",
            )
        };
        let (reply, answer) = tokio::sync::oneshot::channel();
        queue
            .send((usage, reply))
            .map_err(|_| unavailable("the usage writer has stopped".into()))?;
        match answer.await {
            Ok(Ok(id)) => Ok(id),
            Ok(Err(e)) => Err(unavailable(e.to_string())),
            Err(_) => Err(unavailable("the usage writer has stopped".into())),
        }
    }

    /// Write a batch of usage records and their leaves in one transaction. Returns their ids. PostgreSQL's
    /// writer; SQLite's is `usage_writer::write`, which stores the same rows.
    async fn write_usage(&self, batch: &[NewUsage]) -> Result<Vec<i64>, StoreError> {
        let now = self.clock.now().trunc_subsecs(6);
        let at = ts(&now);
        dispatch!(self, write, pool, ops => {
            let mut tx = ops::begin(pool).await?;
            // SQLite's write lock makes `max + 1 ..` ours; PostgreSQL draws from the column's sequence.
            let ids: Vec<i64> = if self.dialect() == Dialect::Sqlite {
                let max: i64 = sqlx::query("SELECT COALESCE(MAX(id), 0) FROM usage_log")
                    .fetch_one(&mut *tx).await?.try_get(0)?;
                (1..=batch.len() as i64).map(|i| max + i).collect()
            } else {
                let rows = sqlx::query(
                    "SELECT nextval(pg_get_serial_sequence('usage_log', 'id')) FROM generate_series(1, $1)",
                )
                .bind(batch.len() as i64)
                .fetch_all(&mut *tx)
                .await?;
                rows.iter().map(|r| r.try_get::<i64, _>(0)).collect::<Result<_, _>>()?
            };
            let leaves: Vec<Leaf> = batch
                .iter()
                .zip(&ids)
                .map(|(u, id)| Leaf::row("usage", *id, &usage_line(&u.line_fields(&id.to_string(), &at))))
                .collect();
            let seqs = ops::audit::append(&mut tx, now, &leaves).await?;
            for chunk in batch.iter().zip(&ids).zip(&seqs).collect::<Vec<_>>().chunks(500) {
                let mut qb = sqlx::QueryBuilder::new(
                    "INSERT INTO usage_log (id, at, psn, body_id, user_uid, channel, action, elements, purpose, \
                     legal_basis, xroad_client, xroad_id, xroad_user_id, xroad_issue, audit_seq) ",
                );
                qb.push_values(chunk, |mut b, ((u, id), seq)| {
                    b.push_bind(**id)
                        .push_bind(now)
                        .push_bind(u.psn.clone())
                        .push_bind(u.body_id.clone())
                        .push_bind(u.user_uid.clone())
                        .push_bind(u.channel.as_str())
                        .push_bind(u.action)
                        .push_bind(u.elements.clone())
                        .push_bind(u.purpose.clone())
                        .push_bind(u.legal_basis.clone())
                        .push_bind(u.xroad[0].clone())
                        .push_bind(u.xroad[1].clone())
                        .push_bind(u.xroad[2].clone())
                        .push_bind(u.xroad[3].clone())
                        .push_bind(**seq);
                });
                qb.build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(ids)
        })
    }

    /// The usage records about a person that the person may see today: hidden ones are left out entirely
    /// (the count and the pages too). Newest first; `body_id` and the period `[from, to)` filter.
    pub async fn usage_for_person(
        &self,
        psn: Psn,
        body_id: Option<&str>,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
        limit: i64,
    ) -> Result<Vec<UsageRecord>, StoreError> {
        let filter = PersonUsageFilter {
            body_id,
            from,
            to,
            before: None,
        };
        self.usage_page_for_person(psn, &filter, limit).await
    }

    /// One page of [`Store::usage_for_person`]: the newest `limit` records that `filter` selects (with
    /// `before`, those older than that record). A page reads one range of the `(psn, id, body_id)` index and
    /// only its own rows, however many records the person has.
    pub async fn usage_page_for_person(
        &self,
        psn: Psn,
        filter: &PersonUsageFilter<'_>,
        limit: i64,
    ) -> Result<Vec<UsageRecord>, StoreError> {
        let mut sql = person_usage_sql(&format!("{USAGE_COLUMNS}, NULL AS hidden_until"), filter);
        sql.push_str(&format!(
            " ORDER BY u.id DESC LIMIT {}",
            limit.clamp(1, 100_000)
        ));
        let today = crate::submit::armenian_date(self.clock.now());
        if let Some(hot) = self.hot() {
            // A person's records are one range of the (psn, id, …) index: read them with the raw SQLite API on
            // a blocking thread (sqlx's per-row decoding was most of this page's time).
            let args = hot_args(psn, today, filter);
            return hot
                .run_blocking(move |c| {
                    let mut st = c.prepare_cached(&sql)?;
                    let mut rows = st.query(rusqlite::params_from_iter(&args))?;
                    let mut out = vec![];
                    while let Some(r) = rows.next()? {
                        out.push(usage_of_hot(r)?);
                    }
                    Ok(out)
                })
                .await;
        }
        dispatch!(self, read, pool, ops => {
            let q = bind_person_usage!(sqlx::query(sqlx::AssertSqlSafe(sql)), psn, today, filter);
            let rows = q.fetch_all(pool).await?;
            rows.iter().map(usage_of).collect()
        })
    }

    /// How many records `filter` selects of those [`Store::usage_for_person`] lists (with `before`: how many
    /// are older than that record). Without a period, counted in the `(psn, id, body_id)` index alone (and the
    /// hidings' index), without reading the records.
    pub async fn count_usage_for_person(
        &self,
        psn: Psn,
        filter: &PersonUsageFilter<'_>,
    ) -> Result<i64, StoreError> {
        let sql = person_usage_sql("COUNT(*)", filter);
        let today = crate::submit::armenian_date(self.clock.now());
        if let Some(hot) = self.hot() {
            let args = hot_args(psn, today, filter);
            return hot
                .run_blocking(move |c| {
                    let mut st = c.prepare_cached(&sql)?;
                    Ok(st.query_row(rusqlite::params_from_iter(&args), |r| r.get(0))?)
                })
                .await;
        }
        dispatch!(self, read, pool, ops => {
            let q = bind_person_usage!(sqlx::query(sqlx::AssertSqlSafe(sql)), psn, today, filter);
            Ok(q.fetch_one(pool).await?.try_get::<i64, _>(0)?)
        })
    }

    /// The usage record behind a person's view, if it is about `psn` and not hidden from them today.
    pub async fn usage_record_for_person(
        &self,
        psn: Psn,
        id: i64,
    ) -> Result<Option<UsageRecord>, StoreError> {
        let today = crate::submit::armenian_date(self.clock.now());
        let sql = format!(
            "SELECT {USAGE_COLUMNS}, NULL AS hidden_until FROM usage_log u WHERE u.id = $1 AND u.psn = $2 \
             AND NOT EXISTS (SELECT 1 FROM usage_hidings h WHERE h.usage_id = u.id AND h.hidden_until > $3)"
        );
        dispatch!(self, read, pool, ops => {
            let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).bind(psn.to_string()).bind(today)
                .fetch_optional(pool).await?;
            row.as_ref().map(usage_of).transpose()
        })
    }

    /// The canonical line of a usage record (what its audit leaf hashes), for the person's proof.
    pub fn usage_line(&self, r: &UsageRecord) -> String {
        usage_line(&UsageLineFields {
            id: &r.id.to_string(),
            at: &ts(&r.at),
            psn: &r.psn,
            body_id: &r.body_id,
            user_uid: &r.user_uid,
            channel: &r.channel,
            action: &r.action,
            elements: &r.elements.join(","),
            purpose: &r.purpose,
            legal_basis: &r.legal_basis,
            xroad: [
                r.xroad_client.clone(),
                r.xroad_id.clone(),
                r.xroad_user_id.clone(),
                r.xroad_issue.clone(),
            ],
        })
    }

    /// The manager's and supervisor's search, hidden records included (with their `hidden_until`). A
    /// search by person is itself a use of that person's data: `searcher` is recorded for it first.
    pub async fn usage_search(
        &self,
        searcher: &Caller,
        f: &UsageFilter,
    ) -> Result<Vec<UsageRecord>, StoreError> {
        if let Some(psn) = f.psn {
            self.log_usage(NewUsage {
                psn: psn.to_string(),
                body_id: searcher.body_id.clone(),
                user_uid: searcher.user_uid.clone(),
                channel: searcher.channel,
                action: "usage_search",
                elements: "usage_log".into(),
                purpose: "supervision of the use of personal data".into(),
                legal_basis: "A1.30; A2.9".into(),
                xroad: [
                    searcher.external.xroad_client.clone(),
                    searcher.external.xroad_id.clone(),
                    searcher.external.xroad_user_id.clone(),
                    searcher.external.xroad_issue.clone(),
                ],
            })
            .await?;
        }
        let today = crate::submit::armenian_date(self.clock.now());
        let mut sql = format!(
            "SELECT {USAGE_COLUMNS}, (SELECT MAX(h.hidden_until) FROM usage_hidings h WHERE h.usage_id = u.id \
             AND h.hidden_until > $1) AS hidden_until FROM usage_log u WHERE 1 = 1"
        );
        let mut n = 1;
        let mut push = |sql: &mut String, cond: &str| {
            n += 1;
            sql.push_str(&format!(" AND {cond} ${n}"));
        };
        if f.psn.is_some() {
            push(&mut sql, "u.psn =");
        }
        if f.body_id.is_some() {
            push(&mut sql, "u.body_id =");
        }
        if f.user_uid.is_some() {
            push(&mut sql, "u.user_uid =");
        }
        if f.purpose.is_some() {
            push(&mut sql, "u.purpose =");
        }
        if f.from.is_some() {
            push(&mut sql, "u.at >=");
        }
        if f.to.is_some() {
            push(&mut sql, "u.at <");
        }
        if f.before_id.is_some() {
            push(&mut sql, "u.id <");
        }
        sql.push_str(&format!(
            " ORDER BY u.id DESC LIMIT {}",
            f.limit.clamp(1, 10_000)
        ));
        dispatch!(self, read, pool, ops => {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(today);
            if let Some(p) = f.psn { q = q.bind(p.to_string()); }
            if let Some(b) = &f.body_id { q = q.bind(b.clone()); }
            if let Some(u) = &f.user_uid { q = q.bind(u.clone()); }
            if let Some(p) = &f.purpose { q = q.bind(p.clone()); }
            if let Some(t) = f.from { q = q.bind(t); }
            if let Some(t) = f.to { q = q.bind(t); }
            if let Some(b) = f.before_id { q = q.bind(b); }
            let rows = q.fetch_all(pool).await?;
            rows.iter().map(usage_of).collect()
        })
    }

    /// Hide a usage record from the person until a day, for a stated lawful reason. The hiding is
    /// itself recorded (its own table and an audit leaf); the record reappears by itself on that day.
    pub async fn hide_usage(
        &self,
        by: &Caller,
        usage_id: i64,
        until: NaiveDate,
        reason: &str,
    ) -> Result<Hiding, StoreError> {
        if !by.functions.contains(&Function::HideUsage) {
            return Err(refused(
                Code::Forbidden,
                "hiding usage records needs the function hide_usage",
            ));
        }
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > 500 {
            return Err(refused(
                Code::Malformed,
                "a hiding needs its lawful reason (1 to 500 characters)",
            ));
        }
        let now = self.clock.now().trunc_subsecs(6);
        if until <= crate::submit::armenian_date(now) {
            return Err(refused(
                Code::InvalidDate,
                "hidden_until must be a day after today",
            ));
        }
        dispatch!(self, write, pool, ops => {
            let mut tx = ops::begin(pool).await?;
            if sqlx::query("SELECT 1 FROM usage_log WHERE id = $1").bind(usage_id)
                .fetch_optional(&mut *tx).await?.is_none() {
                return Err(refused(Code::AuditNotFound, format!("no usage record {usage_id}")));
            }
            let id: i64 = sqlx::query(
                "INSERT INTO usage_hidings (usage_id, hidden_until, reason, body_id, user_uid, at) \
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .bind(usage_id).bind(until).bind(reason).bind(&by.body_id).bind(&by.user_uid).bind(now)
            .fetch_one(&mut *tx).await?.try_get(0)?;
            let line = crate::audit::hiding_line(
                &id.to_string(), &usage_id.to_string(), &until.to_string(), reason, &by.body_id,
                &by.user_uid, &ts(&now),
            );
            ops::audit::append(&mut tx, now, &[Leaf::row("hiding", id, &line)]).await?;
            tx.commit().await?;
            Ok(Hiding {
                id, usage_id, hidden_until: until, reason: reason.to_string(),
                body_id: by.body_id.clone(), user_uid: by.user_uid.clone(), at: now,
            })
        })
    }

    /// Users whose reading in `[from, to)` stands out: more than `factor` times the median number of
    /// distinct persons read by the users of their body (and at least `min_persons`), and reads between
    /// 20:00 and 08:00 or at weekends, Yerevan time (UTC+4).
    pub async fn usage_anomalies(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        factor: i64,
        min_persons: i64,
    ) -> Result<Vec<Anomaly>, StoreError> {
        type Row = (String, String, i64, DateTime<Utc>, DateTime<Utc>);
        type Read = (String, String, DateTime<Utc>);
        type Span = (i64, DateTime<Utc>, DateTime<Utc>);
        let per_user = "SELECT body_id, user_uid, COUNT(DISTINCT psn), MIN(at), MAX(at) FROM usage_log \
                        WHERE at >= $1 AND at < $2 GROUP BY body_id, user_uid ORDER BY body_id, user_uid";
        let times =
            "SELECT body_id, user_uid, at FROM usage_log WHERE at >= $1 AND at < $2 ORDER BY id";
        let (users, reads): (Vec<Row>, Vec<Read>) = dispatch!(self, read, pool, ops => {
            let users = sqlx::query_as(per_user).bind(from).bind(to).fetch_all(pool).await?;
            let reads = sqlx::query_as(times).bind(from).bind(to).fetch_all(pool).await?;
            (users, reads)
        });
        let mut out = vec![];
        // Volume, against the median of the same body's users.
        let mut i = 0;
        while i < users.len() {
            let body = &users[i].0;
            let j = users[i..]
                .iter()
                .position(|u| &u.0 != body)
                .map_or(users.len(), |k| i + k);
            let mut counts: Vec<i64> = users[i..j].iter().map(|u| u.2).collect();
            counts.sort_unstable();
            let median = counts[counts.len() / 2].max(1);
            for u in &users[i..j] {
                if u.2 >= min_persons && u.2 > factor * median {
                    out.push(Anomaly {
                        kind: "volume".into(),
                        body_id: u.0.clone(),
                        user_uid: u.1.clone(),
                        count: u.2,
                        baseline: median,
                        first_at: u.3,
                        last_at: u.4,
                    });
                }
            }
            i = j;
        }
        // Out of hours.
        let mut night: std::collections::BTreeMap<(String, String), Span> = Default::default();
        for (body, user, at) in reads {
            use chrono::{Datelike, Timelike};
            let local = at + chrono::Duration::hours(4);
            let weekend = local.weekday().number_from_monday() >= 6;
            if weekend || local.hour() < 8 || local.hour() >= 20 {
                let e = night.entry((body, user)).or_insert((0, at, at));
                e.0 += 1;
                e.2 = at;
            }
        }
        for ((body_id, user_uid), (count, first_at, last_at)) in night {
            out.push(Anomaly {
                kind: "off_hours".into(),
                body_id,
                user_uid,
                count,
                baseline: 0,
                first_at,
                last_at,
            });
        }
        Ok(out)
    }
}

impl NewUsage {
    pub(crate) fn line_fields<'a>(&'a self, id: &'a str, at: &'a str) -> UsageLineFields<'a> {
        UsageLineFields {
            id,
            at,
            psn: &self.psn,
            body_id: &self.body_id,
            user_uid: &self.user_uid,
            channel: self.channel.as_str(),
            action: self.action,
            elements: &self.elements,
            purpose: &self.purpose,
            legal_basis: &self.legal_basis,
            xroad: self.xroad.clone(),
        }
    }
}

/// The statement behind a person's usage view, selecting `what`: their records except their own reads and
/// those hidden from them today (`$1` the PSN, `$2` today), then what `f` selects, numbered in the order of its
/// fields: the body (`u.body_id =`), the period's start (`u.at >=`) and end (`u.at <`), a page's bound (`u.id <`).
fn person_usage_sql(what: &str, f: &PersonUsageFilter) -> String {
    let mut sql = format!(
        "SELECT {what} FROM usage_log u WHERE u.psn = $1 AND u.body_id <> 'SELF' AND NOT EXISTS \
         (SELECT 1 FROM usage_hidings h WHERE h.usage_id = u.id AND h.hidden_until > $2)"
    );
    let mut n = 2;
    for (cond, wanted) in [
        ("u.body_id =", f.body_id.is_some()),
        ("u.at >=", f.from.is_some()),
        ("u.at <", f.to.is_some()),
        ("u.id <", f.before.is_some()),
    ] {
        if wanted {
            n += 1;
            sql.push_str(&format!(" AND {cond} ${n}"));
        }
    }
    sql
}

/// The arguments of [`person_usage_sql`] for the raw SQLite API, in its order (instants as sqlx keeps them).
fn hot_args(psn: Psn, today: NaiveDate, f: &PersonUsageFilter) -> Vec<rusqlite::types::Value> {
    use rusqlite::types::Value;
    let mut args = vec![Value::Text(psn.to_string()), Value::Text(today.to_string())];
    args.extend(f.body_id.map(|b| Value::Text(b.to_string())));
    args.extend(
        [f.from, f.to]
            .into_iter()
            .flatten()
            .map(|t| Value::Text(crate::hot::sqlx_instant(&t))),
    );
    args.extend(f.before.map(Value::Integer));
    args
}

const USAGE_COLUMNS: &str = "u.id, u.at, u.psn, u.body_id, u.user_uid, u.channel, u.action, u.elements, \
     u.purpose, u.legal_basis, u.xroad_client, u.xroad_id, u.xroad_user_id, u.xroad_issue, u.audit_seq";

fn usage_of<R: Row>(r: &R) -> Result<UsageRecord, StoreError>
where
    usize: sqlx::ColumnIndex<R>,
    i64: for<'a> sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    String: for<'a> sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    Option<String>: for<'a> sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    DateTime<Utc>: for<'a> sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    Option<NaiveDate>: for<'a> sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    Ok(UsageRecord {
        id: r.try_get(0)?,
        at: r.try_get(1)?,
        psn: r.try_get(2)?,
        body_id: r.try_get(3)?,
        user_uid: r.try_get(4)?,
        channel: r.try_get(5)?,
        action: r.try_get(6)?,
        elements: split_list(&r.try_get::<String, _>(7)?),
        purpose: r.try_get(8)?,
        legal_basis: r.try_get(9)?,
        xroad_client: r.try_get(10)?,
        xroad_id: r.try_get(11)?,
        xroad_user_id: r.try_get(12)?,
        xroad_issue: r.try_get(13)?,
        audit_seq: r.try_get(14)?,
        hidden_until: r.try_get(15)?,
    })
}

/// A usage record from a row of `USAGE_COLUMNS, hidden_until` on the raw SQLite API.
fn usage_of_hot(r: &rusqlite::Row<'_>) -> Result<UsageRecord, StoreError> {
    let text = |i: usize| -> Result<&str, StoreError> {
        r.get_ref(i)?
            .as_str()
            .map_err(|e| corrupt("usage record", format!("column {i}: {e}")))
    };
    Ok(UsageRecord {
        id: r.get(0)?,
        at: crate::hot::instant(text(1)?)?,
        psn: r.get(2)?,
        body_id: r.get(3)?,
        user_uid: r.get(4)?,
        channel: r.get(5)?,
        action: r.get(6)?,
        elements: split_list(text(7)?),
        purpose: r.get(8)?,
        legal_basis: r.get(9)?,
        xroad_client: r.get(10)?,
        xroad_id: r.get(11)?,
        xroad_user_id: r.get(12)?,
        xroad_issue: r.get(13)?,
        audit_seq: r.get(14)?,
        hidden_until: crate::hot::opt_date(r.get(15)?)?,
    })
}

/// The usage writer: group commit (see the module documentation).
async fn usage_writer(
    store: Store,
    mut rx: tokio::sync::mpsc::UnboundedReceiver<(NewUsage, Reply)>,
) {
    while let Some(first) = rx.recv().await {
        let (records, replies) = take_batch(first, &mut rx);
        answer(replies, store.write_usage(&records).await);
    }
}

/// `first` and every record waiting behind it, up to [`MAX_BATCH`]: one group commit's worth.
pub(crate) fn take_batch(
    first: (NewUsage, Reply),
    rx: &mut tokio::sync::mpsc::UnboundedReceiver<(NewUsage, Reply)>,
) -> (Vec<NewUsage>, Vec<Reply>) {
    let mut batch = vec![first];
    while batch.len() < MAX_BATCH {
        match rx.try_recv() {
            Ok(j) => batch.push(j),
            Err(_) => break,
        }
    }
    batch.into_iter().unzip()
}

/// Answer every request of a batch: its record's id once the batch is durable, or the batch's error.
pub(crate) fn answer(replies: Vec<Reply>, out: Result<Vec<i64>, StoreError>) {
    match out {
        Ok(ids) => {
            for (reply, id) in replies.into_iter().zip(ids) {
                let _ = reply.send(Ok(id));
            }
        }
        Err(e) => {
            let msg = e.to_string();
            for reply in replies {
                let _ = reply.send(Err(StoreError::Unavailable(msg.clone())));
            }
        }
    }
}
