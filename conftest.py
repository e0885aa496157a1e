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
from tests import compare

_common = dict(deadline=None, print_blob=True, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=15, **_common)
settings.register_profile("ci", max_examples=100, derandomize=True, database=None, **_common)
settings.register_profile("thorough", max_examples=1000, **_common)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


def pytest_addoption(parser):
    parser.addoption(
        "--framework", action="append", default=[], metavar="NAMES",
        help=f"checkers to run, comma-separated or repeated, from {', '.join(frameworks.CHECKERS)} "
             "(default: every installed one; a named checker that is not installed is an error)")


def _requested(config) -> list[str]:
    names = [n.strip() for opt in config.getoption("--framework") for n in opt.split(",") if n.strip()]
    return list(dict.fromkeys(names))


def pytest_configure(config):
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


def pytest_sessionfinish(session):
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # a pytest-xdist worker: hand the figures to the controller
        workeroutput["verification"] = [[*key, *row] for key, row in compare.RESULTS.items()]


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    compare.merge(getattr(node, "workeroutput", {}).get("verification", []))


def pytest_terminal_summary(terminalreporter):
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
