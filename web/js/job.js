// job.js: one job (#/jobs/ID): verdict against expectation, generations,
// every check with expected vs observed, the fw/os/host timeline, both
// serial logs with search and line links, the host-side mailbox of a hang
// decoded and as hex, and the line that reproduces it locally.

import { api, knownMatcher } from './api.js';
import { laneChart } from './charts.js';
import { h, clear, fill, badge, jobClass, expectMark, fmtTime, fmtDuration, fmtUs, json, errorBox, table, hashWith, copyButton } from './util.js';

const LOG_LIMIT = 1024 * 1024;
const COMMANDS = { 0: 'noop', 1: 'wakeup', 2: 'test' };

function kv(rows) {
	return h('dl.kv', rows.filter(Boolean).map(([k, v]) => [h('dt', k), h('dd', v)]));
}

function hexBytes(n, bytes) {
	const out = [];
	let v = BigInt(n);
	for (let i = 0; i < bytes; i++) {
		out.push(Number(v & 0xffn));
		v >>= 8n;
	}
	return out;
}

function toBig(x) {
	try {
		return BigInt(typeof x === 'string' ? x : Math.trunc(Number(x) || 0));
	} catch (e) {
		return 0n;
	}
}

// The first 16 bytes of the mailbox (ACPI 6.6, table 5.46), rebuilt from the
// decoded record: command u16, reserved u16, APIC ID u32, vector u64.
export function mailboxBytes(rec) {
	return [...hexBytes(toBig(rec.command), 2), ...hexBytes(toBig(rec.reserved), 2),
		...hexBytes(toBig(rec.apic_id), 4), ...hexBytes(toBig(rec.vector), 8)];
}

function hexView(rec) {
	const b = mailboxBytes(rec);
	const base = toBig(rec.address);
	const fields = ['cmd', 'cmd', 'rsv', 'rsv', 'apic', 'apic', 'apic', 'apic', 'vec', 'vec', 'vec', 'vec', 'vec', 'vec', 'vec', 'vec'];
	return h('div.hex', { role: 'group', 'aria-label': 'mailbox bytes as hex' },
		h('span.addr', '0x' + base.toString(16).padStart(8, '0') + ':'),
		b.map((x, i) => h('span', { class: `hb f-${fields[i]}`, title: fields[i] }, x.toString(16).padStart(2, '0'))),
		h('span.ascii', b.map((x) => x >= 0x20 && x < 0x7f ? String.fromCharCode(x) : '.').join('')));
}

function mailboxPanel(rec, job) {
	const cmd = Number(rec.command);
	return h('section.mailbox', { 'aria-label': 'host-side mailbox' },
		h('h2', 'Mailbox read from the host when the watchdog fired'),
		h('p.small', `The ${rec.src === 'host' ? 'agent' : 'guest'} read the 4 KiB mailbox at ${rec.address} ` +
			`(generation ${rec.gen}, t = ${fmtUs(rec.t_us)}).` +
			(cmd === 1 ? ' Command 1 still set: the OS asked for a wakeup and no AP acknowledged it.' : '')),
		table('mailbox-fields', ['field', 'offset', 'value', 'meaning'], [
			h('tr', h('td', 'command'), h('td', '0, u16'), h('td', { 'data-field': 'command' }, String(rec.command)),
				h('td', COMMANDS[cmd] ? `${COMMANDS[cmd]}${cmd ? ' (not acknowledged)' : ''}` : 'reserved value')),
			h('tr', h('td', 'reserved'), h('td', '2, u16'), h('td', { 'data-field': 'reserved' }, String(rec.reserved)),
				h('td', Number(rec.reserved) ? 'must be 0: corrupted' : 'zero, as required')),
			h('tr', h('td', 'APIC ID'), h('td', '4, u32'), h('td', { 'data-field': 'apic_id' }, String(rec.apic_id)),
				h('td', 'the AP the command targets')),
			h('tr', h('td', 'wakeup vector'), h('td', '8, u64'), h('td', { 'data-field': 'vector' }, String(rec.vector)),
				h('td', 'where the AP should jump'))]),
		hexView(rec),
		job.expected_verdict === 'hang' ? h('p.note', 'This scenario expects this hang.') : null);
}

