//! `popreg audit verify`: the whole audit trail checked against the signed checkpoints and the tables its
//! leaves reference.
//!
//! Three passes, each a plain state machine fed one row at a time, so that both databases drive the same
//! checks:
//! - the **leaf pass** re-hashes every leaf in order, rebuilds the tree and compares it with every signed
//!   checkpoint, and collects what each leaf says about rows of other tables;
//! - the **source pass** recomputes the canonical line of every row of the referenced tables;
//! - the **entry pass** re-hashes the register's entries range by range.
//!
//! On SQLite the rows are read with the raw SQLite API on two threads (the leaf and entry passes on one,
//! the source pass on the other): decoding through sqlx cost about 10 µs a row, which made 10 million
//! leaves take minutes. PostgreSQL streams the same queries through sqlx on two connections.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use popreg_domain::Entry;
use popreg_domain::merkle::{self, Frontier, Hash, base64_decode};
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::audit::{
    AUDIT_ORIGIN, CHECKPOINT_COLUMNS, Checkpoint, CheckpointRow, Finding, UsageLineFields,
    VerifyReport, access_line, checkpoint_of, entry_line, hiding_line, signature_valid, ts,
    usage_line,
};
use crate::{Inner, Store, StoreError, corrupt, hot, pg_ops, sqlite_ops};

/// The tables whose rows are referenced from leaves, with the query that yields their columns in id
/// order.
struct Source {
    kind: &'static str,
    table: &'static str,
    select: &'static str,
}

const SOURCES: &[Source] = &[
    Source {
        kind: "usage",
        table: "usage_log",
        select: "SELECT id, at, psn, body_id, user_uid, channel, action, elements, purpose, legal_basis, \
                 xroad_client, xroad_id, xroad_user_id, xroad_issue FROM usage_log ORDER BY id",
    },
    Source {
        kind: "hiding",
        table: "usage_hidings",
        select: "SELECT id, usage_id, hidden_until, reason, body_id, user_uid, at FROM usage_hidings ORDER BY id",
    },
    Source {
        kind: "access",
        table: "access_events",
        select: "SELECT id, at, actor, action, target, detail FROM access_events ORDER BY id",
    },
];

const LEAVES: &str = "SELECT seq, kind, data, leaf_hash FROM audit_log ORDER BY seq";
const ENTRIES: &str = concat!("SELECT ", entry_columns!(), " FROM entries ORDER BY id");

/// The most findings a report keeps (the earliest ones).
const MAX_FINDINGS: usize = 100;

/// Findings of one pass.
#[derive(Default)]
struct Findings(Vec<Finding>);

impl Findings {
    fn add(&mut self, seq: Option<i64>, problem: &str, detail: String) {
        if self.0.len() < MAX_FINDINGS {
            self.0.push(Finding {
                seq,
                problem: problem.into(),
                detail,
            });
        }
    }
}

/// The fields of a leaf that the leaf pass reads (the rest is skipped unparsed).
#[derive(serde::Deserialize)]
struct LeafHead<'a> {
    seq: Option<i64>,
    kind: Option<&'a str>,
    id: Option<i64>,
    sha256: Option<&'a str>,
    count: Option<i64>,
    ranges: Option<Vec<[i64; 2]>>,
}

/// Checkpoints whose signature is good, in size order; bad ones become findings.
fn good_checkpoints(
    rows: Vec<Checkpoint>,
    public_key: &[u8],
    found: &mut Findings,
) -> Vec<Checkpoint> {
    let mut good = vec![];
    for c in rows {
        let sig = base64_decode(&c.signature);
        let expected_note = merkle::from_hex(&c.root)
            .map(|r| merkle::checkpoint_text(AUDIT_ORIGIN, c.size as u64, &r, &ts(&c.at)));
        if sig
            .as_deref()
            .is_some_and(|s| signature_valid(public_key, &c.note, s))
            && expected_note.as_deref() == Some(c.note.as_str())
        {
            good.push(c);
        } else {
            found.add(
                None,
                "signature",
                format!(
                    "checkpoint {} (size {}) does not carry a valid signature of this register's key over its own size and root",
                    c.id, c.size
                ),
            );
        }
    }
    good
}

/// Per source: (row id, the hash its leaf records, the leaf).
type Refs = Vec<Vec<(i64, Hash, i64)>>;

