"""Reading trace files: read_events (Event tuples) and to_dataframe (pandas)."""
import os

from . import _native

#: Columns of to_dataframe(), in order (docs/PYTHON.md).
DATAFRAME_COLUMNS = ("name", "phase", "timestamp", "duration", "process_id", "thread_id",
                     "args", "scope", "cat", "id", "timestamp_ns", "duration_ns")


def read_events(path):
    """Iterate over the events of a trace file (legacy or archive layout) in file order.

    Yields ``dasf_profiler.Event`` tuples with named fields: name, phase, timestamp
    (float seconds), duration (float for phase X, else None), process_id, thread_id (int,
    str or None as written), args (dict), scope (phase I, else None), cat, id,
    timestamp_ns, duration_ns.  A missing file raises FileNotFoundError, a file that is
    not a trace ValueError, at the first next(); damaged chunks are skipped and reported
    with a RuntimeWarning at the end.
    """
    return _native.Reader(os.fspath(path), tuples=True)


def to_dataframe(path):
    """The events of a trace file as a pandas DataFrame (pandas must be installed).

    One row per event, columns DATAFRAME_COLUMNS; duration is NaN for events other than
    phase X, scope/cat/id are None where absent.
    """
    try:
        import pandas as pd
    except ImportError as e:  # pragma: no cover - pandas is a test dependency
        raise ImportError("to_dataframe() needs pandas (Debian: python3-pandas)") from e
    cols = {c: [] for c in DATAFRAME_COLUMNS}
    appenders = [cols[c].append for c in DATAFRAME_COLUMNS]
    nan = float("nan")
    for ev in read_events(path):
        for i, append in enumerate(appenders):
            append(ev[i])
    cols["duration"] = [nan if d is None else d for d in cols["duration"]]
    df = pd.DataFrame(cols, columns=list(DATAFRAME_COLUMNS))
    df["duration"] = df["duration"].astype("float64")
    df["timestamp"] = df["timestamp"].astype("float64")
    df["timestamp_ns"] = df["timestamp_ns"].astype("int64")
    df["duration_ns"] = df["duration_ns"].astype("int64")
    return df
