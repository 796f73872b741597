// bisect.js: bisects for the browser tests, through the public API like
// the rest of the story. A small git repository whose "build" copies a file
// (one revision does not build), a bisect of it on the controller, and an
// agent that runs each step's jobs: candidates from `firstBad` on fail (the
// records of a version-0 kernel), the others pass.
'use strict';

const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const { api, sleep } = require('./farm');

// The scenario's one case the bisects run, and the records that fail it.
const CASE = { scenario: 'kexec-chain', set: { cpus: 4, mailbox_version: 1 } };
const FAILING = { as: 'c4-v0-6.11-kexec_5-none-k0' };

// A repository of n commits ("change 0" .. "change n-1"), each writing its
// number to `state`, in a new directory under parent (the controller's
// --bisect-repo-root). Returns {dir, revs (oldest first)}.
function makeRepo(parent, n = 6) {
	const dir = fs.mkdtempSync(path.join(parent, 'repo-'));
	const git = (...args) => execFileSync('git', ['-C', dir, '-c', 'user.name=wakefarm tests',
		'-c', 'user.email=tests@wakefarm.invalid', ...args], { stdio: ['ignore', 'pipe', 'pipe'] }).toString().trim();
	git('init', '-q');
	const revs = [];
	for (let i = 0; i < n; i++) {
		fs.writeFileSync(path.join(dir, 'state'), `${i}\n`);
		git('add', 'state');
		git('commit', '-q', '-m', `change ${i}: step the state to ${i}`);
		revs.push(git('rev-parse', 'HEAD'));
	}
	return { dir, revs };
}

// Builds every revision but the one whose state is `broken`.
function buildArgv(broken) {
	return ['sh', '-c', `echo "building state $(cat state)"; if [ "$(cat state)" = ${broken} ]; then ` +
		`echo "error: state ${broken} does not build" >&2; exit 1; fi; cp state kernel.elf`];
}

async function startGitBisect(ctl, repo, { broken = 2, repeat = 2 } = {}) {
	return api(ctl.url, 'POST', '/api/v1/bisects', { token: ctl.tokens.submitter, body: {
		...CASE, repo: repo.dir, good: repo.revs[0], bad: repo.revs[repo.revs.length - 1],
		build: buildArgv(broken), artifact: 'kernel.elf', repeat } });
}

// Plays `agent` for bisect `id` until it ends (or timeoutMs): a job runs
// the candidate whose built image (test_kernel sha256:…) it was given.
async function driveBisect(ctl, agent, id, firstBad, timeoutMs = 60000) {
	const t0 = Date.now();
	for (;;) {
		const b = await api(ctl.url, 'GET', `/api/v1/bisects/${id}`);
		if (b.state !== 'running')
			return b;
		if (Date.now() - t0 > timeoutMs)
			throw new Error(`bisect ${id} still running after ${timeoutMs} ms`);
		const lease = await agent.lease();
		if (!lease) {
			await sleep(100);
			continue;
		}
		const blob = String(lease.params.test_kernel || '').replace(/^sha256:/, '');
		const c = b.candidates.find((x) => x.blob && x.blob === blob);
		if (!c)
			throw new Error(`job ${lease.job} is not one of bisect ${id}'s candidates`);
		await agent.run(lease, c.index >= firstBad ? FAILING : 'normal');
	}
}

module.exports = { CASE, makeRepo, buildArgv, startGitBisect, driveBisect };
