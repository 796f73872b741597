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

// A swimlane timeline of records: one lane per source (fw, os, host), a
// tick per record at its t_us, generation starts (boot records) as dashed
// lines. Host records (wall-clock t_us, e.g. the watchdog's) past the last
// guest record are pinned to the right edge and say so.
export function laneChart(recs, { width = 900 } = {}) {
	const lanes = ['fw', 'os', 'host'];
	const pad = { l: 44, r: 40, t: 10, b: 26 }, lh = 26;
	const height = pad.t + lanes.length * lh + pad.b;
	const guest = recs.filter((r) => r.src !== 'host').map((r) => r.t_us || 0);
	const end = Math.max(1, ...(guest.length ? guest : recs.map((r) => r.t_us || 0))) * 1.04;
	const X = (t) => pad.l + (width - pad.l - pad.r) * Math.min(1, (t || 0) / end);
	const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', class: 'chart lanes',
		'aria-label': `timeline of ${recs.length} records over ${Math.round(end / 1000)} ms` },
	s('title', {}, 'records by source over time (t_us)'));
	lanes.forEach((l, i) => {
		const y = pad.t + i * lh + lh / 2;
		svg.append(s('line', { x1: pad.l, x2: width - pad.r, y1: y, y2: y, class: 'grid' }),
			s('text', { x: pad.l - 6, y: y + 4, 'text-anchor': 'end', class: 'axis' }, l));
	});
	for (let k = 0; k <= 4; k++) {
		const t = end * k / 4;
		svg.append(s('text', { x: X(t), y: height - 8, 'text-anchor': 'middle', class: 'axis' }, `${(t / 1000).toFixed(1)} ms`));
	}
	for (const r of recs) {
		if (r.ev === 'boot')
			svg.append(s('line', { x1: X(r.t_us), x2: X(r.t_us), y1: pad.t, y2: pad.t + lanes.length * lh, class: 'genline' }),
				s('text', { x: X(r.t_us) + 3, y: pad.t + 9, class: 'axis' }, `gen ${r.gen}`));
	}
	for (const r of recs) {
		const i = Math.max(0, lanes.indexOf(r.src));
		const y = pad.t + i * lh + lh / 2;
		const late = r.src === 'host' && (r.t_us || 0) > end;
		const bad = /^(panic|error|host-mailbox)$/.test(r.ev) || (r.ev === 'host-exit' && r.how !== 'exited');
		svg.append(s('rect', { x: X(r.t_us) - 1.5, y: y - 8, width: 3, height: 16, class: `tick g${r.gen % 6}${bad ? ' bad' : ''}` },
			s('title', {}, `#${r.seq} ${r.src} gen ${r.gen} ${r.ev} at ${r.t_us} µs${late ? ' (host clock, after the guest stopped)' : ''}`)));
	}
	return svg;
}
