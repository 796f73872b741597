// matrix.js: the nightly matrix (#/ and #/matrix) and the matrix grid that
// the run page reuses. Rows are scenarios, columns the matrix axes kernel ×
// mailbox version × CPUs; a cell links to its job.

import { api, knownMatcher, scenarioBodies, kernelVersions } from './api.js';
import { h, clear, fill, add, badge, jobClass, caseAxes, cmpKernelLabels, fmtTime, errorBox, VERDICTS, pct } from './util.js';

const HISTORY = 5;	// nightlies looked at for "flaky"

function colKey(a) {
	return `${a.kernel}|${a.mailbox_version}|${a.cpus}`;
}

function cmpCols(a, b) {
	return cmpKernelLabels(a.kernel, b.kernel) ||
		a.mailbox_version - b.mailbox_version || a.cpus - b.cpus;
}

// {rows: [{scenario, cells: Map(colKey -> [job])}], cols: [axes]} of a
// /runs/ID/matrix answer; `versions` names real kernels by what they booted.
export function matrixModel(m, bodies, versions) {
	const cols = new Map();
	const rows = [];
	for (const g of m.scenarios || []) {
		const row = { scenario: g.scenario, cells: new Map() };
		for (const c of g.cases) {
			// Cases carry their params (newer controllers); else the
			// scenario file fills in the fixed fields.
			const a = caseAxes({ ...(c.params || {}), ...c.matrix }, c.params ? null : bodies.get(g.scenario),
				versions);
			const k = colKey(a);
			cols.set(k, a);
			if (!row.cells.has(k))
				row.cells.set(k, []);
			row.cells.get(k).push(c);
		}
		rows.push(row);
	}
	return { rows, cols: [...cols.values()].sort(cmpCols) };
}

function cellKey(scenario, col) {
	return scenario + '\u0000' + colKey(col);
}

// Per cell: what the previous runs said (oldest first), as-expected flags.
function historyIndex(models) {
	const idx = new Map();
	for (const mod of models) {
		for (const r of mod.rows) {
			for (const [k, jobs] of r.cells) {
				const key = r.scenario + '\u0000' + k;
				if (!idx.has(key))
					idx.set(key, []);
				// Infra errors are not the kernel's: no data, not a flip.
				const done = jobs.filter((j) => j.state === 'done' && j.verdict !== 'infra');
				if (done.length)
					idx.get(key).push(done.every((j) => j.as_expected === 1));
			}
		}
	}
	return idx;
}

function flips(list) {
	let n = 0;
	for (let i = 1; i < list.length; i++)
		n += list[i] !== list[i - 1];
	return n;
}

// Compares this run's cells with the previous run's: regressions (was as
// expected, now not), fixes, still failing, flaky (flipped twice or more
// over the last HISTORY runs).
export function compare(model, prevModels) {
	const hist = historyIndex(prevModels.slice().reverse());
	const out = { regressions: [], fixed: [], still: [], flaky: [], status: new Map() };
	for (const r of model.rows) {
		for (const col of model.cols) {
			const jobs = r.cells.get(colKey(col));
			if (!jobs)
				continue;
			const done = jobs.filter((j) => j.state === 'done' && j.verdict !== 'infra');
			if (!done.length)
				continue;
			const key = cellKey(r.scenario, col);
			const now = done.every((j) => j.as_expected === 1);
			const past = hist.get(key) || [];
			const prev = past.length ? past[past.length - 1] : undefined;
			let st = null;
			if (flips([...past, now]) >= 2)
				st = 'flaky';
			else if (prev === true && !now)
				st = 'regression';
			else if (prev === false && now)
				st = 'fixed';
			else if (prev === false && !now)
				st = 'still';
			if (st) {
				out.status.set(key, st);
				const item = { scenario: r.scenario, col, job: done[0] };
				({ regression: out.regressions, fixed: out.fixed, still: out.still, flaky: out.flaky })[st].push(item);
			}
		}
	}
	return out;
}

