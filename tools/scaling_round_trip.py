"""The round trip of docs/scaling.md, run for real, and the page written from its output:

  1. train a text model here (`recurrent train text`),
  2. export it as a PyTorch package (`recurrent export --pytorch`),
  3. continue training it with torchrun on 2 processes (DistributedDataParallel, gloo, CPU),
  4. load the run folder PyTorch wrote back here (`recurrent eval text --split validation --json`)
     and compare the validation loss with the one PyTorch reported for the same weights;

then the same, briefly, for a small run of every other task (series, music mono and poly, denoise
on sine mixtures and on a series).

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


def torchrun(package, steps, out):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    result = subprocess.run(
        ["torchrun", "--redirects", "1", "--tee", "1", "--nproc_per_node", "2", "train.py",
         "--steps", str(steps), "--eval-every", str(max(1, steps // 2)), "--out", out],
        cwd=package, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        sys.exit("torchrun failed:\n%s\n%s" % (result.stdout, result.stderr))
    return [json.loads(line.split(":", 1)[1]) for line in result.stdout.splitlines() if line.startswith("[default0]:{")]


# Small runs of the other tasks: (label, task, training arguments).
OTHER_TASKS = [
    ("series (sine, LSTM 16, windows of 32)", "series", ["--data", "sine", "--cell", "lstm", "--hidden", "16", "--seq-len", "32", "--batch", "8"]),
    ("music, mono (shipped, GRU 32, embedding 16)", "music", ["--cell", "gru", "--hidden", "32", "--embedding", "16", "--seq-len", "32", "--batch", "8"]),
    ("music, poly piano roll (shipped, LSTM 32)", "music", ["--encoding", "poly", "--cell", "lstm", "--hidden", "32", "--seq-len", "32", "--batch", "8"]),
    ("denoise (sine mixtures, GRU 16, 5 dB)", "denoise", ["--cell", "gru", "--hidden", "16", "--seq-len", "32", "--batch", "8"]),
    ("denoise (LakeHuron, LSTM 16, 5 dB)", "denoise", ["--data", "data/series/LakeHuron.csv", "--cell", "lstm", "--hidden", "16", "--seq-len", "8", "--batch", "8"]),
]


def other_tasks(work, steps_here, steps_torch):
    rows = []
    for i, (label, task, train_args) in enumerate(OTHER_TASKS):
        run, package, continued = (os.path.join(work, "%s-%d-%s" % (task, i, name)) for name in ("run", "package", "torch"))
        recurrent("train", task, *train_args, "--seed", "1", "--steps", str(steps_here), "--out", run)
        here = last_json(recurrent("eval", task, "--model", run, "--split", "validation", "--json"))
        recurrent("export", "--model", run, "--pytorch", package)
        reports = torchrun(package, steps_torch, continued)
        back = last_json(recurrent("eval", task, "--model", continued, "--split", "validation", "--json"))
        best = min(reports[1:], key=lambda r: r["val_loss"])
        rows.append("| %s | %.9f | %.9f | %.1e | %.9f (step %d) | %.9f | %.1e |" % (
            label, here["loss"], reports[0]["val_loss"], abs(here["loss"] - reports[0]["val_loss"]),
            best["val_loss"], best["step"], back["loss"], abs(back["loss"] - best["val_loss"])))
    return "\n".join(rows)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps-here", type=int, default=200)
    parser.add_argument("--steps-torch", type=int, default=200)
    parser.add_argument("--steps-other", type=int, default=100, help="steps here and in PyTorch for the other tasks")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="recurrent-scaling-")
    run, package, continued = (os.path.join(work, name) for name in ("run", "package", "run-torch"))
    train_args = ["--cell", "lstm", "--hidden", "128", "--seq-len", "64", "--batch", "16", "--seed", "1"]

    started = time.time()
    recurrent("train", "text", *train_args, "--steps", str(args.steps_here), "--out", run)
    here_seconds = time.time() - started
    before = last_json(recurrent("eval", "text", "--model", run, "--split", "validation", "--json"))
    recurrent("export", "--model", run, "--pytorch", package)

    started = time.time()
    reports = torchrun(package, args.steps_torch, continued)
    torch_seconds = time.time() - started
    after = last_json(recurrent("eval", "text", "--model", continued, "--split", "validation", "--json"))
    best_torch = min(reports[1:], key=lambda r: r["val_loss"])

    import torch
    rows = [
        ("trained here, evaluated here (`recurrent eval`)", before["step"], before["loss"], ""),
        ("the same weights in PyTorch (train.py, before training)", reports[0]["step"], reports[0]["val_loss"], "%.1e" % abs(reports[0]["val_loss"] - before["loss"])),
    ]
    rows += [("torchrun, 2 processes, step %d (PyTorch's report)" % r["step"], r["step"], r["val_loss"], "") for r in reports[1:]]
    rows.append(("best of those, loaded back here (`recurrent eval`)", after["step"], after["loss"], "%.1e" % abs(after["loss"] - best_torch["val_loss"])))
    table = "\n".join("| %s | %d | %.9f | %s |" % row for row in rows)
    started = time.time()
    others = other_tasks(work, args.steps_other, args.steps_other)
    other_seconds = time.time() - started
    page = """# Beyond one machine: continuing training with PyTorch

