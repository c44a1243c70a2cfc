//! The embedded data files of `data/` (names, streets, places abroad, foreign residents), parsed once into
//! ready-to-clone values: every name is transliterated here, not per person.
//!
//! A malformed line is skipped and described in [`Tables::problems`]; a unit test requires that list to be
//! empty, so a broken data file fails the tests instead of panicking a caller.

use std::collections::HashMap;
use std::sync::OnceLock;

use popreg_domain::names::Name;

use crate::names::genitive;
use crate::rng::{Rng, Weighted};

/// Name pools of one group by kind (male, female, surname): (name index, weight).
type GroupPools = [Vec<(u16, u64)>; 3];

const NAMES_MALE: &str = include_str!("../data/names_male.tsv");
const NAMES_FEMALE: &str = include_str!("../data/names_female.tsv");
const SURNAMES: &str = include_str!("../data/surnames.tsv");
const MINORITY: &str = include_str!("../data/minority_names.tsv");
const GENITIVE_IRREGULAR: &str = include_str!("../data/genitive_irregular.tsv");
const STREETS: &str = include_str!("../data/streets.tsv");
const ABROAD: &str = include_str!("../data/abroad.tsv");
const FOREIGNERS: &str = include_str!("../data/foreigners.tsv");

/// Birth cohorts the Armenian first-name weights distinguish: born ≤1949, 1950–1974, 1975–1999, 2000+.
pub(crate) const COHORTS: usize = 4;

pub(crate) fn cohort(birth_year: i32) -> usize {
    match birth_year {
        ..=1949 => 0,
        1950..=1974 => 1,
        1975..=1999 => 2,
        _ => 3,
    }
}

/// A first name with its genitive (the patronymic it gives a child).
#[derive(Debug)]
pub(crate) struct FirstName {
    pub(crate) name: Name,
    pub(crate) genitive: Name,
}

/// A surname in its masculine and feminine forms (the same for Armenian surnames).
#[derive(Debug)]
pub(crate) struct Surname {
    pub(crate) male: Name,
    pub(crate) female: Name,
}

/// Weighted ids into [`Tables::first`] or [`Tables::surnames`].
#[derive(Debug, Default, Clone)]
pub(crate) struct Pool {
    ids: Vec<u16>,
    weights: Weighted,
}

impl Pool {
    fn from(entries: Vec<(u16, u64)>) -> Pool {
        Pool {
            weights: Weighted::new(entries.iter().map(|e| e.1)),
            ids: entries.into_iter().map(|e| e.0).collect(),
        }
    }

    pub(crate) fn sample(&self, rng: &mut Rng) -> Option<u16> {
        self.weights
            .sample(rng)
            .and_then(|i| self.ids.get(i).copied())
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.weights.total() == 0
    }

    /// The ids this pool can draw.
    #[cfg(test)]
    pub(crate) fn ids(&self) -> impl Iterator<Item = u16> + '_ {
        self.ids.iter().copied()
    }
}

/// The names of one group: first names per sex and birth cohort, and surnames.
#[derive(Debug, Default, Clone)]
pub(crate) struct NameGroup {
    pub(crate) male: [Pool; COHORTS],
    pub(crate) female: [Pool; COHORTS],
    pub(crate) surnames: Pool,
}

/// How an address abroad is written (see `data/abroad.tsv`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AddressFormat {
    Ru,
    Us,
    Fr,
    De,
    Ae,
}

#[derive(Debug)]
pub(crate) struct AbroadCity {
    pub(crate) country: String,
    pub(crate) city: String,
    pub(crate) postcode: String,
    pub(crate) format: AddressFormat,
    pub(crate) mission: String,
    /// Index into [`Tables::abroad_streets`].
    pub(crate) streets: usize,
}

