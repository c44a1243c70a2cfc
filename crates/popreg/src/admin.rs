//! Operator commands of the Access Control System (`popreg body|key|employee|grant …`) and the demo's bodies.
//!
//! Each command is one store call; what it prints is built here so that tests can check it without a
//! process. Changes are recorded in `access_events` under the actor `cli:$USER`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use popreg_domain::access::{BodyType, Function};
use popreg_store::{Body, NewBody, Store};

/// Who makes a change from the command line, for the access log.
pub fn cli_actor() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_default();
    let user: String = user
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        .take(64)
        .collect();
    if user.is_empty() {
        "cli".into()
    } else {
        format!("cli:{user}")
    }
}

/// A comma-separated list of function names (`submit,read_persons`), or `all`.
pub fn parse_functions(list: &str) -> anyhow::Result<Vec<Function>> {
    if list.trim() == "all" {
        return Ok(Function::ALL.to_vec());
    }
    let mut out = Vec::new();
    for name in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        match Function::parse(name) {
            Some(f) => out.push(f),
            None => bail!(
                "unknown function {name:?}; one of: {}, or all",
                names(Function::ALL.iter().map(|f| f.as_str()))
            ),
        }
    }
    if out.is_empty() {
        bail!("name at least one function");
    }
    Ok(out)
}

pub fn parse_body_type(s: &str) -> anyhow::Result<BodyType> {
    BodyType::parse(s.trim()).with_context(|| {
        format!(
            "unknown body type {s:?}; one of: {}",
            names(BodyType::ALL.iter().map(|t| t.as_str()))
        )
    })
}

fn names<'a>(it: impl Iterator<Item = &'a str>) -> String {
    it.collect::<Vec<_>>().join(", ")
}

fn functions_text(fs: &[Function]) -> String {
    fs.iter().map(|f| f.as_str()).collect::<Vec<_>>().join(",")
}

/// `popreg body list`: one line a body.
pub fn bodies_table(bodies: &[Body]) -> String {
    let mut out = String::from("id\ttype\tx-road member\tname (en)\n");
    for b in bodies {
        let _ = writeln!(
            out,
            "{}\t{}\t{}\t{}",
            b.id,
            b.body_type.as_str(),
            b.xroad_member.as_deref().unwrap_or("-"),
            b.name_en
        );
    }
    out
}

/// The certificate of a PEM file, as registered: fingerprint, subject, issuer, validity.
pub fn read_cert(path: &Path) -> anyhow::Result<popreg_store::NewAgencyCert> {
    let pem = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let c = popreg_identity::cert::describe_pem(&pem)
        .with_context(|| format!("{}: not a PEM certificate", path.display()))?;
    Ok(popreg_store::NewAgencyCert {
        fingerprint: c.fingerprint,
        subject: c.subject,
        issuer: c.issuer,
        not_before: c.not_before,
        not_after: c.not_after,
    })
}

/// `popreg body cert add|list`: one line a registered certificate.
pub fn certs_table(certs: &[popreg_store::AgencyCert]) -> String {
    let mut out = String::from("id\tbody\tsha256\tsubject\tnot after\tfunctions\trevoked\n");
    for c in certs {
        let _ = writeln!(
            out,
            "{}\t{}\t{}\t{}\t{}\t{}\t{}",
            c.id,
            c.body_id,
            c.fingerprint,
            c.subject,
            c.not_after.format("%Y-%m-%d"),
            functions_text(&c.functions),
            c.revoked_at
                .map(|t| t.format("%Y-%m-%d").to_string())
                .unwrap_or_else(|| "-".into())
        );
    }
    out
}

/// What `popreg key issue` and `key rotate` print: the key, once, and how to use it.
pub fn key_shown_once(key_id: &str, body_id: &str, key: &str) -> String {
    format!(
        "API key {key_id} for {body_id} (shown once; the register keeps only its SHA-256):\n{key}\n\
         use it as:  X-API-Key: {key}\n"
    )
}

