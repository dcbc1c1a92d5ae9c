"""Make the bundled example: the invented town of Elmbridge Vale and its volunteer pool.

Run from the repository root: ``python data/make_example.py``. It rewrites
``data/example/pool.csv`` and ``data/example/quotas.csv``; the output depends only on this file
(every random choice comes from ``numpy_generator(SEED, ...)``), so re-running it gives the same
bytes. Everybody in the pool is invented.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sortition.randomness import numpy_generator

SEED = "elmbridge-vale-example-v1"
K = 20
POOL_SIZE = 200
OUT = Path(__file__).resolve().parent / "example"

# --- the town -------------------------------------------------------------------------------------

GENDERS = ("female", "male")
AGES = ("16-29", "30-44", "45-64", "65+")
AREAS = ("Old Town", "Riverside", "Kestrel Hill", "Millbrook", "Marsh End")
EDUCATION = ("no qualifications or GCSE", "A-level or vocational", "degree or higher")

# Invented census shares of the adult population (16+): the quotas come from these.
CENSUS: dict[str, dict[str, float]] = {
    "gender": {"female": 0.51, "male": 0.49},
    "age": {"16-29": 0.23, "30-44": 0.26, "45-64": 0.31, "65+": 0.20},
    "area": {
        "Old Town": 0.18,
        "Riverside": 0.26,
        "Kestrel Hill": 0.14,
        "Millbrook": 0.24,
        "Marsh End": 0.18,
    },
    "education": {
        "no qualifications or GCSE": 0.38,
        "A-level or vocational": 0.29,
        "degree or higher": 0.33,
    },
}

# Who answered the invitation letters: older, more educated, better-off areas over-represented.
POOL_GENDER = (0.55, 0.45)
POOL_AGE = (0.12, 0.20, 0.36, 0.32)
POOL_AREA = (0.27, 0.22, 0.23, 0.16, 0.12)
# Education by area (rows follow AREAS), before the shift for age 65+.
POOL_EDUCATION = (
    (0.15, 0.25, 0.60),
    (0.25, 0.30, 0.45),
    (0.10, 0.25, 0.65),
    (0.28, 0.34, 0.38),
    (0.42, 0.33, 0.25),
)
OLDER_EDUCATION_SHIFT = (1.5, 1.0, 0.75)

STREETS: dict[str, tuple[str, ...]] = {
    "Old Town": ("Market Street", "Church Lane", "Abbey Walk", "Tanners Row", "Castle Yard"),
    "Riverside": ("Wharf Road", "Towpath Close", "Ferry Lane", "Willow Bank", "Lock Street"),
    "Kestrel Hill": ("Kestrel Rise", "Beacon Drive", "Hawthorn Avenue", "Orchard Way"),
    "Millbrook": ("Mill Lane", "Brook Street", "Foundry Road", "Weavers Court", "Station Road"),
    "Marsh End": ("Marsh Road", "Reedbed Close", "Heron Way", "Saltings Lane"),
}
POSTCODE_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"  # the letters UK inward codes use
EMAIL_DOMAINS = ("example.org", "example.com", "example.net")


@dataclass(frozen=True)
class Names:
    """First and last names of one naming tradition; ``script`` names carry a Latin spelling."""

    weight: float
    female: tuple[str, ...]
    male: tuple[str, ...]
    last: tuple[str, ...]


NAMES: dict[str, Names] = {
    "english": Names(
        0.40,
        ("Emma", "Olivia", "Sophie", "Charlotte", "Hannah", "Margaret", "Susan", "Zoë", "Ruth",
         "Lily", "Jane", "Eleanor", "Grace", "Patricia", "Amber", "Chloe"),
        ("James", "Oliver", "Thomas", "George", "Harry", "David", "Peter", "Michael", "Jack",
         "William", "Stephen", "Callum", "Robert", "Alfie", "Graham", "Leo"),
        ("Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Evans",
         "Thomas", "Roberts", "Walker", "Wright", "Thompson", "Hughes", "Green", "Hall", "Clarke",
         "Turner", "Hill", "Cooper", "Ward", "Morris", "Baker", "Fletcher", "Pike"),
    ),
    "celtic": Names(
        0.07,
        ("Siobhan", "Aoife", "Niamh", "Morag", "Catriona", "Eilidh", "Bronwen", "Carys"),
        ("Ciarán", "Seán", "Rhys", "Angus", "Dylan", "Padraig", "Euan", "Gareth"),
        ("Murphy", "O'Brien", "MacLeod", "Campbell", "Kelly", "Jenkins", "Fraser",
         "Ó Súilleabháin"),
    ),
    "south_asian": Names(
        0.11,
        ("Priya", "Anjali", "Fatima", "Ayesha", "Nusrat", "Simran", "Kavya", "Sana"),
        ("Arjun", "Rohan", "Imran", "Sanjay", "Harpreet", "Bilal", "Vikram", "Tariq"),
        ("Patel", "Sharma", "Khan", "Begum", "Singh", "Chowdhury", "Iqbal", "Gill", "Rahman"),
    ),
    "west_african_caribbean": Names(
        0.08,
        ("Adaeze", "Abena", "Chiamaka", "Folake", "Marcia", "Yewande", "Akosua", "Beverley"),
        ("Kwame", "Chinedu", "Oluwaseun", "Kofi", "Delroy", "Emeka", "Tunde", "Winston"),
        ("Okafor", "Mensah", "Adeyemi", "Boateng", "Campbell", "Eze", "Asante", "Johnson"),
    ),
    "polish_romanian": Names(
        0.07,
        ("Agnieszka", "Małgorzata", "Katarzyna", "Ioana", "Zofia", "Andreea"),
        ("Łukasz", "Piotr", "Tomasz", "Andrei", "Mateusz", "Bogdan"),
        ("Kowalski", "Nowak", "Wiśniewski", "Popescu", "Zielińska", "Ionescu", "Wójcik"),
    ),
    "east_asian": Names(
        0.05,
        ("Mei", "Xiaoling", "Ngọc Anh", "Yuki", "Hana"),
        ("Wei", "Jun", "Minh", "Hiroshi", "Jian"),
        ("Chen", "Wang", "Nguyen", "Li", "Tanaka", "Zhang"),
    ),
    "mediterranean": Names(
        0.06,
        ("Sofia", "Maria", "Elif", "Eleni", "Giulia", "Inês"),
        ("José", "Mehmet", "Giorgos", "Luca", "João", "Emre"),
        ("Silva", "Yılmaz", "Papadopoulos", "Rossi", "Ferreira", "Demir", "Costa"),
    ),
    "arabic_hebrew_latin": Names(
        0.05,
        ("Layla", "Noa", "Yasmin", "Tamar", "Amira", "Shira"),
        ("Omar", "Eitan", "Karim", "Yonatan", "Samir", "Avi"),
        ("Haddad", "Levi", "Mansour", "Mizrahi", "Khalil", "Friedman", "Nasser"),
    ),
    "somali": Names(
        0.03,
        ("Hodan", "Ayan", "Faadumo", "Sahra"),
        ("Abdi", "Mohamed", "Hassan", "Liban"),
        ("Warsame", "Ali", "Farah", "Hirsi"),
    ),
}  # fmt: skip

# Names in Hebrew and Arabic script (with the Latin spelling used in their e-mail addresses).
HEBREW_FEMALE = (("נועה", "noa"), ("תמר", "tamar"), ("מיכל", "michal"))
HEBREW_MALE = (("דוד", "david"), ("יונתן", "yonatan"))
HEBREW_LAST = (("כהן", "cohen"), ("לוי", "levi"), ("מזרחי", "mizrahi"))
ARABIC_FEMALE = (("مريم", "maryam"), ("ليلى", "layla"), ("نور", "nour"))
ARABIC_MALE = (("يوسف", "yusuf"), ("عمر", "omar"), ("كريم", "karim"))
ARABIC_LAST = (("حداد", "haddad"), ("منصور", "mansour"), ("خليل", "khalil"))

# Households of volunteers (the rest live alone or are the only volunteer in their household).
COUPLES = 8
PARENT_AND_CHILD = 3
COUPLE_AND_CHILD = 1


# --- drawing the people ---------------------------------------------------------------------------


@dataclass
class Person:
    gender: str
    age: str
    area: str
    education: str
    first_name: str = ""
    last_name: str = ""
    email_name: str = ""
    household: int = -1


def _pick(rng: np.random.Generator, values: tuple[str, ...], shares: tuple[float, ...]) -> str:
    probabilities = np.asarray(shares, dtype=float)
    return values[int(rng.choice(len(values), p=probabilities / probabilities.sum()))]


def _education(rng: np.random.Generator, area: str, age: str) -> str:
    shares = np.asarray(POOL_EDUCATION[AREAS.index(area)], dtype=float)
    if age == "65+":
        shares = shares * np.asarray(OLDER_EDUCATION_SHIFT)
    return _pick(rng, EDUCATION, tuple(shares))


def _adjacent_age(rng: np.random.Generator, age: str) -> str:
    i = AGES.index(age)
    step = int(rng.choice([-1, 0, 0, 0, 1]))
    return AGES[min(max(i + step, 0), len(AGES) - 1)]


def _single(rng: np.random.Generator) -> Person:
    age = _pick(rng, AGES, POOL_AGE)
    area = _pick(rng, AREAS, POOL_AREA)
    return Person(_pick(rng, GENDERS, POOL_GENDER), age, area, _education(rng, area, age))


def draw_people(rng: np.random.Generator) -> list[Person]:
    """The volunteers, households first (members adjacent), then people on their own."""
    people: list[Person] = []
    household = 0
    for _ in range(COUPLES):
        area = _pick(rng, AREAS, POOL_AREA)
        age = _pick(rng, AGES, (0.08, 0.22, 0.38, 0.32))
        first_gender = _pick(rng, GENDERS, (0.5, 0.5))
        # one couple in eight of the same gender, on average
        other = first_gender if rng.random() < 0.125 else GENDERS[1 - GENDERS.index(first_gender)]
        for gender, member_age in ((first_gender, age), (other, _adjacent_age(rng, age))):
            people.append(
                Person(
                    gender, member_age, area, _education(rng, area, member_age), household=household
                )
            )
        household += 1
    for _ in range(PARENT_AND_CHILD):
        area = _pick(rng, AREAS, POOL_AREA)
        parent_age = _pick(rng, ("45-64", "65+"), (0.6, 0.4))
        child_age = "16-29" if parent_age == "45-64" else "30-44"
        for age in (parent_age, child_age):
            gender = _pick(rng, GENDERS, (0.55, 0.45))
            people.append(
                Person(gender, age, area, _education(rng, area, age), household=household)
            )
        household += 1
    for _ in range(COUPLE_AND_CHILD):
        area = _pick(rng, AREAS, POOL_AREA)
        for gender, age in (
            ("female", "45-64"),
            ("male", "45-64"),
            (_pick(rng, GENDERS, (0.5, 0.5)), "16-29"),
        ):
            people.append(
                Person(gender, age, area, _education(rng, area, age), household=household)
            )
        household += 1
    while len(people) < POOL_SIZE:
        people.append(_single(rng))
    return people


def _ascii(text: str) -> str:
    """A lower-case ASCII spelling of a Latin-script name, for e-mail addresses."""
    text = text.replace("ł", "l").replace("Ł", "L").replace("ı", "i").replace("'", "")
    decomposed = unicodedata.normalize("NFKD", text)
    kept = "".join(c for c in decomposed if c.isascii() and (c.isalnum() or c in " -"))
    return kept.lower().replace(" ", "").replace("-", "")


def name_people(people: list[Person], rng: np.random.Generator) -> None:
    """First and last names; household members often share a last name."""
    traditions = list(NAMES)
    weights = np.array([NAMES[t].weight for t in traditions])
    weights /= weights.sum()
    by_household: dict[int, list[int]] = {}
    for i, person in enumerate(people):
        if person.household >= 0:
            by_household.setdefault(person.household, []).append(i)
    singles = [i for i, p in enumerate(people) if p.household < 0]

    # A few names in Hebrew and Arabic script: one household in Arabic script, and singles.
    script_household = by_household[int(rng.integers(len(by_household)))]
    arabic_last = ARABIC_LAST[int(rng.integers(len(ARABIC_LAST)))]
    for i in script_household:
        _script_name(people[i], ARABIC_FEMALE, ARABIC_MALE, (arabic_last,), rng)
    chosen = rng.choice(len(singles), size=5, replace=False)
    for n, index in enumerate(chosen):
        person = people[singles[int(index)]]
        if n < 3:
            _script_name(person, HEBREW_FEMALE, HEBREW_MALE, HEBREW_LAST, rng)
        else:
            _script_name(person, ARABIC_FEMALE, ARABIC_MALE, ARABIC_LAST, rng)

    for members in by_household.values():
        if people[members[0]].first_name:
            continue
        tradition = NAMES[traditions[int(rng.choice(len(traditions), p=weights))]]
        shared_last = tradition.last[int(rng.integers(len(tradition.last)))]
        for position, i in enumerate(members):
            # partners keep their own last name about a third of the time; children share one
            own = position == 1 and len(members) == 2 and people[i].age != "16-29"
            last = shared_last
            if own and rng.random() < 0.35:
                last = tradition.last[int(rng.integers(len(tradition.last)))]
            _latin_name(people[i], tradition, last, rng)
    for i in singles:
        if people[i].first_name:
            continue
        tradition = NAMES[traditions[int(rng.choice(len(traditions), p=weights))]]
        last = tradition.last[int(rng.integers(len(tradition.last)))]
        _latin_name(people[i], tradition, last, rng)


def _latin_name(person: Person, tradition: Names, last: str, rng: np.random.Generator) -> None:
    firsts = tradition.female if person.gender == "female" else tradition.male
    person.first_name = firsts[int(rng.integers(len(firsts)))]
    person.last_name = last
    person.email_name = f"{_ascii(person.first_name)}.{_ascii(last)}"


def _script_name(
    person: Person,
    female: tuple[tuple[str, str], ...],
    male: tuple[tuple[str, str], ...],
    last: tuple[tuple[str, str], ...],
    rng: np.random.Generator,
) -> None:
    first_name, first_latin = (female if person.gender == "female" else male)[
        int(rng.integers(len(female if person.gender == "female" else male)))
    ]
    last_name, last_latin = last[int(rng.integers(len(last)))]
    person.first_name, person.last_name = first_name, last_name
    person.email_name = f"{first_latin}.{last_latin}"


# --- addresses, e-mails, ids ----------------------------------------------------------------------


def addresses(people: list[Person], rng: np.random.Generator) -> list[tuple[str, str]]:
    """(address, postcode) of each person: shared within a household, distinct otherwise."""
    postcode_of: dict[tuple[str, int], str] = {}
    taken: set[str] = set()
    result: list[tuple[str, str]] = []
    household_address: dict[int, tuple[str, str]] = {}
    for person in people:
        if person.household in household_address:
            result.append(household_address[person.household])
            continue
        streets = STREETS[person.area]
        while True:
            street = streets[int(rng.integers(len(streets)))]
            number = int(rng.integers(1, 120))
            address = f"{number} {street}"
            if address not in taken:
                break
        taken.add(address)
        district = AREAS.index(person.area) + 1
        block = (street, number // 30)  # a postcode unit covers about thirty house numbers
        if block not in postcode_of:
            while True:
                letters = rng.choice(list(POSTCODE_LETTERS), size=2)
                code = f"EV{district} {int(rng.integers(1, 10))}{letters[0]}{letters[1]}"
                if code not in postcode_of.values():
                    break
            postcode_of[block] = code
        entry = (address, postcode_of[block])
        if person.household >= 0:
            household_address[person.household] = entry
        result.append(entry)
    return result


def emails(people: list[Person], rng: np.random.Generator) -> list[str]:
    """Invented e-mail addresses at the reserved example domains, unique."""
    seen: set[str] = set()
    result: list[str] = []
    for person in people:
        local = person.email_name
        if rng.random() < 0.3:
            local = f"{local}{int(rng.integers(1, 99))}"
        while local in seen:
            local = f"{person.email_name}{int(rng.integers(1, 999))}"
        seen.add(local)
        result.append(f"{local}@{EMAIL_DOMAINS[int(rng.integers(len(EMAIL_DOMAINS)))]}")
    return result


# --- quotas ---------------------------------------------------------------------------------------


def quotas(k: int) -> pd.DataFrame:
    """min = floor(share * k), max = ceil(share * k), from the invented census shares."""
    rows = []
    for feature, shares in CENSUS.items():
        assert math.isclose(sum(shares.values()), 1.0), feature
        for value, share in shares.items():
            ideal = share * k
            nearest = round(ideal)
            if math.isclose(ideal, nearest, abs_tol=1e-9):
                low = high = nearest
            else:
                low, high = math.floor(ideal), math.ceil(ideal)
            rows.append({"feature": feature, "value": value, "min": low, "max": high})
    return pd.DataFrame(rows, columns=["feature", "value", "min", "max"])


# --- putting it together --------------------------------------------------------------------------


def make_pool() -> pd.DataFrame:
    """The pool, rows shuffled, ids ``EV-0001`` ... not in row order."""
    people = draw_people(numpy_generator(SEED, "example:people"))
    name_people(people, numpy_generator(SEED, "example:names"))
    places = addresses(people, numpy_generator(SEED, "example:addresses"))
    mail = emails(people, numpy_generator(SEED, "example:emails"))
    order_rng = numpy_generator(SEED, "example:order")
    ids = [f"EV-{i:04d}" for i in order_rng.permutation(len(people)) + 1]
    pool = pd.DataFrame(
        {
            "id": ids,
            "first_name": [p.first_name for p in people],
            "last_name": [p.last_name for p in people],
            "email": mail,
            "address": [a for a, _ in places],
            "postcode": [c for _, c in places],
            "gender": [p.gender for p in people],
            "age": [p.age for p in people],
            "area": [p.area for p in people],
            "education": [p.education for p in people],
        }
    )
    rows = order_rng.permutation(len(pool))
    return pool.iloc[rows].reset_index(drop=True)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    pool = make_pool()
    pool.to_csv(OUT / "pool.csv", index=False, encoding="utf-8", lineterminator="\n")
    quotas(K).to_csv(OUT / "quotas.csv", index=False, encoding="utf-8", lineterminator="\n")
    households = pool.groupby(["address", "postcode"]).size()
    shared = int((households > 1).sum())
    print(f"wrote {OUT / 'pool.csv'} ({len(pool)} volunteers, {shared} shared households)")
    print(f"wrote {OUT / 'quotas.csv'} (k = {K})")


if __name__ == "__main__":
    main()
