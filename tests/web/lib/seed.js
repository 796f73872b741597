// seed.js: fills a controller through its public API only. It submits runs
// as a submitter, then plays agents: register, lease, POST the records of
// real guest runs (tests/web/fixtures, see make-fixtures) in numbered
// batches, POST both serial logs, finish. The controller computes every
// verdict itself. A plan can swap a job's records for another case's (a
// kernel that regressed), cut them after the panic (a crash), or make the
// attempt an infrastructure error.
'use strict';

const fs = require('fs');
const path = require('path');
const { api, fixtureKey } = require('./farm');

const FIX = path.join(__dirname, '..', 'fixtures');
const BATCH = 20;

const cache = new Map();
function fixture(key) {
	if (!cache.has(key)) {
		const rec = path.join(FIX, key + '.records');
		if (!fs.existsSync(rec))
			throw new Error(`no fixture ${key} (run tests/web/make-fixtures)`);
		const text = fs.readFileSync(rec, 'utf8');
		const log = path.join(FIX, key + '.log');
		cache.set(key, {
			records: text.split('\n').filter(Boolean).map((l) => JSON.parse(l)),
			com2: text,
			com1: fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '',
		});
	}
	return cache.get(key);
}

// How an agent would report the guest's end, from its host-exit record.
function outcomeOf(records) {
	const ex = records.filter((r) => r.ev === 'host-exit').pop();
	if (!ex)
		return 'guest-error';
	if (ex.how === 'timeout')
		return 'hang';
	return ex.done_seen ? 'completed' : 'guest-error';
}

// A guest that died right after its panic: no kdump, no done record.
function crashOf(records) {
	const i = records.findIndex((r) => r.ev === 'panic');
	const cut = records.slice(0, i >= 0 ? i + 1 : Math.ceil(records.length / 2));
	const last = cut[cut.length - 1];
	cut.push({ v: 1, src: 'host', gen: last.gen, ev: 'host-exit', t_us: last.t_us + 1000,
		how: 'exited', status: 0, done_seen: false, dropped: 0,
		detail: 'guest reset without a done record (triple fault)' });
	return cut;
}

class Agent {
	constructor(ctl, token, name, slots = 4) {
		Object.assign(this, { ctl, token, name, slots });
	}

	call(method, p, body, raw) {
		return api(this.ctl.url, method, p, { token: this.token, body, raw });
	}

	async register() {
		return this.call('POST', '/api/v1/agents/register', { name: this.name, slots: this.slots,
			libvirt_uri: `qemu+ssh://root@${this.name}/system` });
	}

	lease() {
		return this.call('POST', '/api/v1/agents/lease');
	}

	heartbeat(jobs) {
		return this.call('POST', '/api/v1/agents/heartbeat', jobs ? { jobs } : undefined);
	}

	// Posts records in numbered batches (from 0), and the logs.
	// from: the first batch number (a resumed job continues its numbering).
	async report(job, records, fx, { logs = true, batches, from = 0 } = {}) {
		const n = batches === undefined ? Math.ceil(records.length / BATCH) : batches;
		for (let b = from; b < n && b * BATCH < records.length; b++)
			await this.call('POST', `/api/v1/jobs/${job}/events`, { batch: b, records: records.slice(b * BATCH, (b + 1) * BATCH) });
		if (logs && fx) {
			if (fx.com1)
				await this.call('POST', `/api/v1/jobs/${job}/logs/0`, fx.com1, true);
			await this.call('POST', `/api/v1/jobs/${job}/logs/1`, records.map((r) => JSON.stringify(r)).join('\n') + '\n', true);
		}
	}

	finish(job, outcome, detail = '') {
		return this.call('POST', `/api/v1/jobs/${job}/finish`, { outcome, detail });
	}

	// Runs one leased job according to mode: normal | {as: KEY} | crash |
	// infra | hold (records of the first batch only, left running).
	async run(lease, mode = 'normal', opts = {}) {
		const key = mode && mode.as ? mode.as : fixtureKey(lease.params);
		const fx = fixture(key);
		if (mode === 'infra') {
			await this.call('POST', `/api/v1/jobs/${lease.job}/events`, { batch: 0, records: [{ v: 1, src: 'host', gen: 0,
				ev: 'host-exit', t_us: 0, how: 'infra', status: -1, done_seen: false, dropped: 0,
				detail: `${this.name}: virDomainCreateXML: internal error: qemu unexpectedly closed the monitor` }] });
			return this.finish(lease.job, 'infra', `${this.name}: qemu unexpectedly closed the monitor`);
		}
		const records = mode === 'crash' ? crashOf(fx.records) : fx.records;
		if (mode === 'hold') {
			await this.report(lease.job, records, fx, { logs: false, batches: 1 });
			return { job: lease.job, held: true, records, fx, outcome: outcomeOf(records) };
		}
		await this.report(lease.job, records, fx, opts);
		await this.heartbeat([lease.job]);
		return this.finish(lease.job, outcomeOf(records));
	}
}

async function submit(ctl, body) {
	return api(ctl.url, 'POST', '/api/v1/runs', { token: ctl.tokens.submitter, body });
}

// Leases every queued job through the agents in turn and runs each with
// plan(lease, agent) -> mode. Returns the finish answers.
async function drain(agents, plan = () => 'normal', opts = {}) {
	const out = [];
	for (let idle = 0; idle < agents.length;) {
		idle = 0;
		for (const a of agents) {
			const lease = await a.lease();
			if (!lease) {
				idle++;
				continue;
			}
			out.push(await a.run(lease, plan(lease, a), opts));
		}
	}
	return out;
}

function caseOf(lease) {
	const p = lease.params;
	return `${lease.scenario} c${p.cpus} v${p.mailbox_version}`;
}

module.exports = { Agent, submit, drain, fixture, fixtureKey, caseOf, crashOf, outcomeOf };

// Seeds `jobs` more jobs as whole nightly runs (32 jobs each), as fast as
// the API takes them: one events batch per job, no logs, `workers` leases
// in flight. Every 7th night one case regresses, so history is not flat.
async function seedBulk(ctl, agent, jobs, { workers = 8, onProgress } = {}) {
	let done = 0, night = 0;
	const t0 = Date.now();
	while (done < jobs) {
		const r = await submit(ctl, { matrix: 'nightly' });
		night++;
		const bad = night % 7 === 0;
		await Promise.all(Array.from({ length: workers }, async () => {
			for (;;) {
				const lease = await agent.lease();
				if (!lease)
					return;
				const mode = bad && caseOf(lease) === 'kexec-chain c2 v1' ? { as: 'c2-v0-6.11-kexec_5-none-k0' } : 'normal';
				const key = mode.as || fixtureKey(lease.params);
				const recs = fixture(key).records;
				await agent.call('POST', `/api/v1/jobs/${lease.job}/events`, { batch: 0, records: recs });
				await agent.finish(lease.job, outcomeOf(recs));
			}
		}));
		done += r.jobs;
		if (onProgress)
			onProgress(done, Date.now() - t0);
	}
	return { jobs: done, ms: Date.now() - t0 };
}

module.exports.seedBulk = seedBulk;
