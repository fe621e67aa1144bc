#!/usr/bin/env python3
"""Symbol look-ups while mlctl loads its torch backend. Not in CI.

Loads each given backend the way mlctl does (`MLCTL_BACKEND=SO mlctl version
--backend`) and reports how many libraries the dynamic linker looked in
(LD_DEBUG=symbols: one line each) and the median load time. Given two
backends, it also checks that every symbol binds to the same library in both
(LD_DEBUG=bindings), which is what cmake/MlctlTorchLookupOrder.cmake must
keep true; `--top N` lists, for the first backend, the libraries whose
bindings cost the most look-ups (bindings x position in the search order),
the candidates for that file's list.

usage: torch_lookup_order.py [--repeats N] [--top N] BACKEND.so [OTHER.so]
(build one backend with -DMLCTL_TORCH_LOOKUP_ORDER=OFF to compare)
"""
import argparse
import collections
import glob
import os
import re
import statistics
import subprocess
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
MLCTL = os.environ.get("MLCTL", os.path.join(os.path.dirname(os.path.dirname(HERE)), "build", "bin", "mlctl"))
BINDING = re.compile(r"binding file (\S+) \[\d+\] to (\S+) \[\d+\]: \w+ symbol `([^']+)'")
LOOKUP = re.compile(r"symbol=([^;]+);\s+lookup in file=(\S+)")


def debug_lines(backend, what):
    """The LD_DEBUG=`what` output of one load of `backend`, line by line."""
    with tempfile.TemporaryDirectory() as scratch:
        prefix = os.path.join(scratch, "ld")
        env = dict(os.environ, MLCTL_BACKEND=backend, LD_DEBUG=what, LD_DEBUG_OUTPUT=prefix)
        subprocess.run([MLCTL, "version", "--backend"], env=env, stdout=subprocess.DEVNULL, check=True)
        for path in glob.glob(prefix + ".*"):
            with open(path, errors="replace") as lines:
                yield from lines


def bindings(backend):
    """(requesting library, symbol) -> defining library; the backend itself as BACKEND."""
    found = {}
    for line in debug_lines(backend, "bindings"):
        match = BINDING.search(line)
        if match:
            rename = lambda path: "BACKEND" if os.path.realpath(path) == os.path.realpath(backend) else path
            found[(rename(match.group(1)), match.group(3))] = rename(match.group(2))
    return found


def lookups(backend):
    """How many libraries were looked in, and the search order (from the longest walk)."""
    count, walks = 0, collections.defaultdict(list)
    for line in debug_lines(backend, "symbols"):
        match = LOOKUP.search(line)
        if match:
            count += 1
            if match.group(1) == "__gmon_start__":  # weak and never defined: walks the whole list
                walks[match.group(1)].append(match.group(2))
    order = list(dict.fromkeys(walks["__gmon_start__"]))
    return count, order


def load_seconds(backend, repeats):
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        subprocess.run([MLCTL, "version", "--backend"], env=dict(os.environ, MLCTL_BACKEND=backend),
                       stdout=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("backends", nargs="+")
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--top", type=int, default=0)
    args = parser.parse_args()
    results = {}
    for backend in args.backends:
        count, order = lookups(backend)
        results[backend] = (count, order)
        print(f"{backend}: {count:,} libraries looked in")
    # Timed alternately, so that a slower moment of the machine hits both.
    timings = collections.defaultdict(list)
    for _ in range(args.repeats):
        for backend in args.backends:
            timings[backend].append(load_seconds(backend, 1))
    for backend in args.backends:
        print(f"{backend}: `mlctl version --backend` median {statistics.median(timings[backend]) * 1000:.0f} ms "
              f"({args.repeats} runs)")
    if len(args.backends) == 2:
        first, second = (bindings(backend) for backend in args.backends)
        changed = [(key, first[key], second[key]) for key in first if key in second and first[key] != second[key]]
        print(f"bindings: {len(first):,} and {len(second):,}; {len(changed)} bound to another library")
        for (requester, symbol), before, after in changed[:20]:
            print(f"  {os.path.basename(requester)} {symbol}: {os.path.basename(before)} -> {os.path.basename(after)}")
    if args.top:
        backend = args.backends[0]
        position = {path: i + 1 for i, path in enumerate(results[backend][1])}
        per_library = collections.Counter(bindings(backend).values())
        costs = sorted(((n * position.get(lib, 0), n, lib) for lib, n in per_library.items()), reverse=True)
        for cost, n, lib in costs[:args.top]:
            print(f"{cost:>10,} look-ups  {n:>6,} bindings  position {position.get(lib, 0):>3}  {os.path.basename(lib)}")


if __name__ == "__main__":
    main()
