"""Russian names of generated holidays when the holidays package has no Russian for the country.

The package (see requirements.txt) speaks Russian for some countries (``language="ru"``), but not for
Kazakhstan (English, Kazakh, Ukrainian only): its English names are translated here. A name not in
the table keeps an empty Russian name (shown as the English one).
"""

from __future__ import annotations

import re

KZ_RU = {
    "New Year's Day": "Новый год",
    "Orthodox Christmas": "Православное Рождество",
    "International Women's Day": "Международный женский день",
    "Nowruz Holiday": "Наурыз мейрамы",
    "Kazakhstan's People Solidarity Holiday": "Праздник единства народа Казахстана",
    "Defender of the Fatherland Day": "День защитника Отечества",
    "Victory Day": "День Победы",
    "Capital Day": "День столицы",
    "Constitution Day": "День Конституции",
    "Republic Day": "День Республики",
    "Independence Day": "День Независимости",
    "Eid al-Adha": "Курбан айт",
}
_SUFFIXES = {"observed": "перенесённый", "estimated": "предположительно"}
_SUFFIX = re.compile(r"^(?P<base>.+?) \((?P<suffix>observed|estimated)\)$")
_DAY_OFF = re.compile(r"^Day off \(substituted from (?P<date>\d+/\d+/\d+)\)$")  # en_US: month/day/year
TABLES = {"KZ": KZ_RU}


def russian_name(country: str, name: str) -> str:
    """The Russian name of a generated holiday of ``country``, or "" when unknown."""
    table = TABLES.get(country, {})
    if name in table:
        return table[name]
    if match := _SUFFIX.match(name):
        base = table.get(match["base"])
        return f"{base} ({_SUFFIXES[match['suffix']]})" if base else ""
    if match := _DAY_OFF.match(name):
        month, day, year = match["date"].split("/")
        return f"Выходной день (перенесён с {day}.{month}.{year})"
    return ""
