//! The citizen's "who used my data" view (G.3.4, A1.30, A2.9). A card holder who logs in with their ID card
//! (TLS client certificate, G.2) sees the usage records about their own PSN that they may see today — which
//! body read what, when, for what purpose, on what legal basis, through which channel — as a page, as CSV,
//! and for each record a proof that it is in the signed audit trail:
//!
//! - `GET /my/usage?body=ID&from=YYYY-MM-DD&to=YYYY-MM-DD&lang=hy|en|ru`: the page (newest first; the period
//!   is whole days, both included, Yerevan time);
//! - `GET /my/usage.csv?…`: the same records as CSV (RFC 4180, UTF-8 with a byte-order mark);
//! - `GET /my/usage.pdf?…`: the same records as a PDF/A-2u document ([`pdf`], `usage_pdf.rs`);
//! - `GET /my/usage/{id}/proof`: the record, its canonical line, the audit leaf's inclusion proof and the
//!   public key that signs checkpoints, as JSON.
//!
//! Every record shown, counted or exported comes from [`popreg_store::Store::usage_for_person`], which leaves
//! out records hidden from the person today; a record that is not theirs, hidden or absent is the same `404`.
//! The page and both exports authenticate and select their records in one place, [`select`].

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Path, Request, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use popreg_domain::classifiers::Lang;
use popreg_domain::{Code, Psn, merkle};
use popreg_identity::TlsPeer;
use popreg_store::{InclusionProof, PersonUsageFilter, UsageRecord};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::error::ApiError;
use crate::portal::lang as lang_of;
use crate::workspace::esc;
use popreg_store::Session;

/// A page of the view in the portal's shell (top bar with the desk and logout when a session is known).
fn page(
    lang: Lang,
    status: StatusCode,
    title: &str,
    main: &str,
    session: Option<&Session>,
) -> Response {
    let mut p = crate::portal::Page::new(lang, title)
        .status(status)
        .main(main.to_string())
        .here_path("/my/usage");
    if let Some(s) = session {
        p = p.session(s);
    }
    p.render()
}

/// The PDF export, a child of this module so that it shares the page's texts and helpers.
#[path = "usage_pdf.rs"]
mod pdf;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/my/usage", get(view))
        .route("/my/usage.csv", get(csv))
        .route("/my/usage.pdf", get(pdf))
        .route("/my/usage/{id}/proof", get(proof))
}

/// Most records in one export (the newest).
const LIMIT: usize = 10_000;

/// Records on one page of the view; the person pages back through older ones (`before=ID`).
const PAGE: usize = 100;

/// Armenia's offset from UTC (no summer time).
const YEREVAN_HOURS: i64 = 4;

struct T {
    title: &'static str,
    intro: &'static str,
    psn: &'static str,
    filter: &'static str,
    body_code: &'static str,
    from: &'static str,
    to: &'static str,
    date_hint: &'static str,
    show: &'static str,
    all: &'static str,
    csv: &'static str,
    pdf: &'static str,
    count: &'static str,
    truncated: &'static str,
    shown: &'static str,
    newest: &'static str,
    older: &'static str,
    none: &'static str,
    when: &'static str,
    body: &'static str,
    data: &'static str,
    action: &'static str,
    purpose: &'static str,
    basis: &'static str,
    channel: &'static str,
    issue: &'static str,
    proof: &'static str,
    record: &'static str,
    no_card: &'static str,
    bad_filter: &'static str,
    file_name: &'static str,
    pdf_file_name: &'static str,
}

