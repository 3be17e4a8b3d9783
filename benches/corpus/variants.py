"""Writes the corpus benchmark's corpus in two other scripts, for storyhash's speed on text
that is not ASCII: the same documents, ids and planted families, so the same ground truth.

Usage: python variants.py CORPUS.jsonl ACCENTED.jsonl CYRILLIC.jsonl

- accented: Latin text with the accents of French news, at about their rate (a word-final
  "e" becomes "é", "co" becomes "ço", each document's first "a" becomes "à"): mostly ASCII
  with a two-byte letter every few words.
- cyrillic: every Latin letter mapped to a Cyrillic one (case kept), as in Russian news:
  every letter two bytes.
These are transliterations, not languages: word lengths, frequencies and the edits
between copies stay those of the generator.
"""

import json
import sys

LATIN = "abcdefghijklmnopqrstuvwxyz"
CYRILLIC = "абцдефгхийклмнопярстувшхыз"
TO_CYRILLIC = str.maketrans(LATIN + LATIN.upper(), CYRILLIC + CYRILLIC.upper())


def accented(text):
    return text.replace("e ", "é ").replace("co", "ço").replace("a", "à", 1)


def main():
    source, accented_path, cyrillic_path = sys.argv[1:4]
    with open(source, encoding="utf-8") as f, \
            open(accented_path, "w", encoding="utf-8") as acc, \
            open(cyrillic_path, "w", encoding="utf-8") as cyr:
        for line in f:
            record = json.loads(line)
            for out, transform in ((acc, accented), (cyr, lambda t: t.translate(TO_CYRILLIC))):
                variant = dict(record, text=transform(record["text"]))
                out.write(json.dumps(variant, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
