//! Armenian patronymics: the father's first name in the genitive case (Արամ → Արամի, "Arami").
//!
//! The rule for the ի-declension of personal names:
//! - after a consonant, add -ի: Արամ → Արամի, Գագիկ → Գագիկի, Սերգեյ → Սերգեյի;
//! - after a final -ա, -ո or -օ, a glide is needed: add -յի: Ժորա → Ժորայի, Կամո → Կամոյի;
//! - after a final -ե or -ի, add -ի with no glide: Վահե → Վահեի, Եղիշե → Եղիշեի, Յուրի → Յուրիի (modern usage
//!   declines personal names in -ի this way too, not Րաֆֆու-style);
//! - names whose last syllable drops its vowel are irregular and listed in `data/genitive_irregular.tsv`
//!   (Սարգիս → Սարգսի, Դավիթ → Դավթի, Մկրտիչ → Մկրտչի, Խաչատուր → Խաչատրի).

/// The regular genitive of an Armenian first name (irregular ones are looked up before calling this).
pub(crate) fn genitive(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    out.push_str(name);
    match name.chars().last() {
        Some('ա' | 'ո' | 'օ') => out.push_str("յի"),
        _ => out.push('ի'),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Tables;

    fn patronymic(hy: &str) -> (String, String) {
        let t = Tables::get();
        let f = t
            .first
            .iter()
            .find(|f| f.name.hy == hy)
            .expect("name in the tables");
        (f.genitive.hy.clone(), f.genitive.lat.clone())
    }

    #[test]
    fn patronymic_adds_i_after_a_consonant() {
        assert_eq!(patronymic("Արամ"), ("Արամի".into(), "Arami".into()));
        assert_eq!(patronymic("Գագիկ"), ("Գագիկի".into(), "Gagiki".into()));
        assert_eq!(
            patronymic("Հովհաննես"),
            ("Հովհաննեսի".into(), "Hovhannesi".into())
        );
        assert_eq!(patronymic("Սերգեյ"), ("Սերգեյի".into(), "Sergeyi".into()));
    }

    #[test]
    fn patronymic_of_irregular_names_drops_the_stem_vowel() {
        assert_eq!(patronymic("Սարգիս"), ("Սարգսի".into(), "Sargsi".into()));
        assert_eq!(patronymic("Դավիթ"), ("Դավթի".into(), "Davti".into()));
        assert_eq!(patronymic("Մկրտիչ"), ("Մկրտչի".into(), "Mkrtchi".into()));
        assert_eq!(
            patronymic("Խաչատուր"),
            ("Խաչատրի".into(), "Khachatri".into())
        );
    }

    #[test]
    fn patronymic_after_a_final_vowel() {
        assert_eq!(patronymic("Ժորա"), ("Ժորայի".into(), "Zhorayi".into()));
        assert_eq!(patronymic("Կամո"), ("Կամոյի".into(), "Kamoyi".into()));
        assert_eq!(patronymic("Վահե"), ("Վահեի".into(), "Vahei".into()));
        assert_eq!(genitive("Նիկոլա"), "Նիկոլայի");
        assert_eq!(genitive("Յուրի"), "Յուրիի");
    }
}
