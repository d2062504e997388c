"""Generate fine-tuning-shaped datasets with typed PII truth, to measure dataset-aware anonymization (issue 19).

    python bench/finetune_gen.py --rows 2000 --seed 7 --out /tmp/ft

writes, deterministically for a seed:

- `tickets.csv`: support tickets with an id column, structured PII columns (`customer_name`, `email`, `phone`, where
  some phone numbers fail `phonenumbers` validation), categorical columns (`product`, whose brand names often look
  like first names; `priority`, `channel`), a `sku`, a `created_at` timestamp and a free-text `body`;
- `chats.jsonl`: conversations in `messages` form (`role`/`content`), some with API keys and tokens pasted in;
- `instructions.parquet`: `instruction`/`input`/`response`/`category`, most rows without any PII;
- `<format>.truth.jsonl`: per row, per cell (`messages.<i>.content` for chats), every PII value with its type and
  character span (PERSON values carry the person's first and last name), and `pii_free` (no PII in any free-text
  cell);
- `manifest.json`: files, and the role of every column (`id`, `sku`, `label`, `timestamp`, `structured_pii`,
  `free_text`, `chat`).

Why its own vocabulary: the team tunes on the shared dev sets; a benchmark written in their words would reward rules
fitted to them. Every template, product and phrase here is written for this file; Faker supplies only names,
streets, towns and postcodes, across several locales.

Customers recur (a pool smaller than the row count), so a person named in full in one row is greeted by first name
alone in another: the case a per-text engine misses. Names whose parts are also words used by these templates
("Mark as urgent", the "Aurora" lamp) are kept out of the pool, except a few deliberate ones ("Mark Weber") that are
only ever written in full: whole-word leak checks on their first name would count the template phrase. The truth
lists those parts under `ambiguous`.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
import string
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import phonenumbers
import pyarrow as pa
import pyarrow.parquet as pq
from faker import Faker

FORMATS = ("tickets", "chats", "instructions")
FILES = {"tickets": "tickets.csv", "chats": "chats.jsonl", "instructions": "instructions.parquet"}

# ---- vocabulary (ours) -------------------------------------------------------------------------------------------

COMPANY = "Brightloom"
# (product, sku code, weight): a skewed categorical; several brand names look like first names.
PRODUCTS = [
    ("Aurora", "AUR", 22), ("Jasper Pro", "JSP", 14), ("Willow", "WLW", 9), ("Helix Hub", "HLX", 8),
    ("Orion X2", "ORX", 7), ("Sienna Kettle", "SNK", 6), ("Maxwell Soundbar", "MXS", 6), ("Nova Cam", "NVC", 5),
    ("Atlas Lock", "ATL", 5), ("Luna Sleep Tracker", "LST", 4), ("Beacon Tag", "BCN", 4), ("Jasper Mini", "JSM", 4),
    ("Ember Heater", "EMB", 3), ("Cleo Vacuum", "CLV", 3),
]
COLOURS = ["BK", "WH", "GR", "SL", "BL", "RD"]
PRIORITIES = [("low", 25), ("normal", 45), ("high", 20), ("urgent", 10)]
CHANNELS = ["email", "phone", "web form", "chat", "social"]
VERSIONS = ["2.4.1", "2.5.0", "3.0.7", "3.1.2", "1.9.8", "4.0.0-beta", "3.2"]
ERRORS = ["E-4012", "E-2207", "ERR_PAIRING_TIMEOUT", "0x80070057", "E-503", "CLOUD_SYNC_FAILED", "E-1184"]
TAGS = ["billing", "hardware-fault", "shipping", "firmware", "returns", "setup", "account"]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
PUBLIC_PLACES = ["Lisbon", "Rotterdam", "Toronto", "Osaka", "Kraków", "Denver", "Lyon"]

ISSUES = [
    "my [[product]] stopped connecting to Wi-Fi after the [[version]] update",
    "the [[product]] from order [[order]] arrived with a cracked housing",
    "I was charged twice for order [[order]]",
    "the app shows [[error]] every time I try to pair the [[product]]",
    "the battery on the [[product]] now lasts about two hours",
    "I'd like to return the [[product]] because it is louder than advertised",
    "order [[order]] still says 'label created' after nine days",
    "the [[product]] makes a clicking noise at night",
    "setup of the [[product]] freezes at 80% and then reboots",
    "the replacement [[product]] has exactly the same fault as the first one",
    "the [[product]] keeps dropping off the [[company]] app since [[weekday]]",
    "the voucher from my [[product]] purchase was rejected at checkout",
]
CUSTOMER_OPENERS = [
    "Hi, this is [[full]].", "Hello [[company]] team, my name is [[full]].", "Hey there, [[first]] here.",
    "Good morning. I'm writing for my father, [[full]], who owns the device.", "[[upper]] - PLEASE READ",
    "dear support, i am [[lower]] and", "To whom it may concern,", "Hi again,", "Hello,",
    "Hi [[company]], [[full]] again (second ticket this month).",
]
CUSTOMER_CONTACT = [
    "You can reach me at [[phone]] or [[email]].", "Best number to call is [[phone]].",
    "Please reply to [[email]], not the address on the account.", "My number changed, it is now [[phone]].",
    "Email: [[email]] / Phone: [[phone]]", "call me back on [[phone]] after 5pm please",
    "I'm on [[email]] if that's easier.",
]
CUSTOMER_ADDRESS = [
    "Please send the replacement to [[address]].", "Shipping address: [[address]]",
    "I moved last month, the new address is [[address]].", "Pickup can be arranged at [[address]].",
]
CUSTOMER_CLOSINGS = [
    "Thanks, [[first]]", "Regards,\n[[full]]", "Cheers\n[[first]]", "[[full]]\n[[phone]]", "thank you!! [[lower]]",
    "Many thanks in advance.", "Kind regards, [[reversed]]", "- [[initial]]", "",
]
AGENT_NOTES = [
    "Customer [[upper]] called re: [[order]]. [[Issue]]. Mark as urgent.",
    "Spoke to [[full]] ([[phone]]). [[Issue]]. Offered a replacement under warranty.",
    "Call back [[first]] tomorrow; they prefer mornings. [[Issue]].",
    "[[last_title]] says the [[product]] was a gift. [[Issue]]. Waiting on customer.",
    "Chat transcript: [[lower]] wrote \"[[Issue]]\".",
    "Escalate to Tier 2 on behalf of [[initial]]: [[issue]].",
    "Voicemail from [[first]] at [[phone]] about [[order]]. [[Issue]]. Please advise.",
    "[[full]] <[[email]]> wrote in: [[issue]]. Refund approved.",
]
AGENT_REPLIES = [
    "Thanks [[first]]!", "Hi [[first]], sorry about that. I've opened replacement order [[order]] for you.",
    "Hello [[last_title]], thank you for your patience while we looked into this.",
    "Dear [[full]], we have refunded the duplicate charge; it shows within 5 business days.",
    "Thanks for the photos, [[first]]. That is a known fault, see KB-[[kb]].",
    "Got it [[first_upper]], closing this one as resolved.",
]
AGENT_SIGNATURES = [
    "-- [[agent_first]], [[company]] Support", "Kind regards,\n[[agent_full]]\n[[company]] Customer Care",
    "Cheers, [[agent_first]] (Tier 2)", "[[agent_full]] | Support Specialist, [[company]]",
]
TEAM_SIGNATURES = ["-- [[company]] Support Team", "Kind regards,\n[[company]] Customer Care", "[[company]] Tier 2"]
TEMPLATE_PHRASES = [
    "Mark as urgent.", "Escalate to Tier 2.", "Waiting on customer.", "Please advise.", "Closing as resolved.",
    "Follow up [[weekday]].", "Refund approved.", "Known issue, see KB-[[kb]].", "Tagged: [[tag]].",
    "Duplicate of [[ticket_ref]].", "Will check with the warehouse.",
]
PII_FREE_BODIES = [
    "[[product]] firmware [[version]] drops Wi-Fi every few hours. Reproduced on two units in the lab.",
    "Order [[order]] arrived with a dented box but the [[product]] inside works fine. No action needed.",
    "Auto-reply: we received your request about the [[product]] and will get back to you within 24 hours. "
    "Reference [[order]].",
    "Internal note: [[product]] batch [[batch]] is affected by the charging bug; hold shipments until [[weekday]].",
    "Customer asked how to reset the [[product]] to factory settings. Sent https://help.brightloom.example/kb/[[kb]]",
    "Return label for [[order]] generated and emailed. The unit goes back to the [[place]] warehouse.",
    "The [[product]] shows [[error]] after the [[version]] update; rolled back and it works again.",
    "Warranty claim for [[order]] rejected: water damage visible on the [[product]] board.",
    "Cloud sync outage in the [[place]] region resolved at 14:05 UTC; [[product]] devices reconnect on their own.",
    "Customer would like a quote for ten [[product]] units for an office. Forwarded to sales.",
    "The [[product]] and the [[product2]] conflict on channel 11; moving one to channel 6 fixes it.",
    "no reply from customer after 3 reminders, closing. [[tag]]",
]
WORD_HANDLES_A = ["quiet", "rapid", "lunar", "mellow", "crimson", "dusty", "brave", "tidy"]
WORD_HANDLES_B = ["otter", "falcon", "maple", "comet", "pixel", "harbor", "tundra", "cactus"]
EMAIL_DOMAINS = ["gmail.com", "outlook.com", "proton.me", "yahoo.co.uk", "web.de", "orange.fr", "icloud.com",
                 "gmx.net", "hotmail.com", "libero.it", "wp.pl", "mailbox.org"]
TITLES = ["Mr.", "Ms.", "Mrs.", "Dr."]

# chats
SYSTEM_PROMPTS = [
    "You are a helpful assistant.", "You are Brightloom's support assistant. Be concise and friendly.",
    "You are a senior Python developer who explains things step by step.",
    "You help people write clear, polite emails.", "You are a DevOps assistant. Never store credentials.",
]
# (topic, turns): each turn is (role, template); secrets appear only in user turns.
CHAT_SCENARIOS_SECRET = [
    ("api-auth", [
        ("user", "I'm getting a 401 from the inference endpoint. My code:\n\n```python\nfrom huggingface_hub import "
                 "InferenceClient\nclient = InferenceClient(token=\"[[hf]]\")\nprint(client.text_generation(\"hi\"))"
                 "\n```\nwhat am I doing wrong?"),
        ("assistant", "A 401 means the token was rejected. Check that it has read access and has not expired. You "
                      "also pasted the token here, so revoke it in your account settings and create a new one."),
        ("user", "ok revoked it, the new one works. thanks!")]),
    ("cloud", [
        ("user", "aws s3 ls fails with AccessDenied. this is my shell setup:\nexport AWS_ACCESS_KEY_ID=[[akia]]\n"
                 "export AWS_SECRET_ACCESS_KEY=[[aws_secret]]\nexport AWS_DEFAULT_REGION=eu-west-1"),
        ("assistant", "AccessDenied usually means the IAM user lacks s3:ListAllMyBuckets. Attach a policy that "
                      "allows it. Please rotate those keys too, since they are now in this chat.")]),
    ("payments", [
        ("user", "Hi, [[first]] here from the web team. Our webhook handler sets stripe.api_key = '[[stripe]]' "
                 "and live payments fail with 'No such customer'. Test mode works."),
        ("assistant", "That error means the customer id was created in test mode. Create the customer again in "
                      "live mode. Also, move the live key out of the source into an environment variable."),
        ("user", "makes sense, will do")]),
    ("slack-bot", [
        ("user", "my bot token [[slack]] can't post to #alerts, the API says not_in_channel"),
        ("assistant", "Invite the bot to the channel first (/invite @yourbot), then retry the call.")]),
    ("git", [
        ("user", "git push keeps asking for a password. I pasted my token [[ghp]] as the password and it "
                 "still fails. I'm [[full]], the repo owner."),
        ("assistant", "Check that the token has the repo scope and that the remote URL uses https. Since the "
                      "token is now visible here, delete it and generate a new one."),
        ("user", "Found it, the scope was missing.")]),
    ("llm-config", [
        ("user", "my .env looks like this:\nOPENAI_API_KEY=[[openai]]\nMODEL=gpt-small\nwhy does the script say "
                 "the key is missing?"),
        ("assistant", "The script probably runs from another folder, so the .env file is not loaded. Call "
                      "load_dotenv() with an explicit path.")]),
    ("api-auth", [
        ("user", "Hello, my name is [[full]] ([[email]]). Uploading a dataset with `hf upload` and token "
                 "[[hf]] gives 403 Forbidden on the org repo."),
        ("assistant", "Hi [[first]]. A 403 on an organisation repo means the token lacks write access to that org. "
                      "Create a fine-grained token with write access to it, and revoke the one above."),
        ("user", "thank you, that fixed it")]),
]
CHAT_SCENARIOS_PII = [
    ("email-writing", [
        ("user", "Can you help me write an email to my landlord [[full2]]? My name is [[full]], I live at "
                 "[[address]] and the heating has been broken for a week. My phone is [[phone]]."),
        ("assistant", "Subject: Heating repair needed\n\nDear [[last_title2]],\n\nThe heating at [[address]] has "
                      "not worked for a week. Could you arrange a repair as soon as possible? You can reach me on "
                      "[[phone]].\n\nBest regards,\n[[full]]"),
        ("user", "perfect, thanks")]),
    ("account", [
        ("user", "Hi, I'm [[first]]. I can't log in with [[email]], the reset link never arrives."),
        ("assistant", "Hi [[first]]! Check the spam folder first. If the link is not there, tell me and I'll "
                      "explain how to request one from the sign-in page."),
        ("user", "found it in spam, thx")]),
    ("scheduling", [
        ("user", "remind me to call [[full2]] at [[phone2]] on [[weekday]] about the [[product]] order"),
        ("assistant", "I can't set reminders, but here is a note you can paste into your calendar: \"Call "
                      "[[first2]] ([[phone2]]) about the [[product]] order.\""),
    ]),
    ("email-writing", [
        ("user", "write a short thank-you note to my colleague [[lower2]] for covering my shift"),
        ("assistant", "Hi [[first2]],\n\nThank you so much for covering my shift on [[weekday]]. I owe you one!\n\n"
                      "Best,\n[[first]]"),
    ]),
    ("support", [
        ("user", "[[upper]] HERE. MY [[product]] ORDER [[order]] NEVER ARRIVED. CALL ME [[phone]]"),
        ("assistant", "I'm sorry the order has not arrived. I can't place calls, but the shipping team can trace "
                      "the parcel if you reply with the order number on the support page."),
    ]),
    ("payments", [
        ("user", "my card [[card]] was declined twice on the checkout page, is something wrong with your site?"),
        ("assistant", "Nothing is wrong on our side right now. Declines usually come from the bank; please call the "
                      "number on the back of your card. And please don't share full card numbers in chat."),
    ]),
    ("forms", [
        ("user", "Is this enough for the insurance form? Name: [[full]], born [[dob]], address [[address]]."),
        ("assistant", "That covers the personal section. The form also asks for the policy number and the date "
                      "of the incident."),
    ]),
]
CHAT_SCENARIOS_FREE = [
    ("coding", [
        ("user", "How do I reverse a list in Python without modifying the original?"),
        ("assistant", "Use slicing: `reversed_items = items[::-1]`. It returns a new list and leaves `items` as it "
                      "was. `list(reversed(items))` works too.")]),
    ("coding", [
        ("user", "what's the difference between a process and a thread?"),
        ("assistant", "A process has its own memory space; threads share the memory of the process they belong "
                      "to. Threads are cheaper to start but need locks around shared data."),
        ("user", "and in Python the GIL matters for that?"),
        ("assistant", "Yes: CPU-bound work does not run in parallel across threads in CPython, so use processes "
                      "for that and threads for waiting on I/O.")]),
    ("cooking", [
        ("user", "I have rice, eggs, a leek and soy sauce. Quick dinner idea?"),
        ("assistant", "Fried rice: soften the sliced leek, push it aside, scramble the eggs, add the cooked rice "
                      "and a splash of soy sauce, and stir on high heat for three minutes.")]),
    ("travel", [
        ("user", "Plan a relaxed two-day walk around [[place]] for someone who likes museums."),
        ("assistant", "Day one: the old town in the morning, a long lunch, then the main art museum. Day two: the "
                      "riverside path, a smaller history museum, and an early dinner near the station.")]),
    ("math", [
        ("user", "If a train leaves at 09:40 and the trip takes 2 h 35 min, when does it arrive?"),
        ("assistant", "09:40 plus 2 h is 11:40, plus 35 min is 12:15.")]),
    ("product", [
        ("user", "Does the [[product]] work without the [[company]] app?"),
        ("assistant", "Yes, the basic functions work from the device buttons. Schedules and firmware updates need "
                      "the app.")]),
    ("writing", [
        ("user", "Fix the grammar: 'Me and the team has finished the report yesterday.'"),
        ("assistant", "'The team and I finished the report yesterday.'")]),
    ("devops", [
        ("user", "My CI job fails with 'Permission denied (publickey)'. Where should I look?"),
        ("assistant", "The runner has no SSH key the remote accepts. Add a deploy key to the repository and load "
                      "it in the job, or switch the remote to https with a token stored as a CI secret.")]),
]

# instructions
REVIEWS = [
    ("The [[product]] is quiet, looks great on the shelf and paired in under a minute.", "positive"),
    ("Stopped working after two weeks and support took days to answer.", "negative"),
    ("Decent value, but the app asks for far too many permissions.", "mixed"),
    ("Battery life is excellent; I charge it once a week.", "positive"),
    ("Arrived late and the box was crushed, though the [[product]] itself was fine.", "mixed"),
    ("The night mode on the [[product]] is useless, it still glows like a torch.", "negative"),
]
PARAGRAPHS = [
    "Composting turns kitchen scraps and garden waste into a dark, crumbly soil improver. It needs a mix of green "
    "material, such as peelings, and brown material, such as dry leaves or cardboard, plus air and some moisture.",
    "A heat pump moves heat instead of producing it. In winter it pulls warmth from outside air or the ground and "
    "releases it indoors, which is why it can deliver three to four units of heat for every unit of electricity.",
    "Version control keeps a history of every change to a project. Branches let several people work on separate "
    "features at once, and merging brings their work back together.",
    "Sourdough bread rises thanks to wild yeast and lactic acid bacteria kept alive in a starter. The long "
    "fermentation gives the loaf its sour taste and a chewy crumb.",
    "The [[product]] uses a low-power radio to talk to the [[company]] hub, so it can run for months on one "
    "charge. Firmware [[version]] added scheduled scenes and a night mode.",
    "Tide pools form where rocks trap seawater at low tide. Anemones, crabs and snails living there must survive "
    "swings in temperature and salt each day.",
]
CODE_TASKS = [
    ("Write a Python function that returns the n-th Fibonacci number iteratively.",
     "def fib(n):\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a"),
    ("Write a SQL query that counts orders per product in a table orders(product, amount).",
     "SELECT product, COUNT(*) AS orders FROM orders GROUP BY product ORDER BY orders DESC;"),
    ("Write a shell one-liner that prints the five largest files in the current folder.",
     "du -a . | sort -rn | head -n 5"),
    ("Explain what this regular expression matches: ^\\d{4}-\\d{2}-\\d{2}$",
     "It matches a whole string made of four digits, a hyphen, two digits, a hyphen and two digits, such as an "
     "ISO date like 2024-05-17 (it does not check that the date exists)."),
    ("Write a JavaScript function that removes duplicate values from an array.",
     "const unique = (xs) => [...new Set(xs)];"),
]
MATH_TASKS = [
    ("A shop sells a lamp for 48 euros after a 20% discount. What was the original price?",
     "The discounted price is 80% of the original, so the original price was 48 / 0.8 = 60 euros."),
    ("What is the sum of the interior angles of a hexagon?", "(6 - 2) x 180 = 720 degrees."),
    ("Convert 3.5 hours into minutes.", "3.5 x 60 = 210 minutes."),
    ("If 4 workers finish a job in 6 days, how long do 3 workers need at the same pace?",
     "The job takes 24 worker-days, so 3 workers need 8 days."),
]
REWRITE_TASKS = [
    ("Rewrite this sentence in a friendlier tone.", "Your request has been denied due to missing documents.",
     "Unfortunately we couldn't approve your request yet because a few documents are missing. Send them over and "
     "we'll take another look!"),
    ("Make this product description shorter.", "The [[product]] is a beautifully designed, energy efficient "
     "device that fits into any home and can be controlled from anywhere using the [[company]] app.",
     "An efficient, good-looking [[product]] you control from the [[company]] app."),
    ("Turn this note into a bullet list.", "Buy batteries, update the firmware to [[version]], then test the "
     "[[product]] in the bedroom.", "- Buy batteries\n- Update the firmware to [[version]]\n- Test the [[product]] "
     "in the bedroom"),
]
BRAINSTORM_TASKS = [
    ("Suggest three names for a hiking club newsletter.", "Trail Notes, The Switchback, Summit Weekly"),
    ("List four ways to reduce standby power at home.",
     "Use switchable power strips, unplug chargers, enable eco modes, and replace old appliances."),
    ("Give two tips for writing a clear bug report.",
     "Describe exact steps to reproduce, and say what you expected versus what happened."),
]
PII_INSTRUCTIONS = [
    ("extraction", "Extract the contact details from the message below as JSON.",
     "Hi, it's [[full]]. Please ship to [[address]]. Reach me on [[phone]] or [[email]].",
     "{\"name\": \"[[full]]\", \"address\": \"[[address]]\", \"phone\": \"[[phone]]\", \"email\": \"[[email]]\"}"),
    ("email-reply", "Write a short, polite reply to this customer.",
     "From: [[full]] <[[email]]>\nSubject: [[product]] refund\n\nI returned the [[product]] three weeks ago and "
     "still have no refund for order [[order]].",
     "Dear [[first]],\n\nThank you for your patience. The refund for order [[order]] was approved today and should "
     "reach your account within five business days.\n\nKind regards,\n[[company]] Support"),
    ("form-check", "Check whether this registration form is complete and list anything missing.",
     "Name: [[full]]\nDate of birth: [[dob]]\nAddress: [[address]]\nCard: [[card]]",
     "The form is complete: it has a name, a date of birth, an address and a payment card."),
    ("form-check", "Is the date of birth on this form plausible for an adult account?",
     "Applicant [[upper]], DOB [[dob]], phone [[phone]].",
     "Yes. The applicant [[full]] was born on [[dob]], so they are over 18."),
    ("code-review", "Find the security problem in this configuration.",
     "database:\n  host: db.internal\n  user: app\nstripe:\n  secret_key: [[stripe]]\ngithub_token: [[ghp]]",
     "The file hard-codes a live Stripe secret key ([[stripe]]) and a GitHub token. Move both into a secret "
     "manager and rotate them."),
    ("code-review", "Why does this script fail in production but not locally?",
     "import os\nHF_TOKEN = \"[[hf]]\"\nAWS_KEY = \"[[akia]]\"\nAWS_SECRET = \"[[aws_secret]]\"\n",
     "The credentials are hard-coded, so production uses stale ones instead of its own environment. Read them "
     "from os.environ and revoke the ones in the file."),
    ("summarization", "Summarize these call notes in one sentence.",
     "Call with [[full]] ([[phone]]): the [[product]] shows [[error]]; customer born [[dob]] asked to update the "
     "account address to [[address]].",
     "[[first]] reported [[error]] on the [[product]] and asked to move the account to a new address."),
    ("writing", "Write a two-line birthday message for my friend [[first]].", "",
     "Happy birthday, [[first]]! Wishing you a year full of good surprises."),
    ("payments", "Tell me which card network this number belongs to.", "[[card]]",
     "Judging by its first digits, [[card]] is a [[card_network]] card."),
    ("email-reply", "Draft a message to [[lower]] asking to reschedule our [[weekday]] meeting.", "",
     "Hi [[first]], could we move our [[weekday]] meeting to later in the week? Thanks!"),
]

AMBIGUOUS_FIRST = ["Mark", "Will", "Aurora", "Grant", "Willow", "Luna", "Maxwell"]
NAME_LOCALES = ["en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "pl_PL", "nl_NL", "sv_SE", "pt_BR", "cs_CZ",
                "tr_TR"]
ADDRESS_LOCALES = ["en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL", "pl_PL"]


def _strings(obj):
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, (list, tuple)):
        for o in obj:
            yield from _strings(o)


# Every word our own text uses: a person's name part that is one of them would make whole-word leak checks count
# template text, so such names are only drawn deliberately (AMBIGUOUS_FIRST) and only written in full.
RESERVED = frozenset(
    w.lower() for s in _strings([
        COMPANY, PRODUCTS, PRIORITIES, CHANNELS, TAGS, WEEKDAYS, PUBLIC_PLACES, ISSUES, CUSTOMER_OPENERS,
        CUSTOMER_CONTACT, CUSTOMER_ADDRESS, CUSTOMER_CLOSINGS, AGENT_NOTES, AGENT_REPLIES, AGENT_SIGNATURES,
        TEAM_SIGNATURES, TEMPLATE_PHRASES, PII_FREE_BODIES, SYSTEM_PROMPTS, CHAT_SCENARIOS_SECRET,
        CHAT_SCENARIOS_PII, CHAT_SCENARIOS_FREE, REVIEWS, PARAGRAPHS, CODE_TASKS, MATH_TASKS, REWRITE_TASKS,
        BRAINSTORM_TASKS, PII_INSTRUCTIONS, TITLES, WORD_HANDLES_A, WORD_HANDLES_B, ["Visa", "Mastercard",
                                                                                      "American Express",
                                                                                      "Discover"]])
    for w in re.findall(r"[^\W\d_]+", s)
)

# ---- values ------------------------------------------------------------------------------------------------------


@dataclass
class Phone:
    cc: str
    core: str  # national significant number: what a leak check looks for, however it is written
    valid: bool
    renders: list[str]


@dataclass
class Person:
    first: str
    last: str
    email: str
    phone: Phone
    address: str
    street: str
    dob: str
    ambiguous: list[str] = field(default_factory=list)  # name parts that are also words of our templates

    @property
    def full(self) -> str:
        return f"{self.first} {self.last}"


def _ascii(s: str) -> str:
    return unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode().lower()


def _luhn_complete(prefix: str, length: int, rng: random.Random) -> str:
    digits = prefix + "".join(rng.choice(string.digits) for _ in range(length - len(prefix) - 1))
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:  # doubled positions, counted from the check digit's left neighbour
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return digits + str((10 - total % 10) % 10)


def luhn_ok(number: str) -> bool:
    digits = [int(c) for c in number if c.isdigit()]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 1:
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return total % 10 == 0


CARD_KINDS = [("Visa", ["4"], 16), ("Mastercard", ["51", "53", "55", "2221", "2720"], 16),
              ("American Express", ["34", "37"], 15), ("Discover", ["6011", "65"], 16)]


def card(rng: random.Random) -> tuple[str, str]:
    network, prefixes, length = rng.choice(CARD_KINDS)
    number = _luhn_complete(rng.choice(prefixes), length, rng)
    style = rng.randrange(3)
    if length == 15:
        groups = [number[:4], number[4:10], number[10:]]
    else:
        groups = [number[i:i + 4] for i in range(0, 16, 4)]
    text = number if style == 0 else (" " if style == 1 else "-").join(groups)
    return text, network


# country code, trunk prefix, valid national-number shapes (leading digits, length, digits written before the first
# space), digits per later group
PHONE_PLANS = [
    ("1", "", [("415", 10, 3), ("212", 10, 3), ("312", 10, 3), ("617", 10, 3), ("206", 10, 3), ("512", 10, 3),
               ("303", 10, 3)], 4),
    ("44", "0", [("20", 10, 2), ("161", 10, 3), ("7700", 10, 4), ("7911", 10, 4)], 3),
    ("49", "0", [("30", 10, 2), ("89", 10, 2), ("151", 11, 3), ("170", 10, 3)], 4),
    ("33", "0", [("1", 9, 1), ("6", 9, 1), ("7", 9, 1)], 2),
    ("31", "0", [("6", 9, 1), ("20", 9, 2)], 4),
    ("48", "", [("50", 9, 3), ("60", 9, 3), ("79", 9, 3)], 3),
    ("39", "", [("34", 10, 3), ("06", 10, 2)], 4),
]


def _chunks(digits: str, size: int) -> list[str]:
    return [digits[i:i + size] for i in range(0, len(digits), size)]


def _phone_renders(cc: str, trunk: str, core: str, head_len: int, size: int) -> list[str]:
    """The same number as people write it: national and international, spaced, dashed, slashed, compact."""
    if cc == "1" and len(core) == 10:
        a, e, x = core[:3], core[3:6], core[6:]
        return [f"({a}) {e}-{x}", f"{a}-{e}-{x}", f"{a}.{e}.{x}", f"+1 {a} {e} {x}", f"+1 ({a}) {e}-{x}",
                f"1-{a}-{e}-{x}"]
    head, rest = core[:head_len], core[head_len:]
    if size == 2:  # French style: pairs
        return [f"+{cc} {core[0]} {' '.join(_chunks(core[1:], 2))}", " ".join(_chunks(trunk + core, 2)),
                ".".join(_chunks(trunk + core, 2)), f"00{cc} {core[0]} {' '.join(_chunks(core[1:], 2))}"]
    forms = [f"+{cc} {head} {' '.join(_chunks(rest, size))}", f"{trunk}{head} {' '.join(_chunks(rest, size))}",
             f"+{cc}-{head}-{'-'.join(_chunks(rest, size))}", f"00{cc} {head} {rest}", f"+{cc}{core}"]
    return forms + ([f"{trunk}{head}/{rest}"] if trunk else [])


def phone(rng: random.Random, want_valid: bool) -> Phone:
    """A number in a realistic national or international format; about a fifth fail `phonenumbers` validation
    (a digit short, an unassigned area code), as real exports do."""
    for _ in range(50):
        cc, trunk, shapes, size = rng.choice(PHONE_PLANS)
        prefix, length, head_len = rng.choice(shapes)
        if want_valid:
            core = prefix + "".join(rng.choice(string.digits) for _ in range(length - len(prefix)))
            if cc == "1":
                core = core[:3] + rng.choice("23456789") + core[4:]
        else:
            kind = rng.randrange(3)
            if kind == 0:  # a digit short
                core = prefix + "".join(rng.choice(string.digits) for _ in range(length - len(prefix) - 1))
            elif kind == 1 and cc == "1":  # NANP area codes never start with 0 or 1
                core = rng.choice("01") + "".join(rng.choice(string.digits) for _ in range(9))
            else:  # a digit too many
                core = prefix + "".join(rng.choice(string.digits) for _ in range(length - len(prefix) + 1))
        try:
            valid = phonenumbers.is_valid_number(phonenumbers.parse(f"+{cc}{core}"))
        except phonenumbers.NumberParseException:
            valid = False
        if valid == want_valid and len(core) >= 7:
            return Phone(cc, core, valid, _phone_renders(cc, trunk, core, head_len, size))
    raise RuntimeError("could not draw a phone number")  # pragma: no cover - 50 draws always suffice


DOB_FORMATS = ["%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y", "%B %d, %Y", "%d %B %Y", "%d.%m.%Y"]


def dob(rng: random.Random) -> str:
    day = datetime(1944, 1, 1) + timedelta(days=rng.randrange(365 * 62))
    return day.strftime(rng.choice(DOB_FORMATS))


SECRET_ALNUM = string.ascii_letters + string.digits


def _rand(rng: random.Random, n: int, alphabet: str = SECRET_ALNUM) -> str:
    while True:
        s = "".join(rng.choice(alphabet) for _ in range(n))
        # a draw that happens to hold a fill run ("XXXX") or, for mixed alphabets, only letters or only digits reads
        # as a placeholder; real tokens are drawn again until they look like tokens
        if re.search(r"(.)\1{3}", s, re.IGNORECASE):
            continue
        if alphabet != SECRET_ALNUM or (any(c.isdigit() for c in s) and any(c.isalpha() for c in s)):
            return s


def secret(kind: str, rng: random.Random) -> str:
    """Provider token shapes as published by each provider (random bodies, so never a real credential)."""
    if kind == "hf":
        return "hf_" + _rand(rng, 34, string.ascii_letters)
    if kind == "openai":
        if rng.random() < 0.5:
            return "sk-" + _rand(rng, 20) + "T3BlbkFJ" + _rand(rng, 20)
        return "sk-proj-" + _rand(rng, 56, SECRET_ALNUM + "_-")
    if kind == "ghp":
        return "ghp_" + _rand(rng, 36)
    if kind == "akia":
        return "AKIA" + _rand(rng, 16, string.ascii_uppercase + "234567")
    if kind == "aws_secret":
        return _rand(rng, 40, SECRET_ALNUM + "/+")
    if kind == "stripe":
        return "sk_live_" + _rand(rng, rng.choice([24, 34, 99]))
    if kind == "slack":
        return f"xoxb-{_rand(rng, 12, string.digits)}-{_rand(rng, 13, string.digits)}-{_rand(rng, 24)}"
    raise ValueError(kind)


SECRET_SLOTS = ("hf", "openai", "ghp", "akia", "aws_secret", "stripe", "slack")


class People:
    """Faker persons over several locales, with our own email, phone, address and date-of-birth rules."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.fakers = {loc: Faker(loc) for loc in set(NAME_LOCALES) | set(ADDRESS_LOCALES)}
        for loc in sorted(self.fakers):
            self.fakers[loc].seed_instance(rng.randrange(2**32))

    def _name(self, allow_ambiguous: bool) -> tuple[str, str, list[str]]:
        rng = self.rng
        for _ in range(200):
            fk = self.fakers[rng.choice(NAME_LOCALES)]
            first = fk.first_name().split()[0].split("-")[0]
            last = fk.last_name().strip()
            parts = [first] + re.findall(r"[^\W\d_]+", last)
            if allow_ambiguous:
                first = rng.choice(AMBIGUOUS_FIRST)
                parts[0] = first
            if any(len(p) < 2 for p in parts) or first.lower() == last.lower():
                continue
            ambiguous = [p for p in parts if p.lower() in RESERVED]
            if ambiguous and not allow_ambiguous:
                continue
            if allow_ambiguous and any(p.lower() in RESERVED for p in parts[1:]):
                continue
            return first, last, ambiguous
        raise RuntimeError("no name found")  # pragma: no cover

    def person(self, *, allow_ambiguous: bool = False) -> Person:
        rng = self.rng
        first, last, ambiguous = self._name(allow_ambiguous)
        f, lname = re.sub(r"[^a-z]", "", _ascii(first)) or "x", re.sub(r"[^a-z]", "", _ascii(last)) or "y"
        style = rng.randrange(6)
        local = [f"{f}.{lname}", f"{f[0]}{lname}", f"{f}{lname[0]}{rng.randrange(10, 99)}", f"{lname}.{f}",
                 f"{f}_{lname}{rng.randrange(60, 99)}",
                 f"{rng.choice(WORD_HANDLES_A)}{rng.choice(WORD_HANDLES_B)}{rng.randrange(1, 999)}"][style]
        email = f"{local}@{rng.choice(EMAIL_DOMAINS)}"
        loc = rng.choice(ADDRESS_LOCALES)
        fk = self.fakers[loc]
        street = " ".join(fk.street_address().split())
        city, postcode = fk.city(), fk.postcode()
        if loc == "en_US":
            address = f"{street}, {city}, {fk.state_abbr()} {postcode}"
        elif loc in ("en_GB", "nl_NL"):
            address = f"{street}, {postcode} {city}" if loc == "nl_NL" else f"{street}, {city} {postcode}"
        else:
            address = f"{street}, {postcode} {city}"
        return Person(first, last, email, phone(rng, rng.random() > 0.2), address, street, dob(rng), ambiguous)


