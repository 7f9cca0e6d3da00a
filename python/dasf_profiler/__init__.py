"""dasf_profiler: DASF's ``dasf.profile.profiler`` API on the dasf-profiler C runtime.

``dasf_profiler.profiler`` has every public name of ``dasf.profile.profiler`` (same
signatures, defaults and behaviour; see docs/PYTHON.md for the few differences).
Events recorded through it go straight into the C runtime's per-thread rings and are
written by its flusher thread, in the original module's file layout (``*.msgpack``) or
as a compressed trace archive (``*.zst`` or ``compression_level``).

Also here:
  read_events(path)   fast iterator of Event tuples over a trace file of either layout
  to_dataframe(path)  the same as a pandas DataFrame
  install()           make ``import dasf.profile.profiler`` give this package (one line
                      for an unmodified DASF installation; see docs/PYTHON.md)
"""
from . import profiler
from ._dropin import install, installed, uninstall
from ._native import LIBRARY_VERSION, Event, now
from ._read import read_events, to_dataframe

__version__ = "0.1.0"
__all__ = ["profiler", "read_events", "to_dataframe", "Event", "install", "uninstall",
           "installed", "now", "LIBRARY_VERSION"]
