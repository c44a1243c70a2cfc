//! Connectors to the registries that G.4 and G.6 show in the portal: the **legal-entity registry**
//! (Ministry of Justice), the **vehicle registry** and the **driving-licence registry** (road police).
//!
//! Contract, version 1 (X-Road REST style; `docs/connectors.md` has the JSON of every answer):
//! - every request is a `GET` with `Accept: application/json` and `X-Road-Client: <instance/class/member/
//!   subsystem>` naming the register as the X-Road client;
//! - `GET {legal_entities}/v1/persons/{psn}/roles` → `200 {"psn", "roles": [{"tin", "name_hy", "name_en",
//!   "legal_form", "role", "since"}]}` (an empty list for a person with no role);
//! - `GET {legal_entities}/v1/entities/{tin}` → `200 {"tin", "name_hy", "name_en", "legal_form", "status"}`,
//!   or `404 {"error": "not_found"}`;
//! - `GET {vehicles}/v1/persons/{psn}/vehicles` → `200 {"psn", "vehicles": [{"plate", "vin", "make",
//!   "model", "year", "colour", "registered"}]}`;
//! - `GET {licences}/v1/persons/{psn}/driving-licences` → `200 {"psn", "licences": [{"number",
//!   "categories", "issued", "valid_until", "status"}]}`;
//! - anything else (another status, a body outside the contract, an answer about another PSN or TIN, no
//!   answer within the timeout) — the registry is unavailable: [`Code::RegistryUnavailable`] and a `WARN` log
//!   line `registry unavailable` with the registry, its URL and the reason.
//!
//! Good answers are kept in a small in-memory cache for a short time ([`Settings::cache_ttl`]), so that a
//! page and the access checks of the requests that follow it ask the registry once. Failures are never
//! cached: the next request asks again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use chrono::NaiveDate;
use popreg_domain::{Code, DomainError, Psn, Tin};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// The most answers one connector keeps in its cache.
pub const CACHE_CAPACITY: usize = 10_000;

/// Which registry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RegistryKind {
    LegalEntities,
    Vehicles,
    DrivingLicences,
}

impl RegistryKind {
    pub const ALL: [RegistryKind; 3] = [
        RegistryKind::DrivingLicences,
        RegistryKind::Vehicles,
        RegistryKind::LegalEntities,
    ];

    /// The name in logs and in the fake's paths: `legal-entities`, `vehicles`, `driving-licences`.
    pub fn as_str(self) -> &'static str {
        match self {
            RegistryKind::LegalEntities => "legal-entities",
            RegistryKind::Vehicles => "vehicles",
            RegistryKind::DrivingLicences => "driving-licences",
        }
    }
}

/// A role of a person in a company, as the legal-entity registry names it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompanyRole {
    pub tin: String,
    pub name_hy: String,
    pub name_en: String,
    /// `LLC`, `CJSC`, `OJSC`, `IE`, `NGO`, `FOUNDATION`, … (shown as is when the portal has no name for it).
    pub legal_form: String,
    /// `founder`, `director`, `head_of_staff`, `chief_accountant`, `board_member`, …
    pub role: String,
    pub since: NaiveDate,
}

/// A company, as the legal-entity registry describes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Company {
    pub tin: String,
    pub name_hy: String,
    pub name_en: String,
    pub legal_form: String,
    /// `active`, `in_liquidation`, `liquidated`.
    pub status: String,
}

/// A vehicle registered to a person.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vehicle {
    pub plate: String,
    pub vin: String,
    pub make: String,
    pub model: String,
    pub year: u16,
    pub colour: String,
    pub registered: NaiveDate,
}

/// A driving licence of a person.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Licence {
    pub number: String,
    pub categories: Vec<String>,
    pub issued: NaiveDate,
    pub valid_until: NaiveDate,
    /// `valid`, `expired`, `suspended`, `revoked`.
    pub status: String,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct RolesAnswer {
    pub psn: String,
    pub roles: Vec<CompanyRole>,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct VehiclesAnswer {
    pub psn: String,
    pub vehicles: Vec<Vehicle>,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct LicencesAnswer {
    pub psn: String,
    pub licences: Vec<Licence>,
}

/// What the connectors share: the register's X-Road client identifier, the time limit and the cache life.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// Sent as `X-Road-Client`, e.g. `AM/GOV/00000001/popreg`.
    pub xroad_client: String,
    pub timeout: Duration,
    /// How long a good answer is reused; zero: never.
    pub cache_ttl: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            xroad_client: "AM/GOV/00000001/popreg".into(),
            timeout: Duration::from_secs(3),
            cache_ttl: Duration::from_secs(60),
        }
    }
}

