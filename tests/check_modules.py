#!/usr/bin/env python3
"""check_modules.py DIR... — the module structure of C source folders (issue 8).

A module is a stem: NAME.c and/or NAME.h in one folder.  Module X depends on
module Y when X.c or X.h has `#include "Y.h"` (resolved next to the including
file, then under each DIR, then under the repository root).  Checked:

  1. the dependencies form a DAG: no module reaches itself (a cycle is
     printed as the chain of includes that makes it);
  2. one header per module: every function a .c file defines without
     `static` is declared in its own module's header and in no other
     scanned header — a header declaring another module's functions hides
     that module's dependencies (what a shared "common.h" did).  A header
     may be the declared interface of other modules by saying so in a
     comment: `check_modules: implemented by GLOB` (e.g. cmd_*.c).
     `main` is exempt.

Options (before the folders):
  --stage-dirs      every folder under each DIR is an include directory too
                    (how CMakeLists.txt builds runtime/: headers are included
                    by plain name from any stage folder, the list taken from
                    the folder listing, so a new file or folder is checked
                    without an edit here); a plain name found in two folders
                    is a problem (which one the compiler takes depends on the
                    include order).
  --dag-only        check 1 only (runtime/: internal.h, rt.h and the public
                    header are shared interfaces by design).
  --known-cycle M1,M2,...  a cycle that is known and owned elsewhere: the
                    modules (paths from the repository root, no extension)
                    that form one strongly connected component.  It is
                    reported as known, not as a problem, while the component
                    is exactly that set; a new module joining it, a new
                    cycle anywhere, or the cycle being gone (remove the
                    option then) is a problem, so the list only shrinks.

Exit status 0 when the checks hold, 1 with one line per violation otherwise,
2 on bad arguments.  Text-level (regexes over comment-stripped source), which is
enough for code formatted by the project's .clang-format: function
definitions start at column 0 with their type on the same line.
"""
import fnmatch
import os
import re
import sys


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)
    text = re.sub(r"//[^\n]*", "", text)
    text = re.sub(r"__attribute__\s*\(\((?:[^()]|\([^()]*\))*\)\)", "", text)
    return re.sub(r'"(?:\\.|[^"\\\n])*"', '""', text)


def strip_preprocessor(text):
    out, cont = [], False
    for line in text.split("\n"):
        if cont or line.lstrip().startswith("#"):
            cont = line.endswith("\\")
            out.append("")
        else:
            out.append(line)
    return "\n".join(out)


def replace_bodies(text):
    """Every top-level {...} replaced by ';' (so statements end there)."""
    out, depth = [], 0
    for ch in text:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                out.append(";")
        elif depth == 0:
            out.append(ch)
    return "".join(out)


def declared_functions(header_text):
    text = replace_bodies(strip_preprocessor(strip_comments(header_text)))
    names = set()
    for stmt in text.split(";"):
        stmt = stmt.strip()
        if not stmt or "(" not in stmt or stmt.startswith("typedef"):
            continue
        m = re.search(r"([A-Za-z_]\w*)\s*\(", stmt)
        if m and not re.match(r"(static|__attribute__)\b", stmt):
            names.add(m.group(1))
    return names


DEF_RE = re.compile(
    r"^(?!static\b|typedef\b|extern\b)[A-Za-z_][\w \t\*]*?\b([A-Za-z_]\w*)[ \t]*\([^;{}]*\)[^;{}]*\{",
    re.M)


def defined_functions(c_text):
    text = strip_preprocessor(strip_comments(c_text))
    return {m.group(1) for m in DEF_RE.finditer(text)} - {"if", "for", "while", "switch"}