const STATUS_LABEL = { regression: 'NEW', fixed: 'fixed', still: 'still', flaky: 'flaky' };

function cell(jobs, known, status, col) {
	const done = jobs.filter((j) => j.state === 'done');
	const classes = jobs.map((j) => jobClass(j, known));
	// The worst class shows: unexpected beats expected, then by severity.
	const order = ['crash', 'hang', 'fail', 'infra', 'known', 'running', 'leased', 'queued', 'cancelled', 'skip', 'pass'];
	let cls = classes.sort((a, b) => order.indexOf(a) - order.indexOf(b))[0];
	const unexpected = done.some((j) => j.as_expected === 0);
	if (status === 'flaky')
		cls = 'flaky';
	const asExp = done.filter((j) => j.as_expected === 1).length;
	const j0 = jobs[0];
	const v = VERDICTS[cls] || { sym: '?', label: cls };
	const attempts = Math.max(...jobs.map((j) => j.attempt || 1));
	const title = `${j0.scenario} ${JSON.stringify(j0.matrix)}: ` +
		(j0.state === 'done' ? `${j0.verdict}, expected ${j0.expected_verdict}` +
			(j0.as_expected ? ' (as expected)' : ' (NOT as expected)') +
			(j0.reason ? ` — ${j0.reason}` : '') : j0.state) +
		(status ? ` [${status}]` : '');
	const expCls = !done.length ? '' : unexpected ? ' unexpected' : ' expected';
	return h('td', { class: `cell v-${cls}${expCls}`, 'data-job': j0.id, 'data-verdict': cls, 'data-col': colKey(col),
		'data-as-expected': done.length ? String(!unexpected) : undefined },
	h('a', { href: `#/jobs/${j0.id}`, title, 'aria-label': title },
		h('span.sym', { 'aria-hidden': 'true' }, v.sym),
		h('span.lbl', v.label),
		done.length ? h('span.cnt', `${asExp}/${jobs.length}`) : null,
		unexpected ? h('span.mark', { title: 'not as expected' }, '!') : null,
		attempts > 1 ? h('span.att', { title: `${attempts} attempts` }, `×${attempts}`) : null,
		status ? h('span', { class: `st st-${status}` }, STATUS_LABEL[status]) : null));
}

// The grid itself: kernel / mailbox version / CPUs as three header rows.
export function matrixTable(model, known, cmp) {
	const { rows, cols } = model;
	const spans = (keyf) => {
		const out = [];
		for (const c of cols) {
			const k = keyf(c);
			if (out.length && out[out.length - 1].k === k)
				out[out.length - 1].n++;
			else
				out.push({ k, n: 1, c });
		}
		return out;
	};
	const head = [
		h('tr', h('th', { scope: 'col', rowspan: 3, class: 'rowhead' }, 'scenario'),
			spans((c) => c.kernel).map((s) => h('th', { scope: 'colgroup', colspan: s.n }, s.c.kernel)),
			h('th', { scope: 'col', rowspan: 3 }, 'as expected')),
		h('tr', spans((c) => `${c.kernel}|${c.mailbox_version}`).map((s) =>
			h('th', { scope: 'colgroup', colspan: s.n }, `mailbox v${s.c.mailbox_version}`))),
		h('tr', cols.map((c) => h('th', { scope: 'col' }, `${c.cpus} CPU${c.cpus > 1 ? 's' : ''}`))),
	];
	const body = rows.map((r) => {
		let n = 0, ok = 0;
		const tds = cols.map((c) => {
			const jobs = r.cells.get(colKey(c));
			if (!jobs)
				return h('td.cell.empty', { 'aria-label': 'not in this matrix' }, '');
			for (const j of jobs) {
				if (j.state === 'done') {
					n++;
					ok += j.as_expected === 1;
				}
			}
			return cell(jobs, known, cmp && cmp.status.get(cellKey(r.scenario, c)), c);
		});
		return h('tr', { 'data-scenario': r.scenario },
			h('th', { scope: 'row', class: 'rowhead' }, r.scenario), tds,
			h('td.num', n ? `${ok}/${n}` : '—'));
	});
	return h('div.table-wrap', h('table.matrix', h('thead', head), h('tbody', body)));
}

