"""``gradverify new NAME [--dir DIR] [--framework numpy|torch|jax]``: write a commented derivation file that passes as generated.

The file has every part a derivation needs (the function, one claim, the implementation,
an assumption, the sizes), each with a comment saying what to change; it is checked by
`tests/test_scaffold.py` so that it keeps passing.
"""

from __future__ import annotations

import argparse
import re
import shlex
import sys
from pathlib import Path

from .errors import InvalidArgument

__all__ = ["TEMPLATE", "add_command", "new", "run"]

TEMPLATE = '''"""{name}: a derivation checked by gradverify (written by `gradverify new {name}`).

Change the function, the claim and the implementation to yours; keep each part's shape.
Run:  python -m gradverify report --derivations {path} --no-write
"""

{imports}

from gradverify import Claim, Derivation, Implementation, Real


# ---- the code ({framework}): returns the value and the gradient you derived by hand ----------
def loss_and_grad(W, x, t):
    r = W @ x - t                       # residual, shape (m,)
    return 0.5 * r @ r, {outer}(r, x)  # J = ½‖W x − t‖², ∂J/∂W = r xᵀ


derivation = Derivation(
    id="{id}",                          # how the report names it (--only {id})
    title="{name}: ½‖W x − t‖², ∂J/∂W",
    citation="my notes",                # where the derivation comes from
    dims={{"m": (1, 4), "n": (1, 4)}},    # each size is drawn in this range
    # the spec's variables: sympy column vectors and matrices of these sizes
    variables={{"W": Real("m", "n"), "x": Real("n"), "t": Real("m")}},
    # ---- the math (sympy): the function, written with the spec's variables ------------
    function=lambda s: ((s.W * s.x - s.t).T * (s.W * s.x - s.t))[0, 0] / 2,
    claims=[
        # the claimed derivative, as sympy; `as_written` is how your notes write it
        Claim("∂J/∂W", lambda s: (s.W * s.x - s.t) * s.x.T, output="grad_W", wrt="W",
              as_written="(W x − t) xᵀ"),
    ],
    # which outputs of the code are the value and each claim{framework_note}
    implementation=Implementation(loss_and_grad, args=("W", "x", "t"), returns=("J", "grad_W")),
    # inputs are drawn within the assumptions, e.g. OneHot("y is one-hot", var="y", at="o"),
    # Distinct(...), Excludes(...); mark source="implicit" the ones your source leaves unstated
    assumptions=[],
    # the domain: real inputs are drawn in [-1, 1] times each of these scales
    scales=(1e-3, 1.0, 10.0),
)
'''


def _identifier(name: str) -> str:
    stem = re.sub(r"\W+", "_", name.strip().lower()).strip("_")
    if not stem or stem.startswith("_"):
        raise InvalidArgument("a name with a letter or digit, e.g. least_squares", f"NAME {name!r}")
    return stem


#: what differs in the template for each library the code may be written in
_CODE = {
    "numpy": {"imports": "import numpy as np", "outer": "np.outer", "framework_note": ""},
    "torch": {"imports": "import torch", "outer": "torch.outer",
              "framework_note": " (the code gets float64 torch tensors: the\n    # framework is read from its code, or say Implementation(..., framework=\"torch\"))"},
    "jax": {"imports": "import jax.numpy as jnp", "outer": "jnp.outer",
            "framework_note": " (the code gets float64 jax arrays: the\n    # framework is read from its code, or say Implementation(..., framework=\"jax\"))"},
}


def new(name: str, folder: Path = Path("derivations"), framework: str = "numpy") -> Path:
    """Write ``folder/NAME.py`` with its code in ``framework`` (numpy, torch or jax); refuse to
    overwrite a file that exists."""
    if framework not in _CODE:
        raise InvalidArgument(f"--framework {', '.join(_CODE)}", f"--framework {framework!r}")
    stem = _identifier(name)
    path = Path(folder) / f"{stem}.py"
    if path.exists():
        raise InvalidArgument(f"a new file for {name}", f"{path} (it exists)", "Pick another NAME or --dir.")
    path.parent.mkdir(parents=True, exist_ok=True)
    text = TEMPLATE.format(name=stem, id=stem.replace("_", "-"), path=path.as_posix(), framework=framework, **_CODE[framework])
    with open(path, "x", encoding="utf-8") as handle:  # "x": never overwrite, even in a race
        handle.write(text)
    return path


def add_command(subparsers) -> argparse.ArgumentParser:
    """``gradverify new NAME [--dir DIR] [--framework F]`` on the CLI's subparsers; dispatch with `run(args)`."""
    p = subparsers.add_parser("new", help="write a commented derivation file to start from")
    p.add_argument("name", metavar="NAME", help="the derivation's name (its file is NAME.py)")
    p.add_argument("--dir", type=Path, default=Path("derivations"), help="folder for the file (default derivations)")
    p.add_argument("--framework", choices=tuple(_CODE), default="numpy",
                   help="the library the code is written in (default numpy; torch and jax are optional extras)")
    return p


def run(args, out=None) -> int:
    path = new(args.name, args.dir, args.framework)
    out = out or sys.stdout
    print(f"wrote {path}", file=out)
    # --no-write: the report of this one file must not replace a committed reports/ (the seed's, here)
    print(f"next: {shlex.join(['python', '-m', 'gradverify', 'report', '--derivations', path.as_posix(), '--no-write'])}",
          file=out)
    return 0
