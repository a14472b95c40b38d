#!/usr/bin/python3
"""PyTorch reference fixtures for the recurrent test suite.

What it produces
    Small safetensors files in test/fixtures/ (see test/fixtures/README.md for the
    key conventions of each file):
      * one file per packed (variable-length) layer case: a padded batch, its lengths,
        PyTorch's packed output data, padded output, final states and every gradient;
      * one file per recurrent layer case (RNN / LSTM / GRU, several options) and per
        cell case (RNNCell / LSTMCell / GRUCell): parameters, inputs, initial states,
        output cotangents, expected outputs and final states, and the gradients of
        the inputs, initial states and every parameter;
      * one file per optimizer configuration (SGD, Adam, AdamW, RMSprop): a start
        parameter and the parameter after each of six steps;
      * optim_clip.safetensors: clip_grad_norm_ on two gradient tensors;
      * char_model.safetensors / char_model_io.safetensors: the state_dict of a small
        Embedding -> LSTM -> Linear model, and token ids with the expected logits.

How to run it (from the repository root)
    /usr/bin/python3 tools/make_fixtures.py

    It needs Debian's PyTorch (apt-get install python3-torch; PyTorch 1.13) and
    numpy, run by Debian's /usr/bin/python3. It is never run by CI: the fixtures it
    writes are committed, and the TypeScript tests only read them.

Every case seeds torch.manual_seed with a value derived from the case name, so the
files are reproducible and one case does not change when another is added. Modules
and all tensors are float32 (token ids are int64).

Debian has no Python safetensors package, so the format is written by hand here
(write_safetensors) together with a small reader (read_safetensors) that the script
uses to check every file it writes round-trips exactly. tools/check_safetensors_in_torch.py
imports the reader from this file.
"""

import json
import os
import struct
import sys
import zlib

import numpy as np

# ---------------------------------------------------------------------------
# safetensors: hand-written writer and reader (no torch needed for these)
# ---------------------------------------------------------------------------

# safetensors dtype name -> little-endian numpy dtype
DTYPES = {
    "F64": np.dtype("<f8"),
    "F32": np.dtype("<f4"),
    "F16": np.dtype("<f2"),
    "I64": np.dtype("<i8"),
    "I32": np.dtype("<i4"),
    "I16": np.dtype("<i2"),
    "I8": np.dtype("i1"),
    "U8": np.dtype("u1"),
    "BOOL": np.dtype("?"),
}


def _dtype_name(arr):
    for name, dt in DTYPES.items():
        if arr.dtype.kind == dt.kind and arr.dtype.itemsize == dt.itemsize:
            return name
    raise TypeError("unsupported dtype for safetensors: %s" % arr.dtype)


def write_safetensors(path, tensors, metadata=None):
    """Write `tensors` (an ordered dict name -> numpy array) to `path`.

    Layout: 8-byte little-endian u64 header length N, N bytes of JSON header
    (padded with spaces so N is a multiple of 8), then the raw little-endian data
    of each tensor in the order given. data_offsets are relative to the start of
    the data section. `metadata` is a dict of string -> string.
    """
    header = {}
    chunks = []
    offset = 0
    for name, arr in tensors.items():
        if name == "__metadata__":
            raise ValueError("tensor name __metadata__ is reserved")
        arr = np.asarray(arr)
        dname = _dtype_name(arr)
        data = np.ascontiguousarray(arr, dtype=DTYPES[dname]).tobytes()
        header[name] = {
            "dtype": dname,
            "shape": [int(d) for d in arr.shape],
            "data_offsets": [offset, offset + len(data)],
        }
        chunks.append(data)
        offset += len(data)
    if metadata is not None:
        for k, v in metadata.items():
            if not isinstance(k, str) or not isinstance(v, str):
                raise TypeError("__metadata__ must map strings to strings")
        header["__metadata__"] = dict(metadata)
    hbytes = json.dumps(header, separators=(",", ":"), ensure_ascii=True).encode("utf-8")
    hbytes += b" " * ((-len(hbytes)) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hbytes)))
        f.write(hbytes)
        for c in chunks:
            f.write(c)


def read_safetensors(path):
    """Read a safetensors file: returns (dict name -> numpy array, metadata dict).

    Checks what a strict reader should: header length within the file, valid JSON,
    known dtypes, each tensor's byte length equal to prod(shape) * itemsize, and the
    tensors' byte ranges tiling the data section exactly (no gaps, no overlap).
    """
    with open(path, "rb") as f:
        buf = f.read()
    if len(buf) < 8:
        raise ValueError("%s: file shorter than the 8-byte header length" % path)
    (n,) = struct.unpack("<Q", buf[:8])
    if 8 + n > len(buf):
        raise ValueError("%s: header length %d exceeds file size %d" % (path, n, len(buf)))
    header = json.loads(buf[8 : 8 + n].decode("utf-8"))
    if not isinstance(header, dict):
        raise ValueError("%s: header is not a JSON object" % path)
    metadata = header.pop("__metadata__", None) or {}
    data = buf[8 + n :]
    tensors = {}
    ranges = []
    for name, info in header.items():
        dname = info["dtype"]
        if dname == "BF16":
            dt = None
            itemsize = 2
        elif dname in DTYPES:
            dt = DTYPES[dname]
            itemsize = dt.itemsize
        else:
            raise ValueError("%s: tensor %s has unsupported dtype %s" % (path, name, dname))
        shape = [int(d) for d in info["shape"]]
        begin, end = (int(o) for o in info["data_offsets"])
        count = int(np.prod(shape, dtype=np.int64)) if shape else 1
        if end - begin != count * itemsize or begin < 0 or end > len(data):
            raise ValueError("%s: tensor %s has bad data_offsets %r for shape %r" % (path, name, [begin, end], shape))
        raw = data[begin:end]
        if dt is None:  # bfloat16: the upper half of a float32
            bits = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
            arr = bits.view(np.float32)
        else:
            arr = np.frombuffer(raw, dtype=dt)
        tensors[name] = arr.reshape(shape).copy()
        ranges.append((begin, end, name))
    ranges.sort()
    pos = 0
    for begin, end, name in ranges:
        if begin != pos:
            raise ValueError("%s: tensor %s starts at %d, expected %d (gap or overlap)" % (path, name, begin, pos))
        pos = end
    if pos != len(data):
        raise ValueError("%s: data section is %d bytes, tensors cover %d" % (path, len(data), pos))
    return tensors, metadata


# ---------------------------------------------------------------------------
# Fixture generation (needs torch)
# ---------------------------------------------------------------------------

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(ROOT, "test", "fixtures")


