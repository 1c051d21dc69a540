#!/usr/bin/env python3
"""Generate crates/core/data/calendar/cn-holidays.csv from the PyPI package
`chinesecalendar` (import name `chinese_calendar`).

Usage:
    pip install chinesecalendar==1.11.0
    python3 gen_calendar.py [FIRST_YEAR [LAST_YEAR [OUTPUT.csv]]]

Defaults: 2020 .. the last year the installed package has data for.
This script never downloads anything; it reads the package's own tables.

Output: CSV, header `date,kind,name_zh,name_en`, sorted by date.
  kind = holiday  every day off of a statutory holiday period, as the package
                  lists it (weekend days inside the period included)
  kind = workday  an adjusted working day (调休) on a Saturday or Sunday;
                  the name is that of the holiday it compensates for
"""

import csv
import os
import sys

from chinese_calendar import constants

NAME_ZH = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "Mid-autumn Festival": "中秋节",
    "National Day": "国庆节",
    "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}


def main(argv):
    years_with_data = {d.year for d in constants.holidays} | {d.year for d in constants.workdays}
    first = int(argv[1]) if len(argv) > 1 else 2020
    last = int(argv[2]) if len(argv) > 2 else max(years_with_data)
    out_path = argv[3] if len(argv) > 3 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "calendar", "cn-holidays.csv")
    missing = [y for y in range(first, last + 1) if y not in years_with_data]
    if missing:
        raise SystemExit(f"chinesecalendar has no data for {missing}")

    rows = []
    for kind, table in (("holiday", constants.holidays), ("workday", constants.workdays)):
        for day, name in table.items():
            if first <= day.year <= last:
                name_en = str(name)
                if kind == "workday":
                    assert day.weekday() >= 5, f"workday {day} is not a weekend day"
                rows.append((day.isoformat(), kind, NAME_ZH[name_en], name_en))
    rows.sort()
    assert len({r[0] for r in rows}) == len(rows), "a date is both holiday and workday"

    os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
    with open(out_path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["date", "kind", "name_zh", "name_en"])
        w.writerows(rows)
    print(f"wrote {len(rows)} rows ({first}-{last}) to {out_path}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv)
