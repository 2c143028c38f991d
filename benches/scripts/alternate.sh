#!/bin/sh
# Time decisions of several builds of benches/examples/hot.rs, alternated, to compare them on a
# host whose speed drifts: each binary runs once per round, five rounds; prints each binary's
# minimum ns per decision.
#
# usage: benches/scripts/alternate.sh SIZE:SCENARIO BINARY...
#   SIZE small|medium|large, SCENARIO an index into Scenario::ALL (0 same-account allow,
#   1 implicit deny, 2 explicit deny, 3 cross-account allow, 4 cross-account deny)
# e.g. cp target/release/examples/hot /tmp/hot-old; (change, rebuild);
#      benches/scripts/alternate.sh small:0 /tmp/hot-old target/release/examples/hot
set -eu
sc=$1
shift
size=${sc%:*}
idx=${sc#*:}
n=10000000
[ "$size" = medium ] && n=3000000
[ "$size" = large ] && n=300000
for round in 1 2 3 4 5; do
    for b in "$@"; do
        echo "$b $("$b" "$size" "$idx" "$n" | awk '{print $(NF-3)}')"
    done
done | awk '{ if (!($1 in m) || $2 < m[$1]) m[$1] = $2 } END { for (k in m) print m[k], k }' | sort -k2
