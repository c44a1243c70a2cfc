//! The citizen's "who used my data" view (G.3.4) over real TLS with an ID-card client certificate (curl), on
//! SQLite and PostgreSQL: reads of persons through the API write usage records; the card holder sees those
//! about them and no one else's, in hy/en/ru, filtered by body and by Yerevan days, exported as CSV and as
//! PDF/A (read back by independent tools: `pdftotext`, `pdfinfo` and `qpdf --check`); a record hidden from
//! them is nowhere until its day; and the proof of a record is checked by an independent implementation in
//! Python (SHA-256, the RFC 9162 inclusion path, Ed25519 over the checkpoint).

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use chrono::{NaiveDate, TimeZone, Utc};
use popreg_domain::access::{BodyType, Caller, Function};
use popreg_domain::*;
use popreg_store::{NewBody, View};
use serde_json::Value;

use crate::api::{KEY, KEY_BODY, ensure_test_key};
use crate::common::*;
use crate::identity::{Pki, curl_in};

crate::conformance!(
    g_3_4_a_citizen_sees_the_reads_of_their_own_data_in_their_language,
    g_3_4_a_hidden_record_is_not_shown_counted_or_exported_until_its_day,
    g_3_4_filters_by_body_and_by_yerevan_days_and_bad_dates_are_coded,
    g_3_4_csv_export_has_bom_header_and_one_row_per_visible_record,
    a2_9_the_proof_of_a_usage_record_verifies_independently_and_fails_when_altered,
    g_3_4_another_persons_record_is_the_same_404_as_no_record,
    g_2_without_a_valid_id_card_the_usage_view_is_401,
    g_3_4_pdf_export_is_pdf_a_with_only_the_visible_records_in_armenian,
    g_3_4_pdf_export_in_english_and_russian_with_the_filter_in_effect,
    g_3_4_a_long_pdf_export_has_every_record_and_page_n_of_m_on_every_page,
    g_3_4_the_page_shows_a_hundred_records_at_a_time_and_counts_them_all,
);

const TAX_KEY: &str = "tax-key-0123456789abcdef";
const TAX_BODY: &str = "TAX-01";
const TAX_MEMBER: &str = "AM/GOV/1234567/tax";

/// A server over HTTPS with ID-card login, the card holder and another person registered, and two bodies
/// that may read persons: the test operator (`person.*`) and a tax body (`person.names`, over X-Road).
struct Site {
    pki: Pki,
    db: TestDb,
    running: popreg::app::Running,
    url: String,
    me: Psn,
    other: Psn,
}

/// An HTTP answer as curl saw it.
struct Answer {
    status: String,
    headers: String,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    /// The number of records the page says it shows.
    fn count(&self) -> usize {
        self.body
            .split("<span id=\"n\">")
            .nth(1)
            .and_then(|s| s.split('<').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no count on the page: {}", self.body))
    }

    fn shows(&self, usage_id: i64) -> bool {
        self.body
            .contains(&format!("href=\"/my/usage/{usage_id}/proof\""))
    }
}

impl Site {
    async fn new(db: TestDb) -> Site {
        let pki = Pki::new();
        ensure_test_key(&db).await;
        db.store
            .create_body(
                "test",
                &NewBody {
                    id: TAX_BODY.into(),
                    body_type: BodyType::Other,
                    name_hy: "Պետական եկամուտների կոմիտե".into(),
                    name_en: "State Revenue Committee".into(),
                    name_ru: "Комитет государственных доходов".into(),
                    xroad_member: Some(TAX_MEMBER.into()),
                    contact_email: None,
                },
            )
            .await
            .unwrap();
        db.store
            .register_api_key_hash(
                "test",
                TAX_BODY,
                "uid-tax-1",
                &[Function::ReadPersons],
                "test",
                &popreg_web::hash_api_key(TAX_KEY),
            )
            .await
            .unwrap();
        db.store
            .add_grant(
                "test",
                TAX_BODY,
                &["person.names".to_string()],
                "tax assessment, income declarations",
                "Tax Code, article 5",
                None,
            )
            .await
            .unwrap();
        let (me, other) = (pki.holder, psn(9001));
        db.store
            .append(
                &prov("MIGR-01"),
                vec![
                    NewEntry::new(me, registration("Աննա", "Պետրոսյան", d(1990, 5, 1), Sex::F)),
                    NewEntry::new(
                        other,
                        registration("Արամ", "Սարգսյան", d(1988, 2, 3), Sex::M),
                    ),
                ],
            )
            .await
            .unwrap();
        let running = popreg::app::start(&pki.config(), db.store.clone())
            .await
            .unwrap();
        // curl checks the server name: use the name in the server certificate.
        let url = running
            .url()
            .replace("https://127.0.0.1", "https://localhost");
        Site {
            pki,
            db,
            running,
            url,
            me,
            other,
        }
    }

    /// `GET path` with curl, presenting the card file `card` (`card`, `revoked`, …) or none.
    async fn get(&self, path: &str, card: Option<&'static str>, extra: &[String]) -> Answer {
        let dir = self.pki.dir.path().to_path_buf();
        let mut args = vec![
            "-D".to_string(),
            dir.join("headers.txt").display().to_string(),
        ];
        args.extend(extra.iter().cloned());
        args.push(format!("{}{path}", self.url));
        tokio::task::spawn_blocking(move || {
            let a: Vec<&str> = args.iter().map(String::as_str).collect();
            let (status, body) = curl_in(&dir, card, &a);
            let headers = std::fs::read_to_string(dir.join("headers.txt")).unwrap();
            Answer {
                status,
                headers,
                body,
            }
        })
        .await
        .unwrap()
    }

    /// The card holder's view of `path`.
    async fn mine(&self, path: &str) -> Answer {
        self.get(path, Some("card"), &[]).await
    }

