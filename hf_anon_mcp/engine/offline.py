"""Keep the engine fully offline.

Presidio's email recognizer validates domains with `tldextract`, whose module-level extractor downloads the public
suffix list on first use (and prints a traceback when it cannot). We swap in an extractor that reads only the snapshot
bundled with tldextract: same answers for every real suffix, no network, no cache directory.
"""

from __future__ import annotations

import tldextract
import tldextract.tldextract as _impl

_done = False


def use_bundled_suffix_list() -> None:
    """Point `tldextract.extract` (what Presidio calls) at the bundled public-suffix snapshot. Idempotent."""
    global _done
    if _done:
        return
    _impl.TLD_EXTRACTOR = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True)
    _done = True
