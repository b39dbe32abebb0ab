"""How common a word is in general language (`wordfreq`'s Zipf scale: 7 for "the", 4 for "closure", 0 unseen).

A word a general reader meets every day ("today", "changes", "January", "OK") is no topic and no name of its own;
a word rare in general language but frequent in one document is what that document is about. `wordfreq` is
imported on first use, so that `wikismith --help` never pays for its word lists.

Most words the compiler asks about are plain lower-case ASCII words ("closure", "month"). For those the answer is
read straight from wordfreq's own small English list (its `small_en.msgpack.gz`, with wordfreq's arithmetic), which
spares every process that compiles a document the import of wordfreq and its tokenizer stack (ftfy, langcodes,
regex: about a third of a second, more than compiling a short document). Any other word goes through wordfreq.
"""

from __future__ import annotations

import math
from functools import lru_cache

EVERYDAY = 4.3  # Zipf: about 1 in 50,000 words ("chapter" 4.65, "month" 4.9; "cargo" 4.19, "rust" 3.74)


@lru_cache(maxsize=65536)
def zipf(word: str, lang: str = "en") -> float:
    # The small list (words down to Zipf 3) loads in a fraction of the time of the large one; below Zipf 3 every
    # word is rare enough for what the compiler asks.
    if lang == "en" and word.isascii() and word.isalpha() and word.islower():
        freqs = _small_english()
        if freqs is not None:
            return _zipf_of_plain_word(word, freqs)
    from wordfreq import zipf_frequency

    return zipf_frequency(word, lang, wordlist="small")


def everyday(word: str, lang: str = "en") -> bool:
    """A word of everyday language: common enough that on its own it names nothing in particular."""
    return zipf(word.lower(), lang) >= EVERYDAY


def _zipf_of_plain_word(word: str, freqs: dict[str, float]) -> float:
    """`wordfreq.zipf_frequency(word, "en", wordlist="small")` for a lower-case ASCII word, step for step: such a
    word is its own single token (no normalisation, no digits, no quotes change it)."""
    minimum = 10**0.0 / 1e9  # zipf_to_freq(0.0)
    if word not in freqs:
        freq = minimum
    else:
        freq = 1.0 / (0.0 + 1.0 / freqs[word])
        unrounded = max(freq, minimum)
        freq = round(unrounded, math.floor(-math.log(unrounded, 10)) + 3)
    return round(math.log(freq, 10) + 9, 2)


@lru_cache(maxsize=1)
def _small_english() -> dict[str, float] | None:
    """wordfreq's small English list as {word: frequency} (as `wordfreq.get_frequency_dict` builds it), read
    without importing wordfreq; None when the file is not where wordfreq keeps it (the caller then asks wordfreq)."""
    import gzip
    import importlib.util
    import os

    try:
        import msgpack

        spec = importlib.util.find_spec("wordfreq")
        if spec is None or spec.origin is None:
            return None
        with gzip.open(os.path.join(os.path.dirname(spec.origin), "data", "small_en.msgpack.gz"), "rb") as infile:
            data = msgpack.load(infile, raw=False)
    except (ImportError, OSError, ValueError):
        return None
    header = data[0] if data else None
    if not isinstance(header, dict) or header.get("format") != "cB" or header.get("version") != 1:
        return None
    freqs: dict[str, float] = {}
    for index, bucket in enumerate(data[1:]):
        freq = 10 ** (-index / 100)  # cB_to_freq(-index)
        for word in bucket:
            freqs[word] = freq
    return freqs