fn t(lang: Lang) -> &'static T {
    match lang {
        Lang::Hy => &T {
            title: "Ով է օգտագործել իմ տվյալները",
            intro: "Այս էջում տեսնում եք, թե որ պետական մարմիններն են օգտագործել Բնակչության պետական \
                    ռեգիստրում պահվող ձեր տվյալները՝ երբ, որ տվյալները, ինչ նպատակով և ինչ իրավական հիմքով։ \
                    Յուրաքանչյուր օգտագործում գրանցվում է նախքան տվյալները տրամադրելը և ներառվում է ստորագրված \
                    մատյանում, որը հնարավոր չէ աննկատ փոփոխել. «Ապացույց» հղումով կարող եք դա ինքնուրույն \
                    ստուգել։ Օրենքով նախատեսված դեպքերում գրառումը կարող է ժամանակավորապես թաքցված լինել \
                    ձեզանից. այն այստեղ կհայտնվի ժամկետը լրանալուն պես։ Ժամերը նշված են Երևանի ժամանակով։",
            psn: "ՀԾՀ",
            filter: "Ընտրության պայմաններ",
            body_code: "Մարմնի ծածկագիր",
            from: "Սկսած",
            to: "Մինչև (ներառյալ)",
            date_hint: "Ամսաթվերը՝ ՏՏՏՏ-ԱԱ-ՕՕ ձևաչափով",
            show: "Ցույց տալ",
            all: "Բոլոր գրառումները",
            csv: "Ներբեռնել CSV ձևաչափով",
            pdf: "Ներբեռնել PDF ձևաչափով",
            count: "Գրառումների թիվը",
            truncated: "Ցուցադրված են միայն ամենավերջին 10 000 գրառումները. նեղացրեք ժամանակահատվածը",
            shown: "Ցուցադրված են",
            newest: "Ամենավերջին գրառումները",
            older: "Ավելի հին գրառումները",
            none: "Գրառումներ չկան",
            when: "Երբ",
            body: "Մարմին",
            data: "Ինչ տվյալներ",
            action: "Գործողություն",
            purpose: "Նպատակ",
            basis: "Իրավական հիմք",
            channel: "Ինչ եղանակով",
            issue: "Գործի համարը (X-Road)",
            proof: "Ապացույց",
            record: "Գրառման համարը",
            no_card: "Ձեր տվյալների օգտագործումը տեսնելու համար մուտք գործեք նույնականացման քարտով",
            bad_filter: "Ընտրության պայմանը սխալ է",
            file_name: "im-tvyalneri-ogtagortsum.csv",
            pdf_file_name: "im-tvyalneri-ogtagortsum.pdf",
        },
        Lang::En => &T {
            title: "Who used my data",
            intro: "This page shows which state bodies used your data held in the Population State Register: \
                    when, which data, for what purpose and on what legal basis. Each use is recorded before the \
                    data are released and is included in a signed log that cannot be changed unnoticed; the \
                    “Proof” link lets you check this yourself. Where the law provides for it, a record may be \
                    hidden from you for a time; it appears here as soon as that period ends. Times are Yerevan \
                    time.",
            psn: "PSN",
            filter: "Filter",
            body_code: "Body code",
            from: "From",
            to: "To (inclusive)",
            date_hint: "Dates as YYYY-MM-DD",
            show: "Show",
            all: "All records",
            csv: "Download as CSV",
            pdf: "Download as PDF",
            count: "Number of records",
            truncated: "Only the newest 10,000 records are shown: choose a shorter period",
            shown: "Shown",
            newest: "Newest records",
            older: "Older records",
            none: "No records",
            when: "When",
            body: "Body",
            data: "Which data",
            action: "Action",
            purpose: "Purpose",
            basis: "Legal basis",
            channel: "How",
            issue: "Case number (X-Road)",
            proof: "Proof",
            record: "Record number",
            no_card: "Log in with your ID card to see how your data were used",
            bad_filter: "A selection value is wrong",
            file_name: "my-data-usage.csv",
            pdf_file_name: "my-data-usage.pdf",
        },
        Lang::Ru => &T {
            title: "Кто использовал мои данные",
            intro: "На этой странице показано, какие государственные органы использовали ваши данные из \
                    Государственного регистра населения: когда, какие данные, с какой целью и на каком правовом \
                    основании. Каждое использование записывается до выдачи данных и включается в подписанный \
                    журнал, который нельзя незаметно изменить; по ссылке «Доказательство» вы можете проверить \
                    это сами. В предусмотренных законом случаях запись может быть временно скрыта от вас; она \
                    появится здесь, как только этот срок истечёт. Время указано по Еревану.",
            psn: "Номер общественных услуг",
            filter: "Отбор",
            body_code: "Код органа",
            from: "С",
            to: "По (включительно)",
            date_hint: "Даты в формате ГГГГ-ММ-ДД",
            show: "Показать",
            all: "Все записи",
            csv: "Скачать в формате CSV",
            pdf: "Скачать в формате PDF",
            count: "Число записей",
            truncated: "Показаны только последние 10 000 записей: выберите более короткий период",
            shown: "Показаны",
            newest: "Самые новые записи",
            older: "Более ранние записи",
            none: "Записей нет",
            when: "Когда",
            body: "Орган",
            data: "Какие данные",
            action: "Действие",
            purpose: "Цель",
            basis: "Правовое основание",
            channel: "Каким способом",
            issue: "Номер дела (X-Road)",
            proof: "Доказательство",
            record: "Номер записи",
            no_card: "Войдите с идентификационной картой, чтобы увидеть, как использовались ваши данные",
            bad_filter: "Неверное условие отбора",
            file_name: "ispolzovanie-moikh-dannykh.csv",
            pdf_file_name: "ispolzovanie-moikh-dannykh.pdf",
        },
    }
}

