"""The one Keras fixture Keras cannot write: bad_huge_dataset.weights.h5, a damaged file for the
bad-input test, declaring a 100000 x 100000 float dataset it does not hold (chunked and never written,
so the file stays small).

The other Keras fixtures are written by Keras itself: tools/make_keras_fixtures_keras.py. (Before
real Keras could be run here, this script wrote them with h5py following Keras 3's saving code; the
files Keras writes turned out to hold the same dataset paths and values, which that script checks.)

    /usr/bin/python3 tools/make_keras_fixtures.py
"""
import os

import h5py

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "test", "fixtures", "keras")


def main():
    with h5py.File(os.path.join(OUT, "bad_huge_dataset.weights.h5"), "w") as f:
        f.create_group("layers/dense/vars").attrs["name"] = "dense"
        f.create_dataset("layers/dense/vars/0", shape=(100000, 100000), dtype="float32", chunks=(100, 100))
    print("wrote bad_huge_dataset")


if __name__ == "__main__":
    main()