def seed_for(name):
    return zlib.crc32(name.encode("utf-8")) & 0x7FFFFFFF


def producer():
    import torch

    return "tools/make_fixtures.py, PyTorch %s" % torch.__version__


def np32(t):
    return t.detach().cpu().numpy().astype(np.float32)


def save(name, tensors, metadata):
    path = os.path.join(OUT_DIR, name + ".safetensors")
    write_safetensors(path, tensors, metadata)
    back, meta = read_safetensors(path)
    if list(back.keys()) != list(tensors.keys()):
        raise AssertionError("%s: round trip changed the key list" % name)
    for k, v in tensors.items():
        v = np.asarray(v)
        if back[k].dtype != v.dtype or back[k].shape != v.shape or back[k].tobytes() != v.tobytes():
            raise AssertionError("%s: round trip changed tensor %s" % (name, k))
    if meta != metadata:
        raise AssertionError("%s: round trip changed the metadata" % name)
    return path


# Recurrent layer cases: name -> (module, options)
LAYER_CASES = [
    ("rnn_tanh", "RNN", dict(input_size=3, hidden_size=5, num_layers=1, nonlinearity="tanh"), dict(seq=5, batch=2)),
    ("rnn_relu", "RNN", dict(input_size=4, hidden_size=3, num_layers=1, nonlinearity="relu"), dict(seq=4, batch=3)),
    ("rnn_2layer", "RNN", dict(input_size=3, hidden_size=4, num_layers=2, nonlinearity="tanh"), dict(seq=5, batch=2)),
    ("rnn_bidirectional", "RNN", dict(input_size=3, hidden_size=5, num_layers=1, nonlinearity="tanh", bidirectional=True), dict(seq=4, batch=2)),
    ("rnn_batch_first", "RNN", dict(input_size=4, hidden_size=5, num_layers=2, nonlinearity="tanh", batch_first=True), dict(seq=6, batch=3)),
    ("lstm_1layer", "LSTM", dict(input_size=3, hidden_size=5, num_layers=1), dict(seq=5, batch=2)),
    ("lstm_2layer", "LSTM", dict(input_size=4, hidden_size=6, num_layers=2), dict(seq=4, batch=3)),
    ("lstm_bidirectional", "LSTM", dict(input_size=3, hidden_size=4, num_layers=2, bidirectional=True), dict(seq=5, batch=2)),
    ("lstm_proj", "LSTM", dict(input_size=4, hidden_size=6, num_layers=2, proj_size=3), dict(seq=5, batch=2)),
    ("lstm_nobias", "LSTM", dict(input_size=3, hidden_size=5, num_layers=1, bias=False), dict(seq=4, batch=2)),
    ("lstm_batch_first", "LSTM", dict(input_size=4, hidden_size=5, num_layers=1, batch_first=True), dict(seq=6, batch=3)),
    ("gru_1layer", "GRU", dict(input_size=3, hidden_size=5, num_layers=1), dict(seq=5, batch=2)),
    ("gru_2layer", "GRU", dict(input_size=4, hidden_size=6, num_layers=2), dict(seq=4, batch=3)),
    ("gru_bidirectional", "GRU", dict(input_size=3, hidden_size=4, num_layers=1, bidirectional=True), dict(seq=6, batch=2)),
    ("lstm_200steps", "LSTM", dict(input_size=3, hidden_size=8, num_layers=1), dict(seq=200, batch=2)),
    ("gru_200steps", "GRU", dict(input_size=3, hidden_size=8, num_layers=1), dict(seq=200, batch=2)),
]

# Packed (variable-length) cases: name -> (module, options, lengths, enforce_sorted). The padded input
# is [max(lengths), batch, input] (batch first: [batch, max, input]); its padding holds random values
# too, which must get a zero gradient. Unsorted lengths are distinct, so PyTorch's sort order is the
# only one possible.
PACKED_CASES = [
    ("packed_rnn_tanh", "RNN", dict(input_size=3, hidden_size=5, num_layers=1, nonlinearity="tanh"), [5, 5, 3, 1], True),
    ("packed_rnn_relu_bidirectional", "RNN", dict(input_size=4, hidden_size=3, num_layers=2, nonlinearity="relu", bidirectional=True), [2, 6, 4], False),
    ("packed_lstm_1layer", "LSTM", dict(input_size=3, hidden_size=5, num_layers=1), [4, 3, 3, 2, 1], True),
    ("packed_lstm_2layer_bidirectional", "LSTM", dict(input_size=3, hidden_size=4, num_layers=2, bidirectional=True), [3, 5, 1, 4], False),
    ("packed_lstm_batch_first", "LSTM", dict(input_size=4, hidden_size=5, num_layers=2, batch_first=True, bidirectional=True), [2, 6, 5], False),
    ("packed_lstm_proj", "LSTM", dict(input_size=4, hidden_size=6, num_layers=2, proj_size=3, bidirectional=True), [1, 5, 3], False),
    ("packed_gru_2layer_bidirectional", "GRU", dict(input_size=3, hidden_size=4, num_layers=2, bidirectional=True), [4, 1, 6, 3], False),
    ("packed_gru_batch_first", "GRU", dict(input_size=4, hidden_size=5, num_layers=1, batch_first=True), [3, 6, 2], False),
]

CELL_CASES = [
    ("rnncell_tanh", "RNNCell", dict(input_size=3, hidden_size=5, nonlinearity="tanh"), dict(batch=3)),
    ("lstmcell", "LSTMCell", dict(input_size=4, hidden_size=5), dict(batch=2)),
    ("grucell", "GRUCell", dict(input_size=3, hidden_size=6), dict(batch=3)),
]


def layer_options_json(module, o):
    opts = {
        "inputSize": o["input_size"],
        "hiddenSize": o["hidden_size"],
        "numLayers": o.get("num_layers", 1),
        "bias": o.get("bias", True),
        "batchFirst": o.get("batch_first", False),
        "bidirectional": o.get("bidirectional", False),
    }
    if module == "RNN":
        opts["nonlinearity"] = o.get("nonlinearity", "tanh")
    if module == "LSTM":
        opts["projSize"] = o.get("proj_size", 0)
    return json.dumps(opts, separators=(",", ":"))


def cell_options_json(module, o):
    opts = {"inputSize": o["input_size"], "hiddenSize": o["hidden_size"], "bias": o.get("bias", True)}
    if module == "RNNCell":
        opts["nonlinearity"] = o.get("nonlinearity", "tanh")
    return json.dumps(opts, separators=(",", ":"))