export function legend() {
	const names = ['pass', 'fail', 'hang', 'crash', 'infra', 'known', 'flaky', 'queued', 'running'];
	return h('div.legend', { 'aria-label': 'legend' },
		names.map((n) => badge(n)),
		h('span.legend-item', h('span.cell-sample.expected', ''), ' as expected (solid)'),
		h('span.legend-item', h('span.cell-sample.unexpected', '!'), ' NOT as expected (striped, “!”)'),
		h('span.legend-item', h('span.st.st-regression', 'NEW'), ' failing since the previous nightly'));
}

// Jobs per verdict class, with how many of them were as expected.
function tally(model, known) {
	const n = new Map();
	for (const r of model.rows) {
		for (const jobs of r.cells.values()) {
			for (const j of jobs) {
				const c = jobClass(j, known);
				const t = n.get(c) || { all: 0, exp: 0 };
				t.all++;
				t.exp += j.as_expected === 1;
				n.set(c, t);
			}
		}
	}
	const order = Object.keys(VERDICTS);
	return h('p.tally', { 'aria-label': 'jobs per verdict' }, [...n.entries()]
		.sort((a, b) => order.indexOf(a[0]) - order.indexOf(b[0]))
		.map(([c, t]) => h('span', { 'data-tally': c }, badge(c, `${t.all}`),
			t.exp !== t.all && t.exp ? h('small', ` (${t.exp} as expected)`) : null, ' ')));
}

function summaryLine(run) {
	return h('p.summary',
		`${run.jobs_done}/${run.jobs_total} done · `,
		h('strong', `${run.jobs_as_expected} as expected`), ' · ',
		h('strong', { class: run.jobs_unexpected ? 'bad' : '' }, `${run.jobs_unexpected} not as expected`),
		` · ${run.state} · created ${fmtTime(run.created_at)}`);
}

function compareHeader(run, prev, cmp) {
	if (!prev)
		return h('p.compare.note', 'No previous nightly to compare with.');
	const name = (x) => `${x.scenario} (${x.col.cpus} CPUs, v${x.col.mailbox_version}, ${x.col.kernel})`;
	const item = (x) => h('li', { 'data-job': x.job.id }, h('a', { href: `#/jobs/${x.job.id}` }, name(x)), ' ', badge(x.job.verdict));
	// A new failure can be bisected: the form is prefilled from its job.
	const regression = (x) => add(item(x), ' ', h('a.bisect-this', { href: `#/bisects/new?job=${x.job.id}`,
		'aria-label': `bisect this: ${name(x)}` }, 'bisect this'));
	const group = (label, list, cls, fn = item) => list.length ? h('details', { class: cls },
		h('summary', `${label}: ${list.length}`), h('ul', list.map(fn))) : null;
	return h('section.compare', { 'aria-label': 'comparison with the previous nightly' },
		h('p', `Compared with nightly `, h('a', { href: `#/runs/${prev.id}` }, `#${prev.id}`),
			` (${fmtTime(prev.created_at)}): `,
			h('strong', { class: cmp.regressions.length ? 'bad' : '' }, `${cmp.regressions.length} new failures`), ' · ',
			`${cmp.fixed.length} fixed · ${cmp.still.length} still failing · ${cmp.flaky.length} flaky`,
			` (previous: ${pct(prev.jobs_as_expected, prev.jobs_done)} as expected, this: ${pct(run.jobs_as_expected, run.jobs_done)})`),
		group('New failures (regressions)', cmp.regressions, 'regressions', regression),
		group('Fixed', cmp.fixed, 'fixed'),
		group('Still failing', cmp.still, 'still'),
		group('Flaky', cmp.flaky, 'flaky'));
}

