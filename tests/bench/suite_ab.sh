#!/usr/bin/env bash
# The suite's time, before and after: `make test` on a clean clone of each revision given, one
# after the other (so both see the same machine), printing wall time and the machine's CPU
# seconds (/proc/stat) for each. A shared machine's speed drifts over a day: compare the pair.
#
#   bash tests/bench/suite_ab.sh d6e9b2b HEAD
set -uo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
cpu() { awk '/^cpu /{print $2+$3+$4+$7+$8}' /proc/stat; }
for rev in "$@"; do
  dir=$(mktemp -d)
  git -C "$repo" clone -q "$repo" "$dir" && git -C "$dir" checkout -q "$rev"
  before=$(cpu); start=$(date +%s.%N)
  (cd "$dir" && make test > "$dir.log" 2>&1)
  after=$(cpu); end=$(date +%s.%N)
  printf '%s: wall %.1f s, CPU %d s, %s\n' "$rev" "$(echo "$end - $start" | bc)" $(( (after - before) / 100 )) \
    "$(grep -E ' passed| failed' "$dir.log" | tail -1 | tr -d '=')"
  rm -rf "$dir"
done