def layer_fixture(name, module, o, seq, batch, run):
    """The tensors of one recurrent layer case, in the files' key order.

    Seeds with the case name, builds the module, then draws x (padded when `run` packs it), h0 and c0,
    in that order. `run(m, x, h0, c0)` returns (extra inputs, outputs, extra expected values):
    dicts of numpy arrays, and a list of (key, tensor) that the loss weighs with random cotangents
    (drawn in that order): loss = sum over outputs of sum(output * cotangent.<key>).
    """
    import torch

    torch.manual_seed(seed_for(name))
    m = getattr(torch.nn, module)(dropout=0.0, **o).float()
    layers = o.get("num_layers", 1)
    dirs = 2 if o.get("bidirectional", False) else 1
    hidden = o["hidden_size"]
    out_h = o.get("proj_size", 0) or hidden
    is_lstm = module == "LSTM"

    xshape = [batch, seq, o["input_size"]] if o.get("batch_first", False) else [seq, batch, o["input_size"]]
    x = torch.randn(*xshape).requires_grad_()
    h0 = torch.randn(layers * dirs, batch, out_h).requires_grad_()
    c0 = torch.randn(layers * dirs, batch, hidden).requires_grad_() if is_lstm else None

    extra_inputs, outputs, extra_expected = run(m, x, h0, c0)
    cotangents = [torch.randn(*value.shape) for _, value in outputs]
    loss = sum((value * g).sum() for (_, value), g in zip(outputs, cotangents))
    loss.backward()

    t = {}
    for k, v in m.state_dict().items():
        t["param." + k] = np32(v)
    t["input.x"] = np32(x)
    t.update(extra_inputs)
    t["input.h0"] = np32(h0)
    if is_lstm:
        t["input.c0"] = np32(c0)
    for (key, _), g in zip(outputs, cotangents):
        t["cotangent." + key] = np32(g)
    t.update(extra_expected)
    for key, value in outputs:
        t["expected." + key] = np32(value)
    t["grad.x"] = np32(x.grad)
    t["grad.h0"] = np32(h0.grad)
    if is_lstm:
        t["grad.c0"] = np32(c0.grad)
    for k, p in m.named_parameters():
        t["grad." + k] = np32(p.grad)
    return t


def run_layer(m, x, h0, c0, source=None):
    """The module from h0 (and c0): (output, [("hn", hn), ("cn", cn)] for an LSTM, else [("hn", hn)])."""
    if c0 is not None:
        output, (hn, cn) = m(source if source is not None else x, (h0, c0))
        return output, [("hn", hn), ("cn", cn)]
    output, hn = m(source if source is not None else x, h0)
    return output, [("hn", hn)]


def make_layer_case(name, module, o, dims):
    def run(m, x, h0, c0):
        output, states = run_layer(m, x, h0, c0)
        return {}, [("output", output)] + states, {}

    t = layer_fixture(name, module, o, dims["seq"], dims["batch"], run)
    meta = {"module": module, "options": layer_options_json(module, o), "producer": producer()}
    return save(name, t, meta)


def make_packed_case(name, module, o, lengths, enforce_sorted):
    import torch
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    seq = max(lengths)
    batch_first = o.get("batch_first", False)
    lengths_t = torch.tensor(lengths, dtype=torch.int64)

    def run(m, x, h0, c0):
        packed = pack_padded_sequence(x, lengths_t, batch_first=batch_first, enforce_sorted=enforce_sorted)
        out_packed, states = run_layer(m, x, h0, c0, source=packed)
        padded, out_lengths = pad_packed_sequence(out_packed, batch_first=batch_first, total_length=seq)
        if out_lengths.tolist() != lengths:
            raise AssertionError("%s: pad_packed_sequence gave lengths %s" % (name, out_lengths.tolist()))
        expected = {"expected.batch_sizes": out_packed.batch_sizes.numpy().astype("<i8")}
        if out_packed.sorted_indices is not None:
            expected["expected.sorted_indices"] = out_packed.sorted_indices.numpy().astype("<i8")
        expected["expected.data"] = np32(out_packed.data)
        # The loss reads the padded output, so gradients flow through padding and packing too.
        return {"input.lengths": lengths_t.numpy().astype("<i8")}, [("padded", padded)] + states, expected

    t = layer_fixture(name, module, o, seq, len(lengths), run)
    meta = {
        "module": module,
        "options": layer_options_json(module, o),
        "enforceSorted": json.dumps(enforce_sorted),
        "producer": producer(),
    }
    return save(name, t, meta)


def make_cell_case(name, module, o, dims):
    import torch

    torch.manual_seed(seed_for(name))
    m = getattr(torch.nn, module)(**o).float()
    batch = dims["batch"]
    hidden = o["hidden_size"]
    is_lstm = module == "LSTMCell"
    x = torch.randn(batch, o["input_size"]).requires_grad_()
    h0 = torch.randn(batch, hidden).requires_grad_()
    c0 = torch.randn(batch, hidden).requires_grad_() if is_lstm else None
    if is_lstm:
        h, c = m(x, (h0, c0))
    else:
        h = m(x, h0)
        c = None
    g_h = torch.randn(*h.shape)
    g_c = torch.randn(*c.shape) if is_lstm else None
    loss = (h * g_h).sum()
    if is_lstm:
        loss = loss + (c * g_c).sum()
    loss.backward()

    t = {}
    for k, v in m.state_dict().items():
        t["param." + k] = np32(v)
    t["input.x"] = np32(x)
    t["input.h0"] = np32(h0)
    if is_lstm:
        t["input.c0"] = np32(c0)
    t["cotangent.h"] = np32(g_h)
    if is_lstm:
        t["cotangent.c"] = np32(g_c)
    t["expected.h"] = np32(h)
    if is_lstm:
        t["expected.c"] = np32(c)
    t["grad.x"] = np32(x.grad)
    t["grad.h0"] = np32(h0.grad)
    if is_lstm:
        t["grad.c0"] = np32(c0.grad)
    for k, p in m.named_parameters():
        t["grad." + k] = np32(p.grad)
    meta = {"module": module, "options": cell_options_json(module, o), "producer": producer()}
    return save(name, t, meta)


# Optimizer cases: name -> (torch class name, constructor kwargs)
OPTIM_CASES = [
    ("optim_sgd", "SGD", dict(lr=0.1)),
    ("optim_sgd_momentum", "SGD", dict(lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.01)),
    ("optim_sgd_nesterov", "SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("optim_adam", "Adam", dict(lr=0.01)),
    ("optim_adam_wd", "Adam", dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.1)),
    ("optim_adamw", "AdamW", dict(lr=0.01, weight_decay=0.1)),
    ("optim_rmsprop", "RMSprop", dict(lr=0.01, alpha=0.9)),
    ("optim_rmsprop_centered_momentum", "RMSprop", dict(lr=0.01, centered=True, momentum=0.5, weight_decay=0.01)),
]