    /// Read a person through the API with `key` (and extra headers): the id of its usage record.
    async fn read(&self, key: &str, who: Psn, headers: &[&str]) -> i64 {
        let mut extra = vec!["-H".to_string(), format!("X-API-Key: {key}")];
        for h in headers {
            extra.push("-H".into());
            extra.push(h.to_string());
        }
        let a = self
            .get(&format!("/api/v1/persons/{who}"), None, &extra)
            .await;
        assert_eq!(a.status, "200", "{}", a.body);
        a.header("x-usage-id").unwrap().parse().unwrap()
    }

    /// A read by the tax body over X-Road, for case `issue`.
    async fn tax_read(&self, who: Psn, issue: &str) -> i64 {
        self.read(
            TAX_KEY,
            who,
            &[
                &format!("X-Road-Client: {TAX_MEMBER}"),
                "X-Road-Id: msg-1",
                "X-Road-UserId: AM-TAX-OFFICER-7",
                &format!("X-Road-Issue: {issue}"),
            ],
        )
        .await
    }

    /// Hide a usage record from the person until `until` (a lawful covert read), as a supervisor would.
    async fn hide(&self, usage_id: i64, until: NaiveDate) {
        let supervisor = Caller {
            body_id: KEY_BODY.into(),
            body_type: BodyType::Operator,
            user_uid: "uid-supervisor".into(),
            functions: vec![Function::HideUsage],
            channel: Channel::Api,
            external: ExternalIds::default(),
        };
        self.db
            .store
            .hide_usage(
                &supervisor,
                usage_id,
                until,
                "criminal investigation 17/2026, court decision",
            )
            .await
            .unwrap();
    }

    /// `mine` reads of the card holder and `others` of the other person through the gate itself (no HTTP),
    /// all at once (the usage writer commits them in batches): the ids of the card holder's records.
    async fn bulk_reads(&self, mine: usize, others: usize) -> BTreeSet<i64> {
        let ops = Caller {
            body_id: KEY_BODY.into(),
            body_type: BodyType::Operator,
            user_uid: "uid-bulk".into(),
            functions: vec![Function::ReadPersons],
            channel: Channel::Api,
            external: ExternalIds::default(),
        };
        let mut reads = tokio::task::JoinSet::new();
        for i in 0..mine + others {
            let (store, ops) = (self.db.store.clone(), ops.clone());
            let who = if i < mine { self.me } else { self.other };
            reads.spawn(async move {
                let view = if i % 3 == 0 {
                    View::History
                } else {
                    View::Current
                };
                let id = store
                    .read_person(&ops, who, view)
                    .await
                    .unwrap()
                    .unwrap()
                    .usage_id;
                (who, id)
            });
        }
        let mut ids = BTreeSet::new();
        while let Some(read) = reads.join_next().await {
            let (who, id) = read.unwrap();
            if who == self.me {
                ids.insert(id);
            }
        }
        ids
    }

