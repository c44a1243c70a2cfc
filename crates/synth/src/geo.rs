//! Geography: where people live, from the classifiers' communities and settlements, weighted by population,
//! and the addresses built there (streets from `data/streets.tsv`, buildings, apartments, postcodes).
//!
//! A community is drawn by its population (so Yerevan holds about 38%), then one of its listed settlements by
//! theirs. Postcodes follow the marz ranges of the Armenian postal service (Yerevan 0001–0099, Aragatsotn
//! 02xx–05xx, ...); within a range each settlement gets a stable code derived from its classifier code, so the
//! postcode is plausible but not the real one of that street.

use popreg_domain::classifiers::{Classifiers, SettlementKind};
use popreg_domain::model::{Address, Place};

use crate::data::{AbroadCity, AddressFormat, Tables};
use crate::rng::{Rng, Weighted};

/// A settlement: indices of the community and of the settlement in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Loc {
    pub(crate) community: u16,
    pub(crate) settlement: u16,
}

#[derive(Debug)]
struct GeoSettlement {
    code: String,
    urban: bool,
    postcode: u16,
    /// Its own streets (Yerevan's districts), else the community's.
    streets: Option<&'static [String]>,
}

#[derive(Debug)]
struct GeoCommunity {
    marz: String,
    /// English name, to find the minorities' villages.
    name_en: String,
    code: String,
    settlements: Vec<GeoSettlement>,
    weights: Weighted,
    /// The community's town streets (its own list or the generic one).
    streets: &'static [String],
    yerevan: bool,
}

#[derive(Debug)]
pub(crate) struct Geo {
    communities: Vec<GeoCommunity>,
    weights: Weighted,
    yerevan: Option<u16>,
    village_streets: &'static [String],
}

/// A dwelling, kept compact while planning; [`Geo::address`] writes it out as an [`Address`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct Dwelling {
    loc: Loc,
    street: Option<&'static str>,
    building: u16,
    /// 0: none; 1..=6: "/n" (a building in a block); 7: "ա".
    building_suffix: u8,
    apartment: Option<u16>,
    postcode: u16,
}

/// Where a household lives: a dwelling in Armenia, or an address abroad.
#[derive(Clone, Debug)]
pub(crate) enum Home {
    Armenia(Dwelling),
    Abroad(Address),
}

/// Yerevan's weight among the communities, in percent of its population's (see [`Geo::new`]).
const YEREVAN_WEIGHT_PERCENT: u64 = 78;

/// Postcode range of each marz: (first, last).
fn postcode_range(marz: &str) -> (u16, u16) {
    match marz {
        "AM-ER" => (1, 99),
        "AM-AG" => (201, 514),
        "AM-AR" => (601, 823),
        "AM-AV" => (901, 1149),
        "AM-GR" => (1201, 1626),
        "AM-LO" => (1701, 2126),
        "AM-KT" => (2201, 2526),
        "AM-SH" => (2601, 3126),
        "AM-SU" => (3201, 3519),
        "AM-VD" => (3601, 3811),
        "AM-TV" => (3901, 4216),
        _ => (1, 99),
    }
}

