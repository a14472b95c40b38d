/**
 * The music view: the piano roll of a generated continuation (drawn by the worker with src/viz),
 * Play through Web Audio (one oscillator per note, no samples) and the .mid download (the bytes the
 * worker wrote with src/data's MIDI writer).
 */
import type { FromWorker } from './protocol.js';

type Generated = Extract<FromWorker, { type: 'music' }>;

export interface MusicViewElements {
  roll: HTMLElement;
  play: HTMLButtonElement;
  download: HTMLAnchorElement;
}

/** Equal temperament from A4 = 440 Hz. */
const frequency = (pitch: number): number => 440 * 2 ** ((pitch - 69) / 12);

export class MusicView {
  private shown: Generated | null = null;
  private urls: string[] = [];
  private audio: AudioContext | null = null;
  private playing: { stop(): void } | null = null;

  constructor(private readonly elements: MusicViewElements) {
    elements.play.addEventListener('click', () => (this.playing ? this.stop() : this.play()));
  }

  show(generated: Generated): void {
    this.stop();
    this.shown = generated;
    for (const url of this.urls) URL.revokeObjectURL(url);
    const image = new Image();
    image.alt = 'piano roll of the generated continuation';
    image.src = URL.createObjectURL(new Blob([generated.svg], { type: 'image/svg+xml' }));
    const midi = URL.createObjectURL(new Blob([generated.midi.slice()], { type: 'audio/midi' }));
    this.urls = [image.src, midi];
    const { roll, play, download } = this.elements;
    roll.replaceChildren(image);
    Object.assign(roll.dataset, { step: String(generated.step), notes: JSON.stringify(generated.notes), primeSteps: String(generated.primeSteps), totalSteps: String(generated.totalSteps) });
    download.href = midi;
    download.download = `recurrent-music-${generated.seed}.mid`;
    download.hidden = false;
    play.disabled = generated.notes.length === 0;
  }

  /** Schedules every note at once on the audio clock; the button then stops the playback. */
  private play(): void {
    const generated = this.shown;
    if (!generated) return;
    this.audio ??= new AudioContext();
    const audio = this.audio;
    void audio.resume();
    const secondsPerStep = 60 / generated.bpm / generated.stepsPerQuarter;
    const begin = audio.currentTime + 0.05;
    const output = audio.createGain();
    // Quiet enough that a few overlapping notes never clip.
    output.gain.value = 0.2;
    output.connect(audio.destination);
    const oscillators = generated.notes.map((note) => {
      const start = begin + note.start * secondsPerStep;
      const end = start + note.duration * secondsPerStep;
      const envelope = audio.createGain();
      // A short attack and release: no clicks at the note's edges.
      envelope.gain.setValueAtTime(0, start);
      envelope.gain.linearRampToValueAtTime(0.3 + 0.7 * note.velocity, start + 0.01);
      envelope.gain.setValueAtTime(0.3 + 0.7 * note.velocity, Math.max(start + 0.01, end - 0.03));
      envelope.gain.linearRampToValueAtTime(0, end);
      envelope.connect(output);
      const oscillator = audio.createOscillator();
      oscillator.type = 'triangle';
      oscillator.frequency.value = frequency(note.pitch);
      oscillator.connect(envelope);
      oscillator.start(start);
      oscillator.stop(end);
      return oscillator;
    });
    const seconds = generated.totalSteps * secondsPerStep;
    const timer = setTimeout(() => this.finish('ended'), (seconds + 0.1) * 1000);
    this.playing = {
      stop: () => {
        clearTimeout(timer);
        for (const oscillator of oscillators) oscillator.stop();
        output.disconnect();
      },
    };
    const { play, roll } = this.elements;
    play.textContent = 'Stop';
    Object.assign(roll.dataset, { state: 'playing', scheduled: String(oscillators.length), seconds: String(seconds), audioStart: String(begin) });
  }

  private stop(): void {
    if (!this.playing) return;
    this.playing.stop();
    this.finish('stopped');
  }

  private finish(state: 'ended' | 'stopped'): void {
    this.playing = null;
    this.elements.play.textContent = 'Play';
    this.elements.roll.dataset['state'] = state;
  }
}