/// A data element in plain language; an element this page does not know is shown as its id.
fn element(lang: Lang, e: &str) -> &str {
    let [hy, en, ru] = match e {
        "person.*" => ["Բոլոր տվյալները", "All data", "Все данные"],
        "person.history" => [
            "Գրառումների ամբողջական պատմությունը",
            "Full history of entries",
            "Полная история записей",
        ],
        "person.notice_address" => [
            "Պաշտոնական ծանուցումների հասցեն",
            "Address for official notices",
            "Адрес для официальных уведомлений",
        ],
        "person.psn" => [
            "Հանրային ծառայությունների համարանիշ (ՀԾՀ)",
            "Public services number (PSN)",
            "Номер общественных услуг",
        ],
        "person.names" => ["Անուն, ազգանուն, հայրանուն", "Names", "Имена"],
        "person.sex" => ["Սեռ", "Sex", "Пол"],
        "person.birth_date" => ["Ծննդյան ամսաթիվ", "Date of birth", "Дата рождения"],
        "person.birth_place" => ["Ծննդավայր", "Place of birth", "Место рождения"],
        "person.death" => ["Մահվան տվյալներ", "Death", "Сведения о смерти"],
        "person.name_history" => [
            "Անվան փոփոխությունները",
            "Changes of name",
            "Перемены имени",
        ],
        "person.documents" => [
            "Անձը հաստատող փաստաթղթեր",
            "Identity documents",
            "Документы, удостоверяющие личность",
        ],
        "person.citizenships" => ["Քաղաքացիություն", "Citizenship", "Гражданство"],
        "person.stateless_since" => [
            "Քաղաքացիություն չունեցող անձի կարգավիճակ",
            "Statelessness",
            "Безгражданство",
        ],
        "person.nationality" => ["Ազգություն", "Nationality (ethnicity)", "Национальность"],
        "person.residence_documents" => [
            "Կացության կարգավիճակի փաստաթղթեր",
            "Residence permits",
            "Документы о виде на жительство",
        ],
        "person.main_addresses" => ["Հաշվառման հասցե", "Registered address", "Адрес регистрации"],
        "person.additional_addresses" => [
            "Լրացուցիչ հասցեներ",
            "Additional addresses",
            "Дополнительные адреса",
        ],
        "person.consular_registrations" => [
            "Հյուպատոսական հաշվառում",
            "Consular registration",
            "Консульский учёт",
        ],
        "person.marital_status" => [
            "Ամուսնական կարգավիճակ",
            "Marital status",
            "Семейное положение",
        ],
        "person.marriages" => ["Ամուսնություններ", "Marriages", "Браки"],
        "person.parents" => ["Ծնողներ", "Parents", "Родители"],
        "person.children" => ["Երեխաներ", "Children", "Дети"],
        "person.guardianships" => [
            "Խնամակալություն և հոգաբարձություն",
            "Guardianship",
            "Опека и попечительство",
        ],
        "person.wards" => [
            "Խնամարկյալներ",
            "Persons under your guardianship",
            "Подопечные",
        ],
        "person.paternity" => ["Հայրության ճանաչում", "Paternity", "Установление отцовства"],
        "person.adoptions" => ["Որդեգրում", "Adoption", "Усыновление"],
        "person.legal_incapacity" => ["Անգործունակություն", "Legal incapacity", "Недееспособность"],
        "person.convictions" => ["Դատվածություն", "Criminal convictions", "Судимости"],
        "usage_log" => [
            "Ձեր տվյալների օգտագործման մատյանը",
            "The log of uses of your data",
            "Журнал использования ваших данных",
        ],
        _ => return e,
    };
    match lang {
        Lang::Hy => hy,
        Lang::En => en,
        Lang::Ru => ru,
    }
}

/// What was done, in plain language; unknown actions as their id.
fn action(lang: Lang, a: &str) -> &str {
    let [hy, en, ru] = match a {
        "person" => [
            "Ընթացիկ տվյալների դիտում",
            "Viewing of current data",
            "Просмотр текущих данных",
        ],
        "person_as_of" => [
            "Տվյալների դիտում՝ որոշակի ամսաթվի դրությամբ",
            "Viewing of data as of a given date",
            "Просмотр данных на определённую дату",
        ],
        "history" => [
            "Գրառումների պատմության դիտում",
            "Viewing of the history of entries",
            "Просмотр истории записей",
        ],
        "notice_address" => [
            "Ծանուցումների հասցեի հարցում",
            "Request for the address for notices",
            "Запрос адреса для уведомлений",
        ],
        "psn_check" => ["ՀԾՀ-ի ստուգում", "Check of the PSN", "Проверка номера"],
        "usage_search" => [
            "Ձեր տվյալների օգտագործման վերահսկողություն",
            "Supervision of the use of your data",
            "Надзор за использованием ваших данных",
        ],
        _ => return a,
    };
    match lang {
        Lang::Hy => hy,
        Lang::En => en,
        Lang::Ru => ru,
    }
}