def strongly_connected(modules, edges):
    """Tarjan's components of the include graph with more than one module."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = set()
            while True:
                w = stack.pop()
                on.discard(w)
                comp.add(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(frozenset(comp))

    for m in modules:
        if m not in index:
            visit(m)
    return out


def main(argv):
    args, stage_dirs, dag_only, known = argv[1:], False, False, []
    while args and args[0].startswith("--"):
        opt = args.pop(0)
        if opt == "--stage-dirs":
            stage_dirs = True
        elif opt == "--dag-only":
            dag_only = True
        elif opt == "--known-cycle" and args:
            known.append(args.pop(0))
        else:
            args = []
            break
    if not args or any(not os.path.isdir(d) for d in args):
        print(__doc__.strip().split("\n")[0], file=sys.stderr)
        return 2
    roots = [os.path.abspath(d) for d in args]
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    files, dirs = [], []
    for root in roots:
        for dirpath, subdirs, names in os.walk(root):
            subdirs.sort()
            dirs.append(dirpath)
            files += [os.path.join(dirpath, n) for n in sorted(names) if n.endswith((".c", ".h"))]
    stem = lambda p: os.path.splitext(p)[0]
    modules = sorted({stem(f) for f in files})
    scanned = set(files)
    rel = lambda p: os.path.relpath(p, repo)
    problems = []
    if stage_dirs:  # a plain name must say which header it is
        by_name = {}
        for f in files:
            if f.endswith(".h"):
                by_name.setdefault(os.path.basename(f), []).append(rel(f))
        for name, hs in sorted(by_name.items()):
            if len(hs) > 1:
                problems.append(f"{name} is in {len(hs)} include folders: {', '.join(hs)}")

    # 1. the include graph between modules
    edges = {m: {} for m in modules}  # module -> {module: including file}
    search = (dirs if stage_dirs else roots) + [repo]
    for f in files:
        for line in open(f, encoding="utf-8", errors="replace"):
            m = re.match(r'\s*#\s*include\s+"([^"]+)"', line)
            if not m:
                continue
            for base in [os.path.dirname(f)] + search:
                target = os.path.normpath(os.path.join(base, m.group(1)))
                if target in scanned:
                    if stem(target) != stem(f):
                        edges[stem(f)].setdefault(stem(target), f)
                    break
    known_sets = {frozenset(os.path.join(repo, m) for m in k.split(",")): k for k in known}
    comps = strongly_connected(modules, edges)
    allowed_cycles = [c for c in comps if c in known_sets]
    for c in comps:
        if c not in known_sets:
            problems.append("modules in one include cycle (--known-cycle form): "
                            + ",".join(sorted(rel(m) for m in c)))
    for k, text in known_sets.items():
        if k not in comps:
            problems.append(f"known cycle {text} is no longer exactly one include cycle "
                            "(broken, or other modules joined it): update or remove its "
                            "--known-cycle")
    state = {}  # module -> 1 on the stack, 2 done

    def visit(m, path):
        state[m] = 1
        for n in sorted(edges[m]):
            if state.get(n) == 1:
                cyc = path[path.index(n):] + [n]
                if any(set(cyc) <= c for c in allowed_cycles):
                    continue
                problems.append("include cycle: " + " -> ".join(
                    f"{rel(a)} ({os.path.basename(edges[a][b])} includes {os.path.basename(b)}.h)"
                    for a, b in zip(cyc, cyc[1:])))
            elif n not in state:
                visit(n, path + [n])
        state[m] = 2

    for m in modules:
        if m not in state:
            visit(m, [m])

    # 2. one header per module
    defined = {}  # function -> module
    for f in ([] if dag_only else files):
        if f.endswith(".c"):
            for name in defined_functions(open(f, encoding="utf-8", errors="replace").read()):
                if name != "main":
                    defined.setdefault(name, stem(f))
    declared = {}  # function -> headers declaring it
    allowed = {}  # header -> globs of the .c files it may declare for
    for f in files:
        if f.endswith(".h"):
            text = open(f, encoding="utf-8", errors="replace").read()
            allowed[f] = re.findall(r"check_modules: implemented by (\S+)", text)
            for name in declared_functions(text):
                declared.setdefault(name, []).append(f)
    for name, mod in sorted(defined.items()):
        own = mod + ".h"
        hs = declared.get(name, [])
        ok = lambda h: h == own or any(
            fnmatch.fnmatch(os.path.basename(mod) + ".c", g) for g in allowed[h])
        wrong = [rel(h) for h in hs if not ok(h)]
        if wrong:
            problems.append(f"{name}() of {rel(mod)}.c is declared in {', '.join(wrong)}"
                            + ("" if any(ok(h) for h in hs) else f" instead of {rel(own)}"))
        elif not hs:
            problems.append(f"{name}() of {rel(mod)}.c is declared in no header "
                            f"(make it static, or declare it in {rel(own)})")
    for p in problems:
        print(p)
    for c in allowed_cycles:
        print(f"known cycle (--known-cycle, not a problem here): {known_sets[c]}")
    n_edges = sum(len(e) for e in edges.values())
    print(f"check_modules: {len(modules)} modules, {n_edges} include edges, "
          + ("" if dag_only else f"{len(defined)} exported functions, ")
          + f"{len(allowed_cycles)} known cycle(s): "
          + ("ok" if not problems else f"{len(problems)} problem(s)"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
