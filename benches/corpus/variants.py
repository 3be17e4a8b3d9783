"""Writes the corpus benchmark's corpus in other scripts, for storyhash's speed on text
that is not ASCII: the same documents, ids and planted families, so the same ground truth.

Usage: python variants.py CORPUS.jsonl OUT_DIR

Writes OUT_DIR/accented.jsonl, cyrillic.jsonl, devanagari.jsonl and hangul.jsonl:
- accented: Latin text with the accents of French news, at about their rate (a word-final
  "e" becomes "é", "co" becomes "ço", each document's first "a" becomes "à"): mostly ASCII
  with a two-byte letter every few words.
- cyrillic: every Latin letter mapped to a Cyrillic one (case kept), as in Russian news:
  every letter two bytes.
- devanagari: every Latin letter mapped to a Devanagari consonant: every letter three
  bytes, as in Hindi news (without vowel signs, so that the scorer's regex words, which
  split at marks, stay the words storyhash finds).
- hangul: every Latin letter mapped to a Hangul syllable: three bytes, as in Korean news.
These are transliterations, not languages: word lengths, frequencies and the edits
between copies stay those of the generator.
"""

import json
import os
import sys

LATIN = "abcdefghijklmnopqrstuvwxyz"
CYRILLIC = "абцдефгхийклмнопярстувшхыз"
TO_CYRILLIC = str.maketrans(LATIN + LATIN.upper(), CYRILLIC + CYRILLIC.upper())
DEVANAGARI = "कखगघचछजझटठडढणतथदधनपफबभमयरल"
TO_DEVANAGARI = str.maketrans(LATIN + LATIN.upper(), DEVANAGARI + DEVANAGARI)
# Syllables spread over the Hangul block (U+AC00 + 397·i), so that many blocks of the
# segmenter's lazily built tables are met.
HANGUL = "".join(chr(0xAC00 + 397 * i) for i in range(26))
TO_HANGUL = str.maketrans(LATIN + LATIN.upper(), HANGUL + HANGUL)


def accented(text):
    return text.replace("e ", "é ").replace("co", "ço").replace("a", "à", 1)


VARIANTS = {
    "accented": accented,
    "cyrillic": lambda text: text.translate(TO_CYRILLIC),
    "devanagari": lambda text: text.translate(TO_DEVANAGARI),
    "hangul": lambda text: text.translate(TO_HANGUL),
}


def main():
    source, out_dir = sys.argv[1:3]
    outs = {name: open(os.path.join(out_dir, f"{name}.jsonl"), "w", encoding="utf-8")
            for name in VARIANTS}
    with open(source, encoding="utf-8") as f:
        for line in f:
            record = json.loads(line)
            for name, transform in VARIANTS.items():
                variant = dict(record, text=transform(record["text"]))
                outs[name].write(json.dumps(variant, ensure_ascii=False) + "\n")
    for out in outs.values():
        out.close()


if __name__ == "__main__":
    main()
