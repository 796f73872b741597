// hosts.js: the agents' hosts (#/hosts): state, slots in use, last
// heartbeat, and the recent infrastructure errors found in recent runs.

import { api } from './api.js';
import { h, clear, fill, fmtAgo, fmtTime, errorBox, table, unavailable } from './util.js';

const STALE_MS = 60000;

function hostRow(x, now) {
	const stale = now - x.last_seen > STALE_MS;
	return h('tr', { 'data-host': x.name },
		h('th', { scope: 'row' }, x.name),
		h('td', h('span', { class: `state h-${x.state}` }, x.state)),
		h('td.num', `${x.busy}/${x.slots}`),
		h('td', { class: stale ? 'bad' : '', title: fmtTime(x.last_seen) }, fmtAgo(x.last_seen, now), stale ? ' (no heartbeat)' : ''),
		h('td', h('code', x.libvirt_uri)),
		h('td', fmtTime(x.registered_at)));
}

// Infra errors are not listed per host by the API: scan the jobs of the
// latest runs for infra verdicts and requeues.
async function infraErrors(ctx) {
	const runs = (await api.runs({ limit: 5 }, ctx)).runs;
	const details = await Promise.all(runs.map((r) => api.run(r.id, ctx).catch(() => null)));
	const jobs = details.filter(Boolean).flatMap((d) => d.jobs)
		.filter((j) => j.verdict === 'infra' || /^infra|lease expired/.test(j.reason || ''));
	const withHost = await Promise.all(jobs.slice(0, 20).map((j) => api.job(j.id, ctx).catch(() => j)));
	return withHost;
}

export async function pageHosts(view, route, ctx) {
	view.append(h('h1', 'Hosts'));
	const box = h('div', h('p.loading', 'Loading…'));
	const infra = h('section', h('h2', 'Recent infrastructure errors'), h('p.loading', 'Loading…'));
	view.append(box, infra);
	const draw = async () => {
		const r = await api.hosts(ctx);
		const now = Date.now();
		const free = r.hosts.filter((x) => x.state === 'good').reduce((a, x) => a + x.slots - x.busy, 0);
		fill(box, 
			h('p.summary', `${r.hosts.length} hosts · ${r.hosts.filter((x) => x.state === 'good').length} good · ${free} free slots`),
			r.hosts.length ? table('hosts', ['host', 'state', 'slots busy', 'last heartbeat', 'libvirt', 'registered'],
				r.hosts.map((x) => hostRow(x, now))) : h('p.note', 'No agent has registered yet.'));
		return true;
	};
	try {
		await draw();
		ctx.every(5000, draw);
	} catch (e) {
		if (e.name !== 'AbortError')
			fill(box, errorBox(e));
	}
	try {
		const errs = await infraErrors(ctx);
		fill(infra, h('h2', 'Recent infrastructure errors'),
			unavailable('infra errors per host (this list is gathered from the jobs of the last 5 runs)'),
			errs.length ? table('infra', ['job', 'host', 'attempt', 'reason', 'finished'], errs.map((j) =>
				h('tr', h('td', h('a', { href: `#/jobs/${j.id}` }, `#${j.id}`)), h('td', j.host || '—'),
					h('td.num', String(j.attempt)), h('td', j.reason || ''), h('td', fmtTime(j.finished_at))))) :
				h('p.note', 'No infrastructure error in the last 5 runs.'));
	} catch (e) {
		if (e.name !== 'AbortError')
			infra.append(errorBox(e));
	}
}
