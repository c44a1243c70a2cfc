//! The tamper-evident audit trail (A1.8 integrity, A2.9): every write to the register, every
//! administrative act and every usage record becomes a leaf of one append-only RFC 6962 Merkle tree, in the
//! same transaction as the change it records.
//!
//! A leaf's `data` is a small JSON object that starts with its own `seq` (leaf index), `at` and `kind`, so a
//! row moved to another position no longer hashes to the leaf that was there. Changes kept in their own
//! tables (entries, usage records, hidings, access events) are referenced by id with the SHA-256 of their
//! canonical line ([`line`]); `audit verify` recomputes those lines from the tables, so a row altered,
//! deleted or added there is found too. Acts without a table of their own carry their whole detail.
//!
//! Signed checkpoints (tree size, root, time; C2SP `tlog-checkpoint` text signed with Ed25519) pin the
//! tree: a log rewritten consistently after a checkpoint still disagrees with its signed root.

use std::collections::HashMap;
use std::path::Path;

use chrono::{DateTime, Utc};
use popreg_domain::Entry;
use popreg_domain::merkle::{self, Frontier, Hash};
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use serde::Serialize;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::{Dialect, Inner, Store, StoreError, corrupt, pg_ops, sqlite_ops};

/// The origin line of this register's checkpoints.
pub const AUDIT_ORIGIN: &str = "popreg.am/audit-log";

/// Rows per multi-row INSERT of leaves or nodes.
const CHUNK: usize = 1000;

/// An RFC 3339 instant with microseconds, as every audit line writes times.
pub(crate) fn ts(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// The canonical line of a row: fields joined by tabs, `\N` for NULL, and backslash, tab, newline and CR
/// escaped (PostgreSQL's COPY text format). The SHA-256 of this line is what a leaf records.
pub(crate) fn line(fields: &[Option<&str>]) -> String {
    let mut out = String::new();
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push('\t');
        }
        match f {
            None => out.push_str("\\N"),
            Some(s)
                if !s
                    .bytes()
                    .any(|b| matches!(b, b'\\' | b'\t' | b'\n' | b'\r')) =>
            {
                out.push_str(s)
            }
            Some(s) => {
                for c in s.chars() {
                    match c {
                        '\\' => out.push_str("\\\\"),
                        '\t' => out.push_str("\\t"),
                        '\n' => out.push_str("\\n"),
                        '\r' => out.push_str("\\r"),
                        c => out.push(c),
                    }
                }
            }
        }
    }
    out
}

pub(crate) fn sha256_hex(s: &str) -> String {
    merkle::to_hex(&Sha256::digest(s.as_bytes()))
}

/// The canonical line of an entry, from its stored columns (`payload` is the stored JSON text).
pub(crate) fn entry_line(e: &Entry, payload: &str) -> String {
    let id = e.id.to_string();
    let subject = e.subject.to_string();
    let at = ts(&e.recorded_at);
    let vf = e.valid_from.map(|d| d.to_string());
    let vt = e.valid_to.map(|d| d.to_string());
    let sup = e.supersedes.map(|i| i.to_string());
    line(&[
        Some(&id),
        Some(&subject),
        Some(&e.kind),
        Some(payload),
        Some(&e.provider),
        Some(&e.user_uid),
        Some(e.channel.as_str()),
        e.external.xroad_client.as_deref(),
        e.external.xroad_id.as_deref(),
        e.external.xroad_user_id.as_deref(),
        e.external.xroad_issue.as_deref(),
        e.external.idempotency_key.as_deref(),
        Some(&at),
        vf.as_deref(),
        vt.as_deref(),
        sup.as_deref(),
    ])
}

/// Consecutive ids as `[first, last]` pairs.
fn ranges(ids: impl Iterator<Item = i64>) -> Vec<[i64; 2]> {
    let mut out: Vec<[i64; 2]> = vec![];
    for id in ids {
        match out.last_mut() {
            Some(r) if r[1] + 1 == id => r[1] = id,
            _ => out.push([id, id]),
        }
    }
    out
}

