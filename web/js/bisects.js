// bisects.js: the bisects the controller drives. #/bisects lists them;
// #/bisects/ID shows one: the result (first bad revision or the range it is
// in, confidence, flake rate), the candidates in order with their verdicts
// and build logs, and every step with its run and jobs, live while it runs.
// The form that starts one is bisect_form.js.

import { api } from './api.js';
import { h, fill, fmtTime, fmtDuration, errorBox, table, hashWith } from './util.js';

const PAGE = 25;
const POLL_MS = 2000;
const CAND_TABLE_ALL = 100;	// more candidates: the table lists the tested ones

// A candidate's verdict: colour (CSS v-NAME), symbol and label.
export const CANDIDATE = {
	good: { sym: '✓', label: 'good' },
	bad: { sym: '✗', label: 'bad' },
	skip: { sym: '–', label: 'skip' },
	untested: { sym: '·', label: 'untested' },
};

function candBadge(v) {
	const c = CANDIDATE[v] || { sym: '?', label: v };
	return h('span', { class: `badge v-${v}` }, h('span.sym', { 'aria-hidden': 'true' }, c.sym), ' ', c.label);
}

function stateTag(state) {
	return h('span', { class: `state s-${state}`, 'data-state': state }, state);
}

// A commit id is shown as its first 12 digits; an artifact as it is.
export function shortRev(rev) {
	return /^[0-9a-f]{40}$/.test(rev || '') ? rev.slice(0, 12) : rev || '';
}

function revCode(rev) {
	return h('code.rev', { title: rev }, shortRev(rev));
}

// The posterior as a percentage: one that rounds to 100 is still not 1.
export function fmtConfidence(c) {
	if (c === null || c === undefined)
		return '—';
	const t = (100 * c).toFixed(1);
	return t === '100.0' && c < 1 ? '> 99.9 %' : `${t} %`;
}

function fmtRate(r) {
	return r === null || r === undefined ? '—' : `${Math.round(100 * r)} %`;
}

function jobIds(jobs) {
	return String(jobs ?? '').split(',').filter(Boolean);
}

// --- the list ---

function resultCell(b) {
	if (b.state === 'done' && b.range === 1)
		return h('td.result', 'first bad ', revCode(b.first_bad_rev), b.first_bad_subject ? ' ' + b.first_bad_subject : '');
	if (b.state === 'done' && b.range > 1)
		return h('td.result', `within ${b.range} candidates, up to `, revCode(b.first_bad_rev));
	if (b.state === 'running')
		return h('td.result', `${b.steps} step${b.steps === 1 ? '' : 's'} so far`);
	return h('td.result', b.message || b.state);
}

function bisectRow(b) {
	return h('tr', { 'data-bisect': b.id, 'data-state': b.state },
		h('td', h('a', { href: `#/bisects/${b.id}` }, `#${b.id}`)),
		h('td', stateTag(b.state)),
		h('td', b.scenario),
		resultCell(b),
		h('td.num', fmtConfidence(b.confidence)),
		h('td.num', String(b.steps)),
		h('td.num', String(b.candidates)),
		h('td', b.regression_run ? h('a', { href: `#/runs/${b.regression_run}` }, `run #${b.regression_run}`) : '—'),
		h('td', fmtTime(b.created_at)),
		h('td', b.finished_at ? fmtTime(b.finished_at) : '—'));
}

