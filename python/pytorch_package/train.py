"""Continues a `recurrent` text run in PyTorch, on any number of processes or machines, with
DistributedDataParallel (gloo on CPU, nccl when every process has a GPU):

    torchrun --nproc_per_node 2 train.py --steps 200 --out ../my-run-continued
    torchrun --nnodes 4 --nproc_per_node 8 --rdzv_endpoint HOST:29500 train.py --steps 10000 --out RUN

Each process trains `batch` streams of its own contiguous share of the training text (the global
batch is batch x processes), carrying the recurrent state from chunk to chunk as the library does;
gradients are averaged across processes, clipped to the run's total norm and applied by the run's
optimizer. Process 0 evaluates on the validation text exactly as `recurrent eval` does (the same
streams, the same state carrying) before training and every --eval-every steps, prints one JSON line
per evaluation, and writes --out as a run folder that the library reads back:

    recurrent eval text --model RUN --json

(Debian's PyTorch 1.13 under Python 3.11 needs `torchrun --redirects 1 --tee 1 ...`: its default of no
redirection trips over a change in Python 3.11's enum.Flag.)

Written by `recurrent export --pytorch`; the data (the run's own token ids and split) is in
data.safetensors, the starting weights in weights.safetensors.
"""
import argparse
import json
import math
import os

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel

from model import SequenceModel, load_weights
from safetensors_io import load, save

HERE = os.path.dirname(os.path.abspath(__file__))


def chunks(ids, seq_len, streams):
    """The library's LanguageModelBatches: `streams` equal rows of the text, read seq_len steps at a
    time; yields (inputs, targets), each [steps, streams]."""
    per_stream = len(ids) // streams
    rows = ids[: per_stream * streams].view(streams, per_stream)
    for k in range(math.ceil((per_stream - 1) / seq_len)):
        start = k * seq_len
        steps = min(seq_len, per_stream - 1 - start)
        yield rows[:, start:start + steps].t(), rows[:, start + 1:start + 1 + steps].t()


def stream_loss(model, ids, seq_len, max_streams):
    """Mean cross-entropy in nats per token, as the library's evaluation computes it."""
    steps = min(seq_len, len(ids) - 1)
    streams = max(1, min(max_streams, len(ids) // (steps + 1)))
    total, count, state = 0.0, 0, None
    model.eval()
    with torch.no_grad():
        for inputs, targets in chunks(ids, steps, streams):
            logits, state = model(inputs, state)
            n = inputs.numel()
            total += F.cross_entropy(logits.reshape(n, -1), targets.reshape(n)).item() * n
            count += n
    return total / count


def detach(state):
    return tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()


def make_optimizer(name, params, lr):
    if name == "adam":
        return torch.optim.Adam(params, lr=lr)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=0.9)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr)
    raise ValueError("unknown optimizer %r" % name)


def save_run(out, model, step, name):
    tensors = {"model." + k: v for k, v in model.state_dict().items()}
    save(os.path.join(out, name), tensors, {"format": "recurrent-checkpoint", "version": "1", "step": str(step)})


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, required=True, help="training steps to take (each process takes them together)")
    parser.add_argument("--out", required=True, help="run folder to write (config.json, best.safetensors, latest.safetensors)")
    parser.add_argument("--eval-every", type=int, default=0, help="evaluate and save every n steps (default: at the end only)")
    parser.add_argument("--lr", type=float, default=None, help="learning rate (default: the run's)")
    args = parser.parse_args()

    with open(os.path.join(HERE, "run_config.json")) as f:
        run_config = json.load(f)
    if run_config["task"] != "text":
        raise SystemExit("train.py continues text runs; this package holds a %s run (model.py and the weights still load)" % run_config["task"])
    with open(os.path.join(HERE, "model_config.json")) as f:
        model_config = json.load(f)
    training = run_config["training"]

    backend = "nccl" if torch.cuda.is_available() and os.environ.get("RECURRENT_BACKEND") != "gloo" else "gloo"
    dist.init_process_group(backend)
    rank, world = dist.get_rank(), dist.get_world_size()
    torch.manual_seed(training["seed"] + rank)  # dropout masks differ per process

    model = SequenceModel(model_config)
    start_step = load_weights(model, os.path.join(HERE, "weights.safetensors"))
    data, _ = load(os.path.join(HERE, "data.safetensors"))
    train_ids, val_ids = data["train_ids"].long(), data["val_ids"].long()
    seq_len, batch = training["seqLen"], training["batch"]
    share = len(train_ids) // world
    mine = train_ids[rank * share:(rank + 1) * share]
    if share // batch < seq_len + 1:
        raise SystemExit("each of %d processes gets %d training tokens: too few for %d streams of %d + 1" % (world, share, batch, seq_len))
    batches = list(chunks(mine, seq_len, batch))
    evaluation_ids = val_ids if len(val_ids) >= 2 else train_ids

    parallel = DistributedDataParallel(model)
    optimizer = make_optimizer(training["optimizer"], model.parameters(), args.lr if args.lr is not None else training["lr"])
    clip = training.get("clip") or 0
    every = args.eval_every or args.steps
    best = math.inf
    if rank == 0:
        os.makedirs(args.out, exist_ok=True)
        config = dict(run_config)
        config["training"] = dict(training, steps=start_step + args.steps)
        config["continuedWith"] = {"pytorch": torch.__version__, "processes": world, "backend": backend, "fromStep": start_step}
        with open(os.path.join(args.out, "config.json"), "w") as f:
            json.dump(config, f, indent=2)
        loss = stream_loss(model, evaluation_ids, seq_len, batch)
        print(json.dumps({"step": start_step, "processes": world, "val_loss": loss, "val_bpc": loss / math.log(2)}), flush=True)

    state, position = None, 0
    for step in range(1, args.steps + 1):
        model.train()
        inputs, targets = batches[position]
        logits, state = parallel(inputs, state)
        loss = F.cross_entropy(logits.reshape(inputs.numel(), -1), targets.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        if clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        optimizer.step()
        position += 1
        if position == len(batches):  # a new epoch starts every stream from its beginning
            position, state = 0, None
        else:
            state = detach(state)
        if rank == 0 and (step % every == 0 or step == args.steps):
            val = stream_loss(model, evaluation_ids, seq_len, batch)
            print(json.dumps({"step": start_step + step, "train_loss": loss.item(), "val_loss": val, "val_bpc": val / math.log(2)}), flush=True)
            save_run(args.out, model, start_step + step, "latest.safetensors")
            if val < best:
                best = val
                save_run(args.out, model, start_step + step, "best.safetensors")
        dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