#[derive(Debug)]
pub(crate) struct ForeignCountry {
    pub(crate) country: String,
    /// Share of ethnic Armenians among this country's citizens living in Armenia.
    pub(crate) armenian_share: f64,
    /// Nationality code of the others.
    pub(crate) nationality: String,
    /// Index into [`Tables::groups`] for the others' names.
    pub(crate) group: usize,
    pub(crate) passport_pattern: String,
    pub(crate) birth_places: Vec<String>,
}

#[derive(Debug, Default)]
pub(crate) struct Tables {
    pub(crate) first: Vec<FirstName>,
    pub(crate) surnames: Vec<Surname>,
    /// Name groups; [`Tables::ARMENIAN`] is the Armenian one.
    pub(crate) groups: Vec<NameGroup>,
    group_index: HashMap<String, usize>,
    /// Streets by town name in Armenian; `*` is the list for towns without their own.
    pub(crate) streets: HashMap<String, Vec<String>>,
    /// Streets of villages: numbered ones and a few common names.
    pub(crate) village_streets: Vec<String>,
    pub(crate) abroad: Vec<AbroadCity>,
    pub(crate) abroad_weights: Weighted,
    pub(crate) abroad_streets: Vec<Vec<String>>,
    pub(crate) foreign: Vec<ForeignCountry>,
    pub(crate) foreign_weights: Weighted,
    /// Lines that could not be used, with the reason; empty for good data files.
    pub(crate) problems: Vec<String>,
}

impl Tables {
    pub(crate) const ARMENIAN: usize = 0;

