"""Neural-network losses: an MLP with softmax cross-entropy and L2 weight decay, a ReLU MLP
with mean squared error, and the saliency gradient of a class score with respect to the input."""

import numpy as np

from ._spec import case, normal


def mlp_softmax_xent(W1, b1, W2, b2, X, Y, lam):
    H = np.tanh(X @ W1 + b1)
    Z = H @ W2 + b2
    Z = Z - np.max(Z, axis=1, keepdims=True)
    logp = Z - np.log(np.sum(np.exp(Z), axis=1, keepdims=True))
    data = -np.sum(Y * logp) / X.shape[0]
    return data + lam * (np.sum(W1 * W1) + np.sum(W2 * W2))


def relu_mlp_mse(W1, b1, W2, b2, X, T):
    H = np.maximum(X @ W1 + b1, 0.0)
    P = H @ W2 + b2
    return np.mean((P - T) ** 2)


def class_score(x, W1, b1, W2, b2, k):
    h = np.tanh(W1 @ x + b1)
    scores = W2 @ h + b2
    return scores[k] - np.max(scores)


def one_hot(rng):
    labels = rng.integers(0, 2, 8)
    return np.eye(2)[labels]


CASES = [
    case(mlp_softmax_xent, normal(2, 16, scale=0.5), normal(16), normal(16, 2, scale=0.5),
         normal(2), normal(8, 2), one_hot, 1e-3, wrt=(0, 1, 2, 3)),
    case(relu_mlp_mse, normal(3, 5), normal(5), normal(5, 2), normal(2), normal(6, 3),
         normal(6, 2), wrt=(0, 1, 2, 3)),
    case(class_score, normal(6), normal(4, 6), normal(4), normal(3, 4), normal(3), 1,
         id="class_score_saliency"),
]
