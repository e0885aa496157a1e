"""Test-run setup: Hypothesis profiles, the checkers to run, the versions in the header, the error table.

    pytest --hypothesis-profile=ci               # dev (default, fast), ci, thorough
    pytest --framework=torch,oracle              # narrow the checkers; a named one must be installed
"""

from __future__ import annotations

import importlib.metadata
import os

import pytest
from hypothesis import HealthCheck, settings

import frameworks
from reference import mistakes
from tests import compare, evidence

_common = dict(deadline=None, print_blob=True, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=15, **_common)
settings.register_profile("ci", max_examples=100, derandomize=True, database=None, **_common)
settings.register_profile("thorough", max_examples=1000, **_common)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


def pytest_addoption(parser):
    parser.addoption(
        "--evidence", metavar="DIR", default=None,
        help="write the run's evidence there: REPORT.md, report.json and errors.png (make verify and make test "
             "write evidence/)")
    parser.addoption(
        "--mistake", metavar="NAME", default=None,
        help=f"check a known-wrong variant of the reference instead ({', '.join(mistakes.MISTAKES)}), to see "
             "what a failing run and its report look like")
    parser.addoption(
        "--framework", action="append", default=[], metavar="NAMES",
        help=f"checkers to run, comma-separated or repeated, from {', '.join(frameworks.CHECKERS)} "
             "(default: every installed one; a named checker that is not installed is an error)")


def _requested(config) -> list[str]:
    names = [n.strip() for opt in config.getoption("--framework") for n in opt.split(",") if n.strip()]
    return list(dict.fromkeys(names))


def pytest_configure(config):
    mistake = config.getoption("--mistake")
    if mistake is not None and mistake not in mistakes.MISTAKES:
        raise pytest.UsageError(f"--mistake {mistake}: unknown; expected one of {', '.join(mistakes.MISTAKES)}")
    compare.MISTAKE = mistake
    for name in _requested(config):
        if name not in frameworks.CHECKERS:
            raise pytest.UsageError(f"--framework {name}: unknown checker; expected one of {', '.join(frameworks.CHECKERS)}")
        reason = frameworks.unavailable_reason(name)
        if reason:
            raise pytest.UsageError(f"--framework {name} was asked for, but {reason}")


def pytest_generate_tests(metafunc):
    """Parametrize every test that takes `checker` over the selected checkers; missing ones skip with the reason."""
    if "checker" not in metafunc.fixturenames:
        return
    names = _requested(metafunc.config) or list(frameworks.CHECKERS)
    only = metafunc.definition.get_closest_marker("checkers")  # @pytest.mark.checkers("torch", "jax")
    if only:
        names = [n for n in names if n in only.args]
    params = []
    for name in names:
        reason = frameworks.unavailable_reason(name)
        params.append(pytest.param(name, id=name, marks=[pytest.mark.skip(reason=reason)] if reason else []))
    metafunc.parametrize("checker", params)


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def pytest_report_header(config):
    versions = ", ".join(f"{d} {_version(d)}" for d in ("numpy", "torch", "jax", "jaxlib", "hypothesis"))
    checkers = _requested(config) or [n for n in frameworks.CHECKERS if not frameworks.unavailable_reason(n)]
    return [f"versions: {versions}",
            f"checkers: {', '.join(checkers)}; hypothesis profile: {settings.get_current_profile_name()}"]


FAILURES: list[dict] = []
OUTCOMES: dict[str, int] = {}


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


def pytest_sessionfinish(session, exitstatus):
    config = session.config
    workeroutput = getattr(config, "workeroutput", None)
    if workeroutput is not None:  # a pytest-xdist worker: hand the figures to the controller
        workeroutput["verification"] = [[*key, *row] for key, row in compare.RESULTS.items()]
        return
    directory = config.getoption("--evidence")
    if directory:
        hypothesis_settings = settings()
        seed = config.getoption("hypothesis_seed", None)
        seed = ("derandomized: a fixed seed per test, the same examples every run" if hypothesis_settings.derandomize
                else seed if seed is not None else "random per run; a failure prints @reproduce_failure to replay it")
        profile = settings.get_current_profile_name() + (f"; mistake {compare.MISTAKE!r} injected" if compare.MISTAKE
                                                          else "")
        report = evidence.build(
            compare.RESULTS, FAILURES, profile=profile, seed=str(seed), commit=evidence.git_commit(config.rootpath),
            versions={name: _version(dist) for name, dist in evidence.DISTRIBUTIONS.items()}, outcome=dict(OUTCOMES),
            exit_status=int(exitstatus))
        path = config.rootpath / directory
        evidence.write(path, report)
        config._evidence_written = (path, report["status"])


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    compare.merge(getattr(node, "workeroutput", {}).get("verification", []))


def pytest_terminal_summary(terminalreporter):
    written = getattr(terminalreporter.config, "_evidence_written", None)
    if written:
        terminalreporter.write_line(f"evidence ({written[1]}): {written[0]}/REPORT.md, report.json, errors.png")
    if not compare.RESULTS:
        return
    write = terminalreporter.write_line
    profile = settings.get_current_profile_name()
    terminalreporter.section(f"gradient verification (hypothesis profile {profile!r})")
    header = (f"{'subject':<28} {'checker':<7} {'dtype':<8} {'quantity':<5} {'examples':>8} {'worst abs':>10} "
              f"{'worst rel':>10} {'tolerance':<17} status")
    subject = None
    for key in sorted(compare.RESULTS):
        n, abs_err, rel_err, failures, rtol, atol = compare.RESULTS[key]
        if key[0] != subject:
            subject = key[0]
            write("")
            write(header)
        status = "ok" if failures == 0 else f"FAILED {failures}"
        write(f"{key[0]:<28} {key[1]:<7} {key[2]:<8} {key[3]:<5} {n:>8} {abs_err:>10.2e} {rel_err:>10.2e} "
              f"rtol {rtol:.0e} atol {atol:.0e} {status}")
