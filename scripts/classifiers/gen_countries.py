#!/usr/bin/env python3
"""Regenerate data/classifiers/countries.json.

Codes and English names come from ISO 3166-1 (pycountry); Armenian and Russian names start from the Unicode CLDR
territory names (Babel) and are then corrected by the OVERRIDES below, which hold the forms used in Armenian and
Russian official texts (full "United States of America", no abbreviations such as "о-в", etc.).

    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install babel pycountry
    /tmp/venv/bin/python scripts/classifiers/gen_countries.py > data/classifiers/countries.json
"""
import json
import re
import sys

import pycountry
from babel import Locale

VERSION = "2026.1"
VALID_FROM = "2026-01-01"

# Short English names where ISO's formal name reads awkwardly in a form.
EN = {
    "BN": "Brunei", "BO": "Bolivia", "CD": "Democratic Republic of the Congo", "CG": "Republic of the Congo",
    "FK": "Falkland Islands", "FM": "Micronesia", "IR": "Iran", "KP": "North Korea", "KR": "South Korea",
    "LA": "Laos", "MD": "Moldova", "PS": "Palestine", "RU": "Russia", "SY": "Syria", "TW": "Taiwan",
    "TZ": "Tanzania", "VA": "Holy See (Vatican)", "VE": "Venezuela", "VG": "British Virgin Islands",
    "VI": "U.S. Virgin Islands", "VN": "Vietnam", "MF": "Saint Martin (French part)",
    "SX": "Sint Maarten (Dutch part)", "SH": "Saint Helena, Ascension and Tristan da Cunha",
    "CV": "Cabo Verde", "CZ": "Czechia", "TR": "Türkiye", "US": "United States of America",
}

HY = {
    "US": "Ամերիկայի Միացյալ Նահանգներ",
    "GB": "Միացյալ Թագավորություն",
    "CD": "Կոնգոյի Դեմոկրատական Հանրապետություն",
    "CG": "Կոնգոյի Հանրապետություն",
    "HK": "Հոնկոնգ",
    "MO": "Մակաո",
    "PS": "Պաղեստին",
    "MM": "Մյանմա",
    "KR": "Կորեայի Հանրապետություն",
    "KP": "Կորեայի Ժողովրդա-Դեմոկրատական Հանրապետություն",
    "TL": "Արևելյան Թիմոր",
    "UM": "ԱՄՆ արտաքին փոքր կղզիներ",
    "VI": "ԱՄՆ Վիրջինյան կղզիներ",
    "SH": "Սուրբ Հեղինեի, Համբարձման և Տրիստան դա Կունյա կղզիներ",
    "BQ": "Բոնեյր, Սինտ Էստատիուս և Սաբա",
    "TC": "Թըրքս և Կայկոս կղզիներ",
    "IO": "Բրիտանական տարածք Հնդկական օվկիանոսում",
    "VA": "Վատիկան",
}

RU = {
    "US": "Соединённые Штаты Америки",
    "AE": "Объединённые Арабские Эмираты",
    "GB": "Великобритания",
    "KP": "Корейская Народно-Демократическая Республика",
    "KR": "Республика Корея",
    "CD": "Демократическая Республика Конго",
    "CG": "Республика Конго",
    "MM": "Мьянма",
    "HK": "Гонконг",
    "MO": "Макао",
    "PS": "Палестина",
    "KG": "Кыргызстан",
    "SH": "Острова Святой Елены, Вознесения и Тристан-да-Кунья",
    "VG": "Британские Виргинские острова",
    "VI": "Виргинские острова (США)",
    "UM": "Внешние малые острова (США)",
    "TC": "Острова Тёркс и Кайкос",
    "BV": "Остров Буве",
    "CX": "Остров Рождества",
    "IM": "Остров Мэн",
    "NF": "Остров Норфолк",
    "CK": "Острова Кука",
    "KY": "Каймановы острова",
    "PN": "Острова Питкэрн",
    "HM": "Острова Херд и Макдональд",
    "VA": "Ватикан",
}


def ru_fix(s: str) -> str:
    # CLDR abbreviates "острова"/"остров"; a register prints the full word.
    s = re.sub(r"\bо-ва\b", "острова", s)
    s = re.sub(r"\bо-в\b", "остров", s)
    s = s.replace("Соединенные", "Соединённые")
    return s[0].upper() + s[1:]


def main() -> None:
    hy, ru = Locale("hy"), Locale("ru")
    items = []
    for c in sorted(pycountry.countries, key=lambda c: c.alpha_2):
        a2 = c.alpha_2
        en = EN.get(a2) or getattr(c, "common_name", None) or c.name
        name_hy = HY.get(a2) or hy.territories[a2]
        name_ru = RU.get(a2) or ru_fix(ru.territories[a2])
        items.append({
            "code": a2,
            "alpha3": c.alpha_3,
            "numeric": c.numeric,
            "name": {"hy": name_hy, "en": en, "ru": name_ru},
        })
    doc = {
        "classifier": "countries",
        "version": VERSION,
        "valid_from": VALID_FROM,
        "notes": "ISO 3166-1 countries and territories. Armenian and Russian short names from the Unicode CLDR, "
                 "corrected to the forms used in official texts.",
        "items": items,
    }
    json.dump(doc, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
