"""Shared fixtures of the dasf_profiler test suite (run by `./build.sh test`).

The original DASF module (../shared/peers/dasf beside the repository, with its ormsgpack
stand-in) is loaded under the name `dasf_original` for the comparisons; CI has that
folder.  Without it those tests are reported as skipped, with the reason.
"""
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(os.environ.get("DASF_SOURCE_DIR", Path(__file__).resolve().parents[2]))
PEERS = REPO.parent / "shared" / "peers" / "dasf"
PYTHON = "/usr/bin/python3"


def load_original():
    """The original dasf.profile.profiler module, or None when ../shared is absent."""
    if not (PEERS / "profiler.py").is_file():
        return None
    if "dasf_original" in sys.modules:
        return sys.modules["dasf_original"]
    if str(PEERS) not in sys.path:
        sys.path.append(str(PEERS))  # its `import ormsgpack` finds the stand-in
    spec = importlib.util.spec_from_file_location("dasf_original", PEERS / "profiler.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["dasf_original"] = mod
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture
def original():
    mod = load_original()
    if mod is None:
        pytest.skip(f"the original module is not at {PEERS} (a clone without ../shared)")
    return mod


@pytest.fixture
def run_py(tmp_path):
    """Runs a Python program in a fresh /usr/bin/python3; returns CompletedProcess."""
    def run(code, *args, env=None, check=True, timeout=120):
        script = tmp_path / f"prog_{abs(hash(code)) % 10**8}.py"
        script.write_text(code)
        e = dict(os.environ)
        e.update(env or {})
        p = subprocess.run([PYTHON, str(script), *map(str, args)], env=e, capture_output=True,
                           text=True, timeout=timeout, cwd=tmp_path)
        if check and p.returncode != 0:
            raise AssertionError(f"program failed ({p.returncode}):\n{p.stdout}\n{p.stderr}")
        return p
    return run