function noRows(j, what) {
	if (j.state !== 'done')
		return h('p.note', `No ${what} yet: the job is ${j.state}.`);
	return h('p.note', j.verdict === 'infra' ? `No ${what}: no guest ran (infrastructure error on every attempt).` :
		`No ${what}.`);
}

function generations(gens, j) {
	if (!gens || !gens.length)
		return noRows(j, 'generation rows');
	return table('gens', ['gen', 'kind', 'CPU (APIC ID)', 'CPUs online: expected', 'observed', 'MADT version', 'length', 'mailbox', 'reset vector'],
		gens.map((g) => h('tr', { class: g.cpus_online !== g.expected_online ? 'bad-row' : '' },
			h('td', String(g.gen)), h('td', g.kind || '—'), h('td', String(g.cpu ?? '—')),
			h('td.num', String(g.expected_online ?? '—')),
			h('td.num', { class: g.cpus_online !== g.expected_online ? 'bad' : '' },
				g.cpus_online === -1 || g.cpus_online == null ? 'none (no online record)' : String(g.cpus_online)),
			h('td', String(g.madt_version ?? '—')), h('td', String(g.madt_length ?? '—')),
			h('td', h('code', g.mailbox ?? '—')), h('td', h('code', g.reset_vector ?? '—')))));
}

function checks(list, j) {
	if (!list || !list.length)
		return noRows(j, 'checks');
	const sorted = [...list].sort((a, b) => a.ok - b.ok);
	const bad = list.filter((c) => !c.ok).length;
	return h('div', h('p.small', `${list.length} checks, ${bad} failing (failing first)`),
		table('checks', ['check', 'gen', 'result', 'expected', 'observed'], sorted.map((c) =>
			h('tr', { class: c.ok ? '' : 'bad-row', 'data-check': c.check },
				h('td', c.check), h('td', c.gen ? String(c.gen) : 'run'),
				h('td', c.ok ? badge('pass', null) : badge('fail', null)),
				h('td', h('code.expected', json(c.expected))),
				h('td', h('code', { class: c.ok ? 'observed' : 'observed bad' }, json(c.observed)))))));
}

const SKIP = new Set(['v', 'src', 'gen', 'ev', 't_us']);