/// The leaf pass: every leaf in order.
struct LeafPass {
    checkpoints: Vec<Checkpoint>,
    next_cp: usize,
    last_good_size: i64,
    frontier: Frontier,
    skipped: i64,
    refs: Refs,
    /// Entry id ranges and the leaf that records them.
    entry_refs: Vec<([i64; 2], i64)>,
    /// Per entries leaf: (leaf, entry count, digest).
    entry_sums: Vec<(i64, i64, Hash)>,
    found: Findings,
}

impl LeafPass {
    fn new(checkpoints: Vec<Checkpoint>, found: Findings) -> LeafPass {
        let mut pass = LeafPass {
            checkpoints,
            next_cp: 0,
            last_good_size: 0,
            frontier: Frontier::default(),
            skipped: 0,
            refs: vec![vec![]; SOURCES.len()],
            entry_refs: vec![],
            entry_sums: vec![],
            found,
        };
        // A checkpoint of the empty tree has nothing to compare but its root.
        while let Some(c) = pass.checkpoints.get(pass.next_cp)
            && c.size == 0
        {
            if c.root != merkle::to_hex(&merkle::empty_root()) {
                let detail = format!("checkpoint {} of the empty tree has a wrong root", c.id);
                pass.found.add(None, "checkpoint", detail);
            }
            pass.next_cp += 1;
        }
        pass
    }

    fn leaf(&mut self, seq: i64, kind: &str, data: &str, stored: &str) {
        let expected = self.frontier.size() as i64 + self.skipped;
        if seq != expected {
            self.found.add(
                Some(expected),
                "missing",
                format!(
                    "leaves {expected}..{} are missing: the log jumps from {} to {seq}",
                    seq - 1,
                    expected - 1
                ),
            );
            self.skipped += seq - expected;
        }
        let h = merkle::leaf_hash(data.as_bytes());
        let head: Option<LeafHead> = serde_json::from_str(data).ok();
        let own_seq = head.as_ref().and_then(|m| m.seq);
        let own_kind = head.as_ref().and_then(|m| m.kind);
        if own_seq != Some(seq) || own_kind != Some(kind) {
            self.found.add(
                Some(seq),
                "reordered",
                format!(
                    "leaf {seq} holds the data of leaf {} ({}): rows were moved or renumbered",
                    own_seq.map_or("?".to_string(), |s| s.to_string()),
                    own_kind.unwrap_or("?")
                ),
            );
        } else if merkle::from_hex(stored) != Some(h) {
            self.found.add(
                Some(seq),
                "altered",
                format!("leaf {seq} ({kind}) does not hash to its recorded leaf hash: its data was changed"),
            );
        }
        self.frontier.push(h, |_, _, _| {});
        if let Some(m) = head {
            let sha = m.sha256.and_then(merkle::from_hex).unwrap_or_default();
            match kind {
                "entries" => {
                    self.entry_sums.push((seq, m.count.unwrap_or(-1), sha));
                    for r in m.ranges.unwrap_or_default() {
                        self.entry_refs.push((r, seq));
                    }
                }
                "act" => {}
                other => {
                    if let Some(i) = SOURCES.iter().position(|s| s.kind == other) {
                        self.refs[i].push((m.id.unwrap_or(-1), sha, seq));
                    }
                }
            }
        }
        // Every checkpoint of this size: the recomputed root must be the signed one.
        let size = self.frontier.size() as i64;
        while let Some(c) = self.checkpoints.get(self.next_cp)
            && c.size <= size
        {
            if c.size == size {
                if merkle::to_hex(&self.frontier.root()) == c.root {
                    self.last_good_size = c.size;
                } else {
                    let detail = format!(
                        "the first {} leaves do not give the root signed in checkpoint {} at {}: a leaf \
                         between {} and {} was altered, removed or reordered",
                        c.size,
                        c.id,
                        ts(&c.at),
                        self.last_good_size,
                        c.size - 1
                    );
                    self.found.add(None, "checkpoint", detail);
                }
            }
            self.next_cp += 1;
        }
    }

    /// Close the leaf pass into the report; the entry pass follows from what the leaves recorded.
    fn finish(mut self, report: &mut VerifyReport) -> (Refs, EntryPass) {
        let size = self.frontier.size();
        for c in &self.checkpoints[self.next_cp.min(self.checkpoints.len())..] {
            let detail = format!(
                "checkpoint {} signed a tree of {} leaves but the log has only {size}: leaves were removed",
                c.id, c.size
            );
            self.found.add(None, "missing", detail);
        }
        report.checkpoints = self.checkpoints.len() as i64;
        report.leaves = size as i64;
        report.root = merkle::to_hex(&self.frontier.root());
        report.verified_size = self.last_good_size;
        self.entry_refs.sort();
        let entries = EntryPass {
            sums: self
                .entry_sums
                .into_iter()
                .map(|(seq, count, sha)| (seq, (count, sha, Sha256::new(), 0)))
                .collect(),
            ranges: self.entry_refs.into_iter().peekable(),
            current: None,
            rows: 0,
            found: self.found,
        };
        (self.refs, entries)
    }
}

