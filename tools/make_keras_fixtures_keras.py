"""The Keras fixtures, written by Keras 3 itself (numpy backend) from the seeded weights and inputs of
test/fixtures/keras/cases.json (made by tools/keras-reference/make_cases.mjs).

For each case this builds the Sequential model with Keras' own layer classes, gives it the case's
weights with `layer.set_weights`, and has Keras
- save it: `model.save("<case>.keras")` and `model.save_weights("<case>.weights.h5")`;
- compute it: `model(input, training=False)`, recorded in keras_outputs.json.
It then reads the .weights.h5 back with h5py and checks that Keras wrote exactly the dataset paths and
values cases.json lists (the layout the h5py-written fixtures used to follow from Keras' source).

Keras is not installable from a registry here; tools/keras_env.sh builds an environment for it:

    PYTHONPATH=<printed by tools/keras_env.sh> KERAS_BACKEND=numpy /usr/bin/python3 tools/make_keras_fixtures_keras.py
"""
import importlib.abc
import importlib.util
import json
import os
import sys
import tempfile
import types

os.environ.setdefault("KERAS_BACKEND", "numpy")
os.environ.setdefault("KERAS_HOME", os.path.join(tempfile.gettempdir(), "keras-home"))


class AbsentJax(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Lets Keras be imported without jax, and proves jax is then never used.

    Keras' numpy backend imports jax at start-up (keras/src/backend/numpy/nn.py for pooling and
    convolutions; numpy/math.py imports the jax backend's fft, and with it the whole jax backend
    package), and jaxlib cannot be built here. Until `arm()`, any `jax...` import gives an empty module
    whose attributes are inert placeholders, so those imports succeed (no jax code exists to run).
    After `arm()`, touching any of them raises: a run that finishes never used jax, so every number
    and file it wrote came from Keras' own numpy-backend code, unchanged."""

    def __init__(self):
        self.armed = False

    def find_spec(self, name, path, target=None):
        if name == "jax" or name.startswith("jax."):
            return importlib.util.spec_from_loader(name, self, is_package=True)
        return None

    def create_module(self, spec):
        return AbsentJax.Module(spec.name, self)

    def exec_module(self, module):
        pass

    def arm(self):
        self.armed = True

    def touched(self, what):
        if self.armed:
            raise RuntimeError("jax is not installed, and Keras used %s" % what)
        return AbsentJax.Placeholder(what, self)

    class Module(types.ModuleType):
        def __init__(self, name, guard):
            super().__init__(name)
            object.__setattr__(self, "_guard", guard)

        def __getattr__(self, name):
            if name.startswith("__"):
                raise AttributeError(name)
            return self._guard.touched("%s.%s" % (self.__name__, name))

    class Placeholder:
        def __init__(self, what, guard):
            self._what, self._guard = what, guard

        def __getattr__(self, name):
            if name.startswith("__"):
                raise AttributeError(name)
            return self._guard.touched("%s.%s" % (self._what, name))

        def __call__(self, *args, **kwargs):
            return self._guard.touched(self._what + "(...)")

        def __getitem__(self, key):
            return self._guard.touched(self._what + "[...]")


absent_jax = AbsentJax()
sys.meta_path.insert(0, absent_jax)

import h5py  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import layers  # noqa: E402

absent_jax.arm()

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "test", "fixtures", "keras")

# The models of make_cases.mjs, written with Keras' API: (input shape without batch, input dtype, layers).
MODELS = {
    "lstm_dense": ((5, 3), "float32", lambda: [layers.LSTM(4, return_sequences=True), layers.Dense(2)]),
    "stacked_lstm": ((4, 2), "float32", lambda: [layers.LSTM(5, return_sequences=True), layers.LSTM(3), layers.Dense(2, activation="tanh")]),
    "gru_reset_after": ((6, 3), "float32", lambda: [layers.GRU(4, return_sequences=True, reset_after=True), layers.Dense(3)]),
    "gru_reset_before": ((6, 3), "float32", lambda: [layers.GRU(4, reset_after=False), layers.Dense(3, activation="softmax")]),
    "simple_rnn_relu": ((5, 2), "float32", lambda: [layers.SimpleRNN(4, activation="relu", return_sequences=True), layers.Dropout(0.5), layers.Dense(1, activation="sigmoid")]),
    "embedding_bidirectional_lstm": ((5,), "int32", lambda: [layers.Embedding(7, 3), layers.Bidirectional(layers.LSTM(4, return_sequences=True)), layers.Dense(7)]),
    "bidirectional_gru_last": ((4, 3), "float32", lambda: [layers.Bidirectional(layers.GRU(3, reset_after=False)), layers.Dense(3)]),
}

