"""The library's four recipes as train.py reads them: how a training batch is drawn and its loss
computed, and how the validation figure `recurrent eval` reports is computed, on the run's own
prepared data (data.safetensors, written by `recurrent export --pytorch`).

Each process draws its own batches (text: its own contiguous share of the training text; the others:
random windows or signals from its own seeded generator), so the global batch is batch x processes.
"""
import json
import math

import torch
import torch.nn.functional as F


def detach(state):
    if state is None:
        return None
    return tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()


def text_chunks(ids, seq_len, streams):
    """The library's LanguageModelBatches: `streams` equal rows of the text, read seq_len steps at a
    time; yields (inputs, targets), each [steps, streams]."""
    per_stream = len(ids) // streams
    rows = ids[: per_stream * streams].view(streams, per_stream)
    for k in range(math.ceil((per_stream - 1) / seq_len)):
        start = k * seq_len
        steps = min(seq_len, per_stream - 1 - start)
        yield rows[:, start:start + steps].t(), rows[:, start + 1:start + 1 + steps].t()


class TextTask:
    """Streams of the training text with the state carried from chunk to chunk; validation: the
    validation text (its first validationBatches x batch x seq_len characters when the run set that)
    read the same way, mean cross-entropy in nats per character."""

    carries_state = True

    def __init__(self, data, meta, training, rank, world):
        train_ids, val_ids = data["train_ids"].long(), data["val_ids"].long()
        self.seq_len, self.batch = training["seqLen"], training["batch"]
        share = len(train_ids) // world
        mine = train_ids[rank * share:(rank + 1) * share]
        if share // self.batch < self.seq_len + 1:
            raise SystemExit("each of %d processes gets %d training tokens: too few for %d streams of %d + 1" % (world, share, self.batch, self.seq_len))
        self.batches = list(text_chunks(mine, self.seq_len, self.batch))
        self.position = 0
        scored = val_ids if len(val_ids) >= 2 else train_ids
        # The library scores the first validationBatches x batch x seq_len characters when that is set.
        cap = int(meta.get("validationBatches", "0"))
        self.evaluation_ids = scored[: cap * self.batch * self.seq_len + 1] if cap > 0 else scored

    def train_loss(self, model, state):
        inputs, targets = self.batches[self.position]
        logits, state = model(inputs, state)
        loss = F.cross_entropy(logits.reshape(inputs.numel(), -1), targets.reshape(-1))
        self.position += 1
        if self.position == len(self.batches):  # a new epoch starts every stream from its beginning
            self.position, state = 0, None
        return loss, state

    def evaluate(self, model):
        ids = self.evaluation_ids
        steps = min(self.seq_len, len(ids) - 1)
        streams = max(1, min(self.batch, len(ids) // (steps + 1)))
        total, count, state = 0.0, 0, None
        for inputs, targets in text_chunks(ids, steps, streams):
            logits, state = model(inputs, state)
            n = inputs.numel()
            total += F.cross_entropy(logits.reshape(n, -1), targets.reshape(n)).item() * n
            count += n
        return total / count


class SeriesTask:
    """Random windows of the z-scored training part, next-value MSE (target `delta`: the model
    predicts the change, added to the input); validation: one-step-ahead MSE in z-scale on every point
    of the validation part, each predicted from the seq_len values before it."""

    carries_state = False

    def __init__(self, data, meta, training, rank, world):
        self.z = data["z"]
        self.seq_len, self.batch = training["seqLen"], training["batch"]
        self.split, self.test, self.eval_from = int(meta["splitIndex"]), int(meta["testIndex"]), int(meta["evalFrom"])
        self.delta = meta["target"] == "delta"
        self.windows = self.split - self.seq_len
        self.generator = torch.Generator().manual_seed(training["seed"] * 1000 + rank)

    def predict(self, model, inputs):
        output, _ = model(inputs)
        return output + inputs if self.delta else output

    def train_loss(self, model, state):
        starts = torch.randint(self.windows, (self.batch,), generator=self.generator)
        index = starts[None, :] + torch.arange(self.seq_len)[:, None]  # [seq, batch]
        inputs, targets = self.z[index].unsqueeze(2), self.z[index + 1].unsqueeze(2)
        return F.mse_loss(self.predict(model, inputs), targets), None

    def evaluate(self, model):
        points = torch.arange(self.eval_from, self.test)
        total = 0.0
        for k in range(0, len(points), 512):
            chunk = points[k:k + 512]
            index = chunk[None, :] - self.seq_len + torch.arange(self.seq_len)[:, None]
            prediction = self.predict(model, self.z[index].unsqueeze(2))[-1, :, 0]
            total += ((prediction - self.z[chunk]) ** 2).sum().item()
        return total / len(points)


class MusicTask:
    """Random windows of the training steps, next-step negative log-likelihood (mono: cross-entropy
    over the classes; poly: per-pitch binary cross-entropy summed over pitches, per step); validation:
    a stream through each of the validation stretches (the whole part, or each piece's steps in it for
    a run trained with --windows pieces) with the state carried inside one, NLL per step."""

    carries_state = False

    def __init__(self, data, meta, training, rank, world):
        self.mono = meta["encoding"] == "mono"
        self.source = data["ids"].long() if self.mono else data["rows"]
        self.seq_len, self.batch = training["seqLen"], training["batch"]
        self.windows = int(meta["splitIndex"]) - self.seq_len
        eval_from, eval_to = int(meta["evalFrom"]), int(meta["evalTo"])
        # packages exported before evalSpans existed score the whole part as one stream
        self.eval_spans = json.loads(meta["evalSpans"]) if "evalSpans" in meta else [[eval_from, eval_to]]
        self.generator = torch.Generator().manual_seed(training["seed"] * 1000 + rank)

    def window(self, starts, length):
        index = starts[None, :] + torch.arange(length)[:, None]
        return self.source[index], self.source[index + 1]

    def nll(self, logits, targets):
        steps, batch = targets.shape[0], targets.shape[1]
        if self.mono:
            return F.cross_entropy(logits.reshape(steps * batch, -1), targets.reshape(-1))
        return F.binary_cross_entropy_with_logits(logits, targets, reduction="sum") / (steps * batch)

    def train_loss(self, model, state):
        starts = torch.randint(self.windows, (self.batch,), generator=self.generator)
        inputs, targets = self.window(starts, self.seq_len)
        logits, _ = model(inputs)
        return self.nll(logits, targets), None

    def evaluate(self, model):
        total, count = 0.0, 0
        for start, end in self.eval_spans:
            state = None
            for s in range(start, end - 1, self.seq_len):
                length = min(self.seq_len, end - 1 - s)
                inputs, targets = self.window(torch.tensor([s]), length)
                logits, state = model(inputs, state)
                total += self.nll(logits, targets).item() * length
                count += length
        return total / count


class DenoiseTask:
    """Noisy signals in, clean signals out, MSE: training signals are random windows of the z-scored
    training part (or, for runs on sine mixtures, fresh mixtures of three sines with log-uniform
    periods in [8, 64] samples, amplitudes in [0.2, 1], peak-normalised) plus Gaussian noise at the
    run's SNR; validation: the library's own validation pairs, MSE to the clean signals."""

    carries_state = False

    def __init__(self, data, meta, training, rank, world):
        self.seq_len, self.batch = training["seqLen"], training["batch"]
        self.snr = float(meta["snr"])
        self.values = data.get("train_values")
        self.val_clean, self.val_noisy = data["val_clean"], data["val_noisy"]
        self.generator = torch.Generator().manual_seed(training["seed"] * 1000 + rank)

    def uniform(self, shape, low, high):
        return low + (high - low) * torch.rand(shape, generator=self.generator, dtype=torch.float64)

    def clean_signals(self):
        if self.values is not None:
            starts = torch.randint(len(self.values) - self.seq_len + 1, (self.batch,), generator=self.generator)
            return self.values[starts[:, None] + torch.arange(self.seq_len)[None, :]]
        periods = torch.exp(self.uniform((self.batch, 3, 1), math.log(8), math.log(64)))
        amplitudes = self.uniform((self.batch, 3, 1), 0.2, 1)
        phases = self.uniform((self.batch, 3, 1), 0, 2 * math.pi)
        t = torch.arange(self.seq_len, dtype=torch.float64)
        mixture = (amplitudes * torch.sin(2 * math.pi * t / periods + phases)).sum(1)
        return (mixture / mixture.abs().amax(1, keepdim=True)).float()

    def noisy(self, clean):
        power = (clean.double() ** 2).mean(1, keepdim=True)
        std = torch.sqrt(power / 10 ** (self.snr / 10))
        return (clean + std * torch.randn(clean.shape, generator=self.generator, dtype=torch.float64)).float()

    def train_loss(self, model, state):
        clean = self.clean_signals()
        output, _ = model(self.noisy(clean).t().unsqueeze(2))
        return F.mse_loss(output, clean.t().unsqueeze(2)), None

    def evaluate(self, model):
        output, _ = model(self.val_noisy.t().unsqueeze(2))
        return ((output[:, :, 0].t() - self.val_clean) ** 2).mean().item()


TASKS = {"text": TextTask, "series": SeriesTask, "music": MusicTask, "denoise": DenoiseTask}
