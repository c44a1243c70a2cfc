//! What the benchmarks share (`benches/audit.rs` and `benches/inbound.rs`, through `#[path]`): their
//! command-line numbers, and the persons they register: the same PSNs on every run, each a plain
//! registration.

use popreg_domain::*;

/// The number after `name` on the command line, else `default`.
pub fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// `count` valid PSNs, the same on every run.
pub fn psns(count: u64) -> Vec<Psn> {
    let mut out = vec![];
    let mut n = 0u64;
    while (out.len() as u64) < count {
        n += 1;
        let mut x = n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        out.push(Psn::allocate(&mut || {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            x
        }));
    }
    out
}

/// The migration provenance the benchmark's registrations carry.
pub fn provenance() -> Provenance {
    Provenance {
        provider: "MIG-0001".into(),
        user_uid: "bench".into(),
        channel: Channel::Import,
        external: ExternalIds::default(),
    }
}

/// One registration entry per PSN.
pub fn registrations(psns: &[Psn]) -> anyhow::Result<Vec<NewEntry>> {
    let place = Place {
        country: "AM".into(),
        marz: Some("AM-ER".into()),
        community: Some("AM-ER-001".into()),
        ..Default::default()
    };
    psns.iter()
        .map(|p| -> anyhow::Result<NewEntry> {
            Ok(NewEntry::new(
                *p,
                Fact::Registration {
                    names: PersonNames {
                        first: Name::armenian("Անի")?,
                        patronymic: None,
                        surname: Name::armenian("Հակոբյան")?,
                    },
                    birth_date: chrono::NaiveDate::from_ymd_opt(1990, 3, 8).unwrap_or_default(),
                    birth_place: place.clone(),
                    sex: Sex::F,
                },
            ))
        })
        .collect()
}
