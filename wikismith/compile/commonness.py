"""How common a word is in general language (`wordfreq`'s Zipf scale: 7 for "the", 4 for "closure", 0 unseen).

A word a general reader meets every day ("today", "changes", "January", "OK") is no topic and no name of its own;
a word rare in general language but frequent in one document is what that document is about. `wordfreq` is
imported on first use, so that `wikismith --help` never pays for its word lists.
"""

from __future__ import annotations

from functools import lru_cache

EVERYDAY = 4.3  # Zipf: about 1 in 50,000 words ("chapter" 4.65, "month" 4.9; "cargo" 4.19, "rust" 3.74)


@lru_cache(maxsize=65536)
def zipf(word: str, lang: str = "en") -> float:
    from wordfreq import zipf_frequency

    # The small list (words down to Zipf 3) loads in a fraction of the time of the large one; below Zipf 3 every
    # word is rare enough for what the compiler asks.
    return zipf_frequency(word, lang, wordlist="small")


def everyday(word: str, lang: str = "en") -> bool:
    """A word of everyday language: common enough that on its own it names nothing in particular."""
    return zipf(word.lower(), lang) >= EVERYDAY
