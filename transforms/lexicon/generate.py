#!/usr/bin/env python3
"""Generates the lexicon behind the lexical tier of path segments
(README: what is kept and why): words.txt.gz (common words of the major
languages, person names taken out), given.txt.gz and surnames.txt.gz (the
person-name detector's lists), one per line, sorted, gzipped.

    python3 -m venv /tmp/lex && /tmp/lex/bin/pip install wordfreq==3.1.1 names==0.3.0
    /tmp/lex/bin/python transforms/lexicon/generate.py transforms/lexicon

Sources and licences (LICENSES.md beside the output):
  - wordfreq 3.1.1 (Robyn Speer): code Apache-2.0, word-frequency data
    CC BY-SA 4.0; the top WORDS words of each language in LANGS (WORDS_EN
    of English).
  - names 0.3.0 (Trey Hunner, MIT): the US Census Bureau's 1990 name
    frequency files (public domain): all given names, the top SURNAMES
    surnames. A given name is a word only among the EVERYDAY most frequent
    words of a language, a surname among the COMMON ones. The detector's
    surnames are the SURE_SURNAMES most common and the others that are no
    everyday word; its given names the SURE_GIVEN most common of each list
    and the others that are no common word.
"""
import gzip
import os
import sys
import unicodedata

import names
import wordfreq

LANGS = ["en", "de", "fr", "es", "it", "pt", "nl", "sv", "da", "nb", "pl", "cs", "ro", "tr", "fi", "hu"]
WORDS = 50000
# English is the web's lingua franca: its technical words ("ephemeral",
# "headless", "jquery") are past the first 50 000.
WORDS_EN = 100000
SURNAMES = 10000
COMMON = 5000
EVERYDAY = 1000
SURE_SURNAMES = 2000
SURE_GIVEN = 500


def plain(w):
    """A word as it appears in a slug: lower-case letters only (any Latin
    letter with its accents), 2 to 24 bytes."""
    if not (2 <= len(w.encode()) <= 24):
        return False
    for c in w:
        if not unicodedata.category(c) in ("Ll", "Mn"):
            return False
        if not unicodedata.name(c, "").startswith("LATIN") and unicodedata.category(c) != "Mn":
            return False
    return True


def fold(w):
    """The ASCII spelling slugs often use: "über" -> "uber"."""
    d = unicodedata.normalize("NFKD", w)
    return "".join(c for c in d if not unicodedata.combining(c))


def census(path, limit=None):
    out = []
    with open(path) as f:
        for line in f:
            out.append(line.split()[0].lower())
            if limit and len(out) >= limit:
                break
    return out


def main(outdir):
    base = os.path.dirname(names.__file__)
    male, female = census(os.path.join(base, "dist.male.first")), census(os.path.join(base, "dist.female.first"))
    given = male + female
    surnames = census(os.path.join(base, "dist.all.last"), SURNAMES)
    people = set(given) | set(surnames)
    tops = {lang: wordfreq.top_n_list(lang, WORDS_EN if lang == "en" else WORDS) for lang in LANGS}
    # A surname that is one of a language's most common words ("street",
    # "green") is kept as a word, and so is a given name among the
    # everyday words ("will", "page", "may"): alone they name nobody, and
    # the name detector still finds "will-smith" (a given name, then a
    # surname).
    common = {w for top in tops.values() for w in top[:COMMON]}
    everyday = {w for top in tops.values() for w in top[:EVERYDAY]}
    exclude = (set(given) - everyday) | (set(surnames) - common)
    words = set()
    for top in tops.values():
        for w in top:
            if not plain(w):
                continue
            for form in {w, fold(w)}:
                if len(form) >= 2 and form not in exclude:
                    words.add(form)
    # The detector's surnames: a given name followed by one of them is a
    # person ("john-smith"). An everyday word that is also a rarer surname
    # ("summer-sale") is left out, the most common surnames never.
    detect = set(surnames[:SURE_SURNAMES]) | (set(surnames) - everyday)
    # And its given names: the most common, and the others that are no
    # common word ("winter trail" is a search, "john smith" a person).
    detect_given = set(male[:SURE_GIVEN] + female[:SURE_GIVEN]) | (set(given) - common)
    for name, items in (("words.txt.gz", words), ("given.txt.gz", detect_given), ("surnames.txt.gz", detect)):
        # mtime 0: the same input makes the same bytes.
        with gzip.GzipFile(os.path.join(outdir, name), "wb", 9, mtime=0) as f:
            f.write(("\n".join(sorted(items)) + "\n").encode())
    print(f"{len(words)} words, {len(detect_given)} given names, {len(detect)} surnames", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".")
