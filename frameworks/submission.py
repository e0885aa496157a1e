"""A student's code, loaded and called so that nothing it does can break the check.

    target = load("q2_neural.py:forward_backward_prop")      # or raises Crash (it failed to import)
    result, changed = call(target, target.obj, {"data": data, "labels": labels, ...}, timeout=10)

Whatever the code does, the caller gets a value or a Crash: an exception it raised (with the
student's own frame: file, line and code), SystemExit, or no return within the time limit. Its
prints go to stderr, so that `--json` keeps stdout to itself, and its floating-point warnings are
silenced (an overflow shows in the values it returns). `call` also says which of its arguments
it changed in place.
"""

from __future__ import annotations

import contextlib
import importlib.util
import linecache
import signal
import sys
import threading
import traceback
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass
class Crash(Exception):
    """The student's code raised, exited or hung: what, where (its own innermost frame) and on what."""

    what: str  # "raised ZeroDivisionError: division by zero", "did not return within 10 s (an infinite loop?)"
    where: str = ""  # "q1_softmax.py, line 12: x = x - np.max(x, axis=1)"
    inputs: str = ""  # "data (3, 10), labels (3, 10), params (115,)"
    error: str = ""  # the exception's type, "" when it hung

    @property
    def hung(self) -> bool:
        """It did not return, or returned something the check cannot read: each call would do so again."""
        return not self.error

    @property
    def timed_out(self) -> bool:
        return self.what.startswith("did not return")

    def __str__(self):
        text = self.what
        if self.where:
            text += f", {'at' if self.error else 'stopped at'} {self.where}"
        if self.inputs:
            text += f", called with {self.inputs}"
        return text


class UsageError(ValueError):
    """FILE.py:NAME names no file, or the file no NAME: the command line's mistake, not the student's code's."""


class TimedOut(BaseException):
    """Raised inside the student's code when its time is up (a BaseException: `except Exception` in the
    student's code does not swallow it)."""


@dataclass
class Target:
    file: Path
    name: str
    obj: object


def _student_frame(err, directory: Path) -> str:
    """Where in the student's files (their helpers included; not a library installed beneath them) the
    error arose, as "file, line N: code": the innermost such frame, or the line a SyntaxError names;
    "" when it arose outside their files (a call that does not fit their function's signature)."""
    if isinstance(err, SyntaxError) and err.filename and Path(err.filename).resolve().is_relative_to(directory):
        return f"{Path(err.filename).name}, line {err.lineno}: {(err.text or '').strip()}"
    frames = traceback.extract_tb(err.__traceback__)
    own = [f for f in frames if Path(f.filename).resolve().is_relative_to(directory)
           and not Path(f.filename).resolve().is_relative_to(Path(sys.prefix).resolve())]
    if not own:
        return ""
    frame = own[-1]
    code = (frame.line or linecache.getline(frame.filename, frame.lineno)).strip()
    return f"{Path(frame.filename).name}, line {frame.lineno}: {code}"


def describe(value, depth=0) -> str:
    """A short description of an argument: arrays by their shapes, a cache (x, w, b, conv_param) or a dict by those of
    its first SHOWN items, anything else by a short repr. Never raises (the student's own __repr__ may)."""
    try:
        return _described(value, depth)
    except Exception:  # a __repr__ that raises, say
        return type(value).__name__


SHOWN = 8


def _described(value, depth) -> str:
    if isinstance(value, np.ndarray):
        return f"{value.shape}" if value.dtype.kind == "f" else f"{value.shape} {value.dtype}"
    if depth > 3 and isinstance(value, (dict, list, tuple)):  # a cache that holds itself, or nested deep
        return f"{type(value).__name__} of {len(value)}"
    if isinstance(value, dict):
        items = [f"{k}: {describe(v, depth + 1)}" for k, v in list(value.items())[:SHOWN]]
        return "{" + ", ".join(items) + (", …" if len(value) > SHOWN else "") + "}"
    if isinstance(value, (list, tuple)):
        inner = ", ".join(describe(v, depth + 1) for v in value[:SHOWN]) + (", …" if len(value) > SHOWN else "")
        return f"({inner}{',' if len(value) == 1 else ''})" if isinstance(value, tuple) else f"[{inner}]"
    text = repr(value)
    return text if len(text) <= 60 else f"{type(value).__name__} ({text[:40]}...)"


@contextlib.contextmanager
def _time_limit(seconds):
    """TimedOut in the student's code after `seconds` (main thread only; elsewhere no limit is set here,
    and the class report's per-file process limit applies)."""
    if not seconds or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum, frame):
        raise TimedOut

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextlib.contextmanager
def guarded(directory: Path, timeout=None, inputs: str = ""):
    """Run the student's code inside: its prints to stderr, its warnings off, anything it raises as a Crash."""
    try:
        with contextlib.redirect_stdout(sys.stderr), warnings.catch_warnings(), np.errstate(all="ignore"), \
                _time_limit(timeout):
            warnings.simplefilter("ignore")
            yield
    except TimedOut as err:
        raise Crash(f"did not return within {timeout:g} s (an infinite loop?)", _student_frame(err, directory),
                    inputs) from None
    except (Exception, SystemExit) as err:  # SystemExit too: a student's sys.exit() is theirs, not ours
        name = type(err).__name__
        raise Crash(f"raised {name}: {err}" if str(err) else f"raised {name}", _student_frame(err, directory),
                    inputs, name) from None


def load(target: str, timeout=None) -> Target:
    """FILE.py:NAME, imported with its own folder first on sys.path (students import their own helpers:
    `from q2_sigmoid import sigmoid`). UsageError for a missing file or name; Crash when it fails to import."""
    path, sep, name = target.rpartition(":")
    if not sep or not path or not name:
        raise UsageError(f"expected FILE.py:NAME, got {target!r}")
    file = Path(path).resolve()
    if not file.is_file():
        raise UsageError(f"{path}: no such file")
    folder = str(file.parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    spec = importlib.util.spec_from_file_location(f"_checked_{file.stem}", file)
    module = importlib.util.module_from_spec(spec)
    before = set(sys.modules)
    try:
        with guarded(file.parent, timeout):
            spec.loader.exec_module(module)
    finally:  # the student's own helpers (q1_softmax, ...) are forgotten: another student's may share the name
        for name_ in set(sys.modules) - before:
            origin = getattr(sys.modules[name_], "__file__", None) or ""
            if origin and Path(origin).resolve().is_relative_to(file.parent):
                del sys.modules[name_]
    obj = getattr(module, name, None)
    if not callable(obj):
        raise UsageError(f"{path} has no function or class {name!r}")
    return Target(file, name, obj)


def _snapshot(value):
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, dict):
        return {k: _snapshot(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_snapshot(v) for v in value)
    return value


def _same(a, b) -> bool:
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.shape == b.shape and np.array_equal(a, b, equal_nan=True)
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return isinstance(b, (list, tuple)) and len(a) == len(b) and all(_same(u, v) for u, v in zip(a, b, strict=True))
    try:
        return bool(a == b)
    except Exception:  # an object without a comparison: nothing to tell
        return True


def call(target: Target, function, arguments: dict, timeout=None, **keywords):
    """function(*arguments.values(), **keywords) under `guarded`; (result, names of the arguments it
    changed in place)."""
    before = {name: _snapshot(value) for name, value in arguments.items()}
    inputs = ", ".join(f"{name} {describe(value)}" for name, value in arguments.items())
    with guarded(target.file.parent, timeout, inputs):
        result = function(*arguments.values(), **keywords)
    changed = [name for name, value in arguments.items() if not _same(before[name], value)]
    return result, changed
