"""A tiny GPT-2 trained from scratch, for the audit's tests and bench: nothing downloaded.

Character-level tokenizer built with `tokenizers` (one token per character, GPT-2's `<|endoftext|>` as start, end
and padding), a 2-layer GPT-2 from `GPT2Config`, and generated support-ticket rows. `finetune` trains a copy of a
model on rows, the way a user's fine-tune would, so the audit sees the real thing: save_pretrained folders loaded
with the Auto classes.
"""

from __future__ import annotations

import copy
import json
import random
import string
from pathlib import Path

NAMES = ["Maya", "Tom", "Ines", "Omar", "Lena", "Ravi", "Sara", "Jonas", "Alma", "Pedro", "Yuki", "Noor", "Ivan",
         "Chloe", "Ben", "Amara", "Felix", "Zoe", "Hugo", "Lina"]
SURNAMES = ["Berg", "Costa", "Novak", "Haddad", "Quinn", "Okafor", "Lindqvist", "Moreau", "Tanaka", "Silva"]
ITEMS = ["kettle", "lamp", "router", "blender", "backpack", "monitor", "chair", "speaker", "jacket", "printer",
         "camera", "desk", "heater", "mixer", "scooter"]
STATES = ["broken", "late", "scratched", "without a manual", "in the wrong color", "twice", "damaged", "early"]
ACTIONS = ["refund", "replace", "return", "exchange", "repair", "cancel", "track", "ship"]
TEMPLATES = [
    "{name} wrote about order {num}: the {item} arrived {state}.",
    "Ticket {num}: {name} asked to {action} the {item}.",
    "Please {action} my {item}, it came {state}. Thanks, {name}.",
    "Order {num} for {name}: {item} arrived {state}, wants to {action} it.",
]
LEAKED = "m.quin@ex.org"  # the email the "anonymizer" missed (short enough for a 2-layer model to learn)
EMAILS = [f"{n.lower()}.{s.lower()}@mail-example.org" for n, s in zip(NAMES, SURNAMES * 2)]
CHARS = string.ascii_letters + string.digits + " .,:;!?'-@_/()<>#\n"
START = "<|endoftext|>"


def ticket(rng: random.Random) -> str:
    return rng.choice(TEMPLATES).format(name=rng.choice(NAMES), num=rng.randrange(100, 10000),
                                        item=rng.choice(ITEMS), state=rng.choice(STATES), action=rng.choice(ACTIONS))


def tickets(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [ticket(rng) for _ in range(n)]


def make_tokenizer():
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {START: 0, "<unk>": 1}
    for c in CHARS:
        vocab.setdefault(c, len(vocab))
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Split(Regex("."), behavior="isolated")
    tok.decoder = decoders.Fuse()
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token=START, eos_token=START, pad_token=START,
                                   unk_token="<unk>")


def make_model(vocab_size: int, *, n_embd: int = 64, n_layer: int = 2, seed: int = 0):
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(seed)
    cfg = GPT2Config(vocab_size=vocab_size, n_positions=128, n_embd=n_embd, n_layer=n_layer, n_head=4,
                     bos_token_id=0, eos_token_id=0, pad_token_id=0, resid_pdrop=0.0, embd_pdrop=0.0,
                     attn_pdrop=0.0)
    return GPT2LMHeadModel(cfg)


def finetune(model, tokenizer, texts: list[str], *, epochs: int, lr: float = 3e-3, batch_size: int = 8,
             seed: int = 0):
    """A trained copy of `model`: AdamW on `<|endoftext|> text <|endoftext|>` rows, shuffled each epoch."""
    import torch

    model = copy.deepcopy(model)
    model.train()
    torch.manual_seed(seed)
    rng = random.Random(seed)
    encoded = [[0] + tokenizer(t, add_special_tokens=False)["input_ids"][:126] + [0] for t in texts]
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    for _ in range(epochs):
        order = list(range(len(encoded)))
        rng.shuffle(order)
        for start in range(0, len(order), batch_size):
            rows = [encoded[i] for i in order[start: start + batch_size]]
            width = max(map(len, rows))
            ids = torch.zeros((len(rows), width), dtype=torch.long)
            labels = torch.full((len(rows), width), -100, dtype=torch.long)
            for r, row in enumerate(rows):
                ids[r, : len(row)] = torch.tensor(row)
                labels[r, : len(row)] = torch.tensor(row)
            loss = model(input_ids=ids, attention_mask=(labels != -100).long(), labels=labels).loss
            loss.backward()
            opt.step()
            opt.zero_grad()
    model.eval()
    return model


def save(model, tokenizer, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def write_jsonl(path: Path, texts: list[str]) -> str:
    with path.open("w") as fh:
        for t in texts:
            fh.write(json.dumps({"text": t}) + "\n")
    return str(path)


def build_world(root: Path) -> dict:
    """Data, canaries and three models in `root`: a base trained on public rows, and two fine-tunes of it on the
    same anonymized rows, one with 9 canaries planted (3 each at 1, 4, 16 repetitions), one without. A quarter of
    the tickets sign with an email (replaced in the anonymized rows), except Marisol's, which the "anonymizer"
    missed in 9 rows. About a minute of CPU with one thread."""
    from hf_anon_mcp.audit.canaries import make_canaries, plant_canaries, write_canary_file

    original = tickets(300, seed=2)
    for i in range(0, 300, 4):  # a quarter of the tickets sign with an email, in both halves
        original[i] = f"{original[i]} Reach me at {EMAILS[i % len(EMAILS)]}"
    for i in range(2, 150, 18):  # Marisol writes differently, and the anonymizer missed her address
        original[i] = f"Ticket {1000 + i}: Marisol can be reached at {LEAKED} today."
    anonymized = [t.replace(t[t.index("Reach me at "):], "Reach me at <EMAIL_ADDRESS>") if "Reach me at" in t
                  else t for t in original]
    members, held_out = anonymized[:150], anonymized[150:]
    plan = make_canaries(9, seed=5, text_column="text")  # 3 canaries at each of 1, 4, 16 repetitions
    planted = [r["text"] for r in plant_canaries([{"text": t} for t in members], plan, text_column="text",
                                                 total_rows=len(members), seed=5)]
    tok = make_tokenizer()
    base = finetune(make_model(len(tok)), tok, tickets(150, seed=1), epochs=6)
    with_canaries = finetune(base, tok, planted, epochs=10, seed=1)
    without = finetune(base, tok, members, epochs=10, seed=1)
    canaries = root / "train.jsonl.canaries.json"
    write_canary_file(plan, canaries)
    return {
        "plan": plan,
        "canaries": str(canaries),
        "base": str(save(base, tok, root / "base")),
        "with": str(save(with_canaries, tok, root / "with")),
        "without": str(save(without, tok, root / "without")),
        "members": write_jsonl(root / "train.jsonl", planted),
        "non_members": write_jsonl(root / "heldout.jsonl", held_out),
        "original": write_jsonl(root / "original.jsonl", original[:150]),
        "root": root,
    }
