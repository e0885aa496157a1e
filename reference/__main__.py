"""python -m reference explain NETWORK [--sizes 3,4,1] [--layout column] [--reduction mean] [mlp options]

Prints the network's forward pass and every gradient formula in matrix form, each factor with
its shape, and the explicit-Jacobian view of each step.

    python -m reference explain sequential --input-shape 3,8,8 \
        --layers "Conv2D(3, 4, 3, padding=1), ReLU(), MaxPool2D(2), Flatten(), Dense(64, 10)"
"""

from __future__ import annotations

import argparse
import sys

from . import LAYERS, NETWORKS, mlp, sequential
from .explain import explain

CLASSES = {cls.__name__: cls for cls in LAYERS.values()}


def _layers(text: str):
    """--layers: layer constructors separated by commas, such as "Dense(4, 3), ReLU()", with the layer classes only."""
    body = text.strip().removesuffix(",")
    try:  # the layer classes and literals, nothing else; a tuple, so that an unclosed "(" is said so
        layers = list(eval(f"({body},)", {"__builtins__": {}}, dict(CLASSES)))
    except SyntaxError as err:  # a typo in the command line: the message names it
        raise argparse.ArgumentTypeError(f"--layers {text!r}: {err.msg}; write the layers as Python calls separated "
                                         f"by commas, like \"Dense(4, 3), ReLU()\"") from None
    except Exception as err:
        raise argparse.ArgumentTypeError(f"--layers {text!r}: {type(err).__name__}: {err}; the layers are "
                                         f"{', '.join(CLASSES)}") from None
    return layers


def _integers(flag: str, like: str):
    def parse(text: str) -> tuple[int, ...]:
        try:
            return tuple(int(part) for part in text.split(","))
        except ValueError:
            raise argparse.ArgumentTypeError(f"{flag} must be integers separated by commas, like {like}; "
                                             f"got {text!r}") from None
    return parse


DENSE_ONLY = ("sizes", "layout", "hidden")  # options of mlp and the named networks, which sequential's layers carry
MLP_ONLY = ("hidden", "output", "loss")  # the named networks fix these


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reference", description=__doc__.split("\n\n")[1])
    sub = parser.add_subparsers(dest="command", required=True)
    ex = sub.add_parser("explain", help="print every formula of a network with its shapes")
    ex.add_argument("network", choices=[*NETWORKS, "mlp", "sequential"])
    ex.add_argument("--sizes", type=_integers("--sizes", "3,4,1"), help="D,H,...,K (default 3,4,1)")
    ex.add_argument("--layout", help="row (default) or column")
    ex.add_argument("--reduction", default="mean", help="mean (default) or sum")
    ex.add_argument("--l2", type=float, default=0.0, help="L2 strength λ (default 0)")
    ex.add_argument("--hidden", help="mlp: hidden activation (default sigmoid), or kinds separated by commas")
    ex.add_argument("--output", default=None, help="mlp (default sigmoid), sequential (default softmax): the output "
                    "activation (softmax, sigmoid, identity, ...)")
    ex.add_argument("--loss", default=None, help="mlp (default mse), sequential (default cross_entropy): mse, "
                    "cross_entropy, binary_cross_entropy or svm")
    ex.add_argument("--layers", type=_layers, help="sequential: the layers, e.g. \"Dense(4, 3), BatchNorm(3), ReLU()\"")
    ex.add_argument("--input-shape", type=_integers("--input-shape", "3,8,8"), help="sequential: one example's shape, "
                    "e.g. 3,8,8")
    args = parser.parse_args(argv)
    given = [f"--{name}" for name in DENSE_ONLY if getattr(args, name) is not None]
    if args.network == "sequential" and given:
        ex.error(f"sequential takes its layers' sizes and options from --layers, not {', '.join(given)}"
                 + (" (a Dense in column layout: Dense(4, 3, layout='column'))" if args.layout is not None else ""))
    if args.network != "sequential" and (args.layers is not None or args.input_shape is not None):
        ex.error(f"--layers and --input-shape are for sequential; {args.network} takes --sizes")
    fixed = [f"--{name}" for name in MLP_ONLY if getattr(args, name) is not None]
    if args.network in NETWORKS and fixed:
        ex.error(f"{args.network} fixes its activations and loss: {', '.join(fixed)} "
                 f"{'is' if len(fixed) == 1 else 'are'} for mlp")
    sizes = (3, 4, 1) if args.sizes is None else args.sizes
    hidden = "sigmoid" if args.hidden is None else args.hidden
    options = dict(layout="row" if args.layout is None else args.layout, reduction=args.reduction, l2=args.l2)
    try:
        if args.network == "sequential":
            if args.layers is None or args.input_shape is None:
                ex.error("sequential takes --layers and --input-shape")
            net = sequential(args.layers, args.input_shape, args.output or "softmax", args.loss or "cross_entropy",
                             args.l2, args.reduction)
        elif args.network == "mlp":
            hidden = hidden.split(",") if "," in hidden else hidden
            net = mlp(*sizes, hidden=hidden, output=args.output or "sigmoid", loss=args.loss or "mse", **options)
        else:
            if len(sizes) != 3:
                ex.error(f"{args.network} takes --sizes D,H,K (three sizes); got {len(sizes)}")
            net = NETWORKS[args.network](*sizes, **options)
    except (TypeError, ValueError) as err:
        ex.error(str(err))
    print(explain(net))
    return 0


if __name__ == "__main__":
    sys.exit(main())