/// One demo body: identity, names in three languages, X-Road member, and what its key may do.
struct DemoBody {
    id: &'static str,
    body_type: BodyType,
    hy: &'static str,
    en: &'static str,
    ru: &'static str,
    xroad: &'static str,
    email: &'static str,
    functions: &'static [Function],
}

const PROVIDER: &[Function] = &[Function::Submit, Function::ReadPersons];

/// One body of every type a provider can be (A1.32), the operator, and one consumer.
const DEMO_BODIES: &[DemoBody] = &[
    DemoBody {
        id: "MED-0001",
        body_type: BodyType::MedicalOrganization,
        hy: "Երևանի թիվ 1 ծննդատուն",
        en: "Yerevan Maternity Hospital No. 1",
        ru: "Ереванский родильный дом № 1",
        xroad: "AM/GOV/02500011/births",
        email: "registry@maternity1.example.am",
        functions: PROVIDER,
    },
    DemoBody {
        id: "CIV-0001",
        body_type: BodyType::CivilRegistry,
        hy: "Քաղաքացիական կացության ակտերի գրանցման գործակալության Երևանի բաժին",
        en: "Civil Status Acts Registration Agency, Yerevan office",
        ru: "Агентство регистрации актов гражданского состояния, Ереванский отдел",
        xroad: "AM/GOV/00100021/civil-acts",
        email: "yerevan@civilacts.example.am",
        functions: PROVIDER,
    },
    DemoBody {
        id: "GRD-0001",
        body_type: BodyType::GuardianshipBody,
        hy: "Կենտրոն վարչական շրջանի խնամակալության և հոգաբարձության մարմին",
        en: "Kentron District Guardianship and Trusteeship Body",
        ru: "Орган опеки и попечительства административного района Кентрон",
        xroad: "AM/GOV/00100031/guardianship",
        email: "guardianship@kentron.example.am",
        functions: PROVIDER,
    },
    DemoBody {
        id: "DIP-0001",
        body_type: BodyType::DiplomaticMission,
        hy: "Հայաստանի Հանրապետության դեսպանությունը Ռուսաստանի Դաշնությունում",
        en: "Embassy of the Republic of Armenia in the Russian Federation",
        ru: "Посольство Республики Армения в Российской Федерации",
        xroad: "AM/GOV/00100041/consular-moscow",
        email: "consular@moscow.mfa.example.am",
        functions: PROVIDER,
    },
    DemoBody {
        id: "JUD-0001",
        body_type: BodyType::JudicialDepartment,
        hy: "Հայաստանի Հանրապետության դատական դեպարտամենտ",
        en: "Judicial Department of the Republic of Armenia",
        ru: "Судебный департамент Республики Армения",
        xroad: "AM/GOV/00100051/judgments",
        email: "registry@court.example.am",
        functions: PROVIDER,
    },
    DemoBody {
        id: "PEN-0001",
        body_type: BodyType::PenitentiaryService,
        hy: "Արդարադատության նախարարության քրեակատարողական ծառայություն",
        en: "Penitentiary Service of the Ministry of Justice",
        ru: "Пенитенциарная служба Министерства юстиции",
        xroad: "AM/GOV/00100061/sentences",
        email: "registry@penitentiary.example.am",
        functions: PROVIDER,
    },
    DemoBody {
        id: "MIG-0001",
        body_type: BodyType::AuthorizedBody,
        hy: "Ներքին գործերի նախարարության միգրացիայի և քաղաքացիության ծառայություն",
        en: "Migration and Citizenship Service of the Ministry of Internal Affairs",
        ru: "Служба миграции и гражданства Министерства внутренних дел",
        xroad: "AM/GOV/00100071/population",
        email: "population@migration.example.am",
        functions: &[
            Function::Submit,
            Function::ReadPersons,
            Function::ManageAccess,
            Function::SendNotifications,
            Function::PublishNotices,
            Function::StaffAppointments,
        ],
    },
    DemoBody {
        id: "OPS-0001",
        body_type: BodyType::Operator,
        hy: "Բնակչության պետական ռեգիստրի օպերատոր",
        en: "Population State Register operator",
        ru: "Оператор Государственного регистра населения",
        xroad: "AM/GOV/00100081/register",
        email: "operator@popreg.example.am",
        functions: Function::ALL,
    },
    DemoBody {
        id: "OTH-0001",
        body_type: BodyType::Other,
        hy: "Պետական եկամուտների կոմիտե",
        en: "State Revenue Committee",
        ru: "Комитет государственных доходов",
        xroad: "AM/GOV/00100091/taxpayers",
        email: "data@src.example.am",
        functions: &[Function::ReadPersons, Function::SendNotifications],
    },
];

