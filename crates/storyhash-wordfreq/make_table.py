"""Writes data/wordfreq.txt.gz: the English and Arabic word frequencies of wordfreq
(Robyn Speer et al., https://github.com/rspeer/wordfreq), words of Zipf frequency 3 and
above (once per million words or more), from the pinned wheel's `large_*` lists.

Usage: python3 make_table.py WHEEL   (WHEEL: `pip download wordfreq==3.1.1 --no-deps`)

Each line is a frequency in wordfreq's centibel buckets and the words at it: `N<TAB>w1
w2 ...` means each word is used 10^(-N/100) of the time (N = 300: once per thousand
words). A word in both languages' lists keeps its higher frequency. The file is
deterministic: buckets in order, words sorted within one. Needs the `msgpack` package.
"""

import gzip
import hashlib
import io
import os
import sys
import zipfile

import msgpack

VERSION = "3.1.1"
SHA256 = "4b1c6ecffc6198be3396d5cf871c4423ca71c907c231348d352dd54d62b97473"
LANGUAGES = ("en", "ar")
# Zipf 3: bucket 600. Rarer words add under half a document to a prior of 1,000
# articles of 400 words, so they would not move any idf.
LAST_BUCKET = 600


def main(wheel):
    data = open(wheel, "rb").read()
    digest = hashlib.sha256(data).hexdigest()
    if digest != SHA256:
        sys.exit(f"{wheel}: sha256 {digest}, expected wordfreq {VERSION}'s {SHA256}")
    best = {}
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for language in LANGUAGES:
            packed = archive.read(f"wordfreq/data/large_{language}.msgpack.gz")
            buckets = msgpack.unpackb(gzip.decompress(packed), raw=False)
            assert buckets[0] == {"format": "cB", "version": 1}, buckets[0]
            for bucket in range(1, min(LAST_BUCKET, len(buckets) - 1) + 1):
                for word in buckets[bucket]:
                    best[word] = min(best.get(word, bucket), bucket)
    by_bucket = {}
    for word, bucket in best.items():
        by_bucket.setdefault(bucket, []).append(word)
    lines = [f"{b}\t{' '.join(sorted(by_bucket[b]))}\n" for b in sorted(by_bucket)]
    # Beside this script, wherever it is run from.
    target = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "wordfreq.txt.gz")
    with open(target, "wb") as out:
        out.write(gzip.compress("".join(lines).encode(), compresslevel=9, mtime=0))
    print(f"{len(best)} words in {len(by_bucket)} buckets")


if __name__ == "__main__":
    main(sys.argv[1])
