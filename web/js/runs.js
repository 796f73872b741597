// runs.js: the run list (#/runs, server-side pagination and filters) and
// one run (#/runs/ID: its matrix, its jobs, live progress).

import { api, knownMatcher, scenarioBodies } from './api.js';
import { renderRunMatrix } from './matrix.js';
import { h, clear, fill, badge, jobClass, expectMark, fmtTime, fmtAgo, hashWith, errorBox, table, unavailable } from './util.js';

const PAGE = 25;

function progress(run) {
	const pctDone = run.jobs_total ? Math.round(100 * run.jobs_done / run.jobs_total) : 0;
	return h('div.progress', { role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': run.jobs_total,
		'aria-valuenow': run.jobs_done, 'aria-label': `run ${run.id} progress` },
	h('div.bar', h('span.ok', { style: `width:${run.jobs_total ? 100 * run.jobs_as_expected / run.jobs_total : 0}%` }),
		h('span.bad', { style: `width:${run.jobs_total ? 100 * run.jobs_unexpected / run.jobs_total : 0}%` })),
	h('span.txt', `${run.jobs_done}/${run.jobs_total} (${pctDone} %)`));
}

function runRow(run) {
	return h('tr', { 'data-run': run.id, 'data-state': run.state },
		h('td', h('a', { href: `#/runs/${run.id}` }, `#${run.id}`)),
		h('td', run.bisect ? h('a', { href: `#/bisects/${run.bisect}` }, `bisect #${run.bisect}`) : run.kind),
		h('td', h('span', { class: `state s-${run.state}` }, run.state)),
		h('td', progress(run)),
		h('td.num', String(run.jobs_as_expected)),
		h('td.num', { class: run.jobs_unexpected ? 'bad' : '' }, String(run.jobs_unexpected)),
		h('td', { title: fmtTime(run.created_at) }, fmtTime(run.created_at)),
		h('td', run.finished_at ? fmtTime(run.finished_at) : '—'));
}

function select(name, label, options, value, disabled) {
	return h('label', `${label} `, h('select', { name, disabled: disabled || undefined },
		options.map(([v, t]) => h('option', { value: v, selected: v === (value || '') || undefined }, t))));
}

export async function pageRuns(view, route, ctx) {
	view.append(h('h1', 'Runs'));
	const live = h('section.live', { 'aria-live': 'polite', 'aria-label': 'running runs' });
	const form = h('form.filters', { role: 'search', 'aria-label': 'filter runs' });
	const list = h('div.runs');
	view.append(live, form, list);

	const names = [...(await scenarioBodies()).keys()].sort();
	let supported = null;	// does the controller echo filters? (null: not asked yet)
	const day = (d, plus) => {
		const t = Date.parse(d + 'T00:00:00Z');
		return Number.isNaN(t) ? undefined : t + (plus ? 86400000 : 0);
	};

	const draw = (q) => {
		const off = supported === false;
		const focusName = form.contains(document.activeElement) ? document.activeElement.name : null;
		fill(form,
			select('kind', 'Kind', [['', 'any'], ['nightly', 'nightly'], ['adhoc', 'ad hoc'], ['bisect', 'bisect']], q.kind),
			select('state', 'State', [['', 'any'], ['queued', 'queued'], ['running', 'running'], ['done', 'done'], ['cancelled', 'cancelled']], q.state),
			select('verdict', 'Has a job', [['', 'any verdict'], ...['pass', 'fail', 'hang', 'crash', 'infra', 'skip'].map((v) => [v, v])], q.verdict, off),
			select('scenario', 'Scenario', [['', 'any'], ...names.map((n) => [n, n])], q.scenario, off),
			h('label', 'From ', h('input', { type: 'date', name: 'from', value: q.from || undefined, disabled: off || undefined })),
			h('label', 'To ', h('input', { type: 'date', name: 'to', value: q.to || undefined, disabled: off || undefined })),
			(q.kind || q.state || q.verdict || q.scenario || q.from || q.to) ? h('a', { href: '#/runs' }, 'clear filters') : null,
			off ? unavailable('filtering runs by verdict, scenario or date (this controller\'s GET /api/v1/runs ignores them)') : null);
		if (focusName)
			form.querySelector(`[name="${focusName}"]`)?.focus();
		form.onchange = () => {
			const fd = new FormData(form);
			const f = {};
			for (const k of ['kind', 'state', 'verdict', 'scenario', 'from', 'to'])
				f[k] = fd.get(k) || '';
			location.hash = hashWith('/runs', f);
		};
		form.onsubmit = (e) => e.preventDefault();
	};

	const load = async (q) => {
		const offset = Math.max(0, Number(q.offset) || 0);
		let r;
		try {
			r = await api.runs({ kind: q.kind, state: q.state, verdict: q.verdict, scenario: q.scenario,
				since: q.from ? day(q.from) : undefined, until: q.to ? day(q.to, 1) : undefined, limit: PAGE, offset }, ctx);
		} catch (e) {
			if (e.name !== 'AbortError')
				fill(list, errorBox(e));
			return;
		}
		const echoes = r.filters !== undefined;
		if (echoes !== supported) {
			supported = echoes;
			draw(q);
		}
		const first = r.total ? offset + 1 : 0, last = offset + r.runs.length;
		const nav = h('nav.pager', { 'aria-label': 'pages' },
			offset > 0 ? h('a', { href: hashWith('/runs', { ...q, offset: Math.max(0, offset - PAGE) }), rel: 'prev' }, '← newer') : h('span.dis', '← newer'),
			h('span.count', `${first}–${last} of ${r.total}`),
			last < r.total ? h('a', { href: hashWith('/runs', { ...q, offset: offset + PAGE }), rel: 'next' }, 'older →') : h('span.dis', 'older →'));
		fill(list,
			r.runs.length ? table('runs-table', ['run', 'kind', 'state', 'progress', 'as expected', 'not as expected', 'created', 'finished'],
				r.runs.map(runRow)) : h('p.note.empty', 'No run matches these filters.'),
			nav);
	};

	const liveDraw = async () => {
		const r = await api.runs({ state: 'running', limit: 10 }, ctx);
		const q = await api.runs({ state: 'queued', limit: 10 }, ctx);
		const runs = [...r.runs, ...q.runs];
		fill(live, h('h2', `Live: ${r.total} running, ${q.total} queued`),
			runs.length ? h('ul.live-runs', runs.map((run) => h('li', { 'data-run': run.id },
				h('a', { href: `#/runs/${run.id}` }, `#${run.id} ${run.kind}`), ' ', progress(run)))) :
				h('p.note', 'Nothing is running.'),
			h('p.small', `updated ${new Date().toISOString().slice(11, 19)}Z, every 2 s`));
		return true;
	};

	draw(route.query);
	await Promise.all([load(route.query), liveDraw().catch((e) => live.append(errorBox(e)))]);
	ctx.every(2000, async () => {
		await liveDraw();
		await load(ctx.route.query);
	});
	ctx.onQuery((q) => {
		ctx.route.query = q;
		draw(q);
		load(q);
	});
}

