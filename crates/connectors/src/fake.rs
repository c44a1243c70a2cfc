//! A local server that speaks the contract of [`crate::registries`] for the three registries at once, for
//! tests and `popreg demo`. Each registry is under its own path prefix of one address, so each has its own
//! base URL ([`FakeRegistries::url`]):
//!
//! - `{addr}/legal-entities` — the legal-entity registry;
//! - `{addr}/vehicles` — the vehicle registry;
//! - `{addr}/driving-licences` — the driving-licence registry.
//!
//! The data is **deterministic, derived from the PSN** (the same PSN always has the same licences, vehicles
//! and companies), plus explicit roles given at the start (the demo gives its sample persons roles in the
//! demo companies `02512345`, `00845521`, `03300987`, the TINs of the demo tax registry). A company of
//! the derived data has a TIN that starts with `9`; its name and form are derived from the TIN, so the
//! entity lookup agrees with the roles.
//!
//! For tests, each registry can be switched [`Mode::Down`] (`503`) or [`Mode::Slow`] (answers after a
//! delay), and [`FakeRegistries::hits`] counts the requests each received. A request without an
//! `X-Road-Client` header is refused `403`, as an X-Road security server would.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{Datelike, NaiveDate};
use popreg_domain::{Psn, Tin};
use serde_json::json;

use crate::registries::{
    Company, CompanyRole, Licence, LicencesAnswer, RegistryKind, RolesAnswer, Vehicle,
    VehiclesAnswer,
};

/// How a registry of the fake behaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Up,
    /// Every request is answered `503`.
    Down,
    /// Every request is answered after this delay.
    Slow(Duration),
}

/// The demo companies (the TINs of the demo tax registry): TIN, names in Armenian and English, form.
pub const DEMO_COMPANIES: [(&str, &str, &str, &str); 3] = [
    ("02512345", "Արարատ Սոֆթ", "Ararat Soft", "LLC"),
    ("00845521", "Սևան Ագրո", "Sevan Agro", "CJSC"),
    ("03300987", "Դիլիջան Տուր", "Dilijan Tour", "LLC"),
];

struct FakeState {
    modes: Mutex<HashMap<RegistryKind, Mode>>,
    hits: [AtomicUsize; 3],
    /// Explicit roles: PSN → (TIN, role).
    roles: HashMap<String, Vec<(String, String)>>,
}

/// The running fake registries.
pub struct FakeRegistries {
    pub addr: SocketAddr,
    state: Arc<FakeState>,
    task: tokio::task::JoinHandle<()>,
}

fn index(kind: RegistryKind) -> usize {
    match kind {
        RegistryKind::LegalEntities => 0,
        RegistryKind::Vehicles => 1,
        RegistryKind::DrivingLicences => 2,
    }
}

impl FakeRegistries {
    /// Start on a free port of `127.0.0.1`, with the derived data and these explicit roles (person,
    /// company, role code such as `director`).
    pub async fn start(roles: Vec<(Psn, Tin, String)>) -> std::io::Result<FakeRegistries> {
        let mut map: HashMap<String, Vec<(String, String)>> = HashMap::new();
        for (p, t, r) in roles {
            map.entry(p.to_string())
                .or_default()
                .push((t.to_string(), r));
        }
        let state = Arc::new(FakeState {
            modes: Mutex::new(HashMap::new()),
            hits: Default::default(),
            roles: map,
        });
        let app = axum::Router::new()
            .route("/legal-entities/v1/persons/{psn}/roles", get(roles_of))
            .route("/legal-entities/v1/entities/{tin}", get(entity))
            .route("/vehicles/v1/persons/{psn}/vehicles", get(vehicles_of))
            .route(
                "/driving-licences/v1/persons/{psn}/driving-licences",
                get(licences_of),
            )
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(FakeRegistries { addr, state, task })
    }

    /// The base URL of one registry, to put into its `connectors.*_registry_url`.
    pub fn url(&self, kind: RegistryKind) -> String {
        format!("http://{}/{}", self.addr, kind.as_str())
    }

    pub fn set_mode(&self, kind: RegistryKind, mode: Mode) {
        if let Ok(mut m) = self.state.modes.lock() {
            m.insert(kind, mode);
        }
    }

    /// Requests the registry received so far.
    pub fn hits(&self, kind: RegistryKind) -> usize {
        self.state.hits[index(kind)].load(Ordering::SeqCst)
    }

    pub fn stop(self) {
        self.task.abort();
    }
}