    async fn done(self) {
        self.running.shutdown().await.unwrap();
    }
}

async fn g_3_4_a_citizen_sees_the_reads_of_their_own_data_in_their_language(db: TestDb) {
    let site = Site::new(db).await;
    let mine_api = site.read(KEY, site.me, &[]).await;
    let others_api = site.read(KEY, site.other, &[]).await;
    site.db.clock.advance(chrono::Duration::minutes(30));
    let mine_tax = site.tax_read(site.me, "CASE-2026-0117").await;
    let others_tax = site.tax_read(site.other, "CASE-2026-0999").await;

    // Armenian by default.
    let a = site.mine("/my/usage").await;
    assert_eq!(a.status, "200", "{}", a.body);
    assert_eq!(a.header("cache-control"), Some("no-store"));
    let page = &a.body;
    assert!(page.contains("<html lang=\"hy\">"), "{page}");
    assert!(page.contains("Ով է օգտագործել իմ տվյալները"), "{page}");
    assert!(
        page.contains("Բնակչության պետական"),
        "the explanation: {page}"
    );
    assert_eq!(a.count(), 2, "{page}");
    assert!(a.shows(mine_api) && a.shows(mine_tax), "{page}");
    assert!(!a.shows(others_api) && !a.shows(others_tax), "{page}");
    assert!(!page.contains(&site.other.to_string()), "{page}");
    assert!(!page.contains("CASE-2026-0999"), "{page}");
    assert!(page.contains(&site.me.to_string()), "{page}");
    for text in [
        "Փորձարկման օպերատոր (OPS-TEST)",
        "Պետական եկամուտների կոմիտե (TAX-01)",
        "Բոլոր տվյալները",
        "Անուն, ազգանուն, հայրանուն",
        "testing the register",
        "the test suite",
        "tax assessment, income declarations",
        "Tax Code, article 5",
        "CASE-2026-0117",
        "Միջգերատեսչական տվյալների փոխանակում (X-Road)",
        "Ծրագրային միջերես (API)",
        "Ընթացիկ տվյալների դիտում",
        // t0 is 09:00 UTC: 13:00 in Yerevan.
        "<td>2026-01-15 13:00:00</td>",
        "<td>2026-01-15 13:30:00</td>",
        "href=\"/my/usage.csv?lang=hy\"",
    ] {
        assert!(page.contains(text), "{text}: {page}");
    }
    // Newest first.
    let at = |id: i64| page.find(&format!("id=\"u{id}\"")).unwrap();
    assert!(at(mine_tax) < at(mine_api), "{page}");
    // The officer's identifier is not shown.
    assert!(!page.contains("AM-TAX-OFFICER-7"), "{page}");

    // English on request.
    let a = site.mine("/my/usage?lang=en").await;
    assert_eq!(a.status, "200");
    for text in [
        "<html lang=\"en\">",
        "Who used my data",
        "Test operator (OPS-TEST)",
        "State Revenue Committee (TAX-01)",
        "All data",
        "<td>Names<br>",
        "Data exchange between agencies (X-Road)",
        "Viewing of current data",
    ] {
        assert!(a.body.contains(text), "{text}: {}", a.body);
    }
    assert_eq!(a.count(), 2);

    // Russian from Accept-Language.
    let a = site
        .get(
            "/my/usage",
            Some("card"),
            &["-H".into(), "Accept-Language: ru-RU,ru;q=0.9".into()],
        )
        .await;
    for text in [
        "<html lang=\"ru\">",
        "Кто использовал мои данные",
        "Комитет государственных доходов (TAX-01)",
        "Все данные",
        "<td>Имена<br>",
    ] {
        assert!(a.body.contains(text), "{text}: {}", a.body);
    }
    site.done().await;
}

async fn g_3_4_a_hidden_record_is_not_shown_counted_or_exported_until_its_day(db: TestDb) {
    let site = Site::new(db).await;
    let open = site.read(KEY, site.me, &[]).await;
    let covert = site.tax_read(site.me, "CASE-SECRET-1").await;
    site.hide(covert, d(2026, 2, 1)).await;

    let check_hidden = |a: &Answer| {
        assert_eq!(a.status, "200", "{}", a.body);
        assert_eq!(a.count(), 1, "{}", a.body);
        assert!(a.shows(open), "{}", a.body);
        assert!(!a.shows(covert), "{}", a.body);
        for leak in ["TAX-01", "CASE-SECRET-1", "Պետական եկամուտների կոմիտե"]
        {
            assert!(!a.body.contains(leak), "{leak}: {}", a.body);
        }
    };
    check_hidden(&site.mine("/my/usage").await);
    // Not through a filter on its body either: no records, not a count of one.
    let a = site.mine("/my/usage?body=TAX-01").await;
    assert_eq!(a.count(), 0, "{}", a.body);
    assert!(a.body.contains("Գրառումներ չկան"), "{}", a.body);
    // Not in the export.
    let csv = site.mine("/my/usage.csv").await;
    assert_eq!(csv.body.lines().count(), 2, "{}", csv.body);
    assert!(!csv.body.contains("TAX-01"), "{}", csv.body);
    assert!(
        !csv.body.contains(&format!("\r\n{covert},")),
        "{}",
        csv.body
    );
    // Its proof is the answer for a record that does not exist.
    let hidden = site.mine(&format!("/my/usage/{covert}/proof")).await;
    let none = site.mine("/my/usage/987654321/proof").await;
    assert_eq!(hidden.status, "404");
    assert_eq!(hidden.json(), none.json());

    // The last second of 31 January in Yerevan: still hidden.
    site.db
        .clock
        .set(Utc.with_ymd_and_hms(2026, 1, 31, 19, 59, 59).unwrap());
    check_hidden(&site.mine("/my/usage").await);

    // 1 February in Yerevan (20:00 UTC the day before): it is there, counted, exported and provable.
    site.db
        .clock
        .set(Utc.with_ymd_and_hms(2026, 1, 31, 20, 0, 0).unwrap());
    let a = site.mine("/my/usage").await;
    assert_eq!(a.count(), 2, "{}", a.body);
    assert!(a.shows(open) && a.shows(covert), "{}", a.body);
    assert!(a.body.contains("CASE-SECRET-1"), "{}", a.body);
    let csv = site.mine("/my/usage.csv").await;
    assert_eq!(csv.body.lines().count(), 3, "{}", csv.body);
    let p = site.mine(&format!("/my/usage/{covert}/proof")).await;
    assert_eq!(p.status, "200", "{}", p.body);
    assert_eq!(p.json()["record"]["id"], covert);
    site.done().await;
}

async fn g_3_4_filters_by_body_and_by_yerevan_days_and_bad_dates_are_coded(db: TestDb) {
    let site = Site::new(db).await;
    // 15 January, 13:00 in Yerevan.
    let first = site.read(KEY, site.me, &[]).await;
    // 15 January 21:30 UTC is already 16 January, 01:30 in Yerevan.
    site.db
        .clock
        .set(Utc.with_ymd_and_hms(2026, 1, 15, 21, 30, 0).unwrap());
    let night = site.tax_read(site.me, "CASE-1").await;
    site.db
        .clock
        .set(Utc.with_ymd_and_hms(2026, 1, 18, 10, 0, 0).unwrap());
    let last = site.read(KEY, site.me, &[]).await;
    let other = site.read(KEY, site.other, &[]).await;

    let shown = |a: &Answer| -> Vec<i64> {
        assert_eq!(a.status, "200", "{}", a.body);
        let ids: Vec<i64> = [first, night, last, other]
            .into_iter()
            .filter(|id| a.shows(*id))
            .collect();
        assert_eq!(a.count(), ids.len(), "{}", a.body);
        ids
    };
    assert_eq!(shown(&site.mine("/my/usage").await), [first, night, last]);
    assert_eq!(shown(&site.mine("/my/usage?body=TAX-01").await), [night]);
    assert_eq!(
        shown(&site.mine("/my/usage?body=OPS-TEST").await),
        [first, last]
    );
    assert_eq!(shown(&site.mine("/my/usage?to=2026-01-15").await), [first]);
    let a = site
        .mine("/my/usage?from=2026-01-16&to=2026-01-16&lang=en")
        .await;
    assert_eq!(shown(&a), [night]);
    assert!(
        a.body.contains("<td>2026-01-16 01:30:00</td>"),
        "{}",
        a.body
    );
    // The export link carries the same filters.
    assert!(
        a.body
            .contains("href=\"/my/usage.csv?from=2026-01-16&amp;to=2026-01-16&amp;lang=en\""),
        "{}",
        a.body
    );
    assert_eq!(shown(&site.mine("/my/usage?from=2026-01-17").await), [last]);
    assert_eq!(
        shown(&site.mine("/my/usage?from=2026-01-16&body=OPS-TEST").await),
        [last]
    );
    // The body link of a row filters by that body.
    assert!(
        a.body
            .contains("href=\"/my/usage?body=TAX-01&amp;lang=en\""),
        "{}",
        a.body
    );
    // The export with the same filters.
    let csv = site
        .mine("/my/usage.csv?from=2026-01-16&to=2026-01-16")
        .await;
    let rows: Vec<&str> = csv.body.lines().skip(1).collect();
    assert_eq!(rows.len(), 1, "{}", csv.body);
    assert!(rows[0].starts_with(&format!("{night},2026-01-16 01:30:00,TAX-01,")));

    // A malformed date: 400 with the code, in the page's language, the typed value kept.
    let a = site.mine("/my/usage?from=2026-02-30").await;
    assert_eq!(a.status, "400", "{}", a.body);
    assert!(a.body.contains("<html lang=\"hy\">"), "{}", a.body);
    assert!(a.body.contains("PSR-VAL-0001"), "{}", a.body);
    assert!(a.body.contains("Ընտրության պայմանը սխալ է"), "{}", a.body);
    assert!(a.body.contains("value=\"2026-02-30\""), "{}", a.body);
    assert!(!a.body.contains("<span id=\"n\">"), "no records, no count");
    let a = site.mine("/my/usage?to=15.01.2026&lang=en").await;
    assert_eq!(a.status, "400", "{}", a.body);
    assert!(a.body.contains("PSR-VAL-0001"), "{}", a.body);
    assert!(a.body.contains("A selection value is wrong"), "{}", a.body);
    let a = site
        .mine("/my/usage?from=2026-01-18&to=2026-01-15&lang=ru")
        .await;
    assert_eq!(a.status, "400", "{}", a.body);
    assert!(a.body.contains("PSR-VAL-0003"), "{}", a.body);
    assert!(a.body.contains("Неверное условие отбора"), "{}", a.body);
    let csv = site.mine("/my/usage.csv?from=yesterday").await;
    assert_eq!(csv.status, "400", "{}", csv.body);
    assert!(csv.body.contains("PSR-VAL-0001"), "{}", csv.body);
    site.done().await;
}

async fn g_3_4_csv_export_has_bom_header_and_one_row_per_visible_record(db: TestDb) {
    let site = Site::new(db).await;
    let a = site.read(KEY, site.me, &[]).await;
    site.db.clock.advance(chrono::Duration::hours(1));
    let b = site.tax_read(site.me, "CASE-\"7\"").await;
    site.db.clock.advance(chrono::Duration::hours(1));
    let c = site.read(KEY, site.me, &[]).await;
    let other = site.read(KEY, site.other, &[]).await;

    let csv = site.mine("/my/usage.csv").await;
    assert_eq!(csv.status, "200", "{}", csv.body);
    assert_eq!(
        csv.header("content-type"),
        Some("text/csv; charset=utf-8; header=present")
    );
    assert!(
        csv.header("content-disposition")
            .unwrap()
            .starts_with("attachment; filename="),
        "{}",
        csv.headers
    );
    assert_eq!(csv.header("cache-control"), Some("no-store"));
    assert!(csv.body.starts_with('\u{feff}'), "a byte-order mark");
    let text = csv.body.trim_start_matches('\u{feff}');
    let lines: Vec<&str> = text.split("\r\n").collect();
    assert_eq!(lines.last(), Some(&""), "every line ends in CRLF");
    assert_eq!(
        lines[0],
        "Գրառման համարը,Երբ,Մարմնի ծածկագիր,Մարմին,Ինչ տվյալներ,Գործողություն,Նպատակ,Իրավական հիմք,\
         Ինչ եղանակով,Գործի համարը (X-Road)"
    );
    let rows = &lines[1..lines.len() - 1];
    assert_eq!(rows.len(), 3, "{text}");
    // Newest first, one row per record, none of another person.
    for (row, id) in rows.iter().zip([c, b, a]) {
        assert!(row.starts_with(&format!("{id},")), "{row}");
    }
    assert!(!text.contains(&format!("\r\n{other},")), "{text}");
    assert_eq!(
        rows[1],
        format!(
            "{b},2026-01-15 14:00:00,TAX-01,Պետական եկամուտների կոմիտե,\"Անուն, ազգանուն, հայրանուն\",\
             Ընթացիկ տվյալների դիտում,\"tax assessment, income declarations\",\"Tax Code, article 5\",\
             Միջգերատեսչական տվյալների փոխանակում (X-Road),\"CASE-\"\"7\"\"\""
        )
    );
    // The header in the requested language.
    let en = site.mine("/my/usage.csv?lang=en").await;
    assert!(
        en.body.starts_with(
            "\u{feff}Record number,When,Body code,Body,Which data,Action,Purpose,Legal basis,How,\
             Case number (X-Road)\r\n"
        ),
        "{}",
        en.body
    );
    assert_eq!(en.body.split("\r\n").count(), 5);
    site.done().await;
}

/// An independent check of a proof document (stdin): the line's SHA-256 is the leaf's, the leaf hash is
/// SHA-256(0x00 ‖ leaf), the RFC 9162 §2.1.3.2 path leads to the checkpoint's root, and the checkpoint text
/// is signed by the given Ed25519 key. Prints OK and exits 0, or says what failed and exits 1.
const VERIFY_PY: &str = r#"
import base64, hashlib, json, sys
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)