/// The channel, in plain language; unknown channels as their id.
fn channel(lang: Lang, c: &str) -> &str {
    let [hy, en, ru] = match c {
        "web" => [
            "Ռեգիստրի վեբ էջ",
            "The register's web pages",
            "Веб-страницы регистра",
        ],
        "api" => [
            "Ծրագրային միջերես (API)",
            "Application interface (API)",
            "Программный интерфейс (API)",
        ],
        "x_road" => [
            "Միջգերատեսչական տվյալների փոխանակում (X-Road)",
            "Data exchange between agencies (X-Road)",
            "Межведомственный обмен данными (X-Road)",
        ],
        "import" => ["Զանգվածային ներմուծում", "Bulk import", "Массовый импорт"],
        "system" => ["Ռեգիստրն ինքը", "The register itself", "Сам регистр"],
        _ => return c,
    };
    match lang {
        Lang::Hy => hy,
        Lang::En => en,
        Lang::Ru => ru,
    }
}

/// The filters of the page and the export, as typed and as understood.
#[derive(Debug, Default)]
struct Filter {
    raw_body: String,
    raw_from: String,
    raw_to: String,
    body: Option<String>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    /// The page: records older than this one (the page only; the exports take every record).
    before: Option<i64>,
}

impl Filter {
    /// Read `body`, `from`, `to` and the page bound `before` from the query (empty means absent). On a bad
    /// value: the filter as typed and the code that says what is wrong.
    fn parse(query: Option<&str>) -> Result<Filter, Box<(Filter, Code)>> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query.unwrap_or(""))
            .map_err(|_| {
                let empty = Filter::default();
                Box::new((empty, Code::BadQuery))
            })?;
        let get = |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.trim().to_string())
                .unwrap_or_default()
        };
        let mut f = Filter {
            raw_body: get("body"),
            raw_from: get("from"),
            raw_to: get("to"),
            ..Filter::default()
        };
        let date = |s: &str| -> Result<Option<NaiveDate>, Code> {
            if s.is_empty() {
                return Ok(None);
            }
            if s.len() != 10 {
                return Err(Code::InvalidDate);
            }
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map(Some)
                .map_err(|_| Code::InvalidDate)
        };
        let parsed = (|| {
            let body = match f.raw_body.as_str() {
                "" => None,
                b if b.chars().count() > 100 => return Err(Code::BadQuery),
                b => Some(b.to_string()),
            };
            let (from, to) = (date(&f.raw_from)?, date(&f.raw_to)?);
            let before = match get("before").as_str() {
                "" => None,
                b => Some(
                    b.parse::<i64>()
                        .ok()
                        .filter(|n| *n > 0)
                        .ok_or(Code::BadQuery)?,
                ),
            };
            if let (Some(a), Some(b)) = (from, to)
                && a > b
            {
                return Err(Code::PeriodOrder);
            }
            Ok((body, from, to, before))
        })();
        match parsed {
            Ok((body, from, to, before)) => {
                f.body = body;
                f.from = from;
                f.to = to;
                f.before = before;
                Ok(f)
            }
            Err(code) => Err(Box::new((f, code))),
        }
    }

    /// The period as instants, `[start of from, start of the day after to)`, Yerevan days.
    fn instants(&self) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
        let start = |d: NaiveDate| {
            d.and_time(chrono::NaiveTime::MIN).and_utc() - Duration::hours(YEREVAN_HOURS)
        };
        (
            self.from.map(start),
            self.to.and_then(|d| d.succ_opt()).map(start),
        )
    }

    /// The query string for the same filters (and language), URL-encoded.
    fn query(&self, lang: Lang) -> String {
        let mut pairs = vec![];
        for (k, v) in [
            ("body", &self.raw_body),
            ("from", &self.raw_from),
            ("to", &self.raw_to),
        ] {
            if !v.is_empty() {
                pairs.push((k, v.as_str()));
            }
        }
        pairs.push(("lang", lang.as_str()));
        serde_urlencoded::to_string(&pairs).unwrap_or_else(|_| format!("lang={}", lang.as_str()))
    }
}

/// The person: logged in to the portal (a session in force), else the holder of the ID card presented in
/// this connection; or the reason (a coded certificate error).
async fn citizen(
    state: &AppState,
    headers: &axum::http::HeaderMap,
    peer: Option<&TlsPeer>,
) -> Result<(Psn, Option<Session>), Code> {
    if let Some(token) = crate::portal::cookie(headers, crate::portal::SESSION_COOKIE)
        && let Ok(popreg_store::SessionLookup::Active(s)) = state
            .0
            .store
            .session(token, state.0.config.portal.sessions)
            .await
    {
        return Ok((s.psn, Some(s)));
    }
    match crate::whoami::identify_peer(state, peer) {
        Ok(identity) => Ok((identity.psn, None)),
        Err(e) => {
            tracing::info!(target: "security", code = %e.code(), reason = %e, "usage view: no valid ID card");
            Err(e.code())
        }
    }
}

