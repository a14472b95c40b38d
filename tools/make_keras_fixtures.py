"""Step 2 of the Keras fixtures (step 1, tools/keras-reference/make_cases.mjs, computes the weights,
inputs and TensorFlow.js reference outputs into test/fixtures/keras/cases.json).

Keras and TensorFlow are not installable on this machine (no PyPI; Debian has no ml_dtypes, optree or
namex, which Keras 3 imports), so this script writes the files Keras 3 would write, with h5py,
following Keras 3's saving code as read in keras-team/keras at commit
3422977a5e38fb2f7709aaa9a08e47f0c43d0f60, keras/src/saving/saving_lib.py:

- `_save_state` / `_save_container_state`: a Sequential's layers are saved under `layers/<name>`, the
  name being the snake-cased class name made unique with `_1`, `_2`, ... (`_get_unique_name`); an RNN
  layer's cell under `layers/<name>/cell`, a Bidirectional's two layers under `forward_layer` and
  `backward_layer`.
- `H5IOStore.make` / `_create_h5_group`: each object with a name gets a `<path>/vars` group (even an
  empty one) whose `name` attribute is the object's name; `Layer.save_own_variables` stores the
  variables as datasets `0`, `1`, ... in creation order (kernel, recurrent_kernel, bias; kernel, bias;
  embeddings).
- `.keras` files are zips holding metadata.json, config.json and model.weights.h5
  (`_save_model_to_fileobj`).

    /usr/bin/python3 tools/make_keras_fixtures.py
"""
import io
import json
import os
import zipfile

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "test", "fixtures", "keras")
# Fixed so that re-running writes the same zips.
ZIP_DATE = (2026, 1, 1, 0, 0, 0)


def object_names(case):
    """The `name` attribute of each vars group: the layer names from the config, the cells' as Keras
    names them (`<class>_cell`, snake-cased)."""
    names = {"": "sequential"}
    layers = [l for l in case["config"]["config"]["layers"] if l["class_name"] != "InputLayer"]
    used = {}
    for layer in layers:
        snake = {"LSTM": "lstm", "GRU": "gru", "SimpleRNN": "simple_rnn", "Bidirectional": "bidirectional", "Dense": "dense", "Embedding": "embedding", "Dropout": "dropout"}[layer["class_name"]]
        if snake in used:
            used[snake] += 1
            path = "layers/%s_%d" % (snake, used[snake])
        else:
            used[snake] = 0
            path = "layers/" + snake
        names[path] = layer["config"]["name"]
        if layer["class_name"] == "Bidirectional":
            for side, key in (("forward_layer", "layer"), ("backward_layer", "backward_layer")):
                inner = layer["config"][key]
                names[path + "/" + side] = inner["config"]["name"]
                names[path + "/" + side + "/cell"] = inner["class_name"].lower().replace("simplernn", "simple_rnn") + "_cell"
        elif layer["class_name"] in ("LSTM", "GRU", "SimpleRNN"):
            names[path + "/cell"] = snake + "_cell"
    return names


def write_weights(case, target):
    with h5py.File(target, "w") as f:
        for path, name in object_names(case).items():
            group = f.create_group(path + "/vars" if path else "vars")
            group.attrs["name"] = name
        for path, array in case["weights"].items():
            f[path] = np.asarray(array["data"], dtype=np.float32).reshape(array["shape"])


def main():
    with open(os.path.join(OUT, "cases.json")) as f:
        cases = json.load(f)["cases"]
    for case in cases:
        weights_path = os.path.join(OUT, case["name"] + ".weights.h5")
        write_weights(case, weights_path)
        buffer = io.BytesIO()
        write_weights(case, buffer)
        with zipfile.ZipFile(os.path.join(OUT, case["name"] + ".keras"), "w") as zf:
            for name, data in (
                ("metadata.json", json.dumps({"keras_version": "3.11.0", "date_saved": "2026-01-01@00:00:00"})),
                ("config.json", json.dumps(case["config"])),
                ("model.weights.h5", buffer.getvalue()),
            ):
                zf.writestr(zipfile.ZipInfo(name, ZIP_DATE), data)
        # Read back: every dataset the case lists, bit for bit.
        with h5py.File(weights_path, "r") as f:
            for path, array in case["weights"].items():
                assert np.array_equal(f[path][()], np.asarray(array["data"], dtype=np.float32).reshape(array["shape"])), path
        print("wrote", case["name"])
    # A damaged file for the bad-input test: a dataset declaring 100000 x 100000 floats, chunked and
    # never written, so the file stays small.
    with h5py.File(os.path.join(OUT, "bad_huge_dataset.weights.h5"), "w") as f:
        f.create_group("layers/dense/vars").attrs["name"] = "dense"
        f.create_dataset("layers/dense/vars/0", shape=(100000, 100000), dtype="float32", chunks=(100, 100))
    print("wrote bad_huge_dataset")


if __name__ == "__main__":
    main()
