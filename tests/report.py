"""The run's report, as a pytest plugin: every comparison's figures, merged across pytest-xdist
workers, shown as one table at the end of the run with the points verified per second, and
written as evidence (--evidence DIR) by the process that holds every figure.

Registered from conftest.py (pytest_plugins); tests record into it through tests/compare.py.
"""

from __future__ import annotations

import importlib.metadata
import time

import pytest
from hypothesis import settings

from tests import evidence

# (subject, checker, dtype, quantity) -> [examples, not informative (not judged), 0.1 % visible,
#     worst absolute error, worst relative error, worst share of the tolerance used, failures]
RESULTS: dict[tuple[str, str, str, str], list] = {}
FAILURES: list[dict] = []
OUTCOMES: dict[str, int] = {}
_STARTED = time.perf_counter()


def _fold(key, examples, not_judged, visible, abs_err, rel_err, ratio, failures) -> None:
    row = RESULTS.setdefault(key, [0, 0, 0, 0.0, 0.0, 0.0, 0])
    for i, v in enumerate((examples, not_judged, visible)):
        row[i] += v
    for i, v in enumerate((abs_err, rel_err, ratio), start=3):
        row[i] = max(row[i], v)
    row[6] += failures


def record(key, verdict) -> None:
    """One quantity of one example judged (an agreement.Verdict): key is (subject, checker, dtype, quantity)."""
    judged = verdict.judged
    _fold(key, 1, int(not judged), int(verdict.visible), verdict.abs_err if judged else 0.0,
          verdict.rel_err if judged else 0.0, verdict.ratio if judged else 0.0, int(not verdict.ok))


def merge(rows) -> None:
    """Fold in rows from another process (pytest-xdist workers), as [*key, *row]."""
    for row in rows:
        _fold(tuple(row[:4]), *row[4:])


def points(results) -> int:
    """Points verified: one per example of each (subject, checker, dtype), whatever its number of quantities."""
    groups: dict[tuple, int] = {}
    for (subject, checker, dtype, _), row in results.items():
        groups[subject, checker, dtype] = max(groups.get((subject, checker, dtype), 0), row[0])
    return sum(groups.values())


def version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def pytest_sessionstart(session):
    global _STARTED
    _STARTED = time.perf_counter()


def pytest_runtest_logreport(report):
    """Every test's outcome, and each failure's message (on the xdist controller: every worker's)."""
    if report.when == "call" or report.outcome != "passed":
        OUTCOMES[report.outcome] = OUTCOMES.get(report.outcome, 0) + 1
    if report.failed:
        lines = report.longreprtext.splitlines()
        errors = [line[1:].strip() if line.startswith("E ") else line for line in lines if line.startswith("E ")]
        lines = errors or lines  # the assertion and Hypothesis's falsifying example, without the traceback
        message = "\n".join(lines if len(lines) <= 120 else [*lines[:120], f"... ({len(lines) - 120} more lines)"])
        FAILURES.append({"test": report.nodeid, "phase": report.when, "message": message})


def pytest_collectreport(report):
    if report.failed:  # a test file that does not even import: the run cannot pass
        FAILURES.append({"test": report.nodeid or "collection", "phase": "collect", "message": report.longreprtext})
        OUTCOMES["error"] = OUTCOMES.get("error", 0) + 1


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    merge(getattr(node, "workeroutput", {}).get("verification", []))


def _profile(config) -> str:
    mistake = config.getoption("--mistake", None)
    return settings.get_current_profile_name() + (f"; mistake {mistake!r} injected" if mistake else "")


def pytest_sessionfinish(session, exitstatus):
    config = session.config
    workeroutput = getattr(config, "workeroutput", None)
    if workeroutput is not None:  # a pytest-xdist worker: hand the figures to the controller
        workeroutput["verification"] = [[*key, *row] for key, row in RESULTS.items()]
        return
    directory = config.getoption("--evidence", None)
    if not directory:
        return
    seed = config.getoption("hypothesis_seed", None)
    seed = ("derandomized: a fixed seed per test, the same examples every run" if settings().derandomize
            else seed if seed is not None else "random per run; a failure prints @reproduce_failure to replay it")
    report = evidence.build(
        RESULTS, FAILURES, profile=_profile(config), seed=str(seed), commit=evidence.git_commit(config.rootpath),
        versions={name: version(dist) for name, dist in evidence.DISTRIBUTIONS.items()}, outcome=dict(OUTCOMES),
        exit_status=int(exitstatus), seconds=time.perf_counter() - _STARTED)
    path = config.rootpath / directory
    written = evidence.write(path, report)
    config.stash[_WRITTEN] = (path, report["status"], written)


_WRITTEN = pytest.StashKey[tuple]()


def pytest_terminal_summary(terminalreporter):
    config = terminalreporter.config
    write = terminalreporter.write_line
    if RESULTS:
        terminalreporter.section(f"gradient verification (hypothesis profile {settings.get_current_profile_name()!r})")
        for line in evidence.table(evidence.rows(RESULTS), markdown=False):
            write(line)
        seconds = time.perf_counter() - _STARTED
        count = points(RESULTS)
        write("")
        write(f"{count} points verified in {seconds:.1f} s: {count / seconds:.0f} points per second "
              f"(a point: one example's loss and every gradient against one checker)")
    written = config.stash.get(_WRITTEN, None)
    if written:
        path, status, files = written
        write(f"evidence ({status}): {', '.join(f'{path}/{name}' for name in files)}")
