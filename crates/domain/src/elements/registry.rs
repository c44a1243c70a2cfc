//! The registry's tables: the data elements, the composite types and the submission kinds, as written in
//! `docs/submissions.md`. Texts: Armenian in the reformed orthography (`և`), Russian in Cyrillic only.

use super::{
    Choice, CompositeDef, ElementDef, FieldDef, KindDef, Sample, SecurityClass, Text, ValueDomain,
};
use crate::access::BodyType;
use crate::error::Code;

use BodyType::*;
use SecurityClass::*;
use ValueDomain::{Boolean, Classifier, Composite, Date, Enumeration, Integer, Name, Psn};

const fn t(hy: &'static str, en: &'static str, ru: &'static str) -> Text {
    Text { hy, en, ru }
}

const fn req(name: &'static str, element: &'static str) -> FieldDef {
    FieldDef {
        name,
        element,
        required: true,
    }
}

const fn opt(name: &'static str, element: &'static str) -> FieldDef {
    FieldDef {
        name,
        element,
        required: false,
    }
}

const fn el(
    id: &'static str,
    name: Text,
    definition: Text,
    domain: ValueDomain,
    security: SecurityClass,
    sample: Sample,
) -> ElementDef {
    ElementDef {
        id,
        version: 1,
        name,
        definition,
        domain,
        security,
        sample,
    }
}

// ------------------------------------------------------------------------------------------------ domains

const SEX: &[Choice] = &[
    Choice {
        code: "F",
        meaning: t("Իգական", "Female", "Женский"),
    },
    Choice {
        code: "M",
        meaning: t("Արական", "Male", "Мужской"),
    },
];

const GUARDIANSHIP_KIND: &[Choice] = &[
    Choice {
        code: "guardianship",
        meaning: t("Խնամակալություն", "Guardianship", "Опека"),
    },
    Choice {
        code: "curatorship",
        meaning: t("Հոգաբարձություն", "Curatorship", "Попечительство"),
    },
];

const GUARDIANSHIP_GROUND: &[Choice] = &[
    Choice {
        code: "age",
        meaning: t(
            "Տարիք (անչափահաս)",
            "Age (a minor)",
            "Возраст (несовершеннолетний)",
        ),
    },
    Choice {
        code: "legal_capacity",
        meaning: t(
            "Գործունակության սահմանափակում",
            "Limited legal capacity",
            "Ограничение дееспособности",
        ),
    },
];

const SCHEMA_VERSIONS: &[Choice] = &[Choice {
    code: "1",
    meaning: t("Տարբերակ 1", "Version 1", "Версия 1"),
}];

const NAME_TEXT: ValueDomain = ValueDomain::Text { min: 1, max: 200 };
const SHORT_TEXT: ValueDomain = ValueDomain::Text { min: 1, max: 32 };

// ------------------------------------------------------------------------------------------------ samples

const SUBJECT_PSN: Sample = Sample::Psn([3, 1, 4, 1, 5, 9, 2, 6, 5]);

const DESCRIBED_PERSON: Sample = Sample::Object(&[
    ("no_psn", Sample::Bool(true)),
    ("first_name", Sample::Str("Կարեն")),
    ("patronymic", Sample::Str("Սերգեյի")),
    ("surname", Sample::Str("Հակոբյան")),
    ("birth_date", Sample::Str("1988-07-03")),
    ("document_type", Sample::Str("FOREIGN_PASSPORT")),
    ("document_number", Sample::Str("75 1234567")),
    ("document_country", Sample::Str("RU")),
    ("citizenship", Sample::Str("RU")),
]);

const PLACE_AM: Sample = Sample::Object(&[
    ("country", Sample::Str("AM")),
    ("marz", Sample::Str("AM-ER")),
    ("community", Sample::Str("AM-ER-001")),
    ("settlement", Sample::Str("AM-ER-001-01")),
]);

const PLACE_ABROAD: Sample = Sample::Object(&[
    ("country", Sample::Str("FR")),
    ("locality", Sample::Str("Lyon")),
]);

// ------------------------------------------------------------------------------------------------ elements