A model trained with this library is a PyTorch model by construction (the same parameter names,
shapes, gate order and equations), so a run that outgrows one machine goes on in PyTorch with
DistributedDataParallel, on as many processes and machines as `torchrun` is given, and comes back:

```sh
recurrent train text --cell lstm --hidden 128 --seq-len 64 --batch 16 --out runs/text
recurrent export --model runs/text --pytorch runs/text-pytorch
cd runs/text-pytorch && torchrun --nproc_per_node 2 train.py --steps 200 --eval-every 100 --out ../text-continued
recurrent eval text --model runs/text-continued --split validation --json
```

The package holds `model.py` (the same architecture; the peephole LSTM, which PyTorch lacks, is
written out with the same parameter names), `weights.safetensors`, `train.py` (DistributedDataParallel;
gloo on CPU, nccl where every process has a GPU), `safetensors_io.py` (the file format with the
standard library: Debian packages no Python safetensors), `tasks.py` (the four recipes), the model's
sizes and the run's config, and the run's own prepared data and split (`data.safetensors`: the token
ids for text, the z-scored series, the encoded music, the denoising validation pairs and training
values), so PyTorch trains and evaluates on exactly the numbers the library does. Every task
continues: each process draws `batch` sequences per step (the global batch is batch x processes) the
way the library's recipe does: text streams of its own share of the training text, carrying the
recurrent state; random windows of the series or of the music (cross-entropy for mono, per-pitch
binary cross-entropy for the piano roll); fresh noisy signals for denoising, at the run's SNR. Process
0 evaluates the validation part the way `recurrent eval --split validation` does and writes a run
folder (config.json, best.safetensors, latest.safetensors) that the library loads. Training batches
come from PyTorch's own seeded generators, so the continued run is not the run the library would
have made, only the same recipe; the evaluation is the same computation on the same numbers.

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

## Every task

The same round trip on small runs of the other tasks (%d steps here with seed 1, then %d steps with
`torchrun --nproc_per_node 2`, gloo; %.0f s for all five): the validation loss of each (series: MSE of
one-step-ahead predictions in z-scale; music: NLL per step in nats; denoise: MSE to the clean
signals) as `recurrent eval --split validation` computes it here and as train.py computes it.

| run | here | PyTorch, same weights | difference | PyTorch's best after training | loaded back here | difference |
|---|---:|---:|---:|---:|---:|---:|
%s
""" % (torch.__version__, "Python %d.%d" % sys.version_info[:2], args.steps_here, here_seconds, args.steps_torch, torch_seconds, table,
       args.steps_other, args.steps_other, other_seconds, others)
    with open(DOC, "w") as f:
        f.write(page)
    print(page)
    print("work folder:", work)


if __name__ == "__main__":
    main()
