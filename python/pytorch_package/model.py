"""A `recurrent` run's model in PyTorch: the same architecture and the same parameter names
(embedding.weight, rnn.weight_ih_l0, ..., head.weight), so the library's safetensors load unchanged
and the other way round. Written by `recurrent export --pytorch`; model_config.json beside it gives
the sizes.

    model = SequenceModel(json.load(open("model_config.json")))
    load_weights(model, "weights.safetensors")
    logits, state = model(ids)          # ids [seq, batch] (class tasks) or values [seq, batch, features]
"""
import torch
import torch.nn.functional as F
from torch import nn

from safetensors_io import load


class PeepholeLSTM(nn.Module):
    """recurrent's LSTM with `peephole: true` (PyTorch has none): the ONNX equations, where the input
    and forget gates also see c[t-1] through weight_ci and weight_cf, and the output gate sees c[t]
    through weight_co. Parameter names and gate order (i, f, g, o) otherwise as nn.LSTM."""

    def __init__(self, input_size, hidden_size, num_layers=1, dropout=0.0, bidirectional=False):
        super().__init__()
        self.hidden_size, self.num_layers, self.dropout = hidden_size, num_layers, dropout
        self.directions = 2 if bidirectional else 1
        bound = hidden_size ** -0.5
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else hidden_size * self.directions
            for d in range(self.directions):
                suffix = "_l%d%s" % (layer, "_reverse" if d else "")
                shapes = [("weight_ih", (4 * hidden_size, layer_input)), ("weight_hh", (4 * hidden_size, hidden_size)),
                          ("bias_ih", (4 * hidden_size,)), ("bias_hh", (4 * hidden_size,)),
                          ("weight_ci", (hidden_size,)), ("weight_cf", (hidden_size,)), ("weight_co", (hidden_size,))]
                for name, shape in shapes:
                    self.register_parameter(name + suffix, nn.Parameter(torch.empty(shape).uniform_(-bound, bound)))

    def forward(self, x, state=None):
        steps, batch, _ = x.shape
        total = self.num_layers * self.directions
        if state is None:
            zeros = x.new_zeros(total, batch, self.hidden_size)
            state = (zeros, zeros)
        h0, c0 = state
        hs, cs = [], []
        for layer in range(self.num_layers):
            outputs = []
            for d in range(self.directions):
                suffix = "_l%d%s" % (layer, "_reverse" if d else "")
                p = {name: getattr(self, name + suffix) for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_ci", "weight_cf", "weight_co")}
                h, c = h0[layer * self.directions + d], c0[layer * self.directions + d]
                out = [None] * steps
                for t in (range(steps - 1, -1, -1) if d else range(steps)):
                    gates = F.linear(x[t], p["weight_ih"], p["bias_ih"]) + F.linear(h, p["weight_hh"], p["bias_hh"])
                    gi, gf, gg, go = gates.chunk(4, 1)
                    i = torch.sigmoid(gi + p["weight_ci"] * c)
                    f = torch.sigmoid(gf + p["weight_cf"] * c)
                    c = f * c + i * torch.tanh(gg)
                    h = torch.sigmoid(go + p["weight_co"] * c) * torch.tanh(c)
                    out[t] = h
                outputs.append(torch.stack(out))
                hs.append(h)
                cs.append(c)
            x = torch.cat(outputs, 2) if self.directions == 2 else outputs[0]
            if layer < self.num_layers - 1 and self.dropout > 0 and self.training:
                x = F.dropout(x, self.dropout, True)
        return x, (torch.stack(hs), torch.stack(cs))


class SequenceModel(nn.Module):
    """(embedding or one-hot, for class inputs) -> recurrent stack -> dropout -> linear head at every step."""

    def __init__(self, config):
        super().__init__()
        source = config["input"]
        self.classes = source["classes"] if source["kind"] == "classes" else None
        self.embedding = nn.Embedding(source["classes"], source["embedding"]) if self.classes and source["embedding"] > 0 else None
        if source["kind"] == "dense":
            input_size = source["size"]
        else:
            input_size = source["embedding"] if self.embedding is not None else source["classes"]
        hidden, layers, directions = config["hiddenSize"], config["numLayers"], 2 if config["bidirectional"] else 1
        options = dict(num_layers=layers, dropout=config["dropout"], bidirectional=config["bidirectional"])
        cell = config["cell"]
        if cell == "rnn":
            self.rnn = nn.RNN(input_size, hidden, nonlinearity="tanh", **options)
        elif cell == "gru":
            self.rnn = nn.GRU(input_size, hidden, **options)
        elif cell == "lstm":
            self.rnn = nn.LSTM(input_size, hidden, **options)
        elif cell == "peephole":
            self.rnn = PeepholeLSTM(input_size, hidden, **options)
        else:
            raise ValueError("unknown cell %r" % cell)
        self.dropout = config["dropout"]
        self.head = nn.Linear(hidden * directions, config["outputSize"])

    def forward(self, x, state=None):
        if self.embedding is not None:
            x = self.embedding(x)
        elif self.classes is not None:
            x = F.one_hot(x, self.classes).float()
        features, state = self.rnn(x, state)
        return self.head(F.dropout(features, self.dropout, self.training)), state


def load_weights(model, path):
    """Loads a weights file (plain names) or a recurrent checkpoint (names prefixed `model.`);
    returns the checkpoint's step (0 for plain weights)."""
    tensors, metadata = load(path)
    if any(k.startswith("model.") for k in tensors):
        tensors = {k[6:]: v for k, v in tensors.items() if k.startswith("model.")}
    model.load_state_dict(tensors, strict=True)
    return int(metadata.get("step", "0"))