pub(crate) const ELEMENTS: &[ElementDef] = &[
    // --- the person
    el(
        "psr.person.psn",
        t(
            "Հանրային ծառայությունների համարանիշ",
            "Public services number (PSN)",
            "Номер общественных услуг",
        ),
        t(
            "Անձի տասը թվանշանից բաղկացած հանրային ծառայությունների համարանիշը․ վերջին թվանշանը Վերհուֆի ստուգիչ թվանշանն է։",
            "The person's ten-digit public services number; the last digit is a Verhoeff check digit. In a kind's \
             own fields it names the subject, the person the event is about.",
            "Десятизначный номер общественных услуг лица; последняя цифра — контрольная цифра Верхуффа.",
        ),
        Psn,
        Personal,
        SUBJECT_PSN,
    ),
    el(
        "psr.person.first_name",
        t("Անուն", "First name", "Имя"),
        t(
            "Անձի անունը հայերեն տառերով․ լատինատառ ձևը ստացվում է անձնագրային տառադարձման աղյուսակով։",
            "The person's given name in Armenian script; the Latin form is derived by the passport \
             transliteration table.",
            "Имя лица армянскими буквами; латинская форма выводится по паспортной таблице транслитерации.",
        ),
        Name,
        Personal,
        Sample::Str("Արամ"),
    ),
    el(
        "psr.person.patronymic",
        t("Հայրանուն", "Patronymic", "Отчество"),
        t(
            "Անձի հայրանունը հայերեն տառերով։",
            "The person's patronymic (from the father's first name) in Armenian script.",
            "Отчество лица армянскими буквами.",
        ),
        Name,
        Personal,
        Sample::Str("Դավթի"),
    ),
    el(
        "psr.person.surname",
        t("Ազգանուն", "Surname", "Фамилия"),
        t(
            "Անձի ազգանունը հայերեն տառերով։",
            "The person's family name in Armenian script.",
            "Фамилия лица армянскими буквами.",
        ),
        Name,
        Personal,
        Sample::Str("Պետրոսյան"),
    ),
    el(
        "psr.person.sex",
        t("Սեռ", "Sex", "Пол"),
        t(
            "Անձի սեռը՝ ծննդյան կամ գրանցման պահին գրանցված։",
            "The person's sex as recorded at birth or registration.",
            "Пол лица, записанный при рождении или регистрации.",
        ),
        Enumeration {
            values: SEX,
            error: Code::SexInvalid,
        },
        Personal,
        Sample::Str("M"),
    ),
    el(
        "psr.person.birth_date",
        t("Ծննդյան ամսաթիվ", "Date of birth", "Дата рождения"),
        t(
            "Անձի ծննդյան օրացուցային ամսաթիվը։",
            "The calendar date on which the person was born.",
            "Календарная дата рождения лица.",
        ),
        Date,
        Personal,
        Sample::Str("2026-01-10"),
    ),
    el(
        "psr.person.birth_place",
        t("Ծննդավայր", "Place of birth", "Место рождения"),
        t(
            "Անձի ծննդյան վայրը՝ երկիրը, իսկ Հայաստանում՝ մարզը, համայնքը և բնակավայրը։",
            "Where the person was born: the country and, in Armenia, the marz, community and settlement.",
            "Место рождения лица: страна, а в Армении — марз, община и населённый пункт.",
        ),
        Composite("place"),
        Personal,
        PLACE_AM,
    ),
    el(
        "psr.person.birth_place_abroad",
        t(
            "Ծննդավայր արտասահմանում",
            "Place of birth abroad",
            "Место рождения за рубежом",
        ),
        t(
            "Անձի ծննդյան վայրը Հայաստանից դուրս․ երկիրը չի կարող լինել Հայաստանը։",
            "Where the person was born, outside Armenia: the country cannot be Armenia.",
            "Место рождения лица за пределами Армении: страна не может быть Арменией.",
        ),
        Composite("place"),
        Personal,
        PLACE_ABROAD,
    ),
    el(
        "psr.person.mother",
        t("Մայր", "Mother", "Мать"),
        t(
            "Երեխայի մայրը՝ ռեգիստրում գրանցված անձ ըստ ՀԾՀ-ի կամ ՀԾՀ չունեցող նկարագրված անձ։",
            "The child's mother: a person in the register by PSN, or a described person without a PSN.",
            "Мать ребёнка: лицо из регистра по номеру общественных услуг или описанное лицо без него.",
        ),
        Composite("person"),
        Personal,
        Sample::Object(&[("psn", Sample::Psn([2, 7, 1, 8, 2, 8, 1, 8, 3]))]),
    ),
    el(
        "psr.person.father",
        t("Հայր", "Father", "Отец"),
        t(
            "Երեխայի հայրը (ծննդյան պահին կամ հայրության ճանաչմամբ)՝ ըստ ՀԾՀ-ի կամ նկարագրված։",
            "The child's father (at birth, or as recognised): by PSN, or described without a PSN.",
            "Отец ребёнка (при рождении или по признанию отцовства): по номеру или описанный без номера.",
        ),
        Composite("person"),
        Personal,
        DESCRIBED_PERSON,
    ),
    el(
        "psr.person.nationality",
        t(
            "Ազգություն",
            "Nationality (ethnic origin)",
            "Национальность",
        ),
        t(
            "Անձի ազգությունը՝ ըստ անձի հայտարարության։",
            "The person's nationality (ethnic origin) as the person declared it.",
            "Национальность лица по его заявлению.",
        ),
        Classifier("nationalities"),
        SpecialCategory,
        Sample::Str("ARM"),
    ),
    el(
        "psr.person.citizenship",
        t("Քաղաքացիություն", "Citizenship", "Гражданство"),
        t(
            "Երկիրը, որի քաղաքացին է նկարագրված անձը։",
            "A country whose citizen the described person is.",
            "Страна, гражданином которой является описанное лицо.",
        ),
        Classifier("countries"),
        Personal,
        Sample::Str("RU"),
    ),
    el(
        "psr.person.no_psn",
        t("ՀԾՀ չունի", "Has no PSN", "Нет номера"),
        t(
            "Նկարագրված անձը ՀԾՀ չունենալու բացահայտ նշումը․ միշտ ճշմարիտ արժեք։",
            "The explicit mark that the described person has no PSN; always true.",
            "Явная отметка, что у описанного лица нет номера общественных услуг; всегда истина.",
        ),
        Boolean { only_true: true },
        Personal,
        Sample::Bool(true),
    ),
    // --- events
    el(
        "psr.event.date",
        t("Իրադարձության ամսաթիվ", "Date of the event", "Дата события"),
        t(
            "Ակտի կամ իրադարձության ուժի մեջ մտնելու ամսաթիվը (մահ, ամուսնություն, ամուսնալուծություն, անվան փոփոխություն, ճանաչում, որդեգրում, որոշում)։",
            "The date on which the act or event took effect (death, marriage, divorce, change of name, \
             recognition, adoption, decision).",
            "Дата, с которой акт или событие вступили в силу (смерть, брак, развод, перемена имени, признание, \
             усыновление, решение).",
        ),
        Date,
        Personal,
        Sample::Str("2026-02-12"),
    ),
    el(
        "psr.death.place",
        t("Մահվան վայր", "Place of death", "Место смерти"),
        t(
            "Անձի մահվան վայրը։",
            "Where the person died.",
            "Место смерти лица.",
        ),
        Composite("place"),
        Personal,
        PLACE_AM,
    ),
    el(
        "psr.death.place_abroad",
        t(
            "Մահվան վայր արտասահմանում",
            "Place of death abroad",
            "Место смерти за рубежом",
        ),
        t(
            "Անձի մահվան վայրը Հայաստանից դուրս․ երկիրը չի կարող լինել Հայաստանը։",
            "Where the person died, outside Armenia: the country cannot be Armenia.",
            "Место смерти лица за пределами Армении: страна не может быть Арменией.",
        ),
        Composite("place"),
        Personal,
        PLACE_ABROAD,
    ),
    el(
        "psr.death.declared_by_court",
        t(
            "Դատարանի կողմից մահացած ճանաչված",
            "Declared dead by a court",
            "Объявлен умершим судом",
        ),
        t(
            "Արդյոք անձը մահացած է ճանաչվել դատարանի որոշմամբ (բժշկական արձանագրության փոխարեն)։",
            "Whether a court declared the person dead (instead of a medical record of the death).",
            "Объявлено ли лицо умершим по решению суда (вместо медицинской записи о смерти).",
        ),
        Boolean { only_true: false },
        Personal,
        Sample::Bool(false),
    ),
    el(
        "psr.marriage.spouse",
        t("Ամուսին", "Spouse", "Супруг"),
        t(
            "Ամուսնության կամ ամուսնալուծության մյուս կողմը՝ ըստ ՀԾՀ-ի կամ նկարագրված։",
            "The other party to the marriage or divorce: by PSN, or described without a PSN.",
            "Другая сторона брака или развода: по номеру или описанная без номера.",
        ),
        Composite("person"),
        Personal,
        Sample::Object(&[("psn", Sample::Psn([5, 8, 2, 0, 9, 7, 4, 9, 4]))]),
    ),
    el(
        "psr.civil_act.number",
        t(
            "Քաղաքացիական կացության ակտի համար",
            "Civil status act number",
            "Номер акта гражданского состояния",
        ),
        t(
            "Քաղաքացիական կացության ակտի գրառման համարը։",
            "The number of the civil status act record.",
            "Номер записи акта гражданского состояния.",
        ),
        ValueDomain::Text { min: 1, max: 50 },
        Personal,
        Sample::Str("2026-0412"),
    ),
    el(
        "psr.adoption.adoptive_mother",
        t("Որդեգրող մայր", "Adoptive mother", "Усыновительница"),
        t(
            "Երեխային որդեգրող կինը՝ ըստ ՀԾՀ-ի կամ նկարագրված։",
            "The woman who adopts the child: by PSN, or described without a PSN.",
            "Женщина, усыновляющая ребёнка: по номеру или описанная без номера.",
        ),
        Composite("person"),
        Sensitive,
        Sample::Object(&[("psn", Sample::Psn([6, 9, 3, 1, 4, 7, 1, 8, 0]))]),
    ),
    el(
        "psr.adoption.adoptive_father",
        t("Որդեգրող հայր", "Adoptive father", "Усыновитель"),
        t(
            "Երեխային որդեգրող տղամարդը՝ ըստ ՀԾՀ-ի կամ նկարագրված։",
            "The man who adopts the child: by PSN, or described without a PSN.",
            "Мужчина, усыновляющий ребёнка: по номеру или описанный без номера.",
        ),
        Composite("person"),
        Sensitive,
        DESCRIBED_PERSON,
    ),
    el(
        "psr.guardianship.guardian",
        t(
            "Խնամակալ կամ հոգաբարձու",
            "Guardian or curator",
            "Опекун или попечитель",
        ),
        t(
            "Խնամարկյալի խնամակալ կամ հոգաբարձու նշանակված անձը՝ ըստ ՀԾՀ-ի կամ նկարագրված։",
            "The person appointed guardian or curator of the ward: by PSN, or described without a PSN.",
            "Лицо, назначенное опекуном или попечителем подопечного: по номеру или описанное без номера.",
        ),
        Composite("person"),
        Sensitive,
        Sample::Object(&[("psn", Sample::Psn([4, 1, 4, 2, 1, 3, 5, 6, 2]))]),
    ),
    el(
        "psr.guardianship.kind",
        t("Խնամակալության տեսակ", "Kind of guardianship", "Вид опеки"),
        t(
            "Խնամակալություն է, թե հոգաբարձություն։",
            "Whether the arrangement is guardianship or curatorship.",
            "Опека или попечительство.",
        ),
        Enumeration {
            values: GUARDIANSHIP_KIND,
            error: Code::ValueOutOfRange,
        },
        Sensitive,
        Sample::Str("guardianship"),
    ),
    el(
        "psr.guardianship.ground",
        t(
            "Խնամակալության հիմք",
            "Ground of guardianship",
            "Основание опеки",
        ),
        t(
            "Ինչու է խնամարկյալին անհրաժեշտ խնամակալ՝ տարիքի կամ գործունակության սահմանափակման պատճառով։",
            "Why the ward needs a guardian: age, or limited legal capacity.",
            "Почему подопечному нужен опекун: по возрасту или из-за ограничения дееспособности.",
        ),
        Enumeration {
            values: GUARDIANSHIP_GROUND,
            error: Code::ValueOutOfRange,
        },
        Sensitive,
        Sample::Str("age"),
    ),
    // --- consular registration and addresses
    el(
        "psr.consular.mission",
        t(
            "Դիվանագիտական ներկայացուցչություն",
            "Diplomatic mission",
            "Дипломатическое представительство",
        ),
        t(
            "Դեսպանության կամ հյուպատոսության անվանումը կամ ծածկագիրը, որտեղ անձը հաշվառված է։",
            "The name or code of the embassy or consulate where the person is registered.",
            "Название или код посольства или консульства, где лицо состоит на учёте.",
        ),
        NAME_TEXT,
        Personal,
        Sample::Str("ՀՀ դեսպանություն Ֆրանսիայում"),
    ),
    el(
        "psr.consular.since",
        t("Հաշվառման սկիզբ", "Registered since", "Начало учёта"),
        t(
            "Հյուպատոսական հաշվառման առաջին օրը։",
            "The first day of the consular registration.",
            "Первый день консульского учёта.",
        ),
        Date,
        Personal,
        Sample::Str("2025-09-01"),
    ),
    el(
        "psr.consular.until",
        t("Հաշվառման ավարտ", "Registered until", "Окончание учёта"),
        t(
            "Հյուպատոսական հաշվառման վերջին օրը, եթե այն ավարտվել է կամ ունի ժամկետ։",
            "The last day of the consular registration, if it has ended or has a term.",
            "Последний день консульского учёта, если он окончен или ограничен сроком.",
        ),
        Date,
        Personal,
        Sample::Str("2028-08-31"),
    ),
    el(
        "psr.address.address",
        t("Հասցե", "Address", "Адрес"),
        t(
            "Փոստային հասցե՝ Հայաստանում ըստ մարզի, համայնքի, բնակավայրի, փողոցի և շենքի, արտասահմանում՝ երկրով և ազատ տեքստով։",
            "A postal address: in Armenia by marz, community, settlement, street and building; abroad by country \
             and free-text lines.",
            "Почтовый адрес: в Армении по марзу, общине, населённому пункту, улице и зданию; за рубежом — страна и \
             строки свободного текста.",
        ),
        Composite("address"),
        Personal,
        Sample::Object(&[
            ("country", Sample::Str("AM")),
            ("marz", Sample::Str("AM-ER")),
            ("community", Sample::Str("AM-ER-001")),
            ("settlement", Sample::Str("AM-ER-001-01")),
            ("street", Sample::Str("Մաշտոցի պողոտա")),
            ("building", Sample::Str("12")),
            ("apartment", Sample::Str("5")),
            ("postcode", Sample::Str("0010")),
        ]),
    ),
    el(
        "psr.address.abroad",
        t("Հասցե արտասահմանում", "Address abroad", "Адрес за рубежом"),
        t(
            "Հայաստանից դուրս գտնվող հասցե․ երկիրը չի կարող լինել Հայաստանը։",
            "An address outside Armenia: an address whose country is not Armenia.",
            "Адрес за пределами Армении: страна адреса не может быть Арменией.",
        ),
        Composite("address"),
        Personal,
        Sample::Object(&[
            ("country", Sample::Str("FR")),
            ("street", Sample::Str("12 rue de Rivoli")),
            ("postcode", Sample::Str("75004")),
            ("locality", Sample::Str("Paris")),
        ]),
    ),
    el(
        "psr.address.valid_from",
        t("Գործողության սկիզբ", "Valid from", "Действует с"),
        t(
            "Հասցեի գործողության առաջին օրը։",
            "The first day the address applies.",
            "Первый день действия адреса.",
        ),
        Date,
        Personal,
        Sample::Str("2026-03-01"),
    ),
    el(
        "psr.address.valid_to",
        t("Գործողության ավարտ", "Valid to", "Действует до"),
        t(
            "Հասցեի գործողության վերջին օրը (ներառյալ)․ բացակայում է, եթե ժամկետ չկա։",
            "The last day the address applies (inclusive); absent when the address has no end.",
            "Последний день действия адреса (включительно); отсутствует, если срок не ограничен.",
        ),
        Date,
        Personal,
        Sample::Str("2027-02-28"),
    ),
    el(
        "psr.address.street",
        t("Փողոց", "Street", "Улица"),
        t(
            "Հասցեի փողոցը, պողոտան կամ թաղամասը։",
            "The street, avenue or quarter of the address.",
            "Улица, проспект или квартал адреса.",
        ),
        NAME_TEXT,
        Personal,
        Sample::Str("Մաշտոցի պողոտա"),
    ),
    el(
        "psr.address.building",
        t("Շենք", "Building", "Здание"),
        t(
            "Շենքի կամ տան համարը։",
            "The building or house number.",
            "Номер здания или дома.",
        ),
        SHORT_TEXT,
        Personal,
        Sample::Str("12"),
    ),
    el(
        "psr.address.apartment",
        t("Բնակարան", "Apartment", "Квартира"),
        t(
            "Բնակարանի համարը։",
            "The apartment number.",
            "Номер квартиры.",
        ),
        SHORT_TEXT,
        Personal,
        Sample::Str("5"),
    ),
    el(
        "psr.address.postcode",
        t("Փոստային ինդեքս", "Postcode", "Почтовый индекс"),
        t(
            "Հասցեի փոստային ինդեքսը։",
            "The postal code of the address.",
            "Почтовый индекс адреса.",
        ),
        ValueDomain::Text { min: 1, max: 16 },
        Personal,
        Sample::Str("0010"),
    ),
    // --- places
    el(
        "psr.location.country",
        t("Երկիր", "Country", "Страна"),
        t(
            "Երկիրը՝ ըստ ԻՍՕ 3166-1 երկտառ ծածկագրի։",
            "A country, by its ISO 3166-1 alpha-2 code.",
            "Страна по двухбуквенному коду ИСО 3166-1.",
        ),
        Classifier("countries"),
        Personal,
        Sample::Str("AM"),
    ),
    el(
        "psr.location.marz",
        t("Մարզ", "Marz", "Марз"),
        t(
            "Երևանը կամ Հայաստանի տասը մարզերից մեկը (ԻՍՕ 3166-2)։",
            "Yerevan or one of the ten marzes of Armenia (ISO 3166-2:AM).",
            "Ереван или один из десяти марзов Армении (ИСО 3166-2).",
        ),
        Classifier("marzes"),
        Personal,
        Sample::Str("AM-ER"),
    ),
    el(
        "psr.location.community",
        t("Համայնք", "Community", "Община"),
        t(
            "Համայնքը (տեղական ինքնակառավարման միավոր) Հայաստանում։",
            "The community (the unit of local self-government) in Armenia.",
            "Община (единица местного самоуправления) в Армении.",
        ),
        Classifier("communities"),
        Personal,
        Sample::Str("AM-ER-001"),
    ),
    el(
        "psr.location.settlement",
        t("Բնակավայր", "Settlement", "Населённый пункт"),
        t(
            "Համայնքի կազմում գտնվող քաղաք, գյուղ կամ Երևանի վարչական շրջան։",
            "A city, village or district of Yerevan within a community.",
            "Город, село или административный район Еревана в составе общины.",
        ),
        Classifier("settlements"),
        Personal,
        Sample::Str("AM-ER-001-01"),
    ),
    el(
        "psr.location.locality",
        t(
            "Բնակավայր արտասահմանում",
            "Locality abroad",
            "Населённый пункт за рубежом",
        ),
        t(
            "Վայրի անվանումը կամ հասցեի տողերը ազատ տեքստով՝ արտասահմանում գտնվող վայրերի համար։",
            "The name of a place or address lines in free text, for places abroad.",
            "Название места или строки адреса свободным текстом для мест за рубежом.",
        ),
        NAME_TEXT,
        Personal,
        Sample::Str("Paris"),
    ),
    // --- courts and penitentiary
    el(
        "psr.incapacity.judgment_date",
        t(
            "Դատական ակտի ամսաթիվ",
            "Date of the judgment",
            "Дата судебного решения",
        ),
        t(
            "Անձին անգործունակ ճանաչելու մասին դատական ակտի օրինական ուժի մեջ մտնելու ամսաթիվը։",
            "The date the court's judgment declaring the person legally incapable took effect.",
            "Дата вступления в силу решения суда о признании лица недееспособным.",
        ),
        Date,
        SpecialCategory,
        Sample::Str("2025-11-05"),
    ),
    el(
        "psr.court.name",
        t("Դատարան", "Court", "Суд"),
        t(
            "Դատական ակտը կամ դատավճիռը կայացրած դատարանի անվանումը։",
            "The name of the court that gave the judgment or verdict.",
            "Наименование суда, вынесшего решение или приговор.",
        ),
        NAME_TEXT,
        SpecialCategory,
        Sample::Str("Երևանի ընդհանուր իրավասության առաջին ատյանի դատարան"),
    ),
    el(
        "psr.court.case_number",
        t("Գործի համար", "Case number", "Номер дела"),
        t(
            "Դատական գործի համարը։",
            "The number of the court case.",
            "Номер судебного дела.",
        ),
        ValueDomain::Text { min: 1, max: 64 },
        SpecialCategory,
        Sample::Str("ԵԴ/0123/01/25"),
    ),
    el(
        "psr.conviction.verdict_effective",
        t(
            "Դատավճռի ուժի մեջ մտնելու ամսաթիվ",
            "Date the verdict took effect",
            "Дата вступления приговора в силу",
        ),
        t(
            "Մեղադրական դատավճռի օրինական ուժի մեջ մտնելու ամսաթիվը։",
            "The date the conviction verdict took legal effect.",
            "Дата вступления обвинительного приговора в законную силу.",
        ),
        Date,
        SpecialCategory,
        Sample::Str("2024-04-18"),
    ),
    el(
        "psr.conviction.term_months",
        t(
            "Պատժի ժամկետը ամիսներով",
            "Term in months",
            "Срок в месяцах",
        ),
        t(
            "Նշանակված պատժի ժամկետը՝ ամիսներով։",
            "The length of the sentence in months.",
            "Срок назначенного наказания в месяцах.",
        ),
        Integer { min: 0, max: 600 },
        SpecialCategory,
        Sample::Int(36),
    ),
    // --- citizenship, nationality, documents
    el(
        "psr.citizenship.country",
        t(
            "Քաղաքացիության երկիր",
            "Country of citizenship",
            "Страна гражданства",
        ),
        t(
            "Երկիրը, որի քաղաքացիությունը ձեռք է բերվել կամ դադարել։",
            "The country whose citizenship was acquired or terminated.",
            "Страна, гражданство которой приобретено или прекращено.",
        ),
        Classifier("countries"),
        Personal,
        Sample::Str("AM"),
    ),
    el(
        "psr.citizenship.ground",
        t(
            "Քաղաքացիության փոփոխության հիմք",
            "Ground of the citizenship change",
            "Основание изменения гражданства",
        ),
        t(
            "Հայաստանի քաղաքացիության ձեռքբերման կամ դադարման իրավական հիմքը։",
            "The legal ground of the acquisition or termination of Armenian citizenship.",
            "Правовое основание приобретения или прекращения гражданства Армении.",
        ),
        Classifier("citizenship-grounds"),
        Personal,
        Sample::Str("ACQ_ADMISSION"),
    ),
    el(
        "psr.identity_document.type",
        t(
            "Անձը հաստատող փաստաթղթի տեսակ",
            "Identity document type",
            "Вид документа, удостоверяющего личность",
        ),
        t(
            "Անձը հաստատող փաստաթղթի տեսակը։",
            "The kind of identity document.",
            "Вид документа, удостоверяющего личность.",
        ),
        Classifier("identity-document-types"),
        Personal,
        Sample::Str("ID_CARD"),
    ),
    el(
        "psr.identity_document.country",
        t("Տրամադրող երկիր", "Issuing country", "Страна выдачи"),
        t(
            "Փաստաթուղթը տրամադրած երկիրը։",
            "The country that issued the document.",
            "Страна, выдавшая документ.",
        ),
        Classifier("countries"),
        Personal,
        Sample::Str("AM"),
    ),
    el(
        "psr.residence_document.type",
        t(
            "Կացության փաստաթղթի տեսակ",
            "Residence document type",
            "Вид документа о проживании",
        ),
        t(
            "Օրինական բնակությունը հավաստող ինը փաստաթղթերից մեկը։",
            "One of the nine documents proving legal residence.",
            "Один из девяти документов, подтверждающих законное проживание.",
        ),
        Classifier("residence-documents"),
        Personal,
        Sample::Str("RD1"),
    ),
    el(
        "psr.document.number",
        t("Փաստաթղթի համար", "Document number", "Номер документа"),
        t(
            "Փաստաթղթի սերիան և համարը, ինչպես տպված են փաստաթղթի վրա։",
            "The series and number of the document as printed on it.",
            "Серия и номер документа, как они напечатаны на нём.",
        ),
        SHORT_TEXT,
        Personal,
        Sample::Str("AN0123456"),
    ),
    el(
        "psr.document.issued_on",
        t("Տրման ամսաթիվ", "Date of issue", "Дата выдачи"),
        t(
            "Փաստաթղթի տրման ամսաթիվը։",
            "The date the document was issued.",
            "Дата выдачи документа.",
        ),
        Date,
        Personal,
        Sample::Str("2025-06-20"),
    ),
    el(
        "psr.document.valid_until",
        t("Վավերականության ավարտ", "Valid until", "Действителен до"),
        t(
            "Փաստաթղթի վավերականության վերջին օրը։",
            "The last day the document is valid.",
            "Последний день действия документа.",
        ),
        Date,
        Personal,
        Sample::Str("2035-06-19"),
    ),
    // --- the envelope
    el(
        "psr.submission.schema_version",
        t("Սխեմայի տարբերակ", "Schema version", "Версия схемы"),
        t(
            "Հաղորդման կառուցվածքի տարբերակը․ աջակցվում է միայն 1-ը, որը լռելյայն է։",
            "The version of the wire contract the submission follows; only 1 is supported, and it is the \
             default.",
            "Версия формата, которой следует подача; поддерживается только 1, она же по умолчанию.",
        ),
        Enumeration {
            values: SCHEMA_VERSIONS,
            error: Code::UnsupportedSchemaVersion,
        },
        Public,
        Sample::Str("1"),
    ),
];