/// One leaf to append: its kind and the fields after `seq`, `at` and `kind`.
#[derive(Clone, Debug)]
pub(crate) struct Leaf {
    kind: &'static str,
    body: Map<String, Value>,
}

impl Leaf {
    /// A row of another table, by id and the SHA-256 of its canonical line.
    pub(crate) fn row(kind: &'static str, id: i64, line: &str) -> Leaf {
        let mut body = Map::new();
        body.insert("id".into(), json!(id));
        body.insert("sha256".into(), json!(sha256_hex(line)));
        Leaf { kind, body }
    }

    /// The entries written by one transaction: their id ranges and the SHA-256 of their lines, in id
    /// order, each followed by a newline.
    pub(crate) fn entries(entries: &[Entry], payloads: &[String]) -> Leaf {
        let mut order: Vec<usize> = (0..entries.len()).collect();
        order.sort_by_key(|&i| entries[i].id);
        let mut h = Sha256::new();
        for &i in &order {
            h.update(entry_line(&entries[i], &payloads[i]).as_bytes());
            h.update(b"\n");
        }
        let mut body = Map::new();
        body.insert(
            "ranges".into(),
            json!(ranges(order.iter().map(|&i| entries[i].id))),
        );
        body.insert("count".into(), json!(entries.len()));
        body.insert("sha256".into(), json!(merkle::to_hex(&h.finalize())));
        Leaf {
            kind: "entries",
            body,
        }
    }

    /// An administrative act that has no table of its own: the whole act is in the leaf.
    pub(crate) fn act(action: &str, actor: &str, target: &str, detail: Value) -> Leaf {
        let mut body = Map::new();
        body.insert("action".into(), json!(action));
        body.insert("actor".into(), json!(actor));
        body.insert("target".into(), json!(target));
        body.insert("detail".into(), detail);
        Leaf { kind: "act", body }
    }

    fn render(&self, seq: u64, at: &str) -> String {
        let mut m = Map::new();
        m.insert("seq".into(), json!(seq));
        m.insert("at".into(), json!(at));
        m.insert("kind".into(), json!(self.kind));
        for (k, v) in &self.body {
            m.insert(k.clone(), v.clone());
        }
        Value::Object(m).to_string()
    }
}

/// A new leaf row: seq, kind, the hashed data, the leaf hash in hex.
pub(crate) type LeafRow = (i64, &'static str, String, String);
/// A completed subtree: level, index, hash in hex.
pub(crate) type NodeRow = (i32, i64, String);

/// Extend the tree whose head is `head` (the stored frontier text) by `leaves` recorded at `at`: the new
/// frontier, the leaf rows and the completed subtree nodes to write. Pure; both dialects and the SQLite
/// usage writer store its output.
pub(crate) fn extend(
    head: &str,
    at: &str,
    leaves: &[Leaf],
) -> Result<(Frontier, Vec<LeafRow>, Vec<NodeRow>), StoreError> {
    let mut frontier =
        Frontier::from_text(head).ok_or_else(|| corrupt("audit head", "not a tree frontier"))?;
    let mut rows = Vec::with_capacity(leaves.len());
    let mut nodes = vec![];
    for leaf in leaves {
        let seq = frontier.size();
        let data = leaf.render(seq, at);
        let h = merkle::leaf_hash(data.as_bytes());
        frontier.push(h, |level, idx, hash| {
            nodes.push((i32::from(level), idx as i64, merkle::to_hex(hash)));
        });
        rows.push((seq as i64, leaf.kind, data, merkle::to_hex(&h)));
    }
    Ok((frontier, rows, nodes))
}

/// Append leaves inside the caller's transaction, after everything they describe was written. On
/// PostgreSQL this locks the head row until commit, so leaf numbers follow commit order. Returns the
/// leaves' sequence numbers.
macro_rules! audit_dialect {
    ($module:ident, $db:ty, $dialect:expr) => {
        pub(crate) mod $module {
            use super::*;

            pub(crate) async fn append(
                conn: &mut <$db as sqlx::Database>::Connection,
                at: DateTime<Utc>,
                leaves: &[Leaf],
            ) -> Result<Vec<i64>, StoreError> {
                if leaves.is_empty() {
                    return Ok(vec![]);
                }
                let sql = if $dialect == Dialect::Postgres {
                    "SELECT frontier FROM audit_head WHERE id = 1 FOR UPDATE"
                } else {
                    "SELECT frontier FROM audit_head WHERE id = 1"
                };
                let text: String = sqlx::query(sql).fetch_one(&mut *conn).await?.try_get(0)?;
                let (frontier, rows, nodes) = extend(&text, &ts(&at), leaves)?;
                for chunk in rows.chunks(CHUNK) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new(
                        "INSERT INTO audit_log (seq, at, kind, data, leaf_hash) ",
                    );
                    qb.push_values(chunk, |mut b, (seq, kind, data, h)| {
                        b.push_bind(*seq)
                            .push_bind(at)
                            .push_bind(*kind)
                            .push_bind(data.clone())
                            .push_bind(h.clone());
                    });
                    qb.build().execute(&mut *conn).await?;
                }
                for chunk in nodes.chunks(CHUNK) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new(
                        "INSERT INTO audit_nodes (level, idx, hash) ",
                    );
                    qb.push_values(chunk, |mut b, (level, idx, h)| {
                        b.push_bind(*level).push_bind(*idx).push_bind(h.clone());
                    });
                    qb.build().execute(&mut *conn).await?;
                }
                sqlx::query("UPDATE audit_head SET frontier = $1 WHERE id = 1")
                    .bind(frontier.to_text())
                    .execute(&mut *conn)
                    .await?;
                Ok(rows.iter().map(|r| r.0).collect())
            }
        }
    };
}

