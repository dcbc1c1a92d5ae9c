"""Make the bundled round-table example: 48 invented people from 24 invented organisations of
five sectors in three regions, and quotas for a round table of 20 (four a sector).

Run from the repository root: ``python data/make_round_table.py``. It rewrites
``data/round_table/pool.csv`` and ``data/round_table/quotas.csv``; every choice comes from the
seeded stream of ``SEED``, so re-running it gives the same bytes. docs/round-tables.md uses it.
"""

from __future__ import annotations

from pathlib import Path

from sortition.randomness import SeededStream

SEED = "round-table-example-v1"
OUT = Path(__file__).resolve().parent / "round_table"
SECTORS = ("business", "trade unions", "charities", "faith groups", "public services")
REGIONS = ("North", "Centre", "South")
FIRST = ("Ada", "Ben", "Cleo", "Dev", "Esi", "Finn", "Gita", "Hugo", "Ines", "Jon", "Kemi", "Lev")
LAST = ("Ash", "Birch", "Cedar", "Dale", "Elm", "Fern", "Glen", "Heath", "Ivy", "Moss", "Oak")
ORGANISATIONS = {
    "business": ("Vale Chamber", "Riverside Traders", "Northgate Makers", "Southside Co-op",
                 "Hill Farms Ltd"),
    "trade unions": ("Teachers' Union", "Transport Workers", "Care Staff Union", "Builders Guild",
                     "Retail Union"),
    "charities": ("Food Bank", "Youth Trust", "Carers' Circle", "River Rescue", "Elders Aid"),
    "faith groups": ("St Mary's", "Beth Shalom", "Al-Noor Centre", "Quaker Meeting"),
    "public services": ("District Council", "Health Trust", "Fire Service", "Library Service",
                        "Police Forum"),
}  # fmt: skip


def main() -> None:
    stream = SeededStream(SEED)
    rows = []
    for sector in SECTORS:
        for organisation in ORGANISATIONS[sector]:
            region = REGIONS[stream.below(len(REGIONS))]
            for _ in range(2):
                name = f"{stream.choice(FIRST)} {stream.choice(LAST)}"
                rows.append((name, sector, region, organisation))
    OUT.mkdir(exist_ok=True)
    lines = ["id,name,sector,region,organisation"]
    lines += [f"R{i + 1:03d},{n},{s},{r},{o}" for i, (n, s, r, o) in enumerate(rows)]
    (OUT / "pool.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    quotas = ["feature,value,min,max"]
    quotas += [f"sector,{sector},4,4" for sector in SECTORS]
    quotas += [f"region,{region},4,9" for region in REGIONS]
    (OUT / "quotas.csv").write_text("\n".join(quotas) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
