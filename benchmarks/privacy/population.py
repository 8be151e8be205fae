"""People, agency registers and the attacker's public list, for the privacy benchmark.

An interim generator: the project's synthetic generator (``benchmarks/synth``,
branch ``gen``) replaces it once it is on main. It draws victims of seven
South-East Asian nationalities with romanised names whose part frequencies
follow the registers' skew (a few very common family names such as Nguyen or
Sok, long tails of Thai compound surnames), ages skewed young, and agency
records that misspell, reorder, truncate and omit values as registers do.

Everything is a pure function of a ``numpy`` generator, so a seed fixes a run.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

import numpy as np

COLUMNS = ("record_id", "given_name", "family_name", "sex", "date_of_birth", "nationality",
           "place_of_origin")

# --- name pools (romanised; order = descending frequency) -----------------------------

_VNM_FAMILY = ("Nguyen Tran Le Pham Hoang Huynh Phan Vu Vo Dang Bui Do Ho Ngo Duong Ly Dinh "
               "Trinh Mai Truong Lam Cao Ha Luu Kieu Ta Quach Luong").split()
_VNM_MIDDLE_F = "Thi Thi Thi Ngoc Thu Thanh Kim Bich My Hong".split()
_VNM_MIDDLE_M = "Van Van Van Duc Minh Huu Quang Thanh Cong Xuan".split()
_VNM_GIVEN_F = ("Lan Hoa Huong Mai Linh Trang Thao Ngoc Anh Hanh Thu Hang Nga Phuong Dung Hien "
                "Loan Yen Tuyet Nhung Oanh Quyen Van Diep Xuan Thuy Tam Vy Trinh Giang").split()
_VNM_GIVEN_M = ("Tuan Hung Minh Nam Duc Long Quang Hai Son Thanh Cuong Binh Khoa Phuc Vinh Dung "
                "Hoang Trung Kien Tai Huy Dat Phong Tien Thang Lam Hieu Loc Toan Bao").split()
_THA_GIVEN_F = ("Suda Malee Siriporn Ratana Wanida Nittaya Kanya Pornthip Sunisa Araya Supaporn "
                "Jintana Pimchanok Naree Kanokwan Sumalee Orathai Duangjai Waraporn Pranee "
                "Rattana Chutima Kannika Sasithorn Ploy Nok Dao Lamai Busaba Sirirat").split()
_THA_GIVEN_M = ("Somchai Somsak Sompong Prasert Anan Kittisak Narong Wichai Thanakorn Chaiwat "
                "Surachai Boonmee Preecha Manop Sakda Arthit Somkiat Wirat Nattapong Pichai "
                "Chatchai Pongsak Tawatchai Sombat Yuttana").split()
_THA_ROOT = ("Sri Wong Chai Suk Boon Jai Rat Kaew Thong Sak Phon Saeng Siri Charoen Chan "
             "Inthra Pong Narin Sombat Rung Phet Buasri Mani Sawat Prom Yai Thep Ruang Kham "
             "Nil Chuen Dee Mee").split()
_THA_END = ("dee mee suk sakul wong porn chai sawat kul rat thong siri ngam rungruang wattana "
            "kham nil phan jaroen sri").split()
_KHM_FAMILY = ("Sok Chan Kim Ly Heng Chea Keo Meas Seng Sorn Phan Touch Nhem Prak Vann Men "
               "Yim Long Oum Hem Khieu Mao Pich Nuon Tep").split()
_KHM_GIVEN_F = ("Sreymom Srey Bopha Sophea Dara Sokha Vanna Chenda Kunthea Sreyneang Pisey "
                "Rachana Sopheap Channary Sreyleak Theary Chanthy Sokunthea Malis Leakhena").split()
_KHM_GIVEN_M = ("Dara Sokha Sovann Vuthy Rithy Piseth Sambath Visal Sokun Channa Sothea Vibol "
                "Bunthoeun Kosal Ratanak Samnang Veasna Sophal Chamroeun Makara").split()
_MMR_SYLL_F = ("Khin Mya Su Thida Nwe Aye Thin Moe Phyu San Ei Hnin Yadanar Cho Zin Htwe Myat "
               "Thandar May Hla Wai Lwin Nandar Sandar Yin").split()
_MMR_SYLL_M = ("Aung Kyaw Zaw Htun Win Myint Thant Hla Naing Soe Tun Oo Phyo Min Htet Lwin "
               "Thura Ko Zin Khant Nay Ye Wai Lin Maung").split()
_LAO_GIVEN_F = ("Khamla Souksavanh Vilayvanh Noy Manivanh Chanthala Phetsamone Vanida Bouavanh "
                "Khamphoui Somphit Viengkham Daovone Latsamy Souphaphone").split()
_LAO_GIVEN_M = ("Bounmy Phonsavanh Keo Somphone Thongchanh Sengphet Khamphanh Souliyo Vanxay "
                "Bounleua Sisavath Phouvong Khamsing Anousone Vilaysack").split()
_LAO_FAMILY = ("Phommachanh Sisouphanh Vongsa Keomany Inthavong Souvannavong Chanthavong "
               "Phimmasone Xayavong Bounthavy Sengdara Vongphachanh Luangrath Sayavong "
               "Keophila Douangmala Phanthavong Sihavong").split()
_PHL_GIVEN_F = ("Maria Mary Grace Jennifer Rowena Marites Lorna Analyn Jocelyn Rhea Lea Joy "
                "Kristine Michelle Cristina Angelica Rosalie Mae Jessa Shiela Aileen").split()
_PHL_GIVEN_M = ("Jose Juan Mark John Paul Rodel Jomar Arnel Ronnie Christian Michael Jerome "
                "Rolando Eduardo Ramon Noel Jayson Ariel Dennis Romeo Reynaldo").split()
_PHL_FAMILY = ("Santos Reyes Cruz Bautista Garcia Mendoza Ramos Gonzales Aquino Villanueva "
               "Dela_Cruz De_Guzman Torres Flores Castillo Fernandez Lopez Rivera Navarro "
               "Salazar Domingo Pascual Manalo Soriano Mercado").split()
_IDN_GIVEN_F = ("Siti Sri Dewi Nur Rina Wati Putri Ayu Fitri Yuni Lestari Rahayu Susanti "
                "Wulandari Sari Indah Ratna Endang Ani Kartini").split()
_IDN_GIVEN_M = ("Budi Agus Joko Eko Dedi Ahmad Muhammad Rizky Andi Hendra Bambang Irfan Yusuf "
                "Arif Slamet Teguh Wahyu Adi Rudi Hadi").split()
_IDN_FAMILY = ("Setiawan Santoso Hidayat Saputra Kurniawan Pratama Nugroho Wijaya Susanto "
               "Siregar Nasution Simanjuntak Gunawan Hartono Purnomo Wibowo Sutrisno").split()

_PLACES = {
    "VNM": "Nghe An;Thanh Hoa;Ha Tinh;Lao Cai;Ha Giang;Dien Bien;Son La;Quang Binh;An Giang;Hai Phong",
    "THA": "Chiang Rai;Chiang Mai;Nong Khai;Udon Thani;Khon Kaen;Ubon Ratchathani;Phayao;Nan;Tak;Bangkok",
    "KHM": "Banteay Meanchey;Battambang;Siem Reap;Prey Veng;Svay Rieng;Kampong Cham;Takeo;Kandal;Pursat",
    "MMR": "Yangon;Mandalay;Shan;Kayin;Mon;Ayeyarwady;Bago;Magway;Kachin;Tanintharyi",
    "LAO": "Vientiane;Savannakhet;Champasak;Luang Prabang;Bokeo;Oudomxay;Khammouane;Salavan",
    "PHL": "Mindanao;Cebu;Davao;Samar;Leyte;Pampanga;Quezon;Iloilo;Zamboanga",
    "IDN": "Jawa Barat;Jawa Timur;Jawa Tengah;Nusa Tenggara Barat;Nusa Tenggara Timur;Lampung;Sumatra Utara",
}
NATIONALITY_MIX = {"VNM": 0.25, "THA": 0.18, "MMR": 0.16, "KHM": 0.15, "LAO": 0.10,
                   "PHL": 0.09, "IDN": 0.07}

# Romanisation variants that registers use for one sound (folk vs. official).
_VARIANTS = (("ph", "f"), ("th", "t"), ("ch", "j"), ("ou", "u"), ("ee", "i"), ("y", "i"),
             ("kh", "k"), ("w", "v"), ("oo", "u"), ("ai", "ay"), ("ie", "ia"))


@dataclass(frozen=True)
class Person:
    """One victim's true identity."""

    pid: int
    given: str
    family: str
    sex: str
    dob: str
    nationality: str
    place: str