audit_dialect!(sqlite_audit, sqlx::Sqlite, Dialect::Sqlite);
audit_dialect!(pg_audit, sqlx::Postgres, Dialect::Postgres);

/// The Ed25519 key that signs checkpoints. The private key never leaves this value; nothing logs it.
pub struct AuditSigner {
    pair: Ed25519KeyPair,
    key_id: String,
}

impl std::fmt::Debug for AuditSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AuditSigner({})", self.key_id)
    }
}

/// The short id of a public key: the first 8 bytes of its SHA-256, hex.
pub fn key_id(public: &[u8]) -> String {
    merkle::to_hex(&Sha256::digest(public)[..8])
}

impl AuditSigner {
    /// A key from its PKCS#8 document.
    pub fn from_pkcs8(der: &[u8]) -> Result<AuditSigner, StoreError> {
        let pair = Ed25519KeyPair::from_pkcs8(der)
            .map_err(|_| corrupt("audit signing key", "not an Ed25519 PKCS#8 key"))?;
        let key_id = key_id(pair.public_key().as_ref());
        Ok(AuditSigner { pair, key_id })
    }

    /// Read the key at `path`, or create one there (mode 0600) when the file does not exist.
    pub fn load_or_create(path: &Path) -> Result<AuditSigner, StoreError> {
        match std::fs::read(path) {
            Ok(der) => AuditSigner::from_pkcs8(&der),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let rng = ring::rand::SystemRandom::new();
                let doc = Ed25519KeyPair::generate_pkcs8(&rng)
                    .map_err(|_| StoreError::Database("cannot generate an audit key".into()))?;
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir)
                        .map_err(|e| StoreError::Unavailable(format!("{}: {e}", dir.display())))?;
                }
                match write_private(path, doc.as_ref()) {
                    Ok(()) => AuditSigner::from_pkcs8(doc.as_ref()),
                    // Another process created it meanwhile: use theirs.
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                        let der = std::fs::read(path).map_err(|e| {
                            StoreError::Unavailable(format!("{}: {e}", path.display()))
                        })?;
                        AuditSigner::from_pkcs8(&der)
                    }
                    Err(e) => Err(StoreError::Unavailable(format!("{}: {e}", path.display()))),
                }
            }
            Err(e) => Err(StoreError::Unavailable(format!("{}: {e}", path.display()))),
        }
    }

    pub fn public_key(&self) -> &[u8] {
        self.pair.public_key().as_ref()
    }

    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    fn sign(&self, note: &str) -> Vec<u8> {
        self.pair.sign(note.as_bytes()).as_ref().to_vec()
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    let mut f = o.open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// Does `signature` sign `note` under the Ed25519 public key `public`?
pub fn signature_valid(public: &[u8], note: &str, signature: &[u8]) -> bool {
    UnparsedPublicKey::new(&ED25519, public)
        .verify(note.as_bytes(), signature)
        .is_ok()
}

/// A signed tree head.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Checkpoint {
    pub id: i64,
    pub size: i64,
    /// The root, lower-case hex.
    pub root: String,
    pub at: DateTime<Utc>,
    pub key_id: String,
    /// The signed text (origin, size, base64 root, `time …`).
    pub note: String,
    /// The Ed25519 signature of `note`, standard base64.
    pub signature: String,
}

