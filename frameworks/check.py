"""Check a student's backward pass against an independent checker, as their assignment calls it.

    python -m frameworks.check q2_neural.py:forward_backward_prop --preset cs224n-q2
    python -m frameworks.check neural_net.py:TwoLayerNet --preset cs231n-two-layer [--reg 0.1]
    python -m frameworks.check mine.py:loss_and_grads --network mlp --sizes 4,10,3 --hidden relu \\
        --output softmax --loss cross_entropy --l2 0.01 [--dtype float32]
    python -m frameworks.check 'submissions/*/q2_neural.py:forward_backward_prop' --preset cs224n-q2 --report class/
    python -m frameworks.check layers.py:batchnorm_backward --preset cs231n-layers

Hypothesis draws random points (sizes up to the preset's, batches of 1 to 8, weights and inputs in
[-2, 2], every ReLU input off its kink); each of the student's results is judged against the
checker's (torch if installed, else the numerical oracle) by the suite's own engine (agreement/).
A failure prints the smallest failing call, what is wrong there, which gradients are right and
which step of the chain is implicated, and the mistakes named (frameworks.diagnose). --json prints
one JSON object and nothing else. Exit status: 0 pass, 1 fail (or the code could not be checked),
2 usage error. With a pattern or --report, every file matched is checked in its own process
(frameworks.classroom).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys

import frameworks
from frameworks import classroom, presets, verify
from frameworks.verify import check  # noqa: F401  (check(target, presets, checker, examples): the tool as a function)

DEFAULT_REG = 0.1  # the positive reg at which CS231n code is checked when --reg is not given


def describe(args, preset) -> str:
    if preset.name == "function":
        return f"{args.target} as {preset.kind}"
    return f"{args.target}, preset {preset.name} ({preset.kind}; sizes {','.join(map(str, preset.sizes))})"


def text(result: verify.Result, checker: str) -> list[str]:
    """The report for a person."""
    lines = [f"{result.verdict}: {result.described} against the {checker} checker"]
    for convention, value in result.conventions.items():
        lines.append(f"  convention: {convention} {value}")
    if result.verdict == "ERROR":
        return lines + [f"  {line}" for line in result.wrong]
    if result.verdict == "PASS":
        lines += [f"  {run}, each agreeing to the suite's tolerance (agreement.tolerance)" for run in result.runs]
        lines.append(f"  checked: {', '.join(result.checked)}")
        if result.skipped:
            lines.append(f"  not returned by your code, so not checked: {', '.join(result.skipped)}")
        return lines + [f"  note: {note}" for note in result.notes]
    lines += [f"  {run}" for run in result.runs]
    if result.example:
        lines += ["", "The smallest failing call found (values shortened while it fails):" if result.shortened else
                  "The smallest failing call found:"]
        lines += [f"  {line}" for line in result.example]
    lines += ["", "What is wrong there:", *(f"  {line}" for line in [*result.wrong, *result.elsewhere])]
    if result.skipped:
        lines.append(f"  (not checked, not returned by your code: {', '.join(result.skipped)})")
    if result.where:
        lines += ["", f"Where: {result.where}"]
    if result.diagnoses:
        lines += ["", "Diagnosis:"]
        lines += [f"  {line}" for line in result.diagnoses]
    else:
        lines += ["", "Diagnosis: none of the known mistakes matches; compare your formulas with",
                  f"  {result.explain or 'python -m reference explain'}"]
    return lines + [f"  note: {note}" for note in result.notes]


def _parser():
    parser = argparse.ArgumentParser(prog="python -m frameworks.check", description=__doc__.split("\n\n")[0],
                                     epilog=__doc__.split("\n\n", 1)[1], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("target", metavar="FILE.py:NAME", help="the function or class to check; a pattern with * checks a class")
    parser.add_argument("--preset", choices=[*presets.PRESETS, "cs231n-layers"],
                        help="an assignment's calling convention (cs231n-layers: a layer's forward and backward, "
                             "FILE.py:conv_backward_naive say)")
    parser.add_argument("--network", choices=["mlp", *presets.reference.NETWORKS],
                        help="or: a network reference.mlp builds, called as f(params, x, y)")
    parser.add_argument("--sizes", help="D,H,...,K (a preset has its own default)")
    parser.add_argument("--hidden", help="--network mlp: the hidden activation(s), comma-separated (default sigmoid)")
    parser.add_argument("--output", help="--network mlp: the output activation (default sigmoid)")
    parser.add_argument("--loss", help="--network mlp: the loss (default mse)")
    parser.add_argument("--l2", type=float, help="--network: the L2 strength λ, λ ΣW² in the loss (default 0)")
    parser.add_argument("--layout", help="--network: row (x W, default) or column (W x)")
    parser.add_argument("--reduction", help="--network: mean (default) or sum over the batch")
    parser.add_argument("--dtype", choices=["float64", "float32"], help="--network: the dtype of the points (default float64)")
    parser.add_argument("--reg", type=float, help=f"cs231n-two-layer: the reg to check at (default: 0 and {DEFAULT_REG})")
    default = "torch" if not frameworks.unavailable_reason("torch") else "oracle"
    parser.add_argument("--checker", default=default, choices=list(frameworks.CHECKERS),
                        help="the independent checker (default: torch if installed, else the oracle)")
    parser.add_argument("--examples", type=int, default=100, help="random examples per run (default 100)")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds one call of the code may take (default 10)")
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout, and nothing else")
    parser.add_argument("--report", metavar="DIR", help="write each file's report and a class summary there")
    parser.add_argument("--gradescope", action="store_true", help="with --report: also write Gradescope's results.json")
    parser.add_argument("--time-limit", type=float, default=120.0, help="class mode: seconds per file (default 120)")
    parser.add_argument("--jobs", type=int, default=0, help="class mode: files checked at once (default: the cores)")
    return parser


def _sizes(text_, what="--sizes"):
    try:
        sizes = tuple(int(s) for s in text_.split(","))
    except ValueError:
        raise ValueError(f"{what} takes integers separated by commas, like 10,5,10; got {text_!r}") from None
    return sizes


NETWORK_ONLY = ("l2", "layout", "reduction", "dtype")
MLP_ONLY = ("hidden", "output", "loss")


def _given(args, names) -> list[str]:
    return [f"--{n}" for n in names if getattr(args, n) is not None]


def _common(args) -> None:
    """The options every preset shares: ValueError for a bad one."""
    if args.examples < 1:
        raise ValueError(f"--examples must be at least 1, got {args.examples}")
    for name in ("timeout", "time_limit"):
        value = getattr(args, name)
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"--{name.replace('_', '-')} must be a positive number of seconds, got {value}")
    if args.jobs < 0:
        raise ValueError(f"--jobs must be 0 (as many as the cores) or more, got {args.jobs}")
    if args.gradescope and not args.report:
        raise ValueError("--gradescope writes into the --report folder: give --report DIR too")


def configure(args) -> tuple[list, str]:
    """The presets to run (one per reg for CS231n) and the description; ValueError for a bad option."""
    if (args.preset is None) == (args.network is None):
        raise ValueError("give --preset (an assignment's convention) or --network (f(params, x, y)), not both or neither")
    _common(args)
    misplaced = _given(args, ["reg"]) if args.preset != "cs231n-two-layer" else []
    misplaced += _given(args, MLP_ONLY) if args.network != "mlp" else []
    misplaced += _given(args, NETWORK_ONLY) if args.network is None else []
    if misplaced:
        where = {"--reg": "--preset cs231n-two-layer", **{f"--{n}": "--network mlp" for n in MLP_ONLY},
                 **{f"--{n}": "--network" for n in NETWORK_ONLY}}
        raise ValueError("; ".join(f"{flag} applies to {where[flag]} only" for flag in misplaced))
    if args.network:
        if args.sizes is None:
            raise ValueError("--network needs --sizes D,H,...,K")
        options = dict(layout=args.layout or "row", reduction=args.reduction or "mean", l2=args.l2 or 0.0)
        if args.network == "mlp":
            hidden = (args.hidden or "sigmoid").split(",")
            options.update(hidden=hidden[0] if len(hidden) == 1 else tuple(hidden), output=args.output or "sigmoid",
                           loss=args.loss or "mse")
        preset = presets.function_preset(args.network, _sizes(args.sizes), **options)
        return [preset], describe(args, preset)
    preset = presets.PRESETS[args.preset]
    if args.sizes:
        sizes = _sizes(args.sizes)
        if len(sizes) != 3 or min(sizes) < 1 or sizes[2] < 2:
            raise ValueError(f"--sizes for {args.preset} is D,H,K with K ≥ 2 classes, got {args.sizes!r}")
        preset = dataclasses.replace(preset, sizes=sizes)
    if args.preset == "cs231n-two-layer":
        if args.reg is not None and not (math.isfinite(args.reg) and args.reg >= 0):
            raise ValueError(f"--reg must be a number ≥ 0, got {args.reg}")
        regs = [args.reg] if args.reg is not None else [0.0, DEFAULT_REG]
        return [presets.at(preset, reg=r) for r in regs], describe(args, preset)
    return [preset], describe(args, preset)


def _options_given(parser, argv) -> dict:
    """{dest: value} of the options in argv as argparse reads them (abbreviations and --name=value too), and the
    target: what a usage error's JSON object can say of the call, without parsing it."""
    given, i = {}, 0
    while i < len(argv):
        arg = argv[i]
        if arg.startswith("--"):
            name, eq, value = arg.partition("=")
            known = [o for o in parser._option_string_actions if o == name] or \
                [o for o in parser._option_string_actions if o.startswith(name)]
            action = parser._option_string_actions[known[0]] if len(known) == 1 else None
            if action is not None and action.nargs != 0 and not eq:
                value, i = (argv[i + 1] if i + 1 < len(argv) else None), i + 1
            if action is not None:
                given[action.dest] = value if action.nargs != 0 else True
        elif not arg.startswith("-") and "target" not in given:
            given["target"] = arg
        i += 1
    return given


