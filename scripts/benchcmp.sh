#!/usr/bin/env bash
# benchcmp.sh OLD NEW [PACKAGE [BENCH [ROUNDS [BENCHTIME]]]]
#
# Compares the benchmarks of two commits on a noisy machine: it builds each commit's test binary
# for PACKAGE (default ./checker) in a temporary worktree, then runs both at once, each pinned to
# its own core with GOMAXPROCS=1, swapping the cores every round, so that both see the same
# machine. It prints benchstat's comparison when benchstat is on PATH (or in ~/go/bin), and
# the median of the per-round ratios of events/s, which drifts less than either side.
#   scripts/benchcmp.sh b80b7ab HEAD ./checker 'Activation|ColdStart' 10 1s
set -euo pipefail
old=${1:?old commit}; new=${2:?new commit}
pkg=${3:-./checker}; bench=${4:-.}; rounds=${5:-10}; benchtime=${6:-1s}
command -v taskset >/dev/null || { echo "benchcmp: taskset (util-linux) is needed" >&2; exit 2; }
[ "$(nproc)" -ge 2 ] || { echo "benchcmp: needs two cores" >&2; exit 2; }
root=$(git rev-parse --show-toplevel)
work=$(mktemp -d)
trap 'git -C "$root" worktree remove --force "$work/old" >/dev/null 2>&1 || true; git -C "$root" worktree remove --force "$work/new" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
for side in old new; do
  rev=${!side}
  git -C "$root" worktree add -f --detach "$work/$side" "$rev" >/dev/null 2>&1 ||
    { echo "benchcmp: no commit $rev" >&2; exit 2; }
  (cd "$work/$side" && go test -c -o "$work/$side.test" "$pkg")
done
for i in $(seq "$rounds"); do
  a=$((i % 2)); b=$((1 - a))
  (cd "$work" && GOMAXPROCS=1 taskset -c $a ./old.test -test.run XXX -test.bench "$bench" -test.benchtime "$benchtime" | grep '^Bench' >> old.txt) &
  (cd "$work" && GOMAXPROCS=1 taskset -c $b ./new.test -test.run XXX -test.bench "$bench" -test.benchtime "$benchtime" | grep '^Bench' >> new.txt) &
  wait
  printf 'round %d of %d\r' "$i" "$rounds" >&2
done
echo >&2
for side in old new; do
  [ -s "$work/$side.txt" ] || { echo "benchcmp: no benchmark of $pkg matching '$bench' ran at ${!side}" >&2; exit 2; }
done
bs=$(command -v benchstat || true)
[ -z "$bs" ] && [ -x "$HOME/go/bin/benchstat" ] && bs=$HOME/go/bin/benchstat
if [ -n "$bs" ]; then
  "$bs" "$work/old.txt" "$work/new.txt"
else
  echo "(benchstat not found: go install golang.org/x/perf/cmd/benchstat@latest)"
fi
# Per-round ratios of events/s: round i of one side against round i of the other.
awk '
  function ev(line,   n, f, k) { n = split(line, f, /[ \t]+/); for (k = 2; k <= n; k++) if (f[k] == "events/s") return f[k-1]; return "" }
  FNR == NR { split($1, nm, "-"); o[nm[1], ++c[nm[1]]] = ev($0); next }
  { split($1, nm, "-"); name = nm[1]; r = ++d[name]; v = ev($0); if (v != "" && o[name, r] != "") ratios[name] = ratios[name] " " v / o[name, r] }
  END {
    for (name in ratios) {
      m = split(substr(ratios[name], 2), xs, " "); 
      for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (xs[j] < xs[i]) { t = xs[i]; xs[i] = xs[j]; xs[j] = t }
      printf "%-34s events/s paired median %+.1f%% (%d rounds)\n", name, (xs[int((m + 1) / 2)] - 1) * 100, m
    }
  }' "$work/old.txt" "$work/new.txt" | sort
