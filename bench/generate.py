"""Generate N rows of support-ticket-like text (~29 words) with fake PII, deterministic for a seed.

    python bench/generate.py 20000 /tmp/bench-20k.jsonl
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


def main() -> None:
    n, path = int(sys.argv[1]), sys.argv[2]
    with open(path, "w", encoding="utf-8") as fh:
        for row in rows(n):
            fh.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
