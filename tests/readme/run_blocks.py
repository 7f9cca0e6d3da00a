#!/usr/bin/python3
"""run_blocks.py — every code block of a Markdown file, compiled and run as written.

Run by tests/test_readme.c on README.md (and on small broken READMEs, to show
that each kind of mistake fails).  The convention, also stated at the top of
README.md's source:

  ```c / ```cpp / ```fortran   compiled with warnings as errors against this
                               build (header + library; Fortran: with the
                               module fortran/dasf.f90) and run, each in its
                               own directory, with no arguments; exit 0 wanted.
  ```sh / ```bash / ```shell   run in README order, in ONE bash session (so
                               variables, exports and files carry over), in a
                               copy of the source tree, with HOME set to an
                               empty scratch directory and PATH to Debian's
                               default (no local shims in front of /usr/bin).  Every command must
                               succeed: the session stops at the first command
                               that returns non-zero (also inside && lists).
                               The build under test is NOT put on PATH: what
                               the blocks need they must build or install.
  ```python / ```py            run in the same session, in order, as
                               `python3 FILE` (so a venv an sh block activated
                               is the one that runs it).
  ``` (no language), ```text   not code: not run.
  any other language           must carry a marker (below), else it fails.

An HTML comment on the last non-blank line before a block's opening fence
changes what happens to it; several directives are separated by ';':

  <!-- test: skip REASON -->     not run; REASON is required (why, and what
                                  covers it instead); it runs to the end of
                                  the comment, so skip comes last
  <!-- test: file NAME -->       also saved as NAME in the sh session's
                                  directory before the first sh block runs
  <!-- test: compile-only -->    c/cpp/fortran: compiled, not run

Output: one line per block ("ok", "skip" or "FAIL", with README.md:LINE),
the failing block's output, and a summary line
  "readme: N blocks: c=.. cpp=.. fortran=.. sh=.. python=.. skipped=.. not-code=.."
Exit status 0 when every block passed, 1 otherwise, 2 on bad usage.
"""
import argparse
import os
import re
import shlex
import subprocess
import sys

COMPILED = {"c": "c", "cpp": "cpp", "c++": "cpp", "cxx": "cpp",
            "fortran": "fortran", "f90": "fortran"}