// ------------------------------------------------------------------------------------------------ composites

const PLACE_FIELDS: &[FieldDef] = &[
    req("country", "psr.location.country"),
    opt("marz", "psr.location.marz"),
    opt("community", "psr.location.community"),
    opt("settlement", "psr.location.settlement"),
    opt("locality", "psr.location.locality"),
];

const ADDRESS_FIELDS: &[FieldDef] = &[
    req("country", "psr.location.country"),
    opt("marz", "psr.location.marz"),
    opt("community", "psr.location.community"),
    opt("settlement", "psr.location.settlement"),
    opt("street", "psr.address.street"),
    opt("building", "psr.address.building"),
    opt("apartment", "psr.address.apartment"),
    opt("postcode", "psr.address.postcode"),
    opt("locality", "psr.location.locality"),
];

const PERSON_BY_PSN: &[FieldDef] = &[req("psn", "psr.person.psn")];

const PERSON_DESCRIBED: &[FieldDef] = &[
    req("no_psn", "psr.person.no_psn"),
    req("first_name", "psr.person.first_name"),
    opt("patronymic", "psr.person.patronymic"),
    req("surname", "psr.person.surname"),
    opt("birth_date", "psr.person.birth_date"),
    req("document_type", "psr.identity_document.type"),
    req("document_number", "psr.document.number"),
    opt("document_country", "psr.identity_document.country"),
    opt("citizenship", "psr.person.citizenship"),
];