doc = json.load(sys.stdin)
rec, inc, key = doc["record"], doc["inclusion"], doc["public_key"]
line = doc["line"].encode("utf-8")
leaf = inc["leaf"].encode("utf-8")
leaf_data = json.loads(inc["leaf"])
line_hash = hashlib.sha256(line).hexdigest()
if line_hash != leaf_data["sha256"]:
    fail("sha256(line) is not the leaf's sha256")
if doc["line_sha256"] != line_hash:
    fail("line_sha256 is not sha256(line)")
fields = doc["line"].split("\t")
if fields[0] != str(rec["id"]) or fields[2] != rec["psn"]:
    fail("the line is not the record's")
if leaf_data["kind"] != "usage" or leaf_data["id"] != rec["id"]:
    fail("the leaf is not this usage record's")
if leaf_data["seq"] != inc["leaf_index"] or rec["audit_seq"] != inc["leaf_index"]:
    fail("leaf index")

def h(b):
    return hashlib.sha256(b).digest()

r = h(b"\x00" + leaf)
if r.hex() != inc["leaf_hash"]:
    fail("leaf hash")
index, size = inc["leaf_index"], inc["tree_size"]
if index >= size:
    fail("index beyond the tree")
fn, sn = index, size - 1
for p_hex in inc["proof"]:
    p = bytes.fromhex(p_hex)
    if sn == 0:
        fail("proof too long")
    if fn & 1 or fn == sn:
        r = h(b"\x01" + p + r)
        if not fn & 1:
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
    else:
        r = h(b"\x01" + r + p)
    fn >>= 1
    sn >>= 1
