"""The one-line switch for an unmodified DASF installation: with DASF_PROFILER_DROPIN=1 in
the environment (read at start-up by the .pth file pip installs) or after
dasf_profiler.install(), `from dasf.profile.profiler import EventProfiler` -- as DASF's
plugins write it -- gives this package, in child processes too.  A fake DASF package
whose own profiler module refuses to import stands in for the real one."""
import os

import pytest

import dasf_profiler

FAKE = {
    "dasf/__init__.py": "",
    "dasf/profile/__init__.py": "",
    "dasf/profile/profiler.py":
        "raise ImportError('the original dasf.profile.profiler was imported')\n",
    "dasf/profile/plugins.py": (
        "from dasf.profile.profiler import EventProfiler\n"
        "def trace(path, who):\n"
        "    p = EventProfiler(database_file=path)\n"
        "    p.record_complete_event('Compute', 1.0, 2.0, process_id=who, thread_id=None)\n"
        "    p.commit()\n"
        "    return type(p).__module__\n"),
}

SPAWN_PROG = r'''
import multiprocessing as mp, sys
{setup}
def child(path):
    from dasf.profile.plugins import trace
    trace(path, "child")

if __name__ == "__main__":
    from dasf.profile.plugins import trace
    print(trace(sys.argv[1], "parent"))
    import dasf.profile.profiler as m
    print(m.__name__, m.EventProfiler.__module__)
    x = mp.get_context("spawn").Process(target=child, args=(sys.argv[1],))
    x.start(); x.join()
    assert x.exitcode == 0, x.exitcode
'''


@pytest.fixture
def fake_dasf(tmp_path):
    root = tmp_path / "fake"
    for rel, text in FAKE.items():
        f = root / rel
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(text)
    path = os.environ.get("PYTHONPATH")
    return {"PYTHONPATH": str(root) + (os.pathsep + path if path else "")}


def pth_installed():
    """The .pth start-up hook is active only when the package sits in a site directory."""
    import site
    d = os.path.dirname(os.path.dirname(dasf_profiler.__file__))
    dirs = site.getsitepackages() + [site.getusersitepackages()]
    return os.path.isfile(os.path.join(d, "dasf_profiler_dropin.pth")) and d in dirs


def names(path):
    return sorted(ev.process_id for ev in dasf_profiler.read_events(path))


def test_fake_dasf_refuses_its_own_profiler(tmp_path, run_py, fake_dasf):
    r = run_py("from dasf.profile.plugins import trace\n", env=fake_dasf, check=False)
    assert r.returncode != 0 and "original dasf.profile.profiler was imported" in r.stderr


def test_environment_switch_through_the_pth_hook(tmp_path, run_py, fake_dasf):
    assert pth_installed(), ("dasf_profiler must be pip-installed in a site directory for "
                             "its .pth hook (./build.sh test does that)")
    path = tmp_path / "env.msgpack"
    r = run_py(SPAWN_PROG.format(setup=""), path,
               env=dict(fake_dasf, DASF_PROFILER_DROPIN="1"))
    assert r.stdout.split() == ["dasf_profiler.profiler", "dasf_profiler.profiler",
                                "dasf_profiler.profiler"]
    assert names(path) == ["child", "parent"]


def test_one_line_install_covers_child_processes(tmp_path, run_py, fake_dasf):
    assert pth_installed()
    path = tmp_path / "install.zst"
    env = dict(fake_dasf)
    env.pop("DASF_PROFILER_DROPIN", None)
    r = run_py(SPAWN_PROG.format(setup="import dasf_profiler; dasf_profiler.install()"), path,
               env=env)
    assert r.stdout.split()[0] == "dasf_profiler.profiler"
    assert names(path) == ["child", "parent"]


def test_install_after_the_original_was_imported_warns_and_replaces(tmp_path, run_py):
    root = tmp_path / "fake2"
    (root / "dasf" / "profile").mkdir(parents=True)
    (root / "dasf" / "__init__.py").write_text("")
    (root / "dasf" / "profile" / "__init__.py").write_text("")
    (root / "dasf" / "profile" / "profiler.py").write_text("ORIGINAL = True\n")
    prog = (
        "import warnings, dasf.profile.profiler as before, dasf_profiler\n"
        "with warnings.catch_warnings(record=True) as w:\n"
        "    warnings.simplefilter('always')\n"
        "    dasf_profiler.install(children=False)\n"
        "import dasf.profile.profiler as after\n"
        "import dasf.profile\n"
        "print(len(w), hasattr(before, 'ORIGINAL'), after.__name__,\n"
        "      dasf.profile.profiler.__name__, dasf_profiler.installed())\n"
        "dasf_profiler.uninstall()\n"
        "print(dasf_profiler.installed())\n")
    r = run_py(prog, env={"PYTHONPATH": str(root) + os.pathsep + os.environ.get("PYTHONPATH", "")})
    assert r.stdout.split() == ["1", "True", "dasf_profiler.profiler", "dasf_profiler.profiler",
                                "True", "False"]