export async function pageBisects(view, route, ctx) {
	view.append(h('h1', 'Bisects'),
		h('p', h('a', { href: '#/bisects/new' }, 'Start a bisect'),
			' · or “bisect this” on a regression of the ', h('a', { href: '#/' }, 'nightly matrix'), '.'));
	const list = h('div.bisects', h('p.loading', 'Loading…'));
	view.append(list);
	let last = null;

	const load = async () => {
		const offset = Math.max(0, Number(ctx.route.query.offset) || 0);
		const r = await api.bisects({ limit: PAGE, offset }, ctx);
		const rows = r.bisects || [];
		const sig = JSON.stringify(rows) + offset;
		if (sig !== last) {
			last = sig;
			const nav = h('nav.pager', { 'aria-label': 'pages' },
				offset > 0 ? h('a', { href: hashWith('/bisects', { offset: Math.max(0, offset - PAGE) }), rel: 'prev' }, '← newer') :
					h('span.dis', '← newer'),
				rows.length === PAGE ? h('a', { href: hashWith('/bisects', { offset: offset + PAGE }), rel: 'next' }, 'older →') :
					h('span.dis', 'older →'));
			fill(list, rows.length ? table('bisects-table', ['bisect', 'state', 'scenario', 'result', 'confidence', 'steps',
				'candidates', 'regression', 'created', 'finished'], rows.map(bisectRow)) :
				h('p.note.empty', offset ? 'No older bisects.' : 'No bisect yet.'), nav);
		}
		return rows.some((b) => b.state === 'running');
	};
	let polling = false;
	const poll = async () => {
		const more = await load();
		if (more && !polling) {
			polling = true;
			ctx.every(POLL_MS, async () => (polling = await load()));
		}
	};
	ctx.onQuery((q) => {
		ctx.route.query = q;
		poll().catch((e) => e.name !== 'AbortError' && fill(list, errorBox(e)));
	});
	try {
		await poll();
	} catch (e) {
		if (e.name !== 'AbortError')
			fill(list, errorBox(e));
	}
}

// --- one bisect ---

function resultSection(b) {
	const cands = b.candidates || [];
	const what = b.request?.mode === 'git' ? 'revision' : 'kernel';
	const fb = b.first_bad_candidate;
	const lg = cands[b.last_good];
	let head, cls = '';
	if (b.state === 'done' && fb && b.first_bad - b.last_good === 1) {
		cls = 'r-found';
		head = h('p.first-bad', `First bad ${what}: `, revCode(fb.rev), fb.subject ? [' ', h('span.subject', fb.subject)] : null,
			h('small', ` (candidate ${fb.index} of 0–${cands.length - 1}`,
				lg ? [`; last good: `, revCode(lg.rev)] : null, ')'));
	} else if (b.state === 'done' && fb) {
		cls = 'r-range';
		const range = cands.slice(b.last_good + 1, b.first_bad + 1);
		head = [h('p.first-bad', `The first bad ${what} is one of ${range.length} candidates ` +
			`(${b.last_good + 1}–${b.first_bad}): those in between could not be told apart.`),
		h('ul.range', range.map((c) => h('li', `[${c.index}] `, revCode(c.rev), c.subject ? ' ' + c.subject : '', ' ', candBadge(c.verdict))))];
	} else if (b.state === 'running') {
		const open = (b.steps || []).find((s) => !s.finished_at);
		head = h('p', 'Running', open ? [`: step ${open.step}, candidate ${open.index} `, revCode(open.rev),
			open.why ? ` — ${open.why}` : ''] : ': choosing the next candidate', '.');
	} else {
		cls = b.state === 'failed' ? 'r-failed' : '';
		head = h('p', b.state === 'failed' ? 'The bisect failed: ' : 'Cancelled: ', h('strong', b.message || b.state));
	}
	const kv = [
		['state', stateTag(b.state)],
		['confidence', h('span', { 'data-field': 'confidence' }, fmtConfidence(b.confidence)),
			' ', h('small', '(posterior probability of the answer)')],
		['flake rate', h('span', { 'data-field': 'flake_rate' }, fmtRate(b.flake_rate)),
			' ', h('small', '(failure rate of a bad revision, estimated from its runs)')],
		['message', b.message || '—'],
		['regression', b.regression_run ? [h('a', { href: `#/runs/${b.regression_run}` }, `nightly run #${b.regression_run}`),
			b.regression_case ? [' ', h('code', b.regression_case)] : null] : '—'],
		['created', fmtTime(b.created_at)],
		['finished', b.finished_at ? `${fmtTime(b.finished_at)} (after ${fmtDuration(b.finished_at - b.created_at)})` : '—'],
	];
	return h('section', { class: `bisect-result ${cls}`, 'aria-label': 'result' }, head,
		h('dl.kv', kv.map(([k, ...v]) => [h('dt', k), h('dd', v)])));
}

