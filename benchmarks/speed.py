"""make bench: what a verified point costs, every figure measured side by side in this one run.

    python benchmarks/speed.py            # the whole table (about a minute)
    python benchmarks/speed.py --quick    # fewer repeats and examples, for a look

1. Each checker per network, per example: warm (a shape seen before) and on a new shape.
2. The suite's own path, on fresh random shapes: Hypothesis draw, reference, the three checkers and
   the comparison, as tests/test_networks.py runs it; against torch.autograd.gradcheck of the same
   network, in default mode and in fast_mode; and the floors under it: Hypothesis's engine alone, the
   oracle's full gradient alone, and its params' directions for K points in one evaluation.
3. The reference's forward + backward at 2048×(784-512-10), ReLU + softmax + cross-entropy, against
   the same matrix products timed alone (the GEMM-only bound), torch and jax.jit, all on the same
   number of threads.

Times are medians of repeats; the machine is shared, so read the ratios, which come from one run.

NumPy's BLAS (OpenBLAS) picks its kernels for the CPU it finds, as XLA and torch do for theirs; an
OPENBLAS_CORETYPE in the environment holds it to another CPU's (a machine can set Haswell's AVX2 kernels on a CPU
with AVX-512), so the run lifts it before NumPy loads, and prints the kernel used. --blas-as-set keeps it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

THREADS = os.cpu_count() or 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], allow_abbrev=False)
    parser.add_argument("--quick", action="store_true", help="fewer repeats and examples")
    parser.add_argument("--blas-as-set", action="store_true",
                        help="keep OPENBLAS_CORETYPE as the environment sets it (read before NumPy loads)")
    return parser


ARGS = _parser().parse_args() if __name__ == "__main__" else _parser().parse_args([])  # the flags, before NumPy loads
LIFTED = None if ARGS.blas_as_set else os.environ.pop("OPENBLAS_CORETYPE", None)

import numpy as np  # noqa: E402  (after OPENBLAS_CORETYPE)

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.strategies, from any folder

import frameworks  # noqa: E402
import reference  # noqa: E402
from frameworks.walk import network_loss  # noqa: E402


def blas_kernel() -> str:
    """The kernel OpenBLAS runs, as NumPy's copy of it reports (or "unknown")."""
    import ctypes

    for path in sorted((Path(np.__file__).parent.parent / "numpy.libs").glob("*openblas*")):
        lib = ctypes.CDLL(str(path))
        for name in ("scipy_openblas_get_corename64_", "scipy_openblas_get_corename", "openblas_get_corename"):
            corename = getattr(lib, name, None)
            if corename is not None:
                corename.restype = ctypes.c_char_p
                return corename().decode()
    return "unknown"


def blas_line() -> str:
    if LIFTED:
        return f"BLAS: OpenBLAS, {blas_kernel()} kernels (OPENBLAS_CORETYPE={LIFTED} lifted; --blas-as-set keeps it)"
    setting = os.environ.get("OPENBLAS_CORETYPE")
    return f"BLAS: OpenBLAS, {blas_kernel()} kernels" + (f" (OPENBLAS_CORETYPE={setting})" if setting else "")


def median_ms(f, repeats: int) -> float:
    f()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def interleaved(runs: dict, repeats: int) -> dict[str, float]:
    """Median ms of each function, timed in turns (one call of each per round), so that a busy moment of
    a shared machine falls on all of them alike."""
    for f in runs.values():
        f()
    times = {name: [] for name in runs}
    for _ in range(repeats):
        for name, f in runs.items():
            start = time.perf_counter()
            f()
            times[name].append(time.perf_counter() - start)
    return {name: 1000 * statistics.median(t) for name, t in times.items()}


def point(net, n, rng, dtype=np.float64):
    params = {k: rng.uniform(-2, 2, size=s).astype(dtype) for k, s in net.param_shapes.items()}
    x = rng.uniform(-2, 2, size=(n, net.sizes[0])).astype(dtype)
    return params, x, rng.integers(0, net.sizes[-1], size=n)


def row(cells, widths):
    return "  ".join(f"{c:>{w}}" if i else f"{c:<{w}}" for i, (c, w) in enumerate(zip(cells, widths, strict=True)))


