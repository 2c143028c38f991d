#!/usr/bin/env python3
"""Self instructions per function and per machine instruction, from callgrind.

usage: python3 benches/scripts/instructions.py CALLGRIND_OUT BINARY UNITS [MIN]

CALLGRIND_OUT comes from `valgrind --tool=callgrind --dump-instr=yes` run on BINARY; UNITS
divides the counts (the decisions or cases of the run), MIN (default 1) hides instructions run
fewer times per unit. Prints the functions of BINARY by self instructions per unit, then each
instruction run at least MIN times per unit beside its disassembly (`objdump -d -C`). Inlined code
counts toward the function it was inlined into, which is the point: it shows what a call costs
once the compiler is done with it.
"""
import collections
import re
import subprocess
import sys


def position(token, previous):
    """A callgrind position: absolute, relative (+N/-N) or the same (*)."""
    if token == "*":
        return previous
    if token[0] in "+-":
        return previous + int(token, 0)
    return int(token, 0)


def read_counts(path, binary_name):
    counts = collections.Counter()
    function_of = {}
    names = {}
    obj = fn = None
    address = 0
    after_call = False
    for line in open(path):
        line = line.rstrip("\n")
        if not line:
            continue
        m = re.match(r"^(c?)(ob|fn|fl|fi|fe)=\((\d+)\)(?: (.*))?$", line)
        if m:
            called, kind, idx, name = m.groups()
            if name:
                names[(kind, idx)] = name
            if not called and kind == "ob":
                obj = names.get(("ob", idx), idx)
            if not called and kind == "fn":
                fn = names.get(("fn", idx), idx)
            continue
        if line.startswith("calls="):
            # The next cost line is the call's inclusive cost, not the caller's own.
            after_call = True
            continue
        if line[0] in "0123456789+-*":
            parts = line.split()
            address = position(parts[0], address)
            if after_call:
                after_call = False
                continue
            if len(parts) >= 3 and obj and obj.endswith(binary_name):
                counts[address] += int(parts[2])
                function_of[address] = fn
    return counts, function_of


def main():
    path, binary, units = sys.argv[1], sys.argv[2], int(sys.argv[3])
    least = float(sys.argv[4]) if len(sys.argv) > 4 else 1.0
    counts, function_of = read_counts(path, binary.rsplit("/", 1)[-1])
    listing = subprocess.run(
        ["objdump", "-d", "--no-show-raw-insn", "-C", binary],
        capture_output=True, text=True, check=True,
    ).stdout
    text = {}
    for line in listing.splitlines():
        m = re.match(r"^\s+([0-9a-f]+):\s+(.*)$", line)
        if m:
            text[int(m.group(1), 16)] = m.group(2)
    per_function = collections.Counter()
    for address, n in counts.items():
        per_function[function_of[address]] += n
    print("%.0f instructions per unit in %s" % (sum(counts.values()) / units, binary))
    for name, n in per_function.most_common(20):
        print("%9.1f %s" % (n / units, name))
    print()
    shown = None
    previous = None
    for address in sorted(counts):
        n = counts[address] / units
        if n < least:
            continue
        if function_of[address] != shown:
            shown = function_of[address]
            print("--- %s" % shown)
        elif previous is not None and address - previous >= 16:
            print("   ...")
        print("%7.1f %x %s" % (n, address, text.get(address, "?")))
        previous = address


if __name__ == "__main__":
    main()