/// The entry pass: every entry in id order, hashed into the digest of the leaf whose range holds it.
struct EntryPass {
    sums: HashMap<i64, (i64, Hash, Sha256, i64)>,
    ranges: std::iter::Peekable<std::vec::IntoIter<([i64; 2], i64)>>,
    current: Option<([i64; 2], i64)>,
    rows: i64,
    found: Findings,
}

impl EntryPass {
    fn entry(&mut self, e: &Entry, payload: &str) {
        self.rows += 1;
        while self.current.is_none_or(|(rg, _)| rg[1] < e.id) {
            match self.ranges.next_if(|(rg, _)| rg[0] <= e.id) {
                Some(next) => self.current = Some(next),
                None => {
                    self.current = None;
                    break;
                }
            }
        }
        match self.current {
            Some((rg, lseq)) if rg[0] <= e.id && e.id <= rg[1] => {
                if let Some(s) = self.sums.get_mut(&lseq) {
                    s.2.update(entry_line(e, payload).as_bytes());
                    s.2.update(b"\n");
                    s.3 += 1;
                }
            }
            _ => self.found.add(
                None,
                "uncovered",
                format!(
                    "entry {} is in no leaf of the audit log: it was added outside the register",
                    e.id
                ),
            ),
        }
    }

    fn finish(mut self, report: &mut VerifyReport) -> Findings {
        let mut sums: Vec<_> = self.sums.into_iter().collect();
        sums.sort_by_key(|s| s.0);
        for (lseq, (count, sha, h, seen)) in sums {
            if seen != count {
                self.found.add(Some(lseq), "source", format!(
                    "leaf {lseq} recorded {count} entries but {seen} of them are in the table: entries were removed"
                ));
            } else if <[u8; 32]>::from(h.finalize()) != sha {
                self.found.add(
                    Some(lseq),
                    "source",
                    format!("an entry recorded in leaf {lseq} was changed after it was written"),
                );
            }
        }
        report.rows_checked += self.rows;
        self.found
    }
}

/// The rows of the [`SOURCES`], hashed: per source, (id, SHA-256 of the canonical line).
type Hashed = Vec<Vec<(i64, Hash)>>;

/// Every row covered by exactly one leaf, each hashing to what its leaf says.
fn match_sources(refs: Refs, hashed: Hashed, found: &mut Findings) {
    for ((src, mut want), rows) in SOURCES.iter().zip(refs).zip(hashed) {
        want.sort_unstable();
        let mut it = want.into_iter().peekable();
        let gone = |found: &mut Findings, lid: i64, lseq: i64| {
            found.add(
                Some(lseq),
                "source",
                format!(
                    "{} row {lid}, recorded in leaf {lseq}, is gone from the table",
                    src.table
                ),
            )
        };
        for (id, sha) in rows {
            while let Some((lid, _, lseq)) = it.next_if(|w| w.0 < id) {
                gone(found, lid, lseq);
            }
            match it.next_if(|w| w.0 == id) {
                Some((_, want_sha, lseq)) => {
                    if sha != want_sha {
                        found.add(
                            Some(lseq),
                            "source",
                            format!(
                                "{} row {id} was changed after it was recorded in leaf {lseq}",
                                src.table
                            ),
                        );
                    }
                }
                None => found.add(
                    None,
                    "uncovered",
                    format!(
                        "{} row {id} is in no leaf of the audit log: it was added outside the register",
                        src.table
                    ),
                ),
            }
        }
        for (lid, _, lseq) in it {
            gone(found, lid, lseq);
        }
    }
}

/// The columns of a source row, read the same way from either database.
trait Cols {
    fn int(&self, i: usize) -> Result<i64, StoreError>;
    fn text(&self, i: usize) -> Result<&str, StoreError>;
    fn opt_text(&self, i: usize) -> Result<Option<String>, StoreError>;
    /// An instant column as audit lines write it ([`ts`]).
    fn instant(&self, i: usize) -> Result<String, StoreError>;
    /// A date column as `YYYY-MM-DD`.
    fn date(&self, i: usize) -> Result<String, StoreError>;
}