/// The read grant each demo body gets (A1.33): what a body of its type plausibly needs, with a purpose and a
/// legal basis in the words a citizen sees on their usage page.
fn demo_grant(t: BodyType) -> (&'static [&'static str], &'static str, &'static str) {
    const IDENTITY: &[&str] = &[
        "person.psn",
        "person.names",
        "person.sex",
        "person.birth_date",
        "person.birth_place",
        "person.death",
    ];
    match t {
        BodyType::Operator | BodyType::AuthorizedBody => (
            &["person.*"],
            "keeping the Population State Register",
            "Law on the State Register of Population, art. 5",
        ),
        BodyType::Other => (
            &[
                "person.psn",
                "person.names",
                "person.birth_date",
                "person.death",
                "person.notice_address",
            ],
            "tax administration: identifying taxpayers and sending notices",
            "Tax Code, art. 41",
        ),
        BodyType::CivilRegistry => (
            &[
                "person.psn",
                "person.names",
                "person.sex",
                "person.birth_date",
                "person.birth_place",
                "person.death",
                "person.marital_status",
                "person.marriages",
                "person.parents",
                "person.children",
            ],
            "registering civil status acts",
            "Law on Civil Status Acts, art. 8",
        ),
        _ => (
            IDENTITY,
            "identifying persons named in submissions to the register",
            "Law on the State Register of Population, art. 12",
        ),
    }
}

/// The demo's bodies and their keys.
pub struct DemoKeys {
    /// (body, key id, key), in [`DEMO_BODIES`] order.
    pub keys: Vec<(Body, String, String)>,
    /// `demo-keys.txt`, readable by its owner only.
    pub file: PathBuf,
}

impl DemoKeys {
    /// The key of one body.
    pub fn key_of(&self, body_id: &str) -> Option<&str> {
        self.keys
            .iter()
            .find(|(b, _, _)| b.id == body_id)
            .map(|(_, _, k)| k.as_str())
    }

    /// The short table the demo prints: body → key id, with the file that holds the keys.
    pub fn table(&self) -> String {
        let mut out = String::new();
        for (b, id, _) in &self.keys {
            let _ = writeln!(
                out,
                "    {:<9} {:<21} {:<17} {}",
                b.id,
                b.body_type.as_str(),
                id,
                b.name_en
            );
        }
        let _ = writeln!(out, "    keys: {}", self.file.display());
        out
    }
}

/// Create the demo bodies with a key each, acting for `owners` (identified users, A1.37; reused in turn),
/// and write the keys to `<dir>/demo-keys.txt` (mode 0600).
pub async fn demo_bodies(store: &Store, dir: &Path, owners: &[String]) -> anyhow::Result<DemoKeys> {
    let mut keys = Vec::new();
    let mut key_owners = Vec::new();
    for (i, d) in DEMO_BODIES.iter().enumerate() {
        let body = store
            .create_body(
                "demo",
                &NewBody {
                    id: d.id.into(),
                    body_type: d.body_type,
                    name_hy: d.hy.into(),
                    name_en: d.en.into(),
                    name_ru: d.ru.into(),
                    xroad_member: Some(d.xroad.into()),
                    contact_email: Some(d.email.into()),
                },
            )
            .await?;
        let owner = match owners {
            [] => format!("{}-integration", d.id),
            _ => owners[i % owners.len()].clone(),
        };
        if let Ok(psn) = popreg_domain::Psn::parse(&owner) {
            store.add_employee("demo", d.id, psn, d.functions).await?;
        }
        if d.functions.contains(&Function::ReadPersons) {
            let (elements, purpose, basis) = demo_grant(d.body_type);
            let elements: Vec<String> = elements.iter().map(|e| e.to_string()).collect();
            store
                .add_grant("demo", d.id, &elements, purpose, basis, None)
                .await?;
        }
        let (key_id, key) = store
            .issue_api_key("demo", d.id, &owner, d.functions, "demo")
            .await?;
        keys.push((body, key_id, key));
        key_owners.push(owner);
    }
    let mut text = String::from(
        "# popreg demo API keys. The register keeps only their SHA-256; this file is the only copy.\n\
         # body\ttype\tx-road member\tkey id\towner\tfunctions\tkey\n",
    );
    for (((b, id, key), owner), d) in keys.iter().zip(&key_owners).zip(DEMO_BODIES) {
        let _ = writeln!(
            text,
            "{}\t{}\t{}\t{}\t{}\t{}\t{}",
            b.id,
            b.body_type.as_str(),
            d.xroad,
            id,
            owner,
            functions_text(d.functions),
            key
        );
    }
    let file = dir.join("demo-keys.txt");
    write_private(&file, &text)?;
    Ok(DemoKeys { keys, file })
}