impl FakeState {
    /// Count the request; refuse it as the mode or a missing `X-Road-Client` says, else `None`.
    async fn gate(&self, kind: RegistryKind, headers: &HeaderMap) -> Option<Response> {
        self.hits[index(kind)].fetch_add(1, Ordering::SeqCst);
        let mode = self
            .modes
            .lock()
            .ok()
            .and_then(|m| m.get(&kind).copied())
            .unwrap_or(Mode::Up);
        match mode {
            Mode::Up => {}
            Mode::Down => {
                return Some(
                    (
                        StatusCode::SERVICE_UNAVAILABLE,
                        axum::Json(json!({"error": "unavailable"})),
                    )
                        .into_response(),
                );
            }
            Mode::Slow(d) => tokio::time::sleep(d).await,
        }
        if headers.get("x-road-client").is_none() {
            return Some(
                (
                    StatusCode::FORBIDDEN,
                    axum::Json(json!({"error": "X-Road-Client is required"})),
                )
                    .into_response(),
            );
        }
        None
    }
}

/// FNV-1a: a stable hash of a string (the data must not change between runs or builds).
fn stable_hash(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn pick<T: Copy>(list: &[T], x: u64) -> T {
    list[(x % list.len() as u64) as usize]
}

fn date(y: i32, m: u64, d: u64) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, (m % 12) as u32 + 1, (d % 28) as u32 + 1).unwrap_or_default()
}

fn today() -> NaiveDate {
    chrono::Utc::now().date_naive()
}

/// A company by TIN: a demo company, or a derived one (TIN starting with `9`).
fn company_of(tin: &str) -> Option<Company> {
    if let Some((t, hy, en, form)) = DEMO_COMPANIES.iter().find(|c| c.0 == tin) {
        return Some(Company {
            tin: t.to_string(),
            name_hy: hy.to_string(),
            name_en: en.to_string(),
            legal_form: form.to_string(),
            status: "active".into(),
        });
    }
    if !(tin.len() == 8 && tin.starts_with('9') && tin.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    let h = stable_hash(tin);
    let (base_hy, base_en) = pick(
        &[
            ("Գառնի", "Garni"),
            ("Արագած", "Aragats"),
            ("Տաթև", "Tatev"),
            ("Նաիրի", "Nairi"),
            ("Զվարթնոց", "Zvartnots"),
            ("Մասիս", "Masis"),
        ],
        h,
    );
    let (kind_hy, kind_en) = pick(
        &[
            ("Թրեյդ", "Trade"),
            ("Գրուպ", "Group"),
            ("Ստուդիո", "Studio"),
            ("Շին", "Build"),
        ],
        h >> 8,
    );
    Some(Company {
        tin: tin.to_string(),
        name_hy: format!("{base_hy} {kind_hy}"),
        name_en: format!("{base_en} {kind_en}"),
        legal_form: pick(&["LLC", "IE", "CJSC"], h >> 16).to_string(),
        status: "active".into(),
    })
}

/// The roles of a person: the explicit ones, and for one person in three a derived company.
fn roles(state: &FakeState, psn: &str) -> Vec<CompanyRole> {
    let mut out = vec![];
    let role = |tin: &str, role: &str, since: NaiveDate| {
        company_of(tin).map(|c| CompanyRole {
            tin: c.tin,
            name_hy: c.name_hy,
            name_en: c.name_en,
            legal_form: c.legal_form,
            role: role.to_string(),
            since,
        })
    };
    let h = stable_hash(psn);
    for (tin, r) in state.roles.get(psn).into_iter().flatten() {
        out.extend(role(tin, r, date(2015 + (h % 8) as i32, h >> 4, h >> 8)));
    }
    if h.is_multiple_of(3) && psn.len() == 10 {
        let tin = format!("9{}", &psn[3..]);
        let r = if company_of(&tin).is_some_and(|c| c.legal_form == "IE") {
            "founder"
        } else {
            pick(&["founder", "director", "head_of_staff"], h >> 12)
        };
        out.extend(role(
            &tin,
            r,
            date(2005 + ((h >> 20) % 18) as i32, h >> 24, h >> 28),
        ));
    }
    out
}

fn vehicles(psn: &str) -> Vec<Vehicle> {
    let h = stable_hash(psn);
    (0..(h >> 32) % 3)
        .map(|i| {
            let x = stable_hash(&format!("{psn}/vehicle/{i}"));
            let (make, model) = pick(
                &[
                    ("Toyota", "Camry"),
                    ("Lada", "Niva"),
                    ("Kia", "Rio"),
                    ("Mercedes-Benz", "E 200"),
                    ("Hyundai", "Elantra"),
                    ("Opel", "Astra"),
                ],
                x,
            );
            let year = 2000 + ((x >> 8) % 24) as i32;
            let letters = b"ABCEHKMOPSTX";
            let l = |k: u64| letters[(k % letters.len() as u64) as usize] as char;
            let registered = date(year + 1, x >> 16, x >> 20).min(today());
            Vehicle {
                plate: format!(
                    "{:02} {}{} {:03}",
                    10 + (x >> 24) % 90,
                    l(x >> 28),
                    l(x >> 32),
                    (x >> 36) % 1000
                ),
                vin: format!("XTA{:014}", (x >> 4) % 100_000_000_000_000),
                make: make.into(),
                model: model.into(),
                year: year as u16,
                colour: pick(&["white", "black", "silver", "red", "blue"], x >> 40).into(),
                registered,
            }
        })
        .collect()
}

fn licences(psn: &str) -> Vec<Licence> {
    let h = stable_hash(psn);
    if (h >> 40).is_multiple_of(5) {
        return vec![];
    }
    let x = stable_hash(&format!("{psn}/licence"));
    let issued = date(2008 + ((x >> 8) % 18) as i32, x >> 16, x >> 20).min(today());
    let valid_until = issued
        .with_year(issued.year() + 10)
        .unwrap_or(issued + chrono::Days::new(3652));
    let categories: &[&str] = pick(&[&["B"][..], &["B", "C"], &["A", "B"], &["B", "C", "D"]], x);
    vec![Licence {
        number: format!("AM{:06}", (x >> 24) % 1_000_000),
        categories: categories.iter().map(|c| c.to_string()).collect(),
        issued,
        valid_until,
        status: if valid_until >= today() {
            "valid"
        } else {
            "expired"
        }
        .into(),
    }]
}

/// An answer about a person: counted and gated, then `answer(state, canonical PSN)` as JSON.
async fn about<T: serde::Serialize>(
    s: &FakeState,
    kind: RegistryKind,
    psn: &str,
    headers: &HeaderMap,
    answer: impl FnOnce(&FakeState, String) -> T,
) -> Response {
    if let Some(r) = s.gate(kind, headers).await {
        return r;
    }
    match Psn::parse(psn) {
        Ok(p) => axum::Json(answer(s, p.to_string())).into_response(),
        Err(_) => (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"error": "bad_psn"})),
        )
            .into_response(),
    }
}

