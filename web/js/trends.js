// trends.js: pass rate per night and per run, per scenario, and kexec
// bring-up timings per generation (from the `us` of cpu-up records). The
// controller has no trends endpoint yet: this page computes them from the
// runs, matrices and job details it can read, over a bounded window.

import { api, scenarioBodies } from './api.js';
import { lineChart, sparkline } from './charts.js';
import { h, clear, fill, errorBox, table, unavailable, hashWith, fmtUs } from './util.js';

const NIGHTS = 14;
const TIMING_JOBS = 12;

function rate(r) {
	return r.jobs_done ? r.jobs_as_expected / r.jobs_done : null;
}

async function passRates(box, ctx) {
	const [nightly, all] = await Promise.all([api.runs({ kind: 'nightly', limit: NIGHTS }, ctx),
		api.runs({ limit: 30 }, ctx)]);
	const pts = (runs) => runs.slice().reverse().map((r) => ({ x: `#${r.id}`, y: rate(r) === null ? null : 100 * rate(r), href: `#/runs/${r.id}` }));
	fill(box, 
		lineChart({ title: `Nightly runs: % of jobs as expected (last ${nightly.runs.length})`, yMax: 100, yFmt: (y) => `${Math.round(y)}%`,
			series: [{ name: 'nightly', points: pts(nightly.runs) }] }),
		lineChart({ title: `Every run: % of jobs as expected (last ${all.runs.length})`, yMax: 100, yFmt: (y) => `${Math.round(y)}%`,
			series: [{ name: 'all runs', points: pts(all.runs) }] }));
	return nightly.runs;
}

async function perScenario(box, nights, ctx) {
	const ms = await Promise.all(nights.slice(0, 10).map((r) => api.matrix(r.id, ctx).catch(() => null)));
	const by = new Map();
	ms.filter(Boolean).reverse().forEach((m, i, arr) => {
		for (const g of m.scenarios) {
			if (!by.has(g.scenario))
				by.set(g.scenario, new Array(arr.length).fill(null));
			const done = g.cases.filter((c) => c.state === 'done');
			by.get(g.scenario)[i] = done.length ? done.filter((c) => c.as_expected === 1).length / done.length : null;
		}
	});
	const rows = [...by.entries()].sort((a, b) => a[0].localeCompare(b[0])).map(([name, vals]) => {
		const lastv = [...vals].reverse().find((v) => v !== null);
		const known = vals.filter((v) => v !== null);
		const mean = known.length ? known.reduce((a, b) => a + b, 0) / known.length : null;
		return h('tr', { 'data-scenario': name }, h('th', { scope: 'row' }, name),
			h('td', sparkline(vals, `${name}: as expected per night`)),
			h('td.num', { class: lastv !== undefined && lastv < 1 ? 'bad' : '' }, lastv === undefined ? '—' : `${Math.round(100 * lastv)} %`),
			h('td.num', mean === null ? '—' : `${Math.round(100 * mean)} %`),
			h('td', h('a', { href: hashWith('/trends', { scenario: name }) }, 'bring-up timings')));
	});
	fill(box, h('p.small', `Over the last ${ms.filter(Boolean).length} nightly runs, oldest left.`),
		table('per-scenario', ['scenario', 'as expected per night', 'last night', 'mean', 'timings'], rows));
}

// cpu-up `us` per generation of one job: {gen: [us...]}.
function bringUp(job) {
	const out = new Map();
	for (const e of job.events) {
		const r = e.record;
		if (r.ev === 'cpu-up' && typeof r.us === 'number') {
			if (!out.has(r.gen))
				out.set(r.gen, []);
			out.get(r.gen).push(r.us);
		}
	}
	return out;
}

async function timings(box, scenario, nights, ctx) {
	const runs = await Promise.all(nights.slice(0, 6).map((r) => api.run(r.id, ctx).catch(() => null)));
	const ids = runs.filter(Boolean).flatMap((r) => r.jobs.filter((j) => j.scenario === scenario && j.state === 'done'))
		.slice(0, TIMING_JOBS).map((j) => j.id);
	if (!ids.length) {
		fill(box, h('p.note', `No finished job of ${scenario} in the last nightly runs.`));
		return;
	}
	const jobs = await Promise.all(ids.map((id) => api.job(id, ctx)));
	// One line per case (matrix values): the mean over its jobs per generation.
	const byCase = new Map();
	for (const j of jobs) {
		const k = JSON.stringify(j.matrix);
		if (!byCase.has(k))
			byCase.set(k, { jobs: [], gens: new Map() });
		const c = byCase.get(k);
		c.jobs.push(j.id);
		for (const [g, us] of bringUp(j)) {
			if (!c.gens.has(g))
				c.gens.set(g, []);
			c.gens.get(g).push(...us);
		}
	}
	const series = [...byCase.entries()].map(([k, c]) => ({
		name: `${k === '{}' ? scenario : k} (${c.jobs.length} job${c.jobs.length > 1 ? 's' : ''})`,
		points: [...c.gens.entries()].sort((a, b) => a[0] - b[0]).map(([g, us]) => ({ x: `gen ${g}`,
			y: Math.round(us.reduce((a, b) => a + b, 0) / us.length), href: `#/jobs/${c.jobs[0]}` })),
	})).filter((se) => se.points.length);
	if (!series.length) {
		fill(box, h('p.note', `The jobs of ${scenario} woke no AP (no cpu-up records).`));
		return;
	}
	const rows = series.map((se) => h('tr', h('td', se.name), se.points.map((p) => h('td.num', `${p.x}: ${fmtUs(p.y)}`))));
	fill(box, lineChart({ title: `${scenario}: mean AP bring-up per generation (cpu-up us) over ${ids.length} jobs`,
		yFmt: (y) => `${Math.round(y)} µs`, series }), h('details', h('summary', 'as a table'), h('div.table-wrap', h('table', h('tbody', rows)))));
}

export async function pageTrends(view, route, ctx) {
	view.append(h('h1', 'Trends'));
	// No probe of a missing endpoint: a 404 would be a console error.
	view.append(unavailable(`a trends endpoint (GET /api/v1/trends); these charts are computed in the browser from the last ${NIGHTS} nightly runs`));
	const rates = h('section', h('p.loading', 'Loading…'));
	const per = h('section', h('p.loading', 'Loading…'));
	const tim = h('section', h('p.loading', 'Loading…'));
	const pick = h('form.filters', { 'aria-label': 'bring-up scenario' });
	view.append(h('h2', 'Pass rate'), rates, h('h2', 'Per scenario'), per, h('h2', 'kexec bring-up timings'), pick, tim);
	try {
		const nights = await passRates(rates, ctx);
		const bodies = await scenarioBodies();
		const names = [...bodies.keys()].sort();
		const want = route.query.scenario || (names.includes('kexec-chain') ? 'kexec-chain' : names[0]);
		pick.append(h('label', 'Scenario ', h('select', { name: 'scenario', onchange: (e) => { location.hash = hashWith('/trends', { scenario: e.target.value }); } },
			names.map((n) => h('option', { value: n, selected: n === want || undefined }, n)))));
		await Promise.all([perScenario(per, nights, ctx), timings(tim, want, nights, ctx)]);
		ctx.onQuery((q) => timings(tim, q.scenario || want, nights, ctx).catch((e) => fill(tim, errorBox(e))));
	} catch (e) {
		if (e.name !== 'AbortError')
			view.append(errorBox(e));
	}
}
