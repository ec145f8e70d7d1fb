#!/usr/bin/env bash
# Benchmark `palisade scan` on generated corpora, with Checkov as the peer.
#
#   bench/run.sh                         # 1k, 10k, 100k objects; Checkov on 1k and 10k
#   bench/run.sh --sizes "1000 10000"    # other sizes
#   bench/run.sh --no-peer               # skip Checkov
#
# Options:
#   --sizes "N ..."       corpus sizes in objects (default "1000 10000 100000")
#   --runs N              timed palisade runs per size, after one warm-up (default 5)
#   --no-peer             do not run Checkov
#   --peer-sizes "N ..."  sizes Checkov runs on (default "1000 10000"; the smallest gets a 900 s
#                         timeout and --peer-runs runs, larger ones one run with a 600 s timeout)
#   --peer-runs N         Checkov runs on the smallest peer size (default 3)
#   --single N            also scan N objects held in one file, one `kind: List` document
#                         and one multi-document stream, with -o json and -o table
#                         (default 1000; 0 skips)
#   --seed N              corpus seed (default 1)
#   --no-build            use target/release/palisade as it is
#   --rev REV             measure the committed revision REV (e.g. HEAD) instead of the work
#                         tree: `git archive REV` into bench/out/src, built there with its own
#                         target directory (bench/out/target), so uncommitted edits do not count
#
# Corpora go to bench/corpus/<size> (regenerated only when the generator or the
# seed changed), results to bench/out/ (results.md, results.json, measure.log,
# the reports). Both are gitignored. Checkov is installed into bench/.venv on
# first use (CHECKOV=/path/to/checkov to use another one). Needs python3,
# /usr/bin/time (Debian package `time`) and cargo.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH="$ROOT/bench"
SIZES="1000 10000 100000"
RUNS=5
PEER=1
PEER_SIZES="1000 10000"
PEER_RUNS=3
SEED=1
BUILD=1
REV=""
SINGLE=1000

while [ $# -gt 0 ]; do
  case "$1" in
    --sizes) SIZES="$2"; shift 2 ;;
    --runs) RUNS="$2"; shift 2 ;;
    --no-peer) PEER=0; shift ;;
    --peer-sizes) PEER_SIZES="$2"; shift 2 ;;
    --peer-runs) PEER_RUNS="$2"; shift 2 ;;
    --seed) SEED="$2"; shift 2 ;;
    --single) SINGLE="$2"; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    --rev) REV="$2"; shift 2 ;;
    -h|--help) sed -n '2,28p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

if [ ! -x /usr/bin/time ]; then
  echo "run.sh: /usr/bin/time is missing (apt-get install -y time)" >&2
  exit 2
fi

cd "$ROOT"
GIT_LABEL=""
if [ -n "$REV" ]; then
  SHA="$(git rev-parse --short "$REV^{commit}")"
  SRC="$BENCH/out/src"
  echo "==> git archive $SHA into bench/out/src; cargo build --release -p palisade there" >&2
  rm -rf "$SRC" && mkdir -p "$SRC"
  git archive "$SHA" | tar -x -C "$SRC"
  (cd "$SRC" && CARGO_TARGET_DIR="$BENCH/out/target" cargo build --release -p palisade >&2)
  BIN="$BENCH/out/target/release/palisade"
  GIT_LABEL="$SHA (committed revision $REV, built from git archive)"
else
  if [ "$BUILD" = 1 ]; then
    echo "==> cargo build --release -p palisade" >&2
    cargo build --release -p palisade >&2
  fi
  BIN="$ROOT/target/release/palisade"
fi
[ -x "$BIN" ] || { echo "run.sh: $BIN not built" >&2; exit 2; }

# Corpora: regenerate when missing or made by another generator or seed.
GEN_SHA="$(sha256sum "$BENCH/gen_corpus.py" | cut -d' ' -f1)"
mkdir -p "$BENCH/corpus" "$BENCH/out"
ALL_SIZES="$SIZES"
if [ "$PEER" = 1 ]; then ALL_SIZES="$SIZES $PEER_SIZES"; fi
for n in $(printf '%s\n' $ALL_SIZES | sort -nu); do
  dir="$BENCH/corpus/$n"
  summary="$dir.summary.json"
  if [ -d "$dir" ] && [ -f "$summary" ] \
     && grep -q "\"generator_sha256\": \"$GEN_SHA\"" "$summary" \
     && grep -q "\"seed\": $SEED," "$summary"; then
    echo "==> corpus $n: up to date" >&2
  else
    echo "==> python3 bench/gen_corpus.py --objects $n --seed $SEED --out bench/corpus/$n" >&2
    python3 "$BENCH/gen_corpus.py" --objects "$n" --seed "$SEED" --out "$dir" >&2
  fi
done

SINGLE_FILES=""
if [ "$SINGLE" != 0 ]; then
  for layout in list stream; do
    dir="$BENCH/corpus/$layout-$SINGLE"
    summary="$dir.summary.json"
    if [ -d "$dir" ] && [ -f "$summary" ] \
       && grep -q "\"generator_sha256\": \"$GEN_SHA\"" "$summary" \
       && grep -q "\"seed\": $SEED," "$summary"; then
      echo "==> corpus $layout-$SINGLE: up to date" >&2
    else
      echo "==> python3 bench/gen_corpus.py --objects $SINGLE --layout $layout --seed $SEED --out bench/corpus/$layout-$SINGLE" >&2
      python3 "$BENCH/gen_corpus.py" --objects "$SINGLE" --layout "$layout" --seed "$SEED" --out "$dir" >&2
    fi
    SINGLE_FILES="$SINGLE_FILES $layout=$dir/$layout.yaml"
  done
fi

CHECKOV_BIN=""
if [ "$PEER" = 1 ]; then
  CHECKOV_BIN="${CHECKOV:-$BENCH/.venv/bin/checkov}"
  if [ ! -x "$CHECKOV_BIN" ]; then
    echo "==> installing Checkov into bench/.venv" >&2
    python3 -m venv "$BENCH/.venv"
    "$BENCH/.venv/bin/pip" install -q --upgrade pip >&2
    "$BENCH/.venv/bin/pip" install -q checkov >&2
    CHECKOV_BIN="$BENCH/.venv/bin/checkov"
  fi
  echo "==> checkov $("$CHECKOV_BIN" --version)" >&2
fi

exec python3 "$BENCH/measure.py" \
  --bin "$BIN" \
  --corpus-dir "$BENCH/corpus" \
  --sizes "$SIZES" \
  --runs "$RUNS" \
  --checkov "$CHECKOV_BIN" \
  --peer-sizes "$PEER_SIZES" \
  --peer-runs "$PEER_RUNS" \
  --peer-timeout "$(printf '%s\n' $PEER_SIZES | sort -n | head -1):900,*:600" \
  --single-files "$SINGLE_FILES" \
  --git-label "$GIT_LABEL" \
  --out-dir "$BENCH/out"
