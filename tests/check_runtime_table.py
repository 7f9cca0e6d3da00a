#!/usr/bin/python3
"""docs/RUNTIME.md's file table lists runtime/ as it is (issue 8).

Every .c/.h file under runtime/ must be named in a row of the table, and
every runtime file a row names must exist.  A row's first cell names files
as `folder/name.c`, optionally followed by `name.h` of the same folder
(`flush/drain.c`, `drain.h`).  Exit status 1 with one line per mismatch, so
adding, renaming or removing a runtime file without its row fails ctest.

usage: check_runtime_table.py REPO_ROOT
"""
import os
import re
import sys


def table_files(doc):
    """Runtime paths (relative to runtime/) named in the table's first cells."""
    named = set()
    for line in doc.splitlines():
        if not line.startswith("| `"):
            continue
        first = line.split("|")[1]
        folder = None
        for name in re.findall(r"`([^`]+)`", first):
            if "/" in name:
                folder = name.rsplit("/", 1)[0]
                named.add(name)
            elif folder is not None:
                named.add(folder + "/" + name)
            else:
                named.add(name)
    return named


def listing(runtime):
    files = set()
    for d, _, names in os.walk(runtime):
        for n in names:
            if n.endswith((".c", ".h")):
                files.add(os.path.relpath(os.path.join(d, n), runtime))
    return files


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    root = argv[1]
    runtime = os.path.join(root, "runtime")
    doc_path = os.path.join(root, "docs", "RUNTIME.md")
    with open(doc_path, encoding="utf-8") as f:
        named = table_files(f.read())
    files = listing(runtime)
    if not files:
        print(f"check_runtime_table: no sources under {runtime}", file=sys.stderr)
        return 2
    problems = []
    for f in sorted(files - named):
        problems.append(f"runtime/{f}: no row in docs/RUNTIME.md's file table")
    for f in sorted(named - files):
        # Rows may name files outside runtime/ (preload/preload.c): those
        # must exist relative to the repository root instead.
        if f.endswith((".c", ".h")) and not os.path.exists(os.path.join(root, f)):
            problems.append(f"{f}: named in docs/RUNTIME.md's file table but not in runtime/")
    for p in problems:
        print(p)
    print(f"check_runtime_table: {len(files)} runtime files, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
