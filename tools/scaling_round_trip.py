"""The round trip of docs/scaling.md, run for real, and the page written from its output:

  1. train a text model here (`recurrent train text`),
  2. export it as a PyTorch package (`recurrent export --pytorch`),
  3. continue training it with torchrun on 2 processes (DistributedDataParallel, gloo, CPU),
  4. load the run folder PyTorch wrote back here (`recurrent eval text --json`) and compare the
     validation loss with the one PyTorch reported for the same weights.

Needs Debian's PyTorch 1.13 (/usr/bin/python3, torchrun) and the repository's node_modules. Not part
of `npm test` (it needs PyTorch); `npm test` checks the exported package's files and names.

    /usr/bin/python3 tools/scaling_round_trip.py [--steps-here 200] [--steps-torch 200]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOC = os.path.join(ROOT, "docs", "scaling.md")


def recurrent(*args):
    command = ["node", "--import", "tsx", "src/cli/main.ts", *args]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit("recurrent %s failed:\n%s" % (" ".join(args), result.stderr))
    return result.stdout


def last_json(text):
    return json.loads([line for line in text.splitlines() if line.startswith("{")][-1])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps-here", type=int, default=200)
    parser.add_argument("--steps-torch", type=int, default=200)
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="recurrent-scaling-")
    run, package, continued = (os.path.join(work, name) for name in ("run", "package", "run-torch"))
    train_args = ["--cell", "lstm", "--hidden", "128", "--seq-len", "64", "--batch", "16", "--seed", "1"]

    started = time.time()
    recurrent("train", "text", *train_args, "--steps", str(args.steps_here), "--out", run)
    here_seconds = time.time() - started
    before = last_json(recurrent("eval", "text", "--model", run, "--json"))
    recurrent("export", "--model", run, "--pytorch", package)

    started = time.time()
    env = dict(os.environ, OMP_NUM_THREADS="1")
    torch_run = subprocess.run(
        ["torchrun", "--redirects", "1", "--tee", "1", "--nproc_per_node", "2", "train.py",
         "--steps", str(args.steps_torch), "--eval-every", str(max(1, args.steps_torch // 2)), "--out", continued],
        cwd=package, capture_output=True, text=True, env=env)
    torch_seconds = time.time() - started
    if torch_run.returncode != 0:
        sys.exit("torchrun failed:\n%s\n%s" % (torch_run.stdout, torch_run.stderr))
    reports = [json.loads(line.split(":", 1)[1]) for line in torch_run.stdout.splitlines() if line.startswith("[default0]:{")]
    after = last_json(recurrent("eval", "text", "--model", continued, "--json"))
    best_torch = min(reports[1:], key=lambda r: r["val_loss"])

    import torch
    rows = [
        ("trained here, evaluated here (`recurrent eval`)", before["step"], before["loss"], ""),
        ("the same weights in PyTorch (train.py, before training)", reports[0]["step"], reports[0]["val_loss"], "%.1e" % abs(reports[0]["val_loss"] - before["loss"])),
    ]
    rows += [("torchrun, 2 processes, step %d (PyTorch's report)" % r["step"], r["step"], r["val_loss"], "") for r in reports[1:]]
    rows.append(("best of those, loaded back here (`recurrent eval`)", after["step"], after["loss"], "%.1e" % abs(after["loss"] - best_torch["val_loss"])))
    table = "\n".join("| %s | %d | %.9f | %s |" % row for row in rows)
    page = """# Beyond one machine: continuing training with PyTorch

A model trained with this library is a PyTorch model by construction (the same parameter names,
shapes, gate order and equations), so a run that outgrows one machine goes on in PyTorch with
DistributedDataParallel, on as many processes and machines as `torchrun` is given, and comes back:

```sh
recurrent train text --cell lstm --hidden 128 --seq-len 64 --batch 16 --out runs/text
recurrent export --model runs/text --pytorch runs/text-pytorch
cd runs/text-pytorch && torchrun --nproc_per_node 2 train.py --steps 200 --eval-every 100 --out ../text-continued
recurrent eval text --model runs/text-continued --json
```

The package holds `model.py` (the same architecture; the peephole LSTM, which PyTorch lacks, is
written out with the same parameter names), `weights.safetensors`, `train.py` (DistributedDataParallel;
gloo on CPU, nccl where every process has a GPU), `safetensors_io.py` (the file format with the
standard library: Debian packages no Python safetensors), the model's sizes and the run's config, and
for text runs the run's own token ids and split (`data.safetensors`), so PyTorch trains and evaluates
on exactly the numbers the library does. Each process trains `batch` streams of its own share of the
training text (the global batch is batch x processes), carrying the recurrent state as the library
does; process 0 evaluates the validation text the way `recurrent eval` does and writes a run folder
(config.json, best.safetensors, latest.safetensors) that the library loads. `train.py` continues text
runs; for the other tasks the package's model and weights load in PyTorch, but their data pipelines
are not written in Python yet.

Debian's PyTorch 1.13 under Python 3.11 needs `torchrun --redirects 1 --tee 1 ...`: its default (no
redirection) trips over a change in Python 3.11's `enum.Flag`.

## The round trip, measured

Written by `tools/scaling_round_trip.py` (PyTorch %s, %s): %d steps here (%.0f s), then %d steps with
`torchrun --nproc_per_node 2` on the CPU with gloo (%.0f s, both processes on a 2-core machine shared
with other work), then loaded back here. Validation loss in nats per character on the held-out 10%% of
the shipped Austen text (LSTM, 1 layer, 128 hidden, embedding 32, sequences of 64, batch 16 per process).

| what | step | validation loss | difference |
|---|---:|---:|---:|
%s

The same weights give the same evaluation in both libraries, before and after PyTorch trained them
(float32 throughout; the differences are float32 rounding of sums taken in another order).
""" % (torch.__version__, "Python %d.%d" % sys.version_info[:2], args.steps_here, here_seconds, args.steps_torch, torch_seconds, table)
    with open(DOC, "w") as f:
        f.write(page)
    print(page)
    print("work folder:", work)


if __name__ == "__main__":
    main()
