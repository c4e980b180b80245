"""Second derivatives: Hessian-vector products and Hessians against finite differences of
gradients and against autograd; grad of grad against the derivative of the gradient; vjp."""

import autograd
import numpy as np
import pytest

import adcompile as ad
from tests.oracles import with_autograd_numpy
from tests.programs.mlp import mlp_softmax_xent


def tiny_mlp(W1, b1, W2, b2, X, Y):
    H = np.tanh(X @ W1 + b1)
    P = H @ W2 + b2
    return np.mean((P - Y) ** 2) + 1e-3 * np.sum(W1 * W1)


def mlp_args(seed=0):
    rng = np.random.default_rng(seed)
    shapes = [(2, 16), (16,), (16, 2), (2,), (32, 2), (32, 2)]
    return [0.5 * rng.standard_normal(s) for s in shapes]


@pytest.mark.parametrize("jit", [False, True])
def test_hvp_matches_finite_differences_of_gradients(jit):
    args = mlp_args()
    v = np.random.default_rng(1).standard_normal(args[0].shape)
    Hv = ad.hvp(tiny_mlp, wrt="W1", jit=jit)(*args, v)
    g = ad.grad(tiny_mlp, wrt="W1")
    h = 1e-5
    plus, minus = list(args), list(args)
    plus[0], minus[0] = args[0] + h * v, args[0] - h * v
    fd = (g(*plus) - g(*minus)) / (2 * h)
    np.testing.assert_allclose(Hv, fd, rtol=1e-5, atol=1e-7)


def test_hvp_of_softmax_cross_entropy_against_autograd():
    rng = np.random.default_rng(2)
    args = [0.5 * rng.standard_normal((2, 16)), rng.standard_normal(16),
            0.5 * rng.standard_normal((16, 2)), rng.standard_normal(2),
            rng.standard_normal((8, 2)), np.eye(2)[rng.integers(0, 2, 8)], 1e-3]
    v = rng.standard_normal((16, 2))
    Hv = ad.hvp(mlp_softmax_xent, wrt="W2", jit=False)(*args, v)
    f = with_autograd_numpy(mlp_softmax_xent)
    ref = autograd.grad(lambda W2: np.sum(autograd.grad(f, 2)(*args[:2], W2, *args[3:]) * v))(
        args[2])
    np.testing.assert_allclose(Hv, ref, rtol=1e-9, atol=1e-11)


def cubic(w, a):
    return np.sum(a * w ** 3) + w[0] * w[1] * np.sin(w[2])