function requestSection(b) {
	const q = b.request || {};
	const rows = [
		['scenario', [q.scenario || b.scenario, ' ', h('code', JSON.stringify(q.set || {}))]],
		q.mode === 'git' ? ['repository', [h('code', q.repo), ' ', h('code', `${q.good}..${q.bad}`)]] :
			['artifacts', `${(q.artifacts || []).length} ${q.kind || ''} kernels, good first`],
		q.mode === 'git' ? ['build', [h('code', (q.build || []).join(' ')), ' → ', h('code', q.artifact),
			q.build_timeout_s ? ` (at most ${q.build_timeout_s} s)` : '']] : null,
		['runs', `${q.repeat} per step; bad at ${q.threshold} failure${q.threshold === 1 ? '' : 's'};` +
			` at most ${q.max_runs} per candidate; confidence aimed at ${fmtConfidence(q.confidence)}; priority ${q.priority}`],
	];
	return h('details.bisect-request', h('summary', 'Request'),
		h('dl.kv', rows.filter(Boolean).map(([k, v]) => [h('dt', k), h('dd', v)])));
}

function strip(b) {
	const lo = b.last_good, hi = b.first_bad;
	const done = b.state === 'done' && Number.isInteger(hi);
	return h('ol.cand-strip', { 'aria-label': 'candidates in order, good end first' }, (b.candidates || []).map((c) => {
		const v = CANDIDATE[c.verdict] || { sym: '?', label: c.verdict };
		const failed = c.build === 'failed';
		const cls = [`v-${c.verdict}`, failed ? 'build-failed' : '', done && c.index === hi ? 'first-bad' : '',
			done && c.index > lo && c.index <= hi ? 'in-range' : ''].filter(Boolean).join(' ');
		return h('li', { class: cls, 'data-index': c.index, 'data-verdict': c.verdict,
			title: `[${c.index}] ${shortRev(c.rev)}${c.subject ? ' ' + c.subject : ''}: ${v.label}${failed ? ', the build failed' : ''}` },
		h('span.sym', { 'aria-hidden': 'true' }, failed ? '⚠' : v.sym), h('span.idx', String(c.index)),
		h('span.sr-only', ` ${v.label}${failed ? ', build failed' : ''}${done && c.index === hi ? ', first bad' : ''}`));
	}));
}

// A build log, fetched when its <details> opens (and kept open across
// live redraws through `open`).
function buildLog(b, c, open) {
	const pre = h('pre.log', 'Loading…');
	const load = async () => {
		try {
			fill(pre, (await api.buildLog(b.id, c.index)).text || '(empty)');
		} catch (e) {
			fill(pre, errorBox(e));
		}
	};
	const d = h('details.build-log', { 'data-index': c.index, open: open.has(c.index) || undefined },
		h('summary', { 'aria-label': `build log of candidate ${c.index}` }, 'build log'), pre,
		h('a', { href: `api/v1/bisects/${b.id}/candidates/${c.index}/build-log` }, 'raw'));
	d.addEventListener('toggle', () => {
		if (d.open) {
			open.add(c.index);
			load();
		} else {
			open.delete(c.index);
		}
	});
	if (open.has(c.index))
		load();
	return d;
}

function candTable(b, state) {
	const cands = b.candidates || [];
	const lo = b.last_good, hi = b.first_bad;
	// Thousands of revisions: list the ones that say something, unless asked.
	const shown = state.allCands || cands.length <= CAND_TABLE_ALL ? cands : cands.filter((c) =>
		c.verdict !== 'untested' || c.build !== 'none' || c.runs || c.infra || c.index === 0 ||
		c.index === cands.length - 1 || (Number.isInteger(hi) && c.index > lo && c.index <= hi));
	const rows = shown.map((c) => h('tr', { 'data-index': c.index, 'data-verdict': c.verdict, 'data-build': c.build,
		class: c.index === hi && b.state === 'done' ? 'first-bad-row' : '' },
	h('td.num', String(c.index)),
	h('td', revCode(c.rev)),
	h('td', c.subject || ''),
	h('td', candBadge(c.verdict)),
	h('td.num', String(c.runs)), h('td.num', String(c.fails)), h('td.num', String(c.infra)),
	h('td', c.build === 'failed' ? h('strong.build-failed-mark', '⚠ failed') : c.build === 'ok' ? 'ok' : '—',
		c.build !== 'none' ? buildLog(b, c, state.openLogs) : null)));
	const more = shown.length < cands.length ? h('p.small', `${shown.length} of ${cands.length} candidates listed (the tested ones and the ends). `,
		h('button', { type: 'button', onclick: () => { state.allCands = true; state.redraw(); } }, 'List all')) : null;
	return [table('candidates', ['#', 'revision', 'subject', 'verdict', 'runs', 'fails', 'infra', 'build'], rows), more];
}