# The hyperparameters each optimizer's options JSON records (PyTorch name -> camelCase),
# taken from the param group after construction so PyTorch's defaults are written out.
OPTIM_KEYS = {
    "SGD": [("lr", "lr"), ("momentum", "momentum"), ("dampening", "dampening"), ("nesterov", "nesterov"), ("weight_decay", "weightDecay")],
    "Adam": [("lr", "lr"), ("betas", "betas"), ("eps", "eps"), ("weight_decay", "weightDecay"), ("amsgrad", "amsgrad")],
    "AdamW": [("lr", "lr"), ("betas", "betas"), ("eps", "eps"), ("weight_decay", "weightDecay"), ("amsgrad", "amsgrad")],
    "RMSprop": [("lr", "lr"), ("alpha", "alpha"), ("eps", "eps"), ("weight_decay", "weightDecay"), ("momentum", "momentum"), ("centered", "centered")],
}

OPTIM_STEPS = 6


def make_optim_case(name, cls, kwargs):
    import torch

    torch.manual_seed(seed_for(name))
    p0 = torch.randn(5)
    c = torch.rand(5) + 0.5
    p = torch.nn.Parameter(p0.clone())
    opt = getattr(torch.optim, cls)([p], **kwargs)
    group = opt.param_groups[0]
    if group.get("maximize", False):
        raise AssertionError("maximize is not recorded in the options")
    opts = {}
    for tk, jk in OPTIM_KEYS[cls]:
        v = group[tk]
        opts[jk] = list(v) if isinstance(v, tuple) else v
    t = {"input.p0": np32(p0), "input.c": np32(c)}
    for s in range(1, OPTIM_STEPS + 1):
        opt.zero_grad()
        loss = (p * p * c).sum() + torch.sin(p).sum()
        loss.backward()
        # the gradient the JS test recomputes: 2*c*p + cos(p)
        expect_grad = 2 * c * p.detach() + torch.cos(p.detach())
        if not torch.allclose(p.grad, expect_grad, rtol=1e-6, atol=1e-6):
            raise AssertionError("%s: autograd gradient differs from 2*c*p + cos(p)" % name)
        opt.step()
        t["expected.step%d" % s] = np32(p)
    meta = {"optimizer": cls, "options": json.dumps(opts, separators=(",", ":")), "producer": producer()}
    return save(name, t, meta)


def make_clip_case():
    import torch

    name = "optim_clip"
    torch.manual_seed(seed_for(name))
    g1 = torch.randn(3, 4)
    g2 = torch.randn(5)
    p1 = torch.nn.Parameter(torch.zeros(3, 4))
    p2 = torch.nn.Parameter(torch.zeros(5))
    p1.grad = g1.clone()
    p2.grad = g2.clone()
    total = torch.nn.utils.clip_grad_norm_([p1, p2], max_norm=1.0, norm_type=2.0)
    if not float(total) > 1.0:
        raise AssertionError("optim_clip: total norm should exceed max_norm so clipping happens")
    t = {
        "input.g1": np32(g1),
        "input.g2": np32(g2),
        "expected.total_norm": np32(total.reshape(1)),
        "expected.g1": np32(p1.grad),
        "expected.g2": np32(p2.grad),
    }
    meta = {
        "function": "clip_grad_norm_",
        "options": json.dumps({"maxNorm": 1.0, "normType": 2}, separators=(",", ":")),
        "producer": producer(),
    }
    return save(name, t, meta)


