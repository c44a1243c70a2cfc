//! Store conformance: every test here runs unchanged against SQLite and PostgreSQL.

use chrono::Duration;
use popreg_domain::*;

use crate::common::*;

crate::conformance!(
    a2_1_every_category_round_trips_through_log_and_projection,
    a2_1_entries_cannot_be_updated_or_deleted,
    a2_1_as_of_valid_time_and_known_time,
    a2_1_correction_supersedes_without_losing_history,
    refused_appends_write_nothing,
    a1_42_allocated_psn_is_fresh_and_valid,
    migrations_are_idempotent,
    appends_after_the_fold_tail_extend_the_projection_others_refold,
);

async fn a2_1_every_category_round_trips_through_log_and_projection(db: TestDb) {
    let s = &db.store;
    let (mother, father, child, guardian) = (psn(1), psn(2), psn(3), psn(4));
    s.append(
        &prov("MIGR-01"),
        vec![
            NewEntry::new(
                mother,
                registration("Անի", "Պետրոսյան", d(1990, 3, 4), Sex::F),
            ),
            NewEntry::new(
                father,
                registration("Տիգրան", "Հակոբյան", d(1988, 7, 1), Sex::M),
            ),
            NewEntry::new(
                guardian,
                registration("Գոհար", "Սարգսյան", d(1960, 2, 2), Sex::F),
            ),
        ],
    )
    .await
    .unwrap();
    s.append(
        &prov("CIVREG-01"),
        vec![
            NewEntry::new(
                mother,
                Fact::Marriage {
                    spouse: PersonRef::Psn(father),
                    date: d(2015, 6, 20),
                    act_number: Some("A-1".into()),
                },
            ),
            NewEntry::new(
                father,
                Fact::Marriage {
                    spouse: PersonRef::Psn(mother),
                    date: d(2015, 6, 20),
                    act_number: Some("A-1".into()),
                },
            ),
            NewEntry::new(
                mother,
                Fact::NameChange {
                    names: names("Անի", Some("Արամի"), "Հակոբյան"),
                    date: d(2015, 6, 20),
                },
            ),
        ],
    )
    .await
    .unwrap();
    s.append(
        &prov("MED-0001"),
        vec![
            NewEntry::new(
                child,
                Fact::Birth {
                    names: names("Դավիթ", Some("Տիգրանի"), "Հակոբյան"),
                    birth_date: d(2018, 9, 9),
                    birth_place: yerevan(),
                    sex: Sex::M,
                    mother: Some(PersonRef::Psn(mother)),
                    father: Some(PersonRef::Psn(father)),
                },
            ),
            NewEntry::new(
                mother,
                Fact::ChildLinked {
                    child,
                    parentage: Parentage::Birth,
                    role: ParentRole::Mother,
                    date: d(2018, 9, 9),
                },
            ),
            NewEntry::new(
                father,
                Fact::ChildLinked {
                    child,
                    parentage: Parentage::Birth,
                    role: ParentRole::Father,
                    date: d(2018, 9, 9),
                },
            ),
        ],
    )
    .await
    .unwrap();
    let foreign_doc = IdentityDocument {
        doc_type: "FOREIGN_PASSPORT".into(),
        number: "P1234567".into(),
        issuing_country: Some("FR".into()),
        issued_on: Some(d(2019, 1, 1)),
        valid_until: Some(d(2029, 1, 1)),
    };
    let foreigner = PersonRef::Described(Box::new(DescribedPerson {
        first_name: "Jean".into(),
        patronymic: None,
        surname: "Dupont".into(),
        birth_date: Some(d(1970, 1, 1)),
        identity_document: foreign_doc.clone(),
        citizenships: vec!["FR".into()],
        nationality: None,
        residence: Some("Lyon, France".into()),
        no_psn: true,
    }));
    let father_facts = vec![
        Fact::IdentityDocumentIssued {
            document: IdentityDocument {
                doc_type: "ID_CARD".into(),
                number: "012345678".into(),
                issuing_country: Some("AM".into()),
                issued_on: Some(d(2020, 1, 1)),
                valid_until: Some(d(2030, 1, 1)),
            },
        },
        Fact::CitizenshipAcquired {
            country: "AM".into(),
            ground: Some("ACQ_BIRTH".into()),
            date: d(1988, 7, 1),
        },
        Fact::CitizenshipAcquired {
            country: "RU".into(),
            ground: None,
            date: d(2010, 1, 1),
        },
        Fact::CitizenshipTerminated {
            country: "RU".into(),
            ground: Some("TERM_RENUNCIATION".into()),
            date: d(2020, 1, 1),
        },
        Fact::Nationality {
            code: "ARM".into(),
            date: d(1988, 7, 1),
        },
        Fact::ResidenceDocumentIssued {
            document: ResidenceDocument {
                doc_type: "RD3".into(),
                number: "WP-1".into(),
                issued_on: d(2021, 1, 1),
                valid_until: Some(d(2022, 1, 1)),
            },
        },
        Fact::MainAddress {
            address: address("Աբովյան"),
            valid_from: d(2015, 1, 1),
            valid_to: None,
        },
        Fact::AdditionalAddress {
            address: address("Սայաթ-Նովա"),
            valid_from: d(2024, 1, 1),
            valid_to: Some(d(2024, 12, 31)),
        },
        Fact::ConsularRegistration {
            mission: "MFA-CONS-PARIS".into(),
            since: d(2016, 1, 1),
            until: Some(d(2017, 1, 1)),
        },
        Fact::LegalIncapacity {
            judgment_date: d(2022, 5, 5),
            court: Some("Yerevan court".into()),
            case_number: Some("ԵԴ/1".into()),
        },
        Fact::LegalCapacityRestored {
            date: d(2023, 5, 5),
        },
        Fact::Conviction {
            case_number: "CR-1".into(),
            verdict_effective: d(2011, 1, 1),
            term_months: 60,
            court: None,
        },
        Fact::Parole {
            case_number: "CR-1".into(),
            date: d(2013, 1, 1),
        },
        Fact::SentenceCompleted {
            case_number: "CR-1".into(),
            date: d(2016, 1, 1),
        },
    ];
    s.append(
        &prov("MIGR-01"),
        father_facts
            .iter()
            .cloned()
            .map(|f| NewEntry::new(father, f))
            .collect(),
    )
    .await
    .unwrap();
    s.append(
        &prov("CIVREG-01"),
        vec![
            NewEntry::new(
                child,
                Fact::PaternityRecognition {
                    father: PersonRef::Psn(father),
                    mother: Some(PersonRef::Psn(mother)),
                    names_after: None,
                    date: d(2019, 1, 1),
                },
            ),
            NewEntry::new(
                child,
                Fact::Adoption {
                    parents: vec![foreigner.clone()],
                    names_after: Some(names("Դավիթ", None, "Դյուպոն")),
                    date: d(2021, 3, 3),
                },
            ),
            NewEntry::new(
                mother,
                Fact::Divorce {
                    spouse: PersonRef::Psn(father),
                    date: d(2020, 2, 2),
                    act_number: None,
                },
            ),
            NewEntry::new(
                father,
                Fact::Divorce {
                    spouse: PersonRef::Psn(mother),
                    date: d(2020, 2, 2),
                    act_number: None,
                },
            ),
        ],
    )
    .await
    .unwrap();
    s.append(
        &prov("GUARD-01"),
        vec![
            NewEntry::new(
                child,
                Fact::GuardianshipStarted {
                    guardian: PersonRef::Psn(guardian),
                    guardianship: GuardianshipKind::Guardianship,
                    ground: GuardianshipGround::Age,
                    date: d(2020, 3, 1),
                },
            ),
            NewEntry::new(
                guardian,
                Fact::WardAssigned {
                    ward: child,
                    guardianship: GuardianshipKind::Guardianship,
                    date: d(2020, 3, 1),
                },
            ),
            NewEntry::new(
                child,
                Fact::GuardianshipEnded {
                    guardian: PersonRef::Psn(guardian),
                    date: d(2021, 3, 3),
                },
            ),
            NewEntry::new(
                guardian,
                Fact::WardReleased {
                    ward: child,
                    date: d(2021, 3, 3),
                },
            ),
        ],
    )
    .await
    .unwrap();
    s.append(
        &prov("MIGR-01"),
        vec![
            NewEntry::new(
                guardian,
                Fact::Statelessness {
                    since: d(1995, 1, 1),
                },
            ),
            NewEntry::new(
                guardian,
                Fact::Death {
                    date: d(2025, 1, 1),
                    place: Some(yerevan()),
                    declared_by_court: false,
                },
            ),
        ],
    )
    .await
    .unwrap();

    // The log holds every fact, verbatim, with provenance.
    let f_entries = s.unaudited().entries(father).await.unwrap();
    let logged: Vec<&Fact> = f_entries.iter().map(|e| &e.fact).collect();
    for f in &father_facts {
        assert!(
            logged.contains(&f),
            "fact {} missing from the log",
            f.kind()
        );
    }
    let e0 = &f_entries[0];
    assert_eq!(
        (e0.provider.as_str(), e0.user_uid.as_str(), e0.channel),
        ("MIGR-01", "uid-MIGR-01-1", Channel::Api)
    );
    assert_eq!(e0.recorded_at, t0());

    // The projection carries each category.
    let fp = s.unaudited().person(father).await.unwrap().unwrap();
    assert_eq!(fp.documents[0].document.number, "012345678");
    assert_eq!(fp.citizenships.len(), 2);
    assert_eq!(
        fp.citizenships_on(d(2024, 1, 1))
            .map(|c| c.country.as_str())
            .collect::<Vec<_>>(),
        vec!["AM"]
    );
    assert_eq!(fp.citizenships[1].terminated_on, Some(d(2020, 1, 1)));
    assert_eq!(fp.nationality.as_deref(), Some("ARM"));
    assert_eq!(fp.residence_documents[0].document.doc_type, "RD3");
    assert_eq!(fp.main_addresses.len(), 1);
    assert_eq!(fp.additional_addresses.len(), 1);
    assert_eq!(fp.consular_registrations[0].mission, "MFA-CONS-PARIS");
    assert_eq!(
        fp.legal_incapacity.as_ref().unwrap().restored_on,
        Some(d(2023, 5, 5))
    );
    let c = &fp.convictions[0];
    assert_eq!(
        (c.term_months, c.parole_on, c.completed_on),
        (60, Some(d(2013, 1, 1)), Some(d(2016, 1, 1)))
    );
    assert_eq!(fp.marital_status, person::MaritalStatus::Divorced);
    assert_eq!(fp.marriages[0].ended_on, Some(d(2020, 2, 2)));
    assert_eq!(fp.children.len(), 1);
    assert_eq!(fp.children[0].child, child);

    let mp = s.unaudited().person(mother).await.unwrap().unwrap();
    assert_eq!(mp.names.surname.hy, "Հակոբյան");
    assert_eq!(mp.name_history.len(), 2);
    assert_eq!(mp.name_history[0].names.surname.hy, "Պետրոսյան");

    let cp = s.unaudited().person(child).await.unwrap().unwrap();
    assert!(cp.paternity.is_some());
    assert_eq!(cp.adoptions.len(), 1);
    assert_eq!(cp.parents.len(), 1, "adoption replaces the legal parents");
    assert_eq!(cp.parents[0].parent, foreigner);
    assert_eq!(cp.names.surname.hy, "Դյուպոն");
    assert_eq!(cp.names.surname.lat, "Dyupon");
    assert_eq!(cp.guardianships[0].end, Some(d(2021, 3, 3)));

    let gp = s.unaudited().person(guardian).await.unwrap().unwrap();
    assert_eq!(gp.wards[0].end, Some(d(2021, 3, 3)));
    assert_eq!(gp.stateless_since, Some(d(1995, 1, 1)));
    assert_eq!(gp.death.as_ref().unwrap().date, d(2025, 1, 1));

    // The stored projection equals a fresh fold of the log.
    for p in [mother, father, child, guardian] {
        let folded =
            PersonState::fold(&s.unaudited().entries(p).await.unwrap(), AsOf::default()).unwrap();
        assert_eq!(s.unaudited().person(p).await.unwrap().unwrap(), folded);
    }
}