    pub(crate) fn get() -> &'static Tables {
        static TABLES: OnceLock<Tables> = OnceLock::new();
        TABLES.get_or_init(Tables::load)
    }

    pub(crate) fn group(&self, key: &str) -> usize {
        self.group_index
            .get(key)
            .copied()
            .unwrap_or(Tables::ARMENIAN)
    }

    fn load() -> Tables {
        let mut t = Tables::default();
        let irregular: HashMap<&str, &str> = rows(GENITIVE_IRREGULAR)
            .filter_map(|(_, f)| Some((*f.first()?, *f.get(1)?)))
            .collect();
        let mut first_index: HashMap<(String, String), u16> = HashMap::new();
        let mut surname_index: HashMap<(String, String), u16> = HashMap::new();

        t.group_index.insert("ARM".into(), Tables::ARMENIAN);
        t.groups.push(NameGroup::default());
        let mut arm_male: [Vec<(u16, u64)>; COHORTS] = Default::default();
        let mut arm_female: [Vec<(u16, u64)>; COHORTS] = Default::default();
        for (text, pools, file) in [
            (NAMES_MALE, &mut arm_male, "names_male"),
            (NAMES_FEMALE, &mut arm_female, "names_female"),
        ] {
            for (line, f) in rows(text) {
                let weights: Option<Vec<u64>> = f
                    .get(1..=COHORTS)
                    .map(|w| w.iter().filter_map(|x| x.parse().ok()).collect());
                let Some(weights) = weights.filter(|w| w.len() == COHORTS) else {
                    t.problems.push(format!(
                        "{file}:{line}: expected a name and {COHORTS} weights"
                    ));
                    continue;
                };
                let Some(id) = t.first_name(f[0], None, &irregular, &mut first_index, file, line)
                else {
                    continue;
                };
                for (c, w) in weights.into_iter().enumerate() {
                    pools[c].push((id, w));
                }
            }
        }
        let mut arm_surnames = Vec::new();
        for (line, f) in rows(SURNAMES) {
            let Some(w) = f.get(1).and_then(|w| w.parse::<u64>().ok()) else {
                t.problems
                    .push(format!("surnames:{line}: expected a surname and a weight"));
                continue;
            };
            if let Some(id) = t.surname(f[0], None, None, &mut surname_index, "surnames", line) {
                arm_surnames.push((id, w));
            }
        }
        t.groups[Tables::ARMENIAN] = NameGroup {
            male: arm_male.map(Pool::from),
            female: arm_female.map(Pool::from),
            surnames: Pool::from(arm_surnames),
        };

        // Minority groups and the foreign countries' own names share one shape: group, kind, names, weight.
        let mut grouped: Vec<(String, GroupPools)> = Vec::new();
        let minority = rows(MINORITY).map(|(line, f)| {
            let get = |i: usize| f.get(i).copied().unwrap_or("");
            (
                "minority_names",
                line,
                get(0),
                get(1),
                get(2),
                None,
                Some(get(3)),
                get(4),
            )
        });
        let foreign_names = rows(FOREIGNERS)
            .filter(|(_, f)| f.first() == Some(&"name"))
            .map(|(line, f)| {
                let get = |i: usize| f.get(i).copied().unwrap_or("");
                (
                    "foreigners",
                    line,
                    get(1),
                    get(2),
                    get(3),
                    Some(get(4)),
                    None,
                    get(5),
                )
            });
        for (file, line, group, kind, hy, lat, feminine, weight) in minority.chain(foreign_names) {
            let Ok(weight) = weight.parse::<u64>() else {
                t.problems.push(format!("{file}:{line}: bad weight"));
                continue;
            };
            let slot = match kind {
                "m" => 0,
                "f" => 1,
                "s" => 2,
                _ => {
                    t.problems
                        .push(format!("{file}:{line}: kind must be m, f or s"));
                    continue;
                }
            };
            let id = if slot == 2 {
                let feminine = feminine.filter(|f| *f != "-");
                t.surname(hy, lat, feminine, &mut surname_index, file, line)
            } else {
                t.first_name(hy, lat, &irregular, &mut first_index, file, line)
            };
            let Some(id) = id else { continue };
            let pos = match grouped.iter().position(|g| g.0 == group) {
                Some(p) => p,
                None => {
                    grouped.push((group.to_string(), Default::default()));
                    grouped.len() - 1
                }
            };
            if let Some(g) = grouped.get_mut(pos) {
                g.1[slot].push((id, weight));
            }
        }
        for (key, [male, female, surnames]) in grouped {
            let male = Pool::from(male);
            let female = Pool::from(female);
            if male.is_empty() || female.is_empty() {
                t.problems
                    .push(format!("name group {key} lacks male or female names"));
            }
            t.group_index.insert(key, t.groups.len());
            t.groups.push(NameGroup {
                male: std::array::from_fn(|_| male.clone()),
                female: std::array::from_fn(|_| female.clone()),
                surnames: Pool::from(surnames),
            });
        }

        for (line, f) in rows(STREETS) {
            let (Some(town), Some(street)) = (f.first(), f.get(1)) else {
                t.problems
                    .push(format!("streets:{line}: expected a town and a street"));
                continue;
            };
            let list = t.streets.entry(town.to_string()).or_default();
            match f.get(2).map(|r| r.split_once('-')) {
                None => list.push(street.to_string()),
                Some(Some((a, b))) => match (a.parse::<u32>(), b.parse::<u32>()) {
                    (Ok(a), Ok(b)) if a >= 1 && a <= b && street.contains("#-րդ") => {
                        list.extend((a..=b).map(|n| street.replace("#-րդ", &ordinal(n))));
                    }
                    _ => t.problems.push(format!("streets:{line}: bad range")),
                },
                Some(None) => t.problems.push(format!("streets:{line}: bad range")),
            }
        }
        match t.streets.get("*") {
            Some(generic) => {
                t.village_streets = (1..=12)
                    .map(|n| format!("{} փողոց", ordinal(n)))
                    .chain(generic.iter().take(6).cloned())
                    .collect();
            }
            None => t
                .problems
                .push("streets: no \"*\" list for towns without their own".into()),
        }

        t.load_abroad();
        t.load_foreign();
        t
    }

    fn load_abroad(&mut self) {
        let mut street_index: HashMap<String, usize> = HashMap::new();
        for (line, f) in rows(ABROAD).filter(|(_, f)| f.first() == Some(&"street")) {
            let (Some(country), Some(street)) = (f.get(1), f.get(2)) else {
                self.problems
                    .push(format!("abroad:{line}: expected a country and a street"));
                continue;
            };
            let idx = *street_index.entry(country.to_string()).or_insert_with(|| {
                self.abroad_streets.push(Vec::new());
                self.abroad_streets.len() - 1
            });
            if let Some(list) = self.abroad_streets.get_mut(idx) {
                list.push(street.to_string());
            }
        }
        let mut weights = Vec::new();
        for (line, f) in rows(ABROAD).filter(|(_, f)| f.first() == Some(&"city")) {
            let get = |i: usize| f.get(i).copied().unwrap_or("");
            let format = match get(4) {
                "ru" => Some(AddressFormat::Ru),
                "us" => Some(AddressFormat::Us),
                "fr" => Some(AddressFormat::Fr),
                "de" => Some(AddressFormat::De),
                "ae" => Some(AddressFormat::Ae),
                _ => None,
            };
            let (Some(format), Ok(weight), Some(&streets)) =
                (format, get(5).parse::<u64>(), street_index.get(get(1)))
            else {
                self.problems.push(format!(
                    "abroad:{line}: bad format or weight, or no streets for the country"
                ));
                continue;
            };
            self.abroad.push(AbroadCity {
                country: get(1).to_string(),
                city: get(2).to_string(),
                postcode: get(3).to_string(),
                format,
                mission: get(6).to_string(),
                streets,
            });
            weights.push(weight);
        }
        self.abroad_weights = Weighted::new(weights);
    }

    fn load_foreign(&mut self) {
        let mut weights = Vec::new();
        for (line, f) in rows(FOREIGNERS).filter(|(_, f)| f.first() == Some(&"country")) {
            let get = |i: usize| f.get(i).copied().unwrap_or("");
            let (Ok(weight), Ok(share)) = (get(2).parse::<u64>(), get(3).parse::<f64>()) else {
                self.problems
                    .push(format!("foreigners:{line}: bad weight or share"));
                continue;
            };
            let names = if get(5) == "own" { get(1) } else { get(5) };
            let Some(&group) = self.group_index.get(names) else {
                self.problems
                    .push(format!("foreigners:{line}: no names for {names}"));
                continue;
            };
            self.foreign.push(ForeignCountry {
                country: get(1).to_string(),
                armenian_share: share / 100.0,
                nationality: get(4).to_string(),
                group,
                passport_pattern: get(6).to_string(),
                birth_places: get(7).split(';').map(str::to_string).collect(),
            });
            weights.push(weight);
        }
        self.foreign_weights = Weighted::new(weights);
    }

    fn first_name(
        &mut self,
        hy: &str,
        lat: Option<&str>,
        irregular: &HashMap<&str, &str>,
        index: &mut HashMap<(String, String), u16>,
        file: &str,
        line: usize,
    ) -> Option<u16> {
        let name = match lat {
            Some(lat) => Name::with_latin(hy, lat),
            None => Name::armenian(hy),
        };
        let key = (hy.to_string(), lat.unwrap_or("").to_string());
        if let Some(&id) = index.get(&key) {
            return Some(id);
        }
        let gen_hy = irregular
            .get(hy)
            .map_or_else(|| genitive(hy), |g| g.to_string());
        match (
            name,
            Name::armenian(&gen_hy),
            u16::try_from(self.first.len()),
        ) {
            (Ok(name), Ok(genitive), Ok(id)) => {
                self.first.push(FirstName { name, genitive });
                index.insert(key, id);
                Some(id)
            }
            _ => {
                self.problems
                    .push(format!("{file}:{line}: invalid name {hy:?}"));
                None
            }
        }
    }

    fn surname(
        &mut self,
        hy: &str,
        lat: Option<&str>,
        feminine: Option<&str>,
        index: &mut HashMap<(String, String), u16>,
        file: &str,
        line: usize,
    ) -> Option<u16> {
        let key = (hy.to_string(), lat.unwrap_or("").to_string());
        if let Some(&id) = index.get(&key) {
            return Some(id);
        }
        let make = |s: &str| match lat {
            Some(lat) => Name::with_latin(s, lat),
            None => Name::armenian(s),
        };
        let male = make(hy);
        let female = feminine.map_or_else(|| make(hy), Name::armenian);
        match (male, female, u16::try_from(self.surnames.len())) {
            (Ok(male), Ok(female), Ok(id)) => {
                self.surnames.push(Surname { male, female });
                index.insert(key, id);
                Some(id)
            }
            _ => {
                self.problems
                    .push(format!("{file}:{line}: invalid surname {hy:?}"));
                None
            }
        }
    }
}