// Renders the matrix of run `id` into `box`, compared with `prevRuns`.
// Renders the matrix of `run` into `box`, compared with `prevRuns`.
export async function renderRunMatrix(box, run, prevRuns, ctx) {
	const [bodies, known, versions, m, ...prevs] = await Promise.all([scenarioBodies(), knownMatcher(),
		kernelVersions(), api.matrix(run.id, ctx),
		...prevRuns.map((r) => api.matrix(r.id, ctx).catch(() => null))]);
	// A live redraw with nothing new keeps the DOM (and the keyboard focus).
	const sig = JSON.stringify(m) + prevs.length + (known.issues || []).length;
	if (box.wfSig === sig)
		return box.wfResult;
	box.wfSig = sig;
	const model = matrixModel(m, bodies, versions);
	const prevModels = prevs.filter(Boolean).map((p) => matrixModel(p, bodies, versions));
	const cmp = compare(model, prevModels);
	fill(box,
		summaryLine(m.summary),
		compareHeader(m.summary, prevRuns[0], cmp),
		legend(),
		tally(model, known),
		matrixTable(model, known, cmp));
	box.wfResult = { model, cmp, summary: m.summary };
	return box.wfResult;
}

// Scenario files the controller could not load: a nightly leaves them out.
async function scenarioBanner(view, box) {
	const errors = (await scenarioBodies()).errors || [];
	if (!errors.length || !view.isConnected)
		return;
	view.insertBefore(h('div.error.scenario-errors', { role: 'alert' },
		h('strong', `${errors.length} scenario file${errors.length > 1 ? 's' : ''} could not be loaded`),
		' and ', errors.length > 1 ? 'are' : 'is', ' left out of every nightly until fixed:',
		h('ul', errors.map((e) => h('li', h('code', e.file), ': ', e.message)))), box);
}

export async function pageMatrix(view, route, ctx) {
	view.append(h('h1', 'Nightly matrix'));
	const box = h('div.matrix-box', h('p.loading', 'Loading…'));
	view.append(box);
	const t0 = performance.now();
	// Started now, used by renderRunMatrix: fetched alongside the runs.
	scenarioBodies();
	knownMatcher();
	let runs;
	try {
		runs = (await api.runs({ kind: 'nightly', limit: HISTORY + 1 }, ctx)).runs;
	} catch (e) {
		fill(box, errorBox(e));
		return;
	}
	scenarioBanner(view, box);
	if (!runs.length) {
		fill(box, h('p.note', 'No nightly run yet. Submit one with ',
			h('code', 'wakefarm submit nightly'), '.'));
		return;
	}
	const run = runs[0];
	view.querySelector('h1').append(' ', h('a.sub', { href: `#/runs/${run.id}` }, `run #${run.id}`));
	view.append(h('nav.recent', { 'aria-label': 'recent nightlies' }, 'Recent nightlies: ', runs.map((r, i) => [i ? ' · ' : '',
		h('a', { href: `#/runs/${r.id}` }, `#${r.id}`), ` ${r.jobs_done ? pct(r.jobs_as_expected, r.jobs_done) : r.state}`]),
	' · ', h('a', { href: '#/runs?kind=nightly' }, 'all'), ' · ', h('a', { href: '#/trends' }, 'trends')));
	const draw = async () => (await renderRunMatrix(box, run, runs.slice(1), ctx)).summary;
	try {
		const summary = await draw();
		// Rendered: the browser tests read this mark for the render time.
		box.dataset.renderMs = String(Math.round(performance.now() - t0));
		performance.mark('wf-matrix-rendered');
		if (summary.state === 'queued' || summary.state === 'running') {
			ctx.every(2000, async () => {
				const s = await draw();
				return s.state === 'queued' || s.state === 'running';
			});
		}
	} catch (e) {
		if (e.name !== 'AbortError')
			fill(box, errorBox(e));
	}
}
