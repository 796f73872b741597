// story.js: the history the browser tests look at, seeded through the API
// (seed.js): three nightlies with a regression, an infrastructure error, a
// crash, an unexpected hang, a known issue and a flaky cell; an ad hoc run;
// and one job left running for the live-progress test.
'use strict';

const { api } = require('./farm');
const { Agent, submit, drain, caseOf } = require('./seed');

async function seedStory(ctl) {
	const agents = [new Agent(ctl, ctl.tokens.agents[0], 'kvm-host-a', 4),
		new Agent(ctl, ctl.tokens.agents[1], 'kvm-host-b', 2)];
	for (const a of agents)
		await a.register();
	const info = { nights: [], special: {} };
	const remember = (name) => (lease) => { info.special[name] = lease.job; };

	// Night 1: everything as expected.
	info.nights.push((await submit(ctl, { matrix: 'nightly' })).run);
	await drain(agents);

	// Night 2: kexec-chain on 4 CPUs v1 regresses (the records of a kernel
	// that behaves as on version 0); cold-boot 4 CPUs v0 hits an
	// infrastructure error on every attempt.
	info.nights.push((await submit(ctl, { matrix: 'nightly' })).run);
	await drain(agents, (l) => {
		const c = caseOf(l);
		if (c === 'kexec-chain c4 v1')
			return { as: 'c4-v0-6.11-kexec_5-none-k0' };
		if (c === 'cold-boot c4 v0') {
			info.special.infra = l.job;
			return 'infra';
		}
		return 'normal';
	});

	// Night 3 (the latest): kexec-chain c4 v1 passes again (flaky: it
	// flipped twice); cold-boot c1 v1 fails (new); kdump-on-ap c2 v1
	// crashes; offline-kexec-online hangs like a pre-6.11 kernel (not
	// expected); offline-online-cycle c4 v1 fails and a known issue covers it.
	info.nights.push((await submit(ctl, { matrix: 'nightly' })).run);
	await drain(agents, (l) => {
		const c = caseOf(l);
		const sp = { 'cold-boot c1 v1': ['newfail', { as: 'c1-v0-6.11-boot-none-k0' }],
			'kdump-on-ap c2 v1': ['crash', 'crash'],
			'offline-kexec-online c2 v1': ['hang', { as: 'c2-v1-pre-6.11-kexec-none-k0' }],
			'offline-online-cycle c4 v1': ['known', { as: 'c4-v0-6.11-cycle_10-none-k0' }],
			'pre611-kexec-hang c2 v1': ['expectedHang', 'normal'],
			'kexec-chain c4 v1': ['flaky', 'normal'] }[c];
		if (!sp)
			return 'normal';
		info.special[sp[0]] = l.job;
		return sp[1];
	});
	const knownJob = await api(ctl.url, 'GET', `/api/v1/jobs/${info.special.known}`);
	for (const check of knownJob.failing)
		await api(ctl.url, 'POST', '/api/v1/admin/known-issues', { token: ctl.tokens.admin, body: {
			scenario: 'offline-online-cycle', check, description: `offline-online-cycle: ${check} fails on v0-like firmware (WF-42)`,
			url: 'https://bugs.example.org/WF-42' } });

	// An ad hoc run.
	info.adhoc = (await submit(ctl, { scenario: 'kexec-chain', kind: 'adhoc' })).run;
	await drain(agents);

	// The live run: one job leased, its first batch posted, not finished.
	info.live = (await submit(ctl, { scenario: 'quirk-slow-ack', kind: 'adhoc' })).run;
	const lease = await agents[0].lease();
	info.held = await agents[0].run(lease, 'hold');
	info.heldAgent = agents[0];
	info.agents = agents;
	return info;
}

module.exports = { seedStory };
