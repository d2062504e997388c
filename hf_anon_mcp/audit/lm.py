"""Drive a causal language model for the audit: load it, score texts (summed token losses), and generate.

Needs the `audit` extra (torch + transformers); `require_audit_extra()` turns its absence into one clear line.
Everything runs without gradients, in eval mode, on the device chosen once (a GPU when present, else the CPU).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hf_anon_mcp.errors import InputError, OfflineError

log = logging.getLogger("hf_anon_mcp.audit")

INSTALL_HINT = "pip install 'hf-anon-mcp[audit]'"
LOGITS_BUDGET = 48_000_000  # floats of logits per forward pass (~190 MB): bounds memory on a 50k vocabulary


def require_audit_extra() -> None:
    """Import the audit's heavy dependencies, or raise one `InputError` naming the install command."""
    missing = []
    for name in ("torch", "transformers", "scipy"):
        try:
            __import__(name)
        except ImportError:
            missing.append(name)
    if missing:
        raise InputError(f"the audit needs {', '.join(missing)}, which are not installed",
                         hint=f"install the audit extra: {INSTALL_HINT}")


def pick_device(requested: str) -> str:
    import torch

    if requested != "auto":
        if requested.startswith("cuda") and not torch.cuda.is_available():
            raise InputError(f"device {requested!r} was asked for but no CUDA GPU is available")
        return requested
    if torch.cuda.is_available():
        return "cuda"
    return "cpu"


@dataclass
class LanguageModel:
    """A causal LM and its tokenizer, ready to score and generate."""

    name: str
    model: Any
    tokenizer: Any
    device: str

    @property
    def start_id(self) -> int | None:
        """The token put before every text (GPT-2's `<|endoftext|>`), so its first token is scored too."""
        tok = self.tokenizer
        return tok.bos_token_id if tok.bos_token_id is not None else tok.eos_token_id

    @property
    def pad_id(self) -> int:
        tok = self.tokenizer
        for candidate in (tok.pad_token_id, tok.eos_token_id, tok.bos_token_id):
            if candidate is not None:
                return candidate
        return 0

    @property
    def context(self) -> int:
        cfg = self.model.config
        return int(getattr(cfg, "n_positions", None) or getattr(cfg, "max_position_embeddings", None) or 1024)

    def encode(self, text: str, max_length: int | None = None, *, keep: str = "start") -> list[int]:
        """Token ids of `text` after the start token, cut to `max_length` (keeping its start, or its end)."""
        ids = list(self.tokenizer(text, add_special_tokens=False)["input_ids"])
        limit = min(max_length or self.context, self.context) - (1 if self.start_id is not None else 0)
        ids = ids[:limit] if keep == "start" else ids[max(0, len(ids) - limit):]
        return ([self.start_id] if self.start_id is not None else []) + ids

    def token_losses(self, texts: Sequence[str], *, max_length: int | None = None, batch_size: int = 16,
                     cancel=None) -> list[tuple[float, int]]:
        """For each text, (summed negative log-likelihood in nats, number of scored tokens)."""
        import torch

        encoded = [self.encode(t, max_length) for t in texts]
        order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]))
        vocab = int(self.model.config.vocab_size)
        out: list[tuple[float, int]] = [(0.0, 0)] * len(encoded)
        start = 0
        while start < len(order):
            if cancel is not None and cancel.is_set():
                from hf_anon_mcp.errors import CancelledError
                raise CancelledError("the audit was cancelled")
            longest = len(encoded[order[min(len(order) - 1, start + batch_size - 1)]])
            rows = max(1, min(batch_size, LOGITS_BUDGET // max(1, longest * vocab)))
            chunk = order[start: start + rows]
            start += rows
            width = max(len(encoded[i]) for i in chunk)
            ids = torch.full((len(chunk), width), self.pad_id, dtype=torch.long)
            mask = torch.zeros((len(chunk), width), dtype=torch.long)
            for row, i in enumerate(chunk):
                ids[row, : len(encoded[i])] = torch.tensor(encoded[i])
                mask[row, : len(encoded[i])] = 1
            ids, mask = ids.to(self.device), mask.to(self.device)
            with torch.inference_mode():
                logits = self.model(input_ids=ids, attention_mask=mask).logits[:, :-1].float()
                targets = ids[:, 1:]
                nll = torch.nn.functional.cross_entropy(logits.transpose(1, 2), targets, reduction="none")
                nll = nll * mask[:, 1:]
                sums = nll.sum(dim=1).tolist()
                counts = mask[:, 1:].sum(dim=1).tolist()
            for row, i in enumerate(chunk):
                out[i] = (float(sums[row]), int(counts[row]))
        return out

    def log_perplexities_bits(self, texts: Sequence[str], *, batch_size: int = 16, cancel=None) -> list[float]:
        """`-sum log2 P(token)` over each whole text (the Secret Sharer's log-perplexity)."""
        return [s / math.log(2) for s, _ in self.token_losses(texts, batch_size=batch_size, cancel=cancel)]

    def mean_losses(self, texts: Sequence[str], *, max_length: int, batch_size: int = 16, cancel=None) -> list[float]:
        """Mean per-token loss (nats) of each text, cut to `max_length` tokens."""
        return [s / max(1, n) for s, n in self.token_losses(texts, max_length=max_length, batch_size=batch_size,
                                                              cancel=cancel)]

    def generate(self, prompts: Sequence[str], *, max_new_tokens: int, samples: int = 0, greedy: bool = True,
                 seed: int = 0, batch_size: int = 16, keep_prompt_tokens: int = 256) -> list[list[str]]:
        """For each prompt, its continuations (text after the prompt): the greedy one first when `greedy`, then
        `samples` sampled ones (top-k 40, temperature 1, as in the extraction attacks of Carlini et al. 2021
        and Lukas et al. 2023). Prompts are cut to their last `keep_prompt_tokens` tokens."""
        import torch

        out: list[list[str]] = [[] for _ in prompts]
        limit = max(1, min(keep_prompt_tokens, self.context - max_new_tokens))
        encoded = [self.encode(p, limit, keep="end") for p in prompts]
        if any(not ids for ids in encoded):
            raise InputError("an empty prompt needs a tokenizer with a start token")
        # Sorted by length so a batch holds prompts of similar length; shorter ones are padded on the LEFT with an
        # attention mask (generation continues from the right end), which gives GPT-2 the same greedy output
        # as generating each prompt alone (checked on transformers 5.24).
        order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]))
        torch.manual_seed(seed)
        runs = []
        if greedy:
            runs.append(dict(do_sample=False, num_return_sequences=1))
        if samples:
            runs.append(dict(do_sample=True, top_k=40, temperature=1.0, num_return_sequences=samples))
        for start in range(0, len(order), batch_size):
            chunk = order[start: start + batch_size]
            width = max(len(encoded[i]) for i in chunk)
            ids = torch.tensor([[self.pad_id] * (width - len(encoded[i])) + encoded[i] for i in chunk],
                               dtype=torch.long, device=self.device)
            mask = torch.tensor([[0] * (width - len(encoded[i])) + [1] * len(encoded[i]) for i in chunk],
                                dtype=torch.long, device=self.device)
            for kwargs in runs:
                with torch.inference_mode():
                    gen = self.model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=max_new_tokens,
                                              pad_token_id=self.pad_id, **kwargs)
                per = kwargs["num_return_sequences"]
                texts = self.tokenizer.batch_decode(gen[:, width:], skip_special_tokens=True)
                for row, i in enumerate(chunk):
                    out[i].extend(texts[row * per: (row + 1) * per])
        return out