/// An Armenian ordinal numeral in figures: 1-ին, 2-րդ, 3-րդ, ...
pub(crate) fn ordinal(n: u32) -> String {
    if n == 1 {
        "1-ին".to_string()
    } else {
        format!("{n}-րդ")
    }
}

/// Data lines of a tab-separated file with their 1-based line numbers; `#` comments and blank lines skipped.
fn rows(text: &str) -> impl Iterator<Item = (usize, Vec<&str>)> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|(i, l)| (i + 1, l.split('\t').map(str::trim).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_files_parse_without_problems() {
        let t = Tables::get();
        assert!(t.problems.is_empty(), "{:#?}", t.problems);
    }

    #[test]
    fn name_lists_are_large_enough() {
        let t = Tables::get();
        let arm = &t.groups[Tables::ARMENIAN];
        let count = |pools: &[Pool; COHORTS]| {
            let mut ids: Vec<u16> = pools.iter().flat_map(|p| p.ids.iter().copied()).collect();
            ids.sort_unstable();
            ids.dedup();
            ids.len()
        };
        assert!(count(&arm.male) >= 150, "male names: {}", count(&arm.male));
        assert!(
            count(&arm.female) >= 150,
            "female names: {}",
            count(&arm.female)
        );
        assert!(
            arm.surnames.ids.len() >= 300,
            "surnames: {}",
            arm.surnames.ids.len()
        );
        for key in [
            "YAZ", "RUS", "ASY", "IR", "IN", "SY", "CN", "GE", "US", "LB",
        ] {
            let g = &t.groups[t.group(key)];
            assert!(t.group(key) != Tables::ARMENIAN, "{key}");
            assert!(
                !g.male[0].is_empty() && !g.female[0].is_empty() && !g.surnames.is_empty(),
                "{key}"
            );
        }
        assert!(!t.abroad.is_empty() && !t.foreign.is_empty());
    }

    #[test]
    fn armenian_names_come_with_passport_transliteration() {
        let t = Tables::get();
        let find = |hy: &str| {
            t.first
                .iter()
                .find(|f| f.name.hy == hy)
                .map(|f| f.name.lat.as_str())
        };
        assert_eq!(find("Դավիթ"), Some("Davit"));
        assert_eq!(find("Հովհաննես"), Some("Hovhannes"));
        assert_eq!(find("Եվա"), Some("Yeva"));
        assert_eq!(find("Տաթև"), Some("Tatev"));
        let ru = t
            .surnames
            .iter()
            .find(|s| s.male.hy == "Իվանով")
            .map(|s| (s.male.lat.as_str(), s.female.lat.as_str()));
        assert_eq!(ru, Some(("Ivanov", "Ivanova")));
        let foreign = t
            .first
            .iter()
            .find(|f| f.name.hy == "Հոսեյն")
            .map(|f| f.name.lat.as_str());
        assert_eq!(foreign, Some("Hossein"));
    }
}