pub(crate) type CheckpointRow = (i64, i64, String, DateTime<Utc>, String, String, String);
pub(crate) const CHECKPOINT_COLUMNS: &str = "id, size, root, at, key_id, note, signature";

pub(crate) fn checkpoint_of(r: CheckpointRow) -> Checkpoint {
    Checkpoint {
        id: r.0,
        size: r.1,
        root: r.2,
        at: r.3,
        key_id: r.4,
        note: r.5,
        signature: r.6,
    }
}

/// What a citizen (or anyone holding a record) needs to check that a leaf is in the signed tree.
#[derive(Clone, Debug, Serialize)]
pub struct InclusionProof {
    pub leaf_index: i64,
    /// The leaf's data, exactly the bytes hashed (`H(0x00 ‖ leaf)`).
    pub leaf: String,
    pub leaf_hash: String,
    pub tree_size: i64,
    /// Sibling hashes from the leaf up, hex (RFC 6962 §2.1.1 audit path).
    pub proof: Vec<String>,
    pub checkpoint: Checkpoint,
}

/// One finding of `audit verify`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The leaf (audit log position) concerned, when there is one.
    pub seq: Option<i64>,
    /// `missing`, `altered`, `reordered`, `checkpoint`, `signature`, `source`, `uncovered`.
    pub problem: String,
    pub detail: String,
}

/// The result of checking the whole audit trail.
#[derive(Clone, Debug, Default, Serialize)]
pub struct VerifyReport {
    pub leaves: i64,
    pub checkpoints: i64,
    /// The size of the newest checkpoint checked.
    pub verified_size: i64,
    /// The root recomputed over every leaf, hex.
    pub root: String,
    pub rows_checked: i64,
    /// Every problem found, the earliest first; empty when the trail is intact.
    pub findings: Vec<Finding>,
}

impl VerifyReport {
    pub fn ok(&self) -> bool {
        self.findings.is_empty()
    }
}

impl Store {
    /// Use this key to sign checkpoints (set once, at start).
    pub fn set_audit_signer(&self, signer: AuditSigner) {
        let _ = self.audit_signer.set(std::sync::Arc::new(signer));
    }

    pub fn audit_public_key(&self) -> Option<(String, Vec<u8>)> {
        self.audit_signer
            .get()
            .map(|s| (s.key_id.clone(), s.public_key().to_vec()))
    }

