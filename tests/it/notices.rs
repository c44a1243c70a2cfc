//! Public notices of state bodies (G.3.5, G.1), on SQLite and PostgreSQL: publishing and withdrawing in the
//! store (each an act of the audit trail), search with Armenian case folding, pages and the body filter;
//! the publishing API for bodies holding `publish_notices`; the public pages and the Atom feed, checked by
//! independent parsers (`xmllint`, Python's `xml.etree`).

use std::process::Command;

use chrono::Duration as Span;
use popreg_domain::Code;
use popreg_domain::access::{BodyType, Caller, Function};
use popreg_store::{NewBody, NewNotice, NoticeQuery, NoticeText, Store};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::*;

crate::conformance!(
    g_3_5_notices_are_found_with_armenian_folding_paged_and_filtered,
    g_3_5_a_withdrawn_notice_stays_and_is_marked,
    g_3_5_bodies_publish_through_the_api_and_everyone_reads_the_portal,
    g_3_5_the_atom_feed_is_valid_atom,
);

async fn body(store: &Store, id: &str, en: &str) {
    store
        .create_body(
            "test",
            &NewBody {
                id: id.into(),
                body_type: BodyType::Other,
                name_hy: format!("Մարմին {id}"),
                name_en: en.into(),
                name_ru: format!("Орган {id}"),
                xroad_member: None,
                contact_email: None,
            },
        )
        .await
        .unwrap();
}

fn publisher(body: &str) -> Caller {
    Caller {
        functions: vec![Function::PublishNotices],
        ..crate::notifications_api::caller(body)
    }
}

fn text(title: &str, text: &str) -> NoticeText {
    NoticeText {
        title: title.into(),
        text: text.into(),
    }
}

fn notice(title_hy: &str, text_hy: &str, en: Option<(&str, &str)>) -> NewNotice {
    NewNotice {
        hy: text(title_hy, text_hy),
        en: en.map(|(t, x)| text(t, x)),
        ru: None,
        valid_until: None,
    }
}

fn query(q: &str, lang: &str) -> NoticeQuery {
    NoticeQuery {
        q: Some(q.into()),
        lang: lang.into(),
        limit: 50,
        ..NoticeQuery::default()
    }
}

async fn titles(s: &Store, q: &NoticeQuery) -> Vec<String> {
    s.notices(q)
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|n| n.hy.title)
        .collect()
}

