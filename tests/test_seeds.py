"""The lecture notes' worked examples, to the digits the notes print."""

import numpy as np

import adcompile as ad
from tests.programs.seeds import logistic3, product_graph, sigmoid_neuron, square


def test_product_graph_gradient_and_update():
    value_and_grad = ad.value_and_grad(product_graph, wrt=(0, 1, 2))
    w = np.array([-2.0, 5.0, -4.0])
    value, grads = value_and_grad(*w)
    assert value == -12.0
    assert grads == (-4.0, -4.0, 3.0)
    w = w - 1.0 * np.array(grads)  # one step with learning rate 1
    assert w.tolist() == [2.0, 9.0, -7.0]
    assert value_and_grad(*w)[0] == -77.0


def test_sigmoid_neuron():
    dw = ad.grad(sigmoid_neuron)(np.array([2.0, -3.0, -3.0]), np.array([-1.0, -2.0]))
    assert np.round(dw, 2).tolist() == [-0.20, -0.39, 0.20]


def test_gradient_descent_on_w_squared():
    dL = ad.grad(square)
    for alpha, w0, expected in [(0.25, 2.0, [1.0, 0.5, 0.25, 0.125, 0.0625]),
                                (0.5, 2.0, [0.0, 0.0, 0.0]),
                                (0.5, -2.0, [0.0, 0.0, 0.0])]:
        w, path = w0, []
        for _ in expected:
            w = w - alpha * dL(w)
            path.append(w)
        assert path == expected


def test_logistic_map_closed_form():
    v0 = 0.3
    v1 = 4 * v0 * (1 - v0)
    v2 = 4 * v1 * (1 - v1)
    closed = 4 * (1 - 2 * v0) * 4 * (1 - 2 * v1) * 4 * (1 - 2 * v2)
    for jit in (True, False):
        got = ad.grad(logistic3, jit=jit)(v0)
        assert abs(got - closed) <= 1e-10 * abs(closed)
