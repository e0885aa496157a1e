"""The real output quoted in docs/ and the README is what the code prints today: each block is made
again here and must stand in its document, line for line."""

import contextlib
import io
import shlex
from pathlib import Path

import numpy as np
import pytest

import frameworks
import reference
from agreement import judge, network_spread
from frameworks import check, oracle
from tests.compare import once
from tests.strategies import Case
from tests.test_tolerance import ILL_CONDITIONED

DOCS = Path(__file__).parents[1] / "docs"


def verdict_table(case) -> list[str]:
    """The reference's float32 result against the oracle's float64 truth, one line per quantity."""
    loss, grads = case.net.loss_and_grads(case.params, case.x, case.y)
    their_loss, theirs = oracle.loss_and_grads(case.net.spec, case.params, case.x, case.y)
    spread = once(lambda: network_spread(case.net, case.params, case.x, case.y))
    ours = {"loss": loss, **grads}
    lines = ["quantity   max|truth|  worst |ref − truth|  tolerance used  informative  0.1% visible"]
    for q, b in {"loss": their_loss, **theirs}.items():
        v = judge(q, ours[q], b, "oracle", case.dtype, spread=lambda q=q: spread()[q])
        lines.append(f"{q:<10} {float(np.max(np.abs(b))):>10.3g}  {v.abs_err:>19.3g}  {v.ratio:>14.2g}  "
                     f"{'yes' if v.judged else 'no':>11}  {'yes' if v.visible else 'no':>12}")
    return lines


def well_conditioned() -> Case:
    """The CS224n network 20×(10-5-10) at its own initialisation, in float32."""
    net = reference.sigmoid_softmax_ce(10, 5, 10)
    rng = np.random.default_rng(0)
    x = rng.uniform(-2, 2, size=(20, 10)).astype(np.float32)
    return Case(net, net.init(rng, np.float32), x, rng.integers(0, 10, size=20))


def _close_enough(quoted: str, measured: str) -> bool:
    """A float32 error figure of this machine against the quoted one: float32 kernels round differently on
    other CPUs (the quoted W2 error 1.1e-08 came out 1.03e-08 on another), so within a factor of 2."""
    a, b = float(quoted), float(measured)
    return a == b or (a > 0 and b > 0 and max(a, b) / min(a, b) <= 2)


@pytest.mark.parametrize(("name", "case"), [("well-conditioned", well_conditioned()), ("ill-conditioned", ILL_CONDITIONED)])
def test_the_tolerance_examples_are_real_output(name, case):
    """Quantity, max|truth| (float64) and the two verdict columns exactly; the error figures to a factor of 2."""
    heading = {"well-conditioned": "## A well-conditioned example", "ill-conditioned": "## An ill-conditioned example"}[name]
    text = (DOCS / "tolerances.md").read_text().split(heading, 1)[1].split("```")[1]  # the table under the heading
    quoted = {line.split()[0]: line.split() for line in text.splitlines()
              if line.split() and line.split()[0] in {"loss", *case.params, "x"} and len(line.split()) == 6}
    for line in verdict_table(case)[1:]:
        q, truth, error, used, informative, visible = line.split()
        assert q in quoted, f"docs/tolerances.md, {name} example: no line for {q}"
        row = quoted[q] if quoted[q][1] == truth else None
        assert row is not None, f"docs/tolerances.md, {name} example: max|truth| of {q} is {truth}, quoted {quoted[q][1]}"
        assert row[4:] == [informative, visible], f"{name}, {q}: measured {line!r}"
        assert _close_enough(row[2], error) and _close_enough(row[3], used), f"{name}, {q}: measured {line!r}, quoted {row}"


README = DOCS.parent / "README.md"


def _commands(text: str):
    """Each `$ python -m frameworks.check ARGS` in a code block, with the output quoted under it."""
    for block in text.split("```")[1::2]:
        runs = block.split("$ python -m frameworks.check ")[1:]
        for run in runs:
            command, _, output = run.partition("\n")
            yield shlex.split(command), output.rstrip("\n")


@pytest.mark.parametrize(("argv", "quoted"), [*_commands(README.read_text()), *_commands((DOCS / "check.md").read_text())],
                         ids=lambda a: a[0].split(":")[0] if isinstance(a, list) else "")
def test_the_check_tools_output_in_the_readme_and_docs_is_real(argv, quoted):
    if frameworks.unavailable_reason("torch"):  # the README shows the default checker, torch
        pytest.skip(frameworks.unavailable_reason("torch"))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        check.main(argv)
    assert out.getvalue().rstrip("\n") == quoted, f"`{shlex.join(argv)}` (README.md, docs/check.md) now prints\n{out.getvalue()}"


def _add_a_layer_blocks():
    """The code blocks of the README's "A layer with parameters" example, with the file each is quoted from."""
    section = README.read_text().split("### A layer with parameters and an image shape", 1)[1].split("\n## ", 1)[0]
    yield "reference/conv.py", section.split("```python", 1)[1].split("```", 1)[0]
    for file in ("frameworks/torch_autograd.py", "frameworks/jax_grad.py", "frameworks/oracle.py"):
        yield file, section.split(f"**`{file}`**: `", 1)[1].split("`", 1)[0]


@pytest.mark.parametrize(("file", "block"), list(_add_a_layer_blocks()), ids=lambda v: v if "/" in str(v) else "")
def test_the_add_a_layer_example_quotes_the_real_code(file, block):
    source = {line.strip() for line in (DOCS.parent / file).read_text().splitlines()}
    missing = [line for line in block.splitlines() if line.strip() and line.strip() not in source]
    assert not missing, f"README.md quotes lines that {file} no longer has: {missing}"