fn stable_hash(s: &str) -> u64 {
    // FNV-1a: stable across platforms and Rust versions, unlike the std hasher.
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

impl Geo {
    pub(crate) fn new(c: &Classifiers, tables: &'static Tables) -> Geo {
        let generic: &'static [String] = tables.streets.get("*").map_or(&[], Vec::as_slice);
        let mut communities = Vec::new();
        for com in &c.communities {
            let (lo, hi) = postcode_range(&com.marz);
            let span = u64::from(hi - lo + 1);
            let settlements: Vec<GeoSettlement> = com
                .settlements
                .iter()
                .map(|s| GeoSettlement {
                    code: s.code.clone(),
                    urban: s.kind != SettlementKind::Village,
                    postcode: lo + (stable_hash(&s.code) % span) as u16,
                    streets: tables
                        .streets
                        .get(&format!("{}/{}", com.name.hy, s.name.hy))
                        .map(Vec::as_slice),
                })
                .collect();
            if settlements.is_empty() {
                continue;
            }
            let weights = Weighted::new(
                com.settlements
                    .iter()
                    .map(|s| u64::from(s.population.max(1))),
            );
            let streets = tables
                .streets
                .get(&com.name.hy)
                .map_or(generic, Vec::as_slice);
            // The classifier lists a marz's main communities only: their weights are scaled up so that each
            // marz weighs its whole population. Yerevan's weight is then lowered a little, as new households
            // drift towards it (see `near`) and most foreigners live there.
            let listed: u64 = c
                .communities
                .iter()
                .filter(|x| x.marz == com.marz)
                .map(|x| u64::from(x.population.max(1)))
                .sum();
            let marz_total = c
                .marz(&com.marz)
                .map_or(listed, |m| u64::from(m.population).max(listed));
            let weight = u64::from(com.population.max(1)) * marz_total / listed.max(1);
            communities.push((
                if com.marz == "AM-ER" {
                    weight * YEREVAN_WEIGHT_PERCENT / 100
                } else {
                    weight
                },
                GeoCommunity {
                    marz: com.marz.clone(),
                    name_en: com.name.en.clone(),
                    code: com.code.clone(),
                    settlements,
                    weights,
                    streets,
                    yerevan: com.marz == "AM-ER",
                },
            ));
        }
        if communities.is_empty() {
            // Only reachable with broken classifiers (their own tests prevent that): keep generating, in Kentron.
            communities.push((
                1,
                GeoCommunity {
                    marz: "AM-ER".into(),
                    name_en: "Yerevan".into(),
                    code: "AM-ER-001".into(),
                    settlements: vec![GeoSettlement {
                        code: "AM-ER-001-06".into(),
                        urban: true,
                        postcode: 10,
                        streets: None,
                    }],
                    weights: Weighted::new([1]),
                    streets: generic,
                    yerevan: true,
                },
            ));
        }
        let weights = Weighted::new(communities.iter().map(|c| c.0));
        let communities: Vec<GeoCommunity> = communities.into_iter().map(|c| c.1).collect();
        let yerevan = communities
            .iter()
            .position(|c| c.yerevan)
            .and_then(|i| u16::try_from(i).ok());
        Geo {
            communities,
            weights,
            yerevan,
            village_streets: &tables.village_streets,
        }
    }

    fn community(&self, loc: Loc) -> Option<&GeoCommunity> {
        self.communities.get(usize::from(loc.community))
    }

    fn settlement(&self, loc: Loc) -> Option<(&GeoCommunity, &GeoSettlement)> {
        let c = self.community(loc)?;
        Some((c, c.settlements.get(usize::from(loc.settlement))?))
    }

    fn settle_in(&self, rng: &mut Rng, community: usize) -> Loc {
        let s = self
            .communities
            .get(community)
            .and_then(|c| c.weights.sample(rng))
            .unwrap_or(0);
        Loc {
            community: community as u16,
            settlement: s as u16,
        }
    }

    /// A settlement drawn by population.
    pub(crate) fn sample(&self, rng: &mut Rng) -> Loc {
        let c = self.weights.sample(rng).unwrap_or(0);
        self.settle_in(rng, c)
    }

    /// A settlement in Yerevan (or anywhere, should Yerevan be missing).
    pub(crate) fn yerevan(&self, rng: &mut Rng) -> Loc {
        match self.yerevan {
            Some(y) => self.settle_in(rng, usize::from(y)),
            None => self.sample(rng),
        }
    }

    /// Where a new household of someone living at `near` goes: mostly the same community, often Yerevan.
    pub(crate) fn near(&self, rng: &mut Rng, near: Loc) -> Loc {
        let x = rng.unit();
        if x < 0.8 {
            self.settle_in(rng, usize::from(near.community))
        } else if x < 0.87 {
            self.yerevan(rng)
        } else {
            self.sample(rng)
        }
    }

    /// The community of that English name (its centre), if the classifier lists it.
    pub(crate) fn by_name(&self, name_en: &str) -> Option<Loc> {
        let c = self.communities.iter().position(|c| c.name_en == name_en)?;
        Some(Loc {
            community: u16::try_from(c).ok()?,
            settlement: 0,
        })
    }

    pub(crate) fn marz(&self, loc: Loc) -> &str {
        self.community(loc).map_or("AM-ER", |c| c.marz.as_str())
    }

    pub(crate) fn place(&self, loc: Loc) -> Place {
        match self.settlement(loc) {
            Some((c, s)) => Place {
                country: "AM".into(),
                marz: Some(c.marz.clone()),
                community: Some(c.code.clone()),
                settlement: Some(s.code.clone()),
                locality: None,
            },
            None => Place {
                country: "AM".into(),
                ..Place::default()
            },
        }
    }

    /// A dwelling at `loc`: a street of the town (numbered streets in villages), a building, and in towns often
    /// an apartment.
    pub(crate) fn dwelling(&self, rng: &mut Rng, loc: Loc) -> Dwelling {
        let Some((c, s)) = self.settlement(loc) else {
            return Dwelling {
                loc,
                street: None,
                building: 1,
                building_suffix: 0,
                apartment: None,
                postcode: 10,
            };
        };
        let streets: &'static [String] = match (s.streets, s.urban) {
            (Some(own), _) => own,
            (None, true) => c.streets,
            (None, false) => self.village_streets,
        };
        let street = rng.pick(streets).map(String::as_str);
        let apartment_share = match (s.urban, c.yerevan) {
            (true, true) => 0.85,
            (true, false) => 0.6,
            (false, _) => 0.0,
        };
        let building = 1 + rng.below(if s.urban { 140 } else { 60 }) as u16;
        let building_suffix = match rng.below(10) {
            0 if s.urban => 1 + rng.below(6) as u8,
            1 if s.urban => 7,
            _ => 0,
        };
        let apartment = rng
            .chance(apartment_share)
            .then(|| 1 + rng.below(120) as u16);
        let postcode = if c.yerevan {
            s.postcode.saturating_add(rng.below(3) as u16).min(99)
        } else {
            s.postcode
        };
        Dwelling {
            loc,
            street,
            building,
            building_suffix,
            apartment,
            postcode,
        }
    }

    pub(crate) fn address(&self, d: &Dwelling) -> Address {
        let Some((c, s)) = self.settlement(d.loc) else {
            return Address {
                country: "AM".into(),
                ..Address::default()
            };
        };
        let building = match d.building_suffix {
            0 => d.building.to_string(),
            7 => format!("{}ա", d.building),
            n => format!("{}/{n}", d.building),
        };
        Address {
            country: "AM".into(),
            marz: Some(c.marz.clone()),
            community: Some(c.code.clone()),
            settlement: Some(s.code.clone()),
            street: d.street.map(str::to_string),
            building: Some(building),
            apartment: d.apartment.map(|a| a.to_string()),
            postcode: Some(format!("{:04}", d.postcode)),
            locality: None,
        }
    }
}

