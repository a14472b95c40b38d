/**
 * The few pieces every chart needs: escaping, number formatting that never prints NaN, element
 * building and the document wrapper. All text that reaches the SVG goes through escapeXml, so a
 * series named `<b> & "co"` cannot break the document.
 */

/** Escapes the five XML specials and drops what XML 1.0 forbids (control characters, lone surrogates). */
export function escapeXml(text: string): string {
  return text
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '')
    .replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** A coordinate with at most two decimals; a non-finite one is a bug in the chart, not user data. */
export function fmt(x: number): string {
  if (!Number.isFinite(x)) throw new Error(`viz: internal error, non-finite coordinate ${x}`);
  const r = Math.round(x * 100) / 100;
  return String(Object.is(r, -0) ? 0 : r);
}

export type Attributes = Record<string, string | number | undefined>;

/** One element; numbers go through fmt, strings through escapeXml, undefined attributes are left out. */
export function el(name: string, attributes: Attributes = {}, children?: string): string {
  let out = `<${name}`;
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined) continue;
    out += ` ${key}="${typeof value === 'number' ? fmt(value) : escapeXml(value)}"`;
  }
  return children === undefined ? `${out}/>` : `${out}>${children}</${name}>`;
}

export function text(x: number, y: number, content: string, attributes: Attributes = {}): string {
  return el('text', { x, y, ...attributes }, escapeXml(content));
}

/** A standalone SVG document; the title element names the chart for screen readers and file viewers. */
export function svgDocument(width: number, height: number, title: string | undefined, body: string): string {
  return (
    el(
      'svg',
      {
        xmlns: 'http://www.w3.org/2000/svg',
        width,
        height,
        viewBox: `0 0 ${fmt(width)} ${fmt(height)}`,
        'font-family': 'system-ui, sans-serif',
        'font-size': 12,
      },
      (title ? el('title', {}, escapeXml(title)) : '') + el('rect', { width, height, fill: '#ffffff' }) + body,
    ) + '\n'
  );
}

export function checkSize(fn: string, width: number, height: number): void {
  for (const [name, v] of [['width', width], ['height', height]] as const) {
    if (!Number.isFinite(v) || v < 100 || v > 20000) throw new Error(`${fn}: ${name} must be between 100 and 20000 pixels, received ${v}`);
  }
}