def _zipf_choice(rng: np.random.Generator, pool: list[str] | tuple[str, ...],
                 exponent: float = 1.0) -> str:
    weights = 1.0 / np.arange(1, len(pool) + 1) ** exponent
    return pool[int(rng.choice(len(pool), p=weights / weights.sum()))]


def _thai_surname(rng: np.random.Generator) -> str:
    # Thai surnames are nearly unique to a family: two or three morphemes.
    parts = [_zipf_choice(rng, _THA_ROOT, 0.5), _zipf_choice(rng, _THA_END, 0.5)]
    if rng.random() < 0.3:
        parts.insert(1, _zipf_choice(rng, _THA_ROOT, 0.5).lower())
    return parts[0] + "".join(p.lower() for p in parts[1:])


def _name(rng: np.random.Generator, nationality: str, female: bool) -> tuple[str, str]:
    """(given, family) as written on an identity document."""
    pick = _zipf_choice
    if nationality == "VNM":
        middle = pick(rng, _VNM_MIDDLE_F if female else _VNM_MIDDLE_M, 0.6)
        given = pick(rng, _VNM_GIVEN_F if female else _VNM_GIVEN_M, 0.8)
        return f"{middle} {given}", pick(rng, _VNM_FAMILY, 1.1)
    if nationality == "THA":
        return pick(rng, _THA_GIVEN_F if female else _THA_GIVEN_M, 0.7), _thai_surname(rng)
    if nationality == "KHM":
        return pick(rng, _KHM_GIVEN_F if female else _KHM_GIVEN_M, 0.8), pick(rng, _KHM_FAMILY, 1.0)
    if nationality == "MMR":
        syll = _MMR_SYLL_F if female else _MMR_SYLL_M
        n = 2 + int(rng.random() < 0.5)
        parts = [pick(rng, syll, 0.7) for _ in range(n)]
        return " ".join(parts[:-1]), parts[-1]
    if nationality == "LAO":
        return pick(rng, _LAO_GIVEN_F if female else _LAO_GIVEN_M, 0.7), pick(rng, _LAO_FAMILY, 0.6)
    if nationality == "PHL":
        given = pick(rng, _PHL_GIVEN_F if female else _PHL_GIVEN_M, 0.8)
        if rng.random() < 0.3:
            given += " " + pick(rng, _PHL_GIVEN_F if female else _PHL_GIVEN_M, 0.8)
        return given, pick(rng, _PHL_FAMILY, 0.8).replace("_", " ")
    given = pick(rng, _IDN_GIVEN_F if female else _IDN_GIVEN_M, 0.8)
    # Many Indonesians have a single name.
    return given, pick(rng, _IDN_FAMILY, 0.8) if rng.random() < 0.5 else ""