async fn a2_1_entries_cannot_be_updated_or_deleted(db: TestDb) {
    let p = psn(10);
    db.store
        .append(
            &prov("MIGR-01"),
            vec![NewEntry::new(
                p,
                registration("Արամ", "Գրիգորյան", d(1980, 1, 1), Sex::M),
            )],
        )
        .await
        .unwrap();
    let (upd, del) = if db.url.starts_with("sqlite") {
        let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
        let u = sqlx::query("UPDATE entries SET provider = 'X'")
            .execute(&pool)
            .await;
        let d = sqlx::query("DELETE FROM entries").execute(&pool).await;
        (u.map(|_| ()), d.map(|_| ()))
    } else {
        let pool = db.raw_pg().await;
        let u = sqlx::query("UPDATE entries SET provider = 'X'")
            .execute(&pool)
            .await;
        let d = sqlx::query("DELETE FROM entries").execute(&pool).await;
        (u.map(|_| ()), d.map(|_| ()))
    };
    for r in [upd, del] {
        let err = r
            .expect_err("the database must refuse changing the log")
            .to_string();
        assert!(err.contains("PSR-SYS-0003"), "{err}");
    }
    assert_eq!(db.store.count_entries().await.unwrap(), 1);
}

async fn a2_1_as_of_valid_time_and_known_time(db: TestDb) {
    let p = psn(20);
    let s = &db.store;
    s.append(
        &prov("MIGR-01"),
        vec![
            NewEntry::new(p, registration("Նարե", "Մկրտչյան", d(1995, 5, 5), Sex::F)),
            NewEntry::new(
                p,
                Fact::MainAddress {
                    address: address("Տերյան"),
                    valid_from: d(2010, 1, 1),
                    valid_to: None,
                },
            ),
        ],
    )
    .await
    .unwrap();
    let k1 = db.clock.now();
    db.clock.advance(Duration::days(30));
    s.append(
        &prov("MIGR-01"),
        vec![NewEntry::new(
            p,
            Fact::MainAddress {
                address: address("Պուշկինի"),
                valid_from: d(2020, 1, 1),
                valid_to: None,
            },
        )],
    )
    .await
    .unwrap();

    let now = s.unaudited().person(p).await.unwrap().unwrap();
    assert_eq!(
        now.main_address_on(d(2026, 1, 1))
            .unwrap()
            .address
            .street
            .as_deref(),
        Some("Պուշկինի")
    );
    // Valid on 2015: the 2020 address had not taken effect.
    let v2015 = s
        .unaudited()
        .person_as_of(
            p,
            AsOf {
                valid_on: Some(d(2015, 1, 1)),
                known_at: None,
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(v2015.main_addresses.len(), 1);
    assert_eq!(
        v2015
            .main_address_on(d(2015, 1, 1))
            .unwrap()
            .address
            .street
            .as_deref(),
        Some("Տերյան")
    );
    // As known at k1, the register did not know of the move yet.
    let known = s
        .unaudited()
        .person_as_of(
            p,
            AsOf {
                valid_on: None,
                known_at: Some(k1),
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(known.main_addresses.len(), 1);
    // Before the person was entered there is nothing; before birth neither.
    assert!(
        s.unaudited()
            .person_as_of(
                p,
                AsOf {
                    valid_on: None,
                    known_at: Some(k1 - Duration::seconds(1))
                }
            )
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        s.unaudited()
            .person_as_of(
                p,
                AsOf {
                    valid_on: Some(d(1990, 1, 1)),
                    known_at: None
                }
            )
            .await
            .unwrap()
            .is_none()
    );
}

async fn a2_1_correction_supersedes_without_losing_history(db: TestDb) {
    let p = psn(30);
    let s = &db.store;
    let first = s
        .append(
            &prov("MIGR-01"),
            vec![
                NewEntry::new(p, registration("Հայկ", "Ավետիսյան", d(1970, 1, 1), Sex::M)),
                NewEntry::new(
                    p,
                    Fact::Nationality {
                        code: "RUS".into(),
                        date: d(1970, 1, 1),
                    },
                ),
            ],
        )
        .await
        .unwrap();
    let wrong = first[1].id;
    let before = db.clock.now();
    db.clock.advance(Duration::hours(1));
    s.append(
        &prov("MIGR-01"),
        vec![NewEntry {
            subject: p,
            fact: Fact::Nationality {
                code: "ARM".into(),
                date: d(1970, 1, 1),
            },
            supersedes: Some(wrong),
        }],
    )
    .await
    .unwrap();
    assert_eq!(
        s.unaudited()
            .person(p)
            .await
            .unwrap()
            .unwrap()
            .nationality
            .as_deref(),
        Some("ARM")
    );
    let then = s
        .unaudited()
        .person_as_of(
            p,
            AsOf {
                valid_on: None,
                known_at: Some(before),
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        then.nationality.as_deref(),
        Some("RUS"),
        "as known before the correction"
    );
    assert_eq!(
        s.unaudited().entries(p).await.unwrap().len(),
        3,
        "the corrected entry stays in the log"
    );

    // A manual retraction (A1.50.2) removes a fact from the projection but not from the log.
    let marriage_ok = s
        .append(
            &prov("MIGR-01"),
            vec![NewEntry::new(
                p,
                Fact::Statelessness {
                    since: d(1990, 1, 1),
                },
            )],
        )
        .await
        .unwrap();
    s.append(
        &prov("MIGR-01"),
        vec![NewEntry::new(
            p,
            Fact::Retraction {
                entry_id: marriage_ok[0].id,
                reason_code: "PSR-CON-0002".into(),
            },
        )],
    )
    .await
    .unwrap();
    assert_eq!(
        s.unaudited()
            .person(p)
            .await
            .unwrap()
            .unwrap()
            .stateless_since,
        None
    );
    assert_eq!(s.unaudited().entries(p).await.unwrap().len(), 5);
}

async fn refused_appends_write_nothing(db: TestDb) {
    let (a, b, stranger) = (psn(40), psn(41), psn(42));
    let s = &db.store;
    s.append(
        &prov("MIGR-01"),
        vec![
            NewEntry::new(a, registration("Լիլիթ", "Վարդանյան", d(1999, 9, 9), Sex::F)),
            NewEntry::new(b, registration("Գոռ", "Վարդանյան", d(1998, 8, 8), Sex::M)),
        ],
    )
    .await
    .unwrap();
    let entries_before = s.count_entries().await.unwrap();

    // A batch whose last entry names an unknown person leaves no trace of its first entries.
    let err = s
        .append(
            &prov("MIGR-01"),
            vec![
                NewEntry::new(
                    a,
                    Fact::Nationality {
                        code: "ARM".into(),
                        date: d(1999, 9, 9),
                    },
                ),
                NewEntry::new(
                    stranger,
                    Fact::Nationality {
                        code: "ARM".into(),
                        date: d(1999, 9, 9),
                    },
                ),
            ],
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PsnUnknown);
    // Registering an existing PSN again.
    let err = s
        .append(
            &prov("MIGR-01"),
            vec![NewEntry::new(
                a,
                registration("Լիլիթ", "Վարդանյան", d(1999, 9, 9), Sex::F),
            )],
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PersonExists);
    // Retracting another person's entry.
    let b_first = s.unaudited().entries(b).await.unwrap()[0].id;
    let err = s
        .append(
            &prov("MIGR-01"),
            vec![NewEntry::new(
                a,
                Fact::Retraction {
                    entry_id: b_first,
                    reason_code: "X".into(),
                },
            )],
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::EntryUnknown);

    assert_eq!(s.count_entries().await.unwrap(), entries_before);
    assert_eq!(
        s.unaudited().person(a).await.unwrap().unwrap().nationality,
        None
    );
    assert_eq!(s.count_persons().await.unwrap(), 2);
}

async fn a1_42_allocated_psn_is_fresh_and_valid(db: TestDb) {
    let s = &db.store;
    let p = s.allocate_psn().await.unwrap();
    assert!(Psn::parse(&p.to_string()).is_ok());
    assert!(!s.psn_taken(p).await.unwrap());
    s.append(
        &prov("MED-0001"),
        vec![NewEntry::new(
            p,
            registration("Մարիամ", "Սահակյան", d(2026, 1, 14), Sex::F),
        )],
    )
    .await
    .unwrap();
    assert!(s.psn_taken(p).await.unwrap());
    let q = s.allocate_psn().await.unwrap();
    assert_ne!(p, q);
}

async fn migrations_are_idempotent(db: TestDb) {
    assert!(
        db.store.migrate().await.unwrap().is_empty(),
        "second run applies nothing"
    );
    db.store.ping().await.unwrap();
}

/// A statement on the test database itself, beside the store (white-box checks).
pub(crate) async fn raw(db: &TestDb, q: String) {
    let q = sqlx::AssertSqlSafe(q);
    if db.url.starts_with("sqlite") {
        let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
        sqlx::query(q).execute(&pool).await.unwrap();
    } else {
        sqlx::query(q).execute(&db.raw_pg().await).await.unwrap();
    }
}

/// `persons.fold_tail` of one person.
async fn fold_tail(db: &TestDb, p: Psn) -> Option<i64> {
    let q = sqlx::AssertSqlSafe(format!("SELECT fold_tail FROM persons WHERE psn = '{p}'"));
    if db.url.starts_with("sqlite") {
        let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
        sqlx::query_scalar(q).fetch_one(&pool).await.unwrap()
    } else {
        sqlx::query_scalar(q)
            .fetch_one(&db.raw_pg().await)
            .await
            .unwrap()
    }
}

/// Issue 3 (and A2.1): an entry that sorts after all of a person's earlier entries in the fold's valid-time
/// order extends the stored projection; any other (dated before the tail, undated after dated ones, a
/// correction, a retraction, or a row whose tail is not known) makes the store fold the person's whole log
/// again. The projection always equals a fresh fold. A marker written into the stored projection by hand
/// shows which path ran: an extension keeps it, a full fold drops it.
async fn appends_after_the_fold_tail_extend_the_projection_others_refold(db: TestDb) {
    use chrono::Datelike;
    let s = &db.store;
    let p = psn(60);
    let day = |d: chrono::NaiveDate| Some(i64::from(d.num_days_from_ce()));
    let rename = |first: &str, on| {
        NewEntry::new(
            p,
            Fact::NameChange {
                names: names(first, None, "Մանուկյան"),
                date: on,
            },
        )
    };
    let fresh_fold_equals_projection = || async {
        let folded =
            PersonState::fold(&s.unaudited().entries(p).await.unwrap(), AsOf::default()).unwrap();
        folded == s.unaudited().person(p).await.unwrap().unwrap()
    };
    let tamper = || {
        raw(
            &db,
            format!(
                "UPDATE persons SET doc = REPLACE(doc, '\"marital_status\":\"single\"', '\"marital_status\":\"married\"') WHERE psn = '{p}'"
            ),
        )
    };
    let married = || async {
        s.unaudited()
            .person(p)
            .await
            .unwrap()
            .unwrap()
            .marital_status
            == person::MaritalStatus::Married
    };

    s.append(
        &prov("MIGR-01"),
        vec![NewEntry::new(
            p,
            registration("Արա", "Մանուկյան", d(1980, 1, 1), Sex::M),
        )],
    )
    .await
    .unwrap();
    assert_eq!(
        fold_tail(&db, p).await,
        Some(0),
        "no entry but the creating one"
    );
    s.append(&prov("CIVREG-01"), vec![rename("Բագրատ", d(2000, 1, 1))])
        .await
        .unwrap();
    assert_eq!(fold_tail(&db, p).await, day(d(2000, 1, 1)));
    assert!(fresh_fold_equals_projection().await);

    // In order: the stored state is extended (the marker survives).
    tamper().await;
    assert!(married().await, "the marker is in place");
    s.append(&prov("CIVREG-01"), vec![rename("Գագիկ", d(2010, 1, 1))])
        .await
        .unwrap();
    assert!(
        married().await,
        "an in-order entry extends the stored state"
    );
    assert_eq!(fold_tail(&db, p).await, day(d(2010, 1, 1)));
    assert_eq!(
        s.unaudited()
            .person(p)
            .await
            .unwrap()
            .unwrap()
            .names
            .first
            .hy,
        "Գագիկ"
    );

    // Dated before the tail: folded again; the later-dated name stays current although recorded earlier.
    s.append(&prov("CIVREG-01"), vec![rename("Դավիթ", d(2005, 1, 1))])
        .await
        .unwrap();
    assert!(!married().await, "an entry dated before the tail refolds");
    let now = s.unaudited().person(p).await.unwrap().unwrap();
    assert_eq!(now.names.first.hy, "Գագիկ");
    assert_eq!(now.name_history.len(), 4);
    assert_eq!(fold_tail(&db, p).await, day(d(2010, 1, 1)));
    assert!(fresh_fold_equals_projection().await);

    // Undated after dated ones: it sorts before them, so folded again.
    tamper().await;
    let undated = Fact::IdentityDocumentIssued {
        document: IdentityDocument {
            doc_type: "PASSPORT".into(),
            number: "AN0000001".into(),
            issuing_country: Some("ARM".into()),
            issued_on: None,
            valid_until: None,
        },
    };
    let doc = s
        .append(&prov("MIGR-01"), vec![NewEntry::new(p, undated)])
        .await
        .unwrap();
    assert!(
        !married().await,
        "an undated entry after dated ones refolds"
    );
    assert!(fresh_fold_equals_projection().await);

    // A correction and a retraction: folded again.
    for fact in [
        NewEntry {
            subject: p,
            fact: Fact::Nationality {
                code: "ARM".into(),
                date: d(2020, 1, 1),
            },
            supersedes: Some(doc[0].id),
        },
        NewEntry::new(
            p,
            Fact::Retraction {
                entry_id: doc[0].id,
                reason_code: "PSR-CON-0002".into(),
            },
        ),
    ] {
        tamper().await;
        s.append(&prov("MIGR-01"), vec![fact]).await.unwrap();
        assert!(!married().await, "a correction or retraction refolds");
        assert!(fresh_fold_equals_projection().await);
    }
    assert_eq!(fold_tail(&db, p).await, day(d(2020, 1, 1)));

    // A row whose tail is not known (written before the column existed): folded again, tail set.
    raw(
        &db,
        format!("UPDATE persons SET fold_tail = NULL WHERE psn = '{p}'"),
    )
    .await;
    tamper().await;
    s.append(&prov("CIVREG-01"), vec![rename("Եղիշե", d(2021, 1, 1))])
        .await
        .unwrap();
    assert!(!married().await, "an unknown tail refolds");
    assert_eq!(fold_tail(&db, p).await, day(d(2021, 1, 1)));
    assert!(fresh_fold_equals_projection().await);
}

/// Issue 3 (and A2.1's durability): on SQLite the store copies its WAL back into the register on a thread of
/// its own from the moment it opens, not only once something has been read. Commits in WAL mode leave the
/// register file itself unchanged, and these few stay below the 1,000 pages at which the writer would
/// checkpoint itself: the file grows here with nothing but appends, so the checkpointer did it.
#[tokio::test]
async fn a2_1_sqlite_wal_is_checkpointed_by_the_store_from_the_start() {
    let db = TestDb::sqlite().await;
    let path = std::path::PathBuf::from(db.url.strip_prefix("sqlite:").unwrap());
    let size = || std::fs::metadata(&path).unwrap().len();
    // Let the checkpointer copy what the migrations wrote, then start from there.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let before = size();
    for round in 0..3u64 {
        let entries = (0..100u64)
            .map(|i| {
                NewEntry::new(
                    psn(10_000 + round * 100 + i),
                    registration("Անի", "Սարգսյան", d(1990, 1, 1), Sex::F),
                )
            })
            .collect();
        db.store.append(&prov("MIGR-01"), entries).await.unwrap();
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while size() < before + 200_000 {
        assert!(
            std::time::Instant::now() < deadline,
            "the register file stayed at {} bytes (from {before}): nothing checkpointed the WAL",
            size()
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