SHELL = {"sh", "bash", "shell"}
PYTHON = {"python", "py", "python3"}
NOT_CODE = {"", "text", "txt", "plain", "console-output", "output"}
DEBIAN_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
MARKER = re.compile(r"^\s*<!--\s*test:\s*(.*?)\s*-->\s*$")
FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})\s*([^\s`]*)\s*.*$")


class Block:
    def __init__(self, line, lang, text, directives):
        self.line = line          # 1-based line of the opening fence
        self.lang = lang
        self.text = text
        self.skip = None          # reason
        self.file = None
        self.compile_only = False
        self.errors = []
        for d in directives:
            word, _, rest = d.strip().partition(" ")
            rest = rest.strip()
            if word == "skip":
                if not rest:
                    self.errors.append("'skip' needs a reason")
                self.skip = rest or "?"
            elif word == "file":
                if not rest or "/" in rest or rest.startswith("."):
                    self.errors.append("'file' needs a plain file name")
                self.file = rest
            elif word == "compile-only":
                self.compile_only = True
            else:
                self.errors.append("unknown test directive '%s'" % word)

    @property
    def kind(self):
        if self.lang in COMPILED:
            return COMPILED[self.lang]
        if self.lang in SHELL:
            return "sh"
        if self.lang in PYTHON:
            return "python"
        if self.lang in NOT_CODE:
            return "not-code"
        return None


def split_directives(text):
    """'file a.c; compile-only' -> ['file a.c', 'compile-only']; 'skip' takes the
    rest of the comment as its reason, ';' included."""
    out = []
    while text.strip():
        head = text.lstrip()
        if head.split(" ", 1)[0].rstrip(";") == "skip":
            out.append(head.strip())
            break
        part, _, text = head.partition(";")
        if part.strip():
            out.append(part.strip())
    return out


def parse(path):
    """The fenced blocks of a Markdown file, with the marker before each."""
    lines = open(path, encoding="utf-8").read().split("\n")
    blocks, errors = [], []
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, fence, lang = m.group(1), m.group(2), m.group(3).lower()
        start = i
        # The marker: the last non-blank line before the fence.
        j = i - 1
        while j >= 0 and not lines[j].strip():
            j -= 1
        directives = []
        if j >= 0:
            mm = MARKER.match(lines[j])
            if mm:
                directives = split_directives(mm.group(1))
        body = []
        i += 1
        closed = False
        while i < len(lines):
            s = lines[i]
            if s.strip().startswith(fence[0] * len(fence)) and s.strip().strip(fence[0]) == "":
                closed = True
                break
            body.append(s[len(indent):] if s.startswith(indent) else s)
            i += 1
        if not closed:
            errors.append("%s:%d: code block never closed" % (os.path.basename(path), start + 1))
            break
        blocks.append(Block(start + 1, lang, "\n".join(body) + "\n", directives))
        i += 1
    return blocks, errors


def run(cmd, cwd, env, timeout):
    """(status, combined output) of a command list."""
    try:
        p = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=timeout)
        return p.returncode, p.stdout.decode("utf-8", "replace")
    except subprocess.TimeoutExpired as e:
        out = (e.output or b"").decode("utf-8", "replace")
        return 124, out + "\n(timed out after %d s)" % timeout


class Runner:
    def __init__(self, a):
        self.a = a
        self.readme = os.path.abspath(a.readme)
        self.name = os.path.basename(self.readme)
        self.work = os.path.abspath(a.work)
        self.failed = 0
        self.counts = {}
        self.env = dict(os.environ)
        self.home = os.path.join(self.work, "home")
        os.makedirs(self.home, exist_ok=True)
        self.env["HOME"] = self.home
        # A user's shell on a bare Debian 12: its default PATH (no pyenv/cargo
        # shims of this machine in front of /usr/bin), no inherited Python setup.
        self.env["PATH"] = DEBIAN_PATH
        for k in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONUSERBASE"):
            self.env.pop(k, None)
        libdir = os.path.dirname(os.path.abspath(a.lib))
        self.libdir = libdir

    def where(self, b):
        return "%s:%d (%s)" % (self.name, b.line, b.lang or "no language")

    def report(self, status, b, what, out=""):
        print("%-4s %s %s" % (status, self.where(b), what))
        if status == "FAIL":
            self.failed += 1
            if out:
                print("---- output ----")
                print(out.rstrip())
                print("---- block ----")
                print(b.text.rstrip())
                print("----")
        sys.stdout.flush()

    def count(self, kind):
        self.counts[kind] = self.counts.get(kind, 0) + 1

    # ---- compiled blocks: against the build under test --------------------
    def compiled(self, b, idx):
        """(stage, status, output): stage is "compile" or "run"."""
        d = os.path.join(self.work, "block-%d" % idx)
        os.makedirs(d, exist_ok=True)
        a = self.a
        inc = ["-I" + os.path.join(a.source, "include")]
        rpath = "-Wl,-rpath," + self.libdir
        flags = shlex.split(a.cflags)
        prog = os.path.join(d, "prog")
        ext = {"c": "c", "cpp": "cpp", "fortran": "f90"}[b.kind]
        src = os.path.join(d, "block." + ext)
        with open(src, "w") as f:
            f.write(b.text)
        if b.kind == "c":
            steps = [[a.cc] + flags + ["-std=gnu11", "-Wall", "-Wextra", "-Werror"] + inc +
                     [src, a.lib, rpath, "-lm", "-o", prog]]
        elif b.kind == "cpp":
            steps = [[a.cxx] + flags + ["-std=c++17", "-Wall", "-Wextra", "-Werror"] + inc +
                     [src, a.lib, rpath, "-o", prog]]
        else:
            if not a.fc:
                return "compile", 1, "no Fortran compiler was configured for this build"
            mod = os.path.join(a.source, "fortran", "dasf.f90")
            # The Fortran code is not sanitizer-instrumented, only linked so
            # (libgfortran trips ASan's strict string checks otherwise).
            steps = [[a.fc, "-c", mod, "-o", os.path.join(d, "dasf.o")],
                     [a.fc, "-Wall", "-Werror", "-c", src, "-o", os.path.join(d, "block.o")],
                     [a.fc] + [f for f in flags if f.startswith("-fsanitize")] +
                     [os.path.join(d, "block.o"), os.path.join(d, "dasf.o"), a.lib, rpath,
                      "-o", prog]]
        out_all = ""
        for cmd in steps:
            st, out = run(cmd, d, self.env, 300)
            out_all += out
            if st:
                return "compile", st, " ".join(shlex.quote(c) for c in cmd) + "\n" + out_all
        if b.compile_only:
            return "compile", 0, out_all
        st, out = run([prog], d, self.env, a.timeout)
        return "run", st, out

    # ---- the sh session -----------------------------------------------------
    def session(self, sh_blocks, files):
        """Runs the sh and python blocks, in README order, in one bash session."""
        cwd = self.a.session_dir
        for name, b in files:
            with open(os.path.join(cwd, name), "w") as f:
                f.write(b.text)
        status_dir = os.path.join(self.work, "sh-status")
        os.makedirs(status_dir, exist_ok=True)
        parts = [
            "set -eo pipefail",
            # Any command that returns non-zero stops the session, also the
            # non-final commands of && / || lists that set -e lets pass.
            "__readme_check() { local s=$?; if [ $s -ne 0 ]; then "
            "echo \"README: a command returned $s (the next was: $BASH_COMMAND)\" >&2; "
            "exit $s; fi; }",
        ]
        for b in sh_blocks:
            mark = os.path.join(status_dir, "started-%d" % b.line)
            parts.append("trap - DEBUG")
            parts.append(": > %s" % shlex.quote(mark))
            parts.append("echo %s" % shlex.quote("#### %s" % self.where(b)))
            if b.kind == "python":
                src = os.path.join(self.work, "block-%d.py" % b.line)
                with open(src, "w") as f:
                    f.write(b.text)
                parts.append("trap __readme_check DEBUG")
                parts.append("python3 %s" % shlex.quote(src))
            else:
                parts.append("trap __readme_check DEBUG")
                parts.append(b.text.rstrip("\n"))
            parts.append(":")  # the block's last command is checked too
        parts.append("trap - DEBUG")
        parts.append(": > %s" % shlex.quote(os.path.join(status_dir, "done")))
        script = os.path.join(self.work, "session.sh")
        with open(script, "w") as f:
            f.write("\n".join(parts) + "\n")
        st, out = run(["bash", script], cwd, self.env, self.a.timeout * max(1, len(sh_blocks)))
        done = os.path.exists(os.path.join(status_dir, "done"))
        started = [b for b in sh_blocks
                   if os.path.exists(os.path.join(status_dir, "started-%d" % b.line))]
        last = started[-1] if started else None
        for b in sh_blocks:
            if st == 0 and done:
                self.report("ok", b, "ran in the sh session")
            elif b is last:
                self.report("FAIL", b, "the sh session stopped here (status %d)" % st, out)
            elif b in started:
                self.report("ok", b, "ran in the sh session")
            else:
                self.report("FAIL", b, "not reached (an earlier sh block failed)")

    def main(self):
        blocks, errors = parse(self.readme)
        for e in errors:
            print("FAIL " + e)
            self.failed += 1
        sh_blocks, files, n_code = [], [], 0
        for idx, b in enumerate(blocks):
            if b.errors:
                self.report("FAIL", b, "; ".join(b.errors) +
                            " (see the convention at the top of README.md)")
                continue
            kind = b.kind
            if b.file:
                files.append((b.file, b))
            if b.skip is not None:
                self.count("skipped")
                self.report("skip", b, b.skip)
                continue
            if kind is None:
                self.report("FAIL", b, "language '%s' has no runner: mark it "
                            "<!-- test: skip REASON --> (convention at the top of README.md)"
                            % b.lang)
                continue
            if kind == "not-code":
                self.count("not-code")
                continue
            n_code += 1
            self.count(kind)
            if kind in ("sh", "python"):
                sh_blocks.append(b)
            else:
                stage, st, out = self.compiled(b, idx)
                if st:
                    self.report("FAIL", b, "%s failed (status %d)" % (stage, st), out)
                else:
                    self.report("ok", b, "compiled" if b.compile_only else "compiled and ran")
        if sh_blocks and self.a.no_session:
            for b in sh_blocks:
                self.report("skip", b, "--no-session: the sh session runs in the plain "
                            "build's suite")
        elif sh_blocks:
            self.session(sh_blocks, files)
        elif files:
            cwd = self.a.session_dir
            for name, b in files:
                with open(os.path.join(cwd, name), "w") as f:
                    f.write(b.text)
        order = ["c", "cpp", "fortran", "sh", "python", "skipped", "not-code"]
        print("readme: %d blocks: %s" % (len(blocks), " ".join(
            "%s=%d" % (k, self.counts.get(k, 0)) for k in order)))
        if self.failed:
            print("readme: %d block(s) failed" % self.failed)
        return 1 if self.failed else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("readme")
    ap.add_argument("--source", required=True, help="source tree (include/, fortran/)")
    ap.add_argument("--lib", required=True, help="the built shared library")
    ap.add_argument("--work", required=True, help="scratch directory")
    ap.add_argument("--session-dir", required=True, help="where the sh session runs")
    ap.add_argument("--cc", default="cc")
    ap.add_argument("--cxx", default="c++")
    ap.add_argument("--fc", default="")
    ap.add_argument("--cflags", default="", help="the build's C flags (sanitizers)")
    ap.add_argument("--timeout", type=int, default=600, help="seconds per block")
    ap.add_argument("--no-session", action="store_true",
                    help="compile and run c/cpp/fortran blocks only; list the sh and "
                         "python blocks as not run (sanitizer builds: the session builds "
                         "and installs its own release copy, the same in every preset)")
    a = ap.parse_args()
    return Runner(a).main()


if __name__ == "__main__":
    sys.exit(main())