def check_model_spec(spec: str) -> Path | None:
    """The local folder `spec` names, None for a Hub repo id; an `InputError` for a path that does not exist."""
    local = Path(spec).expanduser()
    if local.exists():
        return local
    if spec.startswith((".", "/", "~")) or spec.count("/") != 1:
        raise InputError(f"model not found: {spec}", hint="give a folder written by save_pretrained or a Hub repo id")
    return None


def load_model(spec: str, device: str) -> LanguageModel:
    """Load a causal LM and its tokenizer from a local folder or a Hub repo id (never running remote code)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    local = check_model_spec(spec)
    source = str(local) if local is not None else spec
    try:
        tokenizer = AutoTokenizer.from_pretrained(source)
        model = AutoModelForCausalLM.from_pretrained(source)
    except OSError as err:
        text = str(err).lower()
        if local is None and ("connect" in text or "offline" in text or "resolve" in text):
            raise OfflineError(f"model {spec} could not be fetched from the Hub",
                               hint="use a local folder, or retry when online") from None
        raise InputError(f"could not load a causal language model from {spec} ({type(err).__name__})",
                         hint="a folder with config.json, weights and tokenizer files, or a Hub repo id") from None
    except (ValueError, KeyError) as err:
        raise InputError(f"{spec} is not a causal language model transformers can load ({type(err).__name__})") \
            from None
    model.to(device)
    model.eval()
    return LanguageModel(name=spec, model=model, tokenizer=tokenizer, device=device)
