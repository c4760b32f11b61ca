/** A flat shields-style SVG badge; widths from a per-character estimate of Verdana 11px, as shields does. */
export function renderBadge(label: string, value: string, color: string): string {
  const width = (text: string): number => Math.round([...text].reduce((sum, c) => sum + charWidth(c), 0) + 10);
  const lw = width(label);
  const vw = width(value);
  const total = lw + vw;
  const esc = (t: string): string => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${total}" height="20" role="img" aria-label="${esc(label)}: ${esc(value)}">
<title>${esc(label)}: ${esc(value)}</title>
<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>
<clipPath id="r"><rect width="${total}" height="20" rx="3" fill="#fff"/></clipPath>
<g clip-path="url(#r)"><rect width="${lw}" height="20" fill="#555"/><rect x="${lw}" width="${vw}" height="20" fill="${color}"/><rect width="${total}" height="20" fill="url(#s)"/></g>
<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11">
<text x="${lw / 2}" y="15" fill="#010101" fill-opacity=".3">${esc(label)}</text><text x="${lw / 2}" y="14">${esc(label)}</text>
<text x="${lw + vw / 2}" y="15" fill="#010101" fill-opacity=".3">${esc(value)}</text><text x="${lw + vw / 2}" y="14">${esc(value)}</text>
</g>
</svg>
`;
}

function charWidth(c: string): number {
  if ("il.,:;|!'".includes(c)) return 3.5;
  if ('mwMW%'.includes(c)) return 10;
  if (c === ' ') return 3.5;
  return 7;
}

/** Green at or above the threshold, orange within 10 points below it, red further down. */
export function badgeColor(percent: number, threshold: number, passed: boolean): string {
  if (passed) return '#4c1';
  return percent >= threshold - 10 ? '#fe7d37' : '#e05d44';
}
