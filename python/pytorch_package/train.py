"""Continues a `recurrent` run (any task: text, series, music, denoise) in PyTorch, on any number of
processes or machines, with DistributedDataParallel (gloo on CPU, nccl when every process has a GPU):

    torchrun --nproc_per_node 2 train.py --steps 200 --out ../my-run-continued
    torchrun --nnodes 4 --nproc_per_node 8 --rdzv_endpoint HOST:29500 train.py --steps 10000 --out RUN

Each process trains `batch` sequences per step (the global batch is batch x processes), drawn as the
library's recipe draws them (tasks.py): text streams of its own contiguous share of the training
text, carrying the recurrent state as the library does; random windows of the series or the music;
fresh noisy signals for denoising. Gradients are averaged across processes, clipped to the run's total
norm and applied by the run's optimizer. Process 0 evaluates on the validation part exactly as
`recurrent eval` does before training and every --eval-every steps, prints one JSON line per
evaluation, and writes --out as a run folder that the library reads back:

    recurrent eval TASK --model RUN --json

(Debian's PyTorch 1.13 under Python 3.11 needs `torchrun --redirects 1 --tee 1 ...`: its default of no
redirection trips over a change in Python 3.11's enum.Flag.)

Written by `recurrent export --pytorch`; the run's own prepared data and split are in
data.safetensors, the starting weights in weights.safetensors.
"""
import argparse
import json
import math
import os

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from model import SequenceModel, load_weights
from safetensors_io import load, save
from tasks import TASKS, detach

HERE = os.path.dirname(os.path.abspath(__file__))


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
    with open(os.path.join(HERE, "model_config.json")) as f:
        model_config = json.load(f)
    training = run_config["training"]
    if run_config["task"] not in TASKS:
        raise SystemExit("train.py knows the tasks %s; this package holds a %s run" % (", ".join(TASKS), run_config["task"]))

    backend = "nccl" if torch.cuda.is_available() and os.environ.get("RECURRENT_BACKEND") != "gloo" else "gloo"
    dist.init_process_group(backend)
    rank, world = dist.get_rank(), dist.get_world_size()
    torch.manual_seed(training["seed"] + rank)  # dropout masks differ per process

    model = SequenceModel(model_config)
    start_step = load_weights(model, os.path.join(HERE, "weights.safetensors"))
    data, meta = load(os.path.join(HERE, "data.safetensors"))
    task = TASKS[run_config["task"]](data, meta, training, rank, world)

    def evaluate():
        model.eval()
        with torch.no_grad():
            return task.evaluate(model)

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
        print(json.dumps({"step": start_step, "processes": world, "val_loss": evaluate()}), flush=True)

    state = None
    for step in range(1, args.steps + 1):
        model.train()
        loss, state = task.train_loss(parallel, state)
        optimizer.zero_grad()
        loss.backward()
        if clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        optimizer.step()
        state = detach(state)
        if rank == 0 and (step % every == 0 or step == args.steps):
            val = evaluate()
            print(json.dumps({"step": start_step + step, "train_loss": loss.item(), "val_loss": val}), flush=True)
            save_run(args.out, model, start_step + step, "latest.safetensors")
            if val < best:
                best = val
                save_run(args.out, model, start_step + step, "best.safetensors")
        dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