    /// Sign and record a checkpoint of the tree as it is now, unless the newest checkpoint already has
    /// this size (then that one is returned).
    pub async fn audit_checkpoint(&self) -> Result<Checkpoint, StoreError> {
        let signer =
            self.audit_signer.get().cloned().ok_or_else(|| {
                StoreError::Unavailable("no audit signing key is configured".into())
            })?;
        let now = self.clock.now();
        dispatch!(self, write, pool, ops => {
            let mut tx = ops::begin(pool).await?;
            let text: String = sqlx::query("SELECT frontier FROM audit_head WHERE id = 1")
                .fetch_one(&mut *tx).await?.try_get(0)?;
            let frontier = Frontier::from_text(&text)
                .ok_or_else(|| corrupt("audit head", "not a tree frontier"))?;
            let size = frontier.size() as i64;
            let sql = format!("SELECT {CHECKPOINT_COLUMNS} FROM audit_checkpoints ORDER BY id DESC LIMIT 1");
            let last: Option<CheckpointRow> =
                sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_optional(&mut *tx).await?;
            if let Some(last) = last && last.1 == size {
                return Ok(checkpoint_of(last));
            }
            let root = frontier.root();
            let at = ts(&now);
            let note = merkle::checkpoint_text(AUDIT_ORIGIN, size as u64, &root, &at);
            let signature = merkle::base64(&signer.sign(&note));
            let id: i64 = sqlx::query(
                "INSERT INTO audit_checkpoints (size, root, at, key_id, note, signature) \
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .bind(size)
            .bind(merkle::to_hex(&root))
            .bind(now)
            .bind(signer.key_id())
            .bind(&note)
            .bind(&signature)
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
            tx.commit().await?;
            Ok(Checkpoint {
                id,
                size,
                root: merkle::to_hex(&root),
                at: now,
                key_id: signer.key_id().to_string(),
                note,
                signature,
            })
        })
    }

    /// The newest checkpoint, if any.
    pub async fn latest_checkpoint(&self) -> Result<Option<Checkpoint>, StoreError> {
        let sql =
            format!("SELECT {CHECKPOINT_COLUMNS} FROM audit_checkpoints ORDER BY id DESC LIMIT 1");
        dispatch!(self, read, pool, ops => {
            let row: Option<CheckpointRow> =
                sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_optional(pool).await?;
            Ok(row.map(checkpoint_of))
        })
    }

    /// The number of leaves in the audit log (the head's size).
    pub async fn audit_size(&self) -> Result<i64, StoreError> {
        dispatch!(self, read, pool, ops => {
            let text: String = sqlx::query("SELECT frontier FROM audit_head WHERE id = 1")
                .fetch_one(pool).await?.try_get(0)?;
            let f = Frontier::from_text(&text).ok_or_else(|| corrupt("audit head", "not a tree frontier"))?;
            Ok(f.size() as i64)
        })
    }

    /// The proof that leaf `seq` is in the tree of a signed checkpoint: the newest one, after signing a
    /// new one when the newest does not yet cover the leaf. `Ok(None)` when there is no such leaf.
    pub async fn inclusion_proof(&self, seq: i64) -> Result<Option<InclusionProof>, StoreError> {
        let mut cp = self.latest_checkpoint().await?;
        if cp.as_ref().is_none_or(|c| c.size <= seq) {
            cp = Some(self.audit_checkpoint().await?);
        }
        let Some(checkpoint) = cp else {
            return Ok(None);
        };
        if seq < 0 || seq >= checkpoint.size {
            return Ok(None);
        }
        dispatch!(self, read, pool, ops => {
            let mut conn = pool.acquire().await?;
            let leaf: Option<(String, String)> =
                sqlx::query_as("SELECT data, leaf_hash FROM audit_log WHERE seq = $1")
                    .bind(seq).fetch_optional(&mut *conn).await?;
            let Some((leaf, leaf_hash)) = leaf else { return Ok(None) };
            // The subtree hashes the path needs, fetched one by one (O(log² n) look-ups).
            let mut wanted: Vec<(u8, u64)> = vec![];
            let _ = merkle::inclusion_proof::<()>(seq as u64, checkpoint.size as u64, &mut |l, i| {
                wanted.push((l, i));
                Ok([0; 32])
            });
            let mut known: HashMap<(u8, u64), Hash> = HashMap::new();
            for (l, i) in wanted {
                let hex: Option<String> = if l == 0 {
                    sqlx::query("SELECT leaf_hash FROM audit_log WHERE seq = $1")
                        .bind(i as i64).fetch_optional(&mut *conn).await?
                        .map(|r| r.try_get(0)).transpose()?
                } else {
                    sqlx::query("SELECT hash FROM audit_nodes WHERE level = $1 AND idx = $2")
                        .bind(i32::from(l)).bind(i as i64).fetch_optional(&mut *conn).await?
                        .map(|r| r.try_get(0)).transpose()?
                };
                let h = hex.as_deref().and_then(merkle::from_hex)
                    .ok_or_else(|| corrupt("audit tree", format!("no subtree {l}/{i}")))?;
                known.insert((l, i), h);
            }
            let path = merkle::inclusion_proof(seq as u64, checkpoint.size as u64, &mut |l, i| {
                known.get(&(l, i)).copied().ok_or(())
            })
            .map_err(|_| corrupt("audit tree", "incomplete"))?
            .unwrap_or_default();
            Ok(Some(InclusionProof {
                leaf_index: seq,
                leaf,
                leaf_hash,
                tree_size: checkpoint.size,
                proof: path.iter().map(|h| merkle::to_hex(h)).collect(),
                checkpoint,
            }))
        })
    }
}

/// The fields of a usage record's canonical line.
pub(crate) struct UsageLineFields<'a> {
    pub id: &'a str,
    pub at: &'a str,
    pub psn: &'a str,
    pub body_id: &'a str,
    pub user_uid: &'a str,
    pub channel: &'a str,
    pub action: &'a str,
    pub elements: &'a str,
    pub purpose: &'a str,
    pub legal_basis: &'a str,
    pub xroad: [Option<String>; 4],
}

