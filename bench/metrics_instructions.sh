#!/bin/sh
# Instructions executed with metrics on against off, counted by callgrind: a figure the machine's
# load does not move, next to metrics_bench's wall-time ratios, which it does.
#
#   bench/metrics_instructions.sh [build dir = build/release] [events = 2000000]
set -eu
build=${1:-build/release}
events=${2:-2000000}
command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 2; }
instructions() {
  out=$(mktemp)
  valgrind --tool=callgrind --callgrind-out-file="$out" "$build/bench/metrics_bench" one "$@" \
    >/dev/null 2>&1
  awk '/^summary:/ { print $2 }' "$out"
  rm -f "$out"
}
printf '%-4s %-4s %16s %16s %8s\n' workload par "off instr" "on instr" "on/off"
for w in 0 1 2; do
  for par in 1 2; do
    off=$(instructions "$w" "$par" off "$events")
    on=$(instructions "$w" "$par" on "$events")
    awk -v w="$w" -v p="$par" -v a="$off" -v b="$on" \
      'BEGIN { printf "%-8s %-4s %16d %16d %8.4f\n", w, p, a, b, b / a }'
  done
done
echo "workloads: 0 keyed tumbling window count, 1 map -> filter, 2 keyed running count"
echo "command: bench/metrics_instructions.sh $build $events"