use crate::portal::coded_html as coded;

/// The 401 page: log in with the ID card, and why the card (if any) was not accepted.
fn no_card(lang: Lang, code: Code) -> Response {
    let tx = t(lang);
    let main = format!(
        "<p class=\"err\">{}</p>\n{}",
        esc(tx.no_card),
        coded(lang, code)
    );
    page(lang, StatusCode::UNAUTHORIZED, tx.title, &main, None)
}

fn storage_error(lang: Lang, e: &popreg_store::StoreError) -> Response {
    tracing::error!(error = %e, "usage view: storage");
    coded_page(
        lang,
        StatusCode::SERVICE_UNAVAILABLE,
        Code::StorageUnavailable,
    )
}

/// The page that only says what went wrong (a coded error).
fn coded_page(lang: Lang, status: StatusCode, code: Code) -> Response {
    page(lang, status, t(lang).title, &coded(lang, code), None)
}

/// The filter form, with the values as typed.
fn form(lang: Lang, f: &Filter) -> String {
    let tx = t(lang);
    format!(
        "<form method=\"get\" action=\"/my/usage\"><fieldset><legend>{legend}</legend>\
         <input type=\"hidden\" name=\"lang\" value=\"{l}\">\
         <label for=\"body\">{body}</label><input id=\"body\" name=\"body\" value=\"{vb}\" maxlength=\"100\">\
         <label for=\"from\">{from}</label><input type=\"date\" id=\"from\" name=\"from\" value=\"{vf}\" aria-describedby=\"date-hint\">\
         <label for=\"to\">{to}</label><input type=\"date\" id=\"to\" name=\"to\" value=\"{vt}\" aria-describedby=\"date-hint\">\
         <p id=\"date-hint\"><small>{hint}</small></p>\
         <button type=\"submit\">{show}</button> <a href=\"/my/usage?lang={l}\">{all}</a></fieldset></form>",
        legend = esc(tx.filter),
        l = lang.as_str(),
        body = esc(tx.body_code),
        vb = esc(&f.raw_body),
        from = esc(tx.from),
        vf = esc(&f.raw_from),
        to = esc(tx.to),
        vt = esc(&f.raw_to),
        hint = esc(tx.date_hint),
        show = esc(tx.show),
        all = esc(tx.all),
    )
}

/// A usage record's time, Yerevan time.
fn yerevan(at: DateTime<Utc>) -> String {
    (at + Duration::hours(YEREVAN_HOURS))
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

/// Body names in the page language, looked up once per body; `None` when the body is not known.
async fn body_names(
    state: &AppState,
    lang: Lang,
    records: &[UsageRecord],
) -> Result<HashMap<String, Option<String>>, popreg_store::StoreError> {
    let mut names = HashMap::new();
    for r in records {
        if names.contains_key(&r.body_id) {
            continue;
        }
        let name = state.0.store.body(&r.body_id).await?.map(|b| match lang {
            Lang::Hy => b.name_hy,
            Lang::En => b.name_en,
            Lang::Ru => b.name_ru,
        });
        names.insert(r.body_id.clone(), name);
    }
    Ok(names)
}

/// What the page and the exports show.
struct Selection {
    /// The card holder.
    psn: Psn,
    filter: Filter,
    /// Their records that they may see today, newest first: for the page, [`PAGE`] of them older than the
    /// filter's `before`; for an export, at most [`LIMIT`].
    rows: Vec<UsageRecord>,
    /// Whether there were more (older ones).
    more: bool,
    /// The page's place: how many records the filter selects, and how many of them are newer than the page.
    place: Option<(i64, i64)>,
    /// The bodies' names in the page language (see [`body_names`]).
    names: HashMap<String, Option<String>>,
    /// The portal session, when the person came with one (for the top bar and its logout form).
    session: Option<Session>,
}

/// The one place where the page and the exports (CSV, PDF) authenticate the caller and select what they show:
/// the card holder, the filters of the query, their records and the bodies' names; or the answer that says
/// why not (`401` without a valid card, `400` for a bad filter, `503`). The request is read before the
/// returned future runs (a request is not `Sync`, so it cannot be held across the store's awaits).
fn select<'a>(
    state: &'a AppState,
    req: &Request,
    lang: Lang,
    paged: bool,
) -> impl Future<Output = Result<Selection, Response>> + Send + 'a {
    let headers = req.headers().clone();
    let peer = req.extensions().get::<TlsPeer>().cloned();
    let query = req.uri().query().map(str::to_string);
    async move {
        let who = citizen(state, &headers, peer.as_ref()).await;
        records(state, who, query, lang, paged).await
    }
}