if sn != 0:
    fail("proof too short")
cp = inc["checkpoint"]
if r.hex() != cp["root"]:
    fail("the path does not lead to the checkpoint's root")
note = cp["note"]
origin, size_text, root_b64, time_line = note.split("\n")[:4]
if int(size_text) != size or cp["size"] != size:
    fail("the checkpoint is for another tree size")
if base64.b64decode(root_b64) != r:
    fail("the signed root is not the computed root")
if not time_line.startswith("time "):
    fail("checkpoint text")
public = base64.b64decode(key["public_key_base64"])
if key["algorithm"] != "Ed25519" or cp["key_id"] != key["key_id"]:
    fail("key")
if hashlib.sha256(public).digest()[:8].hex() != key["key_id"]:
    fail("key id")
try:
    Ed25519PublicKey.from_public_bytes(public).verify(base64.b64decode(cp["signature"]), note.encode("utf-8"))
except Exception as e:
    fail("signature: %r" % e)
print("OK")
"#;

/// Run the independent check on a proof document: (passed, what it printed).
fn python_verifies(proof: &Value) -> (bool, String) {
    let mut child = Command::new("python3")
        .args(["-c", VERIFY_PY])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 (with the cryptography package) is needed for this test");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(proof.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success() && text.trim() == "OK", text)
}

async fn a2_9_the_proof_of_a_usage_record_verifies_independently_and_fails_when_altered(
    db: TestDb,
) {
    let site = Site::new(db).await;
    let mut mine = vec![];
    for i in 0..5 {
        mine.push(site.read(KEY, site.me, &[]).await);
        site.read(KEY, site.other, &[]).await;
        if i == 2 {
            mine.push(site.tax_read(site.me, "CASE-2026-0042").await);
        }
    }
    for id in &mine {
        let a = site.mine(&format!("/my/usage/{id}/proof")).await;
        assert_eq!(a.status, "200", "{}", a.body);
        assert_eq!(a.header("content-type"), Some("application/json"));
        assert_eq!(a.header("cache-control"), Some("no-store"));
        let proof = a.json();
        assert_eq!(proof["record"]["id"], *id);
        assert_eq!(proof["record"]["psn"], site.me.to_string());
        assert!(
            !proof["inclusion"]["proof"].as_array().unwrap().is_empty(),
            "{proof}"
        );
        let (ok, out) = python_verifies(&proof);
        assert!(ok, "record {id}: {out}");

        // One sibling hash altered: the path no longer leads to the signed root.
        let mut bad = proof.clone();
        let first = bad["inclusion"]["proof"][0].as_str().unwrap().to_string();
        let flipped = if first.starts_with('0') { "1" } else { "0" };
        bad["inclusion"]["proof"][0] = Value::from(format!("{flipped}{}", &first[1..]));
        let (ok, out) = python_verifies(&bad);
        assert!(!ok && out.contains("root"), "{out}");
        // The record's line altered (another purpose): its hash is not the leaf's.
        let mut bad = proof.clone();
        let line = bad["line"].as_str().unwrap().replace("testing", "tasting");
        let line = line.replace("tax assessment", "tax audit");
        bad["line"] = Value::from(line);
        let (ok, out) = python_verifies(&bad);
        assert!(!ok && out.contains("sha256(line)"), "{out}");
        // The checkpoint text altered: the signature does not cover it.
        let mut bad = proof.clone();
        let note = bad["inclusion"]["checkpoint"]["note"]
            .as_str()
            .unwrap()
            .replace("time 2026", "time 2027");
        bad["inclusion"]["checkpoint"]["note"] = Value::from(note);
        let (ok, out) = python_verifies(&bad);
        assert!(!ok && out.contains("signature"), "{out}");
    }
    site.done().await;
}

async fn g_3_4_another_persons_record_is_the_same_404_as_no_record(db: TestDb) {
    let site = Site::new(db).await;
    let mine = site.read(KEY, site.me, &[]).await;
    let theirs = site.read(KEY, site.other, &[]).await;
    let a = site.mine(&format!("/my/usage/{mine}/proof")).await;
    assert_eq!(a.status, "200", "{}", a.body);
    let theirs = site
        .mine(&format!("/my/usage/{theirs}/proof?lang=en"))
        .await;
    let none = site.mine("/my/usage/987654321/proof?lang=en").await;
    let junk = site.mine("/my/usage/abc/proof?lang=en").await;
    for a in [&theirs, &none, &junk] {
        assert_eq!(a.status, "404", "{}", a.body);
        assert_eq!(
            a.header("content-type"),
            Some("application/problem+json"),
            "{}",
            a.headers
        );
        assert_eq!(a.header("cache-control"), Some("no-store"));
    }
    let j = theirs.json();
    assert_eq!(j["code"], "PSR-AUD-0002", "{j}");
    assert_eq!(j, none.json());
    assert_eq!(j, junk.json());
    assert_eq!(theirs.body, none.body);
    assert!(!theirs.body.contains(&site.other.to_string()));
    site.done().await;
}

