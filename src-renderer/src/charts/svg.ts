// Small helpers for writing SVG as text (the same markup the Svelte wrappers draw).

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** One element: tag, attributes (undefined ones left out), optional text or inner markup. */
export function el(tag: string, attrs: Record<string, string | number | undefined>, inner = ''): string {
  const a = Object.entries(attrs)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}="${escapeXml(String(v))}"`)
    .join('');
  return inner ? `<${tag}${a}>${inner}</${tag}>` : `<${tag}${a}/>`;
}

export function svgDocument(width: number, height: number, inner: string, label: string): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}"` +
    ` role="img" aria-label="${escapeXml(label)}" font-family="system-ui, sans-serif" font-size="11">` +
    `<title>${escapeXml(label)}</title>${inner}</svg>`
  );
}

/** Rounds for SVG coordinates (keeps files small and stable). */
export function r(v: number): number {
  return Math.round(v * 10) / 10;
}