async fn g_3_5_notices_are_found_with_armenian_folding_paged_and_filtered(db: TestDb) {
    let s = &db.store;
    body(s, "MUN-0001", "Yerevan Municipality").await;
    body(s, "SRC-0001", "State Revenue Committee").await;
    let before = s.audit_size().await.unwrap();
    let yerevan = s
        .publish_notice(
            &publisher("MUN-0001"),
            &notice(
                "Երևանի ջրամատակարարման ընդհատում",
                "Մայիսի 3-ին Երևանի Կենտրոն վարչական շրջանում ջուր չի լինի։",
                Some((
                    "Water outage in Yerevan",
                    "On 3 May there will be no water in the Kentron district.",
                )),
            ),
        )
        .await
        .unwrap();
    assert_eq!(
        s.audit_size().await.unwrap(),
        before + 1,
        "publishing is an act"
    );
    db.clock.advance(Span::minutes(1));
    s.publish_notice(
        &publisher("SRC-0001"),
        &notice(
            "ԵՎՐՈՊԱԿԱՆ ՄԱՔՍԱՅԻՆ ԿԱՆՈՆՆԵՐ",
            "Հարկային հայտարարագրերի ընդունման ժամկետը երկարաձգվել է։",
            None,
        ),
    )
    .await
    .unwrap();

    // Armenian: case and the ligature `և` (upper case `ԵՎ`, classical `ԵՒ`) fold away.
    for q in [
        "Երևան",
        "ԵՐԵՎԱՆ",
        "երեվան",
        "ԵՐԵՒԱՆ",
        "երևանի ջրամատակարարման",
    ] {
        assert_eq!(
            titles(s, &query(q, "hy")).await,
            vec!["Երևանի ջրամատակարարման ընդհատում"],
            "{q}"
        );
    }
    assert_eq!(
        titles(s, &query("եվրոպական", "hy")).await,
        vec!["ԵՎՐՈՊԱԿԱՆ ՄԱՔՍԱՅԻՆ ԿԱՆՈՆՆԵՐ"]
    );
    assert_eq!(
        titles(s, &query("Եվրոպական", "hy")).await,
        titles(s, &query("եւրոպական", "hy")).await
    );
    // In the text too; wildcards of LIKE are plain characters.
    assert_eq!(titles(s, &query("ԿԵՆՏՐՈՆ", "hy")).await.len(), 1);
    assert!(titles(s, &query("%", "hy")).await.is_empty());
    assert!(titles(s, &query("_", "hy")).await.is_empty());
    // English: the English text; a notice without English is searched in Armenian.
    assert_eq!(titles(s, &query("WATER outage", "en")).await.len(), 1);
    assert!(titles(s, &query("water", "hy")).await.is_empty());
    assert_eq!(titles(s, &query("հայտարարագրերի", "en")).await.len(), 1);
    assert_eq!(titles(s, &query("ВОДЫ", "ru")).await.len(), 0);

    // The body filter.
    let only = NoticeQuery {
        body: Some("MUN-0001".into()),
        lang: "hy".into(),
        limit: 50,
        ..NoticeQuery::default()
    };
    let page = s.notices(&only).await.unwrap();
    assert_eq!(page.total, 1);
    assert_eq!(page.items[0].id, yerevan.id);
    assert_eq!(page.items[0].body.name("en"), "Yerevan Municipality");
    let bodies = s.notice_bodies().await.unwrap();
    assert_eq!(
        bodies
            .iter()
            .map(|b| b.body_id.as_str())
            .collect::<Vec<_>>(),
        ["MUN-0001", "SRC-0001"]
    );

    // Pages, newest first.
    for i in 0..13 {
        db.clock.advance(Span::minutes(1));
        s.publish_notice(
            &publisher("SRC-0001"),
            &notice(&format!("Հայտարարություն {i:02}"), "Տեքստ", None),
        )
        .await
        .unwrap();
    }
    let mut seen = vec![];
    for offset in [0, 5, 10] {
        let p = s
            .notices(&NoticeQuery {
                lang: "hy".into(),
                offset,
                limit: 5,
                ..NoticeQuery::default()
            })
            .await
            .unwrap();
        assert_eq!(p.total, 15);
        seen.extend(p.items.into_iter().map(|n| n.published_at));
    }
    assert_eq!(seen.len(), 15);
    assert!(seen.windows(2).all(|w| w[0] > w[1]), "newest first");
    assert_eq!(
        titles(
            s,
            &NoticeQuery {
                lang: "hy".into(),
                limit: 1,
                ..NoticeQuery::default()
            }
        )
        .await,
        vec!["Հայտարարություն 12"]
    );

    // Refusals.
    let mut nobody = publisher("MUN-0001");
    nobody.functions = vec![Function::SendNotifications];
    let e = s
        .publish_notice(&nobody, &notice("Ա", "Բ", None))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::Forbidden);
    let e = s
        .publish_notice(
            &publisher("MUN-0001"),
            &notice("", "", Some(("Only English", "Text"))),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::NoticeArmenianRequired);
}

async fn g_3_5_a_withdrawn_notice_stays_and_is_marked(db: TestDb) {
    let s = &db.store;
    body(s, "MUN-0001", "Yerevan Municipality").await;
    body(s, "MUN-0002", "Gyumri Municipality").await;
    let n = s
        .publish_notice(
            &publisher("MUN-0001"),
            &NewNotice {
                valid_until: Some(d(2026, 12, 31)),
                ..notice("Ճանապարհի փակում", "Փողոցը փակ է։", None)
            },
        )
        .await
        .unwrap();
    assert_eq!(n.valid_until, Some(d(2026, 12, 31)));
    assert!(n.withdrawn_at.is_none());
    let e = s
        .withdraw_notice(&publisher("MUN-0002"), &n.id, None)
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::NoticeUnknown, "another body's notice");
    let e = s
        .withdraw_notice(&publisher("MUN-0001"), "zz", None)
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::NoticeUnknown);
    let before = s.audit_size().await.unwrap();
    db.clock.advance(Span::hours(2));
    let w = s
        .withdraw_notice(
            &publisher("MUN-0001"),
            &n.id,
            Some("Սխալմամբ է հրապարակվել"),
        )
        .await
        .unwrap();
    assert_eq!(
        s.audit_size().await.unwrap(),
        before + 1,
        "withdrawal is an act"
    );
    assert_eq!(w.withdrawn_at, Some(t0() + Span::hours(2)));
    assert_eq!(
        w.withdrawn_reason.as_deref(),
        Some("Սխալմամբ է հրապարակվել")
    );
    assert_eq!(w.hy.title, "Ճանապարհի փակում", "the notice is kept");
    let e = s
        .withdraw_notice(&publisher("MUN-0001"), &n.id, None)
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::NoticeWithdrawn);
    let listed = s.notices(&query("", "hy")).await.unwrap();
    assert_eq!(listed.total, 1, "a withdrawn notice is still listed");
    assert!(listed.items[0].withdrawn_at.is_some());
    assert_eq!(s.notice(&n.id).await.unwrap().unwrap(), w);
    assert!(s.notice("nope").await.unwrap().is_none());
}

