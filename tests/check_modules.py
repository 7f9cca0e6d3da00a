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

Exit status 0 when both hold, 1 with one line per violation otherwise, 2 on
bad arguments.  Text-level (regexes over comment-stripped source), which is
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


def main(argv):
    if len(argv) < 2 or any(not os.path.isdir(d) for d in argv[1:]):
        print(__doc__.strip().split("\n")[0], file=sys.stderr)
        return 2
    roots = [os.path.abspath(d) for d in argv[1:]]
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    files = []
    for root in roots:
        for dirpath, _, names in os.walk(root):
            files += [os.path.join(dirpath, n) for n in sorted(names) if n.endswith((".c", ".h"))]
    stem = lambda p: os.path.splitext(p)[0]
    modules = sorted({stem(f) for f in files})
    scanned = set(files)
    rel = lambda p: os.path.relpath(p, repo)

    # 1. the include graph between modules
    edges = {m: {} for m in modules}  # module -> {module: including file}
    for f in files:
        for line in open(f, encoding="utf-8", errors="replace"):
            m = re.match(r'\s*#\s*include\s+"([^"]+)"', line)
            if not m:
                continue
            for base in [os.path.dirname(f)] + roots + [repo]:
                target = os.path.normpath(os.path.join(base, m.group(1)))
                if target in scanned:
                    if stem(target) != stem(f):
                        edges[stem(f)].setdefault(stem(target), f)
                    break
    problems = []
    state = {}  # module -> 1 on the stack, 2 done

    def visit(m, path):
        state[m] = 1
        for n in sorted(edges[m]):
            if state.get(n) == 1:
                cyc = path[path.index(n):] + [n]
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
    for f in files:
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
    n_edges = sum(len(e) for e in edges.values())
    print(f"check_modules: {len(modules)} modules, {n_edges} include edges, "
          f"{len(defined)} exported functions: "
          + ("ok" if not problems else f"{len(problems)} problem(s)"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