function stepTable(b) {
	const steps = b.steps || [];
	if (!steps.length)
		return h('p.note', b.state === 'running' ? 'No step yet: the first candidate is being prepared.' : 'No step was run.');
	return table('steps', ['step', 'candidate', 'revision', 'subject', 'run', 'jobs', 'passes', 'fails', 'infra', 'verdict after', 'why', 'time'],
		steps.map((s) => {
			// No run: the build failed, nothing passed or failed.
			const done = Boolean(s.finished_at) && s.run !== null;
			const jobs = jobIds(s.jobs);
			return h('tr', { 'data-step': s.step, 'data-index': s.index },
				h('td.num', String(s.step)),
				h('td.num', String(s.index)),
				h('td', revCode(s.rev)),
				h('td', s.subject || ''),
				h('td', s.run ? h('a', { href: `#/runs/${s.run}` }, `#${s.run}`) : h('span.bad', 'build failed')),
				h('td.jobs', jobs.length ? jobs.map((j, i) => [i ? ' ' : '', h('a', { href: `#/jobs/${j}` }, `#${j}`)]) : '—'),
				h('td.num', done ? String(s.passes) : '—'),
				h('td.num', { class: s.fails ? 'bad' : '' }, done ? String(s.fails) : '—'),
				h('td.num', done ? String(s.infra) : '—'),
				h('td', s.verdict ? candBadge(s.verdict) : h('span', { class: 'badge v-running' }, `${s.runs} running`)),
				h('td', s.why || ''),
				h('td', fmtTime(s.started_at), s.finished_at > s.started_at ? ` (${fmtDuration(s.finished_at - s.started_at)})` : ''));
		}));
}

export async function pageBisect(view, route, ctx) {
	const id = route.id;
	view.append(h('h1', `Bisect #${id}`));
	const box = h('div.bisect', h('p.loading', 'Loading…'));
	view.append(box);
	const state = { openLogs: new Set(), allCands: false, redraw: () => {} };
	let last = null;

	// What has the keyboard focus, to find it again after a live redraw.
	const focusKey = (el) => [el.tagName, el.getAttribute('href') || '', el.closest('[data-index]')?.dataset.index ?? '',
		el.closest('[data-step]')?.dataset.step ?? '', el.textContent].join('|');
	const render = (b) => {
		state.redraw = () => render(b);
		const had = box.contains(document.activeElement) ? focusKey(document.activeElement) : null;
		fill(box,
			h('p.summary', `${b.scenario} · `, stateTag(b.state), ` · ${(b.candidates || []).length} candidates · ` +
				`${(b.steps || []).length} steps`),
			resultSection(b),
			requestSection(b),
			h('h2', 'Candidates'),
			strip(b),
			candTable(b, state),
			h('h2', 'Steps'),
			stepTable(b),
			h('p.small', 'From a shell: ', h('code', `wakefarm bisect show ${id}`),
				b.state === 'running' ? [' · stop it: ', h('code', `wakefarm bisect cancel ${id}`)] : null));
		if (had)
			[...box.querySelectorAll('a, summary, button')].find((el) => focusKey(el) === had)?.focus({ preventScroll: true });
	};
	const draw = async () => {
		const b = await api.bisect(id, ctx);
		const sig = JSON.stringify(b);
		// A redraw with nothing new keeps the DOM (and the keyboard focus).
		if (sig !== last) {
			last = sig;
			render(b);
		}
		return b.state === 'running';
	};
	try {
		if (await draw())
			ctx.every(POLL_MS, draw);
	} catch (e) {
		if (e.name !== 'AbortError')
			fill(box, errorBox(e));
	}
}