# ---- rendering ---------------------------------------------------------------------------------------------------

SLOT = re.compile(r"\[\[(\w+)\]\]")


class Row:
    """Per-row values behind the template slots: one customer, one other person, one agent, stable secrets."""

    def __init__(self, rng: random.Random, person: Person, other: Person | None = None, agent: Person | None = None):
        self.rng, self.person, self.other, self.agent = rng, person, other, agent
        self.cache: dict[str, str] = {}

    def _stable(self, key: str, make) -> str:
        if key not in self.cache:
            self.cache[key] = make()
        return self.cache[key]

    def slot(self, name: str) -> list[tuple[str, dict | None]]:
        rng = self.rng
        if name.startswith("agent_"):
            return self._person(self.agent, name[len("agent_"):], role="agent")
        if name.endswith("2") and name[:-1] in PERSON_SLOTS | CONTACT_SLOTS:
            return self._person(self.other, name[:-1], role="other")
        if name in PERSON_SLOTS | CONTACT_SLOTS:
            return self._person(self.person, name, role="customer")
        if name in SECRET_SLOTS:
            value = self._stable(name, lambda: secret(name, rng))
            return [(value, {"type": "SECRET", "provider": name})]
        if name == "card":
            value, network = self._stable("card", lambda: "|".join(card(rng))).split("|")
            self.cache["card_network"] = network
            return [(value, {"type": "CREDIT_CARD", "digits": re.sub(r"\D", "", value)})]
        if name == "card_network":
            return [(self.cache.get("card_network", "Visa"), None)]
        filler = {
            "company": lambda: COMPANY,
            "product": lambda: self._stable("product", lambda: weighted(rng, [(p, w) for p, _, w in PRODUCTS])),
            "product2": lambda: self._stable("product2", lambda: rng.choice([p for p, _, _ in PRODUCTS])),
            "order": lambda: self._stable("order", lambda: f"ORD-{rng.randrange(100000, 999999)}"),
            "version": lambda: self._stable("version", lambda: rng.choice(VERSIONS)),
            "error": lambda: self._stable("error", lambda: rng.choice(ERRORS)),
            "kb": lambda: self._stable("kb", lambda: str(rng.randrange(1000, 9999))),
            "tag": lambda: rng.choice(TAGS),
            "weekday": lambda: self._stable("weekday", lambda: rng.choice(WEEKDAYS)),
            "place": lambda: self._stable("place", lambda: rng.choice(PUBLIC_PLACES)),
            "batch": lambda: f"B{rng.randrange(10, 99)}-{rng.randrange(100, 999)}",
            "ticket_ref": lambda: f"TCK-{rng.randrange(100000, 999999)}",
            "issue": lambda: self._stable("issue", lambda: rng.choice(ISSUES)),
        }[name]
        return [(filler(), None)]

    def _person(self, p: Person, form: str, role: str) -> list[tuple[str, dict | None]]:
        if form in CONTACT_SLOTS:
            if form == "email":
                return [(p.email, {"type": "EMAIL_ADDRESS", "role": role})]
            if form == "phone":
                value = self._stable(f"phone:{role}", lambda: self.rng.choice(p.phone.renders))
                return [(value, {"type": "PHONE_NUMBER", "digits": p.phone.core, "valid": p.phone.valid,
                                 "role": role})]
            if form == "address":
                return [(p.address, {"type": "STREET_ADDRESS", "street": p.street, "role": role})]
            if form == "dob":
                return [(p.dob, {"type": "DATE_OF_BIRTH", "role": role})]
        if p.ambiguous and form in ("first", "first_upper", "last_title", "initial"):
            form = "full"  # never write an ambiguous part alone: the leak check could not tell it from the word
        entry = {"type": "PERSON", "first": p.first, "last": p.last, "form": form, "role": role}
        if p.ambiguous:
            entry["ambiguous"] = p.ambiguous
        text = {
            "full": p.full, "first": p.first, "upper": p.full.upper(), "lower": p.full.lower(),
            "reversed": f"{p.last}, {p.first}", "initial": f"{p.first[0]}. {p.last}", "first_upper": p.first.upper(),
            "last_title": p.last,
        }[form]
        if form == "last_title":
            return [(self._stable(f"title:{role}", lambda: self.rng.choice(TITLES)) + " ", None), (text, entry)]
        return [(text, entry)]


