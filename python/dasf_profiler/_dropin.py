"""Making ``import dasf.profile.profiler`` give dasf_profiler.profiler.

An unmodified DASF installation imports ``from dasf.profile.profiler import
EventProfiler`` in its plugins.  install() puts a finder first on sys.meta_path that
answers that one module name with this package's module (the rest of DASF imports as
usual), and sets DASF_PROFILER_DROPIN=1 so that child processes -- multiprocessing
spawn, Dask's worker processes -- do the same at start-up through the
``dasf_profiler_dropin.pth`` file pip installs next to the package.
"""
import importlib.abc
import importlib.machinery
import os
import sys
import warnings

TARGET = "dasf.profile.profiler"
ENV = "DASF_PROFILER_DROPIN"


class _DropinFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds TARGET and loads it as dasf_profiler.profiler; declines everything else."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != TARGET:
            return None
        return importlib.machinery.ModuleSpec(fullname, self, origin="dasf_profiler.profiler")

    def create_module(self, spec):
        from . import profiler
        self._own_spec = profiler.__spec__
        return profiler

    def exec_module(self, module):
        # The import system stamped TARGET's spec on our module; keep its own.
        module.__spec__ = self._own_spec


_FINDER = _DropinFinder()


def installed():
    """True when ``dasf.profile.profiler`` resolves to this package in this process."""
    return any(f is _FINDER for f in sys.meta_path)


def install(children=True):
    """Make ``dasf.profile.profiler`` this package's module, from now on.

    Call it before DASF is imported (first line of the program, or a sitecustomize).
    With children=True (default) it also sets DASF_PROFILER_DROPIN=1 in os.environ so
    processes started from here (multiprocessing spawn, Dask workers) switch at their
    start-up too -- that needs the package installed with pip (the .pth hook).
    """
    if not installed():
        sys.meta_path.insert(0, _FINDER)
    if children:
        os.environ[ENV] = "1"
    from . import profiler
    current = sys.modules.get(TARGET)
    if current is not None and current is not profiler:
        warnings.warn("dasf.profile.profiler was imported before dasf_profiler.install(): "
                      "names imported from it earlier still use the original module",
                      RuntimeWarning, stacklevel=2)
        sys.modules[TARGET] = profiler
        parent = sys.modules.get(TARGET.rpartition(".")[0])
        if parent is not None:
            setattr(parent, "profiler", profiler)


def uninstall():
    """Undo install() (for tests): the finder, the environment variable, the alias."""
    while _FINDER in sys.meta_path:
        sys.meta_path.remove(_FINDER)
    os.environ.pop(ENV, None)
    from . import profiler
    if sys.modules.get(TARGET) is profiler:
        del sys.modules[TARGET]


def startup_hook():
    """Run by dasf_profiler_dropin.pth at interpreter start-up when DASF_PROFILER_DROPIN is
    set; never raises (a broken hook must not stop the interpreter)."""
    try:
        install(children=False)
    except Exception as e:  # pragma: no cover - reported, not fatal
        print(f"dasf_profiler: DASF_PROFILER_DROPIN set but install() failed: {e}",
              file=sys.stderr)