def make_people(n: int, rng: np.random.Generator, first_pid: int = 0) -> list[Person]:
    """Draw ``n`` people."""
    codes = list(NATIONALITY_MIX)
    shares = np.array([NATIONALITY_MIX[c] for c in codes])
    people = []
    reference = dt.date(2024, 6, 30)
    for i in range(n):
        nationality = codes[int(rng.choice(len(codes), p=shares / shares.sum()))]
        female = rng.random() < 0.7
        age = 12 + min(rng.gamma(2.2, 5.0), 45.0)
        dob = reference - dt.timedelta(days=int(age * 365.25))
        given, family = _name(rng, nationality, female)
        place = _zipf_choice(rng, _PLACES[nationality].split(";"), 0.8)
        people.append(Person(first_pid + i, given, family, "F" if female else "M",
                             dob.isoformat(), nationality, place))
    return people


# --- observation noise ------------------------------------------------------------------


@dataclass(frozen=True)
class Noise:
    """Rates of the errors a register makes when recording a person."""

    typo: float = 0.06
    variant: float = 0.10
    swap_names: float = 0.05
    drop_part: float = 0.08
    dob_year_only: float = 0.15
    dob_year_month: float = 0.05
    dob_missing: float = 0.08
    dob_year_off: float = 0.04
    dob_day_month_swap: float = 0.03
    sex_missing: float = 0.04
    nationality_missing: float = 0.08
    place_missing: float = 0.35

    def scaled(self, factor: float) -> Noise:
        """All rates times ``factor`` (capped at 1)."""
        return Noise(**{k: min(1.0, v * factor) for k, v in self.__dict__.items()})


def _typo(rng: np.random.Generator, word: str) -> str:
    if len(word) < 3:
        return word
    i = int(rng.integers(1, len(word) - 1))
    op = rng.random()
    letters = "aeiounmhkgtsrl"
    if op < 0.35:
        return word[:i] + letters[int(rng.integers(len(letters)))] + word[i + 1:]
    if op < 0.65:
        return word[:i] + word[i + 1:]
    if op < 0.85:
        return word[:i] + word[i + 1] + word[i] + word[i + 2:] if i + 2 <= len(word) else word
    return word[:i] + letters[int(rng.integers(len(letters)))] + word[i:]