SNAKE = {"LSTM": "lstm", "GRU": "gru", "SimpleRNN": "simple_rnn", "Bidirectional": "bidirectional", "Dense": "dense", "Embedding": "embedding", "Dropout": "dropout"}


def array(entry, dtype="float32"):
    return np.asarray(entry["data"], dtype=dtype).reshape(entry["shape"])


def layer_paths(model):
    """Where cases.json puts each layer's variables: saving_lib's names for a Sequential's layers
    (snake-cased class name, `_1`, `_2`, ... for repeats). The h5 read-back below checks them."""
    used = {}
    for layer in model.layers:
        snake = SNAKE[type(layer).__name__]
        used[snake] = used.get(snake, -1) + 1
        yield layer, "layers/" + (snake if used[snake] == 0 else "%s_%d" % (snake, used[snake]))


def build(case):
    shape, dtype, make_layers = MODELS[case["name"]]
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input(shape=shape, dtype=dtype), *make_layers()])
    for layer, path in layer_paths(model):
        # cases.json lists a layer's arrays in Keras' variable order (forward_layer before backward_layer).
        values = [array(v) for k, v in case["weights"].items() if k.startswith(path + "/")]
        layer.set_weights(values)
    return model


def dataset_paths(h5):
    found = {}
    h5.visititems(lambda name, item: found.__setitem__(name, item[()]) if isinstance(item, h5py.Dataset) else None)
    return found


def main():
    if keras.backend.backend() != "numpy":
        sys.exit("run with KERAS_BACKEND=numpy (got %s)" % keras.backend.backend())
    with open(os.path.join(OUT, "cases.json")) as f:
        cases = json.load(f)["cases"]
    outputs = []
    for case in cases:
        model = build(case)
        x = array(case["input"], "int32" if MODELS[case["name"]][1] == "int32" else "float32")
        y = keras.ops.convert_to_numpy(model(x, training=False)).astype(np.float32)
        model.save(os.path.join(OUT, case["name"] + ".keras"))
        weights_path = os.path.join(OUT, case["name"] + ".weights.h5")
        model.save_weights(weights_path)
        with h5py.File(weights_path, "r") as h5:
            written = dataset_paths(h5)
        expected = {k: array(v) for k, v in case["weights"].items()}
        if sorted(written) != sorted(expected):
            sys.exit("%s: Keras wrote datasets %s, cases.json lists %s" % (case["name"], sorted(written), sorted(expected)))
        for k, v in expected.items():
            if not np.array_equal(written[k], v):
                sys.exit("%s: %s differs from cases.json" % (case["name"], k))
        tfjs = array(case["output"])
        print("%s: output %s, max |Keras - TensorFlow.js| %.3g" % (case["name"], list(y.shape), float(np.max(np.abs(y - tfjs)))))
        outputs.append({"name": case["name"], "output": {"shape": list(y.shape), "data": [float(v) for v in y.ravel()]}})
    producer = "tools/make_keras_fixtures_keras.py, Keras %s (backend %s), numpy %s, h5py %s" % (keras.__version__, keras.backend.backend(), np.__version__, h5py.__version__)
    target = os.path.join(OUT, "keras_outputs.json")
    with open(target + ".tmp", "w") as f:
        json.dump({"producer": producer, "cases": outputs}, f)
        f.write("\n")
    os.replace(target + ".tmp", target)
    print("wrote", target, "-", producer)


if __name__ == "__main__":
    main()