def test_hessian_against_autograd():
    w, a = np.array([0.5, -1.0, 2.0]), np.array([1.0, 2.0, 3.0])
    H = ad.hessian(cubic)(w, a)
    ref = autograd.hessian(with_autograd_numpy(cubic))(w, a)
    np.testing.assert_allclose(H, ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(H, H.T)


def scalar_f(x):
    y = x
    for _ in range(3):
        y = np.sin(y) * x + y * y * 0.1
    return y


@pytest.mark.parametrize("jit", [False, True])
def test_grad_of_grad_agrees_with_derivative_of_grad(jit):
    g = ad.grad(scalar_f)
    both = ad.grad(g, jit=jit)(0.7), ad.derivative(g, jit=jit)(0.7)
    h = 1e-5
    fd = (g(0.7 + h) - g(0.7 - h)) / (2 * h)
    assert both[0] == pytest.approx(both[1], rel=1e-12)
    assert both[0] == pytest.approx(fd, rel=1e-6)


def layer(W, x):
    return np.tanh(W @ x)


def test_vjp_of_an_array_output():
    rng = np.random.default_rng(3)
    W, x, ct = rng.standard_normal((4, 3)), rng.standard_normal(3), rng.standard_normal(4)
    original = ct.copy()
    for jit in (False, True):
        value, (dW, dx) = ad.vjp(layer, wrt=(0, 1), jit=jit)(W, x, ct)
        np.testing.assert_allclose(value, layer(W, x))
        ref = autograd.grad(lambda W, x: np.sum(with_autograd_numpy(layer)(W, x) * ct),
                            (0, 1))(W, x)
        np.testing.assert_allclose(dW, ref[0], rtol=1e-12)
        np.testing.assert_allclose(dx, ref[1], rtol=1e-12)
    np.testing.assert_array_equal(ct, original)  # the caller's cotangent is left as it was


def test_hvp_on_the_whole_corpus():
    """Every program of the corpus (branches, loops, writes, calls), uncompiled, against
    finite differences of its gradient."""
    from tests.oracles import param_indices
    from tests.test_programs import CASES

    for case in CASES:
        args = case.make_args()
        wrt = case.wrt if isinstance(case.wrt, tuple) else (case.wrt,)
        idx = param_indices(case.fun, wrt)
        rng = np.random.default_rng(3)
        vs = [rng.standard_normal(np.shape(args[k])) if np.ndim(args[k])
              else float(rng.standard_normal()) for k in idx]
        hv = ad.hvp(case.fun, wrt=wrt, jit=False)(*args, *vs)
        g = ad.grad(case.fun, wrt=wrt, jit=False)
        h = 1e-5
        plus, minus = list(args), list(args)
        for k, v in zip(idx, vs):
            plus[k], minus[k] = args[k] + h * v, args[k] - h * v
        for got, a, b in zip(hv, g(*plus), g(*minus)):
            fd = (np.asarray(a) - np.asarray(b)) / (2 * h)
            np.testing.assert_allclose(got, fd, rtol=1e-4, atol=1e-5 * max(1.0, np.max(
                np.abs(fd))), err_msg=case.id)


def _reverse_over_reverse(case, jit):
    """H v as the vjp of the generated gradient (reverse mode applied to its own output)."""
    from tests.oracles import param_indices

    args = case.make_args()
    wrt = case.wrt[0] if isinstance(case.wrt, tuple) else case.wrt
    k = param_indices(case.fun, (wrt,))[0]
    rng = np.random.default_rng(3)
    v = rng.standard_normal(np.shape(args[k])) if np.ndim(args[k]) else float(rng.standard_normal())
    g = ad.grad(case.fun, wrt=wrt, jit=jit)
    v_before = np.copy(v)
    _, hv = ad.vjp(g, wrt=wrt, jit=jit)(*args, v)
    np.testing.assert_array_equal(v, v_before)  # the cotangent is the caller's: left alone
    return args, wrt, k, v, hv


def _corpus():
    from tests.test_programs import CASES

    return CASES


@pytest.mark.parametrize("case", _corpus(), ids=[c.id for c in _corpus()])
def test_reverse_over_reverse_on_the_whole_corpus(case):
    """The generated gradient is itself in the language: its vjp (while loops, branches,
    array writes, tapes of saved values and all) agrees with hvp and with finite differences
    of the gradient."""
    args, wrt, k, v, hv = _reverse_over_reverse(case, jit=False)
    np.testing.assert_allclose(hv, ad.hvp(case.fun, wrt=wrt, jit=False)(*args, v),
                               rtol=1e-8, atol=1e-10, err_msg=case.id)
    g = ad.grad(case.fun, wrt=wrt, jit=False)
    h = 1e-5
    plus, minus = list(args), list(args)
    plus[k], minus[k] = args[k] + h * v, args[k] - h * v
    fd = (np.asarray(g(*plus)) - np.asarray(g(*minus))) / (2 * h)
    np.testing.assert_allclose(hv, fd, rtol=1e-4, atol=1e-5 * max(1.0, np.max(np.abs(fd))),
                               err_msg=case.id)


@pytest.mark.parametrize("case_id", ["while_halving", "loop_with_branch", "fill_sequence",
                                     "rnn_states", "break_taken", "nested_branches"])
def test_reverse_over_reverse_compiled(case_id):
    case = next(c for c in _corpus() if c.id == case_id)
    args, wrt, _, v, hv = _reverse_over_reverse(case, jit=True)
    np.testing.assert_allclose(hv, ad.hvp(case.fun, wrt=wrt, jit=False)(*args, v),
                               rtol=1e-8, atol=1e-10)


def test_grad_of_grad_of_a_while_loop():
    """The seeds' logistic map run until it leaves an interval: a `while` loop, whose
    derivative keeps its saved values on lists, differentiated twice."""
    def escape(x):
        k = 0
        while x < 10.0 and k < 50:
            x = x * 1.5 + np.sin(x)
            k += 1
        return x

    for jit in (False, True):
        g = ad.grad(escape, jit=jit)
        second = ad.grad(g, jit=jit)(0.7)
        assert second == pytest.approx(ad.derivative(g, jit=jit)(0.7), rel=1e-12)
        assert second == pytest.approx((g(0.7 + 1e-5) - g(0.7 - 1e-5)) / 2e-5, rel=1e-6)
