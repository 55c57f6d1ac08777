"""Item 5: one fitted model serves predict_proba from many threads at once."""

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from imbestimators import NeuralClassifier

N_THREADS = 8


def test_predict_proba_from_8_threads_equals_sequential():
    rng = np.random.RandomState(0)
    X = rng.randn(3000, 5)  # several prediction blocks per call
    y = np.digitize(X[:, 0] + 0.5 * rng.randn(3000), [-0.5, 0.5])
    # Dropout makes train/eval mode matter: a thread seeing training mode
    # would return random probabilities.
    clf = NeuralClassifier(hidden_layer_sizes=(16,), dropout=0.5, max_epochs=2,
                           random_state=0).fit(X, y)
    # Different inputs per thread, so mixing up results between threads shows.
    inputs = [X[i * 300:(i + 1) * 300 + 1500] for i in range(N_THREADS)]
    sequential = [clf.predict_proba(Xi) for Xi in inputs]

    start = threading.Barrier(N_THREADS)

    def predict(Xi):
        start.wait()
        return [clf.predict_proba(Xi) for _ in range(3)]

    with ThreadPoolExecutor(N_THREADS) as pool:
        concurrent = list(pool.map(predict, inputs))
    for expected, results in zip(sequential, concurrent):
        for result in results:
            np.testing.assert_array_equal(result, expected)