function jobRow(j, known) {
	const cls = jobClass(j, known);
	return h('tr', { 'data-job': j.id, 'data-verdict': cls },
		h('td', h('a', { href: `#/jobs/${j.id}` }, `#${j.id}`)),
		h('td', j.scenario),
		h('td', h('code', JSON.stringify(j.matrix))),
		h('td', badge(cls)),
		h('td', expectMark(j) || '—'),
		h('td', (j.failing || []).join(', ') || '—'),
		h('td.num', String(j.attempt)),
		h('td', j.reason || ''));
}

export async function pageRun(view, route, ctx) {
	const id = route.id;
	const title = h('h1', `Run #${id}`);
	const head = h('div.run-head');
	const mbox = h('div.matrix-box', h('p.loading', 'Loading…'));
	const jobsBox = h('div');
	view.append(title, head, h('h2', 'Matrix'), mbox, h('h2', 'Jobs'), jobsBox);
	let known = null;
	const filters = { verdict: route.query.verdict || '', scenario: route.query.scenario || '', expected: route.query.expected || '' };
	let last = null;

	const drawJobs = (jobs) => {
		const scenarios = [...new Set(jobs.map((j) => j.scenario))].sort();
		const shown = jobs.filter((j) => (!filters.verdict || jobClass(j, known) === filters.verdict) &&
			(!filters.scenario || j.scenario === filters.scenario) &&
			(!filters.expected || String(j.as_expected) === filters.expected));
		const form = h('form.filters', { role: 'search', 'aria-label': 'filter jobs' },
			select('verdict', 'Verdict', [['', 'any'], ...['pass', 'fail', 'hang', 'crash', 'infra', 'known', 'queued', 'leased', 'running', 'cancelled'].map((v) => [v, v])], filters.verdict),
			select('scenario', 'Scenario', [['', 'any'], ...scenarios.map((s) => [s, s])], filters.scenario),
			select('expected', 'Expectation', [['', 'any'], ['1', 'as expected'], ['0', 'not as expected']], filters.expected));
		form.onchange = () => {
			const fd = new FormData(form);
			filters.verdict = fd.get('verdict');
			filters.scenario = fd.get('scenario');
			filters.expected = fd.get('expected');
			// Linkable: the filters live in the hash (onQuery redraws).
			history.replaceState(null, '', hashWith(`/runs/${id}`, filters));
			drawJobs(jobs);
		};
		// A redraw keeps the focus on the filter the user is on.
		const focusName = jobsBox.contains(document.activeElement) ? document.activeElement.name : null;
		fill(jobsBox, form, h('p.small', `${shown.length} of ${jobs.length} jobs`),
			table('jobs-table', ['job', 'scenario', 'case', 'verdict', 'expectation', 'failing checks', 'attempt', 'reason'],
				shown.map((j) => jobRow(j, known))));
		if (focusName)
			form.querySelector(`[name="${focusName}"]`)?.focus();
	};

	const drawHead = (run) => {
		fill(head, 
			h('p', run.bisect ? h('span', 'a step of ', h('a', { href: `#/bisects/${run.bisect}` }, `bisect #${run.bisect}`), ' · ') :
				`${run.kind} · `, h('span', { class: `state s-${run.state}` }, run.state), ` · created ${fmtTime(run.created_at)} (${fmtAgo(run.created_at)})`,
				run.finished_at ? ` · finished ${fmtTime(run.finished_at)}` : ''),
			progress(run),
			h('p.small', h('a', { href: `/api/v1/runs/${run.id}/junit.xml` }, 'JUnit XML'), ' · ',
				h('a', { href: `/api/v1/runs/${run.id}` }, 'JSON'), ' · request ', h('code', JSON.stringify(run.request))));
	};

	const draw = async () => {
		const r = await api.run(id, ctx);
		const changed = JSON.stringify(r) !== last;
		last = JSON.stringify(r);
		if (changed) {
			drawHead(r.run);
			drawJobs(r.jobs);
			let prev = [];
			if (r.run.kind === 'nightly') {
				const older = await api.runs({ kind: 'nightly', limit: 50 }, ctx);
				prev = older.runs.filter((x) => x.id < r.run.id).slice(0, 5);
			}
			await renderRunMatrix(mbox, r.run, prev, ctx);
		}
		return r.run.state === 'queued' || r.run.state === 'running';
	};
	known = await knownMatcher();
	const more = await draw();
	if (more)
		ctx.every(2000, draw);
}