/// Fill a pattern: `#` becomes a random digit, `A` a random capital letter, anything else stays.
pub(crate) fn fill_pattern(rng: &mut Rng, pattern: &str) -> String {
    pattern
        .chars()
        .map(|ch| match ch {
            '#' => char::from(b'0' + rng.below(10) as u8),
            'A' => char::from(b'A' + rng.below(26) as u8),
            other => other,
        })
        .collect()
}

/// An address abroad, written the way that country writes it.
pub(crate) fn abroad_address(rng: &mut Rng, tables: &Tables, city: &AbroadCity) -> Address {
    let street = tables
        .abroad_streets
        .get(city.streets)
        .and_then(|s| rng.pick(s))
        .map_or("", String::as_str);
    let n = 1 + rng.below(150);
    let apt = 1 + rng.below(200);
    let postcode = fill_pattern(rng, &city.postcode);
    let c = &city.city;
    let line = match city.format {
        AddressFormat::Ru => format!("{street}, d. {n}, kv. {apt}, {c}, {postcode}"),
        AddressFormat::Us => format!(
            "{n}{:02} {street}, Apt {apt}, {c} {postcode}",
            rng.below(100)
        ),
        AddressFormat::Fr => format!("{n} {street}, {postcode} {c}"),
        AddressFormat::De => format!("{street} {n}, {postcode} {c}"),
        AddressFormat::Ae => format!("{street}, building {n}, apt {apt}, {c}"),
    };
    Address {
        country: city.country.clone(),
        locality: Some(line),
        ..Address::default()
    }
}
