"""adcompile: derivatives of plain Python + NumPy functions, written as code and compiled
with Numba.

    import adcompile as ad

    @ad.grad
    def loss(w, x):
        return np.sum(np.tanh(x @ w) ** 2)

    print(ad.source(loss))   # the derivative, as readable Python
"""

from .api import (
    GradFunction,
    derivative,
    grad,
    hessian,
    hvp,
    jvp,
    source,
    value_and_grad,
    vjp,
)
from .errors import GradCallError, InternalCompilerError, StaleDerivativeError, UnsupportedError
from .rules import defjvp, defvjp
from .testing import check_grads

__version__ = "0.1.0"

__all__ = [
    "GradCallError",
    "GradFunction",
    "InternalCompilerError",
    "StaleDerivativeError",
    "UnsupportedError",
    "check_grads",
    "defjvp",
    "defvjp",
    "derivative",
    "grad",
    "hessian",
    "hvp",
    "jvp",
    "source",
    "value_and_grad",
    "vjp",
]
