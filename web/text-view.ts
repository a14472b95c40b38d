/**
 * The text view: the validation text with each character coloured by one hidden unit (blue below
 * zero, red above, the CLI's diverging map, scaled to the unit's own values), the units that match a selected span, and the other
 * places where they fire alike. Selecting characters with the mouse asks the worker for the search;
 * the page only draws.
 */
import { colorAt } from '../src/viz/index.js';
import type { FromWorker } from './protocol.js';

type Shown = Extract<FromWorker, { type: 'text' }>;
type Matches = Extract<FromWorker, { type: 'matches' }>;

export interface TextViewElements {
  text: HTMLElement;
  unit: HTMLInputElement;
  ranking: HTMLElement;
  places: HTMLElement;
  readout: HTMLElement;
  /** Where the colour scale's ends are shown. */
  scale: HTMLElement;
}

/**
 * The colour scale of one unit over the shown text. h is in [-1, 1] for tanh units but not for relu
 * ones (any value >= 0), and a unit may use a small part of its range: the scale is symmetric around
 * 0 up to the unit's own largest |value| (blue, white at 0, red), or [0, max] (white to red) for a
 * unit that is never negative, so its largest value is always the scale's end colour.
 */
export interface UnitScale {
  low: number;
  high: number;
}

export function unitScale(values: ArrayLike<number>, from: number, to: number): UnitScale {
  let min = Infinity;
  let max = -Infinity;
  for (let i = from; i < to; i++) {
    min = Math.min(min, values[i]!);
    max = Math.max(max, values[i]!);
  }
  if (!(min <= max)) return { low: -1, high: 1 };
  if (min >= 0) return { low: 0, high: max };
  const bound = Math.max(-min, max);
  return { low: -bound, high: bound };
}

/** A value's colour on the diverging map, 0 always white; a scale of zero width shows white. */
export function shade(scale: UnitScale, value: number): string {
  const bound = Math.max(-scale.low, scale.high);
  return colorAt('diverging', bound > 0 ? 0.5 + value / (2 * bound) : 0.5);
}

export class TextView {
  private shown: Shown | null = null;
  private spans: HTMLSpanElement[] = [];

  constructor(private readonly elements: TextViewElements, private readonly onSelect: (from: number, to: number) => void) {
    elements.text.addEventListener('mouseup', () => this.selected());
    elements.text.addEventListener('mousemove', (event) => this.hover(event));
    elements.unit.addEventListener('change', () => this.colour());
  }

  /** New activations: the text is rebuilt only when it changed, then recoloured. */
  show(view: Shown): void {
    const sameText = this.shown !== null && this.shown.chars.length === view.chars.length && this.shown.chars.every((ch, i) => ch === view.chars[i]);
    this.shown = view;
    this.elements.unit.max = String(view.units - 1);
    if (this.unit() >= view.units) this.elements.unit.value = '0';
    if (!sameText) {
      this.spans = view.chars.map((ch, i) => {
        const span = document.createElement('span');
        span.textContent = ch;
        span.dataset['i'] = String(i);
        return span;
      });
      this.elements.text.replaceChildren(...this.spans);
      this.elements.ranking.replaceChildren();
      this.elements.places.replaceChildren();
    }
    this.elements.text.dataset['step'] = String(view.step);
    this.colour();
  }

