// charts.js: small SVG charts drawn here (no library): a line chart with
// points and an optional y range, and a sparkline.

import { s, h } from './util.js';

// series: [{name, points: [{x: label, y: number|null, href?}], cls}]
export function lineChart({ series, title, yMin = 0, yMax, yFmt = String, width = 640, height = 220 }) {
	const pad = { l: 58, r: 28, t: 14, b: 34 };
	const labels = [...new Set(series.flatMap((se) => se.points.map((p) => p.x)))];
	const ys = series.flatMap((se) => se.points.map((p) => p.y)).filter((y) => y !== null && y !== undefined);
	const top = yMax ?? Math.max(1, ...ys) * 1.1;
	const X = (i) => pad.l + (labels.length <= 1 ? (width - pad.l - pad.r) / 2 :
		i * (width - pad.l - pad.r) / (labels.length - 1));
	const Y = (y) => pad.t + (height - pad.t - pad.b) * (1 - (y - yMin) / ((top - yMin) || 1));
	const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': title, class: 'chart', preserveAspectRatio: 'xMinYMin meet' },
		s('title', {}, title));
	for (let k = 0; k <= 4; k++) {
		const y = yMin + (top - yMin) * k / 4;
		svg.append(s('line', { x1: pad.l, x2: width - pad.r, y1: Y(y), y2: Y(y), class: 'grid' }),
			s('text', { x: pad.l - 6, y: Y(y) + 4, 'text-anchor': 'end', class: 'axis' }, yFmt(y)));
	}
	const every = Math.max(1, Math.ceil(labels.length / 10));
	labels.forEach((l, i) => {
		if (i % every === 0)
			svg.append(s('text', { x: X(i), y: height - pad.b + 16, 'text-anchor': 'middle', class: 'axis' }, String(l)));
	});
	series.forEach((se, si) => {
		const pts = se.points.map((p) => ({ ...p, i: labels.indexOf(p.x) })).filter((p) => p.y !== null && p.y !== undefined);
		if (pts.length > 1)
			svg.append(s('polyline', { points: pts.map((p) => `${X(p.i)},${Y(p.y)}`).join(' '), class: `line c${si % 6}` }));
		for (const p of pts) {
			const dot = s('circle', { cx: X(p.i), cy: Y(p.y), r: 3.5, class: `dot c${si % 6}` },
				s('title', {}, `${se.name} ${p.x}: ${yFmt(p.y)}`));
			svg.append(p.href ? s('a', { href: p.href }, dot) : dot);
		}
	});
	const legend = series.length > 1 ? h('div.chart-legend', series.map((se, si) =>
		h('span', h('span', { class: `swatch c${si % 6}` }), ' ', se.name))) : null;
	return h('figure.chart-box', svg, legend, h('figcaption', title));
}

// A tiny sparkline of values in [0, 1] (null: no data).
export function sparkline(values, label) {
	const w = 120, hgt = 24;
	const pts = values.map((v, i) => ({ v, x: values.length <= 1 ? w / 2 : 2 + i * (w - 4) / (values.length - 1) }))
		.filter((p) => p.v !== null);
	const svg = s('svg', { viewBox: `0 0 ${w} ${hgt}`, width: w, height: hgt, role: 'img', 'aria-label': label, class: 'spark' },
		s('title', {}, label));
	if (pts.length > 1)
		svg.append(s('polyline', { points: pts.map((p) => `${p.x},${2 + (hgt - 4) * (1 - p.v)}`).join(' '), class: 'line c0' }));
	for (const p of pts)
		svg.append(s('circle', { cx: p.x, cy: 2 + (hgt - 4) * (1 - p.v), r: 2, class: p.v < 1 ? 'dot bad' : 'dot c0' }));
	return svg;
}
