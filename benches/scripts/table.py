#!/usr/bin/env python3
"""Print the last `cargo bench -p xverify-benches` run as a Markdown table.

usage: python3 benches/scripts/table.py [TARGET_DIR]   (default: target)

Reads target/criterion/**/new/{benchmark,estimates}.json. The time is criterion's headline
figure (the slope of the linear fit when it sampled linearly, else the mean), with its 95%
confidence interval; the throughput comes from the benchmark's `Throughput`.
"""
import json
import os
import sys

root = os.path.join(sys.argv[1] if len(sys.argv) > 1 else "target", "criterion")


def fmt_time(ns):
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return "%.3g %s" % (ns / scale, unit)
    return "%.3g ns" % ns


def fmt_rate(per_s, unit):
    for prefix, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if per_s >= scale:
            return "%.3g %s%s/s" % (per_s / scale, prefix, unit)
    return "%.3g %s/s" % (per_s, unit)


rows = []
for dirpath, _, files in os.walk(root):
    if os.path.basename(dirpath) != "new" or "estimates.json" not in files:
        continue
    bench = json.load(open(os.path.join(dirpath, "benchmark.json")))
    est = json.load(open(os.path.join(dirpath, "estimates.json")))
    e = est.get("slope") or est["mean"]
    ns = e["point_estimate"]
    lo, hi = e["confidence_interval"]["lower_bound"], e["confidence_interval"]["upper_bound"]
    thr = bench.get("throughput") or {}
    rate = ""
    if "Elements" in thr:
        rate = fmt_rate(thr["Elements"] / (ns / 1e9), "elem")
    elif "Bytes" in thr:
        rate = "%.1f MiB/s" % (thr["Bytes"] / (ns / 1e9) / 2**20)
    rows.append((bench["full_id"], fmt_time(ns), "%s – %s" % (fmt_time(lo), fmt_time(hi)), rate))

print("| benchmark | time | 95% interval | throughput |")
print("|---|---:|---:|---:|")
for r in sorted(rows):
    print("| `%s` | %s | %s | %s |" % r)