function timeline(events) {
	if (!events.length)
		return h('p.note', 'No events yet.');
	const recs = events.map((e) => ({ seq: e.seq, attempt: e.attempt, ...e.record }));
	const maxT = Math.max(1, ...recs.map((r) => r.t_us || 0));
	const box = h('div');
	const srcs = ['fw', 'os', 'host'];
	const shown = new Set(srcs);
	// Records of earlier attempts (retried after an infra error) stay listed.
	const multi = new Set(recs.map((r) => r.attempt)).size > 1;
	const draw = () => {
		const rows = recs.filter((r) => shown.has(r.src));
		fill(box, table('timeline', [...(multi ? ['attempt'] : []), 'seq', 't_us', 'src', 'gen', 'event', 'fields'], rows.map((r) =>
			h('tr', { class: `src-${r.src} ev-${r.ev}` },
				multi ? h('td.num', String(r.attempt)) : null,
				h('td.num', String(r.seq)),
				h('td.num', h('span.tbar', { style: `width:${Math.max(1, 60 * (r.t_us || 0) / maxT)}px`, 'aria-hidden': 'true' }), String(r.t_us)),
				h('td', h('span', { class: `src src-${r.src}` }, r.src)), h('td', String(r.gen)),
				h('td', r.ev),
				h('td', h('code', Object.entries(r).filter(([k]) => !SKIP.has(k) && k !== 'seq' && k !== 'attempt')
					.map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ')))))));
	};
	const toggles = h('fieldset.toggles', h('legend', 'show'), srcs.map((s) =>
		h('label', h('input', { type: 'checkbox', checked: true, value: s, onchange: (e) => {
			if (e.target.checked)
				shown.add(s);
			else
				shown.delete(s);
			draw();
		} }), ` ${s} (${recs.filter((r) => r.src === s).length})`)));
	draw();
	return h('div', laneChart(recs), toggles, box);
}

// A serial log with line numbers, line links and search.
function logView(jobId, route) {
	const box = h('section.logs', { 'aria-label': 'serial logs' });
	const ports = [['0', 'COM1 (human log)'], ['1', 'COM2 (report records)']];
	let port = route.query.log === '1' ? '1' : '0';
	const tabs = h('div.tabs', { role: 'tablist' });
	const search = h('input', { type: 'search', placeholder: 'search the log', 'aria-label': 'search the log', name: 'logsearch' });
	const status = h('span.small.search-status', { 'aria-live': 'polite' });
	const body = h('div.logbody', { tabindex: 0, 'aria-label': 'log text' });
	let lines = [], hits = [], hit = -1;

	const drawTabs = () => fill(tabs, ports.map(([p, label]) =>
		h('button', { type: 'button', role: 'tab', 'aria-selected': String(p === port), 'data-port': p,
			onclick: () => { port = p; drawTabs(); load(); } }, label)));

	const renderLines = () => {
		const q = search.value.toLowerCase();
		hits = [];
		const pre = h('ol.loglines');
		lines.forEach((text, i) => {
			const n = i + 1;
			const li = h('li', { id: `L${port}-${n}` },
				h('a.ln', { href: hashWith(`/jobs/${jobId}`, { log: port, line: n }), 'aria-label': `line ${n}` }, String(n)));
			if (q && text.toLowerCase().includes(q)) {
				hits.push(n);
				let rest = text, idx;
				const span = h('span.lt');
				while ((idx = rest.toLowerCase().indexOf(q)) !== -1) {
					span.append(rest.slice(0, idx), h('mark', rest.slice(idx, idx + q.length)));
					rest = rest.slice(idx + q.length);
				}
				span.append(rest);
				li.append(span);
				li.classList.add('hit');
			} else {
				li.append(h('span.lt', text));
			}
			pre.append(li);
		});
		fill(body, pre);
		status.textContent = q ? `${hits.length} matching line${hits.length === 1 ? '' : 's'}` : `${lines.length} lines`;
		const want = Number(route.query.line);
		if (want && String(route.query.log || '0') === port)
			goto(want);
	};
	const goto = (n) => {
		const li = body.querySelector(`#L${port}-${n}`);
		body.querySelectorAll('li.current').forEach((x) => x.classList.remove('current'));
		if (li) {
			li.classList.add('current');
			li.scrollIntoView({ block: 'center' });
		}
	};
	const step = (d) => {
		if (!hits.length)
			return;
		hit = (hit + d + hits.length) % hits.length;
		goto(hits[hit]);
		status.textContent = `match ${hit + 1} of ${hits.length}`;
	};
	const load = async () => {
		body.textContent = 'Loading…';
		try {
			const r = await api.log(jobId, port, { limit: LOG_LIMIT });
			lines = r.text.split('\n');
			if (lines.length && lines[lines.length - 1] === '')
				lines.pop();
			renderLines();
			if (r.size > r.text.length)
				body.append(h('p.note', `Showing the first ${r.text.length} of ${r.size} bytes. `,
					h('a', { href: `/api/v1/jobs/${jobId}/logs/${port}?limit=${r.size}` }, 'Whole log')));
			if (!lines.length)
				fill(body, h('p.note', 'This log is empty (the agent sent nothing on this port).'));
		} catch (e) {
			fill(body, errorBox(e));
		}
	};
	search.addEventListener('input', () => { hit = -1; renderLines(); });
	search.addEventListener('keydown', (e) => {
		if (e.key === 'Enter') {
			e.preventDefault();
			step(e.shiftKey ? -1 : 1);
		}
	});
	drawTabs();
	box.append(h('h2', 'Serial logs'), tabs, h('div.searchbar', search,
		h('button', { type: 'button', onclick: () => step(-1), 'aria-label': 'previous match' }, '↑'),
		h('button', { type: 'button', onclick: () => step(1), 'aria-label': 'next match' }, '↓'), status), body);
	load();
	box.gotoLine = (q) => {
		route.query = q;
		if ((q.log || '0') !== port) {
			port = q.log === '1' ? '1' : '0';
			drawTabs();
			load();
		} else if (q.line) {
			goto(Number(q.line));
		}
	};
	return box;
}

// The controller's lines: `wakefarm --server URL repro ID` and the
// guest/run-qemu equivalent for people without access to the farm.
function repro(id, rp) {
	const server = location.href.replace(/[#?].*$/, '').replace(/\/(index\.html)?$/, '');
	const code = h('code#repro-line', rp?.cli || `wakefarm --server ${server} repro ${id}`);
	const rq = rp?.run_qemu ? h('code#repro-run-qemu', rp.run_qemu) : null;
	return h('div.repro',
		h('p', 'Reproduce locally: ', code, ' ', copyButton(code)),
		rq ? h('p', 'Without farm access, from a wakefarm tree: ', rq, ' ', copyButton(rq)) : null);
}

export async function pageJob(view, route, ctx) {
	const id = route.id;
	const known = await knownMatcher();
	let last = null, logs = null;
	const head = h('div'), rest = h('div');
	view.append(h('h1', `Job #${id}`), head, rest);

	const draw = async () => {
		const j = await api.job(id, ctx);
		const sig = `${j.state}|${j.verdict}|${j.events.length}`;
		if (sig === last)
			return j.state !== 'done';
		last = sig;
		// The controller names the known issues of a job (newer ones); else
		// the page matches them itself.
		const apiKnown = Array.isArray(j.known_issues) ? j.known_issues : null;
		const covered = apiKnown && j.as_expected === 0 && (j.failing || []).length &&
			j.failing.every((c) => apiKnown.some((k) => k.check === c));
		const cls = apiKnown ? (j.state === 'done' && covered ? 'known' : jobClass(j, null)) : jobClass(j, known);
		const hits = cls === 'known' ? (apiKnown || known(j)) : null;
		const mbox = j.events.map((e) => e.record).filter((r) => r.ev === 'host-mailbox').pop();
		fill(head, 
			h('p.verdict-line', badge(cls), ' ', expectMark(j) || '', ' ',
				j.state === 'done' ? `expected ${j.expected.verdict}` +
					(j.expected.failing_checks?.length ? ` failing [${j.expected.failing_checks.join(', ')}]` : '') : `state: ${j.state}`),
			hits ? h('p.note', 'Known issue: ', hits.map((k) => k.url ? h('a', { href: k.url }, k.description) : k.description)) : null,
			kv([
				['scenario', h('span', j.scenario, ' ', h('small', `(${(j.scenario_sha256 || '').slice(0, 12)})`))],
				['run', h('a', { href: `#/runs/${j.run}` }, `#${j.run}`)],
				['case', h('code', JSON.stringify(j.matrix))],
				['params', h('code', JSON.stringify(j.params))],
				['failing checks', (j.failing || []).join(', ') || 'none'],
				['reason', j.reason || '—'],
				['outcome', j.outcome ? `${j.outcome}${j.detail ? ': ' + j.detail : ''}` : '—'],
				['host', j.host || '—'],
				['attempt', String(j.attempt)],
				['created', fmtTime(j.created_at)],
				// The agent's own run time when it said (the controller's
				// started..finished spans only the calls it saw).
				['ran', j.started_at ? `${fmtTime(j.started_at)}, ${fmtDuration(j.run_ms ?? ((j.finished_at || Date.now()) - j.started_at))}` : '—'],
			]),
			repro(id, j.repro),
			// A failure (not an infra error) can be bisected from here.
			j.state === 'done' && j.as_expected === 0 && j.verdict !== 'infra' ?
				h('p.bisect-this', h('a', { href: `#/bisects/new?job=${id}` }, 'Bisect this case'),
					' — find the revision or kernel where it started to fail') : null);
		fill(rest, 
			mbox ? mailboxPanel(mbox, j) : (j.verdict === 'hang' ? h('p.note', 'Hang, but no host-side mailbox record was sent.') : null),
			h('h2', 'Generations'), generations(j.generations, j),
			h('h2', 'Checks'), checks(j.checks, j),
			h('h2', 'Timeline'), timeline(j.events));
		logs = logView(id, route);
		rest.append(logs);
		return j.state !== 'done';
	};
	ctx.onQuery((q) => logs && logs.gotoLine(q));
	if (await draw())
		ctx.every(2000, draw);
}