PERSON_SLOTS = frozenset({"full", "first", "upper", "lower", "reversed", "initial", "first_upper", "last_title"})
CONTACT_SLOTS = frozenset({"email", "phone", "address", "dob"})


def weighted(rng: random.Random, items: list[tuple[str, int]]) -> str:
    return rng.choices([v for v, _ in items], weights=[w for _, w in items])[0]


class Builder:
    """Text plus the spans of the PII written into it."""

    def __init__(self):
        self.parts: list[str] = []
        self.spans: list[dict] = []
        self.size = 0

    def add(self, text: str, entry: dict | None = None) -> None:
        if entry is not None:
            self.spans.append({**entry, "value": text, "start": self.size, "end": self.size + len(text)})
        self.parts.append(text)
        self.size += len(text)

    def tpl(self, template: str, row: Row) -> None:
        pos = 0
        for m in SLOT.finditer(template):
            self.add(template[pos:m.start()])
            if m.group(1) in ("issue", "Issue"):  # a nested template, capitalised after a full stop
                issue = row.slot("issue")[0][0]
                self.tpl(_cap(issue) if m.group(1) == "Issue" else issue, row)
            else:
                for text, entry in row.slot(m.group(1)):
                    self.add(text, entry)
            pos = m.end()
        self.add(template[pos:])

    @property
    def text(self) -> str:
        return "".join(self.parts)


