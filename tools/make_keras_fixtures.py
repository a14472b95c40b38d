"""The Keras fixtures Keras cannot write, damaged files for the bad-input test:
- bad_huge_dataset.weights.h5 declares a 100000 x 100000 float dataset it does not hold (chunked and
  never written, so the file stays small);
- bad_missing_<what>.weights.h5 are copies of Keras' lstm_dense.weights.h5 with one dataset deleted:
  the LSTM's bias (vars/2), the Dense's bias (vars/1), the LSTM's kernel (vars/0).

The other Keras fixtures are written by Keras itself: tools/make_keras_fixtures_keras.py. (Before
real Keras could be run here, this script wrote them with h5py following Keras 3's saving code; the
files Keras writes turned out to hold the same dataset paths and values, which that script checks.)

    /usr/bin/python3 tools/make_keras_fixtures.py
"""
import os
import shutil

import h5py

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "test", "fixtures", "keras")


def main():
    with h5py.File(os.path.join(OUT, "bad_huge_dataset.weights.h5"), "w") as f:
        f.create_group("layers/dense/vars").attrs["name"] = "dense"
        f.create_dataset("layers/dense/vars/0", shape=(100000, 100000), dtype="float32", chunks=(100, 100))
    print("wrote bad_huge_dataset")
    missing = {
        "lstm_bias": "layers/lstm/cell/vars/2",
        "dense_bias": "layers/dense/vars/1",
        "lstm_kernel": "layers/lstm/cell/vars/0",
    }
    for what, path in missing.items():
        out = os.path.join(OUT, f"bad_missing_{what}.weights.h5")
        shutil.copyfile(os.path.join(OUT, "lstm_dense.weights.h5"), out)
        with h5py.File(out, "a") as f:
            del f[path]
        print(f"wrote bad_missing_{what} (without {path})")


if __name__ == "__main__":
    main()