async fn records(
    state: &AppState,
    who: Result<(Psn, Option<Session>), Code>,
    query: Option<String>,
    lang: Lang,
    paged: bool,
) -> Result<Selection, Response> {
    let (psn, session) = who.map_err(|code| no_card(lang, code))?;
    let tx = t(lang);
    let filter = Filter::parse(query.as_deref()).map_err(|e| {
        let (f, code) = *e;
        let main = format!(
            "<p class=\"err\">{}</p>\n{}\n{}",
            esc(tx.bad_filter),
            coded(lang, code),
            form(lang, &f)
        );
        page(lang, StatusCode::BAD_REQUEST, tx.title, &main, None)
    })?;
    let (from, to) = filter.instants();
    let store = &state.0.store;
    let all = PersonUsageFilter {
        body_id: filter.body.as_deref(),
        from,
        to,
        before: None,
    };
    let (page, limit) = match paged {
        true => (
            PersonUsageFilter {
                before: filter.before,
                ..all
            },
            PAGE,
        ),
        false => (all, LIMIT),
    };
    let mut rows = store
        .usage_page_for_person(psn, &page, limit as i64 + 1)
        .await
        .map_err(|e| storage_error(lang, &e))?;
    let more = rows.len() > limit;
    rows.truncate(limit);
    // The page's place: all the filter selects, and how many of them are newer than the page.
    let place = match (paged, page.before) {
        (false, _) => None,
        (true, None) => Some((
            store
                .count_usage_for_person(psn, &all)
                .await
                .map_err(|e| storage_error(lang, &e))?,
            0,
        )),
        (true, Some(_)) => {
            let (total, older) = tokio::try_join!(
                store.count_usage_for_person(psn, &all),
                store.count_usage_for_person(psn, &page),
            )
            .map_err(|e| storage_error(lang, &e))?;
            Some((total, total - older))
        }
    };
    let names = body_names(state, lang, &rows)
        .await
        .map_err(|e| storage_error(lang, &e))?;
    Ok(Selection {
        psn,
        filter,
        rows,
        more,
        place,
        names,
        session,
    })
}

/// `GET /my/usage`
async fn view(State(state): State<AppState>, req: Request) -> Response {
    let lang = lang_of(req.uri(), req.headers());
    let tx = t(lang);
    let Selection {
        psn,
        filter,
        rows,
        more,
        place,
        names,
        session,
    } = match select(&state, &req, lang, true).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let l = lang.as_str();
    let mut main = format!(
        "<p>{}</p>\n<p>{}: <strong>{psn}</strong></p>\n{}\n",
        esc(tx.intro),
        esc(tx.psn),
        form(lang, &filter)
    );
    let q = esc(&filter.query(lang)).to_string();
    let (total, newer) = place.unwrap_or((rows.len() as i64, 0));
    let shown = match rows.len() {
        0 => String::new(),
        n => format!(
            " · {}: <span id=\"range\">{}–{}</span>",
            esc(tx.shown),
            newer + 1,
            newer + n as i64
        ),
    };
    main.push_str(&format!(
        "<p class=\"count\">{}: <span id=\"n\">{total}</span>{shown} · <a href=\"/my/usage.csv?{q}\">{}</a> · \
         <a href=\"/my/usage.pdf?{q}\">{}</a></p>\n",
        esc(tx.count),
        esc(tx.csv),
        esc(tx.pdf)
    ));
    // Paging: back to the newest records, and on to the older ones (keyset: the last record shown).
    let mut nav = vec![];
    if filter.before.is_some() {
        nav.push(format!(
            "<a href=\"/my/usage?{q}\" rel=\"first\">{}</a>",
            esc(tx.newest)
        ));
    }
    if let (true, Some(last)) = (more, rows.last()) {
        nav.push(format!(
            "<a href=\"/my/usage?{q}&amp;before={}\" rel=\"next\">{} →</a>",
            last.id,
            esc(tx.older)
        ));
    }
    let nav = match nav.is_empty() {
        true => String::new(),
        false => format!("<nav class=\"pages\"><p>{}</p></nav>\n", nav.join(" · ")),
    };
    if rows.is_empty() {
        main.push_str(&format!("<p>{}</p>\n", esc(tx.none)));
        main.push_str(&nav);
        return page(lang, StatusCode::OK, tx.title, &main, session.as_ref());
    }
    main.push_str(&format!(
        "<div style=\"overflow-x:auto\"><table><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th>\
         <th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th>\
         <th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead><tbody>\n",
        esc(tx.when),
        esc(tx.body),
        esc(tx.data),
        esc(tx.purpose),
        esc(tx.basis),
        esc(tx.channel),
        esc(tx.issue),
        esc(tx.proof),
    ));
    for r in &rows {
        let body = match names.get(&r.body_id).cloned().flatten() {
            Some(name) => format!("{} ({})", esc(&name), esc(&r.body_id)),
            None => esc(&r.body_id).to_string(),
        };
        let body_link = serde_urlencoded::to_string([("body", r.body_id.as_str()), ("lang", l)])
            .unwrap_or_default();
        let data: Vec<String> = r
            .elements
            .iter()
            .map(|e| esc(element(lang, e)).to_string())
            .collect();
        main.push_str(&format!(
            "<tr id=\"u{id}\"><td>{when}</td><td><a href=\"/my/usage?{link}\">{body}</a></td>\
             <td>{data}<br><small>{action}</small></td><td>{purpose}</td><td>{basis}</td><td>{channel}</td>\
             <td>{issue}</td><td><a href=\"/my/usage/{id}/proof\">{proof}</a></td></tr>\n",
            id = r.id,
            when = yerevan(r.at),
            link = esc(&body_link),
            data = data.join(", "),
            action = esc(action(lang, &r.action)),
            purpose = esc(&r.purpose),
            basis = esc(&r.legal_basis),
            channel = esc(channel(lang, &r.channel)),
            issue = esc(r.xroad_issue.as_deref().unwrap_or("—")),
            proof = esc(tx.proof),
        ));
    }
    main.push_str("</tbody></table></div>\n");
    main.push_str(&nav);
    page(lang, StatusCode::OK, tx.title, &main, session.as_ref())
}