async fn g_3_5_bodies_publish_through_the_api_and_everyone_reads_the_portal(db: TestDb) {
    let s = &db.store;
    body(s, "MUN-0001", "Yerevan Municipality").await;
    body(s, "MUN-0002", "Gyumri Municipality").await;
    let key = |id: &'static str, f: &'static [Function]| async move {
        s.issue_api_key("test", id, &format!("{id}-clerk"), f, "test")
            .await
            .unwrap()
            .1
    };
    let yes = key("MUN-0001", &[Function::PublishNotices]).await;
    let other = key("MUN-0002", &[Function::PublishNotices]).await;
    let no = key("MUN-0002", &[Function::SendNotifications]).await;
    let (app, c) = crate::api::spawn(&db).await;
    let url = format!("{}/api/v1/notices", app.url());
    let post = |k: &str, body: Value| c.post(&url).header("X-API-Key", k).json(&body).send();
    let good = json!({
        "hy": {"title": "Երևանի <տոնական> միջոցառումներ", "text": "Մայիսի 28-ին՝ Հանրապետության հրապարակում։\n\nՄուտքն ազատ է։"},
        "en": {"title": "Festive events in Yerevan", "text": "On 28 May in Republic Square."},
        "valid_until": "2026-05-28"
    });

    // Without the function, without a key, with other content types or wrong content: refused, coded.
    let r = post(&no, good.clone()).await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "PSR-API-0007");
    let r = c.post(&url).json(&good).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = c
        .post(&url)
        .header("X-API-Key", &yes)
        .header("Content-Type", "text/plain")
        .body(good.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    for (body, status, code) in [
        (
            json!({"en": {"title": "Only English", "text": "x"}}),
            422,
            "PSR-PUB-0003",
        ),
        (
            json!({"hy": {"title": "Ա".repeat(301), "text": "Բ"}}),
            400,
            "PSR-VAL-0011",
        ),
        (
            json!({"hy": {"title": "Ա", "text": "Բ"}, "de": {}}),
            400,
            "PSR-VAL-0007",
        ),
    ] {
        let r = post(&yes, body.clone()).await.unwrap();
        let st = r.status().as_u16();
        let v: Value = r.json().await.unwrap();
        assert_eq!(
            (st, v["code"].as_str().unwrap()),
            (status, code),
            "{body}: {v}"
        );
    }
    assert_eq!(s.notices(&query("", "hy")).await.unwrap().total, 0);

    // Published.
    let r = post(&yes, good.clone()).await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let a: Value = r.json().await.unwrap();
    let id = a["id"].as_str().unwrap().to_string();
    assert_eq!(a["url"], format!("/notices/{id}"));
    assert_eq!(a["body"]["body_id"], "MUN-0001");
    assert_eq!(a["valid_until"], "2026-05-28");
    for i in 0..11 {
        db.clock.advance(Span::minutes(1));
        let r = post(
            &yes,
            json!({"hy": {"title": format!("Ծանուցում {i:02}"), "text": "Տեքստ"}}),
        )
        .await
        .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
    }

    // The portal, without login.
    let page = |path: String| {
        let c = c.clone();
        let base = app.url();
        async move {
            let r = c.get(format!("{base}{path}")).send().await.unwrap();
            (r.status(), r.text().await.unwrap())
        }
    };
    let (_, html) = page("/".into()).await;
    assert!(
        html.contains("<a href=\"/notices\">"),
        "the landing page links the notices"
    );
    let (st, html) = page("/notices?lang=en".into()).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("<label for=\"q\">"), "{html}");
    assert!(html.contains("Notices found: 12"), "{html}");
    assert!(html.contains("rel=\"next\""));
    assert!(!html.contains("rel=\"prev\""));
    assert!(
        html.contains("Ծանուցում 10"),
        "newest first, Armenian when no English"
    );
    assert!(html.contains("/notices.atom?lang=en"));
    let (_, html) = page("/notices?page=2&lang=en".into()).await;
    assert!(html.contains("rel=\"prev\""));
    assert!(!html.contains("rel=\"next\""));
    assert!(html.contains("Festive events in Yerevan"), "{html}");
    assert!(html.contains("Yerevan Municipality"));
    assert!(html.contains("Valid until 2026-05-28"));
    assert!(html.contains("href=\"/notices?page=1\"") || html.contains("href=\"/notices\""));
    let (_, html) = page(format!("/notices?q={}&lang=hy", urlencode("ԵՐԵՎԱՆԻ"))).await;
    assert!(
        html.contains("Երևանի &lt;տոնական&gt; միջոցառումներ"),
        "{html}"
    );
    assert!(!html.contains("Ծանուցում 10"));
    let (_, html) = page(format!("/notices?q={}&lang=hy", urlencode("երեվանի"))).await;
    assert!(html.contains("Երևանի &lt;տոնական&gt;"));
    let (_, html) = page("/notices?q=festive&lang=en".into()).await;
    assert!(html.contains("Notices found: 1"), "{html}");
    let (_, html) = page("/notices?q=nothing-like-this&lang=en".into()).await;
    assert!(html.contains("No notices found."));
    let (_, html) = page("/notices?body=MUN-0002&lang=en".into()).await;
    assert!(html.contains("No notices found."));
    assert!(html.contains("<option value=\"MUN-0001\">"), "{html}");
    let (_, html) = page("/notices?body=MUN-0001&q=%D5%AE&lang=en".into()).await;
    assert!(html.contains("Notices found: 11"), "{html}");
    assert!(
        html.contains("href=\"/notices?q=%D5%AE&amp;body=MUN-0001&amp;page=2\""),
        "{html}"
    );
    let (st, html) = page(format!("/notices/{id}?lang=ru")).await;
    assert_eq!(st, StatusCode::OK);
    assert!(
        html.contains("<title>Երևանի &lt;տոնական&gt; միջոցառումներ"),
        "{html}"
    );
    assert!(html.contains("на армянском"), "no Russian text: {html}");
    assert!(!html.contains("Отозвано"));
    let (st, _) = page("/notices/ffff?lang=en".into()).await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    // Withdrawn through the API: only by its body, once; then marked on its page.
    let w = |k: &str, id: &str| {
        c.post(format!("{url}/{id}/withdraw"))
            .header("X-API-Key", k)
            .json(&json!({"reason": "Միջոցառումը չեղարկվել է"}))
            .send()
    };
    let r = w(&no, &id).await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = w(&other, &id).await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "PSR-PUB-0001");
    let r = w(&yes, &id).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert!(v["withdrawn_at"].is_string(), "{v}");
    // The answer in XML on request, like every API answer.
    let r = c
        .post(&url)
        .header("X-API-Key", &yes)
        .header("Accept", "application/xml")
        .json(&json!({"hy": {"title": "Ա & Բ", "text": "Գ"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let x = r.text().await.unwrap();
    assert!(
        x.contains("<title>Ա &amp; Բ</title>") && x.contains("<url>/notices/"),
        "{x}"
    );
    let r = w(&yes, &id).await.unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "PSR-PUB-0002");
    // Without a body at all, too.
    let r = c
        .post(format!("{url}/{id}/withdraw"))
        .header("X-API-Key", &yes)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let (_, html) = page(format!("/notices/{id}?lang=ru")).await;
    assert!(html.contains("Это объявление отозвано"), "{html}");
    assert!(html.contains("Միջոցառումը չեղարկվել է"));
    let (_, html) = page("/notices?page=2&lang=ru".into()).await;
    assert!(html.contains("Отозвано"), "{html}");
}

/// The Atom feed checked by Python's `xml.etree`: the Atom namespace, a `tag:` id, `updated`, the self link,
/// the entries (unique `tag:` ids, title, updated, an alternate link, content). Prints the entry count and the
/// first title.
const ATOM_CHECK: &str = r#"
import sys, datetime
import xml.etree.ElementTree as ET
A = "{http://www.w3.org/2005/Atom}"
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == A + "feed", root.tag
def rfc3339(s):
    datetime.datetime.strptime(s.replace("Z", "+0000"), "%Y-%m-%dT%H:%M:%S%z")
assert root.find(A + "id").text.startswith("tag:")
rfc3339(root.find(A + "updated").text)
assert root.find(A + "title").text.strip()
selfs = [l for l in root.findall(A + "link") if l.get("rel") == "self"]
assert len(selfs) == 1 and selfs[0].get("href").startswith("http") and "/notices.atom" in selfs[0].get("href"), selfs
entries = root.findall(A + "entry")
ids = set()
for e in entries:
    i = e.find(A + "id").text
    assert i.startswith("tag:popreg.am,2026:notices/"), i
    assert i not in ids, i
    ids.add(i)
    assert e.find(A + "title").text.strip()
    rfc3339(e.find(A + "updated").text)
    rfc3339(e.find(A + "published").text)
    assert e.find(A + "author/" + A + "name").text.strip()
    alt = [l for l in e.findall(A + "link") if l.get("rel") == "alternate"]
    assert len(alt) == 1 and "/notices/" in alt[0].get("href")
    assert e.find(A + "content").get("type") == "text"
print(len(entries))
print(entries[0].find(A + "title").text if entries else "")
"#;

async fn g_3_5_the_atom_feed_is_valid_atom(db: TestDb) {
    let s = &db.store;
    body(s, "MUN-0001", "Yerevan Municipality").await;
    let (app, c) = crate::api::spawn(&db).await;
    let dir = tempfile::tempdir().unwrap();
    let fetch = |lang: &'static str| {
        let c = c.clone();
        let u = format!("{}/notices.atom?lang={lang}", app.url());
        async move {
            let r = c.get(u).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::OK);
            assert_eq!(
                r.headers()["content-type"],
                "application/atom+xml; charset=utf-8"
            );
            r.text().await.unwrap()
        }
    };
    let check = |name: &str, xml: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, xml).unwrap();
        let o = Command::new("xmllint")
            .arg("--noout")
            .arg(&p)
            .output()
            .expect("xmllint is installed by ./scripts/test.sh (apt-get install libxml2-utils)");
        assert!(
            o.status.success(),
            "xmllint: {}\n{xml}",
            String::from_utf8_lossy(&o.stderr)
        );
        let o = Command::new("python3")
            .arg("-c")
            .arg(ATOM_CHECK)
            .arg(&p)
            .output()
            .unwrap();
        let out = String::from_utf8_lossy(&o.stdout).into_owned();
        assert!(
            o.status.success(),
            "{out}\n{}\n{xml}",
            String::from_utf8_lossy(&o.stderr)
        );
        out
    };

    // Empty: still a valid feed.
    let out = check("empty.atom", &fetch("en").await);
    assert_eq!(out.lines().next(), Some("0"));

    // Text that needs escaping, and more notices than the feed holds.
    let tricky = NewNotice {
        hy: text(
            "Երևան & <Գյումրի> \"չակերտներ\" 'ապաթարց'",
            "Տող 1\n<script>alert(1)</script> & ]]> \u{1}",
        ),
        en: Some(text("Yerevan & <Gyumri>", "A & B <c> ]]>")),
        ru: None,
        valid_until: None,
    };
    let first = s.publish_notice(&publisher("MUN-0001"), &tricky).await;
    assert_eq!(
        first.unwrap_err().code(),
        Code::Malformed,
        "a control character in the text"
    );
    let tricky = NewNotice {
        hy: text(&tricky.hy.title, "Տող 1\n<script>alert(1)</script> & ]]>"),
        ..tricky
    };
    for i in 0..55 {
        db.clock.advance(Span::seconds(1));
        s.publish_notice(
            &publisher("MUN-0001"),
            &notice(&format!("Հայտարարություն {i}"), "Տեքստ", None),
        )
        .await
        .unwrap();
    }
    db.clock.advance(Span::seconds(1));
    let n = s
        .publish_notice(&publisher("MUN-0001"), &tricky)
        .await
        .unwrap();
    db.clock.advance(Span::minutes(1));
    s.withdraw_notice(&publisher("MUN-0001"), &n.id, Some("<չեղարկված>"))
        .await
        .unwrap();
    let xml = fetch("en").await;
    let out = check("en.atom", &xml);
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some("50"), "the newest 50");
    // The withdrawn one is in, marked, in English where it has English, escaped.
    assert_eq!(
        lines.next(),
        Some("[Withdrawn] Yerevan & <Gyumri>"),
        "{xml}"
    );
    assert!(xml.contains("A &amp; B &lt;c&gt; ]]&gt;"), "{xml}");
    assert!(xml.contains("xml:lang=\"en\""));
    assert!(!xml.contains("<script>"));
    assert!(xml.contains("Հայտարարություն 6<"));
    assert!(
        !xml.contains("Հայտարարություն 5<"),
        "the oldest are out of the feed"
    );
    let hy = fetch("hy").await;
    check("hy.atom", &hy);
    assert!(
        hy.contains("<title>Հրապարակային հայտարարություններ</title>"),
        "{hy}"
    );
    assert!(hy.contains("&lt;script&gt;"));
    assert!(hy.contains("xml:lang=\"hy\""));
}

pub(crate) fn urlencode(s: &str) -> String {
    s.bytes().map(|b| format!("%{b:02X}")).collect()
}
