#!/usr/bin/env bash
# bench/checker_micro.sh -- build and run the micro-benchmark of the
# deciding core (bench/checker_micro.c): ns per tg_check() on the rows of
# bench/insert.sh and bench/checker.sh, no server.  Medians of rounds.
#
#   bash bench/checker_micro.sh [rows] [rounds]
set -euo pipefail
PROJ=$(cd "$(dirname "$0")/.." && pwd)
ROWS=${1:-200000}
ROUNDS=${2:-7}
OUT=$(mktemp -d "${TMPDIR:-/tmp}/tg-micro.XXXXXX")
trap 'rm -rf "$OUT"' EXIT
gcc -O2 -g -Wall -Wextra -Werror -I"$PROJ/src/core" "$PROJ"/src/core/checker*.c \
	"$PROJ/bench/checker_micro.c" $(pkg-config --libs icu-uc icu-i18n) -o "$OUT/checker_micro"
for set in row insert checker; do
	"$OUT/checker_micro" "$set" "$ROWS" "$ROUNDS"
done
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%d)"