# 1 ------------------------------------------------------------------------------------------------
NETWORKS = {
    "CS224n 20×(10-5-10)": (lambda **kw: reference.sigmoid_softmax_ce(10, 5, 10, **kw), 20),
    "16×(16-16-16)": (lambda **kw: reference.sigmoid_softmax_ce(16, 16, 16, **kw), 16),
    "16×(16-16-16-16), tanh, relu": (lambda **kw: reference.mlp(16, 16, 16, 16, hidden=("tanh", "relu"),
                                                                output="softmax", loss="cross_entropy", **kw), 16),
}


def network_row(label, build, n, names, repeats, rng) -> list[str]:
    net = build()
    params, x, y = point(net, n, rng)
    cells = [label, f"{median_ms(lambda: net.loss_and_grads(params, x, y), repeats):.3f}"]
    for name in names:
        module = frameworks.load(name)
        warm = median_ms(lambda m=module: m.loss_and_grads(net.spec, params, x, y), repeats)
        fresh = []
        for i in range(max(3, repeats // 10)):  # batch sizes not seen before
            p, xx, yy = point(net, n - 1 - i, rng)
            start = time.perf_counter()
            module.loss_and_grads(net.spec, p, xx, yy)
            fresh.append(time.perf_counter() - start)
        cell = f"{warm:.3f} / {1000 * statistics.median(fresh):.3f}"
        if name == "jax":  # and a network structure not seen before: a compilation
            # a loss not compiled before (a layout, a reduction or an L2 strength no longer compiles anew)
            other = reference.mlp(*net.sizes, output="identity", loss="svm")
            p, xx, yy = point(other, n, rng)
            start = time.perf_counter()
            module.loss_and_grads(other.spec, p, xx, yy)
            cell += f" / {1000 * (time.perf_counter() - start):.0f}"
        cells.append(cell)
    return cells


def per_checker(repeats: int) -> list[str]:
    names = [n for n in frameworks.CHECKERS if not frameworks.unavailable_reason(n)]
    lines = ["1. One example, ms: warm (a shape seen before) / a new shape (new sizes; for jax also a new "
             "network structure, which compiles)", ""]
    widths = [30, 10, *[22] * len(names)]
    lines.append(row(["network", "reference", *names], widths))
    rng = np.random.default_rng(0)
    for label, (build, n) in NETWORKS.items():
        lines.append(row(network_row(label, build, n, names, repeats, rng), widths))
    return lines


# 2 ------------------------------------------------------------------------------------------------
def gradcheck_ms(net, n, repeats: int, fast: bool) -> float:
    import torch

    from frameworks import torch_autograd

    params, x, y = point(net, n, np.random.default_rng(1))
    names = [*params, "x"]
    tensors = tuple(torch.tensor(v, requires_grad=True) for v in [*params.values(), x])
    target = torch.tensor(y)

    def loss(*arrays):
        inputs = dict(zip(names, arrays, strict=True))
        return network_loss(net.spec, torch_autograd.OPS, inputs, inputs.pop("x"), target)

    return median_ms(lambda: torch.autograd.gradcheck(loss, tensors, fast_mode=fast), repeats)


def suite_path(examples: int, family: str) -> dict[str, float]:
    """ms per example of each part of tests/test_networks.py's path, over `examples` Hypothesis draws."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from agreement import network_spread
    from tests import strategies
    from tests.compare import checker, disagreements, once

    names = [n for n in frameworks.CHECKERS if not frameworks.unavailable_reason(n)]
    spent = dict.fromkeys(["draw", "reference", *names, "comparison"], 0.0)

    @settings(max_examples=examples, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def path(data):
        t0 = time.perf_counter()
        case = data.draw(strategies.cases(family, np.float64))
        t1 = time.perf_counter()
        loss, grads = case.net.loss_and_grads(case.params, case.x, case.y)
        ours = {"loss": loss, **grads}
        spent["draw"] += t1 - t0
        spent["reference"] += time.perf_counter() - t1
        for name in names:
            t2 = time.perf_counter()
            their_loss, theirs = checker(name).loss_and_grads(case.net.spec, case.params, case.x, case.y)
            t3 = time.perf_counter()
            spread = once(lambda c=case: network_spread(c.net, c.params, c.x, c.y))
            assert not disagreements(family, name, case.dtype, ours, {"loss": their_loss, **theirs}, spread=spread,
                                     table=False)
            spent[name] += t3 - t2
            spent["comparison"] += time.perf_counter() - t3

    start = time.perf_counter()
    path()
    total = time.perf_counter() - start
    out = {k: 1000 * v / examples for k, v in spent.items()}
    out["total"] = 1000 * total / examples
    out["checkers"] = len(names)
    return out


def hypothesis_floor(examples: int) -> float:
    """ms per example of Hypothesis's own engine: a test that draws one integer and does nothing with it."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    @settings(max_examples=examples, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def empty(data):
        data.draw(st.integers(0, 2**32 - 1))

    start = time.perf_counter()
    empty()
    return 1000 * (time.perf_counter() - start) / examples


def path_table(examples: int, repeats: int) -> list[str]:
    lines = ["2. The suite's path on fresh random shapes (tests/test_networks.py, float64), ms per example, "
             "against torch.autograd.gradcheck of the CS224n network 20×(10-5-10)", ""]
    default = gradcheck_ms(reference.sigmoid_softmax_ce(10, 5, 10), 20, max(3, repeats // 10), fast=False)
    fast = gradcheck_ms(reference.sigmoid_softmax_ce(10, 5, 10), 20, repeats, fast=True)
    lines.append(f"   gradcheck: default {default:.2f} ms, fast_mode {fast:.2f} ms")
    lines.append("")
    for family in ("sigmoid_softmax_ce", "mlp"):
        t = suite_path(examples, family)
        parts = ", ".join(f"{k} {t[k]:.3f}" for k in t if k not in ("total", "checkers"))
        lines.append(f"   family {family!r} ({examples} examples): {t['total']:.3f} ms per point verified by all "
                     f"{t['checkers']} checkers ({1000 / t['total']:.0f} points/s, "
                     f"{3 * 1000 / t['total']:.0f} point-checker pairs/s)")
        lines.append(f"      of which {parts}")
        lines.append(f"      = 1/{default / t['total']:.1f} of a default gradcheck, 1/{fast / t['total']:.2f} of a "
                     f"fast_mode gradcheck")
    floor = hypothesis_floor(3 * examples)
    lines.append(f"   Hypothesis alone (a test that draws one integer): {floor:.3f} ms per example = "
                 f"1/{default / floor:.0f} of a default gradcheck")
    oracle_ms, directions = oracle_floor(repeats)
    lines.append(f"   the oracle's full gradient alone, at the same network ({directions} complex-step directions): "
                 f"{oracle_ms:.3f} ms = 1/{default / oracle_ms:.0f} of a default gradcheck")
    apart, together = oracle_stacked((1, 8, 32), max(3, repeats // 5))
    lines.append(f"   its params' directions, one point at a time: {apart:.3f} ms a point; K points' in one evaluation: "
                 + ", ".join(f"K = {k} {t:.3f}" for k, t in together.items()) + " ms a point")
    return lines


def oracle_stacked(ks, repeats: int) -> tuple[float, dict[int, float]]:
    """ms a point of the oracle's gradient with respect to the params of the CS224n network 20×(10-5-10): one point
    at a time (a complex evaluation per key, as the oracle does), and the directions of K points in one evaluation,
    as checking many points in one call would: its arithmetic is not shared."""
    from frameworks import oracle

    net, rng = reference.sigmoid_softmax_ce(10, 5, 10), np.random.default_rng(2)
    loss = oracle.loss_function(net.spec)
    points = [point(net, 20, rng) for _ in range(max(ks))]
    keys = list(points[0][0])

    def directions(params, x, y):  # every unit direction of every param, each row one direction, at this point
        rows = sum(np.size(v) for v in params.values())
        out, at = {k: np.repeat(np.asarray(v, dtype=complex)[None], rows, axis=0) for k, v in params.items()}, 0
        for k in keys:
            flat = out[k].reshape(rows, -1)
            flat[at + np.arange(flat.shape[1]), np.arange(flat.shape[1])] += 1j * oracle.COMPLEX_STEP
            at += flat.shape[1]
        return {**out, "x": np.repeat(x[None], rows, axis=0), "y": np.repeat(y[None], rows, axis=0)}

    one = {**points[0][0], "x": points[0][1], "y": points[0][2]}
    apart = median_ms(lambda: oracle.gradient(loss, one, keys), repeats)
    together = {}
    for k in ks:
        batch = [directions(*p) for p in points[:k]]
        stacked = {name: np.concatenate([b[name] for b in batch]) for name in batch[0]}
        together[k] = median_ms(lambda s=stacked: loss(**s), repeats) / k
    return apart, together


def oracle_floor(repeats: int) -> tuple[float, int]:
    """ms of the oracle's loss and full gradient at the CS224n network 20×(10-5-10), and its directions: a floor
    under any way of checking every point against it, as its directions are arithmetic (a complex forward
    each), which checking many points in one call would not share."""
    from frameworks import oracle

    net = reference.sigmoid_softmax_ce(10, 5, 10)
    params, x, y = point(net, 20, np.random.default_rng(1))
    per_example = np.size(x) // len(x) if oracle._example_terms(net.spec) is not None else np.size(x)
    return median_ms(lambda: oracle.loss_and_grads(net.spec, params, x, y), repeats), \
        sum(np.size(v) for v in params.values()) + per_example


# 3 ------------------------------------------------------------------------------------------------
def large_row(net, dtype, repeats: int) -> list[str]:
    import jax
    import torch

    from frameworks import jax_grad, torch_autograd

    params, x, y = point(net, 2048, np.random.default_rng(2), dtype)
    W1, W2 = params["W1"], params["W2"]
    h = np.maximum(x @ W1, 0)
    d2, d1 = np.ones((2048, 10), dtype), np.ones((2048, 512), dtype)

    def gemms():  # the six matrix products of the forward and backward, alone
        return x @ W1, h @ W2, h.T @ d2, d2 @ W2.T, x.T @ d1, d1 @ W1.T

    t_params = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    t_x, t_y = torch.tensor(x, requires_grad=True), torch.tensor(y)

    def torch_step():
        loss = network_loss(net.spec, torch_autograd.OPS, t_params, t_x, t_y)
        return torch.autograd.grad(loss, [*t_params.values(), t_x])

    f = jax.jit(jax.value_and_grad(lambda p, xx: network_loss(net.spec, jax_grad.OPS, p, xx, y), argnums=(0, 1)))
    j_params, j_x = jax.device_put(params), jax.device_put(x)
    runs = {"gemm": gemms, "reference": lambda: net.loss_and_grads(params, x, y), "torch": torch_step,
            "jax": lambda: jax.block_until_ready(f(j_params, j_x))}
    ms = interleaved(runs, repeats)
    return [dtype.name, f"{ms['gemm']:.1f}", f"{ms['reference']:.1f}", f"{ms['reference'] / ms['gemm']:.2f}×",
            f"{ms['torch']:.1f}", f"{ms['jax']:.1f}"]


def large(repeats: int) -> list[str]:
    import torch

    torch.set_num_threads(THREADS)

    lines = [f"3. Forward + backward at 2048×(784-512-10), ReLU + softmax + cross-entropy, ms, {THREADS} threads", ""]
    widths = [10, 12, 14, 14, 14, 14]
    lines.append(row(["dtype", "GEMM only", "reference", "ref / GEMM", "torch", "jax.jit"], widths))
    net = reference.mlp(784, 512, 10, hidden="relu", output="softmax", loss="cross_entropy")
    for dtype in (np.float64, np.float32):
        lines.append(row(large_row(net, np.dtype(dtype), repeats), widths))
    return lines


def main(args=ARGS) -> int:
    repeats, examples = (10, 50) if args.quick else (50, 300)
    import platform

    print(f"machine: {platform.processor() or platform.machine()}, {THREADS} cores; Python {platform.python_version()}, "
          f"NumPy {np.__version__}")
    print(blas_line())
    print("")
    for section in (per_checker(repeats), path_table(examples, repeats), large(max(5, repeats // 5))):
        for line in section:
            print(line)
        print("")
    return 0


if __name__ == "__main__":
    sys.exit(main())
