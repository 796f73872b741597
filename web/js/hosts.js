// hosts.js: the agents' hosts (#/hosts): state, slots in use, last
// heartbeat, and the latest jobs that ended as infrastructure errors.

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

// The latest jobs whose verdict is infra (GET /jobs lists oldest first:
// ask for the total, then the last page), with their host.
async function infraErrors(ctx) {
	const n = (await api.jobs({ verdict: 'infra', limit: 1 }, ctx)).total;
	if (n === undefined)
		return null;	// an older controller: no verdict filter
	const r = await api.jobs({ verdict: 'infra', limit: 20, offset: Math.max(0, n - 20) }, ctx);
	return r.jobs.reverse();
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
		const byHost = new Map();
		for (const j of errs || [])
			byHost.set(j.host, (byHost.get(j.host) || 0) + 1);
		fill(infra, h('h2', 'Recent infrastructure errors'),
			errs === null ? unavailable('a verdict filter on GET /api/v1/jobs') :
				errs.length ? [h('p.small', `The last ${errs.length} jobs that ended as infra errors (after every retry): ` +
					[...byHost.entries()].map(([host, k]) => `${host || 'no host'} ${k}`).join(', ')),
				table('infra', ['job', 'host', 'attempt', 'reason', 'finished'], errs.map((j) =>
					h('tr', h('td', h('a', { href: `#/jobs/${j.id}` }, `#${j.id}`)), h('td', j.host || '—'),
						h('td.num', String(j.attempt)), h('td', j.reason || ''), h('td', fmtTime(j.finished_at)))))] :
					h('p.note', 'No job has ended as an infrastructure error.'));
	} catch (e) {
		if (e.name !== 'AbortError')
			infra.append(errorBox(e));
	}
}
