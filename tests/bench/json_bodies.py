"""Benign JSON request bodies of a given size for the `bigbody` scenario: a customer export (names, emails,
phone numbers, addresses, tags, free-text notes with apostrophes and punctuation, some names and cities in
other scripts), deterministic per body number. Common values (first names, cities, tags, note sentences)
repeat as they do in real data; ids, emails, phone numbers, dates and the mix of sentences differ per record
and per body, so a WAF's per-value caches cannot see one body's unique values again in the next.
"""

from __future__ import annotations

import json
import random
import unicodedata
from typing import Any

BODY_SIZE = 1024 * 1024  # about: each body is the first whole records that reach this size, closed
ATTACK = "'; DROP TABLE customers; -- <script>alert(document.cookie)</script>"

FIRST = ["James", "Mary", "Robert", "Patricia", "John", "Linda", "Wei", "Aisha", "Sofía", "Lukas", "Chloé", "Mateo"]
LAST = ["Smith", "Johnson", "O'Brien", "García", "Müller", "Nguyen", "Kowalski", "D'Angelo", "Okafor", "Dubois"]
CITIES = ["Springfield", "Portland", "Lyon", "München", "Kraków", "Osaka", "São Paulo", "Dublin", "Austin", "Leeds"]
STREETS = ["Oak Street", "Main Road", "Rue de la République", "Lindenstraße", "High Street", "Elm Avenue"]
DOMAINS = ["example.com", "example.org", "mail.example.net", "corp.example"]
TAGS = ["customer", "newsletter", "wholesale", "vip", "churn-risk", "trial", "partner", "eu", "us", "apac"]
NOTES = [
    "Called about the March invoice; prefers email over phone.",
    "Don't ship on Fridays: the warehouse closes at 3 pm.",
    "Asked for a refund of order #{n}, approved by Sam.",
    "Customer's account was merged with the old one (see ticket {n}).",
    "Delivery to the back door, ring twice. Dog is friendly!",
    "VAT number checked on {date}; reverse charge applies.",
    "Wants the 10% discount from last year's offer & free shipping.",
    "Moved to a new address in {city}, update pending.",
    "Complained that the app logs out after 5 minutes.",
    'Left a 5-star review: "great service, will order again".',
    "Prefers invoices as PDF, not paper. Contact: accounts dept.",
    "Payment failed twice (card expired), retry next week.",
    "Interested in the 2-year plan; send a quote with options A and B.",
    "Speaks French and English; it's best to call after 18:00.",
    "Returned 2 items (wrong size), exchange requested.",
]


def record(rng: random.Random, n: int, body_no: int) -> dict[str, Any]:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    date = f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    city = rng.choice(CITIES)
    notes = " ".join(rng.choice(NOTES) for _ in range(rng.randint(1, 3)))
    return {
        "id": body_no * 100_000 + n,
        "name": f"{first} {last}",
        "email": f"{_ascii(first)}.{_ascii(last)}{rng.randint(1, 9999)}@{rng.choice(DOMAINS)}",
        "phone": f"+1-555-{rng.randint(0, 9999):04d}",
        "address": {
            "street": f"{rng.randint(1, 250)} {rng.choice(STREETS)}",
            "city": city,
            "postcode": f"{rng.randint(10000, 99999)}",
        },
        "tags": rng.sample(TAGS, rng.randint(0, 3)),
        "created": f"{date}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00Z",
        "active": rng.random() < 0.8,
        "balance": round(rng.uniform(-50, 5000), 2),
        "note": notes.format(n=rng.randint(1000, 99999), date=date, city=city),
    }


def _ascii(name: str) -> str:
    """`Sofía` -> `sofia`, `O'Brien` -> `obrien`: the local part of an address."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return folded.lower().replace("'", "")


def json_body(body_no: int, *, size: int = BODY_SIZE, attack: bool = False) -> bytes:
    """A customer export of about `size` bytes (UTF-8 JSON), the same for the same `body_no`; with `attack`,
    ATTACK is the note of its last record."""
    rng = random.Random(body_no)
    records: list[dict[str, Any]] = []
    total = 100  # the document around the records
    while total < size - 600:
        item = record(rng, len(records), body_no)
        records.append(item)
        total += len(json.dumps(item, ensure_ascii=False).encode()) + 1
    if attack:
        records[-1]["note"] = ATTACK
    document = {"export": f"customers-{body_no}", "generated": "2024-12-01T00:00:00Z", "customers": records}
    return json.dumps(document, ensure_ascii=False).encode()
