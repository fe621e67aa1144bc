#!/usr/bin/env python3
"""Which of libtorch_cpu.so's NEEDED libraries nothing that stays loaded uses.

usage: torch_unused_libraries.py LIBTORCH_CPU CANDIDATE_SONAME...

Prints two lines: the candidates that can be replaced by empty libraries
(libtorch_cpu.so and every library still loaded without them import no
symbol that only they, or the libraries only they bring in, define), and
the sonames of the libraries that are still loaded then. Candidates that
libtorch_cpu.so does not name are dropped, so another libtorch gets the
ones it shares with the list, or none. Run by cmake/MlctlTorchStubs.cmake.
"""
import functools
import subprocess
import sys


def run(*command):
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


# Every closure below walks the same ~285 libraries: read each one's
# NEEDED entries once.
@functools.lru_cache(maxsize=None)
def needed(path):
    return tuple(line.split("[")[1].split("]")[0] for line in run("readelf", "-d", path).splitlines()
                 if "(NEEDED)" in line)


def symbols(path, undefined):
    names = set()
    for line in run("nm", "-D", "--undefined-only" if undefined else "--defined-only", path).splitlines():
        fields = line.split()
        if not fields or (undefined and fields[0] != "U"):  # weak references may stay unresolved
            continue
        names.add(fields[-1].split("@")[0])
    return names


def main():
    root, candidates = sys.argv[1], sys.argv[2:]
    paths = {}
    for line in run("ldd", root).splitlines():
        fields = line.split()
        if len(fields) >= 3 and fields[1] == "=>":
            paths[fields[0]] = fields[2]

    def closure(skipped):
        loaded, names, queue = [], set(), [root]
        while queue:
            path = queue.pop(0)
            loaded.append(path)
            for name in needed(path):
                if name not in skipped and name not in names and name in paths:
                    names.add(name)
                    queue.append(paths[name])
        return loaded, names

    everything, _ = closure(set())
    defined = {path: symbols(path, undefined=False) for path in everything}
    imported = {path: symbols(path, undefined=True) for path in everything}
    stubs = [name for name in candidates if name in needed(root)]
    while stubs:
        kept, kept_names = closure(set(stubs))
        kept_symbols = set().union(*(defined[path] for path in kept))
        gone = [path for path in everything if path not in kept]
        only_gone = set().union(*(defined[path] for path in gone)) - kept_symbols
        # The symbols kept libraries import that only the stubbed trees
        # define; a stub whose own tree defines one must be the real one.
        missing = set().union(*(imported[path] & only_gone for path in kept))
        if not missing:
            break
        wanted = set()
        for name in stubs:
            tree, _ = closure(set(stubs) - {name})
            if missing & set().union(*(defined[path] for path in tree if path not in kept)):
                wanted.add(name)
        if not wanted:
            break
        stubs = [name for name in stubs if name not in wanted]
    kept, kept_names = closure(set(stubs))
    print(";".join(stubs))
    print(";".join(sorted(kept_names)))


if __name__ == "__main__":
    main()