/// One registry's client: its base URL, HTTP client and cache.
#[derive(Clone, Debug)]
struct Endpoint {
    kind: RegistryKind,
    base: String,
    http: reqwest::Client,
    xroad_client: String,
    ttl: Duration,
    cache: Arc<Mutex<HashMap<String, (Instant, serde_json::Value)>>>,
}

impl Endpoint {
    fn unavailable(&self, why: &str) -> DomainError {
        tracing::warn!(
            code = Code::RegistryUnavailable.as_str(),
            registry = self.kind.as_str(),
            url = %self.base,
            reason = %why,
            "registry unavailable"
        );
        DomainError::new(
            Code::RegistryUnavailable,
            format!(
                "the {} registry did not answer; try again later",
                self.kind.as_str()
            ),
        )
    }

    fn cached(&self, path: &str) -> Option<serde_json::Value> {
        let cache = self.cache.lock().ok()?;
        let (at, v) = cache.get(path)?;
        (at.elapsed() < self.ttl).then(|| v.clone())
    }

    fn keep(&self, path: &str, v: serde_json::Value) {
        if self.ttl.is_zero() {
            return;
        }
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= CACHE_CAPACITY {
                let ttl = self.ttl;
                cache.retain(|_, (at, _)| at.elapsed() < ttl);
                if cache.len() >= CACHE_CAPACITY {
                    cache.clear();
                }
            }
            cache.insert(path.to_string(), (Instant::now(), v));
        }
    }

    /// `GET {base}{path}`: `Ok(Some(answer))` for a `200` whose body is a `T` that `check` accepts,
    /// `Ok(None)` for the contract's `404 {"error": "not_found"}`, else "unavailable". Good answers are
    /// cached for the TTL.
    async fn fetch<T: DeserializeOwned + Serialize>(
        &self,
        path: &str,
        check: impl Fn(&T) -> Result<(), String>,
    ) -> Result<Option<T>, DomainError> {
        if let Some(v) = self.cached(path)
            && let Ok(t) = serde_json::from_value::<T>(v)
        {
            return Ok(Some(t));
        }
        let resp = self
            .http
            .get(format!("{}{path}", self.base))
            .header("accept", "application/json")
            .header("x-road-client", &self.xroad_client)
            .send()
            .await
            .map_err(|e| self.unavailable(&e.to_string()))?;
        match resp.status() {
            StatusCode::OK => {
                let v: serde_json::Value = resp
                    .json()
                    .await
                    .map_err(|e| self.unavailable(&format!("bad answer: {e}")))?;
                let t: T = serde_json::from_value(v.clone())
                    .map_err(|e| self.unavailable(&format!("bad answer: {e}")))?;
                check(&t).map_err(|why| self.unavailable(&why))?;
                self.keep(path, v);
                Ok(Some(t))
            }
            StatusCode::NOT_FOUND => {
                #[derive(Deserialize)]
                struct NotFound {
                    error: String,
                }
                match resp.json::<NotFound>().await {
                    Ok(b) if b.error == "not_found" => Ok(None),
                    _ => {
                        Err(self
                            .unavailable("404 without the contract's {\"error\": \"not_found\"}"))
                    }
                }
            }
            s => Err(self.unavailable(&format!("status {s}"))),
        }
    }

    /// A list about a person: a `404` is outside the contract here (a person unknown to the registry has an
    /// empty list).
    async fn about<T: DeserializeOwned + Serialize>(
        &self,
        psn: Psn,
        path: &str,
        answered_for: impl Fn(&T) -> &str,
    ) -> Result<T, DomainError> {
        let psn = psn.to_string();
        self.fetch(&format!("/v1/persons/{psn}/{path}"), |t: &T| {
            let other = answered_for(t);
            if other == psn {
                Ok(())
            } else {
                Err(format!("answered for another PSN {other}"))
            }
        })
        .await?
        .ok_or_else(|| self.unavailable("404 for a person"))
    }
}