async fn g_2_without_a_valid_id_card_the_usage_view_is_401(db: TestDb) {
    let site = Site::new(db).await;
    let mine = site.read(KEY, site.me, &[]).await;
    let a = site.get("/my/usage", None, &[]).await;
    assert_eq!(a.status, "401", "{}", a.body);
    assert_eq!(a.header("cache-control"), Some("no-store"));
    assert!(a.body.contains("<html lang=\"hy\">"), "{}", a.body);
    assert!(
        a.body.contains("մուտք գործեք նույնականացման քարտով"),
        "{}",
        a.body
    );
    assert!(a.body.contains("PSR-AUTH-0001"), "{}", a.body);
    assert!(!a.shows(mine));
    let a = site.get("/my/usage?lang=en", None, &[]).await;
    assert_eq!(a.status, "401");
    assert!(a.body.contains("Log in with your ID card"), "{}", a.body);
    let a = site.get("/my/usage.csv", None, &[]).await;
    assert_eq!(a.status, "401", "{}", a.body);
    assert!(!a.body.starts_with('\u{feff}'));
    // The PDF: the same refusal as the CSV, not a document.
    let pdf = site.get("/my/usage.pdf", None, &[]).await;
    assert_eq!(pdf.status, "401", "{}", pdf.body);
    assert_eq!(pdf.body, a.body);
    assert_eq!(pdf.header("cache-control"), Some("no-store"));
    let pdf = site
        .get("/my/usage.pdf?lang=en", Some("revoked"), &[])
        .await;
    assert_eq!(pdf.status, "401", "{}", pdf.body);
    assert!(pdf.body.contains("PSR-AUTH-0004"), "{}", pdf.body);
    let a = site
        .get(&format!("/my/usage/{mine}/proof"), None, &[])
        .await;
    assert_eq!(a.status, "401", "{}", a.body);
    assert_eq!(a.json()["code"], "PSR-AUTH-0001");
    // A revoked card is no login either.
    let a = site.get("/my/usage?lang=en", Some("revoked"), &[]).await;
    assert_eq!(a.status, "401", "{}", a.body);
    assert!(a.body.contains("PSR-AUTH-0004"), "{}", a.body);
    site.done().await;
}

/// A PDF the card holder downloaded, read back by independent tools (Debian's poppler-utils and qpdf, installed
/// by `scripts/test.sh`).
struct Pdf {
    answer: Answer,
    file: PathBuf,
}

impl Site {
    /// `GET path` as the card holder (or without a card), the answer's body saved to a file.
    async fn pdf(&self, path: &str, card: Option<&'static str>, extra: &[&str]) -> Pdf {
        let file = self.pki.dir.path().join(format!(
            "export-{}.pdf",
            self.pki.dir.path().read_dir().unwrap().count()
        ));
        let mut args = vec!["-o".to_string(), file.display().to_string()];
        args.extend(extra.iter().map(|s| s.to_string()));
        let answer = self.get(path, card, &args).await;
        Pdf { answer, file }
    }
}