pub(crate) const COMPOSITES: &[CompositeDef] = &[
    CompositeDef {
        name: "place",
        title: t("Վայր", "Place", "Место"),
        definition: t(
            "Վայր՝ երկիրը, իսկ Հայաստանում՝ մարզը, համայնքը և բնակավայրը, արտասահմանում՝ ազատ տեքստով։",
            "A place: the country and, in Armenia, the marz, community and settlement; abroad, a free-text \
             locality.",
            "Место: страна, а в Армении — марз, община и населённый пункт; за рубежом — местность свободным \
             текстом.",
        ),
        forms: &[PLACE_FIELDS],
    },
    CompositeDef {
        name: "address",
        title: t("Հասցե", "Address", "Адрес"),
        definition: t(
            "Փոստային հասցե՝ վայրի տարրերով, փողոցով, շենքով, բնակարանով և փոստային ինդեքսով։",
            "A postal address: the parts of a place plus street, building, apartment and postcode.",
            "Почтовый адрес: части места, а также улица, здание, квартира и почтовый индекс.",
        ),
        forms: &[ADDRESS_FIELDS],
    },
    CompositeDef {
        name: "person",
        title: t("Անձ", "Person", "Лицо"),
        definition: t(
            "Այլ անձ՝ կամ ըստ ՀԾՀ-ի, կամ, եթե ՀԾՀ չունի, նկարագրված անուններով, անձը հաստատող փաստաթղթով և քաղաքացիությամբ։",
            "Another person: either by PSN, or, when the person has no PSN, described by names, identity \
             document and citizenship.",
            "Другое лицо: по номеру общественных услуг или, если номера нет, описанное именем, документом, \
             удостоверяющим личность, и гражданством.",
        ),
        forms: &[PERSON_BY_PSN, PERSON_DESCRIBED],
    },
];