def _json_usage_errors(parser, argv) -> None:
    """Under --json, a usage error prints its object on stdout too (verdict ERROR, wrong ["usage: ..."]), before
    argparse's text on stderr and exit status 2: a program reading stdout gets one object for any call that ends."""
    plain = parser.error

    def error(message):
        given = _options_given(parser, argv)
        preset = given.get("preset") or ("function" if given.get("network") else None)
        json.dump({"target": given.get("target"), "preset": preset, "checker": given.get("checker") or
                   parser.get_default("checker"), **verify.Result("ERROR", "", wrong=[f"usage: {message}"]).json()},
                  sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
        sys.stdout.flush()
        plain(message)

    parser.error = error


def main(argv=None) -> int:
    verify.keep_hypothesis_out_of_the_students_folder()
    parser = _parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    if _options_given(parser, argv).get("json"):
        _json_usage_errors(parser, argv)
    args = parser.parse_args(argv)
    try:
        if args.preset == "cs231n-layers":
            return _layers(args)
        preset_list, described = configure(args)
        _checker_runs(args)
        return _run(args, classroom.network_job(preset_list, args, None if _class(args) else described))
    except (TypeError, ValueError) as err:
        parser.error(str(err))


def _checker_runs(args) -> None:
    reason = frameworks.unavailable_reason(args.checker)
    if reason:
        raise ValueError(f"--checker {args.checker}: {reason}")


def _class(args) -> bool:
    """A pattern or --report: class mode, where each file is named by its path."""
    return bool(args.report) or classroom.is_pattern(args.target)


def _run(args, job) -> int:
    """Class mode, or one file: checked in a child process too, so that no student code can hang or end the
    tool itself."""
    if _class(args):
        return classroom.main(args, job)
    path, _, name = args.target.rpartition(":")
    if not path or not name:
        raise ValueError(f"expected FILE.py:NAME, got {args.target!r}")
    result = classroom.one(args, job)
    if result.verdict == "ERROR" and result.wrong and result.wrong[0].startswith("usage: "):
        raise ValueError(result.wrong[0].removeprefix("usage: "))
    emit(result, args)
    return 0 if result.verdict == "PASS" else 1


def _layers(args) -> int:
    """--preset cs231n-layers: a layer function of a CS231n layers.py (frameworks.layer_check), one file or a class."""
    given = _given(args, [*NETWORK_ONLY, *MLP_ONLY, "reg", "sizes"])
    if given:
        raise ValueError(f"{', '.join(given)} do not apply to --preset cs231n-layers")
    _common(args)
    from frameworks.layer_functions import FUNCTIONS

    name = args.target.rpartition(":")[2]
    if name not in FUNCTIONS:
        raise ValueError(f"--preset cs231n-layers checks {', '.join(FUNCTIONS)}; got {name!r}")
    _checker_runs(args)
    return _run(args, classroom.layer_job(args))


def emit(result, args, out=None) -> None:
    out = out or sys.stdout
    if args.json:
        json.dump({"target": args.target, "preset": args.preset or "function", "checker": args.checker, **result.json()},
                  out, ensure_ascii=False)
        out.write("\n")
    else:
        out.write("\n".join(text(result, args.checker)) + "\n")


if __name__ == "__main__":
    sys.exit(main())