/// The official's identifiers (`user_uid`, X-Road user id) enter the line as their SHA-256: the leaf still
/// binds them, and the person's proof shows the body but not the official (as the usage page does).
pub(crate) fn usage_line(f: &UsageLineFields) -> String {
    let user = sha256_hex(f.user_uid);
    let xroad_user = f.xroad[2].as_deref().map(sha256_hex);
    line(&[
        Some(f.id),
        Some(f.at),
        Some(f.psn),
        Some(f.body_id),
        Some(&user),
        Some(f.channel),
        Some(f.action),
        Some(f.elements),
        Some(f.purpose),
        Some(f.legal_basis),
        f.xroad[0].as_deref(),
        f.xroad[1].as_deref(),
        xroad_user.as_deref(),
        f.xroad[3].as_deref(),
    ])
}

pub(crate) fn hiding_line(
    id: &str,
    usage_id: &str,
    until: &str,
    reason: &str,
    body_id: &str,
    user_uid: &str,
    at: &str,
) -> String {
    line(&[
        Some(id),
        Some(usage_id),
        Some(until),
        Some(reason),
        Some(body_id),
        Some(user_uid),
        Some(at),
    ])
}

pub(crate) fn access_line(
    id: &str,
    at: &str,
    actor: &str,
    action: &str,
    target: &str,
    detail: &str,
) -> String {
    line(&[
        Some(id),
        Some(at),
        Some(actor),
        Some(action),
        Some(target),
        Some(detail),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_escape_separators_and_mark_null() {
        assert_eq!(
            line(&[Some("a\tb"), None, Some("c\\d\ne")]),
            "a\\tb\t\\N\tc\\\\d\\ne"
        );
    }

    #[test]
    fn ranges_group_consecutive_ids() {
        assert_eq!(
            ranges([1, 2, 3, 7, 8, 10].into_iter()),
            vec![[1, 3], [7, 8], [10, 10]]
        );
    }

    #[test]
    fn a2_9_checkpoint_signatures_verify_and_fail_when_altered() {
        let rng = ring::rand::SystemRandom::new();
        let doc = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
        let s = AuditSigner::from_pkcs8(doc.as_ref()).unwrap();
        let note =
            merkle::checkpoint_text(AUDIT_ORIGIN, 3, &[7; 32], "2026-11-23T00:00:00.000000Z");
        let sig = s.sign(&note);
        assert!(signature_valid(s.public_key(), &note, &sig));
        assert!(!signature_valid(
            s.public_key(),
            &note.replace("\n3\n", "\n4\n"),
            &sig
        ));
    }
}
