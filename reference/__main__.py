"""python -m reference explain NETWORK [--sizes 3,4,1] [--layout column] [--reduction mean] [mlp options]

Prints the network's forward pass and every gradient formula in matrix form, each factor with
its shape, and the explicit-Jacobian view of each step.
"""

from __future__ import annotations

import argparse
import sys

from . import NETWORKS, mlp
from .explain import explain


def _sizes(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--sizes must be integers separated by commas, like 3,4,1; got {text!r}") from None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reference", description=__doc__.split("\n\n")[1])
    sub = parser.add_subparsers(dest="command", required=True)
    ex = sub.add_parser("explain", help="print every formula of a network with its shapes")
    ex.add_argument("network", choices=[*NETWORKS, "mlp"])
    ex.add_argument("--sizes", type=_sizes, default=(3, 4, 1), help="D,H,...,K (default 3,4,1)")
    ex.add_argument("--layout", default="row", help="row (default) or column")
    ex.add_argument("--reduction", default="mean", help="mean (default) or sum")
    ex.add_argument("--l2", type=float, default=0.0, help="L2 strength λ (default 0)")
    ex.add_argument("--hidden", default="sigmoid", help="mlp: hidden activation, or kinds separated by commas")
    ex.add_argument("--output", default="sigmoid", help="mlp: output activation (softmax, sigmoid, identity, ...)")
    ex.add_argument("--loss", default="mse", help="mlp: mse, cross_entropy or binary_cross_entropy")
    args = parser.parse_args(argv)
    options = dict(layout=args.layout, reduction=args.reduction, l2=args.l2)
    try:
        if args.network == "mlp":
            hidden = args.hidden.split(",") if "," in args.hidden else args.hidden
            net = mlp(*args.sizes, hidden=hidden, output=args.output, loss=args.loss, **options)
        else:
            if len(args.sizes) != 3:
                parser.error(f"{args.network} takes --sizes D,H,K (three sizes); got {len(args.sizes)}")
            net = NETWORKS[args.network](*args.sizes, **options)
    except (TypeError, ValueError) as err:
        parser.error(str(err))
    print(explain(net))
    return 0


if __name__ == "__main__":
    sys.exit(main())
