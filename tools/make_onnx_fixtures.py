"""Writes test/fixtures/onnx-torch/: models exported by PyTorch's torch.onnx.export, with the inputs
fed and the outputs PyTorch computed, for test/onnx-import.test.ts (importOnnx must agree).

For each case NAME: NAME.onnx and NAME.safetensors holding `input.<graph input name>` and
`output.<graph output name>` tensors (float32; token ids int64), metadata naming the producer.
Seeds come from the case name (as in make_fixtures.py), so re-running writes the same values.

Run with Debian's PyTorch (1.13): /usr/bin/python3 tools/make_onnx_fixtures.py
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixtures import seed_for, write_safetensors  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "test", "fixtures", "onnx-torch")
OPSET = 14


class Stateful(torch.nn.Module):
    """A recurrent layer and a linear head; states in and out, as exportOnnx writes them."""

    def __init__(self, rnn, features, outputs):
        super().__init__()
        self.rnn = rnn
        self.head = torch.nn.Linear(features, outputs)

    def forward(self, x, *state):
        if isinstance(self.rnn, torch.nn.LSTM):
            y, (h, c) = self.rnn(x, (state[0], state[1]))
            return self.head(y), h, c
        y, h = self.rnn(x, state[0])
        return self.head(y), h


class TokenModel(torch.nn.Module):
    """Embedding -> GRU (zero initial state made inside the graph) -> Linear -> Softmax."""

    def __init__(self):
        super().__init__()
        self.embedding = torch.nn.Embedding(13, 4)
        self.gru = torch.nn.GRU(4, 6, num_layers=2)
        self.head = torch.nn.Linear(6, 13)

    def forward(self, ids):
        y, h = self.gru(self.embedding(ids))
        return torch.softmax(self.head(y), dim=-1), h


def export(name, model, inputs, input_names, output_names, dynamic_axes=None):
    torch.manual_seed(seed_for(name))
    model = model()
    model.eval()
    feeds = inputs()
    with torch.no_grad():
        outs = model(*feeds)
    path = os.path.join(OUT, name + ".onnx")
    torch.onnx.export(model, tuple(feeds), path, opset_version=OPSET, input_names=input_names,
                      output_names=output_names, dynamic_axes=dynamic_axes)
    tensors = {}
    for n, t in zip(input_names, feeds):
        tensors["input." + n] = t.numpy()
    for n, t in zip(output_names, outs):
        tensors["output." + n] = t.numpy()
    write_safetensors(os.path.join(OUT, name + ".safetensors"), tensors,
                      {"producer": "tools/make_onnx_fixtures.py, PyTorch %s, opset %d" % (torch.__version__, OPSET)})
    print("wrote", path)


def main():
    os.makedirs(OUT, exist_ok=True)
    seq, batch = 5, 3
    export("lstm_2layer_bidirectional",
           lambda: Stateful(torch.nn.LSTM(3, 5, num_layers=2, bidirectional=True), 10, 2),
           lambda: [torch.randn(seq, batch, 3), torch.randn(4, batch, 5), torch.randn(4, batch, 5)],
           ["x", "h0", "c0"], ["y", "hn", "cn"])
    export("gru_batch_first",
           lambda: Stateful(torch.nn.GRU(4, 6, batch_first=True), 6, 3),
           lambda: [torch.randn(batch, seq, 4), torch.randn(1, batch, 6)],
           ["x", "h0"], ["y", "hn"], {"x": {0: "batch", 1: "seq"}, "h0": {1: "batch"}})
    export("rnn_relu_2layer",
           lambda: Stateful(torch.nn.RNN(3, 4, num_layers=2, nonlinearity="relu"), 4, 2),
           lambda: [torch.randn(seq, batch, 3), torch.randn(2, batch, 4)],
           ["x", "h0"], ["y", "hn"])
    export("gru_2layer_bidirectional_batch_first",
           lambda: Stateful(torch.nn.GRU(3, 4, num_layers=2, bidirectional=True, batch_first=True), 8, 2),
           lambda: [torch.randn(batch, seq, 3), torch.randn(4, batch, 4)],
           ["x", "h0"], ["y", "hn"])
    export("rnn_tanh_bidirectional",
           lambda: Stateful(torch.nn.RNN(3, 4, bidirectional=True), 8, 2),
           lambda: [torch.randn(seq, batch, 3), torch.randn(2, batch, 4)],
           ["x", "h0"], ["y", "hn"])
    export("embedding_gru_softmax", TokenModel,
           lambda: [torch.randint(0, 13, (seq, batch))],
           ["ids"], ["probs", "hn"], {"ids": {0: "seq", 1: "batch"}})


if __name__ == "__main__":
    main()
