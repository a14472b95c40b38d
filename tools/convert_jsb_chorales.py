#!/usr/bin/python3
"""Converts the JSB chorales (quarter-note grid) into the compact file the library ships.

Source
    jsb-chorales-quarter.json of github.com/czhuang/JSB-Chorales-dataset: the Bach chorales with
    the train / valid / test split of Boulanger-Lewandowski et al. (2012), each chorale a list of
    time steps on a quarter-note grid, each step the list of sounding MIDI pitches (21..108).

Output
    data/music/jsb-chorales/jsb-chorales-quarter.txt.gz: gzip (no name, mtime 0, so the bytes are
    reproducible) of a text file read by src/data/chorales.ts:

        jsb-chorales 1 steps-per-quarter 1
        train <chorales> <steps>
        <one chorale per line: steps separated by spaces; a step is its pitches in ascending
         order joined by ',' or '-' for a silent step>
        valid <chorales> <steps>
        ...
        test <chorales> <steps>
        ...

    The counts let the loader notice a truncated or edited file. Nothing else changes: the order of
    chorales and steps, the split and the pitches are the source's.

How to run it (from the repository root)
    /usr/bin/python3 tools/convert_jsb_chorales.py SOURCE.json
    where SOURCE.json is, for instance, the output of
    git -C <clone of JSB-Chorales-dataset> show 9a7f733ddb4ed91f48da64ac7f0f621c34aadd4d:jsb-chorales-quarter.json
"""
import gzip
import json
import sys

OUT = 'data/music/jsb-chorales/jsb-chorales-quarter.txt.gz'
SPLITS = ('train', 'valid', 'test')


def step_text(step):
    pitches = sorted(int(p) for p in step)
    for p in pitches:
        if not 21 <= p <= 108:
            raise ValueError(f'pitch {p} is outside the piano range 21..108')
    if len(set(pitches)) != len(pitches):
        raise ValueError(f'a step repeats a pitch: {pitches}')
    return ','.join(str(p) for p in pitches) if pitches else '-'


def main(source):
    with open(source) as f:
        data = json.load(f)
    lines = ['jsb-chorales 1 steps-per-quarter 1']
    for split in SPLITS:
        chorales = data[split]
        lines.append(f'{split} {len(chorales)} {sum(len(c) for c in chorales)}')
        lines.extend(' '.join(step_text(s) for s in chorale) for chorale in chorales)
    text = ('\n'.join(lines) + '\n').encode('ascii')
    with open(OUT, 'wb') as f:
        f.write(gzip.compress(text, compresslevel=9, mtime=0))
    print(f'{OUT}: {len(text)} bytes of text, {sum(len(data[s]) for s in SPLITS)} chorales')


if __name__ == '__main__':
    main(sys.argv[1])