def build_char_model():
    import torch

    class CharModel(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = torch.nn.Embedding(10, 4)
            self.lstm = torch.nn.LSTM(4, 6, num_layers=2)
            self.head = torch.nn.Linear(6, 10)

        def forward(self, tokens):
            e = self.embed(tokens)  # [seq, batch, 4]
            y, _ = self.lstm(e)  # zero initial state
            return self.head(y)  # [seq, batch, 10]

    return CharModel()


CHAR_MODEL_OPTIONS = {"vocabSize": 10, "embedSize": 4, "hiddenSize": 6, "numLayers": 2}


def make_char_model():
    import torch

    name = "char_model"
    torch.manual_seed(seed_for(name))
    m = build_char_model().float()
    sd = {k: np32(v) for k, v in m.state_dict().items()}
    meta = {
        "module": "CharModel",
        "options": json.dumps(CHAR_MODEL_OPTIONS, separators=(",", ":")),
        "description": "embed = Embedding(10, 4); lstm = LSTM(4, 6, num_layers=2); head = Linear(6, 10)",
        "producer": producer(),
    }
    paths = [save(name, sd, meta)]
    tokens = torch.randint(0, 10, (5, 2), dtype=torch.int64)
    with torch.no_grad():
        logits = m(tokens)
    io = {"input.tokens": tokens.numpy().astype("<i8"), "expected.logits": np32(logits)}
    io_meta = {
        "description": "tokens [seq 5, batch 2] -> embed -> lstm (zero initial state) -> head -> logits [5, 2, 10], weights in char_model.safetensors",
        "producer": producer(),
    }
    paths.append(save("char_model_io", io, io_meta))
    return paths


# ---------------------------------------------------------------------------
# Losses: values and input gradients (float64) of the loss functions with their options
# ---------------------------------------------------------------------------

def make_loss_cases():
    """losses.safetensors: per case, inputs and PyTorch's value and gradient of the input.

    The metadata key "cases" is a JSON list of {name, loss, options, input, target}: loss is our
    function name, options our camelCase options (weight as a tensor key), input/target tensor keys.
    """
    import torch
    import torch.nn.functional as F

    name = "losses"
    torch.manual_seed(seed_for(name))
    d = torch.float64
    t = {}
    cases = []

    def tensor(key, value):
        t[key] = value.detach().numpy().astype(np.float64)
        return key

    x = torch.randn(3, 4, dtype=d)
    y = torch.randn(3, 4, dtype=d) * 2
    tensor("reg.x", x)
    tensor("reg.y", y)
    logits = torch.randn(6, 4, dtype=d) * 2
    tensor("cls.logits", logits)
    targets = torch.tensor([0, 3, 1, -100, 2, 3])
    t["cls.targets"] = targets.numpy().astype(np.float64)
    plain_targets = torch.tensor([0, 3, 1, 1, 2, 3])
    t["cls.plain_targets"] = plain_targets.numpy().astype(np.float64)
    weight = torch.tensor([0.5, 2.0, 1.0, 0.25], dtype=d)
    tensor("cls.weight", weight)
    logits3 = torch.randn(2, 4, 3, dtype=d)
    tensor("cls.logits3", logits3)
    targets3 = torch.tensor([[0, 1, 3], [2, -100, 1]])
    t["cls.targets3"] = targets3.numpy().astype(np.float64)
    logp = F.log_softmax(torch.randn(3, 5, dtype=d), dim=1)
    tensor("kl.input", logp)
    q = torch.softmax(torch.randn(3, 5, dtype=d), dim=1)
    q[0, 2] = 0.0
    tensor("kl.target", q)
    tensor("kl.logtarget", F.log_softmax(torch.randn(3, 5, dtype=d), dim=1))
    # no random draw: the cases above keep their inputs
    tensor("bce.target", torch.sigmoid(y))
    tensor("bce.logits", x * 8)  # large logits: the stable form matters

    # Binary cross-entropy with weight and pos_weight: logits up to +-100, where the naive
    # log(sigmoid(x)) overflows, and probabilities of exactly 0 and 1, where PyTorch clamps log at -100.
    tensor("bcex.logits", torch.tensor([[100.0, -100.0, 0.0, 3.5], [-30.0, 30.0, 0.25, -2.0], [-100.0, 100.0, 7.0, -0.5]], dtype=d))
    tensor("bcex.target", torch.tensor([[0.0, 1.0, 1.0, 0.3], [1.0, 0.0, 0.0, 0.9], [0.0, 1.0, 0.5, 1.0]], dtype=d))
    tensor("bcex.weight_rows", torch.tensor([[0.5], [2.0], [1.5]], dtype=d))
    tensor("bcex.weight_full", torch.tensor([[1.0, 0.25, 2.0, 3.0], [0.5, 1.0, 1.5, 0.0], [2.0, 1.0, 0.75, 1.25]], dtype=d))
    tensor("bcex.pos_weight", torch.tensor([3.0, 0.5, 2.0, 1.0], dtype=d))
    tensor("bcep.input", torch.tensor([[0.0, 1.0, 0.3, 1e-50], [0.999, 0.5, 0.02, 1.0], [0.7, 0.0, 0.6, 0.15]], dtype=d))
    tensor("bcep.input_inner", torch.tensor([[0.1, 0.9, 0.3, 0.45], [0.999, 0.5, 0.02, 0.8], [0.7, 0.35, 0.6, 0.15]], dtype=d))

    def case(cname, loss, options, inp, target, fn, target_grad=False):
        a = torch.tensor(t[inp], dtype=d, requires_grad=True)
        target_t = torch.tensor(t[target], dtype=d, requires_grad=target_grad)
        value = fn(a, target_t)
        g = torch.ones_like(value) if value.dim() > 0 else None
        # a non-scalar ('none') is reduced with weights 1..n so every element's gradient differs
        if value.dim() > 0:
            g = torch.arange(1, value.numel() + 1, dtype=d).reshape(value.shape)
        value.backward(g)
        t["case.%s.value" % cname] = value.detach().numpy().astype(np.float64).reshape(-1)
        t["case.%s.grad" % cname] = a.grad.numpy().astype(np.float64)
        if target_grad:
            t["case.%s.target_grad" % cname] = target_t.grad.numpy().astype(np.float64)
        cases.append(dict(name=cname, loss=loss, options=options, input=inp, target=target, targetGrad=target_grad))

    long = lambda k: torch.tensor(t[k]).long()
    case("mse_mean", "mseLoss", {}, "reg.x", "reg.y", lambda a, b: F.mse_loss(a, b))
    case("l1_mean", "l1Loss", {}, "reg.x", "reg.y", lambda a, b: F.l1_loss(a, b))
    case("l1_sum", "l1Loss", {"reduction": "sum"}, "reg.x", "reg.y", lambda a, b: F.l1_loss(a, b, reduction="sum"))
    case("huber_mean", "huberLoss", {}, "reg.x", "reg.y", lambda a, b: F.huber_loss(a, b))
    case("huber_delta_sum", "huberLoss", {"delta": 0.5, "reduction": "sum"}, "reg.x", "reg.y", lambda a, b: F.huber_loss(a, b, reduction="sum", delta=0.5))
    case("huber_none", "huberLoss", {"delta": 1.5, "reduction": "none"}, "reg.x", "reg.y", lambda a, b: F.huber_loss(a, b, reduction="none", delta=1.5))
    case("kl_batchmean", "klDiv", {"reduction": "batchmean"}, "kl.input", "kl.target", lambda a, b: F.kl_div(a, b, reduction="batchmean"))
    case("kl_mean", "klDiv", {}, "kl.input", "kl.target", lambda a, b: F.kl_div(a, b, reduction="mean"))
    case("kl_none", "klDiv", {"reduction": "none"}, "kl.input", "kl.target", lambda a, b: F.kl_div(a, b, reduction="none"))
    case("kl_logtarget", "klDiv", {"reduction": "sum", "logTarget": True}, "kl.input", "kl.logtarget", lambda a, b: F.kl_div(a, b, reduction="sum", log_target=True))
    for red in ["mean", "sum", "none"]:
        case("ce_weight_" + red, "crossEntropy", {"weight": "cls.weight", "reduction": red}, "cls.logits", "cls.targets",
             lambda a, b, red=red: F.cross_entropy(a, b.long(), weight=weight, reduction=red))
        case("ce_smooth_" + red, "crossEntropy", {"labelSmoothing": 0.1, "reduction": red}, "cls.logits", "cls.targets",
             lambda a, b, red=red: F.cross_entropy(a, b.long(), label_smoothing=0.1, reduction=red))
        case("ce_weight_smooth_" + red, "crossEntropy", {"weight": "cls.weight", "labelSmoothing": 0.2, "reduction": red}, "cls.logits", "cls.targets",
             lambda a, b, red=red: F.cross_entropy(a, b.long(), weight=weight, label_smoothing=0.2, reduction=red))
        case("nll_weight_" + red, "nllLoss", {"weight": "cls.weight", "reduction": red}, "cls.logits", "cls.targets",
             lambda a, b, red=red: F.nll_loss(a, b.long(), weight=weight, reduction=red))
    case("ce_ignore_index", "crossEntropy", {"ignoreIndex": 3, "labelSmoothing": 0.3, "weight": "cls.weight"}, "cls.logits", "cls.plain_targets",
         lambda a, b: F.cross_entropy(a, b.long(), ignore_index=3, label_smoothing=0.3, weight=weight))
    case("ce_3d_weight_smooth", "crossEntropy", {"weight": "cls.weight", "labelSmoothing": 0.1}, "cls.logits3", "cls.targets3",
         lambda a, b: F.cross_entropy(a, b.long(), weight=weight, label_smoothing=0.1))
    for reduction in ("mean", "sum", "none"):
        case("bce_with_logits_" + reduction, "bceWithLogits", {"reduction": reduction}, "bce.logits", "bce.target",
             lambda a, b, r=reduction: F.binary_cross_entropy_with_logits(a, b, reduction=r))
    tt = lambda k: torch.tensor(t[k], dtype=d)
    for reduction in ("mean", "sum", "none"):
        case("bce_with_logits_extreme_" + reduction, "bceWithLogits", {"reduction": reduction}, "bcex.logits", "bcex.target",
             lambda a, b, r=reduction: F.binary_cross_entropy_with_logits(a, b, reduction=r), target_grad=True)
        case("bce_with_logits_weight_" + reduction, "bceWithLogits", {"reduction": reduction, "weight": "bcex.weight_rows"}, "bcex.logits", "bcex.target",
             lambda a, b, r=reduction: F.binary_cross_entropy_with_logits(a, b, weight=tt("bcex.weight_rows"), reduction=r), target_grad=True)
        case("bce_with_logits_pos_weight_" + reduction, "bceWithLogits", {"reduction": reduction, "posWeight": "bcex.pos_weight"}, "bcex.logits", "bcex.target",
             lambda a, b, r=reduction: F.binary_cross_entropy_with_logits(a, b, pos_weight=tt("bcex.pos_weight"), reduction=r), target_grad=True)
        case("bce_with_logits_both_" + reduction, "bceWithLogits", {"reduction": reduction, "weight": "bcex.weight_full", "posWeight": "bcex.pos_weight"},
             "bcex.logits", "bcex.target",
             lambda a, b, r=reduction: F.binary_cross_entropy_with_logits(a, b, weight=tt("bcex.weight_full"), pos_weight=tt("bcex.pos_weight"), reduction=r),
             target_grad=True)
        case("bce_weight_" + reduction, "binaryCrossEntropy", {"reduction": reduction, "weight": "bcex.weight_rows"}, "bcep.input", "bcex.target",
             lambda a, b, r=reduction: F.binary_cross_entropy(a, b, weight=tt("bcex.weight_rows"), reduction=r))
    # the target gradient is infinite where the input is exactly 0 or 1, so it is taken inside (0, 1)
    case("bce_inner", "binaryCrossEntropy", {}, "bcep.input_inner", "bcex.target",
         lambda a, b: F.binary_cross_entropy(a, b), target_grad=True)
    meta = {"cases": json.dumps(cases, separators=(",", ":")), "producer": producer()}
    return save(name, t, meta)


# ---------------------------------------------------------------------------
# LBFGS trajectories and schedulers' lr sequences (float64)
# ---------------------------------------------------------------------------

LBFGS_CASES = [
    ("lbfgs_fixed", dict(lr=1, max_iter=4, history_size=3), dict(lr=1, maxIter=4, historySize=3)),
    ("lbfgs_strong_wolfe", dict(lr=1, max_iter=5, history_size=3, line_search_fn="strong_wolfe"),
     dict(lr=1, maxIter=5, historySize=3, lineSearchFn="strongWolfe")),
    ("lbfgs_strong_wolfe_tolerances", dict(lr=0.8, max_iter=20, max_eval=12, history_size=10, tolerance_grad=1e-4,
                                           tolerance_change=1e-6, line_search_fn="strong_wolfe"),
     dict(lr=0.8, maxIter=20, maxEval=12, historySize=10, toleranceGrad=1e-4, toleranceChange=1e-6, lineSearchFn="strongWolfe")),
]
LBFGS_STEPS = 6


def rosenbrock(p):
    # the extended Rosenbrock function, which the JS test computes with the same ops
    return (100 * (p[1:] - p[:-1] ** 2) ** 2 + (1 - p[:-1]) ** 2).sum()


def make_lbfgs_case(name, kwargs, options):
    """Parameters, returned loss and closure evaluations after each step() of torch.optim.LBFGS."""
    import torch

    p = torch.nn.Parameter(torch.tensor([-1.2, 1.0, -1.2, 1.0, 0.5], dtype=torch.float64))
    t = {"input.p0": p.detach().numpy().copy()}
    opt = torch.optim.LBFGS([p], **kwargs)

    def closure():
        opt.zero_grad()
        loss = rosenbrock(p)
        loss.backward()
        return loss

    losses, evals = [], []
    for s in range(1, LBFGS_STEPS + 1):
        losses.append(float(opt.step(closure)))
        evals.append(opt.state[p]["func_evals"])
        t["expected.step%d" % s] = p.detach().numpy().copy()
    t["expected.losses"] = np.array(losses, dtype=np.float64)
    t["expected.func_evals"] = np.array(evals, dtype=np.float64)
    meta = {"optimizer": "LBFGS", "options": json.dumps(options, separators=(",", ":")), "producer": producer()}
    return save(name, t, meta)


def make_scheduler_cases():
    """schedulers.safetensors: lr (and momentum) after construction and each step, per case."""
    import torch

    cases = []
    t = {}

    def run(cname, make_opt, make_sched, options, steps, metrics=None):
        """Rows of lr and momentum, one per step (after construction first), one column per param group."""
        p = torch.nn.Parameter(torch.zeros(1))
        opt = make_opt([p])
        sched = make_sched(opt)
        lrs = lambda: [g["lr"] for g in opt.param_groups]
        moms = lambda: [g["betas"][0] if "betas" in g else g.get("momentum", 0.0) for g in opt.param_groups]
        lr_rows, mom_rows = [lrs()], [moms()]
        for i in range(steps):
            opt.step()
            if metrics is None:
                sched.step()
            else:
                sched.step(metrics[i])
            lr_rows.append(lrs())
            mom_rows.append(moms())
        t["%s.lr" % cname] = np.array(lr_rows, dtype=np.float64)
        t["%s.momentum" % cname] = np.array(mom_rows, dtype=np.float64)
        if metrics is not None:
            t["%s.metrics" % cname] = np.array(metrics, dtype=np.float64)
        cases.append(dict(name=cname, options=options))

    S = torch.optim.lr_scheduler
    sgd = lambda lr, m=0.0: (lambda ps: torch.optim.SGD(ps, lr=lr, momentum=m))
    run("linear_warmup", sgd(0.1), lambda o: S.LinearLR(o, start_factor=0.1, total_iters=4),
        dict(kind="LinearLR", lr=0.1, startFactor=0.1, totalIters=4), 8)
    run("linear_decay", sgd(0.2), lambda o: S.LinearLR(o, start_factor=1.0, end_factor=0.25, total_iters=5),
        dict(kind="LinearLR", lr=0.2, startFactor=1.0, endFactor=0.25, totalIters=5), 7)
    run("onecycle_cos", sgd(0.01, 0.9), lambda o: S.OneCycleLR(o, max_lr=0.5, total_steps=20),
        dict(kind="OneCycleLR", lr=0.01, momentum=0.9, maxLr=0.5, totalSteps=20), 19)
    run("onecycle_linear_three_phase", sgd(0.01, 0.9),
        lambda o: S.OneCycleLR(o, max_lr=0.3, total_steps=16, anneal_strategy="linear", three_phase=True, pct_start=0.25, div_factor=10, final_div_factor=100),
        dict(kind="OneCycleLR", lr=0.01, momentum=0.9, maxLr=0.3, totalSteps=16, annealStrategy="linear", threePhase=True, pctStart=0.25, divFactor=10, finalDivFactor=100), 15)
    run("onecycle_adam", lambda ps: torch.optim.Adam(ps, lr=0.001), lambda o: S.OneCycleLR(o, max_lr=0.01, total_steps=10, base_momentum=0.8, max_momentum=0.9),
        dict(kind="OneCycleLR", optimizer="Adam", lr=0.001, maxLr=0.01, totalSteps=10, baseMomentum=0.8, maxMomentum=0.9), 9)
    metrics = [1.0, 0.9, 0.95, 0.91, 0.9, 0.92, 0.89, 0.5, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6]
    run("plateau_min", sgd(1.0), lambda o: S.ReduceLROnPlateau(o, factor=0.5, patience=2, cooldown=1),
        dict(kind="ReduceLROnPlateau", lr=1.0, factor=0.5, patience=2, cooldown=1), len(metrics), metrics)
    up = [0.1, 0.2, 0.25, 0.24, 0.26, 0.26, 0.261, 0.3, 0.3, 0.3, 0.3]
    run("plateau_max_abs", sgd(0.5), lambda o: S.ReduceLROnPlateau(o, mode="max", factor=0.2, patience=1, threshold=0.01, threshold_mode="abs", min_lr=0.01),
        dict(kind="ReduceLROnPlateau", lr=0.5, mode="max", factor=0.2, patience=1, threshold=0.01, thresholdMode="abs", minLr=0.01), len(up), up)
    # Per-group values (PyTorch's lists): a second param group with its own lr, given in options.groups.
    second = lambda lr: [{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": lr}]
    run("onecycle_groups", lambda ps: torch.optim.SGD([{"params": ps}] + second(0.02), lr=0.01, momentum=0.9),
        lambda o: S.OneCycleLR(o, max_lr=[0.5, 0.05], total_steps=12, base_momentum=[0.85, 0.8], max_momentum=[0.95, 0.9]),
        dict(kind="OneCycleLR", lr=0.01, momentum=0.9, groups=[dict(lr=0.02)], maxLr=[0.5, 0.05], totalSteps=12,
             baseMomentum=[0.85, 0.8], maxMomentum=[0.95, 0.9]), 11)
    run("onecycle_groups_one_max", lambda ps: torch.optim.Adam([{"params": ps}] + second(0.003), lr=0.001),
        lambda o: S.OneCycleLR(o, max_lr=0.02, total_steps=8, pct_start=0.5),
        dict(kind="OneCycleLR", optimizer="Adam", lr=0.001, groups=[dict(lr=0.003)], maxLr=0.02, totalSteps=8, pctStart=0.5), 7)
    falls = [1.0, 0.8, 0.8, 0.8, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7]
    run("plateau_groups", lambda ps: torch.optim.SGD([{"params": ps}] + second(0.1), lr=1.0),
        lambda o: S.ReduceLROnPlateau(o, factor=0.5, patience=1, min_lr=[0.2, 0.04]),
        dict(kind="ReduceLROnPlateau", lr=1.0, groups=[dict(lr=0.1)], factor=0.5, patience=1, minLr=[0.2, 0.04]), len(falls), falls)
    meta = {"cases": json.dumps(cases, separators=(",", ":")), "producer": producer()}
    return save("schedulers", t, meta)


# Batches wider than the wasm GEMM's few-rows threshold (8): their per-step recurrent products go to
# the native BLAS where it is built, so the parity suite covers that path too. The packed case's
# active rows fall from 12 to 1, crossing the threshold inside one time loop.
WIDE_BATCH_LAYER_CASES = [
    ("rnn_batch12", "RNN", dict(input_size=3, hidden_size=7, num_layers=1, nonlinearity="tanh"), dict(seq=5, batch=12)),
    ("lstm_batch12", "LSTM", dict(input_size=4, hidden_size=9, num_layers=2), dict(seq=6, batch=12)),
    ("gru_batch12", "GRU", dict(input_size=3, hidden_size=8, num_layers=1, bidirectional=True), dict(seq=5, batch=12)),
]
WIDE_BATCH_PACKED_CASES = [
    ("packed_lstm_batch12", "LSTM", dict(input_size=3, hidden_size=6, num_layers=1, bidirectional=True), [7, 7, 7, 6, 6, 5, 5, 4, 4, 3, 2, 1], True),
]


def make_wide_batch_cases():
    paths = [make_layer_case(n, m, o, d) for n, m, o, d in WIDE_BATCH_LAYER_CASES]
    return paths + [make_packed_case(n, m, o, lengths, s) for n, m, o, lengths, s in WIDE_BATCH_PACKED_CASES]


def make_index_cases():
    """index_ops.safetensors: index tensors as PyTorch produces and reads them (all indices I64).

    argmax/argmin, max(dim)/min(dim) values and indices, topk values and indices (no ties, whose order
    PyTorch leaves open), .long() truncation toward zero, the accuracy idiom
    (pred.argmax(1) == target).sum(), and cross_entropy / nll_loss with long targets (float64, value
    and gradient of the logits).
    """
    import torch
    import torch.nn.functional as F

    name = "index_ops"
    torch.manual_seed(seed_for(name))
    t = {}
    x = torch.randn(4, 6)
    x[1, 2] = x[1, 4] = x[1].max() + 1  # a tie: argmax and max(dim) give the first
    t["x"] = np32(x)
    t["expected.argmax1"] = x.argmax(1).numpy()
    t["expected.argmin0"] = x.argmin(0).numpy()
    t["expected.argmax_keepdim0"] = x.argmax(0, keepdim=True).numpy()
    values, indices = x.max(1)
    t["expected.max1.values"], t["expected.max1.indices"] = np32(values), indices.numpy()
    values, indices = x.min(0, keepdim=True)
    t["expected.min0_keepdim.values"], t["expected.min0_keepdim.indices"] = np32(values), indices.numpy()
    y = torch.randn(5, 7)
    t["y"] = np32(y)
    values, indices = y.topk(3, dim=1)
    t["expected.topk3_dim1.values"], t["expected.topk3_dim1.indices"] = np32(values), indices.numpy()
    values, indices = y.topk(2, dim=0, largest=False)
    t["expected.topk2_dim0_smallest.values"], t["expected.topk2_dim0_smallest.indices"] = np32(values), indices.numpy()
    t["expected.y_times_3_long"] = (y * 3).long().numpy()

    logits = torch.randn(6, 5, dtype=torch.float64, requires_grad=True)
    target = torch.tensor([4, 0, 2, 2, 1, 3])
    t["cls.logits"] = logits.detach().numpy()
    t["cls.target"] = target.numpy()
    t["expected.correct"] = (logits.argmax(1) == target).sum().numpy().reshape(1)
    loss = F.cross_entropy(logits, target)
    loss.backward()
    t["expected.ce.value"] = loss.detach().numpy().reshape(1)
    t["expected.ce.grad"] = logits.grad.numpy().copy()
    logits.grad = None
    loss = F.nll_loss(F.log_softmax(logits, 1), target, reduction="sum")
    loss.backward()
    t["expected.nll_sum.value"] = loss.detach().numpy().reshape(1)
    t["expected.nll_sum.grad"] = logits.grad.numpy().copy()
    for k, v in t.items():
        if v.dtype.kind == "i" and v.dtype.itemsize != 8:
            raise AssertionError("%s: indices should be int64 as PyTorch makes them" % k)
    return save(name, t, {"producer": producer()})


def make_int_arith_cases():
    """int_arith.safetensors: arithmetic on long tensors with PyTorch's type promotion (I64 in the file).

    int with int (add, sub, mul, remainder and floor_divide with mixed signs, neg, abs, clamp,
    maximum, minimum, broadcast against a row), the float32 results (true division, a fractional
    number, clamp with a fractional limit), and float64 tensors with a long one: values and the float
    operand's gradient under a fixed cotangent.
    """
    import torch

    name = "int_arith"
    torch.manual_seed(seed_for(name))
    t = {}
    a = torch.randint(-50, 51, (4, 5))
    b = torch.randint(1, 8, (5,)) * torch.tensor([1, -1, 1, -1, 1])  # nonzero divisors of both signs
    t["a"], t["b"] = a.numpy(), b.numpy()
    t["expected.add"] = (a + b).numpy()
    t["expected.sub"] = (a - b).numpy()
    t["expected.mul"] = (a * b).numpy()
    t["expected.remainder"] = (a % b).numpy()
    t["expected.floor_divide"] = (a // b).numpy()
    t["expected.neg"] = (-a).numpy()
    t["expected.abs"] = a.abs().numpy()
    t["expected.clamp"] = a.clamp(-10, 20).numpy()
    t["expected.maximum"] = torch.maximum(a, b).numpy()
    t["expected.minimum"] = torch.minimum(a, b).numpy()
    t["expected.sub_scalar"] = (a - 1).numpy()
    t["expected.div"] = np32(a / b)
    t["expected.add_frac"] = np32(a + 1.5)
    t["expected.clamp_frac"] = np32(a.clamp(-2.5, 20))
    f = torch.randn(4, 5, dtype=torch.float64, requires_grad=True)
    cotangent = torch.randn(4, 5, dtype=torch.float64)
    t["f"], t["cotangent"] = f.detach().numpy(), cotangent.numpy()
    mixed = torch.remainder(f * 7, b) + f * a - torch.maximum(f, b) / a.clamp(1, 50)
    (mixed * cotangent).sum().backward()
    t["expected.mixed"] = mixed.detach().numpy()
    t["expected.mixed.grad"] = f.grad.numpy().copy()
    t["expected.float_floor_divide"] = torch.floor_divide(f.detach() * 7, b).numpy()
    for k, v in t.items():
        if v.dtype.kind == "i" and v.dtype.itemsize != 8:
            raise AssertionError("%s: integers should be int64 as PyTorch makes them" % k)
    return save(name, t, {"producer": producer()})


GROUPS = {
    "index_ops": lambda: [make_index_cases()],
    "int_arith": lambda: [make_int_arith_cases()],
    "wide_batch": make_wide_batch_cases,
    "losses": lambda: [make_loss_cases()],
    "lbfgs": lambda: [make_lbfgs_case(n, k, o) for n, k, o in LBFGS_CASES],
    "schedulers": lambda: [make_scheduler_cases()],
}


def main():
    import torch

    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    os.makedirs(OUT_DIR, exist_ok=True)
    # `make_fixtures.py losses lbfgs schedulers` writes only those groups' files.
    only = sys.argv[1:]
    if only:
        unknown = [g for g in only if g not in GROUPS]
        if unknown:
            raise SystemExit("unknown group(s) %s; known: %s" % (", ".join(unknown), ", ".join(GROUPS)))
        for g in only:
            for p in GROUPS[g]():
                print("%8d  %s" % (os.path.getsize(p), os.path.relpath(p, ROOT)))
        return 0
    paths = []
    for name, module, o, dims in LAYER_CASES:
        paths.append(make_layer_case(name, module, o, dims))
    for name, module, o, lengths, enforce_sorted in PACKED_CASES:
        paths.append(make_packed_case(name, module, o, lengths, enforce_sorted))
    for name, module, o, dims in CELL_CASES:
        paths.append(make_cell_case(name, module, o, dims))
    for name, cls, kwargs in OPTIM_CASES:
        paths.append(make_optim_case(name, cls, kwargs))
    paths.append(make_clip_case())
    paths.extend(make_char_model())
    for g in GROUPS.values():
        paths.extend(g())
    total = 0
    for p in paths:
        size = os.path.getsize(p)
        total += size
        print("%8d  %s" % (size, os.path.relpath(p, ROOT)))
    print("%8d  total (%d files, all round-tripped through read_safetensors)" % (total, len(paths)))


if __name__ == "__main__":
    sys.exit(main())
