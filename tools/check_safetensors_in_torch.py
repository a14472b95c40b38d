#!/usr/bin/python3
"""Check that PyTorch loads a safetensors file written by the recurrent library.

Usage (from the repository root, by hand; never run by CI):
    /usr/bin/python3 tools/check_safetensors_in_torch.py PATH.safetensors [--module M] [--options JSON]

Reads PATH with the hand-written reader in tools/make_fixtures.py, builds the
matching torch module from the file's __metadata__ ("module" and "options", the
same convention as the fixtures: options are a JSON string with camelCase keys),
and runs module.load_state_dict(..., strict=True). Prints "OK" and exits 0, or
prints the error and exits 1. --module / --options override or supply the
metadata for files that carry none.

Modules: RNN, LSTM, GRU (inputSize, hiddenSize, numLayers, bias, batchFirst,
bidirectional, dropout, nonlinearity for RNN, projSize for LSTM), RNNCell, LSTMCell,
GRUCell (inputSize, hiddenSize, bias, nonlinearity for RNNCell), and CharModel
(Embedding -> LSTM -> Linear with keys embed.*, lstm.*, head.*; options vocabSize,
embedSize, hiddenSize, numLayers). PyTorch has no peephole LSTM, so a file with
"peephole": true is reported as not loadable.

If the tensor names start with "param." (as in the test fixtures), only those
tensors are loaded, with the prefix removed; otherwise every tensor is loaded.

Needs Debian's python3-torch (PyTorch 1.13) and /usr/bin/python3.
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixtures import read_safetensors  # noqa: E402

CAMEL_TO_SNAKE = {
    "inputSize": "input_size",
    "hiddenSize": "hidden_size",
    "numLayers": "num_layers",
    "bias": "bias",
    "batchFirst": "batch_first",
    "bidirectional": "bidirectional",
    "dropout": "dropout",
    "nonlinearity": "nonlinearity",
    "projSize": "proj_size",
}

ALLOWED = {
    "RNN": {"input_size", "hidden_size", "num_layers", "bias", "batch_first", "bidirectional", "dropout", "nonlinearity"},
    "LSTM": {"input_size", "hidden_size", "num_layers", "bias", "batch_first", "bidirectional", "dropout", "proj_size"},
    "GRU": {"input_size", "hidden_size", "num_layers", "bias", "batch_first", "bidirectional", "dropout"},
    "RNNCell": {"input_size", "hidden_size", "bias", "nonlinearity"},
    "LSTMCell": {"input_size", "hidden_size", "bias"},
    "GRUCell": {"input_size", "hidden_size", "bias"},
}


def build_module(module, options):
    import torch

    if module == "CharModel":
        from make_fixtures import build_char_model, CHAR_MODEL_OPTIONS

        if options and any(options.get(k, v) != v for k, v in CHAR_MODEL_OPTIONS.items()):
            raise ValueError("CharModel options %r differ from the fixture model %r" % (options, CHAR_MODEL_OPTIONS))
        return build_char_model()
    if module not in ALLOWED:
        raise ValueError("unknown module %r (expected one of %s, CharModel)" % (module, ", ".join(sorted(ALLOWED))))
    if options.get("peephole", False):
        raise ValueError("peephole LSTM has no PyTorch equivalent")
    kwargs = {}
    for k, v in options.items():
        if k == "peephole":
            continue
        snake = CAMEL_TO_SNAKE.get(k)
        if snake is None or snake not in ALLOWED[module]:
            print("warning: option %r ignored for %s" % (k, module), file=sys.stderr)
            continue
        kwargs[snake] = v
    return getattr(torch.nn, module)(**kwargs)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("path")
    ap.add_argument("--module", help="module name, overrides __metadata__.module")
    ap.add_argument("--options", help="camelCase options JSON, overrides __metadata__.options")
    args = ap.parse_args(argv)
    try:
        import torch

        tensors, meta = read_safetensors(args.path)
        module = args.module or meta.get("module")
        if not module:
            raise ValueError("no __metadata__.module in the file; pass --module")
        opt_text = args.options if args.options is not None else meta.get("options", "{}")
        options = json.loads(opt_text)
        if not isinstance(options, dict):
            raise ValueError("options must be a JSON object, got %r" % opt_text)

        if any(k.startswith("param.") for k in tensors):
            tensors = {k[len("param."):]: v for k, v in tensors.items() if k.startswith("param.")}
        for k, v in tensors.items():
            if v.dtype.kind == "f" and v.dtype.itemsize != 4:
                print("warning: %s is %s, PyTorch's float32 module will cast it" % (k, v.dtype), file=sys.stderr)

        m = build_module(module, options)
        sd = {k: torch.from_numpy(v.copy()) for k, v in tensors.items()}
        m.load_state_dict(sd, strict=True)
        # load_state_dict copies; confirm the values arrived unchanged.
        for k, v in m.state_dict().items():
            if not torch.equal(v, sd[k].to(v.dtype)):
                raise ValueError("tensor %s changed when loaded" % k)
    except Exception as e:  # report any failure, with its type
        print("ERROR: %s: %s" % (type(e).__name__, e))
        return 1
    print("OK: %s loads into torch.nn %s (%d tensors)" % (args.path, module, len(sd)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
