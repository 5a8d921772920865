# ruff: noqa: RUF001
"""Writes the benign corpus `tests/corpus/benign/*.jsonl`: production-shaped requests nobody tuned a rule on.

    .venv/bin/python tests/corpus/build_benign.py            # rewrites every category file
    .venv/bin/python tests/corpus/build_benign.py --check    # exit 1 when the committed files differ

Why a generator: the corpus has to be large (false-positive rates of a fraction of a percent need thousands
of requests), varied (names, prose, ids, timestamps, clients) and reviewable. Templates encode the *shapes*
of real traffic (browser navigations, Stripe/GitHub/Shopify/Slack webhooks, Microsoft Graph OData queries,
Keycloak/Auth0 flows, Nextcloud WebDAV, CalDAV/CardDAV, multipart uploads of real file formats ...) and pools
of values fill them in. A fixed seed makes every run byte-identical, so the committed JSONL is the corpus and
this file documents how it was made. The content was written from public API documentation and everyday
traffic, never by looking at which requests the rules block: a corpus shaped after the rules would measure
nothing.

Every line is one request in the JSON format of `run_corpus.py` (see tests/corpus/README.md), plus `half`
(`tune` or `measure`: rules may be changed looking at the tune half only) and `shape` (the template). Bodies
are text in `body`; bodies with binary bytes (images, archives, gzip) are `body_b64` instead, which only our
own replayer (`tests/bench/replay.py`) reads.
"""

from __future__ import annotations

import argparse
import base64
import gzip
import hashlib
import io
import json
import random
import struct
import sys
import uuid
import zipfile
import zlib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from email.utils import formatdate
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus, urlencode

SEED = 20240301
OUT = Path(__file__).resolve().parent / "benign"
SOURCE = "edge-benign"
BASE_TS = 1709251200  # 2024-03-01T00:00:00Z: every timestamp falls in the 90 days after it

Record = dict[str, Any]
Headers = list[tuple[str, str]]


# ---------------------------------------------------------------------------------------------------------------
# Randomness and small formatters
# ---------------------------------------------------------------------------------------------------------------


class R(random.Random):
    """random.Random with the few helpers every template needs (ids, hex, timestamps)."""

    def hex(self, n: int) -> str:
        return f"{self.getrandbits(n * 4):0{n}x}"

    def alnum(self, n: int, alphabet: str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") -> str:
        return "".join(self.choice(alphabet) for _ in range(n))

    def digits(self, n: int) -> str:
        return str(self.randrange(10 ** (n - 1), 10**n))

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.getrandbits(128), version=4))

    def ts(self) -> int:
        return BASE_TS + self.randrange(90 * 86400)

    def b64url(self, n: int) -> str:
        return base64.urlsafe_b64encode(self.randbytes(n)).rstrip(b"=").decode()

    def b64(self, n: int) -> str:
        return base64.b64encode(self.randbytes(n)).decode()

    def pick(self, seq: Sequence[Any], k: int) -> list[Any]:
        return self.sample(list(seq), k)


def iso(ts: int, ms: bool = False, offset: str = "Z") -> str:
    dt = datetime.fromtimestamp(ts, UTC)
    text = dt.strftime("%Y-%m-%dT%H:%M:%S")
    if ms:
        text += f".{(ts * 7919) % 1000:03d}"
    return text + offset


def httpdate(ts: int) -> str:
    return formatdate(ts, usegmt=True)


def js_component(s: str) -> str:
    """encodeURIComponent: what front-end code puts in URLs (leaves !'()* alone, spaces become %20)."""
    return quote(s, safe="-_.!~*'()")


def form(pairs: Sequence[tuple[str, str]] | dict[str, str]) -> str:
    """application/x-www-form-urlencoded as browsers send it (spaces become +)."""
    items = pairs.items() if isinstance(pairs, dict) else pairs
    return "&".join(f"{quote_plus(k, safe='*')}={quote_plus(v, safe='*')}" for k, v in items)


def compact(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def pretty(obj: Any) -> str:
    return json.dumps(obj, indent=2, ensure_ascii=False)


def jwt(r: R, claims: dict[str, Any], alg: str = "RS256", kid: str | None = None) -> str:
    """A JWT with realistic header and claims and a random signature of the algorithm's size."""
    header: dict[str, Any] = {"alg": alg, "typ": "JWT"}
    if kid is not None:
        header["kid"] = kid
    sig = {"RS256": 256, "ES256": 64, "HS256": 32, "PS256": 256}[alg]
    enc = [base64.urlsafe_b64encode(compact(p).encode()).rstrip(b"=").decode() for p in (header, claims)]
    return ".".join([*enc, r.b64url(sig)])


def access_token(r: R, iss: str = "https://auth.example.com/", aud: str = "https://api.example.com") -> str:
    now = r.ts()
    claims = {
        "iss": iss,
        "sub": r.choice(["auth0|", "google-oauth2|", ""]) + r.digits(21),
        "aud": [aud, iss.rstrip("/") + "/userinfo"],
        "iat": now,
        "exp": now + 86400,
        "azp": r.alnum(32),
        "scope": r.choice(["openid profile email", "openid profile email offline_access", "read:orders write:orders"]),
    }
    return jwt(r, claims, kid=r.b64url(15))


def keycloak_token(r: R, realm: str, client: str) -> str:
    now = r.ts()
    claims = {
        "exp": now + 300,
        "iat": now,
        "auth_time": now - r.randrange(3600),
        "jti": r.uuid(),
        "iss": f"https://sso.example.org/realms/{realm}",
        "aud": "account",
        "sub": r.uuid(),
        "typ": "Bearer",
        "azp": client,
        "session_state": r.uuid(),
        "acr": "1",
        "allowed-origins": ["https://app.example.org"],
        "realm_access": {"roles": ["offline_access", "uma_authorization", f"default-roles-{realm}"]},
        "scope": "openid email profile",
        "sid": r.uuid(),
        "email_verified": True,
        "preferred_username": r.choice(FIRST).lower(),
    }
    return jwt(r, claims, kid=r.b64url(32))


# ---------------------------------------------------------------------------------------------------------------
# Pools of values
# ---------------------------------------------------------------------------------------------------------------

FIRST = [
    "Olivia",
    "Liam",
    "Emma",
    "Noah",
    "Ava",
    "Mateo",
    "Sofia",
    "Lucas",
    "Amara",
    "Chen",
    "Priya",
    "Arjun",
    "Fatima",
    "Omar",
    "Yuki",
    "Hiroshi",
    "Ingrid",
    "Lars",
    "Zoë",
    "Jürgen",
    "Chloé",
    "Renée",
    "Siobhán",
    "Seán",
    "Aoife",
    "Kwame",
    "Ngozi",
    "Thandiwe",
    "Diego",
    "Valentina",
    "José",
    "María",
    "Łukasz",
    "Agnieszka",
    "Dmitri",
    "Anastasia",
    "Mehmet",
    "Elif",
    "Nguyen",
    "Linh",
    "Kai",
    "Leilani",
    "Jamal",
    "Aaliyah",
    "Ethan",
    "Grace",
    "Henry",
    "Isabella",
    "Jack",
    "Mia",
    "Oscar",
    "Ruby",
    "Sam",
    "Tessa",
    "Will",
    "Xavier",
    "Yara",
    "Zane",
    "Anne-Marie",
    "Jean-Luc",
    "Bob",
    "Alice",
    "Carol",
    "Dave",
    "Erin",
    "Frank",
]
LAST = [
    "Smith",
    "Johnson",
    "O'Brien",
    "O'Connor",
    "D'Souza",
    "D'Angelo",
    "Müller",
    "Schröder",
    "García",
    "Martínez",
    "Nguyen",
    "Tran",
    "Kowalski",
    "Nowak",
    "Smith-Jones",
    "van der Berg",
    "de la Cruz",
    "Øvergaard",
    "Tanaka",
    "Sato",
    "Okafor",
    "Mensah",
    "Ivanova",
    "Petrov",
    "Yılmaz",
    "Kaya",
    "Chen",
    "Wang",
    "Li",
    "Patel",
    "Sharma",
    "Singh",
    "Khan",
    "Ahmed",
    "Haddad",
    "Cohen",
    "Levi",
    "Rossi",
    "Bianchi",
    "Dubois",
    "Lefèvre",
    "Brown",
    "Wilson",
    "Taylor",
    "Anderson",
    "Thomas",
    "Jackson",
    "White",
    "Harris",
    "Martin",
    "Thompson",
    "Young",
    "McDonald",
    "MacLeod",
    "Fitzgerald",
    "St. John",
    "Ng",
    "Kim",
    "Park",
    "Choi",
    "Johansson",
    "Lindqvist",
]
CITIES = [
    ("Portland", "OR", "97205", "US"),
    ("Austin", "TX", "78701", "US"),
    ("Brooklyn", "NY", "11201", "US"),
    ("Chicago", "IL", "60614", "US"),
    ("San Francisco", "CA", "94110", "US"),
    ("Seattle", "WA", "98109", "US"),
    ("Denver", "CO", "80202", "US"),
    ("Atlanta", "GA", "30303", "US"),
    ("Toronto", "ON", "M5V 2T6", "CA"),
    ("Vancouver", "BC", "V6B 1A1", "CA"),
    ("London", "", "EC1V 9HX", "GB"),
    ("Manchester", "", "M1 1AE", "GB"),
    ("Dublin", "", "D02 X285", "IE"),
    ("Berlin", "", "10115", "DE"),
    ("München", "", "80331", "DE"),
    ("Köln", "", "50667", "DE"),
    ("Paris", "", "75011", "FR"),
    ("Lyon", "", "69002", "FR"),
    ("Amsterdam", "", "1012 AB", "NL"),
    ("Madrid", "", "28013", "ES"),
    ("Barcelona", "", "08002", "ES"),
    ("Milano", "MI", "20121", "IT"),
    ("Zürich", "", "8001", "CH"),
    ("Wien", "", "1010", "AT"),
    ("Stockholm", "", "111 52", "SE"),
    ("Oslo", "", "0150", "NO"),
    ("København", "", "1050", "DK"),
    ("Warszawa", "", "00-001", "PL"),
    ("Sydney", "NSW", "2000", "AU"),
    ("Melbourne", "VIC", "3000", "AU"),
    ("Auckland", "", "1010", "NZ"),
    ("Tokyo", "", "100-0005", "JP"),
    ("Singapore", "", "018956", "SG"),
    ("São Paulo", "SP", "01310-100", "BR"),
    ("Ciudad de México", "CDMX", "06600", "MX"),
]
STREETS = [
    "Main St",
    "Oak Avenue",
    "2nd Ave",
    "Elm Street",
    "Market St",
    "Broadway",
    "Sunset Blvd",
    "Baker Street",
    "Hauptstraße",
    "Rue de la Paix",
    "Calle Mayor",
    "Via Roma",
    "Kerkstraat",
    "Drottninggatan",
    "Queen St W",
    "Union Square",
    "Church Road",
    "High Street",
    "Mill Lane",
    "Station Road",
    "Maple Drive",
    "Cedar Ct",
]
UNITS = ["", "", "", "Apt 4B", "Suite 200", "#12", "Unit 3", "Flat 2", "c/o Reception", "2nd floor", "Apt. #7"]
COMPANIES = [
    "Northwind Traders",
    "Contoso Ltd",
    "Fabrikam, Inc.",
    "Wide World Importers",
    "Tailspin Toys",
    "Adventure Works",
    "Harbor & Pine Co.",
    "Smith & Sons Plumbing",
    "O'Malley's Pub",
    "Kraft + Partner GmbH",
    "Blue Bottle Analytics",
    "Greenfield Dental Group",
    "Lakeside Montessori",
    "Acme Logistics (EMEA)",
    "Müller Bau AG",
    "Studio Nord",
    "Pixel & Pine",
    "Brightline Health",
    "Riverbend Credit Union",
    "Summit Outdoor Supply",
    "Union Street Bakery",
    "Select Realty Group",
    "Drop Zone Skydiving",
]
DOMAINS = [
    "example.com",
    "example.org",
    "example.net",
    "shop.example.com",
    "acme.example",
    "contoso.com",
    "northwind.example",
    "fabrikam.com",
    "mail.example.org",
]
EMAIL_DOMAINS = ["gmail.com", "outlook.com", "yahoo.com", "icloud.com", "proton.me", "example.com", "contoso.com"]

PRODUCTS = [
    ("Merino Wool Crew Sock", "merino-wool-crew-sock", 18.0),
    ("Drop-Leaf Dining Table", "drop-leaf-dining-table", 649.0),
    ("Union Jack Enamel Mug", "union-jack-enamel-mug", 14.5),
    ("Cold Brew Coffee Maker (1.5 L)", "cold-brew-coffee-maker-1-5-l", 39.99),
    ("USB-C to HDMI Adapter (4K@60Hz)", "usb-c-to-hdmi-adapter-4k-60hz", 24.99),
    ("Men's Trail Runner 2", "mens-trail-runner-2", 129.0),
    ("Kids' Rain Jacket", "kids-rain-jacket", 59.0),
    ('12" Cast Iron Skillet', "12-inch-cast-iron-skillet", 34.95),
    ("Organic Cotton Tee – Black / M", "organic-cotton-tee", 28.0),
    ("Select Grade Maple Syrup 500ml", "select-grade-maple-syrup-500ml", 16.0),
    ("Teardrop Earrings – Sterling Silver", "teardrop-earrings-sterling-silver", 85.0),
    ("The Pragmatic Programmer (20th Anniversary Edition)", "the-pragmatic-programmer-20th-anniversary", 44.99),
    ("Script Lettering Wedding Invitations (Set of 50)", "script-lettering-wedding-invitations-50", 120.0),
    ("Noise-Cancelling Headphones WH-1000XM5", "wh-1000xm5", 349.99),
    ("Standing Desk Frame – Dual Motor", "standing-desk-frame-dual-motor", 399.0),
    ("Linen Duvet Cover (Queen)", "linen-duvet-cover-queen", 189.0),
    ("Ceramic Pour-Over Set", "ceramic-pour-over-set", 48.0),
    ("Waterproof Hiking Boot – Wide Fit", "waterproof-hiking-boot-wide", 159.0),
    ("Yoga Mat 6mm / Sage", "yoga-mat-6mm-sage", 42.0),
    ("Stainless Steel Water Bottle 750 ml", "steel-water-bottle-750", 29.0),
    ("Mechanical Keyboard – 75% Hot-Swap", "mechanical-keyboard-75-hot-swap", 139.0),
    ("Drop Shoulder Hoodie", "drop-shoulder-hoodie", 64.0),
    ("Executive Desk Chair", "executive-desk-chair", 299.0),
    ("Garden Hose Nozzle, 8 Patterns", "garden-hose-nozzle-8-patterns", 12.99),
    ("LED Desk Lamp with USB Port", "led-desk-lamp-usb", 35.0),
    ("Rock & Roll Vinyl Box Set", "rock-and-roll-vinyl-box-set", 89.0),
    ("Baby Onesie 3-Pack (0–3 months)", "baby-onesie-3-pack", 24.0),
    ("Select Fit Chino Pant", "select-fit-chino-pant", 69.5),
    ("Smart Thermostat (3rd gen)", "smart-thermostat-3rd-gen", 249.0),
    ("Bamboo Cutting Board Set of 3", "bamboo-cutting-board-set", 32.0),
]
COLORS = ["Black", "White", "Navy", "Sage", "Charcoal", "Red", "Sand", "Forest Green", "Heather Grey"]
SIZES = ["XS", "S", "M", "L", "XL", "XXL", "6", "7.5", "8", "9.5", "10", "11", "One Size"]

# Ordinary sentences, some with the words people really use: select, drop, union, order, exec, script ...
PROSE = [
    "Thanks for the quick reply, that fixed it for me.",
    "I ordered the wrong size, can I exchange it for a medium?",
    "Please select the delivery window that works best for you.",
    "We had to drop the Thursday session because the venue double-booked the room.",
    "The union meeting is moved to 6 pm in the main hall.",
    "Could you send me the invoice from last month again? I can't find it in my inbox.",
    "Great product, but shipping took almost two weeks.",
    "Select your country from the list, then enter the postcode.",
    'My order hasn\'t arrived yet and the tracking page says "label created" since Monday.',
    "The kids loved it! We'll definitely be back next summer.",
    "Drop me a line if you're around this weekend.",
    "I'm trying to update my billing address but the form keeps resetting.",
    "Where can I find the user guide for the 3rd gen model?",
    "Is it possible to pick up the order from the store instead?",
    "Our team uses this every day; the new dashboard is a big improvement.",
    "Can you delete my account and all related data, please?",
    "Happy birthday!! Hope you have a great day <3",
    "See you at 5:30 — I'll bring the snacks & drinks.",
    "The first draft is attached; comments welcome (especially on section 3).",
    "I don't understand why the total is $12.40 higher than the cart said.",
    "It's 50% off until Sunday, so grab one while you can :)",
    "Left a 5-star review, the support team was amazing.",
    "We're a small non-profit; do you offer a discount for 501(c)(3) organizations?",
    "Please leave the parcel at the back door and ring twice.",
    "Room 204 — the projector isn't working again.",
    'Can I change the engraving text after ordering? It should read "Always & Forever".',
    "Order #10482 was charged twice, can you refund one of the payments?",
    "The update from version 2.3 to 2.4 went smoothly on all our machines.",
    "Is there a way to export everything as CSV or Excel?",
    "The meeting notes are in the shared folder under /Projects/2024/Q2.",
    "Sorry for the late reply — I was out of office last week.",
    "Any chance this comes in a wider fit? My feet are 10.5 E.",
    "We would like to book a table for 6 on Friday at 7:30 pm.",
    "Drop-off is between 8 and 9 am; pick-up from 4 to 6 pm.",
    "I've been a customer for 10+ years and this is the first time something went wrong.",
    "The app crashes when I select a photo from my gallery.",
    "Our union rep will attend the hearing on the 14th.",
    "Quick question: does the price include VAT?",
    "Please update the delivery address to: 12 Church Road, Flat 2.",
    "We're hiring! Send your CV and a short cover letter to jobs@example.com.",
    "This recipe needs 2 cups of flour, 1/2 cup sugar and a pinch of salt.",
    "Bring a water bottle, sunscreen & a hat — it gets hot on the trail.",
    "The webinar recording is available until the end of the month.",
    "I'd like to cancel my subscription at the end of the current billing period.",
    "Hi there, is the store open on public holidays?",
    "The item arrived damaged (see photos), what are my options?",
    "We're comparing plans; what's the difference between Team and Business?",
    "Can I order by phone? The checkout won't accept my postcode.",
    "Choose one: (a) pay now, (b) pay in 3 instalments, (c) pay on delivery.",
    "Please drop all the files into the shared drive by Friday.",
    "Union Station is a 10 minute walk from the hotel.",
    "The select committee published its report on housing this morning.",
    "If you select 'Remember me', you stay logged in for 30 days.",
    "We need to order more paper for the printer on the 3rd floor.",
    "Is the 'Where to buy' page up to date? The shop on Main St closed.",
    "From next week the office opens at 8:00 instead of 8:30.",
    "Let me know whether Tuesday or Wednesday works better for the call.",
    "The delete button doesn't do anything in Safari 17.",
    "Executive summary: revenue up 12%, costs flat, churn down to 2.1%.",
    "Our script for the school play is finally done — rehearsals start Monday!",
    "The alert on my dashboard says the card expires 04/25, but I already updated it.",
    "Could you insert a page break before the appendix?",
    "Update: the issue is resolved after clearing the cache.",
    "The grand union of the two clubs happens this Saturday.",
    "Waiting for approval from finance before we can proceed.",
    "I tried both Chrome and Firefox, same result.",
    "The password reset link has expired, can you send a new one?",
    "Is there a student discount? I'm at the University of Toronto.",
]
TITLES = [
    "Why does (select) return null in my view?",
    "Drop everything and read this: our union contract explained",
    "Select committee publishes report on rental housing",
    "How to drop a column in pandas without losing the index",
    "Union budget 2024: the highlights in five minutes",
    "Order by date – a better way to sort your photo library",
    "10 things I wish I knew before my first marathon",
    "From zero to production: deploying Django on a $5 VPS",
    "Where to eat in Lisbon (a very opinionated list)",
    "Script kiddies, CTFs and how I got into security",
    "The case for boring technology",
    "Understanding SELECT ... FOR UPDATE in PostgreSQL",
    "Why our build went from 14 to 3 minutes",
    "Ask HN: How do you back up your family photos?",
    "Show and tell: a tiny CLI for renaming files by EXIF date",
    'Release notes: version 4.2 ("Union")',
    "Kitchen renovation diary, part 3: the drop ceiling",
    "Sign up for the spring select league",
    "What's new in C# 12: primary constructors and collection expressions",
    "Alert fatigue: how we cut our pager noise by 80%",
    "Insert coin: a history of arcade cabinets",
    "Exec summary template for your quarterly review",
    "Tips for a drop-in babysitting co-op",
    "Bash one-liners I use every day",
    "Join us for the union square farmers market",
    "How to update Node.js with nvm && keep your global packages",
    "Delete, archive or keep? A guide to email hygiene",
    "Cast iron care 101",
    "Migrating from MySQL 5.7 to 8.0: what broke",
    "Getting started with <dialog> and the popover API",
]
CAMPAIGNS = [
    "spring_sale_2024",
    "select-your-plan",
    "drop_shipping_webinar",
    "union-station-popup",
    "bf-cyber-2023",
    "welcome_series_3",
    "newsletter-2024-03-12",
    "retargeting_cart_abandon",
    "brand|search|exact",
    "Q2 Launch (EMEA)",
    "summer-drop-01",
    "exec_briefing_apr",
    "ppc_generic_shoes",
    "app-install-ios",
    "partner:contoso",
    "spring_promo_20%_off",
    "insert-card-reminder",
    "order-confirmation",
    "reactivation_90d",
]
SOURCES = ["google", "newsletter", "facebook", "instagram", "linkedin", "twitter", "bing", "klaviyo", "mailchimp"]
MEDIUMS = ["cpc", "email", "social", "paid_social", "display", "referral", "affiliate", "organic"]

SHOP_SEARCHES = [
    "women's shoes size 8",
    "50% off sale",
    "usb-c to hdmi",
    "kids' rain jacket",
    '12" skillet',
    "running shoes wide toe box",
    "100% cotton t-shirt",
    "t-shirt (men's) xl",
    "ikea kallax 4x4",
    "dr. martens 1460",
    "3m command strips",
    "wd-40",
    "drop earrings gold",
    "select fit chino",
    "union jack mug",
    "cold brew",
    "maple syrup",
    "cast iron",
    "standing desk",
    "linen duvet queen",
    "headphones noise cancelling",
    "yoga mat",
    "water bottle 750 ml",
    "gift card",
    "baby onesie 0-3",
    "rock & roll vinyl",
    "ben & jerry's",
    "h&m jeans",
    "m&s gift",
    "o'neill wetsuit",
    "levi's 501",
    "price < 100 headphones",
    "chair",
    "desk lamp",
    "coffee ☕",
    "crème brûlée set",
    "ñandú plush",
    "thermostat 3rd gen",
    "hose nozzle",
    "keyboard 75%",
    "hoodie xl",
    "socks",
    "black friday",
]
DEV_SEARCHES = [
    "how to select multiple rows in excel",
    "c# string interpolation",
    "python if __name__ == '__main__'",
    "bash && vs ;",
    "what does || mean in javascript",
    "center a <div> with css",
    "drop table vs truncate",
    "sql union vs union all",
    "SELECT * FROM equivalent in pandas",
    "echo $PATH",
    "chmod 755 meaning",
    "curl -X POST json",
    "x = y ? a : b",
    "regex [a-z]+ match",
    "git reset --hard origin/main",
    "rm -rf node_modules",
    "docker compose up -d",
    "kubectl get pods -n kube-system",
    "npm install --save-dev",
    "pip install -r requirements.txt",
    "what does :wq do in vim",
    "~/.bashrc",
    "is 0.1 + 0.2 == 0.3",
    "insert table word",
    "update ios 17.4",
    "select all shortcut mac",
    "ctrl+alt+del",
    "screenshot windows 11",
    "useEffect cleanup",
    "async await error handling",
    "postgres jsonb index",
    "nginx proxy_pass trailing slash",
    "c++ vector erase",
    "f# vs ocaml",
    "go context cancel",
    "rust borrow checker",
    "java stream collect",
]
GENERAL_SEARCHES = [
    "drop shipping suppliers europe",
    "union square hotels",
    "select comfort mattress review",
    "rock & roll hall of fame tickets",
    "o'reilly books python",
    '"exact phrase" search',
    "#throwbackthursday",
    "münchen hauptbahnhof",
    "東京 ラーメン",
    "ελληνικά μαθήματα",
    "crème brûlée recipe",
    "how to delete facebook account",
    "order of operations math",
    "where is my order",
    "from scratch pizza dough",
    "exec meaning",
    "script writing software",
    "best laptop 2024",
    "rtx 4070 vs 4070 super",
    "tax return deadline",
    "vegan lasagne",
    "flights to lisbon",
    "cheap hotels paris 11e",
    "what is 2+2",
    "at&t customer service",
    "b&q opening hours",
    "procter & gamble careers",
    "barnes & noble",
    "macy's sale",
    "<3 emoji meaning",
    "where to buy union jack flag",
    "select foods",
    "order pizza",
    "alert dog breed",
    "union pacific careers",
    "the who tickets",
    "and then there were none",
    "null island",
    "404 not found meaning",
    "yes/no questions",
    "between two ferns",
    "weather tomorrow",
    "bus 42 timetable",
    "library opening hours",
    "dentist near me",
]

CODE_SNIPPETS = {
    "python": [
        'import os\n\nfor root, dirs, files in os.walk("."):\n    for name in files:\n        if name.endswith(".log"):\n            print(os.path.join(root, name))',
        'cur.execute(\n    "SELECT id, email FROM users WHERE created_at > %s ORDER BY id",\n    (since,),\n)\nrows = cur.fetchall()',
        'with open("data.csv", newline="") as fh:\n    reader = csv.DictReader(fh)\n    total = sum(float(row["amount"]) for row in reader)',
        'result = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True)\nsha = result.stdout.strip()',
        'df = df.drop(columns=["tmp", "unused"]).sort_values("date")\nprint(df.head())',
        'if __name__ == "__main__":\n    main(sys.argv[1:])',
        '@app.get("/items/{item_id}")\nasync def read_item(item_id: int, q: str | None = None):\n    return {"item_id": item_id, "q": q}',
    ],
    "javascript": [
        "const res = await fetch(`/api/users/${id}`, { headers: { Accept: 'application/json' } });\nconst user = await res.json();",
        "document.querySelectorAll('select').forEach((el) => el.addEventListener('change', onChange));",
        "export default function Counter() {\n  const [n, setN] = useState(0);\n  return <button onClick={() => setN(n + 1)}>{n}</button>;\n}",
        "const total = items.reduce((sum, i) => sum + i.price * i.qty, 0);\nconsole.log(`Total: $${total.toFixed(2)}`);",
        "if (a && b || c) {\n  return null;\n}",
        "window.addEventListener('load', () => {\n  console.log('loaded');\n});",
    ],
    "sql": [
        "SELECT c.name, COUNT(o.id) AS orders\nFROM customers c\nLEFT JOIN orders o ON o.customer_id = c.id\nGROUP BY c.name\nORDER BY orders DESC\nLIMIT 10;",
        "ALTER TABLE invoices DROP COLUMN legacy_ref;",
        "SELECT id FROM a\nUNION ALL\nSELECT id FROM b;",
        "UPDATE users SET last_login = now() WHERE id = $1;",
        "CREATE INDEX CONCURRENTLY idx_orders_created ON orders (created_at);",
        "DELETE FROM sessions WHERE expires_at < now() - interval '7 days';",
    ],
    "bash": [
        "sudo apt-get update && sudo apt-get install -y build-essential",
        "rm -rf node_modules package-lock.json && npm install",
        'for f in *.jpg; do convert "$f" -resize 50% "small/$f"; done',
        'export PATH="$HOME/.local/bin:$PATH"\nsource ~/.bashrc',
        "git fetch origin && git rebase origin/main || git rebase --abort",
        "docker run --rm -it -v $(pwd):/app -w /app node:20 npm test",
        "find . -name '*.pyc' -delete",
        "tail -f /var/log/nginx/error.log | grep -i timeout",
        "curl -fsSL https://get.docker.com -o get-docker.sh\nsh get-docker.sh",
    ],
    "yaml": [
        "services:\n  db:\n    image: postgres:16\n    environment:\n      POSTGRES_PASSWORD: example\n    volumes:\n      - db-data:/var/lib/postgresql/data",
        "steps:\n  - uses: actions/checkout@v4\n  - run: |\n      pip install -r requirements.txt\n      pytest -q",
    ],
    "csharp": [
        "var names = people.Where(p => p.Age > 18).Select(p => p.Name).ToList();",
        'using var conn = new SqlConnection(cs);\nvar cmd = new SqlCommand("SELECT TOP 10 * FROM Orders WHERE CustomerId = @id", conn);',
    ],
    "go": [
        'resp, err := http.Get(url)\nif err != nil {\n\treturn fmt.Errorf("fetch %s: %w", url, err)\n}\ndefer resp.Body.Close()',
    ],
}


def person(r: R) -> tuple[str, str, str]:
    """First name, last name and a plausible e-mail address."""
    first, last = r.choice(FIRST), r.choice(LAST)
    local = r.choice(
        [
            f"{first}.{last}",
            f"{first[0]}{last}",
            f"{first}{r.randrange(1, 99)}",
            f"{first}_{last}",
            f"{first}+shop",
            f"{last}.{first[0]}",
        ]
    )
    local = "".join(c for c in local.lower().replace(" ", "").replace("'", "") if c.isascii())
    return first, last, f"{local or 'user'}@{r.choice(EMAIL_DOMAINS)}"


def address(r: R) -> dict[str, str]:
    city, region, postcode, country = r.choice(CITIES)
    return {
        "line1": f"{r.randrange(1, 2400)} {r.choice(STREETS)}",
        "line2": r.choice(UNITS),
        "city": city,
        "region": region,
        "postcode": postcode,
        "country": country,
    }


def phone(r: R) -> str:
    return r.choice(
        [
            f"+1 ({r.randrange(200, 999)}) {r.randrange(200, 999)}-{r.randrange(1000, 9999)}",
            f"+44 7{r.digits(3)} {r.digits(6)}",
            f"+49 151 {r.digits(8)}",
            f"0{r.digits(3)}-{r.digits(7)}",
            f"({r.randrange(200, 999)}) {r.randrange(200, 999)}-{r.randrange(1000, 9999)}",
        ]
    )


def paragraph(r: R, n: int | None = None) -> str:
    return " ".join(r.pick(PROSE, n or r.randrange(1, 4)))


def password(r: R) -> str:
    """Passwords people really choose, including the symbols password rules ask for."""
    return r.choice(
        [
            f"Tr0ub4dor&{r.randrange(10)}",
            f"p@$$w0rd!{r.randrange(2019, 2025)}",
            "correct horse battery staple",
            f"S3cure#Pa$${r.randrange(100)}",
            f"{r.choice(FIRST)}{r.randrange(1960, 2010)}!",
            r.alnum(16, "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789!@#$%^&*()-_=+"),
            f"Summer{r.randrange(2020, 2025)}$",
            "ilovemydog<3",
            f"{r.alnum(4)}-{r.alnum(4)}-{r.alnum(4)}-{r.alnum(4)}",
            "P4ss w0rd with spaces",
            f"$ecret_{r.alnum(6)}",
            "`backtick`Pass1",
            "my'quote\"pass1",
        ]
    )


# ---------------------------------------------------------------------------------------------------------------
# Clients: browsers and API clients, with the headers they really send in the order they send them
# ---------------------------------------------------------------------------------------------------------------

CHROME_BRANDS = {
    "121": '"Not A(Brand";v="99", "Google Chrome";v="121", "Chromium";v="121"',
    "122": '"Chromium";v="122", "Not(A:Brand";v="24", "Google Chrome";v="122"',
    "123": '"Google Chrome";v="123", "Not:A-Brand";v="8", "Chromium";v="123"',
    "124": '"Chromium";v="124", "Google Chrome";v="124", "Not-A.Brand";v="99"',
}
EDGE_BRANDS = '"Chromium";v="122", "Not(A:Brand";v="24", "Microsoft Edge";v="122"'
CHROME_PLATFORMS = [
    ("Windows", "Windows NT 10.0; Win64; x64", False),
    ("macOS", "Macintosh; Intel Mac OS X 10_15_7", False),
    ("Linux", "X11; Linux x86_64", False),
    ("Android", "Linux; Android 10; K", True),
    ("Chrome OS", "X11; CrOS x86_64 14541.0.0", False),
]
LANGS = [
    "en-US,en;q=0.9",
    "en-GB,en;q=0.9",
    "en-GB,en-US;q=0.9,en;q=0.8",
    "de-DE,de;q=0.9,en-US;q=0.8,en;q=0.7",
    "fr-FR,fr;q=0.9,en-US;q=0.8,en;q=0.7",
    "es-ES,es;q=0.9",
    "nl-NL,nl;q=0.9,en-US;q=0.8,en;q=0.7",
    "pt-BR,pt;q=0.9,en-US;q=0.8,en;q=0.7",
    "ja,en-US;q=0.9,en;q=0.8",
    "sv-SE,sv;q=0.9,en-US;q=0.8,en;q=0.7",
    "pl-PL,pl;q=0.9,en-US;q=0.8,en;q=0.7",
    "en-US,en;q=0.5",
    "en-CA,en-US;q=0.7,en;q=0.3",
]
ACCEPT_NAV_CHROME = (
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,"
    "application/signed-exchange;v=b3;q=0.7"
)
ACCEPT_NAV_FIREFOX = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
ACCEPT_NAV_SAFARI = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
ACCEPT_BY_DEST = {
    "image": ("image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8", "image/avif,image/webp,*/*"),
    "script": ("*/*", "*/*"),
    "style": ("text/css,*/*;q=0.1", "text/css,*/*;q=0.1"),
    "font": ("*/*", "application/font-woff2;q=1.0,application/font-woff;q=0.9,*/*;q=0.8"),
    "empty": ("*/*", "*/*"),
    "manifest": ("*/*", "*/*"),
    "video": ("*/*", "video/webm,video/ogg,video/*;q=0.9,application/ogg;q=0.7,audio/*;q=0.6,*/*;q=0.5"),
}


class Browser:
    """One browser profile: its User-Agent, client hints and Accept-Language, drawn once per request."""

    def __init__(self, r: R, family: str | None = None) -> None:
        self.family = (
            family
            or r.choices(["chrome", "firefox", "safari", "ios", "edge", "samsung", "inapp"], [46, 14, 10, 14, 8, 4, 4])[
                0
            ]
        )
        self.lang = r.choice(LANGS)
        self.hints = ""
        self.mobile = False
        self.platform = ""
        if self.family in ("chrome", "edge"):
            ver = r.choice(list(CHROME_BRANDS)) if self.family == "chrome" else "122"
            self.platform, osstr, self.mobile = r.choice(
                CHROME_PLATFORMS if self.family == "chrome" else CHROME_PLATFORMS[:2]
            )
            self.hints = CHROME_BRANDS[ver] if self.family == "chrome" else EDGE_BRANDS
            tail = " Mobile" if self.mobile else ""
            self.ua = (
                f"Mozilla/5.0 ({osstr}) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{ver}.0.0.0{tail} Safari/537.36"
            )
            if self.family == "edge":
                self.ua += " Edg/122.0.0.0"
        elif self.family == "firefox":
            ver = r.choice(["115.0", "122.0", "123.0", "124.0"])
            osstr = r.choice(
                [
                    "Windows NT 10.0; Win64; x64",
                    "Macintosh; Intel Mac OS X 10.15",
                    "X11; Linux x86_64",
                    "X11; Ubuntu; Linux x86_64",
                ]
            )
            self.ua = f"Mozilla/5.0 ({osstr}; rv:{ver}) Gecko/20100101 Firefox/{ver}"
            self.lang = r.choice(
                ["en-US,en;q=0.5", "de,en-US;q=0.7,en;q=0.3", "fr,fr-FR;q=0.8,en-US;q=0.5,en;q=0.3", "en-GB,en;q=0.5"]
            )
        elif self.family == "safari":
            ver = r.choice(["16.6", "17.2.1", "17.3.1", "17.4"])
            self.ua = f"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/{ver} Safari/605.1.15"
        elif self.family == "ios":
            ios = r.choice(["16_7_5", "17_2_1", "17_3_1", "17_4"])
            self.mobile = True
            self.ua = f"Mozilla/5.0 (iPhone; CPU iPhone OS {ios} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/{ios.split('_')[0]}.{ios.split('_')[1]} Mobile/15E148 Safari/604.1"
        elif self.family == "samsung":
            self.mobile = True
            self.platform = "Android"
            self.hints = '"Chromium";v="117", "Not;A=Brand";v="8", "Samsung Internet";v="24.0"'
            self.ua = "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36"
        else:  # in-app browsers of social apps
            self.mobile = True
            self.ua = r.choice(
                [
                    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Instagram 319.0.2.17.102 (iPhone15,2; iOS 17_3; en_US; en; scale=3.00; 1179x2556; 550179245)",
                    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_3_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/452.0.0.39.110;FBBV/565738925;FBDV/iPhone14,5;FBMD/iPhone;FBSN/iOS;FBSV/17.3.1;FBSS/3;FBID/phone;FBLC/en_US;FBOP/5;FBRV/567811064]",
                    "Mozilla/5.0 (Linux; Android 13; Pixel 7 Build/TQ3A.230901.001; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/122.0.6261.105 Mobile Safari/537.36 [FB_IAB/FB4A;FBAV/453.0.0.43.110;]",
                    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 LinkedInApp/9.29.1446",
                ]
            )

    @property
    def chromium(self) -> bool:
        return bool(self.hints)

    def headers(
        self,
        r: R,
        dest: str = "document",
        site: str = "same-origin",
        referer: str | None = None,
        cookie: str | None = None,
        origin: str | None = None,
        content_type: str | None = None,
        accept: str | None = None,
        extra: Headers | None = None,
    ) -> Headers:
        """The request headers of this browser for one fetch destination (document, empty = fetch/XHR, image ...)."""
        h: Headers = []
        nav = dest == "document"
        if self.chromium:
            h.append(("sec-ch-ua", self.hints))
            h.append(("sec-ch-ua-mobile", "?1" if self.mobile else "?0"))
            h.append(("sec-ch-ua-platform", f'"{self.platform}"'))
            if nav:
                h.append(("Upgrade-Insecure-Requests", "1"))
            if origin and not nav:
                h.append(("Origin", origin))
            if content_type and not nav:
                h.append(("Content-Type", content_type))
            h.append(("User-Agent", self.ua))
            if not nav:
                h.append(("Accept", accept or ACCEPT_BY_DEST.get(dest, ("*/*", "*/*"))[0]))
            if nav:
                if origin:
                    h.append(("Origin", origin))
                if content_type:
                    h.append(("Content-Type", content_type))
                h.append(("Accept", accept or ACCEPT_NAV_CHROME))
            for name, value in extra or []:
                h.append((name, value))
            h.append(("Sec-Fetch-Site", site))
            h.append(
                (
                    "Sec-Fetch-Mode",
                    "navigate" if nav else ("no-cors" if dest in ("image", "script", "style", "video") else "cors"),
                )
            )
            if nav:
                h.append(("Sec-Fetch-User", "?1"))
            h.append(("Sec-Fetch-Dest", dest))
            if referer:
                h.append(("Referer", referer))
            h.append(("Accept-Encoding", r.choice(["gzip, deflate, br, zstd", "gzip, deflate, br"])))
            h.append(("Accept-Language", self.lang))
            if cookie:
                h.append(("Cookie", cookie))
            if nav:
                h.append(("Priority", "u=0, i"))
            elif dest in ("image", "font"):
                h.append(("Priority", "u=1, i" if dest == "font" else "i"))
            return h
        h.append(("User-Agent", self.ua))
        if nav:
            h.append(("Accept", accept or (ACCEPT_NAV_FIREFOX if self.family == "firefox" else ACCEPT_NAV_SAFARI)))
        else:
            h.append(("Accept", accept or ACCEPT_BY_DEST.get(dest, ("*/*", "*/*"))[1]))
        h.append(("Accept-Language", self.lang))
        h.append(
            (
                "Accept-Encoding",
                "gzip, deflate, br" + (", zstd" if self.family == "firefox" and r.random() < 0.5 else ""),
            )
        )
        if content_type:
            h.append(("Content-Type", content_type))
        for name, value in extra or []:
            h.append((name, value))
        if origin:
            h.append(("Origin", origin))
        if self.family == "firefox" and r.random() < 0.2:
            h.append(("DNT", "1"))
        if referer:
            h.append(("Referer", referer))
        if cookie:
            h.append(("Cookie", cookie))
        if nav and self.family == "firefox":
            h.append(("Upgrade-Insecure-Requests", "1"))
        h.append(("Sec-Fetch-Dest", dest))
        h.append(
            (
                "Sec-Fetch-Mode",
                "navigate" if nav else ("no-cors" if dest in ("image", "script", "style", "video") else "cors"),
            )
        )
        h.append(("Sec-Fetch-Site", site))
        if nav:
            h.append(("Sec-Fetch-User", "?1"))
        if self.family == "firefox":
            h.append(("Priority", "u=0, i" if nav else "u=4"))
            if r.random() < 0.5:
                h.append(("TE", "trailers"))
        return h


def ga_cookies(r: R) -> list[str]:
    """Analytics and consent cookies most sites carry: Google Analytics/Ads, Meta, Clarity, HubSpot, consent tools."""
    t = r.ts()
    out = [f"_ga=GA1.1.{r.digits(10)}.{t - r.randrange(10**7)}"]
    if r.random() < 0.8:
        out.append(
            f"_ga_{r.alnum(10, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789')}=GS1.1.{t}.{r.randrange(1, 40)}.1.{t + r.randrange(900)}.0.0.0"
        )
    if r.random() < 0.4:
        out.append(f"_gcl_au=1.1.{r.digits(10)}.{t - r.randrange(10**6)}")
    if r.random() < 0.4:
        out.append(f"_fbp=fb.1.{t * 1000 + r.randrange(1000)}.{r.digits(10)}")
    if r.random() < 0.25:
        out.append(
            f"_clck={r.alnum(6, 'abcdefghijklmnopqrstuvwxyz0123456789')}%7C2%7Cfk{r.alnum(1, 'abcdef')}%7C0%7C{r.randrange(1000, 1600)}"
        )
    if r.random() < 0.2:
        hub = r.digits(8)
        vid = r.hex(32)
        out.append(f"__hstc={hub}.{vid}.{t}000.{t}000.{t + 86400}000.{r.randrange(1, 9)}")
        out.append(f"hubspotutk={vid}")
    if r.random() < 0.2:
        out.append(f"ajs_anonymous_id=%22{r.uuid()}%22")
    if r.random() < 0.2:
        out.append(
            f"_hjSessionUser_{r.digits(7)}="
            + base64.b64encode(compact({"id": r.uuid(), "created": t * 1000, "existing": True}).encode()).decode()
        )
    consent = r.random()
    if consent < 0.2:
        stamp = datetime.fromtimestamp(t, UTC).strftime(
            "%a+%b+%d+%Y+%H%%3A%M%%3A%S+GMT%%2B0100+(Central+European+Standard+Time)"
        )
        out.append(
            f"OptanonConsent=isGpcEnabled=0&datestamp={stamp}&version=202310.1.0&browserGpcFlag=0&isIABGlobal=false"
            f"&hosts=&consentId={r.uuid()}&interactionCount=1&landingPath=NotLandingPage"
            "&groups=C0001%3A1%2CC0002%3A1%2CC0003%3A1%2CC0004%3A0&AwaitingReconsent=false"
        )
        out.append(f"OptanonAlertBoxClosed={iso(t, ms=True)}")
    elif consent < 0.35:
        out.append(
            "CookieConsent={stamp:%27"
            + r.b64(42).replace("+", "%2B").replace("/", "%2F")
            + "%27%2Cnecessary:true%2Cpreferences:true%2Cstatistics:true%2Cmarketing:false%2Cmethod:%27explicit%27%2Cver:1%2Cutc:"
            + f"{t}000%2Cregion:%27de%27}}"
        )
    elif consent < 0.45:
        out.append(
            f"cookieyes-consent=consentid:{r.b64(24).rstrip('=')},consent:yes,action:yes,necessary:yes,functional:yes,analytics:yes,performance:no,advertisement:no"
        )
    if r.random() < 0.15:
        out.append(f"__cf_bm={r.b64url(32)}-{t}-1.0.1.1-{r.b64url(64)}")
    return out


def session_cookie(r: R, stack: str | None = None) -> str:
    """The session cookie of one web stack, in its real format."""
    stack = stack or r.choice(["django", "php", "java", "laravel", "express", "rails", "aspnet", "flask"])
    if stack == "django":
        return f"csrftoken={r.alnum(32)}; sessionid={r.alnum(32, 'abcdefghijklmnopqrstuvwxyz0123456789')}"
    if stack == "php":
        return f"PHPSESSID={r.alnum(26, 'abcdefghijklmnopqrstuv0123456789')}"
    if stack == "java":
        return f"JSESSIONID={r.hex(32).upper()}.node{r.randrange(1, 4)}"
    if stack == "laravel":
        blob = base64.b64encode(
            compact({"iv": r.b64(16), "value": r.b64(48), "mac": r.hex(64), "tag": ""}).encode()
        ).decode()
        xsrf = base64.b64encode(
            compact({"iv": r.b64(16), "value": r.b64(64), "mac": r.hex(64), "tag": ""}).encode()
        ).decode()
        return f"XSRF-TOKEN={quote(xsrf, safe='')}; laravel_session={quote(blob, safe='')}"
    if stack == "express":
        return f"connect.sid=s%3A{r.alnum(32, 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_')}.{r.b64(32).rstrip('=').replace('+', '%2B').replace('/', '%2F')}"
    if stack == "rails":
        return f"_app_session={quote(r.b64(120), safe='')}--{r.hex(40)}"
    if stack == "aspnet":
        return f"ASP.NET_SessionId={r.alnum(24, 'abcdefghijklmnopqrstuvwxyz012345')}; .AspNetCore.Antiforgery.{r.alnum(11)}=CfDJ8{r.b64url(120)}"
    return f"session={r.b64url(40)}.{r.b64url(6)}.{r.b64url(27)}"


def cookie_header(r: R, stack: str | None = None, analytics: bool = True, extra: Sequence[str] = ()) -> str:
    parts: list[str] = []
    if analytics:
        parts += ga_cookies(r)
    if stack != "none":
        parts.append(session_cookie(r, stack))
    parts += list(extra)
    if r.random() < 0.3:
        parts.append(
            r.choice(
                [
                    "theme=dark",
                    "lang=en",
                    "currency=EUR",
                    "tz=Europe%2FBerlin",
                    "sidebar_collapsed=false",
                    "cookie_notice_accepted=true",
                    "recently_viewed=%5B12%2C98%2C451%5D",
                ]
            )
        )
    r.shuffle(parts)
    return "; ".join(parts)


API_UAS = [
    "curl/8.5.0",
    "curl/7.81.0",
    "python-requests/2.31.0",
    "python-httpx/0.27.0",
    "okhttp/4.12.0",
    "Go-http-client/1.1",
    "Go-http-client/2.0",
    "axios/1.6.7",
    "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)",
    "PostmanRuntime/7.36.3",
    "insomnia/8.6.1",
    "Apache-HttpClient/4.5.14 (Java/17.0.10)",
    "Java/17.0.10",
    "RestSharp/110.2.0.0",
    "Faraday v2.9.0",
    "Ruby",
    "got (https://github.com/sindresorhus/got)",
    "undici",
    "aiohttp/3.9.3 Python/3.11",
    "Terraform/1.7.4 (+https://www.terraform.io)",
    "kube-probe/1.29",
    "Mozilla/5.0 (compatible; Zapier/1.0; +https://zapier.com)",
    "Dart/3.3 (dart:io)",
]


def api_headers(
    r: R,
    ua: str | None = None,
    accept: str = "application/json",
    auth: str | None = None,
    content_type: str | None = None,
    extra: Headers | None = None,
) -> Headers:
    """Headers of a programmatic client: fewer than a browser's, in the client library's order."""
    ua = ua or r.choice(API_UAS)
    h: Headers = []
    if ua.startswith("curl"):
        h.append(("User-Agent", ua))
        h.append(("Accept", accept if accept != "application/json" or r.random() < 0.6 else "*/*"))
    elif ua.startswith("python-requests"):
        h += [("User-Agent", ua), ("Accept-Encoding", "gzip, deflate"), ("Accept", accept)]
    elif ua.startswith("okhttp"):
        h += [("Accept", accept)]
    elif ua.startswith("Go-http-client"):
        h += [("User-Agent", ua), ("Accept", accept)]
    else:
        h += [("Accept", accept), ("User-Agent", ua), ("Accept-Encoding", "gzip, deflate, br")]
    if auth:
        h.append(("Authorization", auth))
    if content_type:
        h.append(("Content-Type", content_type))
    for item in extra or []:
        h.append(item)
    if ua.startswith("okhttp"):
        h += [("Accept-Encoding", "gzip"), ("User-Agent", ua)]
    elif ua.startswith("Go-http-client"):
        h.append(("Accept-Encoding", "gzip"))
    return h


def bearer(r: R) -> str:
    return "Bearer " + access_token(r)


# ---------------------------------------------------------------------------------------------------------------
# Records
# ---------------------------------------------------------------------------------------------------------------


def record(
    method: str,
    path: str,
    headers: Headers,
    query: str | None = None,
    body: str | bytes | None = None,
    shape: str = "",
) -> Record:
    """One corpus line. Content-Length is always given for a body (browsers and clients send it)."""
    hdrs = list(headers)
    names = {k.lower() for k, _ in hdrs}
    content_type = next((v for k, v in hdrs if k.lower() == "content-type"), None)
    rec: Record = {"method": method, "path": path, "query": query, "version": "HTTP/1.1"}
    if body is not None:
        raw = body.encode("utf-8") if isinstance(body, str) else body
        if "content-length" not in names:
            at = next((i for i, (k, _) in enumerate(hdrs) if k.lower() == "content-type"), len(hdrs))
            hdrs.insert(at, ("Content-Length", str(len(raw))))
        if isinstance(body, str):
            rec["body"] = body
        else:
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError:
                text = None
            if text is None or any(c < " " and c not in "\t\r\n" for c in text):
                rec["body_b64"] = base64.b64encode(body).decode("ascii")
            else:
                rec["body"] = text
    elif method in ("POST", "PUT", "PATCH") and "content-length" not in names:
        hdrs.append(("Content-Length", "0"))
    rec["headers"] = dict(hdrs)
    if len(rec["headers"]) != len(hdrs):
        raise ValueError(f"duplicate header in {shape}: {[k for k, _ in hdrs]}")
    rec["content_type"] = content_type
    rec["shape"] = shape
    return rec


# ---------------------------------------------------------------------------------------------------------------
# Multipart bodies and file contents
# ---------------------------------------------------------------------------------------------------------------

Part = tuple[str, str | bytes, str | None, str | None]  # name, value, filename, content type


def boundary_for(r: R, client: str) -> str:
    """The boundary a given client generates (browsers, curl, requests, okhttp, Go, node form-data, .NET)."""
    if client in ("chrome", "safari", "ios", "edge", "samsung", "inapp", "webkit"):
        return "----WebKitFormBoundary" + r.alnum(16)
    if client == "firefox":
        return r.choice(["----geckoformboundary" + r.hex(32), "-" * 27 + r.digits(29)])
    if client == "curl":
        return "-" * 24 + r.hex(16)
    if client == "requests":
        return r.hex(32)
    if client == "okhttp":
        return r.uuid()
    if client == "go":
        return r.hex(60)
    if client == "node":
        return "-" * 26 + r.digits(24)
    if client == "dotnet":
        return r.uuid()
    return "----" + r.alnum(24)


def multipart(parts: Sequence[Part], boundary: str, client: str = "chrome") -> bytes:
    """A multipart/form-data body exactly as the client writes it (CRLF everywhere, closing boundary)."""
    out = io.BytesIO()
    for name, value, filename, ctype in parts:
        out.write(f"--{boundary}\r\n".encode())
        if client == "dotnet":
            disp = f"Content-Disposition: form-data; name={name}"
            if filename is not None:
                disp += f"; filename={filename}; filename*=utf-8''{quote(filename)}"
            if ctype is None and filename is None:
                out.write(b"Content-Type: text/plain; charset=utf-8\r\n")
        else:
            safe = filename.replace('"', "%22") if filename is not None else None
            disp = f'Content-Disposition: form-data; name="{name}"'
            if safe is not None:
                disp += f'; filename="{safe}"'
        out.write(disp.encode("utf-8") + b"\r\n")
        if ctype is not None:
            out.write(f"Content-Type: {ctype}\r\n".encode())
        out.write(b"\r\n")
        out.write(value.encode("utf-8") if isinstance(value, str) else value)
        out.write(b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue()


def multipart_type(boundary: str, client: str) -> str:
    return (
        f'multipart/form-data; boundary="{boundary}"'
        if client == "dotnet"
        else f"multipart/form-data; boundary={boundary}"
    )


def png(r: R, w: int = 24, h: int = 24, software: bool = True) -> bytes:
    """A valid PNG (RGB, a soft gradient with noise), optionally with the tEXt chunk editors write."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = bytearray()
    base = r.randrange(256)
    for y in range(h):
        rows.append(r.choice([0, 1, 2, 4]))
        for x in range(w):
            rows += bytes(
                ((base + x * 5 + r.randrange(9)) % 256, (y * 7 + r.randrange(9)) % 256, (base ^ (x * y)) % 256)
            )
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
    if software:
        out += chunk(
            b"tEXt",
            b"Software\x00" + r.choice([b"Adobe ImageReady", b"www.inkscape.org", b"GIMP 2.10", b"Snipping Tool"]),
        )
        out += chunk(b"pHYs", struct.pack(">IIB", 3780, 3780, 1))
    return out + chunk(b"IDAT", zlib.compress(bytes(rows), 9)) + chunk(b"IEND", b"")


def jpeg(r: R, size: int = 3000, camera: bool = True) -> bytes:
    """JPEG-shaped bytes: SOI, JFIF/Exif segments (with the camera strings phones write), tables, entropy data, EOI."""
    out = bytearray(b"\xff\xd8")
    if camera:
        make, model = r.choice(
            [
                (b"Apple", b"iPhone 15 Pro"),
                (b"samsung", b"SM-S918B"),
                (b"Google", b"Pixel 8"),
                (b"Canon", b"Canon EOS R6"),
            ]
        )
        exif = (
            b"Exif\x00\x00MM\x00*\x00\x00\x00\x08"
            + make
            + b"\x00"
            + model
            + b"\x00"
            + b"2024:03:"
            + r.digits(2).encode()
            + b" 10:12:33\x00"
            + r.randbytes(40)
        )
        out += b"\xff\xe1" + struct.pack(">H", len(exif) + 2) + exif
    else:
        jfif = b"JFIF\x00\x01\x01\x01\x00H\x00H\x00\x00"
        out += b"\xff\xe0" + struct.pack(">H", len(jfif) + 2) + jfif
    out += b"\xff\xdb\x00C\x00" + bytes(r.randrange(1, 60) for _ in range(64))
    out += b"\xff\xc0\x00\x11\x08" + struct.pack(">HH", 480, 640) + b"\x03\x01\x22\x00\x02\x11\x01\x03\x11\x01"
    out += b"\xff\xc4\x00\x1f\x00" + r.randbytes(28)
    out += b"\xff\xda\x00\x0c\x03\x01\x00\x02\x11\x03\x11\x00?\x00"
    data = bytearray(r.randbytes(size))
    out += data.replace(b"\xff", b"\xff\x00")
    return bytes(out + b"\xff\xd9")


def gif(r: R) -> bytes:
    palette = r.randbytes(12)
    pixels = bytes(
        [
            0x02,
            0x16,
            0x8C,
            0x2D,
            0x99,
            0x87,
            0x2A,
            0x1C,
            0xDC,
            0x33,
            0xA0,
            0x02,
            0x75,
            0xEC,
            0x95,
            0xFA,
            0xA8,
            0xDE,
            0x60,
            0x8C,
            0x04,
            0x91,
            0x4C,
            0x01,
            0x00,
        ]
    )
    return (
        b"GIF89a\x0a\x00\x0a\x00\x91\x00\x00"
        + palette
        + b"!\xf9\x04\x00\x00\x00\x00\x00,\x00\x00\x00\x00\x0a\x00\x0a\x00\x00"
        + pixels
        + b";"
    )


def webp(r: R, size: int = 1500) -> bytes:
    payload = (
        b"VP8 "
        + struct.pack("<I", size)
        + b"\x30\x01\x00\x9d\x01\x2a"
        + struct.pack("<HH", 320, 240)
        + r.randbytes(size - 10)
    )
    return b"RIFF" + struct.pack("<I", len(payload) + 4) + b"WEBP" + payload


def heic(r: R, size: int = 2500) -> bytes:
    return (
        b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"
        + b"\x00\x00\x01\x00meta\x00\x00\x00\x00"
        + r.randbytes(size)
    )


def mp4(r: R, size: int = 4000) -> bytes:
    return (
        b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41"
        + b"\x00\x00\x00\x08free"
        + struct.pack(">I", size + 8)
        + b"mdat"
        + r.randbytes(size)
    )


def pdf(r: R, lines: Sequence[str], producer: str | None = None) -> bytes:
    """A small valid PDF whose page content stream is Flate-compressed, as office suites write them."""
    text = (
        "BT /F1 11 Tf 72 720 Td 14 TL\n"
        + "\n".join("(" + line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ") '" for line in lines)
        + "\nET"
    )
    stream = zlib.compress(text.encode("latin-1", "replace"))
    producer = producer or r.choice(
        [
            "Microsoft® Word for Microsoft 365",
            "macOS Version 14.3 (Build 23D56) Quartz PDFContext",
            "LibreOffice 7.6",
            "Skia/PDF m122",
            "pdfTeX-1.40.25",
        ]
    )
    created = datetime.fromtimestamp(r.ts(), UTC).strftime("D:%Y%m%d%H%M%S+00'00'")
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" /Filter /FlateDecode >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Producer (" + producer.encode("latin-1", "replace") + b") /CreationDate (" + created.encode() + b") >>",
    ]
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, obj in enumerate(objs, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + obj + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    doc_id = r.hex(32).upper()
    out += f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R /Info 6 0 R /ID [<{doc_id}><{doc_id}>] >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def zip_bytes(files: Sequence[tuple[str, str | bytes]], stored: Sequence[str] = ()) -> bytes:
    """A ZIP archive (fixed timestamps so the bytes are reproducible)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, content in files:
            info = zipfile.ZipInfo(name, date_time=(2024, 3, 12, 9, 30, 0))
            info.compress_type = zipfile.ZIP_STORED if name in stored else zipfile.ZIP_DEFLATED
            zf.writestr(info, content)
    return buf.getvalue()


XML_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


def docx(r: R, paragraphs: Sequence[str], title: str) -> bytes:
    """A minimal Word document: the parts Word itself needs, with the given paragraphs."""
    body = "".join(f'<w:p><w:r><w:t xml:space="preserve">{esc_xml(p)}</w:t></w:r></w:p>' for p in paragraphs)
    first, last, _ = person(r)
    return zip_bytes(
        [
            (
                "[Content_Types].xml",
                XML_DECL
                + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/><Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/></Types>',
            ),
            (
                "_rels/.rels",
                XML_DECL
                + '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/></Relationships>',
            ),
            (
                "word/document.xml",
                XML_DECL
                + f'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>{body}<w:sectPr><w:pgSz w:w="12240" w:h="15840"/></w:sectPr></w:body></w:document>',
            ),
            (
                "docProps/core.xml",
                XML_DECL
                + f'<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><dc:title>{esc_xml(title)}</dc:title><dc:creator>{esc_xml(first + " " + last)}</dc:creator><dcterms:created xsi:type="dcterms:W3CDTF">{iso(r.ts())}</dcterms:created></cp:coreProperties>',
            ),
        ]
    )


def xlsx(r: R, rows: Sequence[Sequence[str | float]]) -> bytes:
    """A minimal Excel workbook with inline strings."""

    def cell(ref: str, v: str | float) -> str:
        if isinstance(v, str):
            return f'<c r="{ref}" t="inlineStr"><is><t>{esc_xml(v)}</t></is></c>'
        return f'<c r="{ref}"><v>{v}</v></c>'

    sheet = "".join(
        f'<row r="{i}">' + "".join(cell(f"{chr(65 + j)}{i}", v) for j, v in enumerate(row)) + "</row>"
        for i, row in enumerate(rows, 1)
    )
    return zip_bytes(
        [
            (
                "[Content_Types].xml",
                XML_DECL
                + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>',
            ),
            (
                "_rels/.rels",
                XML_DECL
                + '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
            ),
            (
                "xl/workbook.xml",
                XML_DECL
                + '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>',
            ),
            (
                "xl/_rels/workbook.xml.rels",
                XML_DECL
                + '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
            ),
            (
                "xl/worksheets/sheet1.xml",
                XML_DECL
                + f'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>{sheet}</sheetData></worksheet>',
            ),
        ]
    )


def esc_xml(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def csv_text(r: R, kind: str | None = None) -> str:
    """CSV exports people upload: contacts, transactions, inventory (quoted fields, commas, apostrophes, CRLF)."""
    kind = kind or r.choice(["contacts", "transactions", "inventory", "timesheet"])
    rows: list[str] = []
    if kind == "contacts":
        rows.append("First Name,Last Name,Email,Phone,Company,Notes")
        for _ in range(r.randrange(5, 25)):
            first, last, email = person(r)
            note = r.choice(
                [
                    "",
                    "",
                    "VIP",
                    '"Prefers email, not phone"',
                    '"Met at the ""Union"" conference"',
                    "Select tier",
                    "Do not call before 10am",
                ]
            )
            company = r.choice(COMPANIES)
            company = f'"{company}"' if "," in company else company
            rows.append(f"{first},{last},{email},{phone(r)},{company},{note}")
    elif kind == "transactions":
        rows.append("Date,Description,Category,Amount,Balance")
        bal: float = r.randrange(500, 5000)
        for _ in range(r.randrange(8, 30)):
            amt = round(r.uniform(-250, 120), 2)
            bal = round(bal + amt, 2)
            desc = r.choice(
                [
                    "AMAZON MKTPLACE PMTS",
                    "UBER *TRIP",
                    "SQ *UNION STREET BAKERY",
                    "SPOTIFY P1A2B3C",
                    "TRANSFER TO SAVINGS",
                    "DIRECT DEBIT - COUNCIL TAX",
                    '"STARBUCKS #1234, SEATTLE"',
                    "PAYPAL *DROPBOX",
                    "ATM WITHDRAWAL",
                    "SELECT INSURANCE PREMIUM",
                ]
            )
            rows.append(
                f"2024-{r.randrange(1, 4):02d}-{r.randrange(1, 29):02d},{desc},{r.choice(['Groceries', 'Transport', 'Bills', 'Eating out', 'Shopping'])},{amt},{bal}"
            )
    elif kind == "inventory":
        rows.append("sku;name;qty;price;location")
        for name, slug, price in r.pick(PRODUCTS, r.randrange(5, 15)):
            rows.append(
                f'{slug.upper()[:12]};"{name.replace(chr(34), chr(34) * 2)}";{r.randrange(0, 400)};{str(price).replace(".", ",")};{r.choice(["A-01", "B-12", "Aisle 3/Bin 4", "WH2"])}'
            )
    else:
        rows.append("Employee,Date,Project,Hours,Comment")
        for _ in range(r.randrange(5, 20)):
            first, last, _ = person(r)
            rows.append(
                f'"{last}, {first}",2024-03-{r.randrange(1, 29):02d},{r.choice(["Website", "Q2 Launch", "Internal", "Union Sq. store"])},{r.choice([2, 4, 6.5, 7.5, 8])},"{r.choice(PROSE)}"'.replace(
                    '""', '"'
                )
            )
    return "\r\n".join(rows) + "\r\n"


def vcard(r: R) -> str:
    first, last, email = person(r)
    adr = address(r)
    company = r.choice(COMPANIES)
    lines = [
        "BEGIN:VCARD",
        r.choice(["VERSION:3.0", "VERSION:4.0"]),
        f"PRODID:{r.choice(['-//Apple Inc.//macOS 14.3//EN', '-//Google Inc//Google Contacts//EN', '-//Nextcloud Contacts v5.5.2'])}",
        f"N:{last};{first};;;",
        f"FN:{first} {last}",
        f"ORG:{company.replace(',', chr(92) + ',')};",
        f"TITLE:{r.choice(['Head of Operations', 'Sales & Marketing', 'CTO', 'Office Manager', 'Select Accounts Lead'])}",
        f"EMAIL;type=INTERNET;type=WORK;type=pref:{email}",
        f"TEL;type=CELL;type=VOICE;type=pref:{phone(r)}",
        f"ADR;type=WORK;type=pref:;;{adr['line1']};{adr['city']};{adr['region']};{adr['postcode']};{adr['country']}",
        f"NOTE:{r.choice(PROSE).replace(',', chr(92) + ',').replace(';', chr(92) + ';')}",
        f"BDAY:{r.randrange(1950, 2004)}-{r.randrange(1, 13):02d}-{r.randrange(1, 29):02d}",
        f"UID:{r.uuid()}",
        f"REV:{iso(r.ts())}",
        "END:VCARD",
    ]
    if r.random() < 0.3:
        photo = base64.b64encode(jpeg(r, 300, camera=False)).decode()
        lines.insert(
            -1, "PHOTO;ENCODING=b;TYPE=JPEG:" + "\r\n ".join(photo[i : i + 74] for i in range(0, len(photo), 74))
        )
    return "\r\n".join(lines) + "\r\n"


def ical(r: R, events: int = 1, method: str | None = None) -> str:
    """An iCalendar object as Google Calendar, Outlook or Apple Calendar export it (folded lines, escaped commas)."""
    prodid = r.choice(
        [
            "-//Google Inc//Google Calendar 70.9054//EN",
            "-//Microsoft Corporation//Outlook 16.0 MIMEDIR//EN",
            "-//Apple Inc.//macOS 14.3//EN",
            "-//IDN nextcloud.com//Calendar app 4.6.5//EN",
        ]
    )
    lines = ["BEGIN:VCALENDAR", f"PRODID:{prodid}", "VERSION:2.0", "CALSCALE:GREGORIAN"]
    if method:
        lines.append(f"METHOD:{method}")
    lines += [
        "BEGIN:VTIMEZONE",
        "TZID:Europe/Berlin",
        "BEGIN:DAYLIGHT",
        "TZOFFSETFROM:+0100",
        "TZOFFSETTO:+0200",
        "TZNAME:CEST",
        "DTSTART:19700329T020000",
        "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
        "END:DAYLIGHT",
        "END:VTIMEZONE",
    ]
    for _ in range(events):
        start = r.ts()
        st = datetime.fromtimestamp(start, UTC)
        en = datetime.fromtimestamp(start + r.choice([1800, 3600, 5400]), UTC)
        first, last, email = person(r)
        summary = r.choice(
            [
                "Weekly sync",
                "Union Square walkthrough",
                "1:1 Alex / Sam",
                "Dentist",
                "Quarterly review (exec)",
                "Sprint planning & retro",
                "Select vendors for Q3",
                "Drop-off: kids @ school",
                "Lunch w/ Priya",
                "Release 4.2 go/no-go",
            ]
        )
        desc = paragraph(r, 2).replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;")
        desc += "\\n\\nJoin Zoom Meeting\\nhttps://us02web.zoom.us/j/" + r.digits(11) + "?pwd=" + r.alnum(32)
        lines += [
            "BEGIN:VEVENT",
            f"DTSTART;TZID=Europe/Berlin:{st:%Y%m%dT%H%M%S}",
            f"DTEND;TZID=Europe/Berlin:{en:%Y%m%dT%H%M%S}",
            f"DTSTAMP:{st:%Y%m%dT%H%M%S}Z",
            f"ORGANIZER;CN={first} {last}:mailto:{email}",
            f"UID:{r.hex(26)}@google.com" if "Google" in prodid else f"UID:{r.uuid().upper()}",
            f"ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE;CN={person(r)[2]};X-NUM-GUESTS=0:mailto:{person(r)[2]}",
            f"CREATED:{st:%Y%m%dT%H%M%S}Z",
            f"DESCRIPTION:{desc}",
            "LOCATION:"
            + r.choice(
                ["Room 4.12 (Union)", "https://meet.google.com/abc-defg-hij", "12 Church Road\\, London", "Teams", ""]
            ),
            "SEQUENCE:0",
            "STATUS:CONFIRMED",
            f"SUMMARY:{summary}",
            "TRANSP:OPAQUE",
            "BEGIN:VALARM",
            "ACTION:DISPLAY",
            "DESCRIPTION:This is an event reminder",
            "TRIGGER:-P0DT0H10M0S",
            "END:VALARM",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    folded = []
    for line in lines:
        while len(line.encode()) > 75:
            folded.append(line[:74])
            line = " " + line[74:]
        folded.append(line)
    return "\r\n".join(folded) + "\r\n"


def yaml_text(r: R) -> str:
    """YAML people upload: CI workflows, compose files, Kubernetes manifests, OpenAPI, app config."""
    kind = r.choice(["workflow", "compose", "k8s", "openapi", "config"])
    if kind == "workflow":
        return (
            "name: CI\n\non:\n  push:\n    branches: [main]\n  pull_request:\n\njobs:\n  test:\n    runs-on: ubuntu-latest\n"
            "    strategy:\n      matrix:\n        python-version: ['3.10', '3.11', '3.12']\n    steps:\n      - uses: actions/checkout@v4\n"
            "      - uses: actions/setup-python@v5\n        with:\n          python-version: ${{ matrix.python-version }}\n"
            "      - name: Install\n        run: |\n          python -m pip install --upgrade pip\n          pip install -e '.[dev]' && pip list\n"
            "      - name: Test\n        run: pytest -q --cov=app || (cat .coverage && exit 1)\n"
            '      - name: Version\n        run: echo "VERSION=$(git describe --tags)" >> $GITHUB_ENV\n'
            "      - name: Publish\n        if: github.ref == 'refs/heads/main' && github.event_name == 'push'\n"
            '        env:\n          TOKEN: ${{ secrets.PYPI_TOKEN }}\n        run: twine upload dist/* -u __token__ -p "$TOKEN"\n'
        )
    if kind == "compose":
        return (
            "version: '3.8'\nservices:\n  web:\n    build: .\n    command: gunicorn app.wsgi:application --bind 0.0.0.0:8000\n"
            '    ports:\n      - "8000:8000"\n    env_file: .env\n    depends_on:\n      - db\n      - redis\n'
            "  db:\n    image: postgres:16-alpine\n    environment:\n      POSTGRES_DB: app\n      POSTGRES_USER: app\n"
            f"      POSTGRES_PASSWORD: {password(r)!r}\n    volumes:\n      - pgdata:/var/lib/postgresql/data\n"
            '    healthcheck:\n      test: ["CMD-SHELL", "pg_isready -U app && psql -U app -c \'select 1\'"]\n      interval: 10s\n'
            "  redis:\n    image: redis:7\nvolumes:\n  pgdata: {}\n"
        )
    if kind == "k8s":
        name = r.choice(["api", "web", "worker", "billing"])
        return (
            f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n  labels:\n    app: {name}\nspec:\n  replicas: 3\n"
            f"  selector:\n    matchLabels:\n      app: {name}\n  template:\n    metadata:\n      labels:\n        app: {name}\n"
            f"    spec:\n      containers:\n        - name: {name}\n          image: registry.example.com/{name}:1.{r.randrange(40)}.{r.randrange(9)}\n"
            '          args: ["--port=8080", "--log-level=info"]\n          env:\n            - name: DATABASE_URL\n'
            "              valueFrom:\n                secretKeyRef: {name: db, key: url}\n          volumeMounts:\n"
            "            - name: data\n              mountPath: /var/lib/app\n          readinessProbe:\n            httpGet: {path: /healthz, port: 8080}\n"
            '          lifecycle:\n            preStop:\n              exec:\n                command: ["/bin/sh", "-c", "sleep 5"]\n'
            "      volumes:\n        - name: data\n          emptyDir: {}\n"
        )
    if kind == "openapi":
        return (
            "openapi: 3.0.3\ninfo:\n  title: Orders API\n  version: 1.4.0\npaths:\n  /orders:\n    get:\n      summary: List orders\n"
            "      parameters:\n        - in: query\n          name: select\n          description: Comma-separated fields to return, e.g. `id,status,total`\n"
            "          schema: {type: string}\n        - in: query\n          name: order_by\n          schema: {type: string, enum: [created, -created, total]}\n"
            "      responses:\n        '200':\n          description: OK\n    delete:\n      summary: Drop all draft orders older than 30 days\n"
            "      responses:\n        '204': {description: Deleted}\n"
        )
    return (
        "# Application settings\nserver:\n  host: 0.0.0.0\n  port: 8080\nlogging:\n  level: INFO\n  file: /var/log/app/app.log\n"
        f"database:\n  url: postgres://app:{quote(password(r), safe='')}@db:5432/app\n  pool_size: 10\n"
        'features:\n  new_checkout: true\n  union_pricing: false\nmessages:\n  welcome: "Hi {{first_name}}, welcome aboard!"\n'
        '  order_shipped: "Your order #{{order.number}} is on its way"\n'
    )


SVG_ICONS = [
    '<path d="M3 6h18M3 12h18M3 18h18" stroke="currentColor" stroke-width="2" stroke-linecap="round"/>',
    '<circle cx="12" cy="12" r="10" fill="none" stroke="#1d4ed8" stroke-width="2"/><path d="M12 7v5l3 3" stroke="#1d4ed8" stroke-width="2" fill="none"/>',
    '<path d="M6 2L3 6v14a2 2 0 002 2h14a2 2 0 002-2V6l-3-4z"/><line x1="3" y1="6" x2="21" y2="6"/><path d="M16 10a4 4 0 01-8 0"/>',
    '<rect x="3" y="3" width="18" height="18" rx="2" ry="2"/><circle cx="8.5" cy="8.5" r="1.5"/><polyline points="21 15 16 10 5 21"/>',
]


def svg(r: R) -> str:
    """SVG as design tools export it: XML declaration, Illustrator/Inkscape comments and namespaces, no script."""
    tool = r.choice(["illustrator", "inkscape", "figma", "plain"])
    body = r.choice(SVG_ICONS)
    if tool == "illustrator":
        return (
            '<?xml version="1.0" encoding="utf-8"?>\n<!-- Generator: Adobe Illustrator 27.9.0, SVG Export Plug-In . SVG Version: 6.00 Build 0)  -->\n'
            '<svg version="1.1" id="Layer_1" xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" x="0px" y="0px"\n'
            '\t viewBox="0 0 24 24" style="enable-background:new 0 0 24 24;" xml:space="preserve">\n<style type="text/css">\n\t.st0{fill:none;stroke:#000000;stroke-width:2;}\n</style>\n'
            f'<g class="st0">{body}</g>\n</svg>\n'
        )
    if tool == "inkscape":
        return (
            '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n<!-- Created with Inkscape (http://www.inkscape.org/) -->\n\n'
            '<svg width="24mm" height="24mm" viewBox="0 0 24 24" version="1.1" id="svg1" inkscape:version="1.3.2 (091e20e, 2023-11-25)"\n'
            '   sodipodi:docname="icon.svg" xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape"\n'
            '   xmlns:sodipodi="http://sodipodi.sourceforge.net/DTD/sodipodi-0.dtd" xmlns="http://www.w3.org/2000/svg" xmlns:svg="http://www.w3.org/2000/svg">\n'
            '  <sodipodi:namedview id="namedview1" pagecolor="#ffffff" bordercolor="#000000" inkscape:zoom="8" />\n'
            f'  <defs id="defs1" />\n  <g inkscape:label="Layer 1" inkscape:groupmode="layer" id="layer1">{body}</g>\n</svg>\n'
        )
    if tool == "figma":
        return (
            '<svg width="24" height="24" viewBox="0 0 24 24" fill="none" xmlns="http://www.w3.org/2000/svg">\n'
            f'<g clip-path="url(#clip0_12_34)">\n{body}\n</g>\n<defs>\n<clipPath id="clip0_12_34">\n<rect width="24" height="24" fill="white"/>\n</clipPath>\n</defs>\n</svg>\n'
        )
    return f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" width="24" height="24" fill="none" stroke="currentColor"><title>{r.choice(["Menu", "Select", "Cart", "Drop zone"])}</title>{body}</svg>'


def source_file(r: R) -> tuple[str, str, str]:
    """(filename, content type, text) of a source or text file someone attaches to a ticket or code review."""
    kind = r.choice(["py", "js", "md", "sh", "sql", "json", "go", "ts", "log", "txt", "html", "css", "ini"])
    if kind == "py":
        text = (
            '"""Nightly export of open orders."""\nimport csv\nimport os\nimport sys\n\nimport psycopg2\n\n\ndef main() -> int:\n    conn = psycopg2.connect(os.environ["DATABASE_URL"])\n    with conn, conn.cursor() as cur:\n        '
            + CODE_SNIPPETS["python"][1].replace("\n", "\n        ")
            + '\n    writer = csv.writer(sys.stdout)\n    writer.writerows(rows)\n    return 0\n\n\nif __name__ == "__main__":\n    sys.exit(main())\n'
        )
        return "export_orders.py", "text/x-python", text
    if kind == "js":
        return (
            "api.js",
            "text/javascript",
            "// Small API helper\nexport async function getUser(id) {\n  "
            + CODE_SNIPPETS["javascript"][0].replace("\n", "\n  ")
            + "\n  return user;\n}\n\n"
            + CODE_SNIPPETS["javascript"][3]
            + "\n",
        )
    if kind == "ts":
        return (
            "useOrders.ts",
            "video/mp2t",
            "import { useEffect, useState } from 'react';\n\nexport function useOrders(status: 'open' | 'closed' = 'open') {\n  const [orders, setOrders] = useState<Order[]>([]);\n  useEffect(() => {\n    let cancelled = false;\n    fetch(`/api/orders?status=${status}&select=id,total`)\n      .then((r) => r.json())\n      .then((d) => !cancelled && setOrders(d.items));\n    return () => { cancelled = true; };\n  }, [status]);\n  return orders;\n}\n",
        )
    if kind == "md":
        return (
            "README.md",
            "text/markdown",
            (
                f"# {r.choice(TITLES)}\n\n{paragraph(r, 2)}\n\n## Install\n\n```bash\n{r.choice(CODE_SNIPPETS['bash'])}\n```\n\n"
                "## Usage\n\nRun `make run` and open <http://localhost:8080>. Use `--select name,email` to limit the columns and "
                "`--drop-empty` to skip blank rows.\n\n| flag | meaning |\n| --- | --- |\n| `-v` | verbose |\n| `--dry-run` | print, don't write |\n\n"
                f"```sql\n{r.choice(CODE_SNIPPETS['sql'])}\n```\n\n> **Note:** tested on macOS & Ubuntu 22.04.\n"
            ),
        )
    if kind == "sh":
        return (
            "deploy.sh",
            "application/x-sh",
            '#!/usr/bin/env bash\nset -euo pipefail\n\nAPP_DIR=/var/lib/app\ncd "$APP_DIR"\ngit pull --ff-only\n'
            + r.choice(CODE_SNIPPETS["bash"])
            + '\nsudo systemctl restart app.service && echo "deployed $(git rev-parse --short HEAD)"\n',
        )
    if kind == "sql":
        return (
            "2024_03_12_add_orders_index.sql",
            "application/sql",
            "-- Migration: speed up the order list\nBEGIN;\n"
            + "\n".join(r.pick(CODE_SNIPPETS["sql"], 3))
            + "\nCOMMIT;\n",
        )
    if kind == "json":
        return (
            "settings.json",
            "application/json",
            pretty(
                {
                    "editor.fontSize": 14,
                    "files.exclude": {"**/.git": True, "**/node_modules": True},
                    "terminal.integrated.shell.linux": "/bin/bash",
                    "python.defaultInterpreterPath": "${workspaceFolder}/.venv/bin/python",
                    "[markdown]": {"editor.wordWrap": "on"},
                }
            ),
        )
    if kind == "go":
        return (
            "main.go",
            "text/x-go",
            'package main\n\nimport (\n\t"fmt"\n\t"net/http"\n)\n\nfunc fetch(url string) error {\n\t'
            + CODE_SNIPPETS["go"][0].replace("\n", "\n\t")
            + '\n\treturn nil\n}\n\nfunc main() {\n\tif err := fetch("https://example.com/"); err != nil {\n\t\tfmt.Println(err)\n\t}\n}\n',
        )
    if kind == "log":
        t = r.ts()
        lines = []
        for i in range(r.randrange(8, 25)):
            lvl = r.choice(["INFO", "INFO", "INFO", "WARN", "ERROR", "DEBUG"])
            msg = r.choice(
                [
                    "GET /api/orders?status=open 200 12ms",
                    "worker started pid=4121",
                    "disk usage on /var/lib/docker at 91%",
                    "retrying upload (attempt 2/5)",
                    "select timeout after 30s, reconnecting",
                    "user 1042 updated billing address",
                    "cron: nightly export finished in 48.2s",
                    "connection reset by peer (upstream 10.0.3.7:5432)",
                    "Deprecation: `union` option will be removed in 5.0",
                    "queue depth 0, sleeping",
                ]
            )
            lines.append(f"{iso(t + i * 7)} [{lvl}] {msg}")
        return "app.log", "text/plain", "\n".join(lines) + "\n"
    if kind == "txt":
        return "notes.txt", "text/plain", "\r\n".join(r.pick(PROSE, 6)) + "\r\n"
    if kind == "html":
        return (
            "newsletter.html",
            "text/html",
            f'<!DOCTYPE html>\n<html lang="en">\n<head><meta charset="utf-8"><title>{esc_xml(r.choice(TITLES))}</title></head>\n<body>\n<h1>Spring news</h1>\n<p>{esc_xml(paragraph(r))}</p>\n<p><a href="https://example.com/sale?utm_source=newsletter&amp;utm_campaign=spring">Shop the sale</a></p>\n</body>\n</html>\n',
        )
    if kind == "css":
        return (
            "theme.css",
            "text/css",
            ":root { --brand: #1d4ed8; }\nselect, input, textarea { font: inherit; }\n.drop-zone { border: 2px dashed var(--brand); }\n.btn:hover { filter: brightness(1.1); }\n@media (max-width: 600px) { .sidebar { display: none; } }\n",
        )
    return (
        "config.ini",
        "application/octet-stream",
        "[database]\nhost = localhost\nport = 5432\nname = app\n\n[paths]\ndata = /var/lib/app\nlogs = /var/log/app\n\n[features]\nunion_pricing = false\n",
    )


# ---------------------------------------------------------------------------------------------------------------
# Category: browsing (page navigations of people and of the bots every site sees)
# ---------------------------------------------------------------------------------------------------------------

SITE = "https://www.example.com"
SHOP = "https://shop.example.com"
APP = "https://app.example.com"
BLOG_SLUGS = [
    "how-we-cut-build-times",
    "spring-release-notes",
    "a-guide-to-union-membership",
    "select-the-right-plan",
    "drop-shipping-101",
    "why-we-moved-to-postgres",
    "remote-work-one-year-in",
    "the-2024-roadmap",
    "customer-story-contoso",
    "order-tracking-is-here",
    "behind-the-scenes-of-our-script-editor",
    "5-tips-for-better-sleep",
    "what-is-an-executive-summary",
    "update-your-payment-details",
    "c-sharp-vs-java",
]
WIKI = [
    "Select_(SQL)",
    "Where_(SQL)",
    "Union_(set_theory)",
    "Drop_(liquid)",
    "Exec_(system_call)",
    "Cat_(Unix)",
    "Echo_(command)",
    "Null_(SQL)",
    "Insert_(SQL)",
    "Order_by",
    "Script_(Unicode)",
    "Alert_(TV_series)",
    "C_Sharp_(programming_language)",
    "C%2B%2B",
    "Bobby_Tables",
    "Rock_%26_Roll",
    "AT%26T",
    "Union_Jack",
    "Sleep_(system_call)",
    "Shell_(computing)",
    "Java_(programming_language)",
    "PHP",
    "Kill_(command)",
    "Wget",
    "Curl_(programming_language)",
    "Fork_(system_call)",
    "Python_(programming_language)",
    "M%C3%BCnchen",
    "S%C3%A3o_Paulo",
    "Dom_Pedro_II_of_Brazil",
    "Mount_Everest",
    "Ada_Lovelace",
]
DOC_PATHS = [
    "/docs/languages/c%23/async-await",
    "/docs/languages/f%23/getting-started",
    "/questions/tagged/c%23",
    "/questions/tagged/c%2B%2B?tab=Newest",
    "/tags/.net",
    "/docs/sql/select-statement",
    "/docs/sql/union",
    "/docs/sql/drop-table",
    "/docs/cli/exec",
    "/docs/shell/pipes-and-redirects",
    "/docs/api/v2/orders#list",
    "/reference/functions/update_post_meta",
    "/manual/en/function.exec.php",
    "/docs/guides/where-clauses",
    "/t/how-to-use-select-in-react/12345",
    "/t/union-types-in-typescript/9876/4",
    "/learn/dotnet/csharp/tour-of-csharp/",
    "/developer/ios/documentation/swiftui/picker",
]
PAGES = [
    "/",
    "/about",
    "/pricing",
    "/careers",
    "/contact",
    "/blog",
    "/faq",
    "/terms",
    "/privacy",
    "/security",
    "/customers",
    "/integrations",
    "/changelog",
    "/status",
    "/press",
    "/partners",
    "/help/getting-started",
    "/help/billing/update-payment-method",
    "/help/account/delete-account",
    "/en-us/support",
    "/de-de/preise",
    "/fr/a-propos",
    "/es/contacto",
    "/blog/%C3%BCber-uns",
    "/ja/%E3%83%96%E3%83%AD%E3%82%B0",
    "/events/union-square-popup",
]


def utm(r: R) -> list[tuple[str, str]]:
    pairs = [
        ("utm_source", r.choice(SOURCES)),
        ("utm_medium", r.choice(MEDIUMS)),
        ("utm_campaign", r.choice(CAMPAIGNS)),
    ]
    if r.random() < 0.4:
        pairs.append(
            ("utm_content", r.choice(["hero_cta", "footer-link", "image|1", "btn_select_plan", "text link (2)"]))
        )
    if r.random() < 0.3:
        pairs.append(
            ("utm_term", r.choice(["running shoes", "drop leaf table", "select comfort", "crm+software", "c#"]))
        )
    return pairs


def click_id(r: R) -> tuple[str, str]:
    return r.choice(
        [
            ("gclid", "Cj0KCQiA" + r.b64url(60)),
            ("fbclid", "IwAR" + r.b64url(45)),
            ("msclkid", r.hex(32)),
            ("mc_cid", r.hex(10)),
            ("_hsenc", "p2ANqtz-" + r.b64url(60)),
            ("igshid", r.b64url(18)),
            ("ttclid", "E.C.P." + r.b64url(80)),
            ("srsltid", "AfmBOo" + r.b64url(40)),
        ]
    )


def browsing_landing(r: R) -> Record:
    b = Browser(r)
    pairs = utm(r)
    if r.random() < 0.6:
        pairs.append(click_id(r))
    path = r.choice(
        [
            "/",
            "/pricing",
            "/sale",
            "/products/" + r.choice(PRODUCTS)[1],
            "/blog/" + r.choice(BLOG_SLUGS),
            "/lp/spring-2024",
        ]
    )
    query = urlencode(pairs, quote_via=quote) if r.random() < 0.5 else form(pairs)
    referer = r.choice(
        [
            "https://www.google.com/",
            "https://l.facebook.com/",
            "https://t.co/" + r.alnum(10),
            None,
            "https://www.bing.com/",
            "https://out.reddit.com/",
        ]
    )
    cookie = cookie_header(r, "none") if r.random() < 0.5 else None
    return record(
        "GET",
        path,
        b.headers(r, site="cross-site" if referer else "none", referer=referer, cookie=cookie),
        query,
        shape="landing-utm",
    )


def browsing_page(r: R) -> Record:
    b = Browser(r)
    path = r.choice(PAGES + [f"/blog/{r.choice(BLOG_SLUGS)}" for _ in range(8)])
    query = None
    if r.random() < 0.2:
        query = r.choice(
            ["ref=nav", "lang=de", "currency=EUR", "tab=overview", "v=2", "from=footer", "amp=1", "preview=true"]
        )
    referer = SITE + r.choice(PAGES)
    return record("GET", path, b.headers(r, referer=referer, cookie=cookie_header(r)), query, shape="page")


def browsing_wiki(r: R) -> Record:
    b = Browser(r)
    title = r.choice(WIKI)
    query = r.choice([None, None, "action=history", "oldid=" + r.digits(10), "action=edit&section=2", "printable=yes"])
    path = f"/wiki/{title}" if query is None or "oldid" in query or "printable" in query else "/w/index.php"
    if path == "/w/index.php":
        query = f"title={title}&{query}"
    referer = r.choice(["https://www.google.com/", f"https://en.wikipedia.org/wiki/{r.choice(WIKI)}", None])
    cookie = cookie_header(
        r,
        "none",
        analytics=False,
        extra=[
            f"enwikimwuser-sessionId={r.hex(20)}",
            "WMF-Last-Access=14-Mar-2024",
            "GeoIP=DE:BE:Berlin:52.52:13.40:v4",
        ],
    )
    return record(
        "GET",
        path,
        b.headers(
            r, site="cross-site" if referer and "google" in referer else "same-origin", referer=referer, cookie=cookie
        ),
        query,
        shape="wiki-article",
    )


def browsing_docs(r: R) -> Record:
    b = Browser(r)
    full = r.choice(DOC_PATHS)
    path, _, query = full.partition("?")
    path = path.split("#")[0]
    return record(
        "GET",
        path,
        b.headers(
            r,
            referer=r.choice([SITE + "/docs", "https://www.google.com/", "https://stackoverflow.com/"]),
            cookie=cookie_header(r),
        ),
        query or None,
        shape="docs",
    )


def browsing_conditional(r: R) -> Record:
    b = Browser(r)
    path = r.choice(PAGES)
    h = b.headers(r, site="none", cookie=cookie_header(r))
    h.insert(len(h) - 1, ("If-None-Match", f'W/"{r.hex(8)}-{r.b64url(20)}"'))
    if r.random() < 0.5:
        h.insert(len(h) - 1, ("If-Modified-Since", httpdate(r.ts())))
    if r.random() < 0.3:
        h.insert(0, ("Cache-Control", "max-age=0"))
    return record(r.choice(["GET", "GET", "HEAD"]), path, h, shape="conditional-get")


BOTS = [
    (
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    ),
    (
        "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; Googlebot/2.1; +http://www.google.com/bot.html) Chrome/122.0.6261.94 Safari/537.36",
        "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7",
    ),
    ("Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", "*/*"),
    ("Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)", "*/*"),
    ("facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)", "*/*"),
    ("Twitterbot/1.0", "*/*"),
    ("LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)", "*/*"),
    ("WhatsApp/2.24.4.76 A", "*/*"),
    ("Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)", "*/*"),
    ("Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)", "*/*"),
    ("Pingdom.com_bot_version_1.4_(http://www.pingdom.com/)", "*/*"),
    ("Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)", "*/*"),
    ("Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)", "*/*"),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.1.1 Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)",
        "*/*",
    ),
    (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/122.0.0.0 Safari/537.36 DatadogSynthetics",
        "*/*",
    ),
    ("TelegramBot (like TwitterBot)", "*/*"),
]


def browsing_bot(r: R) -> Record:
    ua, accept = r.choice(BOTS)
    path = r.choice(
        [*PAGES, "/blog/" + r.choice(BLOG_SLUGS), "/products/" + r.choice(PRODUCTS)[1], "/wiki/" + r.choice(WIKI)]
    )
    h: Headers = [("User-Agent", ua), ("Accept", accept)]
    if "Googlebot" in ua or "bingbot" in ua:
        h += [
            ("Accept-Encoding", "gzip, deflate, br"),
            ("From", "googlebot(at)googlebot.com" if "Google" in ua else "bingbot(at)microsoft.com"),
        ]
    else:
        h.append(("Accept-Encoding", "gzip"))
    query = None
    if "facebook" in ua:
        query = "fbclid=" + "IwAR" + r.b64url(45)
    return record(r.choice(["GET", "GET", "GET", "HEAD"]), path, h, query, shape="bot")


def browsing_listing(r: R) -> Record:
    b = Browser(r)
    path, pairs = r.choice(
        [
            (
                "/blog",
                [
                    ("page", str(r.randrange(2, 30))),
                    ("tag", r.choice(["release-notes", "union", "how-to", "c#", "select-customers"])),
                ],
            ),
            (
                "/events",
                [
                    ("from", "2024-03-01"),
                    ("to", "2024-03-31"),
                    ("category", r.choice(["Union meetings", "Workshops & talks", "Kids (5-12)"])),
                ],
            ),
            (
                "/careers",
                [
                    ("department", r.choice(["Engineering", "Sales & Marketing", "Customer Success"])),
                    ("location", r.choice(["Remote (EU)", "New York, NY", "Berlin"])),
                ],
            ),
            ("/news", [("year", "2024"), ("month", str(r.randrange(1, 4)))]),
            ("/forum/latest", [("order", r.choice(["activity", "views", "created"])), ("ascending", "false")]),
            ("/recipes", [("diet", r.choice(["vegan", "gluten-free"])), ("time", "<30"), ("sort", "rating")]),
        ]
    )
    return record("GET", path, b.headers(r, referer=SITE + path, cookie=cookie_header(r)), form(pairs), shape="listing")


def browsing_next_rsc(r: R) -> Record:
    """Next.js App Router client navigations: RSC fetches with the router state tree header."""
    b = Browser(r, "chrome")
    route = r.choice(["dashboard", "settings", "projects", "billing"])
    tree = ["", {"children": ["(app)", {"children": [route, {"children": ["__PAGE__", {}]}]}]}, None, None, True]
    extra = [("RSC", "1"), ("Next-Router-State-Tree", quote(compact(tree), safe="")), ("Next-Url", f"/{route}")]
    h = b.headers(
        r,
        dest="empty",
        referer=f"{APP}/{route}",
        cookie=cookie_header(
            r, "none", extra=[f"__session={jwt(r, {'sub': r.uuid(), 'sid': 'sess_' + r.alnum(24), 'iat': r.ts()})}"]
        ),
        extra=extra,
        accept="*/*",
    )
    return record(
        "GET",
        f"/{r.choice(['projects', 'settings/profile', 'billing/invoices', 'dashboard'])}",
        h,
        f"_rsc={r.alnum(5, 'abcdefghijklmnopqrstuvwxyz0123456789')}",
        shape="nextjs-rsc",
    )


def browsing_htmx(r: R) -> Record:
    b = Browser(r)
    path = r.choice(["/contacts", "/todos", "/search", "/notifications"])
    extra = [
        ("HX-Request", "true"),
        ("HX-Current-URL", f"{APP}{path}?page=1"),
        ("HX-Target", r.choice(["results", "list", "modal-body"])),
    ]
    if r.random() < 0.5:
        extra.append(("HX-Trigger", r.choice(["search", "load-more", "select-all"])))
    query = form([("q", r.choice(SHOP_SEARCHES)), ("page", str(r.randrange(1, 6)))])
    return record(
        "GET",
        path,
        b.headers(
            r, dest="empty", referer=f"{APP}{path}", cookie=cookie_header(r, "django"), accept="*/*", extra=extra
        ),
        query,
        shape="htmx-partial",
    )


def browsing_account_links(r: R) -> Record:
    b = Browser(r)
    _, _, email = person(r)
    path, pairs = r.choice(
        [
            (
                "/login",
                [
                    (
                        "next",
                        r.choice(
                            ["/account/orders?status=open", "/dashboard", "/settings/billing#invoices", "/admin/"]
                        ),
                    )
                ],
            ),
            (
                "/unsubscribe",
                [
                    ("email", email),
                    ("token", r.hex(40)),
                    ("list", r.choice(["weekly", "product-updates", "union-news"])),
                ],
            ),
            ("/verify-email", [("token", r.b64url(32)), ("uid", r.alnum(3))]),
            ("/reset-password", [("token", r.hex(20)), ("email", email)]),
            ("/invite/accept", [("code", r.alnum(12)), ("team", r.choice(COMPANIES))]),
            ("/account", [("tab", r.choice(["billing", "security", "notifications"]))]),
            ("/logout", []),
        ]
    )
    site = r.choice(["cross-site", "none", "same-origin"])
    return record(
        "GET",
        path,
        b.headers(r, site=site, cookie=cookie_header(r)),
        form(pairs) if pairs else None,
        shape="account-link",
    )


def browsing_share(r: R) -> Record:
    b = Browser(r, r.choice(["ios", "inapp", "chrome"]))
    path = r.choice(
        [
            "/s/" + r.alnum(8),
            "/p/" + r.alnum(11),
            "/r/" + r.alnum(6),
            "/playlist/" + r.alnum(22),
            "/invite/" + r.alnum(10),
        ]
    )
    query = r.choice(
        [
            f"si={r.hex(16)}",
            f"igsh={r.b64url(12)}",
            "ref=producthunt",
            "utm_source=share&utm_medium=ios_app&utm_name=iossmf",
            f"feature=shared&t={r.randrange(30, 900)}s",
            None,
        ]
    )
    return record(
        "GET",
        path,
        b.headers(
            r, site="cross-site", referer=r.choice(["https://l.instagram.com/", "https://www.linkedin.com/", None])
        ),
        query,
        shape="share-link",
    )


# ---------------------------------------------------------------------------------------------------------------
# Category: search (site search boxes, autocomplete, search APIs)
# ---------------------------------------------------------------------------------------------------------------


def search_shop(r: R) -> Record:
    b = Browser(r)
    q = r.choice(SHOP_SEARCHES)
    style = r.random()
    if style < 0.35:  # Shopify
        pairs = [("q", q), ("options[prefix]", "last"), ("type", "product")]
        path = "/search"
    elif style < 0.55:  # WordPress / WooCommerce
        pairs = [("s", q), ("post_type", "product")]
        path = "/"
    elif style < 0.75:  # Magento
        pairs = [("q", q)] + (
            [("product_list_order", r.choice(["price", "name", "relevance"]))] if r.random() < 0.5 else []
        )
        path = "/catalogsearch/result/"
    else:
        pairs = [
            ("k", q),
            ("ref", "nb_sb_noss"),
            ("crid", r.alnum(13, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")),
            ("sprefix", q[:4] + ",aps,142"),
        ]
        path = "/s"
    if r.random() < 0.3:
        pairs.append(("page", str(r.randrange(2, 8))))
    return record(
        "GET", path, b.headers(r, referer=SHOP + "/", cookie=cookie_header(r, "php")), form(pairs), shape="shop-search"
    )


def search_docs(r: R) -> Record:
    b = Browser(r)
    q = r.choice(DEV_SEARCHES)
    pairs = [("q", q)]
    if r.random() < 0.4:
        pairs.append(("lang", r.choice(["en", "python", "javascript", "c#"])))
    query = form(pairs) if r.random() < 0.6 else "q=" + js_component(q)
    return record(
        "GET",
        r.choice(["/search", "/docs/search", "/search/", "/api/search"]),
        b.headers(r, referer=SITE + "/docs", cookie=cookie_header(r)),
        query,
        shape="docs-search",
    )


def search_general(r: R) -> Record:
    b = Browser(r)
    q = r.choice(GENERAL_SEARCHES)
    pairs = [("q", q)]
    if r.random() < 0.3:
        pairs.append(("start", str(10 * r.randrange(1, 5))))
    if r.random() < 0.3:
        pairs.append(("sort", r.choice(["date", "relevance"])))
    return record(
        "GET",
        r.choice(["/search", "/search/", "/results"]),
        b.headers(r, referer=SITE + "/", cookie=cookie_header(r)),
        form(pairs),
        shape="site-search",
    )


def search_suggest(r: R) -> Record:
    b = Browser(r)
    q = r.choice(SHOP_SEARCHES + DEV_SEARCHES + GENERAL_SEARCHES)
    prefix = q[: r.randrange(2, max(3, len(q)))]
    path, query = r.choice(
        [
            ("/api/search/suggest", f"q={js_component(prefix)}&limit=8"),
            (
                "/search/suggest.json",
                f"q={js_component(prefix)}&resources[type]=product&resources[limit]=4&section_id=predictive-search",
            ),
            ("/complete/search", f"client=firefox&q={quote_plus(prefix)}"),
            ("/autocomplete", f"term={js_component(prefix)}&_={r.ts()}{r.digits(3)}"),
        ]
    )
    h = b.headers(
        r,
        dest="empty",
        referer=SITE + "/",
        cookie=cookie_header(r),
        accept="application/json, text/javascript, */*; q=0.01",
        extra=[("X-Requested-With", "XMLHttpRequest")] if "term=" in query else None,
    )
    return record("GET", path, h, query, shape="autocomplete")


def search_algolia(r: R) -> Record:
    """Algolia DocSearch / InstantSearch: JSON sent as x-www-form-urlencoded to avoid a CORS preflight."""
    b = Browser(r)
    q = r.choice(DEV_SEARCHES + SHOP_SEARCHES)
    params = urlencode(
        {
            "query": q,
            "hitsPerPage": "20",
            "attributesToRetrieve": '["hierarchy.lvl0","hierarchy.lvl1","content","type","url"]',
            "attributesToSnippet": '["content:10"]',
            "highlightPreTag": "<mark>",
            "highlightPostTag": "</mark>",
            "facetFilters": '["language:en",["docusaurus_tag:default","docusaurus_tag:docs-default-current"]]',
        },
        quote_via=quote,
    )
    body = compact(
        {"requests": [{"query": q, "indexName": r.choice(["docs", "prod_products", "shop_en"]), "params": params}]}
    )
    agent = quote(
        "Algolia for JavaScript (4.22.1); Browser (lite); docsearch (3.5.2); docsearch-react (3.5.2); docsearch.js (3.5.2)",
        safe="",
    )
    query = f"x-algolia-agent={agent}&x-algolia-api-key={r.hex(32)}&x-algolia-application-id={r.alnum(10, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789')}"
    h = b.headers(
        r,
        dest="empty",
        site="cross-site",
        referer=SITE + "/docs/",
        origin=SITE,
        content_type="application/x-www-form-urlencoded",
    )
    return record("POST", "/1/indexes/*/queries", h, query, body, shape="algolia")


def search_json(r: R) -> Record:
    b = Browser(r)
    q = r.choice(SHOP_SEARCHES + GENERAL_SEARCHES)
    payload = {
        "query": q,
        "filters": {
            "category": r.choice(["shoes", "home & kitchen", "books"]),
            "price": {"min": 0, "max": r.choice([50, 100, 250])},
            "in_stock": True,
        },
        "sort": r.choice(["relevance", "price_asc", "-created_at"]),
        "page": r.randrange(1, 5),
        "per_page": 24,
        "facets": ["brand", "color", "size"],
    }
    h = b.headers(
        r,
        dest="empty",
        referer=SHOP + "/search",
        origin=SHOP,
        content_type="application/json",
        cookie=cookie_header(r),
        accept="application/json",
    )
    return record("POST", "/api/search", h, body=compact(payload), shape="search-json")


def search_faceted(r: R) -> Record:
    b = Browser(r)
    q = r.choice(SHOP_SEARCHES)
    pairs = [
        ("q", q),
        ("filter.v.price.gte", "10"),
        ("filter.v.price.lte", "100"),
        ("filter.p.m.custom.color", r.choice(COLORS)),
        ("filter.v.availability", "1"),
        ("sort_by", r.choice(["price-ascending", "best-selling", "created-descending"])),
    ]
    return record(
        "GET",
        "/search",
        b.headers(r, referer=SHOP + "/search?q=" + quote_plus(q), cookie=cookie_header(r, "none")),
        form(pairs),
        shape="faceted-search",
    )


def search_dated(r: R) -> Record:
    b = Browser(r)
    first, last, _ = person(r)
    pairs = [
        (
            "q",
            r.choice(
                ["", "invoice", "union dues", "select plan", "order 10482", "drop-off schedule", f"{first} {last}"]
            ),
        ),
        ("from", "2024-01-01"),
        ("to", "2024-03-31"),
        ("author", f"{first} {last}"),
        ("type", r.choice(["all", "pdf", "email"])),
    ]
    return record(
        "GET",
        "/search",
        b.headers(r, referer=APP + "/files", cookie=cookie_header(r, "java")),
        form(pairs),
        shape="search-dated",
    )


# ---------------------------------------------------------------------------------------------------------------
# Category: forms (urlencoded POSTs of logins, sign-ups, contact and settings forms)
# ---------------------------------------------------------------------------------------------------------------


def browser_post(
    r: R,
    path: str,
    body: str,
    referer: str,
    stack: str | None = None,
    shape: str = "",
    b: Browser | None = None,
    ctype: str = "application/x-www-form-urlencoded",
    query: str | None = None,
) -> Record:
    b = b or Browser(r)
    origin = referer.split("/", 3)
    h = b.headers(
        r,
        origin="/".join(origin[:3]),
        referer=referer,
        cookie=cookie_header(r, stack),
        content_type=ctype,
        extra=[("Cache-Control", "max-age=0")] if b.chromium else None,
    )
    return record("POST", path, h, query, body, shape=shape)


def forms_wp_login(r: R) -> Record:
    first, last, email = person(r)
    body = form(
        [
            ("log", r.choice([email, first.lower(), f"{first.lower()}.{last.lower()}"])),
            ("pwd", password(r)),
            ("rememberme", "forever"),
            ("wp-submit", "Log In"),
            ("redirect_to", f"{SITE}/wp-admin/"),
            ("testcookie", "1"),
        ]
    )
    return browser_post(r, "/wp-login.php", body, f"{SITE}/wp-login.php", "none", "wordpress-login")


def forms_django_login(r: R) -> Record:
    _, _, email = person(r)
    body = form(
        [
            ("csrfmiddlewaretoken", r.alnum(64)),
            ("username", email),
            ("password", password(r)),
            ("next", r.choice(["/", "/account/", "/orders/?status=open"])),
        ]
    )
    return browser_post(r, "/accounts/login/", body, f"{SITE}/accounts/login/?next=/account/", "django", "django-login")


def forms_rails_signin(r: R) -> Record:
    _, _, email = person(r)
    body = form(
        [
            ("utf8", "✓"),
            ("authenticity_token", r.b64(64)),
            ("user[email]", email),
            ("user[password]", password(r)),
            ("user[remember_me]", r.choice(["0", "1"])),
            ("commit", "Log in"),
        ]
    )
    return browser_post(r, "/users/sign_in", body, f"{APP}/users/sign_in", "rails", "rails-signin")


def forms_register(r: R) -> Record:
    first, last, email = person(r)
    pw = password(r)
    body = form(
        [
            ("_token", r.alnum(40)),
            ("name", f"{first} {last}"),
            ("email", email),
            ("company", r.choice(COMPANIES)),
            ("password", pw),
            ("password_confirmation", pw),
            ("terms", "on"),
            ("newsletter", r.choice(["on", "0"])),
        ]
    )
    return browser_post(
        r,
        "/register",
        body,
        f"{APP}/register?plan={r.choice(['starter', 'team', 'business'])}",
        "laravel",
        "laravel-register",
    )


def forms_contact(r: R) -> Record:
    first, last, email = person(r)
    message = "\r\n".join(
        [
            f"Hi {r.choice(['there', 'team', 'support'])},",
            "",
            paragraph(r, 2),
            "",
            paragraph(r, 1),
            "",
            "Thanks,",
            first,
        ]
    )
    body = form(
        [
            ("name", f"{first} {last}"),
            ("email", email),
            ("phone", phone(r)),
            (
                "subject",
                r.choice(
                    ["Order question", "Select plan upgrade", "Partnership", "Billing", "Drop-off times", "Other"]
                ),
            ),
            ("message", message),
            ("consent", "on"),
            ("g-recaptcha-response", "03AFcWeA" + r.b64url(700)),
        ]
    )
    return browser_post(
        r, r.choice(["/contact", "/contact-us/", "/support/contact"]), body, f"{SITE}/contact", None, "contact-form"
    )


def forms_newsletter(r: R) -> Record:
    first, _, email = person(r)
    u, list_id = r.hex(25), r.hex(10)
    body = form([("EMAIL", email), ("FNAME", first), (f"b_{u}_{list_id}", ""), ("subscribe", "Subscribe")])
    return browser_post(
        r,
        "/subscribe/post",
        body,
        f"{SITE}/blog/{r.choice(BLOG_SLUGS)}",
        "none",
        "mailchimp-signup",
        query=f"u={u}&id={list_id}&f_id=00{r.hex(6)}",
    )


def forms_password_change(r: R) -> Record:
    new = password(r)
    body = form(
        [
            ("csrfmiddlewaretoken", r.alnum(64)),
            ("old_password", password(r)),
            ("new_password1", new),
            ("new_password2", new),
        ]
    )
    return browser_post(
        r, "/accounts/password/change/", body, f"{SITE}/accounts/password/change/", "django", "password-change"
    )


def forms_profile(r: R) -> Record:
    first, last, email = person(r)
    adr = address(r)
    bio = r.choice(
        [
            "",
            "Coffee, code & cycling.",
            "Union rep at Local 42.\r\nOpinions my own.",
            "I select the music at our office parties 🎶",
            "Drop me a message about anything C# / .NET!",
            "Runner | Mom of 2 | she/her",
        ]
    )
    body = form(
        [
            ("authenticity_token", r.b64(64)),
            ("_method", "patch"),
            ("profile[first_name]", first),
            ("profile[last_name]", last),
            ("profile[email]", email),
            ("profile[company]", r.choice(COMPANIES)),
            ("profile[address_line1]", adr["line1"]),
            ("profile[address_line2]", adr["line2"]),
            ("profile[city]", adr["city"]),
            ("profile[postcode]", adr["postcode"]),
            ("profile[country]", adr["country"]),
            ("profile[bio]", bio),
            (
                "profile[website]",
                r.choice(["", "https://example.com/~" + first.lower(), "https://github.com/" + first.lower()]),
            ),
        ]
    )
    return browser_post(r, "/settings/profile", body, f"{APP}/settings/profile", "rails", "profile-update")


def forms_drupal(r: R) -> Record:
    first, _, email = person(r)
    if r.random() < 0.5:
        body = form(
            [
                ("name", first.lower()),
                ("pass", password(r)),
                ("form_build_id", "form-" + r.b64url(32)),
                ("form_id", "user_login_form"),
                ("op", "Log in"),
            ]
        )
        return browser_post(
            r, "/user/login", body, f"{SITE}/user/login", "none", "drupal-login", query="destination=/node/add/article"
        )
    body = form(
        [
            ("submitted[name]", first),
            ("submitted[email]", email),
            ("submitted[topic]", r.choice(["general", "union_membership", "select_committee"])),
            ("submitted[message]", paragraph(r)),
            ("details[sid]", ""),
            ("details[page_num]", "1"),
            ("details[page_count]", "1"),
            ("details[finished]", "0"),
            ("form_build_id", "form-" + r.b64url(32)),
            ("form_id", "webform_client_form_12"),
            ("op", "Submit"),
        ]
    )
    return browser_post(r, "/contact-us", body, f"{SITE}/contact-us", "none", "drupal-webform")


def forms_aspnet(r: R) -> Record:
    """ASP.NET WebForms postback: `$` in field names, a base64 __VIEWSTATE and __EVENTVALIDATION."""
    _, _, email = person(r)
    body = form(
        [
            ("__EVENTTARGET", ""),
            ("__EVENTARGUMENT", ""),
            ("__VIEWSTATE", "/wEPDwUKMTY" + r.b64(300)),
            ("__VIEWSTATEGENERATOR", r.hex(8).upper()),
            ("__EVENTVALIDATION", "/wEdAAU" + r.b64(120)),
            ("ctl00$MainContent$txtEmail", email),
            ("ctl00$MainContent$txtPassword", password(r)),
            ("ctl00$MainContent$chkRemember", "on"),
            ("ctl00$MainContent$btnLogin", "Sign in"),
        ]
    )
    return browser_post(
        r,
        "/Account/Login.aspx",
        body,
        f"{SITE}/Account/Login.aspx?ReturnUrl=%2fPortal%2fDefault.aspx",
        "aspnet",
        "aspnet-webforms",
        query="ReturnUrl=%2fPortal%2fDefault.aspx",
    )


def forms_jsf(r: R) -> Record:
    first, last, _ = person(r)
    body = form(
        [
            ("form", "form"),
            ("form:firstName", first),
            ("form:lastName", last),
            ("form:department", r.choice(["Sales & Marketing", "R&D", "Operations"])),
            ("form:j_idt21", "Save"),
            ("javax.faces.ViewState", f"{r.randrange(-9 * 10**18, 9 * 10**18)}:{r.randrange(-9 * 10**18, 9 * 10**18)}"),
        ]
    )
    return browser_post(r, "/portal/employee.xhtml", body, f"{SITE}/portal/employee.xhtml", "java", "jsf-form")


def forms_ticket(r: R) -> Record:
    _first, _last, email = person(r)
    desc = "\r\n\r\n".join(
        [
            paragraph(r, 2),
            'Steps to reproduce:\r\n1. Open the settings page\r\n2. Select "Billing" from the drop-down\r\n3. Click Save -> nothing happens',
            "Browser: Chrome 122 on Windows 11",
        ]
    )
    body = form(
        [
            ("utf8", "✓"),
            ("authenticity_token", r.b64(64)),
            ("request[anonymous_requester_email]", email),
            (
                "request[subject]",
                r.choice(
                    [
                        "Can't select a billing plan",
                        "Drop-down menu is empty",
                        "Union discount not applied",
                        "Export to CSV fails",
                        "Invoice shows wrong VAT",
                    ]
                ),
            ),
            ("request[description]", desc),
            ("request[custom_fields][360012345678]", r.choice(["billing", "technical", "account"])),
            ("request[priority]", r.choice(["low", "normal", "high"])),
        ]
    )
    return browser_post(r, "/hc/en-us/requests", body, f"{SITE}/hc/en-us/requests/new", "rails", "support-ticket")


def forms_survey(r: R) -> Record:
    pairs = [("nps", str(r.randrange(0, 11))), ("reason", paragraph(r, 1))]
    for interest in r.pick(["union-news", "product-updates", "events", "select-offers", "webinars"], r.randrange(1, 4)):
        pairs.append(("interests[]", interest))
    pairs += [
        ("contact_ok", r.choice(["yes", "no"])),
        ("source", r.choice(["Google", "A friend", "Podcast (The Drop)", "LinkedIn"])),
    ]
    return browser_post(r, "/survey/submit", form(pairs), f"{SITE}/survey?id={r.alnum(8)}", None, "survey")


def forms_booking(r: R) -> Record:
    first, last, email = person(r)
    body = form(
        [
            ("date", f"2024-04-{r.randrange(1, 30):02d}"),
            ("time", r.choice(["18:30", "19:00", "20:15"])),
            ("guests", str(r.randrange(1, 9))),
            ("name", f"{first} {last}"),
            ("email", email),
            ("phone", phone(r)),
            (
                "requests",
                r.choice(
                    [
                        "",
                        "Vegetarian; no nuts please",
                        "High chair for a 1 yr old",
                        "It's our 10th anniversary :)",
                        "Window table if possible & quiet corner",
                        "1 wheelchair user",
                    ]
                ),
            ),
            ("_wpnonce", r.hex(10)),
            ("action", "rtb_booking"),
        ]
    )
    return browser_post(r, "/wp-admin/admin-ajax.php", body, f"{SITE}/book-a-table/", "none", "booking-ajax")


def forms_address(r: R) -> Record:
    first, last, _ = person(r)
    adr = address(r)
    body = form(
        [
            ("form_key", r.alnum(16)),
            ("firstname", first),
            ("lastname", last),
            ("company", r.choice([*COMPANIES, "", ""])),
            ("telephone", phone(r)),
            ("street[0]", adr["line1"]),
            ("street[1]", adr["line2"]),
            ("city", adr["city"]),
            ("region", adr["region"]),
            ("postcode", adr["postcode"]),
            ("country_id", adr["country"]),
            ("default_billing", "1"),
            ("default_shipping", "1"),
        ]
    )
    return browser_post(
        r, "/customer/address/formPost/", body, f"{SHOP}/customer/address/new/", "php", "magento-address"
    )


# ---------------------------------------------------------------------------------------------------------------
# Category: json_api (REST calls of single-page apps and API clients)
# ---------------------------------------------------------------------------------------------------------------

RESOURCES = ["users", "orders", "projects", "tasks", "invoices", "contacts", "tickets", "articles", "teams", "events"]


def spa_headers(r: R, content_type: str | None = None, method_has_body: bool = False) -> Headers:
    """fetch()/axios from the app's own origin: session cookie plus a CSRF header, or a Bearer token."""
    b = Browser(r)
    extra: Headers = []
    cookie = None
    if r.random() < 0.5:
        extra.append(("Authorization", "Bearer " + access_token(r)))
    else:
        stack = r.choice(["django", "laravel", "rails", "express"])
        cookie = cookie_header(r, stack)
        extra.append(
            r.choice([("X-CSRF-Token", r.b64(64)), ("X-XSRF-TOKEN", r.b64(120)), ("X-CSRFToken", r.alnum(64))])
        )
    if r.random() < 0.3:
        extra.append(("X-Request-ID", r.uuid()))
    return b.headers(
        r,
        dest="empty",
        origin=APP if method_has_body else None,
        referer=f"{APP}/{r.choice(RESOURCES)}",
        cookie=cookie,
        content_type=content_type,
        accept="application/json, text/plain, */*",
        extra=extra,
    )


def api_list(r: R) -> Record:
    res = r.choice(RESOURCES)
    pairs = [("limit", str(r.choice([10, 20, 25, 50, 100])))]
    if r.random() < 0.5:
        pairs.append(("cursor", r.b64url(18)))
    if r.random() < 0.5:
        pairs.append(("sort", r.choice(["-created_at", "name", "due_date", "-updated_at,name"])))
    if r.random() < 0.4:
        pairs.append(("status", r.choice(["open", "pending,open", "closed", "draft"])))
    if r.random() < 0.3:
        pairs.append(("fields", r.choice(["id,name,email", "id,status,total,currency", "id,title,updated_at"])))
    if r.random() < 0.3:
        pairs.append(("q", r.choice(["select", "union st", "o'brien", "drop-off", "c#", "Q2 report (draft)"])))
    if r.random() < 0.2:
        pairs.append(("created_after", iso(r.ts())))
    h = spa_headers(r) if r.random() < 0.6 else api_headers(r, auth="Bearer " + access_token(r))
    return record("GET", f"/api/v{r.choice([1, 2])}/{res}", h, urlencode(pairs), shape="rest-list")


def api_get_one(r: R) -> Record:
    res = r.choice(RESOURCES)
    ident = r.choice([str(r.randrange(1, 99999)), r.uuid(), f"{res[:3]}_{r.alnum(14)}"])
    sub = r.choice(["", "", "/comments", "/members", "/history", "/attachments"])
    query = r.choice([None, None, "include=author,comments", "expand[]=customer&expand[]=line_items", "embed=owner"])
    h = spa_headers(r) if r.random() < 0.5 else api_headers(r, auth="Bearer " + access_token(r))
    if r.random() < 0.2:
        h.append(("If-None-Match", f'"{r.hex(16)}"'))
    return record("GET", f"/api/v1/{res}/{ident}{sub}", h, query, shape="rest-get")


def task_payload(r: R) -> dict[str, Any]:
    first, last, email = person(r)
    return {
        "title": r.choice(
            [
                *TITLES,
                "Update select dropdown styling",
                "Drop legacy /v1 endpoints",
                "Union pricing for EU customers",
                "Fix `order by` in reports",
            ]
        ),
        "description": r.choice(
            [
                paragraph(r, 2),
                f"Steps:\n1. {r.choice(PROSE)}\n2. Run `{r.choice(CODE_SNIPPETS['bash']).splitlines()[0]}`\n3. Observe the error\n\nExpected: no error.",
                f"See the query below:\n\n```sql\n{r.choice(CODE_SNIPPETS['sql'])}\n```",
                f"{r.choice(PROSE)}\n\n- [ ] design\n- [ ] implement\n- [x] spec",
            ]
        ),
        "assignee": {"name": f"{first} {last}", "email": email},
        "labels": r.pick(
            ["bug", "frontend", "backend", "p1", "select", "union", "good first issue", "c#"], r.randrange(0, 4)
        ),
        "due_date": iso(r.ts())[:10],
        "estimate": r.choice([None, 1, 2, 3, 5, 8]),
        "watchers": [r.randrange(1, 5000) for _ in range(r.randrange(0, 4))],
        "custom_fields": {"customer": r.choice(COMPANIES), "sla": r.choice(["gold", "silver", None])},
    }


def api_create(r: R) -> Record:
    res = r.choice(["tasks", "tickets", "projects", "contacts", "events"])
    if res == "contacts":
        first, last, email = person(r)
        adr = address(r)
        payload: dict[str, Any] = {
            "first_name": first,
            "last_name": last,
            "email": email,
            "phone": phone(r),
            "company": r.choice(COMPANIES),
            "address": adr,
            "tags": r.pick(["lead", "customer", "vip", "union-member", "newsletter"], 2),
            "notes": r.choice(PROSE),
        }
    elif res == "events":
        start = r.ts()
        payload = {
            "summary": r.choice(["Union meeting", "Select vendors", "Q2 exec review", "Team lunch 🍕"]),
            "start": {"dateTime": iso(start), "timeZone": "Europe/Berlin"},
            "end": {"dateTime": iso(start + 3600), "timeZone": "Europe/Berlin"},
            "attendees": [{"email": person(r)[2]} for _ in range(r.randrange(1, 4))],
            "description": paragraph(r),
            "reminders": {"useDefault": False, "overrides": [{"method": "popup", "minutes": 10}]},
        }
    else:
        payload = task_payload(r)
    ctype = r.choice(["application/json", "application/json;charset=UTF-8", "application/json; charset=utf-8"])
    h = (
        spa_headers(r, ctype, True)
        if r.random() < 0.6
        else api_headers(r, auth="Bearer " + access_token(r), content_type=ctype, extra=[("Idempotency-Key", r.uuid())])
    )
    return record(
        "POST", f"/api/v1/{res}", h, body=compact(payload) if r.random() < 0.7 else pretty(payload), shape="rest-create"
    )


def api_patch(r: R) -> Record:
    res = r.choice(RESOURCES)
    style = r.random()
    if style < 0.4:
        ctype = "application/merge-patch+json"
        body = compact(
            {
                r.choice(["title", "name", "status"]): r.choice(
                    ["Select committee notes", "done", "in_progress", "Union St. office", "Archived (old)"]
                ),
                "archived": r.random() < 0.3,
                "description": None,
            }
        )
    elif style < 0.7:
        ctype = "application/json-patch+json"
        body = compact(
            [
                {"op": "replace", "path": "/status", "value": r.choice(["open", "closed"])},
                {"op": "add", "path": "/labels/-", "value": r.choice(["select", "drop-candidate", "union"])},
                {"op": "remove", "path": "/assignee"},
            ]
        )
    else:
        ctype = "application/json"
        body = compact(
            {
                "settings": {
                    "notifications": {
                        "email": r.random() < 0.5,
                        "push": True,
                        "digest": r.choice(["daily", "weekly", "never"]),
                    },
                    "timezone": r.choice(["Europe/Berlin", "America/New_York", "Asia/Tokyo"]),
                    "locale": r.choice(["en-US", "de-DE", "pt-BR"]),
                    "theme": r.choice(["dark", "light", "system"]),
                }
            }
        )
    method = "PATCH" if style < 0.9 else "PUT"
    h = (
        spa_headers(r, ctype, True)
        if r.random() < 0.6
        else api_headers(r, auth="Bearer " + access_token(r), content_type=ctype)
    )
    return record(method, f"/api/v1/{res}/{r.randrange(1, 99999)}", h, body=body, shape="rest-patch")


def api_delete(r: R) -> Record:
    res = r.choice(RESOURCES)
    h = spa_headers(r) if r.random() < 0.5 else api_headers(r, auth="Bearer " + access_token(r))
    return record("DELETE", f"/api/v1/{res}/{r.choice([str(r.randrange(1, 99999)), r.uuid()])}", h, shape="rest-delete")


def api_preflight(r: R) -> Record:
    b = Browser(r, "chrome")
    method = r.choice(["POST", "PATCH", "DELETE", "PUT"])
    h: Headers = [
        ("Accept", "*/*"),
        ("Access-Control-Request-Method", method),
        (
            "Access-Control-Request-Headers",
            r.choice(
                [
                    "authorization,content-type",
                    "content-type,x-request-id",
                    "authorization,content-type,x-csrf-token,x-requested-with",
                ]
            ),
        ),
        ("Origin", APP),
        ("User-Agent", b.ua),
        ("Sec-Fetch-Mode", "cors"),
        ("Sec-Fetch-Site", "same-site"),
        ("Sec-Fetch-Dest", "empty"),
        ("Referer", APP + "/"),
        ("Accept-Encoding", "gzip, deflate, br, zstd"),
        ("Accept-Language", b.lang),
    ]
    return record("OPTIONS", f"/api/v1/{r.choice(RESOURCES)}/{r.randrange(1, 9999)}", h, shape="cors-preflight")


def api_strapi(r: R) -> Record:
    """Strapi v4 REST query syntax: bracketed filters with $-operators, populate, pagination."""
    b = Browser(r)
    word = r.choice(["select", "union", "drop", "spring", "O'Brien", "c#", "recipes"])
    pairs = [
        ("filters[title][$containsi]", word),
        ("populate", "*"),
        ("sort[0]", "publishedAt:desc"),
        ("pagination[page]", str(r.randrange(1, 5))),
        ("pagination[pageSize]", "10"),
    ]
    if r.random() < 0.5:
        pairs.append(("filters[category][slug][$eq]", r.choice(["news", "how-to", "events"])))
    if r.random() < 0.3:
        pairs.append(("locale", r.choice(["en", "de", "fr"])))
    h = b.headers(r, dest="empty", origin=SITE, referer=SITE + "/blog", accept="application/json")
    return record("GET", "/api/articles", h, urlencode(pairs, quote_via=quote), shape="strapi-query")


def api_jsonapi(r: R) -> Record:
    pairs = [
        ("filter[status]", r.choice(["published", "draft"])),
        ("include", "author,comments.author"),
        ("fields[articles]", "title,body,created"),
        ("fields[people]", "name"),
        ("sort", "-created"),
        ("page[number]", str(r.randrange(1, 6))),
        ("page[size]", "25"),
    ]
    h = api_headers(r, accept="application/vnd.api+json", auth="Bearer " + access_token(r))
    return record("GET", "/jsonapi/node/article", h, form(pairs), shape="jsonapi-query")


def api_sentry(r: R) -> Record:
    """A Sentry browser SDK envelope: newline-separated JSON with a JavaScript stack trace."""
    b = Browser(r)
    event_id = r.hex(32)
    err = r.choice(
        [
            ("TypeError", "Cannot read properties of undefined (reading 'map')"),
            ("ReferenceError", "select is not defined"),
            ("Error", "Request failed with status code 500"),
            (
                "ChunkLoadError",
                "Loading chunk 412 failed.\n(error: https://app.example.com/_next/static/chunks/412.js)",
            ),
            ("SyntaxError", "Unexpected token '<', \"<!DOCTYPE \"... is not valid JSON"),
        ]
    )
    frames = [
        {
            "filename": f"{APP}/static/js/main.{r.hex(8)}.js",
            "function": fn,
            "lineno": 1,
            "colno": r.randrange(1000, 90000),
            "in_app": True,
        }
        for fn in r.pick(
            ["UserList", "onSelect", "dispatch", "renderWithHooks", "fetchOrders", "Array.map", "async handleSubmit"], 3
        )
    ]
    event = {
        "event_id": event_id,
        "timestamp": r.ts() + 0.123,
        "platform": "javascript",
        "level": "error",
        "release": f"web@{r.randrange(1, 5)}.{r.randrange(40)}.0",
        "environment": "production",
        "request": {"url": f"{APP}/orders?status=open", "headers": {"User-Agent": b.ua}},
        "exception": {
            "values": [
                {
                    "type": err[0],
                    "value": err[1],
                    "stacktrace": {"frames": frames},
                    "mechanism": {"type": "onunhandledrejection", "handled": False},
                }
            ]
        },
        "breadcrumbs": [
            {"category": "ui.click", "message": "div.select-wrapper > select#status", "timestamp": r.ts()},
            {
                "category": "fetch",
                "data": {"method": "GET", "url": "/api/v1/orders?status=open&limit=50", "status_code": 500},
            },
        ],
        "sdk": {"name": "sentry.javascript.react", "version": "7.105.0"},
    }
    body = "\n".join(
        [
            compact(
                {
                    "event_id": event_id,
                    "sent_at": iso(r.ts(), ms=True),
                    "sdk": {"name": "sentry.javascript.react", "version": "7.105.0"},
                }
            ),
            compact({"type": "event"}),
            compact(event),
        ]
    )
    key = r.hex(32)
    h = b.headers(
        r, dest="empty", site="cross-site", origin=APP, referer=APP + "/", content_type="text/plain;charset=UTF-8"
    )
    return record(
        "POST",
        f"/api/{r.randrange(1000, 9999999)}/envelope/",
        h,
        f"sentry_key={key}&sentry_version=7&sentry_client=sentry.javascript.react%2F7.105.0",
        body,
        shape="sentry-envelope",
    )


def api_reports(r: R) -> Record:
    b = Browser(r, "chrome")
    if r.random() < 0.5:
        report = {
            "csp-report": {
                "document-uri": f"{SITE}/checkout",
                "referrer": "",
                "violated-directive": "script-src-elem",
                "effective-directive": "script-src-elem",
                "original-policy": "default-src 'self'; script-src 'self' https://js.stripe.com; report-uri /csp-report",
                "disposition": "enforce",
                "blocked-uri": r.choice(
                    ["https://www.googletagmanager.com/gtm.js?id=GTM-ABC123", "inline", "eval", "chrome-extension"]
                ),
                "line-number": r.randrange(1, 300),
                "source-file": f"{SITE}/checkout",
                "status-code": 200,
                "script-sample": "",
            }
        }
        return record(
            "POST",
            "/csp-report",
            b.headers(r, dest="report", site="same-origin", content_type="application/csp-report"),
            body=compact(report),
            shape="csp-report",
        )
    reports = [
        {
            "age": r.randrange(0, 60000),
            "body": {
                "blockedURL": "inline",
                "columnNumber": r.randrange(1, 80),
                "disposition": "report",
                "documentURL": f"{SITE}/account",
                "effectiveDirective": "script-src-elem",
                "lineNumber": r.randrange(1, 80),
                "originalPolicy": "script-src 'self'; report-to default",
                "referrer": "",
                "sample": "",
                "sourceFile": f"{SITE}/account",
                "statusCode": 200,
            },
            "type": "csp-violation",
            "url": f"{SITE}/account",
            "user_agent": b.ua,
        }
    ]
    return record(
        "POST",
        "/reports",
        [("Content-Type", "application/reports+json"), ("User-Agent", b.ua), ("Origin", SITE), ("Accept", "*/*")],
        body=compact(reports),
        shape="reporting-api",
    )


def api_beacon(r: R) -> Record:
    b = Browser(r)
    page = f"{SITE}{r.choice(PAGES)}"
    if r.random() < 0.5:  # Plausible-style first-party analytics
        body = compact(
            {
                "n": r.choice(["pageview", "Signup", "Outbound Link: Click", "File Download"]),
                "u": page + ("?" + form(utm(r)) if r.random() < 0.4 else ""),
                "d": "example.com",
                "r": r.choice([None, "https://www.google.com/", "https://news.ycombinator.com/"]),
                "p": compact({"plan": r.choice(["starter", "team"])}) if r.random() < 0.3 else None,
            }
        )
        return record(
            "POST",
            "/api/event",
            b.headers(r, dest="empty", origin=SITE, referer=page, content_type="text/plain"),
            body=body,
            shape="analytics-beacon",
        )
    pairs = [
        ("v", "2"),
        ("tid", "G-" + r.alnum(10, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")),
        ("gtm", "45je43" + r.alnum(4, "abcdefghijklmnopqrstuvwxyz0123456789")),
        ("_p", r.digits(10)),
        ("cid", f"{r.digits(10)}.{r.ts()}"),
        ("ul", "en-us"),
        ("sr", "1920x1080"),
        ("_s", str(r.randrange(1, 9))),
        ("sid", str(r.ts())),
        ("sct", str(r.randrange(1, 30))),
        ("seg", "1"),
        ("dl", page),
        ("dr", "https://www.google.com/"),
        ("dt", r.choice(TITLES) + " | Example"),
        ("en", r.choice(["page_view", "scroll", "select_item", "view_item_list", "user_engagement"])),
        ("_et", str(r.randrange(10, 60000))),
    ]
    return record(
        "POST",
        "/g/collect",
        b.headers(r, dest="empty", site="same-site", origin=SITE, referer=page),
        urlencode(pairs),
        "",
        shape="ga4-server-side",
    )


def api_ndjson(r: R) -> Record:
    lines = []
    for _ in range(r.randrange(3, 12)):
        lines.append(
            compact(
                {
                    "@timestamp": iso(r.ts(), ms=True),
                    "level": r.choice(["info", "warn", "error"]),
                    "service": r.choice(["api", "worker", "web"]),
                    "message": r.choice(
                        [
                            "GET /api/v1/orders?status=open 200",
                            "job drop_stale_sessions finished",
                            "select on queue timed out",
                            "user 42 exported 1,204 rows as CSV",
                            "disk /var/lib/postgresql at 87%",
                        ]
                    ),
                    "trace_id": r.hex(32),
                }
            )
        )
    h = api_headers(
        r,
        ua=r.choice(["Fluent-Bit/2.2.2", "Vector/0.36.0 (x86_64-unknown-linux-gnu)", "Go-http-client/1.1"]),
        content_type="application/x-ndjson",
        auth="ApiKey " + r.b64(40),
    )
    return record(
        "POST", "/_bulk" if r.random() < 0.5 else "/ingest/logs", h, body="\n".join(lines) + "\n", shape="ndjson-ingest"
    )


def api_health(r: R) -> Record:
    ua = r.choice(
        [
            "kube-probe/1.29",
            "ELB-HealthChecker/2.0",
            "GoogleHC/1.0",
            "Consul Health Check",
            "Blackbox Exporter/0.24.0",
            "Amazon-Route53-Health-Check-Service (ref 4a1d2c3b-1234-5678-9abc-def012345678; report http://amzn.to/1vsZADi)",
        ]
    )
    h: Headers = [("User-Agent", ua), ("Accept", "*/*")]
    if ua.startswith("kube"):
        h = [("User-Agent", ua), ("Accept", "*/*"), ("Connection", "close")]
    return record(
        "GET",
        r.choice(["/healthz", "/readyz", "/api/health", "/-/ready", "/status.json", "/ping"]),
        h,
        shape="health-check",
    )


def api_feature_flags(r: R) -> Record:
    b = Browser(r)
    ctx = {
        "kind": "user",
        "key": r.uuid(),
        "email": person(r)[2],
        "custom": {"plan": r.choice(["free", "team"]), "country": r.choice(CITIES)[3]},
    }
    encoded = base64.urlsafe_b64encode(compact(ctx).encode()).decode()
    return record(
        "GET",
        f"/sdk/evalx/{r.hex(24)}/contexts/{encoded}",
        b.headers(r, dest="empty", site="cross-site", origin=APP, referer=APP + "/"),
        None if r.random() < 0.5 else "withReasons=true",
        shape="feature-flags",
    )


# ---------------------------------------------------------------------------------------------------------------
# Category: graphql
# ---------------------------------------------------------------------------------------------------------------

INTROSPECTION = """
    query IntrospectionQuery {
      __schema {
        queryType { name }
        mutationType { name }
        subscriptionType { name }
        types {
          ...FullType
        }
        directives {
          name
          description
          locations
          args {
            ...InputValue
          }
        }
      }
    }

    fragment FullType on __Type {
      kind
      name
      description
      fields(includeDeprecated: true) {
        name
        description
        args {
          ...InputValue
        }
        type {
          ...TypeRef
        }
        isDeprecated
        deprecationReason
      }
      inputFields {
        ...InputValue
      }
      interfaces {
        ...TypeRef
      }
      enumValues(includeDeprecated: true) {
        name
        description
        isDeprecated
        deprecationReason
      }
      possibleTypes {
        ...TypeRef
      }
    }

    fragment InputValue on __InputValue {
      name
      description
      type { ...TypeRef }
      defaultValue
    }

    fragment TypeRef on __Type {
      kind
      name
      ofType {
        kind
        name
        ofType {
          kind
          name
          ofType {
            kind
            name
            ofType {
              kind
              name
              ofType {
                kind
                name
                ofType {
                  kind
                  name
                  ofType {
                    kind
                    name
                  }
                }
              }
            }
          }
        }
      }
    }
  """

GQL_QUERIES: list[tuple[str, str, Callable[[R], dict[str, Any]]]] = [
    (
        "RepositoryIssues",
        "query RepositoryIssues($owner: String!, $name: String!, $first: Int = 20, $after: String, $labels: [String!]) {\n  repository(owner: $owner, name: $name) {\n    id\n    nameWithOwner\n    issues(first: $first, after: $after, states: OPEN, labels: $labels, orderBy: {field: UPDATED_AT, direction: DESC}) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      nodes {\n        number\n        title\n        url\n        author { login avatarUrl(size: 40) }\n        labels(first: 5) { nodes { name color } }\n        comments { totalCount }\n        updatedAt\n      }\n    }\n  }\n}",
        lambda r: {
            "owner": r.choice(["acme", "contoso", "octo-org"]),
            "name": r.choice(["web", "api", "select-kit", "union-find"]),
            "first": 20,
            "after": r.choice([None, "Y3Vyc29yOnYyOpK5MjAyNC0wMy0xMlQxMDoxMjozMyswMTowMM5fTCyK"]),
            "labels": r.choice([None, ["bug"], ["good first issue", "help wanted"]]),
        },
    ),
    (
        "Products",
        "query Products($first: Int!, $query: String, $country: CountryCode) @inContext(country: $country) {\n  products(first: $first, query: $query, sortKey: BEST_SELLING) {\n    edges {\n      node {\n        id\n        handle\n        title\n        vendor\n        priceRange { minVariantPrice { amount currencyCode } }\n        featuredImage { url(transform: {maxWidth: 600}) altText }\n        variants(first: 3) { nodes { id title availableForSale selectedOptions { name value } } }\n      }\n    }\n  }\n}",
        lambda r: {
            "first": 12,
            "query": r.choice(
                ["tag:sale", "product_type:Shoes AND tag:new", "title:select*", "vendor:'Harbor & Pine'", "drop"]
            ),
            "country": r.choice(["US", "DE", "GB"]),
        },
    ),
    (
        "Viewer",
        "query Viewer {\n  viewer {\n    id\n    login\n    name\n    email\n    organizations(first: 10) { nodes { login name } }\n    ... on User { createdAt }\n  }\n}",
        lambda r: {},
    ),
    (
        "OrderDetails",
        "query OrderDetails($id: ID!, $withItems: Boolean = true) {\n  order(id: $id) {\n    id\n    name\n    createdAt\n    displayFinancialStatus\n    note\n    customer { displayName email }\n    shippingAddress { address1 address2 city zip countryCodeV2 }\n    lineItems(first: 50) @include(if: $withItems) {\n      nodes { title quantity sku originalUnitPriceSet { shopMoney { amount currencyCode } } }\n    }\n  }\n}",
        lambda r: {"id": f"gid://shopify/Order/{r.digits(13)}", "withItems": True},
    ),
    (
        "SearchUsers",
        "query SearchUsers($where: users_bool_exp!, $limit: Int!) {\n  users(where: $where, limit: $limit, order_by: {created_at: desc}) {\n    id\n    name\n    email\n    team { name }\n  }\n}",
        lambda r: {
            "where": {
                "_and": [
                    {"name": {"_ilike": f"%{r.choice(['sel', 'union', 'o', 'drop'])}%"}},
                    {"deleted_at": {"_is_null": True}},
                ]
            },
            "limit": 25,
        },
    ),
    (
        "Feed",
        'query Feed($cursor: String) {\n  feed(first: 10, after: $cursor) @connection(key: "Feed_feed") {\n    edges {\n      cursor\n      node {\n        __typename\n        ...PostCard\n      }\n    }\n    pageInfo { hasNextPage endCursor }\n  }\n}\n\nfragment PostCard on Post {\n  id\n  title\n  excerpt(length: 140)\n  author { id name avatar }\n  tags\n  reactions { emoji count }\n}',
        lambda r: {"cursor": r.choice([None, r.b64(16)])},
    ),
]

GQL_MUTATIONS: list[tuple[str, str, Callable[[R], dict[str, Any]]]] = [
    (
        "AddComment",
        "mutation AddComment($input: AddCommentInput!) {\n  addComment(input: $input) {\n    commentEdge { node { id body createdAt author { login } } }\n  }\n}",
        lambda r: {
            "input": {
                "subjectId": "I_kwDO" + r.b64url(12),
                "body": r.choice(
                    [
                        paragraph(r),
                        f"LGTM, one nit: use `{r.choice(['select_related', 'DROP INDEX CONCURRENTLY', 'union()', '&&'])}` here.",
                        f"Repro:\n\n```bash\n{r.choice(CODE_SNIPPETS['bash'])}\n```",
                    ]
                ),
            }
        },
    ),
    (
        "CartLinesAdd",
        "mutation CartLinesAdd($cartId: ID!, $lines: [CartLineInput!]!) {\n  cartLinesAdd(cartId: $cartId, lines: $lines) {\n    cart { id totalQuantity cost { totalAmount { amount currencyCode } } }\n    userErrors { field message }\n  }\n}",
        lambda r: {
            "cartId": f"gid://shopify/Cart/{r.alnum(26)}",
            "lines": [
                {
                    "merchandiseId": f"gid://shopify/ProductVariant/{r.digits(14)}",
                    "quantity": r.randrange(1, 4),
                    "attributes": [
                        {"key": "Engraving", "value": r.choice(["Always & Forever", "J + M", "Love, Mom", "#1 Dad"])}
                    ],
                }
            ],
        },
    ),
    (
        "UpdateProfile",
        "mutation UpdateProfile($input: UpdateProfileInput!) {\n  updateProfile(input: $input) {\n    user { id name bio location website }\n    errors { path message }\n  }\n}",
        lambda r: {
            "input": {
                "name": " ".join(person(r)[:2]),
                "bio": r.choice(
                    [
                        "Union organiser. Coffee snob.",
                        "I select, therefore I am.",
                        "Full-stack dev (C#, TypeScript, SQL)",
                        "Drop me a line!",
                    ]
                ),
                "location": r.choice(CITIES)[0],
                "website": "https://example.com/",
            }
        },
    ),
    (
        "CreateIssue",
        "mutation CreateIssue($input: IssueCreateInput!) {\n  issueCreate(input: $input) {\n    success\n    issue { id identifier title url }\n  }\n}",
        lambda r: {
            "input": {
                "teamId": r.uuid(),
                "title": r.choice(TITLES),
                "description": task_payload(r)["description"],
                "priority": r.randrange(0, 5),
                "labelIds": [r.uuid()],
            }
        },
    ),
]


def graphql_headers(r: R) -> Headers:
    if r.random() < 0.6:
        b = Browser(r)
        extra: Headers = (
            [
                ("apollographql-client-name", "web"),
                ("apollographql-client-version", f"{r.randrange(1, 4)}.{r.randrange(50)}.0"),
            ]
            if r.random() < 0.5
            else []
        )
        if r.random() < 0.5:
            extra.append(("Authorization", "Bearer " + access_token(r)))
        return b.headers(
            r,
            dest="empty",
            origin=APP,
            referer=APP + "/",
            content_type="application/json",
            cookie=cookie_header(r, "express") if not extra else None,
            accept="application/graphql-response+json, application/json",
            extra=extra,
        )
    return api_headers(
        r,
        ua=r.choice(["okhttp/4.12.0", "Apollo-iOS/1.9.0", "python-requests/2.31.0", "gql/3.5.0", "node-fetch"]),
        auth="Bearer " + access_token(r),
        content_type="application/json",
    )


def gql_query(r: R) -> Record:
    name, text, variables = r.choice(GQL_QUERIES)
    body = compact({"operationName": name, "variables": variables(r), "query": text})
    return record(
        "POST",
        r.choice(["/graphql", "/api/graphql", "/api/2024-01/graphql.json", "/v1/graphql"]),
        graphql_headers(r),
        body=body,
        shape="graphql-query",
    )


def gql_mutation(r: R) -> Record:
    name, text, variables = r.choice(GQL_MUTATIONS)
    body = compact({"operationName": name, "variables": variables(r), "query": text})
    return record("POST", "/graphql", graphql_headers(r), body=body, shape="graphql-mutation")


def gql_introspection(r: R) -> Record:
    """GraphiQL, Apollo Sandbox, Postman and codegen fetch the schema with the standard introspection query."""
    body = compact({"operationName": "IntrospectionQuery", "query": INTROSPECTION, "variables": {}})
    if r.random() < 0.5:
        h = api_headers(
            r,
            ua=r.choice(["PostmanRuntime/7.36.3", "node-fetch", "graphql-codegen", "insomnia/8.6.1"]),
            auth="Bearer " + access_token(r),
            content_type="application/json",
        )
    else:
        b = Browser(r)
        h = b.headers(
            r,
            dest="empty",
            origin=APP,
            referer=APP + "/graphiql",
            content_type="application/json",
            accept="application/json, multipart/mixed",
            cookie=cookie_header(r),
        )
    return record("POST", "/graphql", h, body=body, shape="graphql-introspection")


def gql_persisted_get(r: R) -> Record:
    name, _, variables = r.choice(GQL_QUERIES)
    ext = compact({"persistedQuery": {"version": 1, "sha256Hash": r.hex(64)}})
    query = f"operationName={name}&variables={quote(compact(variables(r)), safe='')}&extensions={quote(ext, safe='')}"
    b = Browser(r)
    h = b.headers(
        r,
        dest="empty",
        referer=APP + "/",
        accept="application/json",
        extra=[("apollographql-client-name", "web"), ("apollo-require-preflight", "true")],
    )
    return record("GET", "/graphql", h, query, shape="graphql-apq-get")


def gql_batch(r: R) -> Record:
    ops = []
    for _ in range(r.randrange(2, 4)):
        name, text, variables = r.choice(GQL_QUERIES)
        ops.append({"operationName": name, "variables": variables(r), "query": text})
    return record("POST", "/graphql", graphql_headers(r), body=compact(ops), shape="graphql-batch")


def gql_upload(r: R) -> Record:
    """The GraphQL multipart request spec (apollo-upload-client): operations, map, then the file."""
    client = r.choice(["chrome", "firefox", "safari"])
    boundary = boundary_for(r, client)
    ops = compact(
        {
            "query": "mutation ($file: Upload!, $caption: String) { uploadAvatar(file: $file, caption: $caption) { id url } }",
            "variables": {"file": None, "caption": r.choice(["me @ union sq", "new headshot", ""])},
        }
    )
    parts: list[Part] = [
        ("operations", ops, None, None),
        ("map", compact({"1": ["variables.file"]}), None, None),
        ("1", png(r, r.randrange(16, 40), r.randrange(16, 40)), "avatar.png", "image/png"),
    ]
    b = Browser(r, client)
    h = b.headers(
        r,
        dest="empty",
        origin=APP,
        referer=APP + "/settings",
        content_type=multipart_type(boundary, client),
        cookie=cookie_header(r, "express"),
        extra=[("apollo-require-preflight", "true")],
    )
    return record("POST", "/graphql", h, body=multipart(parts, boundary), shape="graphql-multipart-upload")


def gql_simple(r: R) -> Record:
    """Hand-written queries with inline arguments (no variables), as people type them in explorers."""
    text = r.choice(
        [
            '{ search(query: "select committee", type: ISSUE, first: 5) { issueCount edges { node { ... on Issue { title url } } } } }',
            '{ user(login: "o-brien") { name repositories(first: 3, orderBy: {field: STARGAZERS, direction: DESC}) { nodes { name stargazerCount } } } }',
            '{ products(first: 5, query: "title:\\"Drop-Leaf\\"") { edges { node { title handle } } } }',
            "query { me { id name unreadNotifications: notifications(filter: {read: false}) { totalCount } } }",
            '{ posts(where: {title_contains: "union"}, orderBy: createdAt_DESC, first: 10) { id title } }',
        ]
    )
    return record("POST", "/graphql", graphql_headers(r), body=compact({"query": text}), shape="graphql-inline")


# ---------------------------------------------------------------------------------------------------------------
# Category: uploads (multipart/form-data from browsers, apps and API clients; presigned and resumable uploads)
# ---------------------------------------------------------------------------------------------------------------

DOC_NAMES = [
    "Résumé – {first} {last} (2024).pdf",
    "Q1 report (final) v2.xlsx",
    "{last} contract.docx",
    "invoice_{n}.pdf",
    "Scan 2024-03-{d}.pdf",
    "Meeting notes – union committee.docx",
    "select-vendors-shortlist.xlsx",
    "passport copy.jpg",
    "IMG_{n}.HEIC",
    "Screenshot 2024-03-{d} at 10.12.33.png",
    "photo.jpg",
    "drawing (1).svg",
    "budget_2024.csv",
    "contacts.vcf",
    "invite.ics",
    "docker-compose.yml",
    "project-export.zip",
]


def fill_name(r: R, pattern: str) -> str:
    first, last, _ = person(r)
    return pattern.format(first=first, last=last, n=r.digits(4), d=f"{r.randrange(1, 29):02d}")


def file_for(r: R, kind: str | None = None) -> tuple[str, str, bytes | str]:
    """(filename, content type, content) of one uploaded file of a common format."""
    kind = kind or r.choice(
        [
            "png",
            "jpeg",
            "pdf",
            "docx",
            "xlsx",
            "csv",
            "vcf",
            "ics",
            "yaml",
            "svg",
            "src",
            "zip",
            "heic",
            "webp",
            "gif",
            "mp4",
            "txt",
        ]
    )
    if kind == "png":
        return (
            fill_name(
                r, r.choice(["Screenshot 2024-03-{d} at 10.12.33.png", "logo.png", "avatar.png", "chart_{n}.png"])
            ),
            "image/png",
            png(r, r.randrange(16, 64), r.randrange(16, 64)),
        )
    if kind == "jpeg":
        return (
            fill_name(
                r, r.choice(["IMG_{n}.jpg", "photo.jpg", "passport copy.jpg", "DSC0{n}.JPG", "{first} headshot.jpeg"])
            ),
            "image/jpeg",
            jpeg(r, r.randrange(1500, 9000)),
        )
    if kind == "heic":
        return fill_name(r, "IMG_{n}.HEIC"), "image/heic", heic(r, r.randrange(1500, 6000))
    if kind == "webp":
        return "banner.webp", "image/webp", webp(r, r.randrange(800, 4000))
    if kind == "gif":
        return "spinner.gif", "image/gif", gif(r)
    if kind == "mp4":
        return (
            fill_name(r, "VID_2024030{d}_{n}.mp4").replace("03031", "0331"),
            "video/mp4",
            mp4(r, r.randrange(2000, 9000)),
        )
    if kind == "pdf":
        lines = [r.choice(TITLES), *r.pick(PROSE, r.randrange(4, 12))]
        return (
            fill_name(
                r,
                r.choice(
                    [
                        "Résumé – {first} {last} (2024).pdf",
                        "invoice_{n}.pdf",
                        "Scan 2024-03-{d}.pdf",
                        "Lease agreement – signed.pdf",
                    ]
                ),
            ),
            "application/pdf",
            pdf(r, lines),
        )
    if kind == "docx":
        return (
            fill_name(
                r, r.choice(["{last} contract.docx", "Meeting notes – union committee.docx", "Cover letter.docx"])
            ),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            docx(r, r.pick(PROSE, r.randrange(3, 10)), r.choice(TITLES)),
        )
    if kind == "xlsx":
        rows: list[list[str | float]] = [
            ["Item", "Qty", "Unit price", "Notes"],
            *[
                [p[0], r.randrange(1, 20), p[2], r.choice(["", "select supplier", "drop if over budget", "=B2*C2"])]
                for p in r.pick(PRODUCTS, 6)
            ],
        ]
        return (
            r.choice(["Q1 report (final) v2.xlsx", "select-vendors-shortlist.xlsx", "budget.xlsx"]),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            xlsx(r, rows),
        )
    if kind == "csv":
        return (
            r.choice(["contacts.csv", "transactions_2024-03.csv", "inventory export.csv", "timesheet.csv"]),
            r.choice(["text/csv", "application/vnd.ms-excel"]),
            csv_text(r),
        )
    if kind == "vcf":
        return (
            fill_name(r, "{first} {last}.vcf"),
            r.choice(["text/vcard", "text/x-vcard"]),
            "".join(vcard(r) for _ in range(r.randrange(1, 4))),
        )
    if kind == "ics":
        return r.choice(["invite.ics", "calendar.ics", "team-events.ics"]), "text/calendar", ical(r, r.randrange(1, 4))
    if kind == "yaml":
        return (
            r.choice(["docker-compose.yml", "ci.yml", "deployment.yaml", "config.yaml", "openapi.yaml"]),
            r.choice(["application/x-yaml", "application/yaml", "text/yaml", "application/octet-stream"]),
            yaml_text(r),
        )
    if kind == "svg":
        return r.choice(["logo.svg", "icon-menu.svg", "drawing (1).svg"]), "image/svg+xml", svg(r)
    if kind == "src":
        name, ctype, text = source_file(r)
        return name, ctype, text
    if kind == "zip":
        sources = {name: text for name, _, text in (source_file(r) for _ in range(r.randrange(1, 4)))}
        files: list[tuple[str, str | bytes]] = [*sources.items(), ("images/logo.png", png(r, 16, 16))]
        return (
            r.choice(["project-export.zip", "theme-child.zip", "photos.zip", "Archive.zip"]),
            r.choice(["application/zip", "application/x-zip-compressed"]),
            zip_bytes(files, stored=["images/logo.png"]),
        )
    return "notes.txt", "text/plain", "\r\n".join(r.pick(PROSE, 5)) + "\r\n"


def upload_browser(
    r: R,
    path: str,
    fields: list[tuple[str, str]],
    file_field: str,
    kinds: Sequence[str] | None,
    referer: str,
    stack: str | None,
    shape: str,
    files: int = 1,
) -> Record:
    b = Browser(r)
    client = b.family
    boundary = boundary_for(r, client)
    parts: list[Part] = [(n, v, None, None) for n, v in fields]
    for _ in range(files):
        name, ctype, content = file_for(r, r.choice(kinds) if kinds else None)
        parts.append((file_field, content, name, ctype))
    if r.random() < 0.2:  # an empty optional file input is sent too
        parts.append(("attachment2", b"", "", "application/octet-stream"))
    body = multipart(parts, boundary)
    h = b.headers(
        r,
        dest="empty" if r.random() < 0.6 else "document",
        origin=referer.split("/", 3)[0] + "//" + referer.split("/", 3)[2],
        referer=referer,
        cookie=cookie_header(r, stack),
        content_type=multipart_type(boundary, client),
    )
    return record("POST", path, h, body=body, shape=shape)


def up_avatar(r: R) -> Record:
    return upload_browser(
        r,
        "/settings/avatar",
        [("authenticity_token", r.b64(64)), ("alt", r.choice(["", "Me at Union Square", "profile photo"]))],
        "user[avatar]",
        ["png", "jpeg", "webp", "heic", "gif"],
        f"{APP}/settings/profile",
        "rails",
        "avatar-upload",
    )


def up_document(r: R) -> Record:
    return upload_browser(
        r,
        r.choice(["/account/documents", "/api/v1/attachments", "/claims/upload"]),
        [
            ("csrfmiddlewaretoken", r.alnum(64)),
            ("description", r.choice(PROSE)),
            ("category", r.choice(["invoice", "contract", "id", "other"])),
        ],
        "file",
        ["pdf", "docx", "xlsx", "jpeg"],
        f"{APP}/account/documents",
        "django",
        "document-upload",
    )


def up_import(r: R) -> Record:
    kind = r.choice(["csv", "vcf", "ics", "xlsx"])
    fields = [
        ("_token", r.alnum(40)),
        ("has_header", "1"),
        ("delimiter", r.choice([",", ";", "auto"])),
        ("mapping[email]", "Email"),
        ("duplicate_action", r.choice(["skip", "update", "select_each"])),
    ]
    return upload_browser(
        r,
        r.choice(["/admin/import", "/contacts/import", "/calendar/import"]),
        fields,
        "import_file",
        [kind],
        f"{APP}/admin/import",
        "laravel",
        "import-upload",
    )


def up_ticket_attachment(r: R) -> Record:
    """Jira/Confluence-style attachment upload: X-Atlassian-Token and a text or code file."""
    b = Browser(r)
    boundary = boundary_for(r, b.family)
    name, ctype, content = file_for(r, r.choice(["src", "yaml", "txt", "png", "csv", "zip"]))
    parts: list[Part] = [
        ("file", content, name, ctype),
        (
            "comment",
            r.choice(
                [
                    "",
                    "log from last night's run",
                    "config we use in prod (secrets removed)",
                    "Screenshot of the select box bug",
                ]
            ),
            None,
            None,
        ),
        ("minorEdit", "true", None, None),
    ]
    h = b.headers(
        r,
        dest="empty",
        origin=APP,
        referer=f"{APP}/browse/OPS-{r.randrange(100, 9999)}",
        cookie=cookie_header(
            r,
            "java",
            extra=[f"atlassian.xsrf.token={r.alnum(4)}-{r.alnum(4)}-{r.alnum(4)}-{r.alnum(4)}|{r.hex(40)}|lin"],
        ),
        content_type=multipart_type(boundary, b.family),
        extra=[("X-Atlassian-Token", "no-check")],
    )
    return record(
        "POST",
        f"/rest/api/3/issue/OPS-{r.randrange(100, 9999)}/attachments",
        h,
        body=multipart(parts, boundary),
        shape="jira-attachment",
    )


def up_wordpress_media(r: R) -> Record:
    b = Browser(r)
    boundary = boundary_for(r, b.family)
    name, ctype, content = file_for(r, r.choice(["jpeg", "png", "svg", "pdf", "webp", "mp4"]))
    parts: list[Part] = [
        ("name", name, None, None),
        ("action", "upload-attachment", None, None),
        ("_wpnonce", r.hex(10), None, None),
        ("post_id", str(r.randrange(0, 900)), None, None),
        ("async-upload", content, name, ctype),
    ]
    cookie = cookie_header(
        r,
        "none",
        extra=[
            f"wordpress_logged_in_{r.hex(32)}=admin%7C{r.ts()}%7C{r.alnum(43)}%7C{r.hex(64)}",
            "wp-settings-1=libraryContent%3Dbrowse%26editor%3Dtinymce%26mfold%3Do",
            f"wp-settings-time-1={r.ts()}",
        ],
    )
    h = b.headers(
        r,
        dest="empty",
        origin=SITE,
        referer=f"{SITE}/wp-admin/upload.php",
        cookie=cookie,
        content_type=multipart_type(boundary, b.family),
    )
    return record("POST", "/wp-admin/async-upload.php", h, body=multipart(parts, boundary), shape="wordpress-media")


def up_s3_post(r: R) -> Record:
    """A browser form POST straight to an S3 bucket with a signed policy (AWS Signature Version 4)."""
    b = Browser(r)
    boundary = boundary_for(r, b.family)
    name, ctype, content = file_for(r, r.choice(["jpeg", "png", "pdf", "mp4", "zip"]))
    date = datetime.fromtimestamp(r.ts(), UTC)
    cred = f"AKIA{r.alnum(16, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567')}/{date:%Y%m%d}/us-east-1/s3/aws4_request"
    key = f"uploads/{r.uuid()}/{name}"
    policy = base64.b64encode(
        compact(
            {
                "expiration": iso(r.ts() + 3600),
                "conditions": [
                    {"bucket": "example-user-uploads"},
                    ["starts-with", "$key", "uploads/"],
                    {"acl": "private"},
                    {"success_action_status": "201"},
                    ["starts-with", "$Content-Type", ""],
                    ["content-length-range", 0, 10485760],
                    {"x-amz-credential": cred},
                    {"x-amz-algorithm": "AWS4-HMAC-SHA256"},
                    {"x-amz-date": f"{date:%Y%m%dT%H%M%SZ}"},
                ],
            }
        ).encode()
    ).decode()
    parts: list[Part] = [
        ("key", key, None, None),
        ("acl", "private", None, None),
        ("success_action_status", "201", None, None),
        ("Content-Type", ctype, None, None),
        ("X-Amz-Credential", cred, None, None),
        ("X-Amz-Algorithm", "AWS4-HMAC-SHA256", None, None),
        ("X-Amz-Date", f"{date:%Y%m%dT%H%M%SZ}", None, None),
        ("Policy", policy, None, None),
        ("X-Amz-Signature", r.hex(64), None, None),
        ("file", content, name, ctype),
    ]
    h = b.headers(
        r,
        dest="empty",
        site="cross-site",
        origin=APP,
        referer=APP + "/upload",
        content_type=multipart_type(boundary, b.family),
    )
    return record("POST", "/", h, body=multipart(parts, boundary), shape="s3-post-policy")


def up_presigned_put(r: R) -> Record:
    name, ctype, content = file_for(r, r.choice(["jpeg", "png", "pdf", "mp4", "csv", "zip", "docx"]))
    date = datetime.fromtimestamp(r.ts(), UTC)
    cred = quote(
        f"AKIA{r.alnum(16, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567')}/{date:%Y%m%d}/eu-west-1/s3/aws4_request", safe=""
    )
    query = f"X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Content-Sha256=UNSIGNED-PAYLOAD&X-Amz-Credential={cred}&X-Amz-Date={date:%Y%m%dT%H%M%SZ}&X-Amz-Expires=3600&X-Amz-Signature={r.hex(64)}&X-Amz-SignedHeaders=host&x-id=PutObject"
    if r.random() < 0.5:
        b = Browser(r)
        h = b.headers(r, dest="empty", site="cross-site", origin=APP, referer=APP + "/", content_type=ctype)
    else:
        h = api_headers(
            r,
            ua=r.choice(["okhttp/4.12.0", "aws-sdk-js/3.529.1", "Go-http-client/1.1"]),
            accept="*/*",
            content_type=ctype,
        )
    return record("PUT", f"/uploads/{r.uuid()}/{quote(name)}", h, query, content, shape="s3-presigned-put")


def up_mobile(r: R) -> Record:
    boundary = boundary_for(r, "okhttp")
    name, ctype, content = file_for(r, r.choice(["jpeg", "heic", "mp4", "png"]))
    meta = compact(
        {
            "caption": r.choice(
                ["Sunset at the pier 🌅", "new shoes!!", "union sq market", "", "drop-in at the studio"]
            ),
            "taken_at": iso(r.ts()),
            "location": {"lat": round(r.uniform(-40, 60), 6), "lng": round(r.uniform(-120, 150), 6)},
            "album_id": r.uuid(),
        }
    )
    parts: list[Part] = [("metadata", meta, None, "application/json; charset=utf-8"), ("file", content, name, ctype)]
    h = api_headers(
        r,
        ua="okhttp/4.12.0",
        auth="Bearer " + access_token(r),
        content_type=multipart_type(boundary, "okhttp"),
        extra=[("X-App-Version", f"5.{r.randrange(20)}.{r.randrange(10)}"), ("X-Platform", "android")],
    )
    return record("POST", "/api/v2/media", h, body=multipart(parts, boundary, "okhttp"), shape="mobile-upload")


def up_cli(r: R) -> Record:
    client = r.choice(["curl", "requests", "go", "node", "dotnet"])
    ua = {
        "curl": "curl/8.5.0",
        "requests": "python-requests/2.31.0",
        "go": "Go-http-client/1.1",
        "node": "axios/1.6.7",
        "dotnet": "",
    }[client]
    boundary = boundary_for(r, client)
    name, ctype, content = file_for(r)
    parts: list[Part] = [
        ("file", content, name, ctype if client != "curl" or r.random() < 0.5 else "application/octet-stream")
    ]
    if r.random() < 0.6:
        parts.insert(
            0, ("folder", r.choice(["/reports/2024", "Shared/Union committee", "inbox", "c# notes"]), None, None)
        )
    if r.random() < 0.3:
        parts.append(("overwrite", "true", None, None))
    body = multipart(parts, boundary, client)
    h = api_headers(
        r,
        ua=ua or None,
        auth=r.choice(
            [
                "Bearer " + access_token(r),
                "Token " + r.hex(40),
                "Basic " + base64.b64encode(f"{person(r)[2]}:{password(r)}".encode()).decode(),
            ]
        ),
        content_type=multipart_type(boundary, client),
    )
    if client == "dotnet":
        h = [
            ("Authorization", "Bearer " + access_token(r)),
            ("Content-Type", multipart_type(boundary, client)),
            ("traceparent", f"00-{r.hex(32)}-{r.hex(16)}-01"),
        ]
    return record(
        "POST",
        r.choice(["/api/files", "/api/v1/upload", "/files/upload", "/api/2/files"]),
        h,
        body=body,
        shape=f"cli-upload-{client}",
    )


def up_job_application(r: R) -> Record:
    b = Browser(r)
    first, last, email = person(r)
    boundary = boundary_for(r, b.family)
    name, ctype, content = file_for(r, r.choice(["pdf", "docx"]))
    letter = "\r\n\r\n".join(
        [
            "Dear Hiring Manager,",
            paragraph(r, 2),
            "I led the migration of our reporting from raw SQL (SELECT ... JOIN ... GROUP BY) to dbt models and cut report times by 80%.",
            "Kind regards,\r\n" + first,
        ]
    )
    parts: list[Part] = [
        ("job_application[first_name]", first, None, None),
        ("job_application[last_name]", last, None, None),
        ("job_application[email]", email, None, None),
        ("job_application[phone]", phone(r), None, None),
        ("job_application[resume]", content, name, ctype),
        ("job_application[cover_letter_text]", letter, None, None),
        (
            "job_application[answers_attributes][0][text_value]",
            r.choice(["https://linkedin.com/in/" + first.lower(), "https://github.com/" + first.lower()]),
            None,
            None,
        ),
        ("job_application[answers_attributes][1][boolean_value]", "1", None, None),
    ]
    h = b.headers(
        r,
        origin="https://boards.example.com",
        referer=f"https://boards.example.com/acme/jobs/{r.digits(7)}",
        content_type=multipart_type(boundary, b.family),
        cookie=cookie_header(r, "rails"),
    )
    return record("POST", f"/acme/jobs/{r.digits(7)}", h, body=multipart(parts, boundary), shape="job-application")


def up_multi(r: R) -> Record:
    return upload_browser(
        r,
        "/api/v1/albums/" + r.uuid() + "/photos",
        [("visibility", r.choice(["private", "friends", "public"]))],
        "files[]",
        ["jpeg", "png", "heic", "webp"],
        f"{APP}/albums",
        "express",
        "multi-file-upload",
        files=r.randrange(2, 4),
    )


def up_tus(r: R) -> Record:
    """tus resumable upload (Uppy, Vimeo, Supabase): PATCH with an offset and raw bytes."""
    _name, _, content = file_for(r, r.choice(["mp4", "jpeg", "zip", "pdf"]))
    data = content if isinstance(content, bytes) else content.encode()
    offset = r.choice([0, 0, 5242880, 10485760])
    b = Browser(r)
    extra: Headers = [("Tus-Resumable", "1.0.0"), ("Upload-Offset", str(offset))]
    h = b.headers(
        r,
        dest="empty",
        origin=APP,
        referer=APP + "/upload",
        content_type="application/offset+octet-stream",
        extra=extra,
    )
    return record("PATCH", f"/files/{r.hex(32)}", h, body=data, shape="tus-patch")


def up_slack(r: R) -> Record:
    boundary = boundary_for(r, "requests")
    name, _ctype, content = file_for(r, r.choice(["src", "png", "csv", "pdf", "txt"]))
    parts: list[Part] = [
        ("channels", "C0" + r.alnum(9, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"), None, None),
        (
            "initial_comment",
            r.choice(
                [
                    "Here's the log from the failed deploy :scream:",
                    "Q1 numbers, select the second tab",
                    "FYI `docker compose up -d && make migrate` fixed it",
                    "Union meeting minutes attached",
                ]
            ),
            None,
            None,
        ),
        ("filename", name, None, None),
        ("file", content, name, None),
    ]
    h = api_headers(
        r,
        ua="python-requests/2.31.0",
        auth="Bearer xoxb-" + r.digits(12) + "-" + r.digits(13) + "-" + r.alnum(24),
        content_type=multipart_type(boundary, "requests"),
    )
    return record(
        "POST", "/api/files.upload", h, body=multipart(parts, boundary, "requests"), shape="slack-file-upload"
    )


# ---------------------------------------------------------------------------------------------------------------
# Category: webhooks (deliveries of Stripe, GitHub, Shopify, Slack, Twilio, SendGrid, Mailgun, Alertmanager ...)
# ---------------------------------------------------------------------------------------------------------------


def hook_headers(r: R, ua: str, ctype: str, extra: Headers, accept: str = "*/*") -> Headers:
    h: Headers = [("User-Agent", ua), ("Content-Type", ctype), ("Accept", accept)]
    h += extra
    if r.random() < 0.3:
        h.append(("Accept-Encoding", "gzip"))
    return h


def hook_stripe(r: R) -> Record:
    first, last, email = person(r)
    amount = r.randrange(500, 50000)
    kind = r.choice(
        [
            "payment_intent.succeeded",
            "charge.refunded",
            "customer.subscription.updated",
            "invoice.payment_failed",
            "checkout.session.completed",
        ]
    )
    if kind.startswith("payment_intent"):
        obj: dict[str, Any] = {
            "id": "pi_3" + r.alnum(23),
            "object": "payment_intent",
            "amount": amount,
            "amount_received": amount,
            "currency": r.choice(["usd", "eur", "gbp"]),
            "customer": "cus_" + r.alnum(14),
            "description": f"Order #{r.randrange(1000, 99999)} – {r.randrange(1, 5)} items",
            "metadata": {
                "order_id": str(r.randrange(1000, 99999)),
                "cart_note": r.choice(["", "Gift wrap please", "Leave at the door & ring"]),
            },
            "payment_method": "pm_1" + r.alnum(23),
            "payment_method_types": ["card"],
            "receipt_email": email,
            "status": "succeeded",
            "shipping": {
                "name": f"{first} {last}",
                "address": {
                    "line1": address(r)["line1"],
                    "city": r.choice(CITIES)[0],
                    "country": "US",
                    "postal_code": r.digits(5),
                },
            },
        }
    elif kind.startswith("charge"):
        obj = {
            "id": "ch_3" + r.alnum(23),
            "object": "charge",
            "amount": amount,
            "amount_refunded": amount,
            "billing_details": {"email": email, "name": f"{first} {last}"},
            "refunded": True,
            "refunds": {
                "object": "list",
                "data": [{"id": "re_3" + r.alnum(23), "amount": amount, "reason": "requested_by_customer"}],
                "has_more": False,
                "url": "/v1/charges/ch_3/refunds",
            },
            "receipt_url": f"https://pay.stripe.com/receipts/payment/{r.b64url(60)}",
        }
    elif kind.startswith("customer"):
        obj = {
            "id": "sub_1" + r.alnum(23),
            "object": "subscription",
            "cancel_at_period_end": r.random() < 0.3,
            "current_period_end": r.ts(),
            "items": {
                "object": "list",
                "data": [
                    {
                        "id": "si_" + r.alnum(14),
                        "price": {
                            "id": "price_1" + r.alnum(23),
                            "nickname": r.choice(["Team (monthly)", "Select annual", "Union member rate"]),
                            "unit_amount": amount,
                            "recurring": {"interval": "month"},
                        },
                        "quantity": r.randrange(1, 20),
                    }
                ],
            },
            "status": "active",
        }
    elif kind.startswith("invoice"):
        obj = {
            "id": "in_1" + r.alnum(23),
            "object": "invoice",
            "amount_due": amount,
            "attempt_count": r.randrange(1, 4),
            "customer_email": email,
            "customer_name": f"{first} {last}",
            "hosted_invoice_url": f"https://invoice.stripe.com/i/acct_1{r.alnum(15)}/live_{r.b64url(60)}?s=ap",
            "last_finalization_error": None,
            "next_payment_attempt": r.ts(),
            "status": "open",
        }
    else:
        obj = {
            "id": "cs_live_" + r.alnum(58),
            "object": "checkout.session",
            "amount_total": amount,
            "cancel_url": f"{SHOP}/cart?",
            "success_url": f"{SHOP}/thank-you?session_id={{CHECKOUT_SESSION_ID}}",
            "customer_details": {
                "email": email,
                "name": f"{first} {last}",
                "address": {"country": "DE", "postal_code": "10115"},
            },
            "mode": "payment",
            "payment_status": "paid",
            "custom_fields": [
                {
                    "key": "engraving",
                    "label": {"custom": "Engraving text", "type": "custom"},
                    "text": {"value": r.choice(["Always & Forever", "J+M 2024", "To the moon"])},
                }
            ],
        }
    event = {
        "id": "evt_" + r.alnum(24),
        "object": "event",
        "api_version": "2023-10-16",
        "created": r.ts(),
        "data": {"object": obj},
        "livemode": True,
        "pending_webhooks": 1,
        "request": {"id": "req_" + r.alnum(14), "idempotency_key": r.uuid()},
        "type": kind,
    }
    t = r.ts()
    h = hook_headers(
        r,
        "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        "application/json; charset=utf-8",
        [("Cache-Control", "no-cache"), ("Stripe-Signature", f"t={t},v1={r.hex(64)},v0={r.hex(64)}")],
        "*/*; q=0.5, application/xml",
    )
    return record(
        "POST",
        r.choice(["/webhooks/stripe", "/api/stripe/webhook", "/stripe/events"]),
        h,
        body=pretty(event),
        shape="stripe-webhook",
    )


COMMIT_MESSAGES = [
    "Fix select dropdown z-index on Safari",
    "Drop support for Python 3.7",
    "Merge pull request #{n} from {user}/feature/union-pricing",
    "Update dependencies (npm audit fix)",
    "Add `ORDER BY created_at` to the export query",
    'Revert "Use && in the deploy script"',
    "docs: explain the --select flag",
    "chore(deps): bump express from 4.18.2 to 4.19.2",
    "WIP: rewrite where-clause builder",
    "Handle ' and \" in customer names",
    "Remove exec bit from scripts/*.py",
    "fix: alert() left in checkout.js",
    "Delete unused images",
    'Bump version to 4.2.0 "Union"',
    "feat(search): support `c#` and `f#` queries",
]


def gh_user(r: R) -> dict[str, Any]:
    login = r.choice(
        ["octocat", "mona", "hubot", "o-brien", "priya-s", "jdoe", "lars-dev", "select-bot", "dependabot[bot]"]
    )
    uid = r.randrange(1000, 99999999)
    return {
        "login": login,
        "id": uid,
        "node_id": "MDQ6VXNlcj" + r.b64(6),
        "avatar_url": f"https://avatars.githubusercontent.com/u/{uid}?v=4",
        "url": f"https://api.github.com/users/{login}",
        "html_url": f"https://github.com/{login}",
        "type": "Bot" if "[bot]" in login else "User",
        "site_admin": False,
    }


def hook_github(r: R) -> Record:
    event = r.choice(["push", "pull_request", "issues", "issue_comment", "workflow_run", "release", "ping"])
    owner, name = r.choice(["acme", "contoso", "octo-org"]), r.choice(["web", "api", "select-kit", "infra"])
    repo = {
        "id": r.randrange(10**8, 10**9),
        "node_id": "R_kgDO" + r.b64url(6),
        "name": name,
        "full_name": f"{owner}/{name}",
        "private": True,
        "html_url": f"https://github.com/{owner}/{name}",
        "description": r.choice(
            ["Our website", "Select components for React", "Infrastructure as code (Terraform && Ansible)", None]
        ),
        "default_branch": "main",
    }
    sender = gh_user(r)
    payload: dict[str, Any]
    if event == "push":
        commits = []
        for _ in range(r.randrange(1, 4)):
            sha = r.hex(40)
            msg = r.choice(COMMIT_MESSAGES).format(n=r.randrange(1, 2000), user=sender["login"])
            if r.random() < 0.3:
                msg += "\n\n" + paragraph(r) + "\n\nCo-authored-by: " + " ".join(person(r)[:2]) + f" <{person(r)[2]}>"
            commits.append(
                {
                    "id": sha,
                    "tree_id": r.hex(40),
                    "distinct": True,
                    "message": msg,
                    "timestamp": iso(r.ts(), offset="+01:00"),
                    "url": f"https://github.com/{owner}/{name}/commit/{sha}",
                    "author": {"name": " ".join(person(r)[:2]), "email": person(r)[2], "username": sender["login"]},
                    "added": [],
                    "removed": r.pick(["legacy/union.js", "docs/old.md"], r.randrange(0, 2)),
                    "modified": r.pick(
                        [
                            "src/select.tsx",
                            "README.md",
                            "scripts/deploy.sh",
                            "db/migrations/0042_drop_legacy.sql",
                            "src/c#/Program.cs",
                        ],
                        2,
                    ),
                }
            )
        payload = {
            "ref": "refs/heads/" + r.choice(["main", "feature/union-pricing", "fix/select-zindex"]),
            "before": r.hex(40),
            "after": commits[-1]["id"],
            "repository": repo,
            "pusher": {"name": sender["login"], "email": person(r)[2]},
            "sender": sender,
            "created": False,
            "deleted": False,
            "forced": False,
            "compare": f"https://github.com/{owner}/{name}/compare/{r.hex(12)}...{r.hex(12)}",
            "commits": commits,
            "head_commit": commits[-1],
        }
    elif event in ("pull_request", "issues"):
        num = r.randrange(1, 3000)
        item = {
            "url": f"https://api.github.com/repos/{owner}/{name}/issues/{num}",
            "number": num,
            "state": "open",
            "title": r.choice(COMMIT_MESSAGES).format(n=num, user=sender["login"]),
            "user": sender,
            "body": task_payload(r)["description"],
            "labels": [{"name": lbl, "color": r.hex(6)} for lbl in r.pick(["bug", "select", "needs review", "c#"], 2)],
            "created_at": iso(r.ts()),
            "html_url": f"https://github.com/{owner}/{name}/pull/{num}",
        }
        if event == "pull_request":
            item.update(
                {
                    "head": {"ref": "feature/drop-legacy-api", "sha": r.hex(40)},
                    "base": {"ref": "main", "sha": r.hex(40)},
                    "draft": False,
                    "merged": False,
                    "mergeable_state": "unknown",
                }
            )
        payload = {
            "action": r.choice(["opened", "edited", "synchronize", "labeled", "closed"]),
            "number": num,
            event.rstrip("s") if event == "issues" else "pull_request": item,
            "repository": repo,
            "sender": sender,
        }
    elif event == "issue_comment":
        body = r.choice(
            [
                "Thanks! Could you also run `npm ci && npm test` locally before pushing?",
                'I can reproduce on 4.1.2:\n\n```\n$ curl -s \'https://api.example.com/v1/orders?select=id,total\' | jq .\n{"error": "unknown field"}\n```',
                "LGTM :shipit:",
                "> Should we drop the union type here?\n\nYes, `string | null` is enough.",
                f"/label ~bug ~p2\ncc @{sender['login']}",
                paragraph(r, 2),
            ]
        )
        payload = {
            "action": "created",
            "issue": {"number": r.randrange(1, 3000), "title": r.choice(TITLES), "user": gh_user(r)},
            "comment": {
                "id": r.randrange(10**9, 10**10),
                "body": body,
                "user": sender,
                "created_at": iso(r.ts()),
                "author_association": "MEMBER",
            },
            "repository": repo,
            "sender": sender,
        }
    elif event == "workflow_run":
        payload = {
            "action": "completed",
            "workflow_run": {
                "id": r.randrange(10**9, 10**10),
                "name": "CI",
                "head_branch": "main",
                "head_sha": r.hex(40),
                "path": ".github/workflows/ci.yml",
                "display_title": r.choice(COMMIT_MESSAGES).format(n=1, user="x"),
                "run_number": r.randrange(1, 5000),
                "event": "push",
                "status": "completed",
                "conclusion": r.choice(["success", "failure", "cancelled"]),
                "html_url": f"https://github.com/{owner}/{name}/actions/runs/{r.digits(10)}",
            },
            "repository": repo,
            "sender": sender,
        }
    elif event == "release":
        payload = {
            "action": "published",
            "release": {
                "tag_name": f"v4.{r.randrange(10)}.0",
                "name": f'4.{r.randrange(10)}.0 "Union"',
                "body": "## What's changed\n* Drop Node 16 by @mona in #1201\n* Fix `select` focus ring by @o-brien in #1207\n* Add C# SDK examples\n\n**Full Changelog**: https://github.com/acme/web/compare/v4.1.0...v4.2.0",
                "draft": False,
                "prerelease": False,
            },
            "repository": repo,
            "sender": sender,
        }
    else:
        payload = {
            "zen": r.choice(
                [
                    "Design for failure.",
                    "Keep it logically awesome.",
                    "Anything added dilutes everything else.",
                    "Half measures are as bad as nothing at all.",
                ]
            ),
            "hook_id": r.randrange(10**8, 10**9),
            "hook": {
                "type": "Repository",
                "events": ["push", "pull_request"],
                "config": {"content_type": "json", "insecure_ssl": "0", "url": "https://hooks.example.com/github"},
            },
            "repository": repo,
            "sender": sender,
        }
    extra: Headers = [
        ("X-GitHub-Delivery", r.uuid()),
        ("X-GitHub-Event", event),
        ("X-GitHub-Hook-ID", str(r.randrange(10**8, 10**9))),
        ("X-GitHub-Hook-Installation-Target-ID", str(r.randrange(10**8, 10**9))),
        ("X-GitHub-Hook-Installation-Target-Type", "repository"),
        ("X-Hub-Signature", "sha1=" + r.hex(40)),
        ("X-Hub-Signature-256", "sha256=" + r.hex(64)),
    ]
    if r.random() < 0.2:  # GitHub can send form-encoded payloads too
        return record(
            "POST",
            "/hooks/github",
            hook_headers(r, f"GitHub-Hookshot/{r.hex(7)}", "application/x-www-form-urlencoded", extra),
            body=form([("payload", compact(payload))]),
            shape="github-webhook-form",
        )
    return record(
        "POST",
        r.choice(["/hooks/github", "/api/webhooks/github", "/github/events"]),
        hook_headers(r, f"GitHub-Hookshot/{r.hex(7)}", "application/json", extra),
        body=compact(payload),
        shape="github-webhook",
    )


def hook_shopify(r: R) -> Record:
    topic = r.choice(["orders/create", "orders/paid", "products/update", "customers/create", "app/uninstalled"])
    shop = r.choice(["harbor-and-pine", "select-coffee-co", "union-street-bakery", "drop-zone-gear"]) + ".myshopify.com"
    first, last, email = person(r)
    adr = address(r)
    if topic.startswith("orders"):
        items = [
            {
                "id": r.randrange(10**13, 10**14),
                "title": p[0],
                "quantity": r.randrange(1, 4),
                "price": f"{p[2]:.2f}",
                "sku": p[1][:12].upper(),
                "variant_title": f"{r.choice(COLORS)} / {r.choice(SIZES)}",
                "properties": [{"name": "Engraving", "value": r.choice(["Always & Forever", "J + M", "#1 Mom"])}]
                if r.random() < 0.3
                else [],
            }
            for p in r.pick(PRODUCTS, r.randrange(1, 4))
        ]
        payload: dict[str, Any] = {
            "id": r.randrange(10**12, 10**13),
            "admin_graphql_api_id": f"gid://shopify/Order/{r.digits(13)}",
            "name": f"#{r.randrange(1001, 99999)}",
            "order_number": r.randrange(1001, 99999),
            "email": email,
            "created_at": iso(r.ts(), offset="-05:00"),
            "currency": "USD",
            "financial_status": "paid",
            "total_price": f"{r.uniform(10, 900):.2f}",
            "note": r.choice(
                [
                    None,
                    "Please leave at the back door & ring twice",
                    "It's a gift – no prices on the packing slip!",
                    "Select the ripest ones please :)",
                ]
            ),
            "note_attributes": [
                {
                    "name": "gift_message",
                    "value": r.choice(
                        [
                            "Happy birthday!! <3",
                            f"Congrats on the new job, {first}!",
                            "From all of us @ Union St.",
                        ]
                    ),
                }
            ],
            "landing_site": r.choice(
                [
                    "/?",
                    "/products/drop-shoulder-hoodie?variant=4123",
                    "/?utm_source=newsletter&utm_campaign=spring_sale_2024",
                    "/collections/all?",
                ]
            ),
            "referring_site": r.choice(["https://www.google.com/", "", "https://l.instagram.com/"]),
            "order_status_url": f"https://{shop}/{r.digits(8)}/orders/{r.hex(32)}/authenticate?key={r.hex(32)}",
            "line_items": items,
            "customer": {
                "id": r.randrange(10**12, 10**13),
                "email": email,
                "first_name": first,
                "last_name": last,
                "tags": "union-member, vip",
            },
            "shipping_address": {
                "first_name": first,
                "last_name": last,
                "address1": adr["line1"],
                "address2": adr["line2"],
                "city": adr["city"],
                "zip": adr["postcode"],
                "country_code": adr["country"],
                "phone": phone(r),
            },
            "browser_ip": f"203.0.113.{r.randrange(1, 254)}",
            "client_details": {"user_agent": Browser(r).ua, "accept_language": "en-US,en;q=0.9"},
        }
    elif topic.startswith("products"):
        p = r.choice(PRODUCTS)
        payload = {
            "id": r.randrange(10**12, 10**13),
            "title": p[0],
            "handle": p[1],
            "body_html": f"<p>{esc_xml(r.choice(PROSE))}</p>\n<ul>\n<li>100% organic cotton</li>\n<li>Select sizes ship in 1–2 days</li>\n</ul>",
            "vendor": r.choice(COMPANIES),
            "product_type": "Apparel",
            "tags": "drop-2024, union, sale",
            "status": "active",
            "variants": [
                {
                    "id": r.randrange(10**13, 10**14),
                    "title": f"{c} / {s}",
                    "price": f"{p[2]:.2f}",
                    "option1": c,
                    "option2": s,
                    "inventory_quantity": r.randrange(0, 100),
                }
                for c, s in zip(r.pick(COLORS, 2), r.pick(SIZES, 2), strict=True)
            ],
        }
    elif topic.startswith("customers"):
        payload = {
            "id": r.randrange(10**12, 10**13),
            "email": email,
            "first_name": first,
            "last_name": last,
            "accepts_marketing": r.random() < 0.5,
            "note": r.choice([None, "Met at the Union Sq pop-up"]),
            "addresses": [
                {"address1": adr["line1"], "city": adr["city"], "zip": adr["postcode"], "country_code": adr["country"]}
            ],
            "tags": "",
            "phone": None,
        }
    else:
        payload = {
            "id": r.randrange(10**10, 10**11),
            "name": shop.split(".")[0].replace("-", " ").title(),
            "email": email,
            "domain": shop,
            "myshopify_domain": shop,
            "plan_name": "basic",
        }
    extra: Headers = [
        ("X-Shopify-Topic", topic),
        ("X-Shopify-Hmac-Sha256", r.b64(32)),
        ("X-Shopify-Shop-Domain", shop),
        ("X-Shopify-API-Version", "2024-01"),
        ("X-Shopify-Webhook-Id", r.uuid()),
        ("X-Shopify-Triggered-At", iso(r.ts(), ms=True)),
        ("X-Shopify-Event-Id", r.uuid()),
    ]
    return record(
        "POST",
        "/webhooks/shopify/" + topic.replace("/", "-"),
        hook_headers(r, "Shopify-Captain-Hook", "application/json", extra),
        body=compact(payload),
        shape="shopify-webhook",
    )


def hook_slack(r: R) -> Record:
    style = r.choice(["event", "event", "command", "interactive", "url_verification"])
    ts = r.ts()
    sig = [("X-Slack-Signature", "v0=" + r.hex(64)), ("X-Slack-Request-Timestamp", str(ts))]
    ua = "Slackbot 1.0 (+https://api.slack.com/robots)"
    team, user, channel = (
        "T0" + r.alnum(9, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"),
        "U0" + r.alnum(9, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"),
        "C0" + r.alnum(9, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"),
    )
    if style == "url_verification":
        return record(
            "POST",
            "/slack/events",
            hook_headers(r, ua, "application/json", sig),
            body=compact({"token": r.alnum(24), "challenge": r.alnum(48), "type": "url_verification"}),
            shape="slack-url-verification",
        )
    if style == "event":
        text = r.choice(
            [
                f"<@{user}> can you select the winner for the raffle?",
                "deploy is done :rocket: `git push heroku main && heroku run rake db:migrate`",
                "who's joining the union meeting at 6? :raised_hand:",
                "See <https://example.com/docs/sql/union|the docs on UNION> &amp; let me know",
                "quick q: does `SELECT ... FOR UPDATE` lock the whole table?",
                "drop everything, prod is down :fire:",
                "lunch? &lt;3",
                paragraph(r, 1),
            ]
        )
        event = {
            "type": r.choice(["message", "app_mention"]),
            "user": user,
            "text": text,
            "ts": f"{ts}.{r.digits(6)}",
            "channel": channel,
            "event_ts": f"{ts}.{r.digits(6)}",
            "channel_type": "channel",
            "blocks": [
                {
                    "type": "rich_text",
                    "block_id": r.alnum(5),
                    "elements": [{"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}],
                }
            ],
        }
        payload = {
            "token": r.alnum(24),
            "team_id": team,
            "api_app_id": "A0" + r.alnum(9, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"),
            "event": event,
            "type": "event_callback",
            "event_id": "Ev0" + r.alnum(9, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"),
            "event_time": ts,
            "authorizations": [{"team_id": team, "user_id": user, "is_bot": False}],
            "is_ext_shared_channel": False,
        }
        extra = sig + (
            [("X-Slack-Retry-Num", "1"), ("X-Slack-Retry-Reason", "http_timeout")] if r.random() < 0.1 else []
        )
        return record(
            "POST",
            "/slack/events",
            hook_headers(r, ua, "application/json", extra),
            body=compact(payload),
            shape="slack-event",
        )
    if style == "command":
        cmd, text = r.choice(
            [
                ("/deploy", "api production --tag v4.2.0"),
                ("/poll", '"Lunch?" "Pizza" "Sushi" "Select later"'),
                ("/remind", "me to drop off the keys at 5pm"),
                ("/giphy", "union"),
                ("/jira", 'create bug "Select box broken on iOS"'),
            ]
        )
        body = form(
            [
                ("token", r.alnum(24)),
                ("team_id", team),
                ("team_domain", "acme"),
                ("channel_id", channel),
                ("channel_name", r.choice(["general", "dev", "union-reps"])),
                ("user_id", user),
                ("user_name", r.choice(FIRST).lower()),
                ("command", cmd),
                ("text", text),
                ("api_app_id", "A0" + r.alnum(9)),
                ("is_enterprise_install", "false"),
                ("response_url", f"https://hooks.slack.com/commands/{team}/{r.digits(13)}/{r.alnum(24)}"),
                ("trigger_id", f"{r.digits(13)}.{r.digits(12)}.{r.hex(32)}"),
            ]
        )
        return record(
            "POST",
            "/slack/commands",
            hook_headers(r, ua, "application/x-www-form-urlencoded", sig),
            body=body,
            shape="slack-slash-command",
        )
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": r.choice(FIRST).lower(), "team_id": team},
        "api_app_id": "A0" + r.alnum(9),
        "token": r.alnum(24),
        "container": {"type": "message", "message_ts": f"{ts}.{r.digits(6)}", "channel_id": channel},
        "trigger_id": f"{r.digits(13)}.{r.digits(12)}.{r.hex(32)}",
        "team": {"id": team, "domain": "acme"},
        "response_url": f"https://hooks.slack.com/actions/{team}/{r.digits(13)}/{r.alnum(24)}",
        "actions": [
            {
                "type": "static_select",
                "action_id": "select_priority",
                "block_id": r.alnum(4),
                "selected_option": {
                    "text": {"type": "plain_text", "text": r.choice(["High", "Low", "Drop it"]), "emoji": True},
                    "value": r.choice(["high", "low", "drop"]),
                },
                "placeholder": {"type": "plain_text", "text": "Select a priority"},
                "action_ts": f"{ts}.{r.digits(6)}",
            }
        ],
    }
    return record(
        "POST",
        "/slack/interactive",
        hook_headers(r, ua, "application/x-www-form-urlencoded", sig),
        body=form([("payload", compact(payload))]),
        shape="slack-interactive",
    )


def hook_twilio(r: R) -> Record:
    body_text = r.choice(
        [
            "STOP",
            "Yes, confirm my appointment",
            "Can we move it to 3pm?",
            "What's my order status? #10482",
            "Thx! 👍",
            "Where do I drop off the return?",
            "C",
            "HELP",
        ]
    )
    sid = "SM" + r.hex(32)
    pairs = [
        ("ToCountry", "US"),
        ("ToState", "CA"),
        ("SmsMessageSid", sid),
        ("NumMedia", "0"),
        ("ToCity", "SAN FRANCISCO"),
        ("FromZip", r.digits(5)),
        ("SmsSid", sid),
        ("FromState", "NY"),
        ("SmsStatus", "received"),
        ("FromCity", "BROOKLYN"),
        ("Body", body_text),
        ("FromCountry", "US"),
        ("To", f"+1415{r.digits(7)}"),
        ("MessagingServiceSid", "MG" + r.hex(32)),
        ("ToZip", r.digits(5)),
        ("NumSegments", "1"),
        ("MessageSid", sid),
        ("AccountSid", "AC" + r.hex(32)),
        ("From", f"+1718{r.digits(7)}"),
        ("ApiVersion", "2010-04-01"),
    ]
    h = [
        ("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"),
        ("X-Twilio-Signature", r.b64(20)),
        ("I-Twilio-Idempotency-Token", r.uuid()),
        ("Accept", "*/*"),
        ("User-Agent", "TwilioProxy/1.1"),
        ("Cache-Control", "max-age=259200"),
    ]
    return record("POST", "/twilio/sms", h, body=form(pairs), shape="twilio-sms")


def hook_sendgrid(r: R) -> Record:
    events = []
    for _ in range(r.randrange(1, 6)):
        ev = r.choice(["processed", "delivered", "open", "click", "bounce", "unsubscribe"])
        item = {
            "email": person(r)[2],
            "timestamp": r.ts(),
            "smtp-id": f"<{r.alnum(22)}@ismtpd0{r.randrange(1, 99)}p1mdw1.sendgrid.net>",
            "event": ev,
            "category": [r.choice(["order-confirmation", "union-newsletter", "password-reset"])],
            "sg_event_id": r.b64url(16),
            "sg_message_id": f"{r.alnum(22)}.filterdrecv-{r.randrange(1, 9)}-{r.alnum(5)}-1-{r.hex(8)}-{r.randrange(1, 99)}-0",
        }
        if ev == "click":
            item["url"] = r.choice(
                [
                    f"{SHOP}/products/select-fit-chino-pant?utm_source=sendgrid&utm_campaign=spring_sale_2024",
                    f"{SITE}/unsubscribe?",
                    f"{SITE}/blog/a-guide-to-union-membership",
                ]
            )
        if ev == "bounce":
            item.update(
                {
                    "reason": "550 5.1.1 The email account that you tried to reach does not exist.",
                    "status": "5.1.1",
                    "type": "bounce",
                }
            )
        if ev in ("open", "click"):
            item["useragent"] = Browser(r).ua
        events.append(item)
    return record(
        "POST",
        "/webhooks/sendgrid",
        hook_headers(
            r,
            "SendGrid Event API",
            "application/json",
            [
                ("X-Twilio-Email-Event-Webhook-Signature", r.b64(70)),
                ("X-Twilio-Email-Event-Webhook-Timestamp", str(r.ts())),
            ],
        ),
        body=compact(events),
        shape="sendgrid-events",
    )


def hook_mailgun(r: R) -> Record:
    """Mailgun inbound routing: a received e-mail posted as multipart, with the quoted reply in body-plain."""
    first, last, email = person(r)
    boundary = r.hex(32)
    plain = f"{paragraph(r, 2)}\r\n\r\nBest,\r\n{first}\r\n\r\nOn Mon, Mar 11, 2024 at 10:12 AM Support <support@example.com> wrote:\r\n> {r.choice(PROSE)}\r\n> Please select a time slot: https://example.com/book?ref=email&\r\n"
    stripped = plain.split("\r\n\r\nOn Mon")[0]
    subject = "Re: " + r.choice(
        ["Your order #10482", "Union meeting minutes", "Select your delivery slot", "Invoice INV-2024-0312"]
    )
    parts: list[Part] = [
        ("recipient", "support@example.com", None, None),
        ("sender", email, None, None),
        ("subject", subject, None, None),
        ("from", f"{first} {last} <{email}>", None, None),
        ("body-plain", plain, None, None),
        ("stripped-text", stripped, None, None),
        (
            "body-html",
            f'<div dir="ltr">{esc_xml(stripped).replace(chr(13) + chr(10), "<br>")}</div><br><div class="gmail_quote"><blockquote>{esc_xml(r.choice(PROSE))}</blockquote></div>',
            None,
            None,
        ),
        (
            "message-headers",
            compact(
                [
                    ["Received", "by mail-yw1-f178.google.com with SMTP id 00721157ae682"],
                    ["Subject", subject],
                    ["From", f"{first} {last} <{email}>"],
                    ["Content-Type", f'multipart/alternative; boundary="{r.hex(28)}"'],
                ]
            ),
            None,
            None,
        ),
        ("timestamp", str(r.ts()), None, None),
        ("token", r.hex(50), None, None),
        ("signature", r.hex(64), None, None),
    ]
    if r.random() < 0.4:
        name, ctype, content = file_for(r, r.choice(["pdf", "jpeg", "ics", "vcf"]))
        parts += [("attachment-count", "1", None, None), ("attachment-1", content, name, ctype)]
    return record(
        "POST",
        "/mailgun/inbound",
        hook_headers(r, "mailgun/treq-16.12.0", f"multipart/form-data; boundary={boundary}", []),
        body=multipart(parts, boundary, "requests"),
        shape="mailgun-inbound",
    )


def hook_alertmanager(r: R) -> Record:
    alerts: list[dict[str, Any]] = []
    for _ in range(r.randrange(1, 4)):
        name, summary, desc = r.choice(
            [
                (
                    "NodeFilesystemAlmostOutOfSpace",
                    "Filesystem has less than 10% space left",
                    "Filesystem on /dev/sda1 at {inst} has only 7.2% available space left on /var/lib/docker.",
                ),
                (
                    "PostgresReplicationLag",
                    "Replica lagging",
                    "Replication lag on {inst} is 42s; check /var/lib/postgresql/16/main/pg_wal for disk pressure.",
                ),
                (
                    "KubePodCrashLooping",
                    "Pod is crash looping",
                    "Pod default/api-7d9f8c6b5-x2x7q ({inst}) is restarting 3.2 times / 10 minutes.",
                ),
                (
                    "HighErrorRate",
                    "5xx above 2%",
                    "GET /api/v1/orders?select=id,total returns 503 on {inst}; see runbook https://wiki.example.com/runbooks/high-error-rate?",
                ),
                (
                    "CertificateExpiry",
                    "TLS certificate expires in 14 days",
                    "The certificate for shop.example.com on {inst} expires on 2024-04-01; renew with `certbot renew && systemctl reload nginx`.",
                ),
            ]
        )
        inst = f"10.0.{r.randrange(0, 9)}.{r.randrange(2, 250)}:9100"
        alerts.append(
            {
                "status": r.choice(["firing", "resolved"]),
                "labels": {
                    "alertname": name,
                    "instance": inst,
                    "job": "node",
                    "severity": r.choice(["warning", "critical"]),
                    "mountpoint": "/var/lib/docker",
                    "fstype": "ext4",
                },
                "annotations": {
                    "summary": summary,
                    "description": desc.format(inst=inst),
                    "runbook_url": f"https://runbooks.example.com/{name.lower()}",
                },
                "startsAt": iso(r.ts(), ms=True),
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prometheus:9090/graph?g0.expr=%28node_filesystem_avail_bytes%7Bfstype%21%3D%22%22%2Cjob%3D%22node%22%7D+%2F+node_filesystem_size_bytes%29+%2A+100+%3C+10&g0.tab=1",
                "fingerprint": r.hex(16),
            }
        )
    payload = {
        "receiver": "webhook",
        "status": alerts[0]["status"],
        "alerts": alerts,
        "groupLabels": {"alertname": alerts[0]["labels"]["alertname"]},
        "commonLabels": {"job": "node"},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "version": "4",
        "groupKey": '{}:{alertname="' + alerts[0]["labels"]["alertname"] + '"}',
        "truncatedAlerts": 0,
    }
    return record(
        "POST",
        "/hooks/alertmanager",
        hook_headers(r, "Alertmanager/0.27.0", "application/json", []),
        body=compact(payload),
        shape="alertmanager",
    )


def hook_grafana_pd(r: R) -> Record:
    if r.random() < 0.5:
        payload: dict[str, Any] = {
            "event": {
                "id": r.alnum(14).upper(),
                "event_type": r.choice(["incident.triggered", "incident.acknowledged", "incident.resolved"]),
                "resource_type": "incident",
                "occurred_at": iso(r.ts(), ms=True),
                "agent": {
                    "html_url": "https://acme.pagerduty.com/users/P" + r.alnum(6).upper(),
                    "summary": " ".join(person(r)[:2]),
                    "type": "user_reference",
                },
                "data": {
                    "id": "Q" + r.alnum(13).upper(),
                    "type": "incident",
                    "html_url": f"https://acme.pagerduty.com/incidents/Q{r.alnum(13).upper()}",
                    "number": r.randrange(1, 9999),
                    "status": "triggered",
                    "title": r.choice(
                        [
                            "Disk /var/lib/mysql 95% full on db-2",
                            "API latency p99 > 2s",
                            "Union pricing job failed",
                            "SELECT timeouts on replica",
                        ]
                    ),
                    "service": {"summary": "Checkout API"},
                    "urgency": "high",
                },
            }
        }
        return record(
            "POST",
            "/hooks/pagerduty",
            hook_headers(
                r,
                "PagerDuty-Webhook/V3.0",
                "application/json",
                [
                    ("X-PagerDuty-Signature", "v1=" + r.hex(64)),
                    ("X-Webhook-Id", r.uuid()),
                    ("X-Webhook-Subscription", "P" + r.alnum(6).upper()),
                ],
            ),
            body=compact(payload),
            shape="pagerduty-v3",
        )
    payload = {
        "receiver": "edge-hooks",
        "status": "firing",
        "orgId": 1,
        "alerts": [
            {
                "status": "firing",
                "labels": {
                    "alertname": "Disk usage",
                    "grafana_folder": "Infra",
                    "host": f"db-{r.randrange(1, 4)}",
                    "path": "/var/lib/mysql",
                },
                "annotations": {
                    "description": "Disk usage on /var/lib/mysql is above 90% for 5m",
                    "summary": "Disk almost full",
                },
                "startsAt": iso(r.ts()),
                "generatorURL": "https://grafana.example.com/alerting/grafana/abc123/view?orgId=1",
                "fingerprint": r.hex(16),
                "silenceURL": "https://grafana.example.com/alerting/silence/new?alertmanager=grafana&matcher=alertname%3DDisk+usage&orgId=1",
                "dashboardURL": "https://grafana.example.com/d/abc?orgId=1",
                "panelURL": "https://grafana.example.com/d/abc?orgId=1&viewPanel=4",
                "values": {"B": 91.4, "C": 1},
                "valueString": "[ var='B' labels={host=db-2} value=91.4 ]",
            }
        ],
        "title": "[FIRING:1] Disk usage Infra (db-2 /var/lib/mysql)",
        "state": "alerting",
        "message": "**Firing**\n\nValue: B=91.4\nLabels:\n - alertname = Disk usage\n - path = /var/lib/mysql\n",
    }
    return record(
        "POST",
        "/hooks/grafana",
        hook_headers(r, "Grafana", "application/json", []),
        body=compact(payload),
        shape="grafana-alert",
    )


def hook_gitlab(r: R) -> Record:
    user = r.choice(["jdoe", "priya", "lars", "o-connor"])
    payload = {
        "object_kind": "push",
        "event_name": "push",
        "before": r.hex(40),
        "after": r.hex(40),
        "ref": "refs/heads/main",
        "user_name": " ".join(person(r)[:2]),
        "user_username": user,
        "project": {
            "id": r.randrange(100, 99999),
            "name": "Web",
            "path_with_namespace": "acme/web",
            "web_url": "https://gitlab.example.com/acme/web",
            "default_branch": "main",
        },
        "commits": [
            {
                "id": r.hex(40),
                "message": r.choice(COMMIT_MESSAGES).format(n=r.randrange(1, 999), user=user) + "\n",
                "title": "chore: update",
                "timestamp": iso(r.ts(), offset="+00:00"),
                "author": {"name": " ".join(person(r)[:2]), "email": "[REDACTED]"},
                "added": [],
                "modified": ["README.md"],
                "removed": [],
            }
        ],
        "total_commits_count": 1,
    }
    return record(
        "POST",
        "/hooks/gitlab",
        hook_headers(
            r,
            "GitLab/16.9.1",
            "application/json",
            [
                ("X-Gitlab-Event", "Push Hook"),
                ("X-Gitlab-Token", r.alnum(32)),
                ("X-Gitlab-Instance", "https://gitlab.example.com"),
                ("X-Gitlab-Webhook-UUID", r.uuid()),
                ("X-Gitlab-Event-UUID", r.uuid()),
            ],
        ),
        body=compact(payload),
        shape="gitlab-push",
    )


def hook_typeform(r: R) -> Record:
    first, last, email = person(r)
    answers = [
        {"type": "text", "text": f"{first} {last}", "field": {"id": r.alnum(12), "type": "short_text"}},
        {"type": "email", "email": email, "field": {"id": r.alnum(12), "type": "email"}},
        {
            "type": "choice",
            "choice": {"label": r.choice(["Select membership", "Union member", "Drop-in visitor"])},
            "field": {"id": r.alnum(12), "type": "multiple_choice"},
        },
        {"type": "text", "text": paragraph(r, 2), "field": {"id": r.alnum(12), "type": "long_text"}},
        {
            "type": "url",
            "url": r.choice(
                [
                    "https://example.com/?",
                    "https://linkedin.com/in/" + first.lower(),
                    "https://calendly.com/acme/30min?month=2024-04",
                ]
            ),
            "field": {"id": r.alnum(12), "type": "website"},
        },
    ]
    payload = {
        "event_id": r.alnum(26).upper(),
        "event_type": "form_response",
        "form_response": {
            "form_id": r.alnum(8),
            "token": r.alnum(32),
            "landed_at": iso(r.ts()),
            "submitted_at": iso(r.ts()),
            "hidden": {"utm_campaign": r.choice(CAMPAIGNS)},
            "definition": {"id": r.alnum(8), "title": "Membership application"},
            "answers": answers,
        },
    }
    return record(
        "POST",
        "/hooks/typeform",
        hook_headers(r, "Typeform Webhooks", "application/json", [("Typeform-Signature", "sha256=" + r.b64(32))]),
        body=compact(payload),
        shape="typeform-webhook",
    )


def hook_paypal_ipn(r: R) -> Record:
    first, last, email = person(r)
    pairs = [
        ("mc_gross", f"{r.uniform(5, 500):.2f}"),
        ("protection_eligibility", "Eligible"),
        ("address_status", "confirmed"),
        ("payer_id", r.alnum(13, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")),
        ("payment_date", "10:12:33 Mar 14, 2024 PDT"),
        ("payment_status", "Completed"),
        ("charset", "windows-1252"),
        ("address_zip", r.digits(5)),
        ("first_name", first),
        ("mc_fee", "0.88"),
        ("address_country_code", "US"),
        ("address_name", f"{first} {last}"),
        ("notify_version", "3.9"),
        ("custom", compact({"order_id": r.randrange(1000, 9999)})),
        ("payer_status", "verified"),
        ("business", "payments@example.com"),
        ("address_country", "United States"),
        ("address_city", r.choice(CITIES)[0]),
        ("quantity", "1"),
        ("verify_sign", r.alnum(56)),
        ("payer_email", email),
        ("txn_id", r.alnum(17, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")),
        ("payment_type", "instant"),
        ("last_name", last),
        ("address_state", "CA"),
        ("receiver_email", "payments@example.com"),
        ("item_name", r.choice(PRODUCTS)[0]),
        ("mc_currency", "USD"),
        ("item_number", r.digits(4)),
        ("residence_country", "US"),
        ("transaction_subject", ""),
        ("ipn_track_id", r.hex(13)),
    ]
    body = form(pairs)
    return record(
        "POST",
        "/paypal/ipn",
        [
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("User-Agent", "PayPal IPN ( https://www.paypal.com/ipn )"),
            ("Accept", "*/*"),
        ],
        body=body,
        shape="paypal-ipn",
    )


# ---------------------------------------------------------------------------------------------------------------
# Category: oauth_oidc (Keycloak, Auth0, Microsoft, Google, Okta flows; SAML POST binding)
# ---------------------------------------------------------------------------------------------------------------

REALMS = ["main", "customers", "staff", "acme"]
CLIENTS = ["web-app", "admin-console", "mobile", "grafana", "nextcloud", "account-console"]
REDIRECTS = [
    "https://app.example.com/callback",
    "https://app.example.com/auth/callback?",
    "https://grafana.example.com/login/generic_oauth",
    "https://cloud.example.org/apps/user_oidc/code",
    "https://app.example.com/silent-check-sso.html",
    "com.example.app:/oauth2redirect",
    "http://127.0.0.1:53682/",
    "http://localhost:8400/",
    "https://www.example.com/wp-admin/admin-ajax.php?action=openid-connect-authorize",
    "https://app.example.com/api/auth/callback/keycloak",
    "msauth.com.example.app://auth",
]


def pkce(r: R) -> tuple[str, str]:
    verifier = r.b64url(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def oidc_authorize_keycloak(r: R) -> Record:
    b = Browser(r)
    realm, client, redirect = r.choice(REALMS), r.choice(CLIENTS), r.choice(REDIRECTS)
    _, challenge = pkce(r)
    pairs = [
        ("client_id", client),
        ("redirect_uri", redirect),
        ("state", r.uuid()),
        ("response_mode", r.choice(["fragment", "query", "form_post"])),
        ("response_type", "code"),
        ("scope", r.choice(["openid", "openid profile email", "openid email offline_access"])),
        ("nonce", r.uuid()),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ]
    if r.random() < 0.3:
        pairs.append(("prompt", r.choice(["none", "login"])))
    if r.random() < 0.2:
        pairs.append(("kc_idp_hint", r.choice(["google", "github", "saml-azure"])))
    if r.random() < 0.2:
        pairs.append(("ui_locales", r.choice(["de", "en", "fr"])))
    query = urlencode(pairs, quote_via=quote)
    cookie = (
        "; ".join(
            [
                f"AUTH_SESSION_ID={r.uuid()}.keycloak-{r.randrange(3)}-{r.randrange(10000, 99999)}",
                f"KC_RESTART={jwt(r, {'cid': client, 'pty': 'openid-connect', 'ruri': redirect, 'act': 'AUTHENTICATE', 'notes': {'scope': 'openid', 'iss': f'https://sso.example.org/realms/{realm}', 'response_type': 'code', 'code_challenge_method': 'S256', 'redirect_uri': redirect, 'state': r.uuid(), 'nonce': r.uuid(), 'response_mode': 'fragment'}}, alg='HS256')}",
            ]
        )
        if r.random() < 0.4
        else None
    )
    return record(
        "GET",
        f"/realms/{realm}/protocol/openid-connect/auth",
        b.headers(
            r,
            site="cross-site",
            referer=redirect.split("/callback")[0] + "/" if redirect.startswith("https") else None,
            cookie=cookie,
        ),
        query,
        shape="keycloak-authorize",
    )


def oidc_login_keycloak(r: R) -> Record:
    b = Browser(r)
    realm, client = r.choice(REALMS), r.choice(CLIENTS)
    _, _, email = person(r)
    query = f"session_code={r.b64url(32)}&execution={r.uuid()}&client_id={client}&tab_id={r.b64url(8)}"
    body = form(
        [("username", email), ("password", password(r)), ("credentialId", "")]
        + ([("rememberMe", "on")] if r.random() < 0.4 else [])
    )
    cookie = f"AUTH_SESSION_ID={r.uuid()}.keycloak-0-{r.randrange(10000, 99999)}; AUTH_SESSION_ID_LEGACY={r.uuid()}.keycloak-0-{r.randrange(10000, 99999)}; KC_RESTART={r.b64url(200)}"
    h = b.headers(
        r,
        origin="null" if r.random() < 0.1 else "https://sso.example.org",
        referer=f"https://sso.example.org/realms/{realm}/protocol/openid-connect/auth?client_id={client}&response_type=code",
        cookie=cookie,
        content_type="application/x-www-form-urlencoded",
    )
    return record("POST", f"/realms/{realm}/login-actions/authenticate", h, query, body, shape="keycloak-login")


def oidc_callback(r: R) -> Record:
    b = Browser(r)
    realm = r.choice(REALMS)
    pairs = [
        ("state", r.uuid()),
        ("session_state", r.uuid()),
        ("iss", f"https://sso.example.org/realms/{realm}"),
        ("code", f"{r.uuid()}.{r.uuid()}.{r.uuid()}"),
    ]
    if r.random() < 0.3:  # Auth0 / Okta / Google shapes
        pairs = [("code", r.alnum(r.choice([22, 43]))), ("state", r.b64url(24))]
        if r.random() < 0.5:
            pairs += [
                (
                    "scope",
                    "email profile openid https://www.googleapis.com/auth/userinfo.email https://www.googleapis.com/auth/userinfo.profile",
                ),
                ("authuser", "0"),
                ("prompt", "consent"),
            ]
    if r.random() < 0.05:
        pairs = [
            ("error", "access_denied"),
            ("error_description", "The user denied the request (select 'Allow' to continue)"),
            ("state", r.uuid()),
        ]
    path = r.choice(
        [
            "/callback",
            "/auth/callback",
            "/login/generic_oauth",
            "/apps/user_oidc/code",
            "/api/auth/callback/keycloak",
            "/oauth2/callback",
        ]
    )
    return record(
        "GET",
        path,
        b.headers(r, site="cross-site", referer="https://sso.example.org/", cookie=cookie_header(r, "express")),
        urlencode(pairs),
        shape="oidc-callback",
    )


def oidc_form_post(r: R) -> Record:
    """response_mode=form_post: the IdP's auto-submitting form posts code and id_token to the app."""
    b = Browser(r)
    body = form(
        [
            ("code", "0.A" + r.b64url(600)),
            (
                "id_token",
                jwt(
                    r,
                    {
                        "aud": r.uuid(),
                        "iss": f"https://login.microsoftonline.com/{r.uuid()}/v2.0",
                        "iat": r.ts(),
                        "nbf": r.ts(),
                        "exp": r.ts() + 3600,
                        "name": " ".join(person(r)[:2]),
                        "nonce": r.uuid(),
                        "oid": r.uuid(),
                        "preferred_username": person(r)[2],
                        "tid": r.uuid(),
                        "ver": "2.0",
                    },
                    kid=r.b64url(20),
                ),
            ),
            ("state", r.b64url(40)),
            ("session_state", r.uuid()),
        ]
    )
    h = b.headers(
        r,
        site="cross-site",
        origin="https://login.microsoftonline.com",
        referer="https://login.microsoftonline.com/",
        content_type="application/x-www-form-urlencoded",
        cookie=cookie_header(r, "aspnet"),
    )
    return record(
        "POST",
        r.choice(["/signin-oidc", "/.auth/login/aad/callback", "/auth/openid/return"]),
        h,
        body=body,
        shape="oidc-form-post",
    )


def oidc_token(r: R) -> Record:
    grant = r.choice(
        [
            "authorization_code",
            "authorization_code",
            "refresh_token",
            "client_credentials",
            "password",
            "urn:ietf:params:oauth:grant-type:device_code",
            "urn:ietf:params:oauth:grant-type:token-exchange",
        ]
    )
    client = r.choice(CLIENTS)
    pairs: list[tuple[str, str]] = [("grant_type", grant)]
    auth = None
    if grant == "authorization_code":
        verifier, _ = pkce(r)
        pairs += [
            ("code", f"{r.uuid()}.{r.uuid()}.{r.uuid()}"),
            ("redirect_uri", r.choice(REDIRECTS)),
            ("client_id", client),
            ("code_verifier", verifier),
        ]
    elif grant == "refresh_token":
        pairs += [
            (
                "refresh_token",
                jwt(
                    r,
                    {
                        "exp": r.ts(),
                        "iat": r.ts(),
                        "jti": r.uuid(),
                        "typ": "Refresh",
                        "azp": client,
                        "session_state": r.uuid(),
                        "scope": "openid email profile",
                    },
                    alg="HS256",
                ),
            ),
            ("client_id", client),
        ]
    elif grant == "client_credentials":
        auth = "Basic " + base64.b64encode(f"{client}:{r.alnum(32)}".encode()).decode()
        pairs += [("scope", r.choice(["read:orders write:orders", "api://" + r.uuid() + "/.default", "openid"]))]
    elif grant == "password":
        pairs += [("username", person(r)[2]), ("password", password(r)), ("client_id", client), ("scope", "openid")]
    elif grant.endswith("device_code"):
        pairs += [("device_code", r.b64url(32)), ("client_id", client)]
    else:
        pairs += [
            ("subject_token", access_token(r)),
            ("subject_token_type", "urn:ietf:params:oauth:token-type:access_token"),
            ("audience", "billing-service"),
            ("client_id", client),
        ]
    realm = r.choice(REALMS)
    path = r.choice(
        [
            f"/realms/{realm}/protocol/openid-connect/token",
            "/oauth/token",
            "/oauth2/default/v1/token",
            "/oauth2/v2.0/token",
            "/token",
        ]
    )
    if path == "/oauth/token" and r.random() < 0.5:  # Auth0 accepts JSON
        body = compact(dict(pairs))
        h = api_headers(
            r,
            ua=r.choice(["node-fetch", "axios/1.6.7", "Auth0.swift/2.5.0"]),
            content_type="application/json",
            auth=auth,
            extra=[
                (
                    "Auth0-Client",
                    base64.b64encode(compact({"name": "auth0-spa-js", "version": "2.1.3"}).encode()).decode(),
                )
            ],
        )
    else:
        body = urlencode(pairs)
        h = api_headers(
            r,
            ua=r.choice(
                [
                    "Go-http-client/1.1",
                    "python-requests/2.31.0",
                    "okhttp/4.12.0",
                    "Apache-HttpClient/4.5.14 (Java/17.0.10)",
                    "node-fetch",
                    "Nextcloud Server Crawler",
                ]
            ),
            content_type="application/x-www-form-urlencoded",
            auth=auth,
        )
    return record("POST", path, h, body=body, shape=f"token-{grant.rsplit(':', 1)[-1]}")


def oidc_userinfo(r: R) -> Record:
    realm = r.choice(REALMS)
    h = api_headers(
        r,
        ua=r.choice(["Go-http-client/1.1", "python-requests/2.31.0", "okhttp/4.12.0", "node-fetch"]),
        auth="Bearer " + keycloak_token(r, realm, r.choice(CLIENTS)),
    )
    return record(
        "GET",
        r.choice([f"/realms/{realm}/protocol/openid-connect/userinfo", "/userinfo", "/oauth2/v3/userinfo", "/oidc/me"]),
        h,
        shape="userinfo",
    )


def oidc_logout(r: R) -> Record:
    b = Browser(r)
    realm, client = r.choice(REALMS), r.choice(CLIENTS)
    id_token = keycloak_token(r, realm, client)
    post_logout = r.choice(
        [
            "https://app.example.com/",
            "https://app.example.com/logged-out?",
            "https://www.example.com/?logout=1",
            "https://grafana.example.com/login",
        ]
    )
    pairs = [("id_token_hint", id_token), ("post_logout_redirect_uri", post_logout), ("state", r.uuid())]
    if r.random() < 0.4:
        pairs.append(("client_id", client))
    path = f"/realms/{realm}/protocol/openid-connect/logout"
    if r.random() < 0.25:  # Auth0 v2 logout
        path, pairs = "/v2/logout", [("client_id", r.alnum(32)), ("returnTo", post_logout)]
    return record(
        "GET",
        path,
        b.headers(
            r,
            site="cross-site",
            referer="https://app.example.com/account",
            cookie=f"KEYCLOAK_SESSION={realm}/{r.uuid()}/{r.uuid()}; KEYCLOAK_IDENTITY={id_token}",
        ),
        urlencode(pairs),
        shape="oidc-logout",
    )


def oidc_discovery(r: R) -> Record:
    realm = r.choice(REALMS)
    path = r.choice(
        [
            f"/realms/{realm}/.well-known/openid-configuration",
            f"/realms/{realm}/protocol/openid-connect/certs",
            "/.well-known/openid-configuration",
            "/.well-known/jwks.json",
            "/.well-known/oauth-authorization-server",
            "/oauth2/default/v1/keys",
        ]
    )
    h = api_headers(
        r,
        ua=r.choice(
            [
                "Go-http-client/1.1",
                "python-requests/2.31.0",
                "Microsoft.IdentityModel/7.3.1",
                "node-fetch",
                "Grafana/10.3.3",
                "Nextcloud Server Crawler",
            ]
        ),
    )
    return record("GET", path, h, shape="oidc-discovery")


def oidc_auth0(r: R) -> Record:
    b = Browser(r)
    if r.random() < 0.5:
        client = base64.b64encode(compact({"name": "auth0-react", "version": "2.2.4"}).encode()).decode()
        _, challenge = pkce(r)
        pairs = [
            ("client_id", r.alnum(32)),
            ("scope", "openid profile email offline_access"),
            ("audience", "https://api.example.com"),
            ("redirect_uri", "https://app.example.com"),
            ("screen_hint", r.choice(["signup", "login"])),
            ("response_type", "code"),
            ("response_mode", "query"),
            ("state", base64.b64encode(r.b64url(24).encode()).decode()),
            ("nonce", base64.b64encode(r.b64url(24).encode()).decode()),
            ("code_challenge", challenge),
            ("code_challenge_method", "S256"),
            ("auth0Client", client),
        ]
        return record(
            "GET",
            "/authorize",
            b.headers(r, site="cross-site", referer="https://app.example.com/"),
            urlencode(pairs),
            shape="auth0-authorize",
        )
    state = r.b64url(60)
    body = form([("state", state), ("username", person(r)[2]), ("password", password(r)), ("action", "default")])
    h = b.headers(
        r,
        origin="https://login.example.com",
        referer=f"https://login.example.com/u/login/password?state={state}",
        cookie=f"auth0={r.b64url(40)}; auth0_compat={r.b64url(40)}; did={r.b64url(40)}; did_compat={r.b64url(40)}",
        content_type="application/x-www-form-urlencoded",
    )
    return record("POST", "/u/login/password", h, f"state={state}", body, shape="auth0-universal-login")


def oidc_microsoft_google(r: R) -> Record:
    b = Browser(r)
    if r.random() < 0.5:
        pairs = [
            ("client_id", r.uuid()),
            (
                "scope",
                "openid profile offline_access https://graph.microsoft.com/User.Read https://graph.microsoft.com/Mail.Read",
            ),
            ("redirect_uri", r.choice(REDIRECTS)),
            ("client-request-id", r.uuid()),
            ("response_mode", r.choice(["fragment", "form_post", "query"])),
            ("response_type", "code"),
            ("x-client-SKU", "msal.js.browser"),
            ("x-client-VER", "3.10.0"),
            ("client_info", "1"),
            ("code_challenge", pkce(r)[1]),
            ("code_challenge_method", "S256"),
            ("prompt", "select_account"),
            ("nonce", r.uuid()),
            ("state", r.b64url(60)),
        ]
        return record(
            "GET",
            f"/{r.choice(['common', 'organizations', r.uuid()])}/oauth2/v2.0/authorize",
            b.headers(r, site="cross-site", referer="https://app.example.com/"),
            urlencode(pairs),
            shape="microsoft-authorize",
        )
    pairs = [
        ("response_type", "code"),
        (
            "client_id",
            f"{r.digits(12)}-{r.alnum(32, 'abcdefghijklmnopqrstuvwxyz0123456789')}.apps.googleusercontent.com",
        ),
        (
            "redirect_uri",
            r.choice(
                ["http://127.0.0.1:53682/", "https://app.example.com/auth/google/callback", "http://localhost:8085/"]
            ),
        ),
        ("scope", "https://www.googleapis.com/auth/drive.readonly openid email"),
        ("state", r.alnum(30)),
        ("access_type", "offline"),
        ("include_granted_scopes", "true"),
        ("prompt", "consent select_account"),
    ]
    return record("GET", "/o/oauth2/v2/auth", b.headers(r, site="none"), urlencode(pairs), shape="google-authorize")


def oidc_device(r: R) -> Record:
    if r.random() < 0.5:
        body = urlencode(
            [("client_id", r.choice(["cli", "tv-app", "az-cli"])), ("scope", "openid profile offline_access")]
        )
        h = api_headers(
            r,
            ua=r.choice(["Go-http-client/1.1", "python-requests/2.31.0"]),
            content_type="application/x-www-form-urlencoded",
        )
        return record(
            "POST",
            r.choice(["/oauth/device/code", "/realms/main/protocol/openid-connect/auth/device"]),
            h,
            body=body,
            shape="device-authorization",
        )
    b = Browser(r)
    code = f"{r.alnum(4, 'BCDFGHJKLMNPQRSTVWXZ')}-{r.alnum(4, 'BCDFGHJKLMNPQRSTVWXZ')}"
    return record("GET", "/activate", b.headers(r, site="none"), f"user_code={code}", shape="device-activate")


def oidc_introspect(r: R) -> Record:
    token = access_token(r)
    path = r.choice(
        [
            "/realms/main/protocol/openid-connect/token/introspect",
            "/oauth2/introspect",
            "/realms/main/protocol/openid-connect/revoke",
            "/oauth/revoke",
        ]
    )
    body = urlencode([("token", token), ("token_type_hint", r.choice(["access_token", "refresh_token"]))])
    h = api_headers(
        r,
        ua=r.choice(["Go-http-client/1.1", "Kong/3.6.1", "Apache-HttpClient/4.5.14 (Java/17.0.10)", "envoy"]),
        content_type="application/x-www-form-urlencoded",
        auth="Basic " + base64.b64encode(f"{r.choice(CLIENTS)}:{r.alnum(32)}".encode()).decode(),
    )
    return record("POST", path, h, body=body, shape="token-introspection")


def oidc_saml(r: R) -> Record:
    """SAML 2.0 HTTP-POST binding: the IdP's page posts a base64 SAMLResponse (an XML assertion) and RelayState."""
    b = Browser(r)
    first, last, email = person(r)
    now = iso(r.ts())
    assertion = (
        f'<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_{r.hex(32)}" Version="2.0" IssueInstant="{now}" Destination="https://app.example.com/saml/acs" InResponseTo="_{r.hex(20)}">'
        f'<saml:Issuer>https://sts.windows.net/{r.uuid()}/</saml:Issuer><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>'
        f'<saml:Assertion ID="_{r.uuid()}" IssueInstant="{now}" Version="2.0"><saml:Issuer>https://sts.windows.net/{r.uuid()}/</saml:Issuer>'
        f'<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/></ds:SignedInfo><ds:SignatureValue>{r.b64(256)}</ds:SignatureValue></ds:Signature>'
        f'<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress">{email}</saml:NameID></saml:Subject>'
        f'<saml:AttributeStatement><saml:Attribute Name="http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname"><saml:AttributeValue>{esc_xml(first)}</saml:AttributeValue></saml:Attribute>'
        f'<saml:Attribute Name="http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname"><saml:AttributeValue>{esc_xml(last)}</saml:AttributeValue></saml:Attribute>'
        f'<saml:Attribute Name="http://schemas.microsoft.com/ws/2008/06/identity/claims/groups"><saml:AttributeValue>{r.uuid()}</saml:AttributeValue></saml:Attribute></saml:AttributeStatement></saml:Assertion></samlp:Response>'
    )
    body = form(
        [
            ("SAMLResponse", base64.b64encode(assertion.encode()).decode()),
            ("RelayState", r.choice(["/dashboard", "https://app.example.com/projects?tab=mine", r.b64url(24)])),
        ]
    )
    h = b.headers(
        r,
        site="cross-site",
        origin="https://login.microsoftonline.com",
        referer="https://login.microsoftonline.com/",
        content_type="application/x-www-form-urlencoded",
    )
    return record(
        "POST",
        r.choice(["/saml/acs", "/saml2/acs/", "/auth/saml/callback", "/Shibboleth.sso/SAML2/POST"]),
        h,
        body=body,
        shape="saml-post",
    )


def oidc_return_to(r: R) -> Record:
    b = Browser(r)
    target = r.choice(
        [
            "/dashboard",
            "/settings/billing?plan=team",
            "https://app.example.com/projects/42?tab=files",
            "/oauth/authorize?client_id=grafana&response_type=code&redirect_uri=https%3A%2F%2Fgrafana.example.com%2Flogin%2Fgeneric_oauth",
        ]
    )
    name = r.choice(
        ["return_to", "next", "redirect", "returnUrl", "continue", "RelayState", "redirect_url", "callbackUrl"]
    )
    return record(
        "GET",
        r.choice(["/login", "/signin", "/sso/start", "/users/sign_in", "/Account/Login"]),
        b.headers(r, site="same-origin", referer=APP + "/", cookie=cookie_header(r)),
        f"{name}={quote(target, safe='')}",
        shape="login-return-to",
    )


def oidc_registration(r: R) -> Record:
    payload = {
        "client_name": r.choice(["Acme CLI", "Union Portal (staging)", "Select Reports"]),
        "redirect_uris": [r.choice(REDIRECTS), "https://app.example.com/callback"],
        "post_logout_redirect_uris": ["https://app.example.com/"],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": r.choice(["client_secret_basic", "private_key_jwt", "none"]),
        "scope": "openid profile email",
        "logo_uri": "https://app.example.com/logo.png",
        "contacts": [person(r)[2]],
    }
    h = api_headers(r, ua="python-requests/2.31.0", content_type="application/json", auth="Bearer " + access_token(r))
    return record(
        "POST",
        r.choice(["/realms/main/clients-registrations/openid-connect", "/oidc/register", "/connect/register"]),
        h,
        body=compact(payload),
        shape="dynamic-client-registration",
    )


# ---------------------------------------------------------------------------------------------------------------
# Category: webdav_caldav (Nextcloud/ownCloud files, CalDAV and CardDAV sync clients, Windows and macOS mounts)
# ---------------------------------------------------------------------------------------------------------------

DAV_UAS = [
    "Mozilla/5.0 (Linux) mirall/3.12.1git (Nextcloud, ubuntu-6.5.0-21-generic ClientArchitecture: x86_64 OsArchitecture: x86_64)",
    "Mozilla/5.0 (Windows) mirall/3.12.0stable-Win64 (build 20240226) (Nextcloud, windows-10.0.22631 ClientArchitecture: x86_64 OsArchitecture: x86_64)",
    "Mozilla/5.0 (Macintosh) mirall/3.11.1 (Nextcloud, osx-23.3.0 ClientArchitecture: arm64 OsArchitecture: arm64)",
    "Mozilla/5.0 (Android) Nextcloud-android/3.28.1",
    "Mozilla/5.0 (iOS) Nextcloud-iOS/5.2.4",
    "Microsoft-WebDAV-MiniRedir/10.0.22631",
    "WebDAVFS/3.0.0 (03008000) Darwin/23.3.0 (arm64)",
    "davfs2/1.7.0 neon/0.32.5",
    "rclone/v1.65.2",
    "gvfs/1.52.2",
    "DAVx5/4.3.13-ose (2024/01/15; dav4jvm; okhttp/4.12.0) Android/14",
    "macOS/14.3.1 (23D60) CalendarAgent/988",
    "iOS/17.3.1 (21D61) dataaccessd/1.0",
    "Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 Thunderbird/115.8.0",
    "Evolution/3.50.3",
    "macOS/14.3.1 (23D60) AddressBookCore/2599.300.1",
]
DAV_USERS = ["alice", "bob", "priya.sharma", "j.obrien", "lars", "admin"]
DAV_FOLDERS = [
    "Documents",
    "Photos",
    "Photos/2024/Union Square",
    "Shared/Union committee",
    "Projects/C# notes",
    "Talk",
    "Notes",
    "Work/Q1 (final)",
    "Kids' school",
    "Backups",
]
DAV_FILES = [
    "Budget (draft).xlsx",
    "C# notes.md",
    "Meeting notes – 2024-03-12.docx",
    "IMG_4412.HEIC",
    "select-vendors.pdf",
    "union-minutes.odt",
    "todo.txt",
    "report & summary.pdf",
    "Readme.md",
    "photo #3.jpg",
    "100% done.txt",
]

PROPFIND_BODIES = [
    '<?xml version="1.0"?>\n<d:propfind  xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns" xmlns:nc="http://nextcloud.org/ns">\n  <d:prop>\n    <d:getlastmodified />\n    <d:getetag />\n    <d:getcontenttype />\n    <d:resourcetype />\n    <oc:fileid />\n    <oc:permissions />\n    <oc:size />\n    <d:getcontentlength />\n    <nc:has-preview />\n    <oc:favorite />\n    <oc:comments-unread />\n    <oc:owner-display-name />\n    <oc:share-types />\n    <nc:contained-folder-count />\n    <nc:contained-file-count />\n  </d:prop>\n</d:propfind>',
    '<?xml version="1.0" encoding="utf-8"?>\n<d:propfind xmlns:d="DAV:"><d:prop><d:resourcetype/><d:getlastmodified/><d:getcontentlength/><d:getetag/><oc:id xmlns:oc="http://owncloud.org/ns"/><oc:downloadURL xmlns:oc="http://owncloud.org/ns"/><oc:dDC xmlns:oc="http://owncloud.org/ns"/><oc:permissions xmlns:oc="http://owncloud.org/ns"/><oc:checksums xmlns:oc="http://owncloud.org/ns"/><oc:size xmlns:oc="http://owncloud.org/ns"/></d:prop></d:propfind>\n',
    '<?xml version="1.0" encoding="utf-8" ?><D:propfind xmlns:D="DAV:"><D:prop><D:creationdate/><D:displayname/><D:getcontentlength/><D:getcontenttype/><D:getetag/><D:getlastmodified/><D:resourcetype/><D:supportedlock/><D:lockdiscovery/></D:prop></D:propfind>',
    '<?xml version="1.0" encoding="utf-8"?>\n<D:propfind xmlns:D="DAV:">\n<D:allprop/>\n</D:propfind>\n',
]


def dav_headers(r: R, ua: str | None = None, ctype: str | None = None, extra: Headers | None = None) -> Headers:
    user = r.choice(DAV_USERS)
    ua = ua or r.choice(DAV_UAS[:10])
    auth = r.choice(
        [
            "Basic "
            + base64.b64encode(
                f"{user}:{r.alnum(5)}-{r.alnum(5)}-{r.alnum(5)}-{r.alnum(5)}-{r.alnum(5)}".encode()
            ).decode(),
            "Bearer " + r.alnum(64),
            "Basic " + base64.b64encode(f"{user}:{password(r)}".encode()).decode(),
        ]
    )
    h: Headers = [("User-Agent", ua), ("Authorization", auth), ("Accept", "*/*")]
    if ctype:
        h.append(("Content-Type", ctype))
    if "mirall" in ua:
        h.append(("X-Request-ID", r.uuid()))
    if "Microsoft" in ua:
        h = [("Connection", "Keep-Alive"), ("User-Agent", ua), ("translate", "f"), ("Authorization", auth)] + (
            [("Content-Type", ctype)] if ctype else []
        )
    h += extra or []
    return h


def dav_path(r: R, folder: bool = False) -> tuple[str, str]:
    user = r.choice(DAV_USERS)
    base = r.choice(
        [f"/remote.php/dav/files/{user}", "/remote.php/webdav", f"/dav/files/{user}", f"/remote.php/dav/files/{user}"]
    )
    path = base + "/" + quote(r.choice(DAV_FOLDERS))
    if not folder:
        path += "/" + quote(r.choice(DAV_FILES))
    return user, path


def dav_propfind(r: R) -> Record:
    _, path = dav_path(r, folder=True)
    body = r.choice(PROPFIND_BODIES)
    h = dav_headers(
        r,
        ctype=r.choice(["application/xml; charset=utf-8", "text/xml; charset=utf-8", "text/xml", "application/xml"]),
        extra=[("Depth", r.choice(["0", "1", "1", "infinity"]))],
    )
    return record("PROPFIND", path + "/", h, body=body, shape="webdav-propfind")


def dav_put(r: R) -> Record:
    _, path = dav_path(r)
    name, ctype, content = file_for(r, r.choice(["txt", "src", "pdf", "jpeg", "docx", "xlsx", "yaml", "csv", "heic"]))
    path = path.rsplit("/", 1)[0] + "/" + quote(name)
    extra: Headers = [("X-OC-Mtime", str(r.ts()))]
    if r.random() < 0.5:
        extra.append(("OC-Checksum", "SHA1:" + r.hex(40)))
    if r.random() < 0.3:
        extra.append(("If-Match", f'"{r.hex(32)}"'))
    return record("PUT", path, dav_headers(r, ctype=ctype, extra=extra), body=content, shape="webdav-put")


def dav_mkcol(r: R) -> Record:
    user, path = dav_path(r, folder=True)
    if r.random() < 0.4:  # Nextcloud chunked upload v2 starts with MKCOL on the uploads collection
        path = f"/remote.php/dav/uploads/{user}/web-file-upload-{r.hex(32)}"
        return record(
            "MKCOL",
            path,
            dav_headers(
                r,
                extra=[
                    (
                        "Destination",
                        f"https://cloud.example.org/remote.php/dav/files/{user}/{quote(r.choice(DAV_FOLDERS))}/{quote(r.choice(DAV_FILES))}",
                    )
                ],
            ),
            shape="nextcloud-chunking-mkcol",
        )
    return record(
        "MKCOL",
        path + "/" + quote(r.choice(["New folder", "Union 2024", "select (old)", "C#", "Drop zone"])),
        dav_headers(r),
        shape="webdav-mkcol",
    )


def dav_move_copy(r: R) -> Record:
    user, src = dav_path(r)
    _, dst = dav_path(r)
    method = r.choice(["MOVE", "MOVE", "COPY"])
    extra: Headers = [("Destination", "https://cloud.example.org" + dst), ("Overwrite", r.choice(["T", "F"]))]
    if method == "MOVE" and r.random() < 0.3:  # assemble the chunks of a v2 upload
        src = f"/remote.php/dav/uploads/{user}/web-file-upload-{r.hex(32)}/.file"
        extra += [("OC-Total-Length", str(r.randrange(10**6, 10**9))), ("X-OC-Mtime", str(r.ts()))]
    return record(method, src, dav_headers(r, extra=extra), shape=f"webdav-{method.lower()}")


def dav_lock(r: R) -> Record:
    _, path = dav_path(r)
    if r.random() < 0.6:
        owner = r.choice(["ACME\\", ""]) + r.choice(DAV_USERS)
        body = f'<?xml version="1.0" encoding="utf-8" ?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner><D:href>{owner}</D:href></D:owner></D:lockinfo>'
        h = dav_headers(
            r,
            ua=r.choice(
                [
                    "Microsoft-WebDAV-MiniRedir/10.0.22631",
                    "Microsoft Office Word 2014",
                    "WebDAVFS/3.0.0 (03008000) Darwin/23.3.0 (arm64)",
                ]
            ),
            ctype='text/xml; charset="utf-8"',
            extra=[("Timeout", "Second-3600"), ("Depth", "0")],
        )
        return record("LOCK", path, h, body=body, shape="webdav-lock")
    h = dav_headers(
        r, ua="Microsoft-WebDAV-MiniRedir/10.0.22631", extra=[("Lock-Token", f"<opaquelocktoken:{r.uuid()}>")]
    )
    return record("UNLOCK", path, h, shape="webdav-unlock")


def dav_proppatch(r: R) -> Record:
    _, path = dav_path(r)
    if r.random() < 0.5:
        body = (
            '<?xml version="1.0"?>\n<d:propertyupdate xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns">\n  <d:set>\n    <d:prop>\n      <oc:favorite>'
            + r.choice(["1", "0"])
            + "</oc:favorite>\n    </d:prop>\n  </d:set>\n</d:propertyupdate>"
        )
    else:
        body = f'<?xml version="1.0" encoding="utf-8" ?><D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:schemas-microsoft-com:"><D:set><D:prop><Z:Win32CreationTime>{httpdate(r.ts())}</Z:Win32CreationTime><Z:Win32LastAccessTime>{httpdate(r.ts())}</Z:Win32LastAccessTime><Z:Win32LastModifiedTime>{httpdate(r.ts())}</Z:Win32LastModifiedTime><Z:Win32FileAttributes>00000020</Z:Win32FileAttributes></D:prop></D:set></D:propertyupdate>'
    return record(
        "PROPPATCH", path, dav_headers(r, ctype="application/xml; charset=utf-8"), body=body, shape="webdav-proppatch"
    )


def dav_get_delete(r: R) -> Record:
    _, path = dav_path(r)
    method = r.choice(["GET", "GET", "HEAD", "DELETE", "OPTIONS"])
    extra: Headers = [("Range", "bytes=0-1048575")] if method == "GET" and r.random() < 0.3 else []
    return record(
        method,
        path if method != "OPTIONS" else path.rsplit("/", 1)[0] + "/",
        dav_headers(r, extra=extra),
        shape=f"webdav-{method.lower()}",
    )


def dav_search(r: R) -> Record:
    """Nextcloud's files app searches with the DASL SEARCH method."""
    user = r.choice(DAV_USERS)
    term = r.choice(["select", "union", "invoice", "c#", "IMG_", "report & summary", "O'Brien"])
    body = f'<?xml version="1.0" encoding="UTF-8"?>\n<d:searchrequest xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns" xmlns:nc="http://nextcloud.org/ns">\n  <d:basicsearch>\n    <d:select>\n      <d:prop>\n        <d:getcontentlength/>\n        <d:getcontenttype/>\n        <d:getlastmodified/>\n        <oc:fileid/>\n        <oc:size/>\n      </d:prop>\n    </d:select>\n    <d:from>\n      <d:scope>\n        <d:href>/files/{user}</d:href>\n        <d:depth>infinity</d:depth>\n      </d:scope>\n    </d:from>\n    <d:where>\n      <d:like>\n        <d:prop><d:displayname/></d:prop>\n        <d:literal>%{esc_xml(term)}%</d:literal>\n      </d:like>\n    </d:where>\n    <d:orderby>\n      <d:order>\n        <d:prop><d:getlastmodified/></d:prop>\n        <d:descending/>\n      </d:order>\n    </d:orderby>\n    <d:limit><d:nresults>100</d:nresults></d:limit>\n  </d:basicsearch>\n</d:searchrequest>'
    b = Browser(r)
    h = b.headers(
        r,
        dest="empty",
        origin="https://cloud.example.org",
        referer="https://cloud.example.org/apps/files/",
        cookie=f"oc{r.alnum(12)}={r.alnum(26)}; oc_sessionPassphrase={quote(r.b64(96), safe='')}; nc_sameSiteCookielax=true; nc_sameSiteCookiestrict=true",
        content_type="text/xml",
        extra=[("requesttoken", r.b64(64) + ":" + r.b64(64))],
    )
    return record("SEARCH", "/remote.php/dav/", h, body=body, shape="nextcloud-search")


def caldav_report(r: R) -> Record:
    user = r.choice(DAV_USERS)
    cal = r.choice(["personal", "work", "union-meetings", "family", "contact_birthdays"])
    kind = r.choice(["query", "multiget", "sync"])
    if kind == "query":
        start = datetime.fromtimestamp(r.ts(), UTC)
        body = f'<?xml version="1.0" encoding="UTF-8"?>\n<c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">\n  <d:prop>\n    <d:getetag/>\n    <c:calendar-data/>\n  </d:prop>\n  <c:filter>\n    <c:comp-filter name="VCALENDAR">\n      <c:comp-filter name="VEVENT">\n        <c:time-range start="{start:%Y%m%dT000000Z}" end="{start:%Y%m}28T000000Z"/>\n      </c:comp-filter>\n    </c:comp-filter>\n  </c:filter>\n</c:calendar-query>'
    elif kind == "multiget":
        hrefs = "".join(
            f"<d:href>/remote.php/dav/calendars/{user}/{cal}/{r.uuid().upper()}.ics</d:href>"
            for _ in range(r.randrange(1, 6))
        )
        body = f'<?xml version="1.0" encoding="UTF-8"?><CAL:calendar-multiget xmlns:d="DAV:" xmlns:CAL="urn:ietf:params:xml:ns:caldav"><d:prop><d:getetag/><CAL:calendar-data/></d:prop>{hrefs}</CAL:calendar-multiget>'
    else:
        body = f'<?xml version="1.0" encoding="utf-8"?>\n<d:sync-collection xmlns:d="DAV:">\n  <d:sync-token>http://sabre.io/ns/sync/{r.randrange(1, 5000)}</d:sync-token>\n  <d:sync-level>1</d:sync-level>\n  <d:prop>\n    <d:getetag/>\n  </d:prop>\n</d:sync-collection>'
    ua = r.choice(DAV_UAS[10:15])
    return record(
        "REPORT",
        f"/remote.php/dav/calendars/{user}/{cal}/",
        dav_headers(r, ua=ua, ctype="application/xml; charset=utf-8", extra=[("Depth", "1")]),
        body=body,
        shape=f"caldav-{kind}",
    )


def caldav_put(r: R) -> Record:
    user = r.choice(DAV_USERS)
    uid = r.uuid().upper()
    extra: Headers = [("If-None-Match", "*")] if r.random() < 0.6 else [("If-Match", f'"{r.hex(32)}"')]
    return record(
        "PUT",
        f"/remote.php/dav/calendars/{user}/{r.choice(['personal', 'work', 'union-meetings'])}/{uid}.ics",
        dav_headers(r, ua=r.choice(DAV_UAS[10:15]), ctype="text/calendar; charset=utf-8", extra=extra),
        body=ical(r, 1),
        shape="caldav-put-event",
    )


def carddav(r: R) -> Record:
    user = r.choice(DAV_USERS)
    ua = r.choice([DAV_UAS[10], DAV_UAS[15], DAV_UAS[13]])
    if r.random() < 0.5:
        return record(
            "PUT",
            f"/remote.php/dav/addressbooks/users/{user}/contacts/{r.uuid()}.vcf",
            dav_headers(r, ua=ua, ctype="text/vcard; charset=utf-8", extra=[("If-None-Match", "*")]),
            body=vcard(r),
            shape="carddav-put",
        )
    hrefs = "".join(
        f"<d:href>/remote.php/dav/addressbooks/users/{user}/contacts/{r.uuid()}.vcf</d:href>"
        for _ in range(r.randrange(1, 5))
    )
    body = f'<?xml version="1.0" encoding="UTF-8"?><CARD:addressbook-multiget xmlns:d="DAV:" xmlns:CARD="urn:ietf:params:xml:ns:carddav"><d:prop><d:getetag/><CARD:address-data/></d:prop>{hrefs}</CARD:addressbook-multiget>'
    return record(
        "REPORT",
        f"/remote.php/dav/addressbooks/users/{user}/contacts/",
        dav_headers(r, ua=ua, ctype="text/xml; charset=utf-8", extra=[("Depth", "1")]),
        body=body,
        shape="carddav-multiget",
    )


def dav_principal(r: R) -> Record:
    """Account setup in Apple Calendar / DAVx5: PROPFIND on the principal and the calendar home."""
    user = r.choice(DAV_USERS)
    body = '<?xml version="1.0" encoding="UTF-8"?>\n<A:propfind xmlns:A="DAV:">\n  <A:prop>\n    <A:current-user-principal/>\n    <A:principal-URL/>\n    <A:resourcetype/>\n    <B:calendar-home-set xmlns:B="urn:ietf:params:xml:ns:caldav"/>\n    <C:addressbook-home-set xmlns:C="urn:ietf:params:xml:ns:carddav"/>\n    <D:getctag xmlns:D="http://calendarserver.org/ns/"/>\n    <E:calendar-color xmlns:E="http://apple.com/ns/ical/"/>\n  </A:prop>\n</A:propfind>\n'
    path = r.choice(
        [
            "/.well-known/caldav",
            "/.well-known/carddav",
            f"/remote.php/dav/principals/users/{user}/",
            "/remote.php/dav/",
            f"/remote.php/dav/calendars/{user}/",
        ]
    )
    return record(
        "PROPFIND",
        path,
        dav_headers(
            r,
            ua=r.choice(DAV_UAS[10:16]),
            ctype="text/xml",
            extra=[("Depth", r.choice(["0", "1"])), ("Prefer", "return=minimal"), ("Brief", "t")]
            if r.random() < 0.5
            else [("Depth", "0")],
        ),
        body=body,
        shape="dav-principal-discovery",
    )


def dav_ocs(r: R) -> Record:
    b = Browser(r)
    path, query = r.choice(
        [
            (
                "/ocs/v2.php/apps/files_sharing/api/v1/shares",
                "format=json&path=%2FShared%2FUnion%20committee&reshares=true",
            ),
            ("/ocs/v2.php/apps/notifications/api/v2/notifications", "format=json"),
            ("/ocs/v2.php/cloud/capabilities", "format=json"),
            ("/ocs/v2.php/apps/dashboard/api/v1/widget-items", "widgets%5B%5D=recommendations&widgets%5B%5D=activity"),
        ]
    )
    h = b.headers(
        r,
        dest="empty",
        referer="https://cloud.example.org/apps/files/",
        accept="application/json, text/plain, */*",
        cookie=f"oc{r.alnum(12)}={r.alnum(26)}; nc_sameSiteCookielax=true",
        extra=[("OCS-APIRequest", "true"), ("requesttoken", r.b64(64) + ":" + r.b64(64))],
    )
    return record("GET", path, h, query, shape="nextcloud-ocs")


# ---------------------------------------------------------------------------------------------------------------
# Category: cms_prose (comments, posts, wiki edits, forum replies: prose, markdown, code, HTML from editors)
# ---------------------------------------------------------------------------------------------------------------

DEV_COMMENTS = [
    "Try `pip install --upgrade pip && pip install -r requirements.txt`, that fixed it for me.",
    "You can do this with a subquery: `SELECT * FROM (SELECT ...) AS t WHERE t.rank = 1`.",
    "In bash, `a && b || c` is not the same as if/else: `c` also runs when `b` fails.",
    "Don't forget to `DROP INDEX` before the bulk load and recreate it afterwards, it's much faster.",
    "The `union` of two sets in Python is `a | b` or `a.union(b)`.",
    "Use `Array.prototype.select`? There's no such thing, you want `.filter()` or `.map()`.",
    "Works on my machine™ — macOS 14.3, node 20.11, `npm run dev`.",
    "If you're on Windows use `set NODE_ENV=production&& npm start` (no space before &&!).",
    "`$HOME/.config/app/config.yaml` is the default location; override with `APP_CONFIG=/path/to/file`.",
    "The `<select>` element can't be styled fully in Safari, use `appearance: none`.",
    "It's `ORDER BY created_at DESC LIMIT 10`, not `LIMIT 10 ORDER BY ...`.",
    "Escaping matters: in SQL a quote is written `''`, e.g. `'O''Brien'`.",
    "To exec into the container: `docker exec -it web /bin/sh`.",
    "Great write-up! One nit: `rm -rf /tmp/build/*` would be safer with `set -u`.",
    'For C# there\'s `string.Join(", ", names)` — much simpler than the loop.',
    'Add `<script src="/js/app.js" defer></script>` at the end of `<head>`, not the body.',
    "You need `onclick` on the button, not on the `<form>`; or better, listen to `submit`.",
    "Use `WHERE email ILIKE '%@example.com'` to match case-insensitively in Postgres.",
    "`git log --oneline | head -20` shows the last 20 commits.",
    "The trick is `cat file.txt | sort | uniq -c | sort -rn | head`.",
]


def markdown_post(r: R) -> str:
    lang = r.choice(list(CODE_SNIPPETS))
    parts = [
        paragraph(r, 2),
        r.choice(DEV_COMMENTS),
        f"```{lang}\n{r.choice(CODE_SNIPPETS[lang])}\n```",
        r.choice(["", "Edit: " + r.choice(PROSE), "> " + r.choice(PROSE), "- " + "\n- ".join(r.pick(PROSE, 3))]),
    ]
    return "\n\n".join(p for p in parts[: r.randrange(2, 5)] if p)


def html_post(r: R) -> str:
    """What TinyMCE, CKEditor and Gutenberg produce: paragraphs, links, lists, images, code blocks."""
    bits = [f"<p>{esc_xml(paragraph(r, 2))}</p>"]
    if r.random() < 0.5:
        bits.append(
            f'<p>More on our <a href="{SITE}/blog/{r.choice(BLOG_SLUGS)}?utm_source=blog&amp;utm_medium=internal" target="_blank" rel="noopener">{esc_xml(r.choice(TITLES))}</a> post.</p>'
        )
    if r.random() < 0.4:
        bits.append("<ul>\n" + "".join(f"<li>{esc_xml(p)}</li>\n" for p in r.pick(PROSE, 3)) + "</ul>")
    if r.random() < 0.4:
        bits.append(
            f'<figure class="image"><img src="/wp-content/uploads/2024/03/IMG_{r.digits(4)}-1024x768.jpg" alt="{esc_xml(r.choice(["Union Square market", "Our team at the select fair", "Drop-off point"]))}" width="1024" height="768"></figure>'
        )
    if r.random() < 0.3:
        lang = r.choice(list(CODE_SNIPPETS))
        bits.append(f'<pre><code class="language-{lang}">{esc_xml(r.choice(CODE_SNIPPETS[lang]))}</code></pre>')
    if r.random() < 0.3:
        bits.append(f"<blockquote><p>{esc_xml(r.choice(PROSE))}</p></blockquote>")
    if r.random() < 0.2:
        bits.append(
            '<p style="text-align: center;"><strong>Sign up now</strong> &ndash; <em>select seats are limited!</em></p>'
        )
    return "\n".join(bits)


def cms_wp_comment(r: R) -> Record:
    first, last, email = person(r)
    comment = (
        r.choice(
            [paragraph(r), markdown_post(r), r.choice(DEV_COMMENTS), paragraph(r, 1) + "\r\n\r\n" + paragraph(r, 1)]
        )
        .replace("\n", "\r\n")
        .replace("\r\r\n", "\r\n")
    )
    pairs = [
        ("comment", comment),
        ("author", f"{first} {last}" if r.random() < 0.7 else first),
        ("email", email),
        ("url", r.choice(["", "", f"https://{first.lower()}.example.net"])),
        ("wp-comment-cookies-consent", "yes"),
        ("submit", "Post Comment"),
        ("comment_post_ID", str(r.randrange(10, 9000))),
        ("comment_parent", r.choice(["0", str(r.randrange(1, 9000))])),
        ("akismet_comment_nonce", r.hex(10)),
        ("ak_hp_textarea", ""),
        ("ak_js", str(r.ts() * 1000 + r.randrange(1000))),
    ]
    return browser_post(
        r, "/wp-comments-post.php", form(pairs), f"{SITE}/blog/{r.choice(BLOG_SLUGS)}/", "none", "wordpress-comment"
    )


def cms_wp_rest(r: R) -> Record:
    """Gutenberg saving a post through the WordPress REST API (block comments in the content)."""
    b = Browser(r)
    blocks = [f"<!-- wp:paragraph -->\n<p>{esc_xml(paragraph(r, 2))}</p>\n<!-- /wp:paragraph -->"]
    if r.random() < 0.5:
        blocks.append(
            f'<!-- wp:heading -->\n<h2 class="wp-block-heading">{esc_xml(r.choice(TITLES))}</h2>\n<!-- /wp:heading -->'
        )
    if r.random() < 0.4:
        lang = r.choice(list(CODE_SNIPPETS))
        blocks.append(
            f'<!-- wp:code -->\n<pre class="wp-block-code"><code>{esc_xml(r.choice(CODE_SNIPPETS[lang]))}</code></pre>\n<!-- /wp:code -->'
        )
    if r.random() < 0.3:
        blocks.append(
            f'<!-- wp:image {{"id":{r.randrange(100, 9999)},"sizeSlug":"large","linkDestination":"none"}} -->\n<figure class="wp-block-image size-large"><img src="{SITE}/wp-content/uploads/2024/03/hero.jpg" alt="" class="wp-image-{r.randrange(100, 9999)}"/></figure>\n<!-- /wp:image -->'
        )
    if r.random() < 0.3:
        blocks.append(
            '<!-- wp:buttons -->\n<div class="wp-block-buttons"><!-- wp:button -->\n<div class="wp-block-button"><a class="wp-block-button__link wp-element-button" href="/pricing?select=team">Select your plan</a></div>\n<!-- /wp:button --></div>\n<!-- /wp:buttons -->'
        )
    payload = {
        "id": r.randrange(10, 9000),
        "title": r.choice(TITLES),
        "content": "\n\n".join(blocks),
        "status": r.choice(["draft", "publish", "pending"]),
        "excerpt": r.choice(["", paragraph(r, 1)]),
        "categories": [r.randrange(1, 30)],
        "tags": [r.randrange(1, 200) for _ in range(r.randrange(0, 4))],
        "meta": {"footnotes": ""},
    }
    cookie = cookie_header(
        r,
        "none",
        extra=[
            f"wordpress_logged_in_{r.hex(32)}={r.choice(FIRST).lower()}%7C{r.ts()}%7C{r.alnum(43)}%7C{r.hex(64)}",
            f"wp-settings-time-{r.randrange(1, 9)}={r.ts()}",
        ],
    )
    h = b.headers(
        r,
        dest="empty",
        origin=SITE,
        referer=f"{SITE}/wp-admin/post.php?post={payload['id']}&action=edit",
        cookie=cookie,
        content_type="application/json",
        accept="application/json, */*;q=0.1",
        extra=[("X-WP-Nonce", r.hex(10)), ("X-HTTP-Method-Override", "PUT")]
        if r.random() < 0.3
        else [("X-WP-Nonce", r.hex(10))],
    )
    return record(
        "POST",
        f"/wp-json/wp/v2/posts/{payload['id']}",
        h,
        "_locale=user",
        compact(payload),
        shape="wordpress-rest-post",
    )


def cms_drupal_node(r: R) -> Record:
    pairs = [
        ("changed", str(r.ts())),
        ("title[0][value]", r.choice(TITLES)),
        ("form_build_id", "form-" + r.b64url(32)),
        ("form_token", r.b64url(32)),
        ("form_id", "node_article_edit_form"),
        ("body[0][summary]", ""),
        ("body[0][value]", html_post(r)),
        ("body[0][format]", r.choice(["basic_html", "full_html"])),
        ("field_tags[target_id]", ", ".join(r.pick(["union", "select committee", "c#", "drop-in", "events"], 2))),
        ("revision", "1"),
        ("revision_log[0][value]", r.choice(["", "Fixed typos", "Updated the union meeting date"])),
        ("path[0][alias]", "/news/" + r.choice(BLOG_SLUGS)),
        ("status[value]", "1"),
        ("op", "Save"),
    ]
    return browser_post(
        r,
        f"/node/{r.randrange(1, 5000)}/edit",
        form(pairs),
        f"{SITE}/node/{r.randrange(1, 5000)}/edit",
        "none",
        "drupal-node-edit",
        query="destination=/admin/content",
    )


def cms_discourse(r: R) -> Record:
    b = Browser(r)
    payload = {
        "raw": markdown_post(r),
        "unlist_topic": False,
        "category": r.randrange(1, 40),
        "topic_id": r.randrange(100, 99999),
        "is_warning": False,
        "archetype": "regular",
        "typing_duration_msecs": r.randrange(3000, 600000),
        "composer_open_duration_msecs": r.randrange(5000, 900000),
        "featured_link": "",
        "shared_draft": False,
        "draft_key": f"topic_{r.randrange(100, 99999)}",
        "nested_post": True,
    }
    if r.random() < 0.3:
        payload["title"] = r.choice(TITLES)
    h = b.headers(
        r,
        dest="empty",
        origin="https://forum.example.com",
        referer=f"https://forum.example.com/t/{r.choice(BLOG_SLUGS)}/{r.randrange(100, 99999)}",
        cookie=f"_forum_session={r.b64(120)}; _t={r.b64(80)}",
        content_type="application/x-www-form-urlencoded; charset=UTF-8",
        accept="application/json, text/javascript, */*; q=0.01",
        extra=[
            ("X-CSRF-Token", r.b64url(64)),
            ("X-Requested-With", "XMLHttpRequest"),
            ("Discourse-Logged-In", "true"),
            ("Discourse-Present", "true"),
        ],
    )
    return record(
        "POST",
        "/posts",
        h,
        body=form([(k, str(v).lower() if isinstance(v, bool) else str(v)) for k, v in payload.items()]),
        shape="discourse-post",
    )


def cms_issue_comment(r: R) -> Record:
    h = spa_headers(r, "application/json", True)
    body = compact({"body": markdown_post(r) if r.random() < 0.6 else r.choice(DEV_COMMENTS)})
    return record(
        "POST", f"/api/v1/repos/acme/web/issues/{r.randrange(1, 3000)}/comments", h, body=body, shape="issue-comment"
    )


def cms_mediawiki(r: R) -> Record:
    title = r.choice(WIKI)
    text = (
        "{{Infobox programming language\n| name = "
        + title.replace("_", " ")
        + "\n| paradigm = [[Declarative programming|Declarative]]\n| released = {{Start date and age|1974}}\n}}\n"
        f"'''{title.replace('_', ' ')}''' is {esc_xml(r.choice(PROSE)).lower()}<ref>{{{{cite web |url=https://www.example.org/docs?id=42&lang=en |title=Reference manual |access-date=2024-03-12}}}}</ref>\n\n"
        '== Syntax ==\n<syntaxhighlight lang="sql">\n'
        + r.choice(CODE_SNIPPETS["sql"])
        + "\n</syntaxhighlight>\n\n== See also ==\n* [[Union (SQL)]]\n* [[Where (SQL)|WHERE clause]]\n\n[[Category:SQL keywords]]\n"
    )
    pairs = [
        ("wpUnicodeCheck", "ℳ𝒲♥𝓊𝓃𝒾𝒸ℴ𝒹ℯ"),
        ("wpAntispam", ""),
        ("wpSection", ""),
        ("wpStarttime", datetime.fromtimestamp(r.ts(), UTC).strftime("%Y%m%d%H%M%S")),
        ("wpEdittime", datetime.fromtimestamp(r.ts(), UTC).strftime("%Y%m%d%H%M%S")),
        ("editRevId", r.digits(10)),
        ("wpScrolltop", "0"),
        ("oldid", "0"),
        ("parentRevId", r.digits(10)),
        ("format", "text/x-wiki"),
        ("model", "wikitext"),
        ("wpTextbox1", text),
        (
            "wpSummary",
            r.choice(["/* Syntax */ fix example", "copyedit", "Added see also: [[Union (SQL)]]", "rv vandalism"]),
        ),
        ("wpSave", "Save changes"),
        ("mode", "text"),
        ("wpUltimateParam", "1"),
        ("wpEditToken", r.choice(["+\\", r.hex(32) + "+\\"])),
    ]
    return browser_post(
        r,
        "/w/index.php",
        form(pairs),
        f"https://wiki.example.org/w/index.php?title={title}&action=edit",
        "none",
        "mediawiki-edit",
        query=f"title={title}&action=submit",
    )


def cms_ghost(r: R) -> Record:
    b = Browser(r)
    root = {
        "root": {
            "children": [
                {
                    "children": [
                        {
                            "detail": 0,
                            "format": 0,
                            "mode": "normal",
                            "style": "",
                            "text": t,
                            "type": "extended-text",
                            "version": 1,
                        }
                    ],
                    "direction": "ltr",
                    "format": "",
                    "indent": 0,
                    "type": "paragraph",
                    "version": 1,
                }
                for t in r.pick(PROSE, 3)
            ]
            + [
                {
                    "type": "codeblock",
                    "version": 1,
                    "code": r.choice(CODE_SNIPPETS["javascript"]),
                    "language": "javascript",
                    "caption": "",
                }
            ],
            "direction": "ltr",
            "format": "",
            "indent": 0,
            "type": "root",
            "version": 1,
        }
    }
    payload = {
        "posts": [
            {
                "title": r.choice(TITLES),
                "lexical": compact(root),
                "status": "draft",
                "tags": [{"name": r.choice(["Union", "Engineering", "C#"])}],
                "updated_at": iso(r.ts(), ms=True),
            }
        ]
    }
    h = b.headers(
        r,
        dest="empty",
        origin="https://blog.example.com",
        referer="https://blog.example.com/ghost/",
        cookie=f"ghost-admin-api-session={r.b64url(80)}",
        content_type="application/json; charset=UTF-8",
        extra=[("App-Pragma", "no-cache"), ("X-Ghost-Version", "5.80")],
    )
    return record(
        "PUT",
        f"/ghost/api/admin/posts/{r.hex(24)}/",
        h,
        "formats=mobiledoc%2Clexical",
        compact(payload),
        shape="ghost-admin-post",
    )


def cms_forum_reply(r: R) -> Record:
    title = r.choice(TITLES)
    quote_block = f'[quote="{r.choice(FIRST)}"]{r.choice(PROSE)}[/quote]\n' if r.random() < 0.4 else ""
    message = (
        quote_block
        + paragraph(r, 2)
        + (f"\n[code]{r.choice(CODE_SNIPPETS['bash'])}[/code]" if r.random() < 0.4 else "")
        + r.choice(["", "\n\n:)", "\n\n[b]Edit:[/b] solved, see below."])
    )
    pairs = [
        ("subject", "Re: " + title),
        ("addbbcode20", "100"),
        ("message", message.replace("\n", "\r\n")),
        ("attach_sig", "on"),
        ("topic_cur_post_id", str(r.randrange(1, 99999))),
        ("lastclick", str(r.ts())),
        ("post", "Submit"),
        ("creation_time", str(r.ts())),
        ("form_token", r.hex(40)),
    ]
    return browser_post(
        r,
        "/posting.php",
        form(pairs),
        f"https://forum.example.com/posting.php?mode=reply&f={r.randrange(1, 40)}&t={r.randrange(1, 9999)}",
        "php",
        "phpbb-reply",
        query=f"mode=reply&f={r.randrange(1, 40)}&t={r.randrange(1, 9999)}",
    )


def cms_hn_comment(r: R) -> Record:
    pairs = [
        ("parent", str(r.randrange(39000000, 40000000))),
        ("goto", f"item?id={r.randrange(39000000, 40000000)}#{r.randrange(39000000, 40000000)}"),
        ("hmac", r.hex(40)),
        (
            "text",
            r.choice(
                [
                    paragraph(r, 2),
                    r.choice(DEV_COMMENTS),
                    "Prior discussion: https://news.example.com/item?id=" + r.digits(8) + "\n\n" + paragraph(r, 1),
                ]
            ),
        ),
    ]
    return browser_post(
        r, "/comment", form(pairs), "https://news.example.com/item?id=" + r.digits(8), "none", "hn-comment"
    )


def cms_markdown_preview(r: R) -> Record:
    b = Browser(r)
    text = markdown_post(r)
    if r.random() < 0.5:
        h = b.headers(
            r,
            dest="empty",
            origin=APP,
            referer=APP + "/new",
            content_type="text/plain;charset=UTF-8",
            cookie=cookie_header(r, "rails"),
            extra=[("X-CSRF-Token", r.b64(64))],
        )
        return record("POST", "/preview/markdown", h, body=text, shape="markdown-preview-text")
    h = b.headers(
        r,
        dest="empty",
        origin=APP,
        referer=APP + "/new",
        content_type="application/json",
        cookie=cookie_header(r, "rails"),
        extra=[("X-CSRF-Token", r.b64(64))],
    )
    return record(
        "POST",
        "/api/markdown",
        h,
        body=compact({"text": text, "mode": "gfm", "context": "acme/web"}),
        shape="markdown-preview-json",
    )


def cms_autosave(r: R) -> Record:
    b = Browser(r)
    payload: dict[str, Any] = {
        "id": r.uuid(),
        "title": r.choice(TITLES),
        "html": html_post(r),
        "word_count": r.randrange(50, 3000),
        "autosave": True,
        "updated_at": iso(r.ts(), ms=True),
    }
    h = b.headers(
        r,
        dest="empty",
        origin=APP,
        referer=APP + "/editor/" + payload["id"],
        content_type="application/json",
        cookie=cookie_header(r, "express"),
        extra=[("X-CSRF-Token", r.b64(32))],
    )
    return record(
        r.choice(["PUT", "POST", "PATCH"]),
        f"/api/drafts/{payload['id']}",
        h,
        body=compact(payload),
        shape="editor-autosave",
    )


def cms_confluence(r: R) -> Record:
    """Confluence storage format: XHTML with ac: macros, a CDATA code block inside."""
    lang = r.choice(["sql", "bash", "python", "yaml"])
    storage = (
        f"<p>{esc_xml(paragraph(r, 2))}</p>"
        f'<ac:structured-macro ac:name="info" ac:schema-version="1"><ac:rich-text-body><p>{esc_xml(r.choice(PROSE))}</p></ac:rich-text-body></ac:structured-macro>'
        f'<ac:structured-macro ac:name="code" ac:schema-version="1"><ac:parameter ac:name="language">{lang}</ac:parameter><ac:parameter ac:name="title">Example</ac:parameter><ac:plain-text-body><![CDATA[{r.choice(CODE_SNIPPETS[lang])}]]></ac:plain-text-body></ac:structured-macro>'
        f'<p><ac:link><ri:page ri:content-title="{esc_xml(r.choice(TITLES))}" /></ac:link></p>'
    )
    payload = {
        "id": r.digits(9),
        "type": "page",
        "title": r.choice(TITLES),
        "space": {"key": r.choice(["ENG", "OPS", "UNION"])},
        "body": {"storage": {"value": storage, "representation": "storage"}},
        "version": {
            "number": r.randrange(2, 40),
            "message": r.choice(["", "fixed the select query", "union dues table updated"]),
        },
    }
    h = api_headers(
        r,
        ua=r.choice(["python-requests/2.31.0", "Apache-HttpClient/4.5.14 (Java/17.0.10)"]),
        auth="Basic " + base64.b64encode(f"{person(r)[2]}:ATATT3x{r.b64url(60)}".encode()).decode(),
        content_type="application/json",
    )
    return record(
        "PUT", f"/wiki/rest/api/content/{payload['id']}", h, body=compact(payload), shape="confluence-storage"
    )


def cms_review(r: R) -> Record:
    """Product reviews and Q&A: opinionated prose with ratings."""
    p = r.choice(PRODUCTS)
    text = r.choice(
        [
            f"I'd select this again in a heartbeat. {paragraph(r, 2)}",
            f"Bought the {p[0]} for my dad. {paragraph(r, 1)} 4/5 because the box was dented.",
            paragraph(r, 3),
            "Runs small – order one size up!!",
            "Perfect. No complaints <3",
            f"Compared to the old model: quieter, lighter & the app actually works. {r.choice(PROSE)}",
        ]
    )
    pairs = [
        ("review[rating]", str(r.randrange(1, 6))),
        (
            "review[title]",
            r.choice(
                ["Love it", "Not for wide feet", "Select this one!", "Drop-dead gorgeous", "Meh", "Good value (mostly)"]
            ),
        ),
        ("review[body]", text),
        ("review[name]", r.choice(FIRST)),
        ("review[email]", person(r)[2]),
        ("review[recommend]", r.choice(["yes", "no"])),
        ("product_id", str(r.randrange(10**12, 10**13))),
    ]
    return browser_post(r, "/reviews", form(pairs), f"{SHOP}/products/{p[1]}", "none", "product-review")


# ---------------------------------------------------------------------------------------------------------------
# Category: ecommerce (storefront, cart, checkout, account and merchant admin of Shopify/WooCommerce/Magento shops)
# ---------------------------------------------------------------------------------------------------------------


def shop_collection(r: R) -> Record:
    b = Browser(r)
    path = r.choice(
        [
            "/collections/sale",
            "/collections/all",
            "/collections/drop-2024",
            "/c/shoes/running",
            "/shop/",
            "/product-category/kitchen/",
            "/men/bottoms/chinos.html",
        ]
    )
    pairs = r.choice(
        [
            [
                ("sort_by", r.choice(["price-ascending", "best-selling", "created-descending"])),
                ("filter.v.option.size", r.choice(SIZES)),
                ("filter.v.option.color", r.choice(COLORS)),
            ],
            [
                ("color", r.choice(COLORS).lower()),
                ("size", r.choice(SIZES)),
                ("price_min", "10"),
                ("price_max", "150"),
                ("sort", "price-asc"),
            ],
            [
                ("orderby", r.choice(["popularity", "price", "price-desc", "date"])),
                ("filter_color", r.choice(COLORS).lower()),
                ("query_type_color", "or"),
            ],
            [
                ("product_list_order", "price"),
                ("product_list_dir", "asc"),
                ("product_list_limit", "36"),
                ("p", str(r.randrange(1, 6))),
            ],
            [("page", str(r.randrange(2, 9)))],
        ]
    )
    return record(
        "GET",
        path,
        b.headers(
            r,
            referer=SHOP + "/",
            cookie=cookie_header(
                r,
                "none",
                extra=[f"_shopify_y={r.uuid()}", f"_shopify_s={r.uuid()}", "localization=US", "cart_currency=USD"],
            ),
        ),
        form(pairs),
        shape="collection",
    )


def shop_product(r: R) -> Record:
    b = Browser(r)
    p = r.choice(PRODUCTS)
    query = r.choice(
        [
            f"variant={r.digits(14)}",
            None,
            f"_pos=1&_sid={r.hex(9)}&_ss=r",
            f"color={quote_plus(r.choice(COLORS))}&size={quote_plus(r.choice(SIZES))}",
            "utm_source=google&utm_medium=cpc&utm_campaign=" + quote_plus(r.choice(CAMPAIGNS)),
        ]
    )
    return record(
        "GET",
        f"/products/{p[1]}",
        b.headers(
            r,
            referer=SHOP + "/collections/all",
            cookie=cookie_header(
                r, "none", extra=[f"_shopify_y={r.uuid()}", f"cart={r.alnum(32)}%3Fkey%3D{r.hex(32)}"]
            ),
        ),
        query,
        shape="product-page",
    )


def shop_cart_js(r: R) -> Record:
    b = Browser(r)
    kind = r.choice(["add", "change", "update"])
    if kind == "add":
        props: dict[str, str] = {}
        if r.random() < 0.5:
            props = {
                "Engraving": r.choice(["Always & Forever", "J + M", "Love, Mom <3", "#1 Dad", "Select Reserve 2024"]),
                "_gift_wrap": r.choice(["yes", "no"]),
            }
        payload: Any = {
            "items": [{"id": r.randrange(10**13, 10**14), "quantity": r.randrange(1, 4), "properties": props}],
            "sections": "cart-drawer,cart-icon-bubble",
            "sections_url": f"/products/{r.choice(PRODUCTS)[1]}",
        }
    elif kind == "change":
        payload = {
            "line": r.randrange(1, 4),
            "quantity": r.randrange(0, 5),
            "sections": ["cart-items", "cart-icon-bubble", "cart-live-region-text", "cart-footer"],
            "sections_url": "/cart",
        }
    else:
        payload = {
            "note": r.choice(
                [
                    "Please leave at the back door & ring twice",
                    "Gift – no invoice in the box please!",
                    "Deliver after 5pm (union meeting until then)",
                    "",
                ]
            ),
            "attributes": {
                "delivery_date": f"2024-04-{r.randrange(1, 30):02d}",
                "How did you hear about us?": r.choice(["Instagram", "A friend", "Podcast"]),
            },
        }
    h = b.headers(
        r,
        dest="empty",
        origin=SHOP,
        referer=SHOP + "/cart",
        content_type="application/json",
        accept="application/javascript" if kind != "update" else "application/json",
        cookie=cookie_header(
            r,
            "none",
            extra=[f"cart={r.alnum(32)}%3Fkey%3D{r.hex(32)}", f"cart_sig={r.hex(32)}", f"_shopify_y={r.uuid()}"],
        ),
        extra=[("X-Requested-With", "XMLHttpRequest")],
    )
    return record("POST", f"/cart/{kind}.js", h, body=compact(payload), shape=f"shopify-cart-{kind}")


def shop_woo_checkout(r: R) -> Record:
    first, last, email = person(r)
    adr = address(r)
    fields = [
        ("billing_first_name", first),
        ("billing_last_name", last),
        ("billing_company", r.choice([*COMPANIES, ""])),
        ("billing_country", adr["country"]),
        ("billing_address_1", adr["line1"]),
        ("billing_address_2", adr["line2"]),
        ("billing_city", adr["city"]),
        ("billing_state", adr["region"]),
        ("billing_postcode", adr["postcode"]),
        ("billing_phone", phone(r)),
        ("billing_email", email),
        (
            "order_comments",
            r.choice(["", r.choice(PROSE), "Ring the bell twice & leave with neighbour at #12 if not home"]),
        ),
    ]
    if r.random() < 0.5:  # the checkout page refreshes totals with post_data: a urlencoded form inside a field
        pairs = [
            ("security", r.hex(10)),
            ("payment_method", "stripe"),
            ("country", adr["country"]),
            ("state", adr["region"]),
            ("postcode", adr["postcode"]),
            ("city", adr["city"]),
            ("address", adr["line1"]),
            ("address_2", adr["line2"]),
            ("has_full_address", "true"),
            (
                "post_data",
                form(
                    [
                        *fields,
                        ("shipping_method[0]", "flat_rate:1"),
                        ("payment_method", "stripe"),
                        ("woocommerce-process-checkout-nonce", r.hex(10)),
                        ("_wp_http_referer", "/?wc-ajax=update_order_review"),
                    ]
                ),
            ),
        ]
        return browser_post(
            r,
            "/",
            form(pairs),
            f"{SHOP}/checkout/",
            "none",
            "woocommerce-update-order-review",
            query="wc-ajax=update_order_review",
        )
    pairs = [
        *fields,
        ("shipping_method[0]", r.choice(["flat_rate:1", "free_shipping:3", "local_pickup:2"])),
        ("payment_method", r.choice(["stripe", "ppcp-gateway", "bacs", "cod"])),
        ("terms", "on"),
        ("terms-field", "1"),
        ("woocommerce-process-checkout-nonce", r.hex(10)),
        ("_wp_http_referer", "/?wc-ajax=update_order_review"),
        ("wc-stripe-payment-method", "pm_1" + r.alnum(23)),
    ]
    return browser_post(
        r, "/", form(pairs), f"{SHOP}/checkout/", "none", "woocommerce-checkout", query="wc-ajax=checkout"
    )


def shop_magento_add(r: R) -> Record:
    uenc = (
        base64.b64encode(f"{SHOP}/{r.choice(PRODUCTS)[1]}.html".encode())
        .decode()
        .replace("+", "-")
        .replace("/", "_")
        .replace("=", ",")
    )
    pid = r.randrange(1, 5000)
    pairs = [
        ("product", str(pid)),
        ("selected_configurable_option", ""),
        ("related_product", ""),
        ("item", str(pid)),
        ("form_key", r.alnum(16)),
        ("super_attribute[93]", str(r.randrange(49, 60))),
        ("super_attribute[144]", str(r.randrange(166, 172))),
        ("qty", str(r.randrange(1, 4))),
    ]
    return browser_post(
        r,
        f"/checkout/cart/add/uenc/{uenc}/product/{pid}/",
        form(pairs),
        f"{SHOP}/{r.choice(PRODUCTS)[1]}.html",
        "php",
        "magento-add-to-cart",
    )


def shop_coupon(r: R) -> Record:
    code = r.choice(
        ["SPRING-24", "SAVE20", "WELCOME10", "UNION15", "SELECT5OFF", "FREESHIP", "BF2023", "VIP-O'BRIEN", "STUDENT%"]
    )
    if r.random() < 0.5:
        return browser_post(
            r,
            "/",
            form([("security", r.hex(10)), ("coupon_code", code)]),
            f"{SHOP}/cart/",
            "none",
            "woocommerce-apply-coupon",
            query="wc-ajax=apply_coupon",
        )
    b = Browser(r)
    return record(
        "GET",
        f"/discount/{quote(code)}",
        b.headers(r, site="cross-site", referer="https://mail.google.com/"),
        "redirect=%2Fcollections%2Fsale",
        shape="shopify-discount-link",
    )


def shop_checkout_api(r: R) -> Record:
    b = Browser(r)
    first, last, email = person(r)
    adr = address(r)
    payload = {
        "email": email,
        "shipping_address": {"first_name": first, "last_name": last, **adr, "phone": phone(r)},
        "billing_same_as_shipping": True,
        "shipping_rate": r.choice(["standard", "express", "pickup-union-sq"]),
        "payment_method": "pm_1" + r.alnum(23),
        "gift_message": r.choice(
            ["", "Happy birthday!! <3", "Congrats on the new place :)", "Merry Xmas & a happy new year!"]
        ),
        "newsletter": r.random() < 0.4,
        "items": [{"sku": p[1], "qty": r.randrange(1, 3)} for p in r.pick(PRODUCTS, r.randrange(1, 4))],
        "client_reference_id": r.uuid(),
    }
    h = b.headers(
        r,
        dest="empty",
        origin=SHOP,
        referer=SHOP + "/checkout",
        content_type="application/json",
        cookie=cookie_header(r, "express"),
        extra=[("X-CSRF-Token", r.b64(32))],
    )
    return record("POST", "/api/checkout/confirm", h, body=compact(payload), shape="checkout-json")


def shop_paypal_return(r: R) -> Record:
    b = Browser(r)
    return record(
        "GET",
        r.choice(["/checkout/paypal/return", "/paypal/express/return/", "/wc-api/WC_Gateway_Paypal/"]),
        b.headers(r, site="cross-site", referer="https://www.paypal.com/", cookie=cookie_header(r, "php")),
        f"token=EC-{r.alnum(17, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789')}&PayerID={r.alnum(13, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789')}",
        shape="paypal-return",
    )


def shop_notification_template(r: R) -> Record:
    """A merchant editing an order e-mail in the shop admin: Liquid merge tags in subject and body."""
    subject = r.choice(
        [
            "Order #{{order.number}} confirmed",
            "Your order {{ order.name }} is on its way!",
            "{{ shop.name }}: we received your return",
            "Hi {{ customer.first_name | default: 'there' }}, your order shipped",
        ]
    )
    body = (
        "<p>Hi {{ customer.first_name }},</p>\n<p>Thanks for your order #{{order.number}}! "
        + esc_xml(r.choice(PROSE))
        + "</p>\n"
        "{% for line in line_items %}\n  <tr><td>{{ line.title }} &times; {{ line.quantity }}</td><td>{{ line.final_line_price | money }}</td></tr>\n{% endfor %}\n"
        "{% if order.note != blank %}<p>Your note: {{ order.note | escape }}</p>{% endif %}\n"
        '<p><a href="{{ order_status_url }}">View your order</a> or <a href="{{ shop.url }}/account?ref=email">select another address</a>.</p>'
    )
    if r.random() < 0.5:
        return browser_post(
            r,
            "/admin/email_templates/order_confirmation",
            form(
                [
                    ("authenticity_token", r.b64(64)),
                    ("_method", "patch"),
                    ("email_template[title]", subject),
                    ("email_template[body_html]", body),
                ]
            ),
            f"{SHOP}/admin/email_templates/order_confirmation/edit",
            "rails",
            "notification-template-form",
        )
    b = Browser(r)
    h = b.headers(
        r,
        dest="empty",
        origin=SHOP,
        referer=SHOP + "/admin/settings/notifications",
        content_type="application/json",
        cookie=cookie_header(r, "rails"),
        extra=[("X-CSRF-Token", r.b64(64))],
    )
    return record(
        "PUT",
        "/admin/api/2024-01/notification_templates/order_confirmation.json",
        h,
        body=compact(
            {
                "template": {
                    "subject": subject,
                    "body_html": body,
                    "merge_tags": ["{{order.number}}", "{{ customer.first_name }}", "#{{order.number}}"],
                }
            }
        ),
        shape="notification-template-json",
    )


def shop_misc_ajax(r: R) -> Record:
    b = Browser(r)
    kind = r.choice(["fragments", "shipping", "address", "wishlist", "stock", "track"])
    if kind == "fragments":
        return browser_post(
            r, "/", "", f"{SHOP}/", "none", "woocommerce-fragments", b=b, query="wc-ajax=get_refreshed_fragments"
        )
    if kind == "shipping":
        adr = address(r)
        query = form(
            [
                ("shipping_address[zip]", adr["postcode"]),
                ("shipping_address[country]", r.choice(["United States", "Canada", "Germany", "United Kingdom"])),
                ("shipping_address[province]", adr["region"] or ""),
            ]
        )
        return record(
            "GET",
            "/cart/shipping_rates.json",
            b.headers(r, dest="empty", referer=SHOP + "/cart", accept="application/json"),
            query,
            shape="shopify-shipping-rates",
        )
    if kind == "address":
        q = f"{r.randrange(1, 300)} {r.choice(STREETS)[: r.randrange(3, 8)]}"
        return record(
            "GET",
            "/api/address/autocomplete",
            b.headers(r, dest="empty", referer=SHOP + "/checkout", accept="application/json"),
            form([("q", q), ("country", r.choice(["GB", "US", "DE"])), ("session", r.uuid())]),
            shape="address-autocomplete",
        )
    if kind == "wishlist":
        return record(
            "POST",
            "/apps/wishlist/api/add",
            b.headers(
                r,
                dest="empty",
                origin=SHOP,
                referer=SHOP + "/products/" + r.choice(PRODUCTS)[1],
                content_type="application/json",
                cookie=cookie_header(r, "none"),
            ),
            body=compact(
                {
                    "productId": r.randrange(10**12, 10**13),
                    "variantId": r.randrange(10**13, 10**14),
                    "customerId": None,
                    "listName": r.choice(["My wishlist", "Gift ideas 🎁", "Union St. office"]),
                }
            ),
            shape="wishlist-add",
        )
    if kind == "stock":
        return browser_post(
            r,
            "/apps/back-in-stock/subscribe",
            form(
                [
                    ("email", person(r)[2]),
                    ("variant_id", r.digits(14)),
                    ("product_id", r.digits(13)),
                    ("accepts_marketing", "false"),
                ]
            ),
            SHOP + "/products/" + r.choice(PRODUCTS)[1],
            "none",
            "back-in-stock",
            b=b,
        )
    return record(
        "GET",
        "/orders/track",
        b.headers(r, referer=SHOP + "/pages/track-order", cookie=cookie_header(r, "none")),
        form([("order", f"#{r.randrange(1001, 99999)}"), ("email", person(r)[2])]),
        shape="order-tracking",
    )


def shop_klaviyo(r: R) -> Record:
    b = Browser(r)
    data = {
        "token": r.alnum(6),
        "event": r.choice(["Viewed Product", "Added to Cart", "Started Checkout"]),
        "customer_properties": {"$email": person(r)[2], "$first_name": r.choice(FIRST)},
        "properties": {
            "ProductName": r.choice(PRODUCTS)[0],
            "Price": r.choice(PRODUCTS)[2],
            "URL": f"{SHOP}/products/{r.choice(PRODUCTS)[1]}?",
            "$use_ip": True,
            "$is_session_activity": True,
        },
        "time": r.ts(),
    }
    encoded = base64.b64encode(compact(data).encode()).decode()
    return record(
        "GET",
        "/api/track",
        b.headers(r, dest="image", site="cross-site", referer=SHOP + "/"),
        f"data={quote(encoded, safe='')}",
        shape="klaviyo-track",
    )


def shop_account_orders(r: R) -> Record:
    b = Browser(r)
    path, query = r.choice(
        [
            ("/account/orders", f"page={r.randrange(1, 4)}"),
            (f"/account/orders/{r.hex(32)}", None),
            ("/my-account/view-order/" + str(r.randrange(1000, 9999)) + "/", None),
            ("/sales/order/history/", "limit=20"),
            (
                "/account/returns/new",
                f"order_id={r.randrange(10**12, 10**13)}&line_item_ids%5B%5D={r.randrange(10**13, 10**14)}",
            ),
        ]
    )
    return record(
        "GET",
        path,
        b.headers(
            r,
            referer=SHOP + "/account",
            cookie=cookie_header(r, "none", extra=[f"secure_customer_sig={r.hex(32)}", f"_shopify_y={r.uuid()}"]),
        ),
        query,
        shape="account-orders",
    )


# ---------------------------------------------------------------------------------------------------------------
# Category: odata_soap (Microsoft Graph, SharePoint, Dataverse, SAP OData; SOAP 1.1/1.2, XML-RPC, plain XML APIs)
# ---------------------------------------------------------------------------------------------------------------


def odata_q(pairs: Sequence[tuple[str, str]]) -> str:
    """OData query options as SDKs write them: `$` kept, spaces as %20, quotes and commas kept."""
    return "&".join(f"{k}={quote(v, safe=chr(39) + ',()/:$=@')}" for k, v in pairs)


def graph_client(r: R) -> Headers:
    ua = r.choice(
        [
            "Microsoft Graph PowerShell SDK/2.15.0",
            "GraphClientDotNet/5.44.0",
            "msgraph-sdk-python/1.2.0",
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36",
            "python-requests/2.31.0",
        ]
    )
    h = [
        (
            "Authorization",
            "Bearer "
            + jwt(
                r,
                {
                    "aud": "https://graph.microsoft.com",
                    "iss": f"https://sts.windows.net/{r.uuid()}/",
                    "iat": r.ts(),
                    "exp": r.ts() + 3600,
                    "scp": "Mail.Read User.Read.All Group.Read.All",
                    "tid": r.uuid(),
                    "upn": person(r)[2],
                },
                kid=r.b64url(20),
            ),
        ),
        ("Accept", "application/json"),
        ("User-Agent", ua),
        ("client-request-id", r.uuid()),
        ("SdkVersion", "graph-dotnet/5.44.0"),
    ]
    return h


def odata_graph(r: R) -> Record:
    path, pairs, extra = r.choice(
        [
            (
                "/v1.0/me/messages",
                [
                    ("$select", "subject,from,receivedDateTime,isRead"),
                    ("$top", "25"),
                    ("$orderby", "receivedDateTime desc"),
                    ("$filter", "isRead eq false"),
                ],
                [],
            ),
            (
                "/v1.0/users",
                [
                    ("$filter", "startswith(displayName,'" + r.choice(["Jo", "O''Br", "Sel", "Uni"]) + "')"),
                    ("$count", "true"),
                    ("$select", "id,displayName,mail,jobTitle"),
                ],
                [("ConsistencyLevel", "eventual")],
            ),
            (
                "/v1.0/groups",
                [
                    ("$expand", "members($select=id,displayName)"),
                    ("$filter", "groupTypes/any(c:c eq 'Unified')"),
                    ("$top", "50"),
                ],
                [],
            ),
            (
                "/v1.0/users",
                [("$search", f'"displayName:{r.choice(FIRST)}"'), ("$orderby", "displayName"), ("$count", "true")],
                [("ConsistencyLevel", "eventual")],
            ),
            (
                "/v1.0/me/events",
                [
                    ("$select", "subject,organizer,start,end,location"),
                    ("$filter", f"start/dateTime ge '{iso(r.ts())[:19]}'"),
                    ("$orderby", "start/dateTime"),
                    ("$top", "10"),
                ],
                [("Prefer", 'outlook.timezone="Europe/Berlin"')],
            ),
            (
                "/v1.0/me/drive/root/children",
                [("$select", "name,size,lastModifiedDateTime,file,folder"), ("$orderby", "name asc")],
                [],
            ),
            ("/v1.0/sites/root/lists", [("$select", "name,displayName,list"), ("$filter", "list/hidden eq false")], []),
            ("/beta/reports/getEmailActivityUserDetail(period='D7')", [("$format", "application/json")], []),
            (
                "/v1.0/me/mailFolders/inbox/messages",
                [
                    ("$select", "subject"),
                    ("$filter", f"contains(subject,'{r.choice(['select', 'union', 'Re: order', 'drop-off'])}')"),
                    ("$top", "5"),
                ],
                [],
            ),
            ("/v1.0/users/" + person(r)[2] + "/manager", [("$select", "displayName,mail")], []),
        ]
    )
    return record("GET", path, graph_client(r) + extra, odata_q(pairs), shape="msgraph-odata")


def odata_sharepoint(r: R) -> Record:
    list_title = r.choice(["Documents", "Union Minutes", "Site Pages", "Select Vendors", "Tasks (old)"])
    pairs = [
        ("$select", "Title,Id,Modified,Author/Title,FileRef"),
        ("$expand", "Author"),
        (
            "$filter",
            r.choice(
                [
                    "Status eq 'Open'",
                    f"Modified ge datetime'{iso(r.ts())}'",
                    "substringof('union',Title)",
                    "Title eq 'O''Brien contract'",
                ]
            ),
        ),
        ("$orderby", "Modified desc"),
        ("$top", "100"),
    ]
    h = [
        ("Accept", r.choice(["application/json;odata=verbose", "application/json;odata=nometadata"])),
        ("Authorization", "Bearer " + r.b64url(900)),
        (
            "User-Agent",
            r.choice(
                [
                    "NONISV|Contoso|SyncTool/1.0",
                    "Mozilla/5.0 (compatible; MSIE 10.0) PnP.Framework/1.14",
                    "python-requests/2.31.0",
                ]
            ),
        ),
        ("X-ClientService-ClientTag", "PnPCoreSDK:1.11.0"),
    ]
    return record(
        "GET",
        f"/sites/intranet/_api/web/lists/getbytitle('{quote(list_title, safe='')}')/items",
        h,
        odata_q(pairs),
        shape="sharepoint-rest",
    )


def odata_dataverse(r: R) -> Record:
    if r.random() < 0.6:
        pairs = [
            ("$select", "name,revenue,accountnumber,_primarycontactid_value"),
            (
                "$filter",
                r.choice(
                    [
                        "contains(name,'(sample)')",
                        "revenue gt 100000 and statecode eq 0",
                        "startswith(name,'Select')",
                        "address1_city eq 'München'",
                    ]
                ),
            ),
            ("$orderby", "revenue desc"),
            ("$top", "50"),
            ("$expand", "primarycontactid($select=fullname,emailaddress1)"),
        ]
        h = [
            ("Accept", "application/json"),
            ("OData-MaxVersion", "4.0"),
            ("OData-Version", "4.0"),
            ("Prefer", 'odata.include-annotations="*",odata.maxpagesize=50'),
            ("Authorization", "Bearer " + access_token(r)),
            (
                "User-Agent",
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36",
            ),
        ]
        return record("GET", "/api/data/v9.2/accounts", h, odata_q(pairs), shape="dataverse-query")
    first, last, email = person(r)
    payload = {
        "firstname": first,
        "lastname": last,
        "emailaddress1": email,
        "jobtitle": r.choice(["Union representative", "Head of Select Accounts", "CFO"]),
        "parentcustomerid_account@odata.bind": f"/accounts({r.uuid()})",
        "description": r.choice(PROSE),
    }
    h = [
        ("Accept", "application/json"),
        ("Content-Type", "application/json; charset=utf-8"),
        ("OData-MaxVersion", "4.0"),
        ("OData-Version", "4.0"),
        ("Prefer", "return=representation"),
        ("Authorization", "Bearer " + access_token(r)),
    ]
    return record("POST", "/api/data/v9.2/contacts", h, body=compact(payload), shape="dataverse-create")


def odata_sap(r: R) -> Record:
    pairs = [
        ("$format", "json"),
        ("$inlinecount", "allpages"),
        ("$top", "50"),
        ("$skip", str(50 * r.randrange(0, 5))),
        (
            "$filter",
            r.choice(
                [
                    "SalesOrganization eq '1010' and OverallSDProcessStatus eq 'A'",
                    f"CreationDate ge datetime'{iso(r.ts())[:19]}'",
                    "substringof('Union',SoldToPartyName)",
                ]
            ),
        ),
        ("$select", "SalesOrder,SoldToParty,TotalNetAmount,TransactionCurrency"),
        ("$orderby", "SalesOrder desc"),
        ("sap-client", "100"),
    ]
    h = [
        ("Accept", "application/json"),
        ("Authorization", "Basic " + base64.b64encode(f"INT_USER:{password(r)}".encode()).decode()),
        (
            "User-Agent",
            r.choice(["SAP Cloud Connector", "Apache-HttpClient/4.5.14 (Java/17.0.10)", "python-requests/2.31.0"]),
        ),
        ("x-csrf-token", "Fetch"),
        ("sap-language", "EN"),
    ]
    return record("GET", "/sap/opu/odata/sap/API_SALES_ORDER_SRV/A_SalesOrder", h, odata_q(pairs), shape="sap-odata")


def odata_northwind(r: R) -> Record:
    """Plain OData v4 services: key predicates, navigation, functions and string literals with doubled quotes."""
    path, pairs = r.choice(
        [
            (
                "/odata/Customers",
                [
                    ("$select", "Name,City"),
                    ("$filter", "Country eq '" + r.choice(["Germany", "UK", "Côte d''Ivoire"]) + "'"),
                    ("$orderby", "Name"),
                ],
            ),
            (
                "/odata/Customers('ALFKI')/Orders",
                [("$filter", "Freight gt 50 and ShipCountry eq 'Germany'"), ("$top", "20")],
            ),
            ("/odata/Products(42)/Default.Discount(percentage=10)", []),
            (
                "/odata/People",
                [
                    ("$filter", "LastName eq '" + r.choice(["O''Brien", "D''Souza", "Smith"]) + "'"),
                    ("$expand", "Trips($filter=Budget gt 1000;$select=Name)"),
                ],
            ),
            (
                "/odata/Orders",
                [
                    ("$apply", "groupby((Customer/Country),aggregate(Amount with sum as Total))"),
                    ("$orderby", "Total desc"),
                ],
            ),
            ("/odata/Products", [("$search", r.choice(["select", "union jack", "drop leaf"])), ("$count", "true")]),
            (
                "/odata/Employees(5)",
                [("$select", "FirstName,LastName,Title"), ("$expand", "Orders($top=3;$orderby=OrderDate desc)")],
            ),
        ]
    )
    h = api_headers(
        r,
        ua=r.choice(
            [
                "Microsoft.OData.Client/7.20.0",
                "Excel/16.0 (Power Query)",
                "Microsoft.Data.Mashup (https://go.microsoft.com/fwlink/?LinkID=304225)",
                "Tableau/2023.3",
                "python-requests/2.31.0",
            ]
        ),
        accept="application/json;odata.metadata=minimal",
        auth="Bearer " + access_token(r),
        extra=[("OData-Version", "4.0")],
    )
    return record("GET", path, h, odata_q(pairs) if pairs else None, shape="odata-v4")


def odata_batch(r: R) -> Record:
    boundary = f"batch_{r.uuid()}"
    change = f"changeset_{r.uuid()}"
    first, last, email = person(r)
    body = (
        f"--{boundary}\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n"
        f"GET Customers?$select=Name,City&$filter=City%20eq%20'Berlin' HTTP/1.1\r\nAccept: application/json\r\n\r\n\r\n"
        f"--{boundary}\r\nContent-Type: multipart/mixed; boundary={change}\r\n\r\n"
        f"--{change}\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: 1\r\n\r\n"
        f"POST Customers HTTP/1.1\r\nContent-Type: application/json\r\n\r\n{compact({'Name': f'{first} {last}', 'City': r.choice(CITIES)[0], 'Email': email})}\r\n"
        f"--{change}\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: 2\r\n\r\n"
        f"PATCH Orders({r.randrange(10000, 99999)}) HTTP/1.1\r\nContent-Type: application/json\r\nIf-Match: *\r\n\r\n{compact({'Status': 'Shipped', 'Note': r.choice(PROSE)})}\r\n"
        f"--{change}--\r\n--{boundary}--\r\n"
    )
    h = api_headers(
        r,
        ua="Microsoft.OData.Client/7.20.0",
        accept="multipart/mixed",
        auth="Bearer " + access_token(r),
        content_type=f"multipart/mixed; boundary={boundary}",
        extra=[("OData-Version", "4.0"), ("OData-MaxVersion", "4.0")],
    )
    return record("POST", "/odata/$batch", h, body=body, shape="odata-batch")


def graph_batch(r: R) -> Record:
    reqs = [
        {"id": str(i + 1), "method": "GET", "url": u}
        for i, u in enumerate(
            r.pick(
                [
                    "/me?$select=displayName,mail",
                    "/me/messages?$top=5&$select=subject",
                    "/me/events?$filter=start/dateTime ge '2024-03-01T00:00'&$select=subject",
                    "/groups?$filter=startswith(displayName,'Union')",
                    "/me/drive/recent?$top=10",
                ],
                3,
            )
        )
    ]
    if r.random() < 0.4:
        reqs.append(
            {
                "id": "9",
                "method": "PATCH",
                "url": "/me/messages/" + r.b64url(100),
                "headers": {"Content-Type": "application/json"},
                "body": {"isRead": True},
            }
        )
    return record(
        "POST",
        "/v1.0/$batch",
        [*graph_client(r), ("Content-Type", "application/json")],
        body=compact({"requests": reqs}),
        shape="msgraph-batch",
    )


def soap_envelope(body: str, v12: bool = False, header: str = "") -> str:
    ns = "http://www.w3.org/2003/05/soap-envelope" if v12 else "http://schemas.xmlsoap.org/soap/envelope/"
    return f'<?xml version="1.0" encoding="utf-8"?>\n<soap:Envelope xmlns:soap="{ns}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">\n  <soap:Header>{header}</soap:Header>\n  <soap:Body>\n{body}\n  </soap:Body>\n</soap:Envelope>'


def soap_call(r: R) -> Record:
    first, last, email = person(r)
    kind = r.choice(["orders", "customer", "salesforce", "ews", "wssec", "v12"])
    ua = r.choice(
        [
            "Apache-CXF/3.5.7",
            "Axis2",
            "gSOAP/2.8",
            "Zeep/4.2.1 (www.python-zeep.org)",
            "Mozilla/4.0 (compatible; MSIE 6.0; MS Web Services Client Protocol 4.0.30319.42000)",
            "PHP-SOAP/8.2.16",
            "Java/17.0.10",
        ]
    )
    if kind == "orders":
        body = f'    <GetOrders xmlns="http://tempuri.org/">\n      <customerId>{r.randrange(1000, 99999)}</customerId>\n      <status>Open</status>\n      <orderBy>CreatedDate DESC</orderBy>\n      <select>Id,Total,Status</select>\n    </GetOrders>'
        return record(
            "POST",
            "/Services/OrderService.asmx",
            [
                ("User-Agent", ua),
                ("Content-Type", "text/xml; charset=utf-8"),
                ("SOAPAction", '"http://tempuri.org/GetOrders"'),
            ],
            body=soap_envelope(body),
            shape="soap11-asmx",
        )
    if kind == "customer":
        adr = address(r)
        body = f'    <ns2:UpdateCustomer xmlns:ns2="http://crm.example.com/ws/2019">\n      <customer>\n        <firstName>{esc_xml(first)}</firstName>\n        <lastName>{esc_xml(last)}</lastName>\n        <email>{email}</email>\n        <company>{esc_xml(r.choice(COMPANIES))}</company>\n        <street>{esc_xml(adr["line1"])}</street>\n        <city>{esc_xml(adr["city"])}</city>\n        <notes>{esc_xml(r.choice(PROSE))}</notes>\n      </customer>\n    </ns2:UpdateCustomer>'
        return record(
            "POST",
            "/ws/CustomerService",
            [("Content-Type", "text/xml;charset=UTF-8"), ("SOAPAction", '""'), ("User-Agent", ua), ("Accept", "*/*")],
            body=soap_envelope(body),
            shape="soap11-cxf",
        )
    if kind == "salesforce":
        body = f'    <n1:login xmlns:n1="urn:partner.soap.sforce.com">\n      <n1:username>{email}</n1:username>\n      <n1:password>{esc_xml(password(r))}{r.alnum(24)}</n1:password>\n    </n1:login>'
        return record(
            "POST",
            "/services/Soap/u/59.0",
            [
                ("Content-Type", "text/xml; charset=UTF-8"),
                ("SOAPAction", "login"),
                ("User-Agent", "simple-salesforce/1.12.5"),
                ("Accept", "*/*"),
            ],
            body=soap_envelope(body),
            shape="salesforce-soap-login",
        )
    if kind == "ews":
        body = f'    <m:FindItem Traversal="Shallow" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types">\n      <m:ItemShape><t:BaseShape>IdOnly</t:BaseShape><t:AdditionalProperties><t:FieldURI FieldURI="item:Subject"/><t:FieldURI FieldURI="item:DateTimeReceived"/></t:AdditionalProperties></m:ItemShape>\n      <m:IndexedPageItemView MaxEntriesReturned="50" Offset="0" BasePoint="Beginning"/>\n      <m:Restriction><t:Contains ContainmentMode="Substring" ContainmentComparison="IgnoreCase"><t:FieldURI FieldURI="item:Subject"/><t:Constant Value="{r.choice(["union", "select", "invoice", "drop"])}"/></t:Contains></m:Restriction>\n      <m:ParentFolderIds><t:DistinguishedFolderId Id="inbox"/></m:ParentFolderIds>\n    </m:FindItem>'
        header = '<t:RequestServerVersion Version="Exchange2016" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"/>'
        return record(
            "POST",
            "/EWS/Exchange.asmx",
            [
                ("Content-Type", "text/xml; charset=utf-8"),
                (
                    "User-Agent",
                    r.choice(
                        [
                            "ExchangeServicesClient/15.00.0913.015",
                            "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17328; Pro)",
                        ]
                    ),
                ),
                ("Authorization", "Bearer " + access_token(r)),
                ("Accept", "text/xml"),
            ],
            body=soap_envelope(body, header=header),
            shape="ews-finditem",
        )
    if kind == "wssec":
        header = f'<wsse:Security soap:mustUnderstand="1" xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd" xmlns:wsu="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"><wsse:UsernameToken wsu:Id="UsernameToken-{r.hex(32)}"><wsse:Username>{r.choice(["svc_billing", "integration"])}</wsse:Username><wsse:Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText">{esc_xml(password(r))}</wsse:Password><wsse:Nonce EncodingType="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary">{r.b64(16)}</wsse:Nonce><wsu:Created>{iso(r.ts(), ms=True)}</wsu:Created></wsse:UsernameToken></wsse:Security>'
        body = f'    <inv:SubmitInvoice xmlns:inv="http://billing.example.com/invoice/v2">\n      <inv:InvoiceNumber>INV-2024-{r.digits(5)}</inv:InvoiceNumber>\n      <inv:Amount currency="EUR">{r.uniform(10, 9000):.2f}</inv:Amount>\n      <inv:Description>{esc_xml(r.choice(PROSE))}</inv:Description>\n    </inv:SubmitInvoice>'
        return record(
            "POST",
            "/billing/InvoiceService",
            [("Content-Type", "text/xml;charset=UTF-8"), ("SOAPAction", '"urn:SubmitInvoice"'), ("User-Agent", ua)],
            body=soap_envelope(body, header=header),
            shape="soap-wssecurity",
        )
    body = f'    <GetQuote xmlns="http://www.example.com/stock">\n      <Symbol>{r.choice(["MSFT", "AAPL", "UNP", "SLCT"])}</Symbol>\n      <Comment>{esc_xml(r.choice(PROSE))}</Comment>\n    </GetQuote>'
    return record(
        "POST",
        "/StockService.svc",
        [
            ("Content-Type", 'application/soap+xml; charset=utf-8; action="http://www.example.com/stock/GetQuote"'),
            ("User-Agent", ua),
        ],
        body=soap_envelope(body, v12=True),
        shape="soap12",
    )


def xmlrpc(r: R) -> Record:
    method, params = r.choice(
        [
            (
                "wp.getPosts",
                f"<param><value><int>1</int></value></param><param><value><string>{r.choice(FIRST).lower()}</string></value></param><param><value><string>{esc_xml(password(r))}</string></value></param><param><value><struct><member><name>number</name><value><int>20</int></value></member><member><name>post_status</name><value><string>publish</string></value></member></struct></value></param>",
            ),
            (
                "metaWeblog.newPost",
                f"<param><value><string>1</string></value></param><param><value><string>editor</string></value></param><param><value><string>{esc_xml(password(r))}</string></value></param><param><value><struct><member><name>title</name><value><string>{esc_xml(r.choice(TITLES))}</string></value></member><member><name>description</name><value><string>{esc_xml(html_post(r))}</string></value></member></struct></value></param><param><value><boolean>0</boolean></value></param>",
            ),
            ("system.listMethods", ""),
        ]
    )
    body = f'<?xml version="1.0"?>\n<methodCall><methodName>{method}</methodName><params>{params}</params></methodCall>'
    return record(
        "POST",
        "/xmlrpc.php",
        [
            (
                "User-Agent",
                r.choice(
                    ["wp-iphone/24.3 (iOS 17.3.1, iPhone15,2) Mobile", "MarsEdit/5.1.2", "Jetpack by WordPress.com"]
                ),
            ),
            ("Content-Type", "text/xml"),
            ("Accept", "*/*"),
        ],
        body=body,
        shape="xml-rpc",
    )


def xml_api(r: R) -> Record:
    first, last, email = person(r)
    if r.random() < 0.5:
        items = "".join(
            f"<Item><Sku>{p[1][:12].upper()}</Sku><Name>{esc_xml(p[0])}</Name><Qty>{r.randrange(1, 5)}</Qty><Price>{p[2]}</Price></Item>"
            for p in r.pick(PRODUCTS, r.randrange(1, 4))
        )
        body = f'<?xml version="1.0" encoding="UTF-8"?>\n<Order xmlns="urn:example:orders:v1">\n  <OrderId>{r.randrange(10**6, 10**7)}</OrderId>\n  <Customer><Name>{esc_xml(first + " " + last)}</Name><Email>{email}</Email></Customer>\n  <Items>{items}</Items>\n  <Notes><![CDATA[{r.choice(PROSE)}]]></Notes>\n</Order>\n'
        h = api_headers(
            r,
            ua=r.choice(
                [
                    "Apache-HttpClient/4.5.14 (Java/17.0.10)",
                    "Go-http-client/1.1",
                    "SAP NetWeaver Application Server / ABAP 757",
                ]
            ),
            accept="application/xml",
            auth="Basic " + base64.b64encode(f"erp:{password(r)}".encode()).decode(),
            content_type=r.choice(["application/xml", "application/xml; charset=utf-8", "text/xml"]),
        )
        return record("POST", "/api/orders", h, body=body, shape="xml-order")
    path, accept = r.choice(
        [
            (
                "/feed.xml",
                "application/rss+xml, application/rdf+xml;q=0.8, application/atom+xml;q=0.6, application/xml;q=0.4, text/xml;q=0.4",
            ),
            ("/blog/atom.xml", "application/atom+xml,application/xml;q=0.9"),
            ("/sitemap_index.xml", "application/xml"),
            ("/api/v1/products.xml", "application/xml"),
        ]
    )
    h = [
        (
            "User-Agent",
            r.choice(
                [
                    "Feedly/1.0 (+http://www.feedly.com/fetcher.html; 12 subscribers)",
                    "NetNewsWire (RSS Reader; https://netnewswire.com/)",
                    "Mozilla/5.0 (compatible; inoreader.com; 5 subscribers)",
                    "FreshRSS/1.23.1 (Linux; https://freshrss.org)",
                ]
            ),
        ),
        ("Accept", accept),
        ("Accept-Encoding", "gzip"),
        ("If-Modified-Since", httpdate(r.ts())),
    ]
    return record("GET", path, h, shape="feed-fetch")


# ---------------------------------------------------------------------------------------------------------------
# Category: static_assets (scripts, styles, images, fonts, media, well-known files)
# ---------------------------------------------------------------------------------------------------------------


def asset_request(
    r: R,
    path: str,
    dest: str,
    query: str | None = None,
    shape: str = "asset",
    extra: Headers | None = None,
    origin: str | None = None,
) -> Record:
    b = Browser(r)
    page = SITE + r.choice(PAGES)
    cookie = cookie_header(r, "none") if r.random() < 0.6 else None
    h = b.headers(
        r,
        dest=dest,
        site=r.choice(["same-origin", "same-origin", "same-site"]),
        referer=page,
        cookie=cookie,
        origin=origin,
        extra=extra,
    )
    return record("GET", path, h, query, shape=shape)


def static_bundle(r: R) -> Record:
    path, dest = r.choice(
        [
            (f"/static/js/main.{r.hex(8)}.js", "script"),
            (f"/static/css/main.{r.hex(8)}.css", "style"),
            (f"/_next/static/chunks/pages/_app-{r.hex(16)}.js", "script"),
            (f"/_next/static/chunks/{r.randrange(100, 999)}-{r.hex(16)}.js", "script"),
            (f"/_next/static/css/{r.hex(16)}.css", "style"),
            (f"/_nuxt/{r.alnum(8)}.js", "script"),
            (f"/assets/index-{r.alnum(8)}.js", "script"),
            (f"/assets/application-{r.hex(64)}.css", "style"),
            (f"/build/app.{r.hex(20)}.js", "script"),
            (f"/dist/vendors~main.{r.hex(8)}.chunk.js", "script"),
            (f"/packs/js/application-{r.hex(20)}.js", "script"),
            ("/js/select2.min.js", "script"),
            ("/js/union-find.worker.js", "script"),
            ("/static/js/exec-summary.bundle.js", "script"),
            ("/css/drop-zone.css", "style"),
        ]
    )
    return asset_request(r, path, dest, shape="bundle")


def static_wordpress(r: R) -> Record:
    path, dest = r.choice(
        [
            ("/wp-content/themes/twentytwentyfour/style.css", "style"),
            ("/wp-includes/js/jquery/jquery.min.js", "script"),
            ("/wp-includes/css/dist/block-library/style.min.css", "style"),
            ("/wp-content/plugins/woocommerce/assets/js/frontend/cart-fragments.min.js", "script"),
            ("/wp-content/plugins/contact-form-7/includes/js/index.js", "script"),
            ("/wp-includes/js/wp-emoji-release.min.js", "script"),
            (f"/wp-content/uploads/2024/0{r.randrange(1, 4)}/IMG_{r.digits(4)}-1024x768.jpg", "image"),
            (
                f"/wp-content/uploads/2024/03/union-square-market-{r.choice(['300x200', '768x512', 'scaled'])}.webp",
                "image",
            ),
        ]
    )
    return asset_request(
        r,
        path,
        dest,
        None if dest == "image" else f"ver={r.choice(['6.4.3', '3.7.1', '8.6.1', '1.0.2'])}",
        shape="wordpress-asset",
    )


def static_image(r: R) -> Record:
    p = r.choice(PRODUCTS)
    path, query = r.choice(
        [
            ("/images/hero@2x.webp", None),
            (f"/img/products/{p[1]}.jpg", f"w={r.choice([320, 640, 960, 1280])}&q=80&fm=webp"),
            ("/_next/image", f"url=%2Fimages%2F{p[1]}.jpg&w={r.choice([640, 750, 828, 1080, 1200, 1920])}&q=75"),
            (f"/cdn-cgi/image/width={r.choice([400, 800])},quality=80,format=auto/uploads/{p[1]}.jpg", None),
            (f"/cdn/shop/files/{p[1]}_{r.uuid()}.jpg", f"v={r.ts()}&width={r.choice([360, 533, 720, 940, 1066])}"),
            (f"/media/catalog/product/cache/{r.hex(32)}/{p[1][0]}/{p[1][1]}/{p[1]}.jpg", None),
            (f"/avatars/{r.uuid()}.png", "s=64"),
            ("/icons/sprite.svg", None),
            (f"/uploads/{r.uuid()}/Screenshot%202024-03-12%20at%2010.12.33.png", None),
            ("/images/select-arrow.svg", None),
            ("/img/union-jack-flag.png", None),
            ("/static/img/c%23-logo.svg", None),
        ]
    )
    return asset_request(r, path, "image", query, shape="image")


def static_font(r: R) -> Record:
    if r.random() < 0.4:
        family = r.choice(
            [
                "Inter:wght@400;600;700",
                "Roboto:ital,wght@0,400;0,700;1,400",
                "Source+Code+Pro:wght@400;600",
                "Playfair+Display:wght@700",
                "Noto+Sans+JP:wght@400;700",
            ]
        )
        return asset_request(r, "/css2", "style", f"family={family}&display=swap", shape="font-css")
    path = r.choice(
        [
            "/fonts/inter-var.woff2",
            "/fonts/Inter-roman.var.woff2?v=3.19",
            f"/static/media/roboto-latin-400-normal.{r.hex(8)}.woff2",
            "/assets/fonts/SourceCodePro-Regular.ttf.woff2",
            "/fonts/fa-solid-900.woff2",
            "/s/inter/v13/UcC73FwrK3iLTeHuS_fvQtMwCp50KnMa1ZL7.woff2",
        ]
    )
    path, _, query = path.partition("?")
    return asset_request(r, path, "font", query or None, shape="font", origin=SITE)


def static_wellknown(r: R) -> Record:
    path = r.choice(
        [
            "/favicon.ico",
            "/apple-touch-icon.png",
            "/apple-touch-icon-precomposed.png",
            "/manifest.webmanifest",
            "/site.webmanifest",
            "/robots.txt",
            "/sitemap.xml",
            "/ads.txt",
            "/humans.txt",
            "/browserconfig.xml",
            "/.well-known/apple-app-site-association",
            "/.well-known/assetlinks.json",
            "/.well-known/security.txt",
            "/.well-known/change-password",
            "/.well-known/traffic-advice",
            "/favicon-32x32.png",
            "/safari-pinned-tab.svg",
        ]
    )
    if path.endswith(("association", "assetlinks.json")):
        ua = r.choice(
            [
                "AASA-Bot/1.0.0",
                "Dalvik/2.1.0 (Linux; U; Android 14; Pixel 8 Build/UQ1A.240205.004)",
                "swcd (unknown version) CFNetwork/1490.0.4 Darwin/23.2.0",
            ]
        )
        return record(
            "GET",
            path,
            [("User-Agent", ua), ("Accept", "*/*"), ("Accept-Encoding", "gzip, deflate, br")],
            shape="well-known-app",
        )
    if path in ("/robots.txt", "/sitemap.xml", "/ads.txt", "/.well-known/traffic-advice") and r.random() < 0.6:
        ua, accept = r.choice(BOTS)
        return record(
            "GET", path, [("User-Agent", ua), ("Accept", accept), ("Accept-Encoding", "gzip")], shape="well-known-bot"
        )
    dest = "manifest" if "manifest" in path else ("image" if path.endswith((".ico", ".png", ".svg")) else "document")
    return asset_request(r, path, dest, shape="well-known")


def static_media(r: R) -> Record:
    b = Browser(r)
    if r.random() < 0.5:
        start = r.choice([0, 0, 1048576, 5242880, 17825792])
        extra: Headers = [("Range", f"bytes={start}-")]
        path = r.choice(
            [
                "/videos/product-tour.mp4",
                "/media/union-square-popup-2024.webm",
                "/audio/episode-42-the-drop.mp3",
                "/uploads/select-highlights.mov",
            ]
        )
        h = b.headers(
            r, dest="video" if not path.endswith("mp3") else "audio", referer=SITE + "/", extra=extra, accept="*/*"
        )
        return record("GET", path, h, shape="media-range")
    path = r.choice(
        [
            "/hls/tour/master.m3u8",
            f"/hls/tour/720p/segment_{r.randrange(0, 300):05d}.ts",
            f"/dash/tour/video_1080p_{r.randrange(1, 200)}.m4s",
            "/hls/tour/720p/index.m3u8",
        ]
    )
    h = b.headers(r, dest="empty", site="same-site", origin=SITE, referer=SITE + "/", accept="*/*")
    return record(
        "GET", path, h, f"token={r.b64url(24)}&expires={r.ts()}" if r.random() < 0.4 else None, shape="media-streaming"
    )


def static_sourcemap(r: R) -> Record:
    b = Browser(r, "chrome")
    path = r.choice(
        [
            f"/static/js/main.{r.hex(8)}.js.map",
            f"/_next/static/chunks/pages/_app-{r.hex(16)}.js.map",
            f"/assets/index-{r.alnum(8)}.css.map",
        ]
    )
    h: Headers = [
        ("User-Agent", b.ua),
        ("Accept", "*/*"),
        ("Sec-Fetch-Site", "none"),
        ("Sec-Fetch-Mode", "no-cors"),
        ("Sec-Fetch-Dest", "empty"),
        ("Accept-Encoding", "gzip, deflate, br, zstd"),
        ("Accept-Language", b.lang),
    ]
    return record("GET", path, h, shape="sourcemap")


def static_service_worker(r: R) -> Record:
    b = Browser(r, "chrome")
    path = r.choice(["/sw.js", "/service-worker.js", "/firebase-messaging-sw.js", "/OneSignalSDKWorker.js"])
    h = b.headers(
        r,
        dest="serviceworker",
        referer=SITE + "/",
        accept="*/*",
        extra=[("Service-Worker", "script"), ("Cache-Control", "max-age=0")],
    )
    return record("GET", path, h, r.choice([None, "v=" + r.hex(8), "appId=" + r.uuid()]), shape="service-worker")


def static_revalidate(r: R) -> Record:
    b = Browser(r)
    path, dest = r.choice(
        [
            (f"/static/js/main.{r.hex(8)}.js", "script"),
            ("/css/site.css", "style"),
            ("/images/logo.svg", "image"),
            ("/favicon.ico", "image"),
            ("/api/config.json", "empty"),
        ]
    )
    extra: Headers = [
        ("If-None-Match", r.choice([f'"{r.hex(16)}"', f'W/"{r.hex(5)}-{r.b64url(27)}"', f'"{r.hex(8)}-{r.hex(13)}"']))
    ]
    if r.random() < 0.6:
        extra.append(("If-Modified-Since", httpdate(r.ts())))
    h = b.headers(r, dest=dest, referer=SITE + "/", extra=extra)
    return record("GET", path, h, shape="asset-revalidate")


def static_prefetch(r: R) -> Record:
    b = Browser(r, "chrome")
    path = r.choice(
        [
            "/pricing",
            "/blog/" + r.choice(BLOG_SLUGS),
            "/products/" + r.choice(PRODUCTS)[1],
            "/docs/sql/select-statement",
        ]
    )
    h = b.headers(
        r,
        referer=SITE + "/",
        cookie=cookie_header(r, "none"),
        extra=[("Sec-Purpose", r.choice(["prefetch", "prefetch;prerender"])), ("Purpose", "prefetch")],
    )
    return record("GET", path, h, shape="speculative-prefetch")


def static_cdn_pull(r: R) -> Record:
    """A CDN fetching from the origin on a cache miss, with its own headers."""
    cdn = r.choice(["cloudfront", "fastly", "akamai"])
    path = r.choice(
        [
            f"/static/js/main.{r.hex(8)}.js",
            "/images/hero@2x.webp",
            "/fonts/inter-var.woff2",
            f"/cdn/shop/files/{r.choice(PRODUCTS)[1]}.jpg",
        ]
    )
    if cdn == "cloudfront":
        h: Headers = [
            ("User-Agent", "Amazon CloudFront"),
            ("Accept-Encoding", "gzip"),
            ("Via", f"1.1 {r.hex(32)}.cloudfront.net (CloudFront)"),
            ("X-Amz-Cf-Id", r.b64url(42)),
        ]
    elif cdn == "fastly":
        h = [
            ("User-Agent", "Mozilla/5.0 (compatible; Fastly-Shield)"),
            ("Accept-Encoding", "gzip"),
            ("Via", "1.1 varnish"),
            ("Fastly-FF", f"{r.b64(32)}!FRA!cache-fra-{r.digits(7)}-FRA"),
        ]
    else:
        h = [
            ("User-Agent", "Akamai-Origin-Hop"),
            ("Accept-Encoding", "gzip"),
            ("Via", "1.1 akamai.net(ghost) (AkamaiGHost)"),
        ]
    return record("GET", path, h, shape="cdn-origin-pull")


# ---------------------------------------------------------------------------------------------------------------
# Category: mobile_api (iOS/Android/Flutter apps: JSON APIs, analytics, push, IAP, crash reports, MDM plists, protobuf)
# ---------------------------------------------------------------------------------------------------------------

IOS_DEVICES = ["iPhone15,2", "iPhone15,3", "iPhone14,5", "iPhone16,1", "iPhone13,2", "iPad13,18"]
ANDROID_DEVICES = [
    ("Pixel 8", "UQ1A.240205.004", "14"),
    ("SM-S918B", "UP1A.231005.007", "14"),
    ("moto g power (2022)", "S3RQS32.20-42-10-6", "12"),
    ("22101316G", "TKQ1.221114.001", "13"),
]


def mobile_headers(r: R, content_type: str | None = None, auth: bool = True) -> Headers:
    platform = r.choice(["ios", "android", "flutter"])
    ver = f"{r.randrange(4, 7)}.{r.randrange(0, 30)}.{r.randrange(0, 9)}"
    build = r.randrange(1000, 9000)
    h: Headers = []
    if platform == "ios":
        dev = r.choice(IOS_DEVICES)
        ios = r.choice(["17.3.1", "17.4", "16.7.5"])
        ua = r.choice(
            [
                f"ExampleApp/{ver} (com.example.app; build:{build}; iOS {ios}) Alamofire/5.8.1",
                f"ExampleApp/{build} CFNetwork/1490.0.4 Darwin/23.2.0",
            ]
        )
        h += [
            ("Accept", "application/json"),
            ("Accept-Language", r.choice(["en-US;q=1.0, de-US;q=0.9", "en-GB;q=1.0", "fr-FR;q=1.0, en-FR;q=0.9"])),
            ("Accept-Encoding", "br;q=1.0, gzip;q=0.9, deflate;q=0.8"),
            ("User-Agent", ua),
        ]
        h += [
            ("X-App-Version", ver),
            ("X-App-Build", str(build)),
            ("X-Device-Model", dev),
            ("X-OS-Version", ios),
            ("X-Platform", "ios"),
        ]
    elif platform == "android":
        model, build_id, android = r.choice(ANDROID_DEVICES)
        h += [
            ("Accept", "application/json"),
            ("X-App-Version", ver),
            ("X-Platform", "android"),
            ("X-Device-Model", model),
            ("X-OS-Version", android),
            ("Accept-Language", r.choice(["en-US", "de-DE", "pt-BR"])),
        ]
    else:
        h += [
            ("user-agent", "Dart/3.3 (dart:io)"),
            ("accept", "application/json"),
            ("accept-encoding", "gzip"),
            ("x-app-version", ver),
            ("x-platform", r.choice(["ios", "android"])),
        ]
    if auth:
        h.append(("Authorization" if platform != "flutter" else "authorization", "Bearer " + access_token(r)))
    h.append(
        (
            "X-Device-Id" if platform != "flutter" else "x-device-id",
            r.uuid().upper() if platform == "ios" else r.hex(16),
        )
    )
    if r.random() < 0.5:
        h.append(("X-Request-Id" if platform != "flutter" else "x-request-id", r.uuid()))
    if content_type:
        h.append(("Content-Type" if platform != "flutter" else "content-type", content_type))
    if platform == "android":
        model, build_id, android = r.choice(ANDROID_DEVICES)
        h += [
            ("Accept-Encoding", "gzip"),
            (
                "User-Agent",
                r.choice(
                    [
                        "okhttp/4.12.0",
                        f"Dalvik/2.1.0 (Linux; U; Android {android}; {model} Build/{build_id})",
                        f"ExampleApp/{ver} (Android {android}; {model})",
                    ]
                ),
            ),
        ]
    return h


def mobile_get(r: R) -> Record:
    path, query = r.choice(
        [
            ("/api/v3/feed", f"cursor={r.b64url(16)}&limit=20"),
            ("/api/v3/me", None),
            ("/api/v3/notifications", "unread=true&limit=50"),
            ("/api/v3/stores/nearby", f"lat={r.uniform(-40, 60):.6f}&lng={r.uniform(-120, 150):.6f}&radius_km=5"),
            ("/api/v3/orders", "status=active,preparing&include=items"),
            ("/api/v3/conversations/" + r.uuid() + "/messages", f"before={iso(r.ts(), ms=True)}&limit=30"),
            (
                "/api/v3/search",
                "q=" + js_component(r.choice(SHOP_SEARCHES + GENERAL_SEARCHES)) + "&types=product,store",
            ),
            ("/api/v3/config", f"platform=ios&version={r.randrange(4, 7)}.{r.randrange(0, 30)}.0"),
            ("/api/v3/users/" + r.uuid() + "/followers", "page=2"),
        ]
    )
    h = mobile_headers(r)
    if r.random() < 0.2:
        h.append(("If-None-Match", f'"{r.hex(32)}"'))
    return record("GET", path, h, query, shape="mobile-get")


def mobile_push_register(r: R) -> Record:
    if r.random() < 0.5:
        payload = {
            "token": r.hex(64),
            "platform": "apns",
            "environment": "production",
            "bundle_id": "com.example.app",
            "locale": "en_US",
            "timezone": "America/New_York",
            "topics": ["orders", "union-news"],
        }
    else:
        payload = {
            "token": f"{r.b64url(16)}:APA91b{r.b64url(120)}",
            "platform": "fcm",
            "app_version": "5.12.0",
            "locale": "de_DE",
            "timezone": "Europe/Berlin",
            "topics": ["orders", "promotions"],
        }
    return record(
        "POST",
        "/api/v3/devices",
        mobile_headers(r, "application/json"),
        body=compact(payload),
        shape="push-registration",
    )


def mobile_analytics(r: R) -> Record:
    """Analytics SDK batches (Segment, Amplitude shapes); many SDKs gzip the body."""
    events = []
    for _ in range(r.randrange(2, 10)):
        events.append(
            {
                "type": "track",
                "event": r.choice(
                    [
                        "Screen Viewed",
                        "Product Selected",
                        "Search Performed",
                        "Order Completed",
                        "Drop-off Point Chosen",
                        "Union Card Scanned",
                    ]
                ),
                "properties": {
                    "screen": r.choice(["Home", "Search", "Cart", "Checkout"]),
                    "query": r.choice(["", "select comfort", "drop earrings", "c#"]),
                    "value": round(r.uniform(0, 200), 2),
                },
                "timestamp": iso(r.ts(), ms=True),
                "messageId": r.uuid(),
                "anonymousId": r.uuid(),
            }
        )
    payload = {
        "batch": events,
        "context": {
            "app": {"name": "Example", "version": "5.12.0", "build": "5120"},
            "device": {"manufacturer": "Apple", "model": r.choice(IOS_DEVICES)},
            "os": {"name": "iOS", "version": "17.3.1"},
            "library": {"name": "analytics-ios", "version": "4.1.8"},
            "locale": "en-US",
            "timezone": "America/Chicago",
            "network": {"wifi": True},
        },
        "sentAt": iso(r.ts(), ms=True),
    }
    raw = compact(payload).encode()
    h = mobile_headers(r, "application/json", auth=False)
    h.append(("Authorization", "Basic " + base64.b64encode(f"{r.alnum(32)}:".encode()).decode()))
    if r.random() < 0.5:
        h.append(("Content-Encoding", "gzip"))
        return record("POST", "/v1/batch", h, body=gzip.compress(raw, mtime=0), shape="analytics-batch-gzip")
    return record("POST", "/v1/batch", h, body=raw.decode(), shape="analytics-batch")


def mobile_chat(r: R) -> Record:
    text = r.choice(
        [
            "Meet at 5?",
            "I'll bring the 🍕",
            "lol && then what happened",
            "Running late, select a table for us pls",
            "<3",
            "Did you drop off the keys?",
            "brb",
            "The union meeting got moved to Thu",
            "ok 👍",
            "$20 for the tickets, send via app",
            "Check this: https://example.com/p/abc?ref=share&",
            paragraph(r, 1),
        ]
    )
    payload: dict[str, Any] = {
        "client_message_id": r.uuid(),
        "conversation_id": r.uuid(),
        "text": text,
        "attachments": [],
        "mentions": [],
        "reply_to": r.choice([None, r.uuid()]),
        "sent_at": iso(r.ts(), ms=True),
    }
    return record(
        "POST",
        "/api/v3/messages",
        mobile_headers(r, "application/json; charset=utf-8"),
        body=compact(payload),
        shape="chat-message",
    )


def mobile_location(r: R) -> Record:
    points = [
        {
            "lat": round(r.uniform(51.4, 51.6), 6),
            "lng": round(r.uniform(-0.2, 0.1), 6),
            "accuracy": r.randrange(3, 60),
            "speed": round(r.uniform(0, 14), 1),
            "ts": iso(r.ts(), ms=True),
        }
        for _ in range(r.randrange(1, 8))
    ]
    return record(
        "POST",
        "/api/v3/trips/" + r.uuid() + "/locations",
        mobile_headers(r, "application/json"),
        body=compact({"points": points, "battery": r.randrange(5, 100), "charging": r.random() < 0.2}),
        shape="location-batch",
    )


def mobile_iap(r: R) -> Record:
    if r.random() < 0.5:
        payload: dict[str, Any] = {"receipt-data": r.b64(3000), "password": r.hex(32), "exclude-old-transactions": True}
    else:
        payload = {
            "packageName": "com.example.app",
            "productId": r.choice(["premium_monthly", "select_annual", "coins_500"]),
            "purchaseToken": r.alnum(24, "abcdefghijklmnopqrstuvwxyz") + "." + r.b64url(120),
            "orderId": f"GPA.{r.digits(4)}-{r.digits(4)}-{r.digits(4)}-{r.digits(5)}",
        }
    return record(
        "POST",
        "/api/v3/purchases/verify",
        mobile_headers(r, "application/json"),
        body=compact(payload),
        shape="iap-verify",
    )


def mobile_crash(r: R) -> Record:
    if r.random() < 0.5:
        trace = (
            "java.lang.NullPointerException: Attempt to invoke virtual method 'java.lang.String android.content.Context.getPackageName()' on a null object reference\n"
            "\tat com.example.app.ui.select.SelectStoreFragment.onViewCreated(SelectStoreFragment.kt:87)\n"
            "\tat androidx.fragment.app.Fragment.performViewCreated(Fragment.java:3128)\n"
            "\tat androidx.fragment.app.FragmentStateManager.createView(FragmentStateManager.java:552)\n"
            "\tat android.os.Handler.dispatchMessage(Handler.java:106)\n\tat android.os.Looper.loop(Looper.java:223)\n"
            "\tat com.android.internal.os.ZygoteInit.main(ZygoteInit.java:947)\n"
        )
        payload: dict[str, Any] = {
            "platform": "android",
            "exception": trace,
            "thread": "main",
            "app_version": "5.12.0 (5120)",
            "device": r.choice(ANDROID_DEVICES)[0],
            "os": "Android 14",
            "free_disk": r.randrange(10**8, 10**10),
            "breadcrumbs": ["SelectStoreFragment created", "GET /api/v3/stores/nearby 200", "user tapped 'Union Sq.'"],
        }
    else:
        trace = "Fatal error: Unexpectedly found nil while unwrapping an Optional value\n0   ExampleApp  0x0000000102a1c3f4 CartViewController.select(item:) + 312 (CartViewController.swift:142)\n1   UIKitCore   0x00000001a1b2c3d4 -[UITableView _selectRowAtIndexPath:animated:scrollPosition:notifyDelegate:] + 1640\n2   libdispatch.dylib 0x00000001a0c1d2e3 _dispatch_call_block_and_release + 32\n"
        payload = {
            "platform": "ios",
            "exception": trace,
            "app_version": "5.12.0 (5120)",
            "device": r.choice(IOS_DEVICES),
            "os": "iOS 17.3.1",
            "memory_warning": False,
            "breadcrumbs": ["CartViewController viewDidAppear", "tap: Drop item", "select(item:)"],
        }
    return record(
        "POST",
        "/api/v3/crashes",
        mobile_headers(r, "application/json", auth=False),
        body=compact(payload),
        shape="crash-report",
    )


def plist(entries: dict[str, Any]) -> str:
    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "<true/>" if v else "<false/>"
        if isinstance(v, int):
            return f"<integer>{v}</integer>"
        if isinstance(v, bytes):
            return f"<data>{base64.b64encode(v).decode()}</data>"
        if isinstance(v, list):
            return "<array>" + "".join(value(x) for x in v) + "</array>"
        if isinstance(v, dict):
            return "<dict>" + "".join(f"<key>{esc_xml(k)}</key>{value(x)}" for k, x in v.items()) + "</dict>"
        return f"<string>{esc_xml(str(v))}</string>"

    inner = "\n".join(f"\t<key>{esc_xml(k)}</key>\n\t{value(v)}" for k, v in entries.items())
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n<plist version="1.0">\n<dict>\n{inner}\n</dict>\n</plist>\n'


def mobile_mdm(r: R) -> Record:
    """Apple MDM: device check-in and command results are XML property lists."""
    udid = f"0000{r.digits(4)}-{r.hex(16).upper()}"
    kind = r.choice(["Authenticate", "TokenUpdate", "CheckOut", "command"])
    ua = r.choice(["MDM/1.0", "MDM-OSX/1.0 mdmclient/1.0", "MDMClient/1.0"])
    if kind == "command":
        body = plist(
            {
                "CommandUUID": r.uuid().upper(),
                "Status": r.choice(["Acknowledged", "NotNow", "Idle"]),
                "UDID": udid,
                "QueryResponses": {
                    "DeviceName": f"{r.choice(FIRST)}'s iPhone",
                    "OSVersion": "17.3.1",
                    "ProductName": r.choice(IOS_DEVICES),
                    "SerialNumber": r.alnum(12, "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"),
                    "IsSupervised": True,
                },
            }
        )
        return record(
            "PUT",
            "/mdm/connect",
            [
                ("Content-Type", "application/x-apple-aspen-mdm"),
                ("User-Agent", ua),
                ("Accept", "*/*"),
                ("Mdm-Signature", r.b64(600)),
            ],
            body=body,
            shape="apple-mdm-command",
        )
    entries: dict[str, Any] = {"MessageType": kind, "Topic": "com.apple.mgmt.External." + r.uuid(), "UDID": udid}
    if kind == "Authenticate":
        entries.update(
            {
                "BuildVersion": "21D61",
                "DeviceName": f"{r.choice(FIRST)}'s iPad",
                "Model": "iPad13,18",
                "ModelName": "iPad",
                "OSVersion": "17.3.1",
                "ProductName": "iPad13,18",
                "SerialNumber": r.alnum(12, "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"),
            }
        )
    elif kind == "TokenUpdate":
        entries.update(
            {
                "PushMagic": r.uuid().upper(),
                "Token": r.randbytes(32),
                "UnlockToken": r.randbytes(64),
                "AwaitingConfiguration": False,
            }
        )
    return record(
        "PUT",
        "/mdm/checkin",
        [
            ("Content-Type", "application/x-apple-aspen-mdm-checkin"),
            ("User-Agent", ua),
            ("Accept", "*/*"),
            ("Mdm-Signature", r.b64(600)),
        ],
        body=plist(entries),
        shape=f"apple-mdm-{kind.lower()}",
    )


def mobile_plist_api(r: R) -> Record:
    body = plist(
        {
            "AppVersion": "3.4.1",
            "Platform": "macOS",
            "LastSync": iso(r.ts()),
            "Preferences": {"Theme": "Dark", "SortOrder": r.choice(["DateDescending", "Name"]), "ShowUnionBadge": True},
            "RecentSearches": r.pick(SHOP_SEARCHES, 3),
        }
    )
    ua = r.choice(["ExampleMac/3.4.1 (Macintosh; OS X 14.3.1) CFNetwork/1494.0.7 Darwin/23.3.0", "Sparkle/2.5.2"])
    return record(
        "POST",
        "/api/v1/sync/preferences",
        [
            ("Content-Type", r.choice(["application/x-plist", "application/xml"])),
            ("User-Agent", ua),
            ("Accept", "application/x-plist"),
            ("Authorization", "Bearer " + access_token(r)),
        ],
        body=body,
        shape="plist-sync",
    )


def protobuf_varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def protobuf_message(r: R) -> bytes:
    def field_bytes(num: int, data: bytes) -> bytes:
        return protobuf_varint(num << 3 | 2) + protobuf_varint(len(data)) + data

    def field_int(num: int, value: int) -> bytes:
        return protobuf_varint(num << 3) + protobuf_varint(value)

    msg = (
        field_bytes(1, r.uuid().encode())
        + field_int(2, r.randrange(1, 50))
        + field_bytes(3, r.choice(SHOP_SEARCHES).encode())
    )
    msg += field_bytes(4, field_int(1, r.ts()) + field_bytes(2, r.randbytes(16)))
    return msg


def mobile_protobuf(r: R) -> Record:
    msg = protobuf_message(r)
    if r.random() < 0.5:
        body = b"\x00" + struct.pack(">I", len(msg)) + msg  # gRPC-web frame
        h = mobile_headers(r, "application/grpc-web+proto")
        h += [("X-Grpc-Web", "1"), ("X-User-Agent", "grpc-web-javascript/0.1")]
        return record(
            "POST",
            r.choice(
                [
                    "/feed.v1.FeedService/GetFeed",
                    "/search.v2.SearchService/Search",
                    "/orders.v1.OrderService/ListOrders",
                ]
            ),
            h,
            body=body,
            shape="grpc-web",
        )
    return record("POST", "/api/v3/events.pb", mobile_headers(r, "application/x-protobuf"), body=msg, shape="protobuf")


def mobile_profile(r: R) -> Record:
    first, last, _ = person(r)
    payload = {
        "display_name": f"{first} {last[0]}.",
        "bio": r.choice(
            [
                "☕ + 🏃 + 📚",
                "union rep | dog mom | she/her",
                "Select moments from my life",
                "Dev @ Contoso (C#, SQL, && coffee)",
                "drop a follow!",
                "#photography #travel",
            ]
        ),
        "links": [r.choice(["https://example.com/~me", "https://instagram.com/" + first.lower()])],
        "birthday": f"{r.randrange(1960, 2005)}-{r.randrange(1, 13):02d}-{r.randrange(1, 29):02d}",
        "interests": r.pick(["running", "union organizing", "cooking", "c# dev", "photography", "drop shipping"], 3),
    }
    return record(
        "PATCH",
        "/api/v3/me/profile",
        mobile_headers(r, "application/json"),
        body=compact(payload),
        shape="profile-update",
    )


def mobile_notes_sync(r: R) -> Record:
    changes = [
        {
            "id": r.uuid(),
            "op": r.choice(["upsert", "upsert", "delete"]),
            "title": r.choice(TITLES),
            "content": markdown_post(r),
            "updated_at": iso(r.ts(), ms=True),
            "tags": r.pick(["work", "union", "recipes", "code"], 2),
        }
        for _ in range(r.randrange(1, 4))
    ]
    return record(
        "POST",
        "/api/v3/sync",
        mobile_headers(r, "application/json"),
        f"since={r.ts()}",
        compact({"device_cursor": r.b64url(12), "changes": changes}),
        shape="notes-sync",
    )


def mobile_remote_config(r: R) -> Record:
    payload = {
        "appInstanceId": r.b64url(16),
        "appInstanceIdToken": jwt(
            r,
            {
                "appId": "1:" + r.digits(12) + ":ios:" + r.hex(22),
                "exp": r.ts(),
                "fid": r.b64url(16),
                "projectNumber": r.digits(12),
            },
            alg="ES256",
        ),
        "appId": "1:" + r.digits(12) + ":ios:" + r.hex(22),
        "countryCode": r.choice(["US", "DE", "GB"]),
        "languageCode": "en-US",
        "platformVersion": "17.3.1",
        "timeZone": "America/New_York",
        "appVersion": "5.12.0",
        "appBuild": "5120",
        "packageName": "com.example.app",
        "sdkVersion": "10.22.0",
        "analyticsUserProperties": {"plan": "free"},
    }
    return record(
        "POST",
        "/v1/projects/example-app/namespaces/firebase:fetch",
        [*mobile_headers(r, "application/json", auth=False), ("X-Goog-Api-Key", "AIza" + r.b64url(26))],
        body=compact(payload),
        shape="remote-config-fetch",
    )


# ---------------------------------------------------------------------------------------------------------------
# The corpus: categories, ids, halves, files
# ---------------------------------------------------------------------------------------------------------------

Template = Callable[[R], Record]
CATEGORIES: dict[str, tuple[int, list[tuple[int, Template]]]] = {
    "browsing": (
        140,
        [
            (4, browsing_landing),
            (6, browsing_page),
            (3, browsing_wiki),
            (3, browsing_docs),
            (2, browsing_conditional),
            (3, browsing_bot),
            (2, browsing_listing),
            (1, browsing_next_rsc),
            (1, browsing_htmx),
            (2, browsing_account_links),
            (1, browsing_share),
        ],
    ),
    "search": (
        130,
        [
            (4, search_shop),
            (3, search_docs),
            (3, search_general),
            (3, search_suggest),
            (1, search_algolia),
            (1, search_json),
            (1, search_faceted),
            (1, search_dated),
        ],
    ),
    "forms": (
        130,
        [
            (2, forms_wp_login),
            (1, forms_django_login),
            (1, forms_rails_signin),
            (1, forms_register),
            (3, forms_contact),
            (1, forms_newsletter),
            (1, forms_password_change),
            (2, forms_profile),
            (1, forms_drupal),
            (1, forms_aspnet),
            (1, forms_jsf),
            (2, forms_ticket),
            (1, forms_survey),
            (1, forms_booking),
            (1, forms_address),
        ],
    ),
    "json_api": (
        130,
        [
            (4, api_list),
            (3, api_get_one),
            (3, api_create),
            (2, api_patch),
            (1, api_delete),
            (1, api_preflight),
            (1, api_strapi),
            (1, api_jsonapi),
            (1, api_sentry),
            (1, api_reports),
            (2, api_beacon),
            (1, api_ndjson),
            (1, api_health),
            (1, api_feature_flags),
        ],
    ),
    "graphql": (
        100,
        [
            (5, gql_query),
            (3, gql_mutation),
            (1, gql_introspection),
            (2, gql_persisted_get),
            (1, gql_batch),
            (1, gql_upload),
            (1, gql_simple),
        ],
    ),
    "uploads": (
        140,
        [
            (2, up_avatar),
            (2, up_document),
            (2, up_import),
            (2, up_ticket_attachment),
            (1, up_wordpress_media),
            (1, up_s3_post),
            (1, up_presigned_put),
            (1, up_mobile),
            (2, up_cli),
            (1, up_job_application),
            (1, up_multi),
            (1, up_tus),
            (1, up_slack),
        ],
    ),
    "webhooks": (
        130,
        [
            (3, hook_stripe),
            (3, hook_github),
            (2, hook_shopify),
            (2, hook_slack),
            (1, hook_twilio),
            (1, hook_sendgrid),
            (1, hook_mailgun),
            (1, hook_alertmanager),
            (1, hook_grafana_pd),
            (1, hook_gitlab),
            (1, hook_typeform),
            (1, hook_paypal_ipn),
        ],
    ),
    "oauth_oidc": (
        120,
        [
            (2, oidc_authorize_keycloak),
            (1, oidc_login_keycloak),
            (2, oidc_callback),
            (1, oidc_form_post),
            (3, oidc_token),
            (1, oidc_userinfo),
            (1, oidc_logout),
            (1, oidc_discovery),
            (1, oidc_auth0),
            (1, oidc_microsoft_google),
            (1, oidc_device),
            (1, oidc_introspect),
            (1, oidc_saml),
            (1, oidc_return_to),
            (1, oidc_registration),
        ],
    ),
    "webdav_caldav": (
        130,
        [
            (3, dav_propfind),
            (2, dav_put),
            (1, dav_mkcol),
            (2, dav_move_copy),
            (1, dav_lock),
            (1, dav_proppatch),
            (2, dav_get_delete),
            (1, dav_search),
            (2, caldav_report),
            (1, caldav_put),
            (1, carddav),
            (1, dav_principal),
            (1, dav_ocs),
        ],
    ),
    "cms_prose": (
        140,
        [
            (3, cms_wp_comment),
            (2, cms_wp_rest),
            (1, cms_drupal_node),
            (2, cms_discourse),
            (2, cms_issue_comment),
            (1, cms_mediawiki),
            (1, cms_ghost),
            (1, cms_forum_reply),
            (1, cms_hn_comment),
            (1, cms_markdown_preview),
            (1, cms_autosave),
            (1, cms_confluence),
            (2, cms_review),
        ],
    ),
    "ecommerce": (
        130,
        [
            (2, shop_collection),
            (2, shop_product),
            (3, shop_cart_js),
            (2, shop_woo_checkout),
            (1, shop_magento_add),
            (1, shop_coupon),
            (1, shop_checkout_api),
            (1, shop_paypal_return),
            (1, shop_notification_template),
            (3, shop_misc_ajax),
            (1, shop_klaviyo),
            (1, shop_account_orders),
        ],
    ),
    "odata_soap": (
        110,
        [
            (4, odata_graph),
            (2, odata_sharepoint),
            (2, odata_dataverse),
            (1, odata_sap),
            (2, odata_northwind),
            (1, odata_batch),
            (1, graph_batch),
            (3, soap_call),
            (1, xmlrpc),
            (2, xml_api),
        ],
    ),
    "static_assets": (
        120,
        [
            (4, static_bundle),
            (2, static_wordpress),
            (4, static_image),
            (2, static_font),
            (3, static_wellknown),
            (1, static_media),
            (1, static_sourcemap),
            (1, static_service_worker),
            (2, static_revalidate),
            (1, static_prefetch),
            (1, static_cdn_pull),
        ],
    ),
    "mobile_api": (
        120,
        [
            (4, mobile_get),
            (1, mobile_push_register),
            (2, mobile_analytics),
            (2, mobile_chat),
            (1, mobile_location),
            (1, mobile_iap),
            (1, mobile_crash),
            (1, mobile_mdm),
            (1, mobile_plist_api),
            (1, mobile_protobuf),
            (1, mobile_profile),
            (1, mobile_notes_sync),
            (1, mobile_remote_config),
        ],
    ),
}
FIELD_ORDER = [
    "id",
    "source",
    "set",
    "kind",
    "half",
    "shape",
    "method",
    "path",
    "query",
    "version",
    "headers",
    "body",
    "body_b64",
    "content_type",
    "add_host",
    "autocomplete",
    "http_valid",
]


def assign_halves(records: list[Record]) -> None:
    """Alternate tune/measure in the order of a hash of the id: deterministic, balanced, independent of templates."""
    ranked = sorted(records, key=lambda rec: hashlib.sha256(rec["id"].encode()).hexdigest())
    for i, rec in enumerate(ranked):
        rec["half"] = "tune" if i % 2 == 0 else "measure"


def build_category(name: str) -> list[Record]:
    """Every template once (so each shape is present), then weighted draws; one seeded generator per category."""
    count, templates = CATEGORIES[name]
    r = R(f"{SEED}:{name}")
    chosen = [fn for _, fn in templates]
    chosen += r.choices([fn for _, fn in templates], weights=[w for w, _ in templates], k=count - len(chosen))
    records = []
    for i, fn in enumerate(chosen, 1):
        rec = fn(r)
        rec.update(
            id=f"{name}-{i:04d}",
            source=SOURCE,
            set=name,
            kind="benign",
            add_host=True,
            autocomplete=True,
            http_valid=True,
        )
        records.append(rec)
    assign_halves(records)
    return [{k: rec[k] for k in FIELD_ORDER if k in rec} for rec in records]


def render(records: list[Record]) -> str:
    return "".join(json.dumps(rec, ensure_ascii=False) + "\n" for rec in records)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed files instead of writing")
    parser.add_argument("--out", default=str(OUT), help="folder for the category files")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stale = []
    total = 0
    for name in CATEGORIES:
        text = render(build_category(name))
        total += text.count("\n")
        path = out / f"{name}.jsonl"
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(path.name)
        else:
            path.write_text(text, encoding="utf-8")
    if stale:
        print(f"differs from the generator: {', '.join(stale)}")
        return 1
    print(f"{'checked' if args.check else 'wrote'} {total} requests in {len(CATEGORIES)} files under {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
