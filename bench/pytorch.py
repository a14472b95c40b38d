"""The bench workloads in PyTorch, one cell per process, for `npm run bench` (bench/run.mjs).

    /usr/bin/python3 bench/pytorch.py WORKLOAD THREADS PROFILE      e.g. W1 1 full

run.mjs starts it with OMP_NUM_THREADS, OPENBLAS_NUM_THREADS = THREADS, OMP_WAIT_POLICY=PASSIVE and
LD_LIBRARY_PATH at OpenBLAS's pthread build, then reads the last line: BENCH_RESULT {json}. The shapes
and the timing rule (warm-up, rounds until the budget is spent, median round) are those of
bench/workloads.mjs and bench/measure.mjs; keep them in step.
"""
import ctypes
import json
import math
import resource
import sys
import time

import torch

PROFILES = {
    'full': dict(warmup=4, budget=10, round=0.25, slow_cutoff=20, max_rounds=200),
    'quick': dict(warmup=0.5, budget=2.5, round=0.1, slow_cutoff=6, max_rounds=100),
}


def measure(unit, profile):
    p = PROFILES[profile]
    start = time.perf_counter()
    unit()
    first = time.perf_counter() - start
    if first > p['slow_cutoff']:
        return dict(rate=1 / first, rounds=[1 / first], units=1, first=first, short=True, note='one call, the first (it includes warm-up)')
    # Round size from the mean warm-up call after the first (as measure.mjs does).
    warm_units, warm_start = 0, time.perf_counter()
    while time.perf_counter() - start < p['warmup']:
        unit()
        warm_units += 1
    per_unit = (time.perf_counter() - warm_start) / warm_units if warm_units else first
    per_round = max(1, math.ceil(p['round'] / max(per_unit, 1e-7)))
    rounds, units = [], 0
    measure_start = time.perf_counter()
    while not rounds or (time.perf_counter() - measure_start < p['budget'] and len(rounds) < p['max_rounds']):
        t = time.perf_counter()
        for _ in range(per_round):
            unit()
        seconds = time.perf_counter() - t
        rounds.append(per_round / seconds)
        units += per_round
        # Rounds follow the unit's speed once warm (as measure.mjs does).
        per_round = max(1, min(4 * per_round, round(per_round * p['round'] / seconds)))
    s = sorted(rounds)
    m = len(s) // 2
    median = s[m] if len(s) % 2 else (s[m - 1] + s[m]) / 2
    short = len(rounds) < 5
    return dict(rate=median, rounds=rounds, units=units, first=first, short=short,
                note=f'short sample: {units} units in {len(rounds)} round(s)' if short else None)


def trainer(modules, optimizer, loss_fn, clip=None):
    params = [p for m in modules for p in m.parameters()]

    def step():
        optimizer.zero_grad()
        loss_fn().backward()
        if clip:
            torch.nn.utils.clip_grad_norm_(params, clip)
        optimizer.step()
    return step