/// The three registries; each is `None` when its URL is not configured (then it is "unavailable").
#[derive(Clone, Debug, Default)]
pub struct Registries {
    legal_entities: Option<Endpoint>,
    vehicles: Option<Endpoint>,
    licences: Option<Endpoint>,
}

impl Registries {
    /// Connectors for the configured base URLs (empty: not configured). A URL the client could never call
    /// is refused (as for the tax registry).
    pub fn new(
        legal_entities_url: &str,
        vehicles_url: &str,
        licences_url: &str,
        settings: &Settings,
    ) -> Result<Registries, DomainError> {
        if reqwest::header::HeaderValue::from_str(&settings.xroad_client).is_err() {
            return Err(DomainError::new(
                Code::Internal,
                format!(
                    "X-Road client {:?} cannot be sent as a header",
                    settings.xroad_client
                ),
            ));
        }
        let one = |kind: RegistryKind, url: &str| -> Result<Option<Endpoint>, DomainError> {
            if url.trim().is_empty() {
                return Ok(None);
            }
            let what = format!("{} registry", kind.as_str());
            let (base, http) = crate::http_client(&what, url.trim(), settings.timeout)?;
            Ok(Some(Endpoint {
                kind,
                base,
                http,
                xroad_client: settings.xroad_client.clone(),
                ttl: settings.cache_ttl,
                cache: Default::default(),
            }))
        };
        Ok(Registries {
            legal_entities: one(RegistryKind::LegalEntities, legal_entities_url)?,
            vehicles: one(RegistryKind::Vehicles, vehicles_url)?,
            licences: one(RegistryKind::DrivingLicences, licences_url)?,
        })
    }

    /// Whether a connector to this registry is configured (a base URL was given).
    pub fn is_configured(&self, kind: RegistryKind) -> bool {
        self.endpoint(kind).is_ok()
    }

    fn endpoint(&self, kind: RegistryKind) -> Result<&Endpoint, DomainError> {
        let e = match kind {
            RegistryKind::LegalEntities => &self.legal_entities,
            RegistryKind::Vehicles => &self.vehicles,
            RegistryKind::DrivingLicences => &self.licences,
        };
        e.as_ref().ok_or_else(|| {
            DomainError::new(
                Code::RegistryUnavailable,
                format!("no {} registry connector is configured", kind.as_str()),
            )
        })
    }

    /// The companies in which the person holds a role (G.6), from the legal-entity registry.
    pub async fn roles(&self, psn: Psn) -> Result<Vec<CompanyRole>, DomainError> {
        let e = self.endpoint(RegistryKind::LegalEntities)?;
        Ok(e.about(psn, "roles", |a: &RolesAnswer| &a.psn).await?.roles)
    }

    /// The person's roles in one company; empty when they hold none.
    pub async fn roles_in(&self, psn: Psn, tin: Tin) -> Result<Vec<CompanyRole>, DomainError> {
        Ok(self
            .roles(psn)
            .await?
            .into_iter()
            .filter(|r| r.tin == tin.as_str())
            .collect())
    }

    /// A company by TIN: `Ok(None)` when the legal-entity registry has none.
    pub async fn company(&self, tin: Tin) -> Result<Option<Company>, DomainError> {
        let e = self.endpoint(RegistryKind::LegalEntities)?;
        e.fetch(&format!("/v1/entities/{tin}"), |c: &Company| {
            if c.tin == tin.as_str() {
                Ok(())
            } else {
                Err(format!("answered for another TIN {}", c.tin))
            }
        })
        .await
    }

    /// The vehicles registered to the person (G.4).
    pub async fn vehicles(&self, psn: Psn) -> Result<Vec<Vehicle>, DomainError> {
        let e = self.endpoint(RegistryKind::Vehicles)?;
        Ok(e.about(psn, "vehicles", |a: &VehiclesAnswer| &a.psn)
            .await?
            .vehicles)
    }