/// One CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break. Free text that a
/// spreadsheet would take for a formula (`=`, `+`, `-`, `@`) is prefixed with an apostrophe.
fn csv_field(s: &str, free_text: bool) -> String {
    let s = if free_text && s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// `GET /my/usage.csv`
async fn csv(State(state): State<AppState>, req: Request) -> Response {
    let lang = lang_of(req.uri(), req.headers());
    let tx = t(lang);
    let Selection { rows, names, .. } = match select(&state, &req, lang, false).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let mut out = String::from("\u{feff}");
    let header = [
        tx.record,
        tx.when,
        tx.body_code,
        tx.body,
        tx.data,
        tx.action,
        tx.purpose,
        tx.basis,
        tx.channel,
        tx.issue,
    ];
    let header: Vec<String> = header.iter().map(|h| csv_field(h, false)).collect();
    out.push_str(&header.join(","));
    out.push_str("\r\n");
    for r in &rows {
        let name = names.get(&r.body_id).cloned().flatten().unwrap_or_default();
        let data: Vec<&str> = r.elements.iter().map(|e| element(lang, e)).collect();
        let fields = [
            csv_field(&r.id.to_string(), false),
            csv_field(&yerevan(r.at), false),
            csv_field(&r.body_id, true),
            csv_field(&name, true),
            csv_field(&data.join("; "), true),
            csv_field(action(lang, &r.action), true),
            csv_field(&r.purpose, true),
            csv_field(&r.legal_basis, true),
            csv_field(channel(lang, &r.channel), true),
            csv_field(r.xroad_issue.as_deref().unwrap_or(""), true),
        ];
        out.push_str(&fields.join(","));
        out.push_str("\r\n");
    }
    attachment(out, "text/csv; charset=utf-8; header=present", tx.file_name)
}

/// An export: its type, `no-store`, and `Content-Disposition: attachment` with the file name.
fn attachment(body: impl IntoResponse, content_type: &'static str, file_name: &str) -> Response {
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\"")) {
        h.insert(CONTENT_DISPOSITION, v);
    }
    resp
}

/// `GET /my/usage.pdf`: the records of [`select`] as a PDF/A document, written off the async runtime.
async fn pdf(State(state): State<AppState>, req: Request) -> Response {
    let lang = lang_of(req.uri(), req.headers());
    let sel = match select(&state, &req, lang, false).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let now = state.0.store.clock().now();
    match tokio::task::spawn_blocking(move || pdf::write(lang, &sel, now)).await {
        Ok(Ok(bytes)) => attachment(bytes, "application/pdf", t(lang).pdf_file_name),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "usage view: writing the PDF");
            coded_page(lang, StatusCode::INTERNAL_SERVER_ERROR, Code::Internal)
        }
        Err(e) => {
            tracing::error!(error = %e, "usage view: the PDF writer failed");
            coded_page(lang, StatusCode::INTERNAL_SERVER_ERROR, Code::Internal)
        }
    }
}

#[derive(Serialize)]
struct PublicKey {
    key_id: String,
    algorithm: &'static str,
    public_key_base64: String,
}

#[derive(Serialize)]
struct Proof<'a> {
    record: &'a UsageRecord,
    line: &'a str,
    line_sha256: String,
    inclusion: &'a InclusionProof,
    public_key: PublicKey,
}

