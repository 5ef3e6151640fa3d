"""gradcheck: one implementation's gradients against its own value, at any size.

    result = gradcheck(loss_and_grads, (v_c, o, U), wrt=(0, 2))
    assert result, result.message

``fn(*args)`` returns ``(value, grad for args[wrt[0]], grad for args[wrt[1]], ...)``
(as torch's gradcheck users write a function and its backward). No spec, no sympy:
the numeric check alone, sized for word2vec (U of 50,000 × 300).

Modules, one concept each:

* `api`: ``gradcheck`` itself, sending each form of check where it is made;
* `scalar`: the scalar check every form is reduced to: its arguments, checked, and the call;
* `results`: what it returns or raises (`GradcheckResult`, `WrongEntry`, `GradcheckError`);
* `calls`: calling ``fn`` safely (read-only arguments, determinism) and in complex arithmetic;
* `directions`: random directions and the claimed side Σ gradᵀu;
* `estimators`: complex step and central differences, the rounding bound, confirmation;
* `modes`: directional and per-entry checks;
* `search`: locating the wrong entry of a failed direction;
* `layers`: a layer's forward and backward (``backward=``), a vjp (``vjp=``) and an hvp (``hvp=``),
  each reduced to the scalar check with a drawn cotangent;
* `workspace`: the buffers a caller keeps between calls (``workspace=``);
* `jacobian`: ``fn -> (y, J)`` (``jacobian=True``) and a jvp (``jvp=``), by random projections.
"""

from .api import gradcheck
from .results import GradcheckError, GradcheckResult, WrongEntry
from .workspace import Workspace

__all__ = ["GradcheckError", "GradcheckResult", "Workspace", "WrongEntry", "gradcheck"]