  /** The ranked units (click one to colour the text by it) and the places found, outlined in the text. */
  showMatches(matches: Matches): void {
    const { text, ranking, places } = this.elements;
    text.dataset['from'] = String(matches.from);
    text.dataset['to'] = String(matches.to);
    for (const span of this.spans) span.classList.remove('selected', 'match');
    for (let i = matches.from; i < matches.to; i++) this.spans[i]?.classList.add('selected');
    if (matches.units.length === 0) {
      const none = document.createElement('li');
      none.textContent = `no unit is on above ${matches.threshold} inside the selection and off around it`;
      ranking.replaceChildren(none);
    } else {
      ranking.replaceChildren(...matches.units.map((match) => {
        const item = document.createElement('li');
        const button = document.createElement('button');
        button.type = 'button';
        button.textContent = `unit ${match.unit}`;
        button.addEventListener('click', () => {
          this.elements.unit.value = String(match.unit);
          this.colour();
        });
        item.append(button, ` score ${match.score.toFixed(2)} · on inside ${(100 * match.inside).toFixed(0)}% · off around ${(100 * match.outside).toFixed(0)}%`);
        Object.assign(item.dataset, { unit: String(match.unit), score: String(match.score), inside: String(match.inside), outside: String(match.outside) });
        return item;
      }));
    }
    places.dataset['searched'] = matches.searched.join(',');
    places.dataset['minOn'] = String(matches.minOn);
    places.replaceChildren(...matches.places.map((place) => {
      for (let i = place.from; i < place.to; i++) this.spans[i]?.classList.add('match');
      const item = document.createElement('li');
      item.textContent = `${JSON.stringify(this.excerpt(place.from, place.to))} at ${place.from} (${place.unitsOn} of ${matches.searched.length} units on)`;
      Object.assign(item.dataset, { from: String(place.from), to: String(place.to), unitsOn: String(place.unitsOn) });
      return item;
    }));
    if (matches.places.length === 0 && matches.searched.length > 0) {
      const none = document.createElement('li');
      none.textContent = `units ${matches.searched.join(', ')} do not fire together like this anywhere else in the shown text`;
      places.replaceChildren(none);
    }
  }

  private unit(): number {
    return Math.max(0, Math.trunc(this.elements.unit.valueAsNumber) || 0);
  }

  private excerpt(from: number, to: number): string {
    return this.shown ? this.shown.chars.slice(from, to).join('') : '';
  }

  private colour(): void {
    const view = this.shown;
    if (!view) return;
    const unit = Math.min(this.unit(), view.units - 1);
    const row = unit * view.chars.length;
    const scale = unitScale(view.values, row, row + view.chars.length);
    this.spans.forEach((span, t) => {
      const value = view.values[row + t]!;
      span.style.background = shade(scale, value);
      span.dataset['value'] = String(value);
    });
    this.elements.text.dataset['unit'] = String(unit);
    this.showScale(scale);
  }

  /** The scale's ends, each beside its colour, with the map between them. */
  private showScale(scale: UnitScale): void {
    const swatch = (value: number, which: string): HTMLSpanElement => {
      const box = document.createElement('span');
      box.className = `end ${which}`;
      box.style.background = shade(scale, value);
      return box;
    };
    const bar = document.createElement('span');
    bar.className = 'bar';
    const stops = [0, 0.25, 0.5, 0.75, 1].map((f) => shade(scale, scale.low + f * (scale.high - scale.low)));
    bar.style.background = `linear-gradient(90deg, ${stops.join(', ')})`;
    this.elements.scale.replaceChildren(
      `colour scale ${scale.low.toPrecision(3)} `, swatch(scale.low, 'low'), bar, swatch(scale.high, 'high'), ` ${scale.high.toPrecision(3)}`,
    );
    Object.assign(this.elements.scale.dataset, { low: String(scale.low), high: String(scale.high) });
  }

  private indexOf(node: Node | null): number | null {
    const element = node instanceof HTMLElement ? node : node?.parentElement;
    const index = element?.closest<HTMLElement>('#text-view span')?.dataset['i'];
    return index === undefined ? null : Number(index);
  }

  private selected(): void {
    const selection = window.getSelection();
    if (!selection || selection.isCollapsed) return;
    const a = this.indexOf(selection.anchorNode);
    const b = this.indexOf(selection.focusNode);
    if (a === null || b === null) return;
    // A selection ending at the very start of a character's text does not include that character.
    const [first, last] = a <= b ? [a, b] : [b, a];
    const endOffset = a <= b ? selection.focusOffset : selection.anchorOffset;
    const to = endOffset === 0 && last > first ? last : last + 1;
    this.onSelect(first, to);
  }

  private hover(event: MouseEvent): void {
    const view = this.shown;
    const t = this.indexOf(event.target as Node);
    if (!view || t === null) return;
    const unit = Math.min(this.unit(), view.units - 1);
    const value = view.values[unit * view.chars.length + t]!;
    this.elements.readout.textContent = `unit ${unit} at ${t} (${JSON.stringify(view.chars[t])}): ${value.toFixed(4)}`;
  }
}