impl Cols for sqlx::postgres::PgRow {
    fn int(&self, i: usize) -> Result<i64, StoreError> {
        Ok(self.try_get(i)?)
    }
    fn text(&self, i: usize) -> Result<&str, StoreError> {
        Ok(self.try_get(i)?)
    }
    fn opt_text(&self, i: usize) -> Result<Option<String>, StoreError> {
        Ok(self.try_get(i)?)
    }
    fn instant(&self, i: usize) -> Result<String, StoreError> {
        Ok(ts(&self.try_get::<DateTime<Utc>, _>(i)?))
    }
    fn date(&self, i: usize) -> Result<String, StoreError> {
        Ok(self.try_get::<chrono::NaiveDate, _>(i)?.to_string())
    }
}

impl Cols for rusqlite::Row<'_> {
    fn int(&self, i: usize) -> Result<i64, StoreError> {
        Ok(self.get(i)?)
    }
    fn text(&self, i: usize) -> Result<&str, StoreError> {
        self.get_ref(i)?
            .as_str()
            .map_err(|e| corrupt("audited row", format!("column {i}: {e}")))
    }
    fn opt_text(&self, i: usize) -> Result<Option<String>, StoreError> {
        Ok(self.get(i)?)
    }
    fn instant(&self, i: usize) -> Result<String, StoreError> {
        Ok(ts(&hot::instant(self.text(i)?)?))
    }
    fn date(&self, i: usize) -> Result<String, StoreError> {
        hot::opt_date(Some(self.text(i)?.to_string()))?
            .map(|d| d.to_string())
            .ok_or_else(|| corrupt("audited row", format!("column {i} is empty")))
    }
}

/// The canonical line of a row of one of the [`SOURCES`], from its columns as selected there.
fn source_line(kind: &str, r: &impl Cols) -> Result<String, StoreError> {
    let id = r.int(0)?.to_string();
    Ok(match kind {
        "usage" => usage_line(&UsageLineFields {
            id: &id,
            at: &r.instant(1)?,
            psn: r.text(2)?,
            body_id: r.text(3)?,
            user_uid: r.text(4)?,
            channel: r.text(5)?,
            action: r.text(6)?,
            elements: r.text(7)?,
            purpose: r.text(8)?,
            legal_basis: r.text(9)?,
            xroad: [
                r.opt_text(10)?,
                r.opt_text(11)?,
                r.opt_text(12)?,
                r.opt_text(13)?,
            ],
        }),
        "hiding" => hiding_line(
            &id,
            &r.int(1)?.to_string(),
            &r.date(2)?,
            r.text(3)?,
            r.text(4)?,
            r.text(5)?,
            &r.instant(6)?,
        ),
        "access" => access_line(
            &id,
            &r.instant(1)?,
            r.text(2)?,
            r.text(3)?,
            r.text(4)?,
            r.text(5)?,
        ),
        other => {
            return Err(corrupt(
                "audit source",
                format!("no canonical line for {other}"),
            ));
        }
    })
}

fn digest(line: &str) -> Hash {
    Sha256::digest(line.as_bytes()).into()
}

impl Store {
    /// Every stored checkpoint, smallest tree first.
    async fn checkpoints(&self) -> Result<Vec<Checkpoint>, StoreError> {
        let sql = format!("SELECT {CHECKPOINT_COLUMNS} FROM audit_checkpoints ORDER BY size, id");
        dispatch!(self, read, pool, ops => {
            let rows: Vec<CheckpointRow> =
                sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(pool).await?;
            Ok(rows.into_iter().map(checkpoint_of).collect())
        })
    }