// ------------------------------------------------------------------------------------------------ kinds

const SUBJECT: FieldDef = req("psn", "psr.person.psn");
const DATE: FieldDef = req("date", "psr.event.date");
const FIRST_NAME: FieldDef = req("first_name", "psr.person.first_name");
const PATRONYMIC: FieldDef = opt("patronymic", "psr.person.patronymic");
const SURNAME: FieldDef = req("surname", "psr.person.surname");
const NAMES_AFTER: [FieldDef; 3] = [
    opt("first_name", "psr.person.first_name"),
    opt("patronymic", "psr.person.patronymic"),
    opt("surname", "psr.person.surname"),
];
const NEW_PERSON: [FieldDef; 6] = [
    FIRST_NAME,
    PATRONYMIC,
    SURNAME,
    req("sex", "psr.person.sex"),
    req("birth_date", "psr.person.birth_date"),
    req("birth_place", "psr.person.birth_place"),
];
const SPOUSE_ACT: [FieldDef; 4] = [
    SUBJECT,
    req("spouse", "psr.marriage.spouse"),
    DATE,
    opt("act_number", "psr.civil_act.number"),
];
const CITIZENSHIP: [FieldDef; 4] = [
    SUBJECT,
    req("country", "psr.citizenship.country"),
    opt("ground", "psr.citizenship.ground"),
    DATE,
];
const ADDRESS_PERIOD: [FieldDef; 4] = [
    SUBJECT,
    req("address", "psr.address.address"),
    req("valid_from", "psr.address.valid_from"),
    opt("valid_to", "psr.address.valid_to"),
];
const CASE_DATE: [FieldDef; 3] = [SUBJECT, req("case_number", "psr.court.case_number"), DATE];