/// The demo's Appointment Booking System (A1.5.4): two services of the Migration and Citizenship Service
/// (MIG-0001) with visiting times on the next five working days from `today` (Yerevan), so that the
/// portal's "my appointments" offers free times at once. Returns how many times were opened.
pub async fn demo_appointments(store: &Store, today: chrono::NaiveDate) -> anyhow::Result<usize> {
    use chrono::{Datelike, Days, NaiveTime, Weekday};
    let caller = popreg_domain::access::Caller {
        body_id: "MIG-0001".into(),
        body_type: BodyType::AuthorizedBody,
        user_uid: "demo".into(),
        functions: vec![Function::StaffAppointments],
        channel: popreg_domain::Channel::Web,
        external: popreg_domain::ExternalIds::default(),
    };
    let services = [
        (
            "Խորհրդատվություն քաղաքացիության հարցերով",
            "Advice on citizenship",
            "Консультация по вопросам гражданства",
            30,
            (9, 12, 30, 1),
        ),
        (
            "Անձնագրի փաստաթղթերի ընդունում",
            "Passport application",
            "Приём документов на паспорт",
            20,
            (14, 16, 20, 2),
        ),
    ];
    let mut opened = 0;
    for (hy, en, ru, minutes, (from, to, every, capacity)) in services {
        let service = store
            .add_service(
                &caller,
                &popreg_store::NewService {
                    name_hy: hy.into(),
                    name_en: en.into(),
                    name_ru: ru.into(),
                    minutes,
                },
            )
            .await?;
        let mut day = today;
        let mut days = 0;
        while days < 5 {
            day = day + Days::new(1);
            if matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
                continue;
            }
            days += 1;
            let hour = |h: u32| NaiveTime::from_hms_opt(h, 0, 0).context("a time of day");
            opened += store
                .open_slots(
                    &caller,
                    &popreg_store::SlotPlan {
                        service_id: service.id.clone(),
                        day,
                        from: hour(from)?,
                        to: hour(to)?,
                        every_minutes: every,
                        capacity,
                    },
                )
                .await?;
        }
    }
    Ok(opened)
}

/// Write a file only its owner can read (it holds secrets).
fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    f.write_all(text.as_bytes())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn functions_parse_from_a_list_or_all() {
        assert_eq!(
            parse_functions("submit, read_persons").unwrap(),
            vec![Function::Submit, Function::ReadPersons]
        );
        assert_eq!(parse_functions("all").unwrap(), Function::ALL.to_vec());
        assert!(parse_functions("submit,fly").is_err());
        assert!(parse_functions(" , ").is_err());
    }

    #[test]
    fn demo_bodies_cover_every_provider_type_with_valid_members() {
        for t in BodyType::ALL {
            assert!(
                DEMO_BODIES.iter().any(|d| d.body_type == *t),
                "no demo body of type {}",
                t.as_str()
            );
        }
        for d in DEMO_BODIES {
            assert!(popreg_store::valid_xroad_member(d.xroad), "{}", d.xroad);
        }
    }
}