    /// Check the whole audit trail against the signed checkpoints and the tables it references (`popreg
    /// audit verify`). Reads every leaf once, in order; memory grows with the number of referenced rows
    /// (about 50 bytes each).
    pub async fn audit_verify(&self, public_key: &[u8]) -> Result<VerifyReport, StoreError> {
        let mut found = Findings::default();
        let checkpoints = good_checkpoints(self.checkpoints().await?, public_key, &mut found);
        let mut report = VerifyReport::default();
        let leaves = LeafPass::new(checkpoints, found);
        let (found, sources_found) = match &self.inner {
            Inner::Sqlite { hot, .. } => {
                let (a, b) = (hot.clone(), hot.clone());
                let sources = tokio::task::spawn_blocking(move || sqlite_sources(&b.open()?));
                let main = tokio::task::spawn_blocking(move || {
                    let mut report = VerifyReport::default();
                    let outcome = sqlite_leaves_and_entries(&a.open()?, leaves, &mut report)?;
                    Ok::<_, StoreError>((outcome, report))
                });
                let ((refs, found), r) = join(main).await?;
                report = r;
                let (hashed, n) = join(sources).await?;
                report.rows_checked += n;
                let mut sources_found = Findings::default();
                match_sources(refs, hashed, &mut sources_found);
                (found, sources_found)
            }
            Inner::Postgres(pool) => {
                let sources = {
                    let pool = pool.clone();
                    tokio::spawn(async move { pg_sources(&pool).await })
                };
                let (refs, found) = pg_leaves_and_entries(pool, leaves, &mut report).await?;
                let (hashed, n) = sources
                    .await
                    .map_err(|e| StoreError::Database(format!("verify task failed: {e}")))??;
                report.rows_checked += n;
                let mut sources_found = Findings::default();
                match_sources(refs, hashed, &mut sources_found);
                (found, sources_found)
            }
        };
        report.findings = found.0;
        report.findings.extend(sources_found.0);
        report.findings.sort_by_key(|f| f.seq.unwrap_or(i64::MAX));
        report.findings.truncate(MAX_FINDINGS);
        Ok(report)
    }
}

async fn join<T>(task: tokio::task::JoinHandle<Result<T, StoreError>>) -> Result<T, StoreError> {
    task.await
        .map_err(|e| StoreError::Database(format!("verify task failed: {e}")))?
}

type LeafOutcome = (Refs, Findings);

fn sqlite_leaves_and_entries(
    c: &rusqlite::Connection,
    mut pass: LeafPass,
    report: &mut VerifyReport,
) -> Result<LeafOutcome, StoreError> {
    {
        let mut st = c.prepare(LEAVES)?;
        let mut rows = st.query([])?;
        while let Some(r) = rows.next()? {
            pass.leaf(r.int(0)?, r.text(1)?, r.text(2)?, r.text(3)?);
        }
    }
    let (refs, mut entries) = pass.finish(report);
    let mut st = c.prepare(ENTRIES)?;
    let mut rows = st.query([])?;
    while let Some(r) = rows.next()? {
        let e = hot::entry(r)?;
        entries.entry(&e, r.text(3)?);
    }
    Ok((refs, entries.finish(report)))
}

fn sqlite_sources(c: &rusqlite::Connection) -> Result<(Hashed, i64), StoreError> {
    let mut out = vec![];
    let mut n = 0;
    for src in SOURCES {
        let mut v = vec![];
        let mut st = c.prepare(src.select)?;
        let mut rows = st.query([])?;
        while let Some(r) = rows.next()? {
            n += 1;
            v.push((r.int(0)?, digest(&source_line(src.kind, r)?)));
        }
        out.push(v);
    }
    Ok((out, n))
}

async fn pg_leaves_and_entries(
    pool: &sqlx::PgPool,
    mut pass: LeafPass,
    report: &mut VerifyReport,
) -> Result<LeafOutcome, StoreError> {
    use futures_util::TryStreamExt;
    let mut conn = pool.acquire().await?;
    {
        let mut rows = sqlx::query(LEAVES).fetch(&mut *conn);
        while let Some(r) = rows.try_next().await? {
            pass.leaf(r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?);
        }
    }
    let (refs, mut entries) = pass.finish(report);
    let mut rows = sqlx::query(ENTRIES).fetch(&mut *conn);
    while let Some(r) = rows.try_next().await? {
        let e = pg_ops::entry_from_row(&r)?;
        entries.entry(&e, r.try_get("payload")?);
    }
    drop(rows);
    Ok((refs, entries.finish(report)))
}

async fn pg_sources(pool: &sqlx::PgPool) -> Result<(Hashed, i64), StoreError> {
    use futures_util::TryStreamExt;
    let mut conn = pool.acquire().await?;
    let mut out = vec![];
    let mut n = 0;
    for src in SOURCES {
        let mut v = vec![];
        let mut rows = sqlx::query(src.select).fetch(&mut *conn);
        while let Some(r) = rows.try_next().await? {
            n += 1;
            v.push((r.int(0)?, digest(&source_line(src.kind, &r)?)));
        }
        out.push(v);
    }
    Ok((out, n))
}