def setup(workload):
    torch.manual_seed(1)
    nn = torch.nn
    if workload == 'W1':
        T, B, V, H = 64, 32, 65, 256
        ids = torch.randint(0, V, (T + 1, B))
        x = torch.nn.functional.one_hot(ids[:-1], V).float()
        y = ids[1:].reshape(-1)
        lstm, head = nn.LSTM(V, H, 2), nn.Linear(H, V)
        opt = torch.optim.Adam([*lstm.parameters(), *head.parameters()], lr=0.002)
        return trainer([lstm, head], opt, lambda: nn.functional.cross_entropy(head(lstm(x)[0]).reshape(T * B, V), y), clip=5)
    if workload == 'W6':
        # W1 on a packed batch: lengths as bench/workloads.mjs w6Lengths(), the loss over real tokens.
        T, B, V, H = 64, 32, 65, 256
        lengths = torch.tensor([16 + round(48 * ((b * 13) % 32) / 31) for b in range(B)])
        ids = torch.randint(0, V, (T + 1, B))
        x = torch.nn.functional.one_hot(ids[:-1], V).float()
        pack = torch.nn.utils.rnn.pack_padded_sequence
        y = pack(ids[1:], lengths, enforce_sorted=False).data
        lstm, head = nn.LSTM(V, H, 2), nn.Linear(H, V)
        opt = torch.optim.Adam([*lstm.parameters(), *head.parameters()], lr=0.002)
        return trainer([lstm, head], opt, lambda: nn.functional.cross_entropy(head(lstm(pack(x, lengths, enforce_sorted=False))[0].data), y), clip=5)
    if workload == 'W2':
        T = 20
        wave = torch.sin(torch.arange(T + 1, dtype=torch.float32) * 0.3 + 1.0)
        x, y = wave[:-1].reshape(T, 1, 1), wave[1:].reshape(T, 1, 1)
        rnn, head = nn.RNN(1, 32, nonlinearity='tanh'), nn.Linear(32, 1)
        opt = torch.optim.Adam([*rnn.parameters(), *head.parameters()], lr=0.01)
        return trainer([rnn, head], opt, lambda: nn.functional.mse_loss(head(rnn(x)[0]), y))
    if workload == 'W3':
        T, B, I, H = 100, 64, 32, 128
        x, y = torch.randn(T, B, I), torch.randn(T, B, 1)
        gru, head = nn.GRU(I, H), nn.Linear(H, 1)
        opt = torch.optim.SGD([*gru.parameters(), *head.parameters()], lr=0.01)
        return trainer([gru, head], opt, lambda: nn.functional.mse_loss(head(gru(x)[0]), y))
    if workload == 'W4':
        V, H, L, N = 65, 512, 2, 1000
        lstm, head = nn.LSTM(V, H, L).eval(), nn.Linear(H, V).eval()
        state = dict(produced=N, token=0, hc=None)
        x = torch.zeros(1, 1, V)

        @torch.no_grad()
        def token():
            if state['produced'] == N:
                state.update(produced=0, token=0, hc=None)
            x.zero_()
            x[0, 0, state['token']] = 1
            out, state['hc'] = lstm(x, state['hc'])
            probs = torch.softmax(head(out[0, 0]), dim=-1)
            state['token'] = int(torch.multinomial(probs, 1))
            state['produced'] += 1
        return token
    if workload == 'W5':
        T, B, I, H = 50, 64, 256, 512
        x, y = torch.randn(T, B, I), torch.randn(T, B, H)
        lstm = nn.LSTM(I, H)
        opt = torch.optim.SGD(lstm.parameters(), lr=0.01)
        return trainer([lstm], opt, lambda: nn.functional.mse_loss(lstm(x)[0], y))
    raise ValueError(f'unknown workload {workload}')


def blas_info():
    """Which BLAS this process really runs (the mapped library), and OpenBLAS's own report if it is that."""
    with open('/proc/self/maps') as f:
        libs = sorted({line.split()[-1] for line in f if 'blas' in line.lower() and '/' in line})
    info = dict(mapped=libs)
    try:
        ob = ctypes.CDLL('libopenblas.so.0')
        for name in ('openblas_get_config', 'openblas_get_corename'):
            fn = getattr(ob, name)
            fn.restype = ctypes.c_char_p
            info[name.replace('openblas_get_', '')] = fn().decode()
        info['threads'] = ob.openblas_get_num_threads()
    except (OSError, AttributeError):
        pass
    return info


def main():
    workload, threads, profile = sys.argv[1], int(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else 'full'
    variant = f'{threads}t'
    try:
        torch.set_num_threads(threads)
        unit = setup(workload)
        timing = measure(unit, profile)
        result = dict(ok=True, lib='pytorch', variant=variant, workload=workload, version=torch.__version__,
                      backend='cpu', threads=torch.get_num_threads(), blas=blas_info(),
                      rate=timing['rate'], roundRates=timing['rounds'], units=timing['units'], unitsPerStep=1,
                      firstCall=timing['first'], short=timing['short'], note=timing['note'],
                      memory=dict(peakRss=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024))
    except Exception as error:  # reported in the table, like the JavaScript cells' errors
        result = dict(ok=False, lib='pytorch', variant=variant, workload=workload, error=repr(error))
    print('\nBENCH_RESULT ' + json.dumps(result), flush=True)


if __name__ == '__main__':
    main()
