"""The Lee corpus from gensim's test data as JSON lines for the story evaluation.

Lee, Pincombe and Welsh (2005), "An empirical evaluation of models of text document
similarity": 50 short news articles (Australian Broadcasting Corporation, 50 to 130
words) whose 1,225 pairs were each rated by about ten people for similarity, and 300
articles of the same kind as a background. gensim's wheel on PyPI carries them under
gensim/test/test_data: `lee.cor` and `lee_background.cor` (one article a line, in
Windows-1252) and `similarities0-1.txt` (the mean ratings mapped onto 0.2 to 1, a 50 ×
50 matrix whose upper triangle holds the pairs).

Writes `lee.jsonl` (ids lee-00 to lee-49, in the order of the matrix), `lee-background.jsonl`
and `lee-similarities.txt` to OUT_DIR.

Usage: python3 lee.py TEST_DATA_DIR OUT_DIR
"""

import json
import shutil
import sys
from pathlib import Path


def articles(path):
    with open(path, encoding="cp1252") as f:
        return [line.strip() for line in f if line.strip()]


def write(records, path):
    with open(path, "w", encoding="utf-8") as f:
        for record in records:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")


def main():
    data, out = Path(sys.argv[1]), Path(sys.argv[2])
    rated = articles(data / "lee.cor")
    if len(rated) != 50:
        sys.exit(f"{data / 'lee.cor'}: expected 50 articles, found {len(rated)}")
    write([{"id": f"lee-{i:02d}", "text": t} for i, t in enumerate(rated)], out / "lee.jsonl")
    background = articles(data / "lee_background.cor")
    write([{"id": f"lee-bg-{i:03d}", "text": t} for i, t in enumerate(background)],
          out / "lee-background.jsonl")
    shutil.copyfile(data / "similarities0-1.txt", out / "lee-similarities.txt")
    print(f"lee.jsonl: {len(rated)} articles; lee-background.jsonl: {len(background)}")


if __name__ == "__main__":
    main()