/// Run a tool on the file: its standard output, and whether it succeeded.
fn tool(program: &str, args: &[&str], file: &Path) -> (bool, String) {
    let out = Command::new(program)
        .args(args)
        .arg(file)
        .output()
        .unwrap_or_else(|e| {
            panic!("{program}: {e} (scripts/test.sh installs poppler-utils and qpdf)")
        });
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

impl Pdf {
    fn bytes(&self) -> Vec<u8> {
        std::fs::read(&self.file).unwrap()
    }

    /// The text as `pdftotext -layout` extracts it (pages separated by form feeds).
    fn text(&self) -> String {
        let (ok, text) = tool("pdftotext", &["-layout", "-enc", "UTF-8"], &self.file);
        assert!(ok, "{text}");
        let out = self.file.with_extension("txt");
        std::fs::read_to_string(out).unwrap()
    }

    /// `pdfinfo`'s fields, and with `-meta` the XMP metadata.
    fn info(&self, meta: bool) -> String {
        let args: &[&str] = if meta { &["-meta"] } else { &[] };
        let (ok, text) = tool("pdfinfo", args, &self.file);
        assert!(ok, "{text}");
        text
    }

    fn pages(&self) -> usize {
        self.info(false)
            .lines()
            .find_map(|l| l.strip_prefix("Pages:"))
            .and_then(|n| n.trim().parse().ok())
            .unwrap()
    }

    /// A well-formed PDF (qpdf's structural check), a PDF/A-2u (its XMP identification) whose metadata carry
    /// the language `lang` and a title beginning `title`, downloaded as an attachment and not cached.
    fn check(&self, lang: &str, title: &str) {
        let a = &self.answer;
        assert_eq!(
            a.status,
            "200",
            "{}",
            std::fs::read_to_string(&self.file).unwrap_or_default()
        );
        assert_eq!(a.header("content-type"), Some("application/pdf"));
        assert_eq!(a.header("cache-control"), Some("no-store"));
        let disposition = a.header("content-disposition").unwrap();
        assert!(
            disposition.starts_with("attachment; filename=") && disposition.ends_with(".pdf\""),
            "{disposition}"
        );
        assert!(self.bytes().starts_with(b"%PDF-"));
        let (ok, out) = tool("qpdf", &["--check"], &self.file);
        assert!(ok, "qpdf --check: {out}");
        assert!(out.contains("No syntax or stream encoding errors"), "{out}");
        let info = self.info(false);
        let found = info
            .lines()
            .find_map(|l| l.strip_prefix("Title:"))
            .unwrap_or_else(|| panic!("no title: {info}"));
        assert!(found.trim().starts_with(title), "{info}");
        let meta = self.info(true);
        assert!(meta.contains("<pdfaid:part>2</pdfaid:part>"), "{meta}");
        assert!(
            meta.contains("<pdfaid:conformance>U</pdfaid:conformance>"),
            "{meta}"
        );
        assert!(
            meta.contains(&format!("<rdf:li>{lang}</rdf:li>")),
            "language {lang}: {meta}"
        );
    }
}

/// The record numbers in an extracted text (each record prints "<label> <id>"), in order.
fn record_ids(text: &str, label: &str) -> Vec<i64> {
    text.lines()
        .filter_map(|l| l.trim_start().strip_prefix(label))
        .filter_map(|rest| rest.trim().parse().ok())
        .collect()
}

/// The number after `label` on its line.
fn number_after(text: &str, label: &str) -> usize {
    text.lines()
        .find_map(|l| l.trim_start().strip_prefix(label))
        .and_then(|rest| rest.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {label}: {text}"))
}

async fn g_3_4_pdf_export_is_pdf_a_with_only_the_visible_records_in_armenian(db: TestDb) {
    let site = Site::new(db).await;
    let open = site.read(KEY, site.me, &[]).await;
    site.db.clock.advance(chrono::Duration::minutes(30));
    let tax = site.tax_read(site.me, "CASE-2026-0117").await;
    let covert = site.tax_read(site.me, "CASE-SECRET-1").await;
    // Another person's records, which must not appear.
    site.read(KEY, site.other, &[]).await;
    site.tax_read(site.other, "CASE-2026-0999").await;
    site.hide(covert, d(2026, 2, 1)).await;

    // The page links to the PDF with the same filters.
    let page = site.mine("/my/usage?body=TAX-01").await;
    assert!(
        page.body.contains(
            "<a href=\"/my/usage.pdf?body=TAX-01&amp;lang=hy\">Ներբեռնել PDF ձևաչափով</a>"
        ),
        "{}",
        page.body
    );

    let pdf = site.pdf("/my/usage.pdf", Some("card"), &[]).await;
    pdf.check("hy", "Ով է օգտագործել իմ տվյալները");
    let text = pdf.text();
    for want in [
        "Ով է օգտագործել իմ տվյալները",
        "Բնակչության պետական",
        // The plain-language explanation, with the ligature և (U+0587) as one character.
        "ինչ նպատակով և ինչ իրավական հիմքով",
        "Երևանի ժամանակով",
        &site.me.to_string(),
        "Պետական եկամուտների կոմիտե (TAX-01)",
        "Փորձարկման օպերատոր (OPS-TEST)",
        "Անուն, ազգանուն, հայրանուն",
        "Բոլոր տվյալները",
        "Ընթացիկ տվյալների դիտում",
        "tax assessment, income declarations",
        "Tax Code, article 5",
        "Միջգերատեսչական տվյալների փոխանակում (X-Road)",
        "CASE-2026-0117",
        // The filter in effect, the time it was made (t0 + 30 min, Yerevan time), the page number.
        "Բոլոր գրառումները",
        "2026-01-15 13:30:00 (Երևանի ժամանակով)",
        "2026-01-15 13:00:00",
        "Էջ 1-ը 1-ից",
    ] {
        assert!(text.contains(want), "{want}: {text}");
    }
    assert!(text.contains('\u{0587}'));
    // Only the visible records of the card holder: not the hidden one, not another person's, and the count
    // is theirs.
    assert_eq!(record_ids(&text, "Գրառման համարը"), [tax, open], "{text}");
    assert_eq!(number_after(&text, "Գրառումների թիվը"), 2, "{text}");
    for leak in [
        "CASE-SECRET-1",
        "CASE-2026-0999",
        "AM-TAX-OFFICER-7",
        &site.other.to_string(),
    ] {
        assert!(!text.contains(leak), "{leak}: {text}");
    }
    // Filtered by the hidden record's body: the one visible record, not a count of two.
    let by_body = site
        .pdf("/my/usage.pdf?body=TAX-01", Some("card"), &[])
        .await;
    by_body.check("hy", "Ով է օգտագործել իմ տվյալները");
    let t = by_body.text();
    assert_eq!(record_ids(&t, "Գրառման համարը"), [tax], "{t}");
    assert_eq!(number_after(&t, "Գրառումների թիվը"), 1, "{t}");
    assert!(t.contains("Մարմնի ծածկագիր: TAX-01"), "{t}");

    // On 1 February in Yerevan the hidden record is there, and counted.
    site.db
        .clock
        .set(Utc.with_ymd_and_hms(2026, 1, 31, 20, 0, 0).unwrap());
    let t = site.pdf("/my/usage.pdf", Some("card"), &[]).await.text();
    assert_eq!(record_ids(&t, "Գրառման համարը"), [covert, tax, open], "{t}");
    assert_eq!(number_after(&t, "Գրառումների թիվը"), 3, "{t}");
    assert!(t.contains("CASE-SECRET-1"), "{t}");
    site.done().await;
}

async fn g_3_4_pdf_export_in_english_and_russian_with_the_filter_in_effect(db: TestDb) {
    let site = Site::new(db).await;
    let first = site.read(KEY, site.me, &[]).await;
    site.db
        .clock
        .set(Utc.with_ymd_and_hms(2026, 1, 15, 21, 30, 0).unwrap());
    let night = site.tax_read(site.me, "CASE-1").await;

    let en = site
        .pdf(
            "/my/usage.pdf?from=2026-01-16&to=2026-01-16&lang=en",
            Some("card"),
            &[],
        )
        .await;
    en.check("en", "Who used my data");
    let text = en.text();
    for want in [
        "Who used my data",
        "Population State Register",
        "Document made",
        "2026-01-16 01:30:00 (Yerevan time)",
        "From: 2026-01-16; To (inclusive): 2026-01-16",
        "State Revenue Committee (TAX-01)",
        "Names",
        "Viewing of current data",
        "Data exchange between agencies (X-Road)",
        "Page 1 of 1",
    ] {
        assert!(text.contains(want), "{want}: {text}");
    }
    assert_eq!(record_ids(&text, "Record number"), [night], "{text}");
    assert_eq!(number_after(&text, "Number of records"), 1, "{text}");

    let ru = site
        .pdf(
            "/my/usage.pdf",
            Some("card"),
            &["-H", "Accept-Language: ru-RU,ru;q=0.9"],
        )
        .await;
    ru.check("ru", "Кто использовал мои данные");
    let text = ru.text();
    for want in [
        "Кто использовал мои данные",
        "Государственный регистр населения",
        "по ереванскому времени",
        "Все записи",
        "Комитет государственных доходов (TAX-01)",
        "Все данные",
        "Имена",
        "Страница 1 из 1",
    ] {
        assert!(text.contains(want), "{want}: {text}");
    }
    assert_eq!(record_ids(&text, "Номер записи"), [night, first], "{text}");

    // A bad filter is the page's coded 400, as for the CSV.
    let bad = site
        .pdf("/my/usage.pdf?from=2026-02-30&lang=en", Some("card"), &[])
        .await;
    let csv = site.mine("/my/usage.csv?from=2026-02-30&lang=en").await;
    assert_eq!(bad.answer.status, "400");
    let body = std::fs::read_to_string(&bad.file).unwrap();
    assert!(body.contains("PSR-VAL-0001"), "{body}");
    assert_eq!(body, csv.body);
    site.done().await;
}

async fn g_3_4_a_long_pdf_export_has_every_record_and_page_n_of_m_on_every_page(db: TestDb) {
    const N: usize = 500;
    let site = Site::new(db).await;
    let mine = site.bulk_reads(N, 20).await;
    assert_eq!(mine.len(), N);
    let pdf = site.pdf("/my/usage.pdf?lang=en", Some("card"), &[]).await;
    pdf.check("en", "Who used my data");
    let pages = pdf.pages();
    assert!(pages > 10, "{pages} pages for {N} records");
    let text = pdf.text();
    assert_eq!(number_after(&text, "Number of records"), N, "{text}");
    let ids = record_ids(&text, "Record number");
    assert_eq!(ids.len(), N);
    let shown: BTreeSet<i64> = ids.iter().copied().collect();
    assert_eq!(shown.len(), N, "each record once");
    assert_eq!(shown, mine);
    // Newest first.
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "{ids:?}");
    // "Page n of m" on every page, in order (pdftotext ends each page with a form feed).
    let texts: Vec<&str> = text
        .split('\u{c}')
        .filter(|p| !p.trim().is_empty())
        .collect();
    assert_eq!(texts.len(), pages);
    for (n, page) in texts.iter().enumerate() {
        let want = format!("Page {} of {pages}", n + 1);
        assert!(page.contains(&want), "{want}: {page}");
        assert!(page.contains(&format!("PSN: {}", site.me)), "{page}");
    }
    site.done().await;
}

/// The ids of the records a page shows, in its order.
fn page_ids(a: &Answer) -> Vec<i64> {
    a.body
        .split("<tr id=\"u")
        .skip(1)
        .map(|r| r.split('"').next().unwrap().parse().unwrap())
        .collect()
}

/// The page's "older records" link, if it has one (unescaped).
fn older_link(a: &Answer) -> Option<String> {
    let at = a.body.find("rel=\"next\"")?;
    let start = a.body[..at].rfind("href=\"")? + 6;
    let end = start + a.body[start..].find('"')?;
    Some(a.body[start..end].replace("&amp;", "&"))
}

async fn g_3_4_the_page_shows_a_hundred_records_at_a_time_and_counts_them_all(db: TestDb) {
    let site = Site::new(db).await;
    let mine: Vec<i64> = site.bulk_reads(250, 5).await.into_iter().rev().collect();
    // One of them hidden from the person: not shown, not counted, on no page.
    let hidden = mine[150];
    site.hide(hidden, NaiveDate::from_ymd_opt(2099, 1, 1).unwrap())
        .await;
    let visible: Vec<i64> = mine.iter().copied().filter(|i| *i != hidden).collect();

    let first = site.mine("/my/usage?lang=en").await;
    assert_eq!(first.status, "200", "{}", first.body);
    assert_eq!(first.count(), 249, "every visible record is counted");
    assert!(
        first.body.contains("<span id=\"range\">1–100</span>"),
        "{}",
        first.body
    );
    assert_eq!(page_ids(&first), visible[..100]);
    assert!(
        !first.body.contains("rel=\"first\""),
        "the first page links to no first page"
    );
    let next = older_link(&first).expect("a link to the older records");
    assert_eq!(next, format!("/my/usage?lang=en&before={}", visible[99]));

    let second = site.mine(&next).await;
    assert_eq!(second.status, "200", "{}", second.body);
    assert_eq!(second.count(), 249);
    assert!(
        second.body.contains("<span id=\"range\">101–200</span>"),
        "{}",
        second.body
    );
    assert_eq!(
        page_ids(&second),
        visible[100..200],
        "the hidden record is skipped"
    );
    assert!(
        second
            .body
            .contains("href=\"/my/usage?lang=en\" rel=\"first\"")
    );

    let third = site.mine(&older_link(&second).unwrap()).await;
    assert!(
        third.body.contains("<span id=\"range\">201–249</span>"),
        "{}",
        third.body
    );
    assert_eq!(page_ids(&third), visible[200..]);
    assert_eq!(
        older_link(&third),
        None,
        "the last page links to no older one"
    );

    // The exports take every visible record, whatever page the person is on.
    let csv = site
        .mine(&format!("/my/usage.csv?before={}", visible[99]))
        .await;
    assert_eq!(csv.status, "200");
    assert_eq!(
        csv.body.lines().count(),
        1 + 249,
        "header and every visible record"
    );

    // A page bound that is not a record number is a coded 400.
    for bad in ["abc", "-5", "0", "1e3"] {
        let a = site.mine(&format!("/my/usage?before={bad}&lang=en")).await;
        assert_eq!(a.status, "400", "before={bad}: {}", a.body);
        assert!(a.body.contains("PSR-"), "{}", a.body);
    }
    site.done().await;
}
