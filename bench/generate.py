"""Generate N rows of support-ticket-like text (~29 words) with fake PII, deterministic for a seed.

    python bench/generate.py 20000 /tmp/bench-20k.jsonl
    python bench/generate.py 200000 /tmp/bench-200k-long.jsonl --long   # ~60 words, every row unique

`--long` rows join two templates and a few words of Faker's English vocabulary, with every field drawn from
larger pools (phones, emails and names rarely repeat), and no two rows are equal: repeated cells are analyzed
once, so unique rows measure the scanner, not the cache.
"""

from __future__ import annotations

import json
import random
import sys

from faker import Faker

TEMPLATES = [
    "Hi, this is {name}. My order {order} never arrived at {street}, {city}. Please call me on {phone} or write to "
    "{email} as soon as you can, thanks a lot.",
    "Customer {name} asked to update the card ending in the number {card} and the billing address to {street} in "
    "{city}; confirmation was sent to {email} yesterday.",
    "Refund approved for ticket {order}: the customer said the parcel was damaged and the courier left it outside "
    "in the rain again. No further action is needed.",
    "{name} from {company} reported that login fails with error 502 since the update; the account email is {email} "
    "and the callback number is {phone}.",
    "Please transfer the deposit to IBAN {iban} before Friday. If anything is unclear, contact {name} at {company} "
    "or reply to this message directly.",
    "The product works well but the battery drains quickly after a few weeks of daily use, and the manual does not "
    "explain how to reset it properly.",
]


POOL = 5000  # distinct fake values per field: drawing from pools keeps 200k rows fast to generate


def rows(n: int, seed: int = 7):
    fake = Faker("en_US")
    Faker.seed(seed)
    rnd = random.Random(seed)
    fields = {
        "name": fake.name, "order": lambda: fake.bothify("ORD-#####"), "street": fake.street_address,
        "city": fake.city, "phone": fake.phone_number, "email": fake.email, "card": fake.credit_card_number,
        "company": fake.company, "iban": fake.iban,
    }
    pools = {k: [make() for _ in range(min(POOL, n))] for k, make in fields.items()}
    for i in range(n):
        text = rnd.choice(TEMPLATES).format(**{k: rnd.choice(pool) for k, pool in pools.items()})
        yield {"id": i, "text": text, "rating": rnd.randint(1, 5)}


def long_rows(n: int, seed: int = 7, pool: int = 50_000):
    """~60-word unique rows: two templates, then 4-8 vocabulary words so that no two rows are equal."""
    from faker.providers.lorem.en_US import Provider as Lorem

    fake = Faker("en_US")
    Faker.seed(seed)
    rnd = random.Random(seed)
    fields = {
        "name": fake.name, "order": lambda: fake.bothify("ORD-#######"), "street": fake.street_address,
        "city": fake.city, "phone": fake.phone_number, "email": fake.email, "card": fake.credit_card_number,
        "company": fake.company, "iban": fake.iban,
    }
    pools = {k: [make() for _ in range(min(pool, n))] for k, make in fields.items()}
    words, seen = Lorem.word_list, set()
    i = 0
    while i < n:
        parts = [rnd.choice(TEMPLATES).format(**{k: rnd.choice(p) for k, p in pools.items()}) for _ in range(2)]
        parts.append(" ".join(rnd.choice(words) for _ in range(rnd.randint(4, 8))).capitalize() + ".")
        text = " ".join(parts)
        if text in seen:
            continue
        seen.add(text)
        yield {"id": i, "text": text, "rating": rnd.randint(1, 5)}
        i += 1


def main() -> None:
    n, path = int(sys.argv[1]), sys.argv[2]
    make = long_rows if "--long" in sys.argv[3:] else rows
    with open(path, "w", encoding="utf-8") as fh:
        for row in make(n):
            fh.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