/// `GET /my/usage/{id}/proof`: JSON; the same `404 PSR-AUD-0002` for a record that is not the card holder's,
/// is hidden from them today, or does not exist.
async fn proof(State(state): State<AppState>, Path(id): Path<String>, req: Request) -> Response {
    let lang = lang_of(req.uri(), req.headers());
    let who = citizen(&state, req.headers(), req.extensions().get())
        .await
        .map(|(psn, _)| psn);
    let mut resp = proof_json(&state, &id, who)
        .await
        .unwrap_or_else(|e| e.in_lang(lang).into_response());
    resp.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

async fn proof_json(
    state: &AppState,
    id: &str,
    who: Result<Psn, Code>,
) -> Result<Response, ApiError> {
    let psn = who
        .map_err(|code| ApiError::new(code, "log in with your ID card (TLS client certificate)"))?;
    let not_found = || ApiError::new(Code::AuditNotFound, "you have no usage record with this id");
    let id: i64 = id.parse().map_err(|_| not_found())?;
    let store = &state.0.store;
    let record = store
        .usage_record_for_person(psn, id)
        .await?
        .ok_or_else(not_found)?;
    let Some((key_id, public_key)) = store.audit_public_key() else {
        tracing::error!("usage proof: no audit signing key is configured");
        return Err(ApiError::new(
            Code::StorageUnavailable,
            "checkpoints are not signed on this server",
        ));
    };
    let inclusion = store
        .inclusion_proof(record.audit_seq)
        .await?
        .ok_or_else(|| {
            tracing::error!(
                usage_id = record.id,
                seq = record.audit_seq,
                "usage proof: no audit leaf"
            );
            ApiError::new(
                Code::StorageCorrupt,
                "the audit trail has no leaf for this record",
            )
        })?;
    let line = store.usage_line(&record);
    // The official's identifiers stay with the register: the line carries only their SHA-256, and so
    // does the record shown here.
    let mut record = record;
    fn hash(s: &str) -> String {
        merkle::to_hex(&Sha256::digest(s.as_bytes()))
    }
    record.user_uid = hash(&record.user_uid);
    record.xroad_user_id = record.xroad_user_id.as_deref().map(hash);
    let body = Proof {
        record: &record,
        line: &line,
        line_sha256: merkle::to_hex(&Sha256::digest(line.as_bytes())),
        inclusion: &inclusion,
        public_key: PublicKey {
            key_id,
            algorithm: "Ed25519",
            public_key_base64: merkle::base64(&public_key),
        },
    };
    Ok(axum::Json(body).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn g_3_4_filter_days_are_yerevan_days_both_included() {
        let f = Filter::parse(Some("from=2026-01-16&to=2026-01-16&lang=en")).unwrap();
        let (a, b) = f.instants();
        assert_eq!(a.unwrap().to_rfc3339(), "2026-01-15T20:00:00+00:00");
        assert_eq!(b.unwrap().to_rfc3339(), "2026-01-16T20:00:00+00:00");
        assert_eq!(f.query(Lang::En), "from=2026-01-16&to=2026-01-16&lang=en");
    }

    #[test]
    fn g_3_4_bad_filters_are_coded() {
        let code = |q: &str| Filter::parse(Some(q)).err().map(|e| e.1);
        assert_eq!(code("from=2026-13-01"), Some(Code::InvalidDate));
        assert_eq!(code("to=16.01.2026"), Some(Code::InvalidDate));
        assert_eq!(code("from=2026-1-5"), Some(Code::InvalidDate));
        assert_eq!(
            code("from=2026-02-01&to=2026-01-01"),
            Some(Code::PeriodOrder)
        );
        assert_eq!(
            code(&format!("body={}", "X".repeat(101))),
            Some(Code::BadQuery)
        );
        assert_eq!(code("body=&from=&to="), None);
        let f = Filter::parse(Some("body=MED%2D0001+")).unwrap();
        assert_eq!(f.body.as_deref(), Some("MED-0001"));
    }

    #[test]
    fn g_3_4_csv_fields_are_quoted_and_formulas_defused() {
        assert_eq!(csv_field("plain", true), "plain");
        assert_eq!(csv_field("a, b", true), "\"a, b\"");
        assert_eq!(csv_field("say \"hi\"", true), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("line\nbreak", true), "\"line\nbreak\"");
        assert_eq!(csv_field("=1+1", true), "'=1+1");
        assert_eq!(csv_field("-5", false), "-5");
    }

    #[test]
    fn g_3_4_every_person_element_has_a_name_in_each_language() {
        let mut all = popreg_domain::disclosure::element_names();
        all.push("usage_log");
        for e in all {
            for lang in Lang::ALL {
                assert_ne!(element(lang, e), e, "{e} has no {lang:?} name");
            }
        }
        assert_eq!(element(Lang::En, "person.unknown"), "person.unknown");
    }
}
