"""The lecture notes' worked examples."""

import numpy as np

from ._spec import case


def product_graph(w1, w2, w3):
    z = w1 + w2
    return w3 * z


def sigmoid_neuron(w, x):
    z = w[0] * x[0] + w[1] * x[1] + w[2]
    return 1.0 / (1.0 + np.exp(-z))


def square(w):
    return w ** 2


def logistic3(v):
    v = 4.0 * v * (1.0 - v)
    v = 4.0 * v * (1.0 - v)
    v = 4.0 * v * (1.0 - v)
    return v


CASES = [
    case(product_graph, -2.0, 5.0, -4.0, wrt=(0, 1, 2)),
    case(sigmoid_neuron, lambda rng: np.array([2.0, -3.0, -3.0]),
         lambda rng: np.array([-1.0, -2.0])),
    case(square, 2.0),
    case(logistic3, 0.3, id="logistic_unrolled"),
]