def render(template: str, row: Row) -> tuple[str, list[dict]]:
    b = Builder()
    b.tpl(template, row)
    return b.text, b.spans


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:]


# ---- formats -----------------------------------------------------------------------------------------------------


def _pool(people: People, rows: int) -> list[Person]:
    """Recurring people: about 0.6 persons per row, so many appear in two or more rows; ~4% with ambiguous names."""
    size = max(12, int(rows * 0.6))
    return [people.person(allow_ambiguous=people.rng.random() < 0.04) for _ in range(size)]


def tickets(rows: int, seed: int) -> tuple[list[dict], list[dict]]:
    rng = random.Random(f"{seed}:tickets")
    people = People(rng)
    pool = _pool(people, rows)
    agents = [people.person() for _ in range(max(4, min(30, rows // 40)))]
    ids = rng.sample(range(100000, 1000000), rows)
    start = datetime(2023, 1, 1, tzinfo=timezone.utc)
    data, truth = [], []
    for i in range(rows):
        person = rng.choice(pool)
        row = Row(rng, person, rng.choice(pool), rng.choice(agents))
        prod_name, code, _ = next(p for p in PRODUCTS if p[0] == row.slot("product")[0][0])
        body = Builder()
        pii_free = rng.random() < 0.3
        if pii_free:
            body.tpl(rng.choice(PII_FREE_BODIES), row)
            if rng.random() < 0.5:
                body.add(" ")
                body.tpl(rng.choice(TEMPLATE_PHRASES), row)
            if rng.random() < 0.4:
                body.add("\n")
                body.tpl(rng.choice(TEAM_SIGNATURES), row)
        elif rng.random() < 0.55:  # the customer writes
            opener = rng.choice(CUSTOMER_OPENERS)
            body.tpl(opener, row)
            issue = rng.choice(ISSUES)
            body.add(" ")
            body.tpl(issue if opener.endswith(("and", ",")) else _cap(issue), row)
            body.add(".")
            if rng.random() < 0.6:
                body.add(" ")
                body.tpl(rng.choice(CUSTOMER_CONTACT), row)
            if rng.random() < 0.3:
                body.add(" ")
                body.tpl(rng.choice(CUSTOMER_ADDRESS), row)
            closing = rng.choice(CUSTOMER_CLOSINGS)
            if closing:
                body.add("\n")
                body.tpl(closing, row)
            if rng.random() < 0.5:  # and an agent answers in the same thread
                body.add("\n\n---\n")
                body.tpl(rng.choice(AGENT_REPLIES), row)
                body.add("\n")
                body.tpl(rng.choice(AGENT_SIGNATURES), row)
        else:  # an agent's log note
            note = _cap(rng.choice(AGENT_NOTES))
            body.tpl(note, row)
            if rng.random() < 0.3:
                body.add(" ")
                body.tpl(rng.choice([t for t in TEMPLATE_PHRASES if t not in note]), row)
            if rng.random() < 0.25:
                body.add(" ")
                body.tpl(rng.choice(CUSTOMER_ADDRESS), row)
            if rng.random() < 0.6:
                body.add("\n")
                body.tpl(rng.choice(AGENT_SIGNATURES), row)
        text = body.text
        created = start + timedelta(seconds=rng.randrange(2 * 365 * 86400))
        column_phone = rng.choice(person.phone.renders)
        rec = {
            "ticket_id": f"TCK-{ids[i]}", "customer_name": person.full, "email": person.email, "phone": column_phone,
            "product": prod_name, "sku": f"{code}-{rng.randrange(1000, 10000)}-{rng.choice(COLOURS)}",
            "priority": weighted(rng, PRIORITIES), "channel": rng.choice(CHANNELS),
            "created_at": created.strftime("%Y-%m-%dT%H:%M:%SZ"), "body": text,
        }
        cells = {
            "customer_name": [_whole(person.full, {"type": "PERSON", "first": person.first, "last": person.last,
                                                   "form": "full", "role": "customer",
                                                   **({"ambiguous": person.ambiguous} if person.ambiguous else {})})],
            "email": [_whole(person.email, {"type": "EMAIL_ADDRESS", "role": "customer"})],
            "phone": [_whole(column_phone, {"type": "PHONE_NUMBER", "digits": person.phone.core,
                                            "valid": person.phone.valid, "role": "customer"})],
        }
        if body.spans:
            cells["body"] = body.spans
        data.append(rec)
        truth.append({"row": i, "pii_free": not body.spans, "cells": cells})
    return data, truth


def _whole(value: str, entry: dict) -> dict:
    return {**entry, "value": value, "start": 0, "end": len(value)}


def chats(rows: int, seed: int) -> tuple[list[dict], list[dict]]:
    rng = random.Random(f"{seed}:chats")
    people = People(rng)
    pool = _pool(people, rows)
    data, truth = [], []
    for i in range(rows):
        row = Row(rng, rng.choice(pool), rng.choice(pool))
        draw = rng.random()
        kind = CHAT_SCENARIOS_SECRET if draw < 0.25 else CHAT_SCENARIOS_PII if draw < 0.6 else CHAT_SCENARIOS_FREE
        topic, turns = rng.choice(kind)
        messages, cells = [], {}
        if rng.random() < 0.7:
            messages.append({"role": "system", "content": rng.choice(SYSTEM_PROMPTS)})
        for role, template in turns:
            text, spans = render(template, row)
            if spans:
                cells[f"messages.{len(messages)}.content"] = spans
            messages.append({"role": role, "content": text})
        data.append({"id": f"conv-{i:06d}", "topic": topic, "messages": messages})
        truth.append({"row": i, "pii_free": not cells, "cells": cells})
    return data, truth


def instructions(rows: int, seed: int) -> tuple[list[dict], list[dict]]:
    rng = random.Random(f"{seed}:instructions")
    people = People(rng)
    pool = _pool(people, rows)
    data, truth = [], []
    for i in range(rows):
        row = Row(rng, rng.choice(pool), rng.choice(pool))
        if rng.random() < 0.4:
            category, instruction, inp, response = rng.choice(PII_INSTRUCTIONS)
        else:
            pick = rng.randrange(6)
            if pick == 0:
                category, instruction, inp, response = (
                    "summarization", "Summarize the following paragraph in one sentence.", rng.choice(PARAGRAPHS),
                    "It explains the main idea of the paragraph in plain words.")
            elif pick == 1:
                review, label = rng.choice(REVIEWS)
                category, instruction, inp, response = (
                    "classification", "Classify the sentiment of this review as positive, negative or mixed.",
                    review, label)
            elif pick == 2:
                category, (instruction, response), inp = "coding", rng.choice(CODE_TASKS), ""
            elif pick == 3:
                category, (instruction, response), inp = "math", rng.choice(MATH_TASKS), ""
            elif pick == 4:
                category, (instruction, inp, response) = "rewriting", rng.choice(REWRITE_TASKS)
            else:
                category, (instruction, response), inp = "brainstorming", rng.choice(BRAINSTORM_TASKS), ""
        rec, cells = {"category": category}, {}
        for col, template in (("instruction", instruction), ("input", inp), ("response", response)):
            text, spans = render(template, row)
            rec[col] = text
            if spans:
                cells[col] = spans
        data.append({k: rec[k] for k in ("instruction", "input", "response", "category")})
        truth.append({"row": i, "pii_free": not cells, "cells": cells})
    return data, truth


COLUMNS = {
    "tickets": {
        "ticket_id": {"role": "id"},
        "customer_name": {"role": "structured_pii", "entity": "PERSON"},
        "email": {"role": "structured_pii", "entity": "EMAIL_ADDRESS"},
        "phone": {"role": "structured_pii", "entity": "PHONE_NUMBER"},
        "product": {"role": "label"}, "sku": {"role": "sku"}, "priority": {"role": "label"},
        "channel": {"role": "label"}, "created_at": {"role": "timestamp"}, "body": {"role": "free_text"},
    },
    "chats": {"id": {"role": "id"}, "topic": {"role": "label"}, "messages": {"role": "chat"}},
    "instructions": {"instruction": {"role": "free_text"}, "input": {"role": "free_text"},
                     "response": {"role": "free_text"}, "category": {"role": "label"}},
}
BUILDERS = {"tickets": tickets, "chats": chats, "instructions": instructions}


def write(out: Path, rows: int, seed: int, formats=FORMATS) -> dict:
    """Write the data files, their truth and `manifest.json` into `out`; return the manifest."""
    out.mkdir(parents=True, exist_ok=True)
    manifest = {"generator": "bench/finetune_gen.py", "rows": rows, "seed": seed, "formats": {}}
    for fmt in formats:
        data, truth = BUILDERS[fmt](rows, seed)
        path = out / FILES[fmt]
        if fmt == "tickets":
            with path.open("w", encoding="utf-8", newline="") as fh:
                writer = csv.DictWriter(fh, fieldnames=list(COLUMNS[fmt]))
                writer.writeheader()
                writer.writerows(data)
        elif fmt == "chats":
            path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in data), encoding="utf-8")
        else:
            schema = pa.schema([(c, pa.string()) for c in COLUMNS[fmt]])
            pq.write_table(pa.Table.from_pylist(data, schema=schema), path)
        (out / f"{fmt}.truth.jsonl").write_text(
            "".join(json.dumps(t, ensure_ascii=False) + "\n" for t in truth), encoding="utf-8")
        manifest["formats"][fmt] = {
            "file": FILES[fmt], "truth": f"{fmt}.truth.jsonl", "rows": rows, "columns": COLUMNS[fmt],
            "pii_free_rows": sum(t["pii_free"] for t in truth),
        }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=2000, help="rows per format")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, required=True, help="folder to write into")
    parser.add_argument("--formats", default=",".join(FORMATS), help="comma-separated subset of " + ",".join(FORMATS))
    args = parser.parse_args(argv)
    formats = [f for f in args.formats.split(",") if f]
    unknown = set(formats) - set(FORMATS)
    if unknown or args.rows < 1:
        parser.error(f"unknown format(s): {', '.join(sorted(unknown))}" if unknown else "--rows must be >= 1")
    manifest = write(args.out, args.rows, args.seed, formats)
    for fmt, info in manifest["formats"].items():
        print(f"{fmt}: {info['rows']} rows ({info['pii_free_rows']} PII-free) -> {args.out / info['file']}")


if __name__ == "__main__":
    main()