async fn roles_of(
    State(s): State<Arc<FakeState>>,
    Path(psn): Path<String>,
    headers: HeaderMap,
) -> Response {
    about(&s, RegistryKind::LegalEntities, &psn, &headers, |s, p| {
        RolesAnswer {
            roles: roles(s, &p),
            psn: p,
        }
    })
    .await
}

async fn vehicles_of(
    State(s): State<Arc<FakeState>>,
    Path(psn): Path<String>,
    headers: HeaderMap,
) -> Response {
    about(&s, RegistryKind::Vehicles, &psn, &headers, |_, p| {
        VehiclesAnswer {
            vehicles: vehicles(&p),
            psn: p,
        }
    })
    .await
}

async fn licences_of(
    State(s): State<Arc<FakeState>>,
    Path(psn): Path<String>,
    headers: HeaderMap,
) -> Response {
    about(&s, RegistryKind::DrivingLicences, &psn, &headers, |_, p| {
        LicencesAnswer {
            licences: licences(&p),
            psn: p,
        }
    })
    .await
}

async fn entity(
    State(s): State<Arc<FakeState>>,
    Path(tin): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = s.gate(RegistryKind::LegalEntities, &headers).await {
        return r;
    }
    match company_of(&tin) {
        Some(c) => axum::Json(c).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            axum::Json(json!({"error": "not_found"})),
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn g_4_the_fake_data_is_deterministic_and_consistent() {
        let p = "3141592653";
        assert_eq!(vehicles(p), vehicles(p));
        assert_eq!(licences(p), licences(p));
        // Across many persons, each kind of data occurs, and every derived role names a known company.
        let state = FakeState {
            modes: Mutex::new(HashMap::new()),
            hits: Default::default(),
            roles: HashMap::new(),
        };
        let (mut v, mut l, mut r) = (0, 0, 0);
        for i in 0..300u64 {
            let psn = Psn::from_body([
                1,
                (i / 100 % 10) as u8,
                (i / 10 % 10) as u8,
                (i % 10) as u8,
                2,
                7,
                1,
                8,
                4,
            ])
            .to_string();
            v += vehicles(&psn).len();
            l += licences(&psn).len();
            for role in roles(&state, &psn) {
                r += 1;
                let c = company_of(&role.tin).unwrap();
                assert_eq!(c.name_en, role.name_en);
            }
        }
        assert!(v > 50 && l > 100 && r > 50, "{v} {l} {r}");
        assert!(company_of("12345678").is_none());
        assert_eq!(company_of("02512345").unwrap().name_en, "Ararat Soft");
    }
}