const fn kind(
    name: &'static str,
    title: Text,
    providers: &'static [BodyType],
    fields: &'static [FieldDef],
) -> KindDef {
    KindDef {
        name,
        title,
        providers,
        fields,
        at_least_one: &[],
    }
}

pub(crate) const KINDS: &[KindDef] = &[
    kind(
        "birth",
        t("Ծնունդ", "Birth", "Рождение"),
        &[MedicalOrganization],
        &[
            NEW_PERSON[0],
            NEW_PERSON[1],
            NEW_PERSON[2],
            NEW_PERSON[3],
            NEW_PERSON[4],
            NEW_PERSON[5],
            req("mother", "psr.person.mother"),
            opt("father", "psr.person.father"),
        ],
    ),
    kind(
        "death",
        t("Մահ", "Death", "Смерть"),
        &[MedicalOrganization, JudicialDepartment],
        &[
            SUBJECT,
            DATE,
            opt("place", "psr.death.place"),
            opt("declared_by_court", "psr.death.declared_by_court"),
        ],
    ),
    kind(
        "marriage",
        t("Ամուսնություն", "Marriage", "Брак"),
        &[CivilRegistry, DiplomaticMission],
        &SPOUSE_ACT,
    ),
    kind(
        "divorce",
        t("Ամուսնալուծություն", "Divorce", "Развод"),
        &[CivilRegistry, DiplomaticMission],
        &SPOUSE_ACT,
    ),
    kind(
        "name_change",
        t("Անվան փոփոխություն", "Change of name", "Перемена имени"),
        &[CivilRegistry],
        &[SUBJECT, FIRST_NAME, PATRONYMIC, SURNAME, DATE],
    ),
    kind(
        "paternity",
        t(
            "Հայրության ճանաչում",
            "Recognition of paternity",
            "Признание отцовства",
        ),
        &[CivilRegistry],
        &[
            SUBJECT,
            req("father", "psr.person.father"),
            DATE,
            NAMES_AFTER[0],
            NAMES_AFTER[1],
            NAMES_AFTER[2],
        ],
    ),
    KindDef {
        name: "adoption",
        title: t("Որդեգրում", "Adoption", "Усыновление"),
        providers: &[CivilRegistry],
        fields: &[
            SUBJECT,
            opt("adoptive_mother", "psr.adoption.adoptive_mother"),
            opt("adoptive_father", "psr.adoption.adoptive_father"),
            DATE,
            NAMES_AFTER[0],
            NAMES_AFTER[1],
            NAMES_AFTER[2],
        ],
        at_least_one: &[&["adoptive_mother", "adoptive_father"]],
    },
    kind(
        "guardianship_start",
        t(
            "Խնամակալության կամ հոգաբարձության սահմանում",
            "Guardianship or curatorship established",
            "Установление опеки или попечительства",
        ),
        &[GuardianshipBody],
        &[
            SUBJECT,
            req("guardian", "psr.guardianship.guardian"),
            req("guardianship", "psr.guardianship.kind"),
            req("ground", "psr.guardianship.ground"),
            DATE,
        ],
    ),
    kind(
        "guardianship_end",
        t(
            "Խնամակալության կամ հոգաբարձության դադարում",
            "Guardianship or curatorship ended",
            "Прекращение опеки или попечительства",
        ),
        &[GuardianshipBody],
        &[SUBJECT, req("guardian", "psr.guardianship.guardian"), DATE],
    ),
    kind(
        "consular_registration",
        t(
            "Հյուպատոսական հաշվառում",
            "Consular registration",
            "Консульский учёт",
        ),
        &[DiplomaticMission],
        &[
            SUBJECT,
            req("mission", "psr.consular.mission"),
            req("since", "psr.consular.since"),
            opt("until", "psr.consular.until"),
        ],
    ),
    kind(
        "address_abroad",
        t("Հասցե արտասահմանում", "Address abroad", "Адрес за рубежом"),
        &[DiplomaticMission],
        &[
            SUBJECT,
            req("address", "psr.address.abroad"),
            req("valid_from", "psr.address.valid_from"),
            opt("valid_to", "psr.address.valid_to"),
        ],
    ),
    kind(
        "birth_abroad",
        t(
            "Ծնունդ արտասահմանում",
            "Birth abroad",
            "Рождение за рубежом",
        ),
        &[DiplomaticMission],
        &[
            NEW_PERSON[0],
            NEW_PERSON[1],
            NEW_PERSON[2],
            NEW_PERSON[3],
            NEW_PERSON[4],
            req("birth_place", "psr.person.birth_place_abroad"),
            req("mother", "psr.person.mother"),
            opt("father", "psr.person.father"),
        ],
    ),
    kind(
        "death_abroad",
        t("Մահ արտասահմանում", "Death abroad", "Смерть за рубежом"),
        &[DiplomaticMission],
        &[SUBJECT, DATE, req("place", "psr.death.place_abroad")],
    ),
    kind(
        "legal_incapacity",
        t(
            "Անգործունակ ճանաչում",
            "Declaration of legal incapacity",
            "Признание недееспособным",
        ),
        &[JudicialDepartment],
        &[
            SUBJECT,
            req("judgment_date", "psr.incapacity.judgment_date"),
            opt("court", "psr.court.name"),
            opt("case_number", "psr.court.case_number"),
        ],
    ),
    kind(
        "legal_capacity_restored",
        t(
            "Գործունակության վերականգնում",
            "Legal capacity restored",
            "Восстановление дееспособности",
        ),
        &[JudicialDepartment],
        &[SUBJECT, DATE],
    ),
    kind(
        "conviction",
        t("Դատվածություն", "Conviction", "Судимость"),
        &[PenitentiaryService],
        &[
            SUBJECT,
            req("case_number", "psr.court.case_number"),
            req("verdict_effective", "psr.conviction.verdict_effective"),
            req("term_months", "psr.conviction.term_months"),
            opt("court", "psr.court.name"),
        ],
    ),
    kind(
        "parole",
        t(
            "Պայմանական վաղաժամկետ ազատում",
            "Release on parole",
            "Условно-досрочное освобождение",
        ),
        &[PenitentiaryService],
        &CASE_DATE,
    ),
    kind(
        "sentence_completed",
        t("Պատժի կրման ավարտ", "Sentence served", "Отбытие наказания"),
        &[PenitentiaryService],
        &CASE_DATE,
    ),
    kind(
        "registration",
        t(
            "Առաջնային գրանցում",
            "First registration",
            "Первичная регистрация",
        ),
        &[AuthorizedBody],
        &NEW_PERSON,
    ),
    kind(
        "citizenship_acquired",
        t(
            "Քաղաքացիության ձեռքբերում",
            "Citizenship acquired",
            "Приобретение гражданства",
        ),
        &[AuthorizedBody],
        &CITIZENSHIP,
    ),
    kind(
        "citizenship_terminated",
        t(
            "Քաղաքացիության դադարում",
            "Citizenship terminated",
            "Прекращение гражданства",
        ),
        &[AuthorizedBody],
        &CITIZENSHIP,
    ),
    kind(
        "nationality",
        t("Ազգություն", "Nationality", "Национальность"),
        &[AuthorizedBody],
        &[SUBJECT, req("nationality", "psr.person.nationality"), DATE],
    ),
    kind(
        "identity_document",
        t(
            "Անձը հաստատող փաստաթղթի տրամադրում",
            "Identity document issued",
            "Выдача документа, удостоверяющего личность",
        ),
        &[AuthorizedBody],
        &[
            SUBJECT,
            req("document_type", "psr.identity_document.type"),
            req("document_number", "psr.document.number"),
            opt("document_country", "psr.identity_document.country"),
            opt("issued_on", "psr.document.issued_on"),
            opt("valid_until", "psr.document.valid_until"),
        ],
    ),
    kind(
        "residence_document",
        t(
            "Կացության փաստաթղթի տրամադրում",
            "Residence document issued",
            "Выдача документа о проживании",
        ),
        &[AuthorizedBody],
        &[
            SUBJECT,
            req("document_type", "psr.residence_document.type"),
            req("document_number", "psr.document.number"),
            req("issued_on", "psr.document.issued_on"),
            opt("valid_until", "psr.document.valid_until"),
        ],
    ),
    kind(
        "main_address",
        t("Հիմնական հասցե", "Main address", "Основной адрес"),
        &[AuthorizedBody],
        &ADDRESS_PERIOD,
    ),
    kind(
        "additional_address",
        t(
            "Լրացուցիչ հասցե",
            "Additional address",
            "Дополнительный адрес",
        ),
        &[AuthorizedBody],
        &ADDRESS_PERIOD,
    ),
];
