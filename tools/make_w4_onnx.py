"""Writes bench/models/w4.onnx: the W4 generation network for ONNX Runtime (node and web) in `npm run bench`.

One step of LSTM(65 one-hot, 512, 2 layers) + Linear(512 -> 65):
  inputs  x [1, 1, 65] (one-hot token), h0 [2, 1, 512], c0 [2, 1, 512]
  outputs logits [1, 65], h [2, 1, 512], c [2, 1, 512]
The bench feeds h and c back in and samples the next token from the logits in JavaScript, the same
sampling code every library uses. Weights are PyTorch's default initialisation with seed 0: speed does
not depend on them. Until the library has its own ONNX export, PyTorch makes the model.

Run with the Debian PyTorch (1.13): /usr/bin/python3 tools/make_w4_onnx.py [output path]
"""
import os
import sys

import torch

VOCAB, HIDDEN, LAYERS = 65, 512, 2


class Step(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = torch.nn.LSTM(VOCAB, HIDDEN, LAYERS)
        self.head = torch.nn.Linear(HIDDEN, VOCAB)

    def forward(self, x, h0, c0):
        out, (h, c) = self.lstm(x, (h0, c0))
        return self.head(out[0]), h, c


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.normpath(os.path.join(here, '..', 'bench', 'models', 'w4.onnx'))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    torch.manual_seed(0)
    model = Step().eval()
    x = torch.zeros(1, 1, VOCAB)
    x[0, 0, 0] = 1
    h0 = torch.zeros(LAYERS, 1, HIDDEN)
    c0 = torch.zeros(LAYERS, 1, HIDDEN)
    with torch.no_grad():
        torch.onnx.export(
            model, (x, h0, c0), path, opset_version=14,
            input_names=['x', 'h0', 'c0'], output_names=['logits', 'h', 'c'],
        )
    print(f'wrote {path} ({os.path.getsize(path) / 1e6:.1f} MB, torch {torch.__version__})')


if __name__ == '__main__':
    main()