    /// The person's driving licences (G.4).
    pub async fn licences(&self, psn: Psn) -> Result<Vec<Licence>, DomainError> {
        let e = self.endpoint(RegistryKind::DrivingLicences)?;
        Ok(
            e.about(psn, "driving-licences", |a: &LicencesAnswer| &a.psn)
                .await?
                .licences,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake::{FakeRegistries, Mode};

    fn settings(ms: u64) -> Settings {
        Settings {
            timeout: Duration::from_millis(ms),
            ..Settings::default()
        }
    }

    fn connect(fake: &FakeRegistries, s: &Settings) -> Registries {
        Registries::new(
            &fake.url(RegistryKind::LegalEntities),
            &fake.url(RegistryKind::Vehicles),
            &fake.url(RegistryKind::DrivingLicences),
            s,
        )
        .unwrap()
    }

    #[tokio::test]
    async fn g_4_the_three_registries_answer_by_the_contract_and_are_cached() {
        let p = Psn::from_body([3, 1, 4, 1, 5, 9, 2, 6, 5]);
        let tin = Tin::parse("02512345").unwrap();
        let fake = FakeRegistries::start(vec![(p, tin, "director".into())])
            .await
            .unwrap();
        let reg = connect(&fake, &settings(2000));
        let roles = reg.roles(p).await.unwrap();
        assert!(
            roles
                .iter()
                .any(|r| r.tin == "02512345" && r.role == "director")
        );
        assert_eq!(reg.roles_in(p, tin).await.unwrap().len(), 1);
        assert_eq!(
            fake.hits(RegistryKind::LegalEntities),
            1,
            "the repeat came from the cache"
        );
        assert!(reg.company(tin).await.unwrap().is_some());
        assert!(
            reg.company(Tin::parse("11111111").unwrap())
                .await
                .unwrap()
                .is_none()
        );
        reg.vehicles(p).await.unwrap();
        reg.licences(p).await.unwrap();
        assert_eq!(fake.hits(RegistryKind::Vehicles), 1);
        // A registry that is down: unavailable, and the failure is not cached.
        fake.set_mode(RegistryKind::Vehicles, Mode::Down);
        let fresh = connect(&fake, &settings(2000));
        assert_eq!(
            fresh.vehicles(p).await.unwrap_err().code,
            Code::RegistryUnavailable
        );
        fake.set_mode(RegistryKind::Vehicles, Mode::Up);
        assert!(fresh.vehicles(p).await.is_ok());
        // A slow one: unavailable after the time limit.
        fake.set_mode(
            RegistryKind::DrivingLicences,
            Mode::Slow(Duration::from_secs(5)),
        );
        let quick = connect(&fake, &settings(300));
        let t = Instant::now();
        assert_eq!(
            quick.licences(p).await.unwrap_err().code,
            Code::RegistryUnavailable
        );
        assert!(t.elapsed() < Duration::from_secs(3));
        fake.stop();
    }

    #[tokio::test]
    async fn g_4_without_the_x_road_client_header_the_fake_refuses() {
        let fake = FakeRegistries::start(vec![]).await.unwrap();
        let p = Psn::from_body([3, 1, 4, 1, 5, 9, 2, 6, 5]);
        let r = reqwest::get(format!(
            "{}/v1/persons/{p}/vehicles",
            fake.url(RegistryKind::Vehicles)
        ))
        .await
        .unwrap();
        assert_eq!(r.status(), 403);
        fake.stop();
    }

    #[test]
    fn an_unconfigured_registry_is_unavailable_and_a_bad_url_refused() {
        let reg = Registries::new("", "", "", &Settings::default()).unwrap();
        let e = reg.endpoint(RegistryKind::Vehicles).unwrap_err();
        assert_eq!(e.code, Code::RegistryUnavailable);
        assert!(e.detail.contains("no vehicles registry connector"), "{e}");
        let e = Registries::new("https://x.am", "", "", &Settings::default()).unwrap_err();
        assert!(e.detail.contains("legal-entities registry URL"), "{e}");
        let bad = Settings {
            xroad_client: "AM/GOV\n1".into(),
            ..Settings::default()
        };
        assert!(Registries::new("", "", "", &bad).is_err());
    }
}
