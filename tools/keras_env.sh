#!/usr/bin/env bash
# Builds a scratch Python environment in which real Keras 3 runs with its numpy backend on Debian
# bookworm's Python 3.11 and numpy 1.24, for tools/make_keras_fixtures_keras.py. Nothing here is
# needed by the tests or CI; the fixtures it leads to are committed.
#
#   tools/keras_env.sh KERAS_GIT OPTREE_GIT ML_DTYPES_GIT EIGEN_GIT [TARGET]
#
# The four arguments are git directories (clones or bare mirrors) of keras-team/keras,
# metaopt/optree, jax-ml/ml_dtypes and Eigen (any clone holding the commit ml_dtypes pins);
# TARGET defaults to /work/keras-env. It prints the PYTHONPATH
# to use. PyPI is not reachable here, so the packages are built from their release tags:
#
# - keras v3.15.1: pure Python, used from its source tree unchanged (keras/api is committed there).
# - optree v0.11.0: C++ with pybind11 (Debian's 2.10) built by its own setup.py through CMake.
# - ml_dtypes v0.3.2: C++ extension built by its own setup.py against Debian's numpy 1.24 headers and
#   the Eigen commit its third_party/eigen submodule pins (Debian's Eigen 3.4.0 lacks
#   numext::get_integer_by_size, which ml_dtypes' float8.h uses).
# - namex is not installed: Keras only uses it to generate its API files and imports it inside
#   try/except (keras/src/api_export.py).
# - jax is not installed (jaxlib cannot be built here), though Keras' numpy backend imports it at
#   start-up: tools/make_keras_fixtures_keras.py lets those imports succeed and then shows that nothing
#   uses jax (see its AbsentJax).
set -euo pipefail

if [ $# -lt 4 ]; then
  echo "usage: $0 KERAS_GIT OPTREE_GIT ML_DTYPES_GIT EIGEN_GIT [TARGET]" >&2
  exit 2
fi
KERAS_GIT=$1 OPTREE_GIT=$2 ML_DTYPES_GIT=$3 EIGEN_GIT=$4 TARGET=${5:-/work/keras-env}
PYTHON=/usr/bin/python3

apt-get install -y python3-rich python3-absl python3-h5py python3-packaging python3-scipy \
  python3-typing-extensions python3-pybind11 pybind11-dev python3-dev g++ cmake >/dev/null

mkdir -p "$TARGET/src"
unpack() { # git-dir tag directory
  rm -rf "$TARGET/src/$3" && mkdir -p "$TARGET/src/$3"
  git -C "$1" archive "$2" | tar -x -C "$TARGET/src/$3"
}
unpack "$KERAS_GIT" v3.15.1 keras
unpack "$OPTREE_GIT" v0.11.0 optree
unpack "$ML_DTYPES_GIT" v0.3.2 ml_dtypes

(cd "$TARGET/src/optree" && CMAKE_BUILD_PARALLEL_LEVEL=2 "$PYTHON" setup.py build_ext --inplace >build.log 2>&1)
EIGEN_COMMIT=$(git -C "$ML_DTYPES_GIT" ls-tree v0.3.2 third_party/eigen | awk '{print $3}')
rm -rf "$TARGET/src/ml_dtypes/third_party/eigen" && mkdir -p "$TARGET/src/ml_dtypes/third_party/eigen"
git -C "$EIGEN_GIT" archive "$EIGEN_COMMIT" Eigen | tar -x -C "$TARGET/src/ml_dtypes/third_party/eigen"
(cd "$TARGET/src/ml_dtypes" && "$PYTHON" setup.py build_ext --inplace >build.log 2>&1)

echo "PYTHONPATH=$TARGET/src/keras:$TARGET/src/optree:$TARGET/src/ml_dtypes"
