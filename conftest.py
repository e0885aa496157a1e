"""Test-run setup: Hypothesis profiles, the checkers to run, the versions in the header. The run's
table and evidence come from the plugin in tests/report.py.

    pytest --hypothesis-profile=ci               # dev (default, fast), ci, thorough
    pytest --framework=torch,oracle              # narrow the checkers; a named one must be installed
"""

from __future__ import annotations

import hashlib
import os

import pytest
from hypothesis import HealthCheck, seed, settings

import frameworks
from reference import mistakes

pytest_plugins = ["tests.report"]

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
    for name in _requested(config):
        if name not in frameworks.CHECKERS:
            raise pytest.UsageError(f"--framework {name}: unknown checker; expected one of {', '.join(frameworks.CHECKERS)}")
        reason = frameworks.unavailable_reason(name)
        if reason:
            raise pytest.UsageError(f"--framework {name} was asked for, but {reason}")
    if "jax" in (_requested(config) or frameworks.CHECKERS) and not frameworks.unavailable_reason("jax"):
        _persistent_jax_cache(config.rootpath / ".cache" / "jax")


def _persistent_jax_cache(directory):
    """JAX keeps its compilations on disk, so that a second run of the suite compiles nothing again."""
    frameworks.load("jax")  # first: it sets XLA's options before JAX starts
    import jax

    jax.config.update("jax_compilation_cache_dir", str(directory))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)


@pytest.fixture(scope="session")
def mistake(request):
    """--mistake NAME: the known-wrong variant the network tests check instead of the reference, or None."""
    return request.config.getoption("--mistake")


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


def _case_group(item) -> str | None:
    """The checkers' tests that check the same drawn cases: one group per test function, family and dtype."""
    params = getattr(item, "callspec", None)
    if params is None or "checker" not in params.params or "network" not in params.params:
        return None
    return "-".join([item.originalname, *(str(params.params[k]) for k in ("network", "dtype") if k in params.params)])


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """Under `pytest -n N` (xdist's default `--dist load`): the checkers' tests of one drawn case group go to one
    worker, where the cases' rounding spreads (tests/compare.py) are then computed once for every checker. Every
    other test is a unit of its own, as with `load`."""
    if config.getvalue("dist") != "load":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class CaseGroups(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            name, _, ids = nodeid.partition("[")
            parts = ids.rstrip("]").split("-")
            if not ids or not set(parts) & set(frameworks.CHECKERS):
                return nodeid
            return f"{name}[{'-'.join(p for p in parts if p not in frameworks.CHECKERS)}]"

    return CaseGroups(config, log)


def pytest_runtest_setup(item):
    """In a derandomized profile (ci), every checker's test of a group draws the same cases: a disagreement is
    then seen at one point by each checker, and the point's rounding spread is computed once. Hypothesis
    otherwise seeds each parametrized test by its id, checker included. Random profiles stay random.
    Measured (cProfile, make verify in one process): 3,512 spreads for 3,600 float32 checks, 27 s of 110 s,
    before; 1,200 spreads, 9 s, after. Each checker still checks 100 examples per family and dtype; the
    reference meets 100 distinct cases per family and dtype in ci instead of 300 (dev and thorough: still
    a different draw per checker)."""
    group = _case_group(item)
    if group is not None and settings().derandomize and hasattr(item.obj, "hypothesis"):
        seed(int.from_bytes(hashlib.sha256(group.encode()).digest()[:8], "big"))(item.obj)


def pytest_report_header(config):
    from tests.report import version  # imported once pytest has registered it as a plugin

    versions = ", ".join(f"{d} {version(d)}" for d in ("numpy", "torch", "jax", "jaxlib", "hypothesis"))
    checkers = _requested(config) or [n for n in frameworks.CHECKERS if not frameworks.unavailable_reason(n)]
    return [f"versions: {versions}",
            f"checkers: {', '.join(checkers)}; hypothesis profile: {settings.get_current_profile_name()}"]
