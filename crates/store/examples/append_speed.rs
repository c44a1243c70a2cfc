//! Raw append throughput of the store, without the generator: `cargo run --release -p popreg-store --example
//! append_speed -- URL PERSONS`. Each person gets a registration, an ID card, citizenship and a main address.
use std::sync::Arc;

use chrono::NaiveDate;
use popreg_domain::*;
use popreg_store::{Store, StoreOptions};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let url = args
        .get(1)
        .cloned()
        .unwrap_or_else(|| "sqlite:/tmp/append_speed.sqlite".into());
    let n: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let store = Store::open(&url, &StoreOptions::default(), Arc::new(SystemClock)).await?;
    store.migrate().await?;
    let prov = Provenance {
        provider: "MIGR-01".into(),
        user_uid: "u".into(),
        channel: Channel::Import,
        external: Default::default(),
    };
    let names = PersonNames {
        first: Name::armenian("Արամ")?,
        patronymic: Some(Name::armenian("Դավթի")?),
        surname: Name::armenian("Սարգսյան")?,
    };
    let born = NaiveDate::from_ymd_opt(1980, 5, 5).ok_or("date")?;
    let mut s = 12345u64;
    let start = std::time::Instant::now();
    let mut done = 0;
    let mut used = std::collections::HashSet::new();
    while done < n {
        let mut batch = Vec::with_capacity(20_000);
        for _ in 0..5000.min(n - done) {
            let psn = loop {
                let p = Psn::allocate(&mut || {
                    s = s
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    s >> 7
                });
                if used.insert(p) {
                    break p;
                }
            };
            batch.push((
                prov.clone(),
                NewEntry::new(
                    psn,
                    Fact::Registration {
                        names: names.clone(),
                        birth_date: born,
                        birth_place: Place {
                            country: "AM".into(),
                            marz: Some("AM-ER".into()),
                            ..Default::default()
                        },
                        sex: Sex::M,
                    },
                ),
            ));
            batch.push((
                prov.clone(),
                NewEntry::new(
                    psn,
                    Fact::IdentityDocumentIssued {
                        document: IdentityDocument {
                            doc_type: "ID_CARD".into(),
                            number: "012345678".into(),
                            issuing_country: Some("AM".into()),
                            issued_on: Some(born),
                            valid_until: None,
                        },
                    },
                ),
            ));
            batch.push((
                prov.clone(),
                NewEntry::new(
                    psn,
                    Fact::CitizenshipAcquired {
                        country: "AM".into(),
                        ground: Some("ACQ_BIRTH".into()),
                        date: born,
                    },
                ),
            ));
            batch.push((
                prov.clone(),
                NewEntry::new(
                    psn,
                    Fact::MainAddress {
                        address: Address {
                            country: "AM".into(),
                            marz: Some("AM-ER".into()),
                            street: Some("Աբովյան".into()),
                            building: Some("1".into()),
                            ..Default::default()
                        },
                        valid_from: born,
                        valid_to: None,
                    },
                ),
            ));
            done += 1;
        }
        store.append_mixed(batch).await?;
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{n} persons in {secs:.2}s: {:.0} persons/s",
        n as f64 / secs
    );
    Ok(())
}