def _variant(rng: np.random.Generator, word: str) -> str:
    low = word.lower()
    options = [(a, b) for a, b in _VARIANTS if a in low] + [(b, a) for a, b in _VARIANTS if b in low]
    if not options:
        return word
    a, b = options[int(rng.integers(len(options)))]
    out = low.replace(a, b, 1)
    return out.capitalize() if word[:1].isupper() else out


def _noisy_words(rng: np.random.Generator, text: str, noise: Noise) -> str:
    words = text.split()
    if len(words) > 1 and rng.random() < noise.drop_part:
        words.pop(int(rng.integers(len(words))))
    out = []
    for w in words:
        if rng.random() < noise.variant:
            w = _variant(rng, w)
        if rng.random() < noise.typo:
            w = _typo(rng, w)
        out.append(w)
    return " ".join(out)


def _noisy_dob(rng: np.random.Generator, dob: str, noise: Noise) -> str:
    year, month, day = (int(p) for p in dob.split("-"))
    u = rng.random()
    if u < noise.dob_missing:
        return ""
    if rng.random() < noise.dob_year_off:
        year += 1 if rng.random() < 0.5 else -1
    if rng.random() < noise.dob_day_month_swap and day <= 12:
        month, day = day, month
    u = rng.random()
    if u < noise.dob_year_only:
        return f"{year:04d}"
    if u < noise.dob_year_only + noise.dob_year_month:
        return f"{year:04d}-{month:02d}"
    # Clamp the day: a swapped or moved date may not exist.
    import calendar

    day = min(day, calendar.monthrange(year, month)[1])
    return f"{year:04d}-{month:02d}-{day:02d}"


def observe(person: Person, rng: np.random.Generator, noise: Noise, record_id: str) -> list[str]:
    """One register's record of ``person`` (columns as ``COLUMNS``)."""
    given = _noisy_words(rng, person.given, noise)
    family = _noisy_words(rng, person.family, noise) if person.family else ""
    if not given and not family:
        given = person.given
    if rng.random() < noise.swap_names:
        given, family = family, given
    return [
        record_id, given, family,
        "" if rng.random() < noise.sex_missing else person.sex,
        _noisy_dob(rng, person.dob, noise),
        "" if rng.random() < noise.nationality_missing else person.nationality,
        "" if rng.random() < noise.place_missing else person.place,
    ]


# --- registers and the attacker's list --------------------------------------------------


@dataclass(frozen=True)
class Register:
    """One agency's records and, for scoring only, who each record is."""

    party: str
    rows: list[list[str]]
    person_ids: list[int]


def make_registers(people: list[Person], capture: dict[str, float], rng: np.random.Generator,
                   noise: Noise = Noise(), duplicate_rate: float = 0.03) -> list[Register]:
    """Each agency records each person with its capture probability.

    Capture probabilities vary between people (some are far more visible),
    which is what makes multiple-systems estimation hard.
    """
    visibility = rng.normal(0.0, 0.8, len(people))
    registers = []
    for party, p in capture.items():
        logit = np.log(p / (1 - p)) + visibility
        seen = rng.random(len(people)) < 1 / (1 + np.exp(-logit))
        rows, ids = [], []
        for person in (people[i] for i in np.flatnonzero(seen)):
            copies = 1 + int(rng.random() < duplicate_rate)
            for _ in range(copies):
                rows.append(observe(person, rng, noise, f"{party[:1]}{len(rows):06d}"))
                ids.append(person.pid)
        registers.append(Register(party, rows, ids))
    return registers


def attacker_list(encoded: list[Person], others: list[Person], overlap: float,
                  rng: np.random.Generator) -> list[Person]:
    """A public list of names and full birth dates the size of the encoded set.

    ``overlap`` of the encoded people are on it (with their true, clean
    values); the rest of the list are other people from the same population.
    The list is shuffled: its order says nothing about the encoded order.
    """
    n = len(encoded)
    keep = int(round(overlap * n))
    chosen = [encoded[i] for i in rng.choice(n, keep, replace=False)]
    if n - keep > len(others):
        raise ValueError("not enough other people for the requested overlap")
    chosen += [others[i] for i in rng.choice(len(others), n - keep, replace=False)]
    order = rng.permutation(len(chosen))
    return [replace(chosen[i]) for i in order]


def attacker_rows(people: list[Person]) -> list[list[str]]:
    """The attacker's list as victim-schema rows: names and birth dates only."""
    return [[str(p.pid), p.given, p.family, "", p.dob, "", ""] for p in people]
