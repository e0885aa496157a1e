"""Test-run setup: Hypothesis profiles, the checkers to run, the versions in the header. The run's
table and evidence come from the plugin in tests/report.py.

    pytest --hypothesis-profile=ci               # dev (default, fast), ci, thorough
    pytest --framework=torch,oracle              # narrow the checkers; a named one must be installed
"""

from __future__ import annotations

import os

# One OpenMP and OpenBLAS thread per process. The suite runs one process per core (-n 2), and its arrays are tiny:
# a second thread per process gains nothing and costs a great deal. OpenMP's (torch's) and OpenBLAS's (NumPy's)
# threads wait for work by spinning, so two processes of two threads each took the two cores from each other:
# make verify took 52 s with them and 29-35 s with OMP_NUM_THREADS=1 (OpenBLAS reads it too), one run after the
# other. XLA's own thread pool ignores it; turning that off too made make verify slower (37 s, docs/speed.md).
# Set before NumPy and torch start (neither is imported yet); xdist's workers inherit it, and so do the
# processes the tests start. A value set already stays as it is.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import pytest
from hypothesis import HealthCheck, settings

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
    runs_tests = hasattr(config, "workerinput") or not config.getoption("numprocesses", None)  # not xdist's controller
    if runs_tests and "jax" in (_requested(config) or frameworks.CHECKERS) and not frameworks.unavailable_reason("jax"):
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


def _selected(config, only=None) -> tuple[list[str], dict[str, str]]:
    """The checkers to run (--framework, else all; `only`: those of a test's `checkers` mark), and {name: why not}
    for those that cannot run here."""
    names = _requested(config) or list(frameworks.CHECKERS)
    names = [n for n in names if only is None or n in only]
    missing = {n: reason for n in names if (reason := frameworks.unavailable_reason(n))}
    return [n for n in names if n not in missing], missing


@pytest.fixture(scope="session")
def checkers(request) -> tuple[str, ...]:
    """The selected checkers that can run here, for a test that checks each point it draws against all of them
    (a missing one is named in the run's header); with none, the test skips. A `checkers` mark does not narrow
    this fixture (it is the session's): such a test picks its own from it."""
    names, missing = _selected(request.config)
    if not names:
        pytest.skip("no checker can run: " + "; ".join(f"{n}: {why}" for n, why in missing.items()))
    return tuple(names)


def pytest_generate_tests(metafunc):
    """Parametrize every test that takes `checker` over the selected checkers; missing ones skip with the reason.
    @pytest.mark.checkers("torch", "jax") narrows them."""
    if "checker" not in metafunc.fixturenames:
        return
    only = metafunc.definition.get_closest_marker("checkers")
    names, missing = _selected(metafunc.config, only.args if only else None)
    params = [pytest.param(n, id=n) for n in names]
    params += [pytest.param(n, id=n, marks=[pytest.mark.skip(reason=reason)]) for n, reason in missing.items()]
    metafunc.parametrize("checker", params)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """Under `pytest -n N` (xdist's default `--dist load`): the tests that differ only in their `checker` (the power
    test's, of one mistake, family and dtype, which draw the same cases in a derandomized profile) go to one worker,
    where each case's rounding spread (tests/compare.py) is then computed once for every checker. Every other test
    is a unit of its own, as with `load`."""
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


def pytest_report_header(config):
    from tests.report import version  # imported once pytest has registered it as a plugin

    versions = ", ".join(f"{d} {version(d)}" for d in ("numpy", "torch", "jax", "jaxlib", "hypothesis"))
    checkers, missing = _selected(config)
    skipped = "".join(f"; {n} skipped: {why}" for n, why in missing.items())
    return [f"versions: {versions}",
            f"checkers: {', '.join(checkers)}{skipped}; hypothesis profile: {settings.get_current_profile_name()}"]
