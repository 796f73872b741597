// farm.js: a real wakefarm controller for the browser tests, and a small
// client of its public API (/api/v1) that plays submitter and agent.
// Nothing here touches the database except `token create`, which is how an
// operator makes tokens too.
'use strict';

const { spawn, execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const ROOT = path.resolve(__dirname, '../../..');

function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }

// Starts `wakefarm-controller serve` on 127.0.0.1 with a free port and a
// fresh database in a temporary directory. Returns {url, tokens, stop}.
// opts: agents (agent tokens), log, web, leaseMs, scenarios, and
// readTokenRequired (reads need a token: tokens.reader).
async function startController(opts = {}) {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wf-web-'));
	const db = path.join(dir, 'wakefarm.db');
	const bin = path.join(ROOT, 'bin/wakefarm-controller');
	const token = (role, name) => execFileSync(bin, ['token', 'create',
		'--db', db, '--role', role, '--name', name],
	{ stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
	const tokens = {
		submitter: token('submitter', 'web-test-submitter'),
		agent: token('agent', 'web-test-agent'),
		admin: token('admin', 'web-test-admin'),
		reader: token('reader', 'web-test-reader'),
		agents: [],
	};
	for (let i = 0; i < (opts.agents || 2); i++)
		tokens.agents.push(token('agent', `web-test-agent-${i + 1}`));
	const portFile = path.join(dir, 'port');
	const logPath = opts.log || path.join(dir, 'controller.log');
	const log = fs.openSync(logPath, 'a');
	const args = ['serve', '--listen', '127.0.0.1:0', '--db', db,
		'--port-file', portFile, '--web', opts.web || path.join(ROOT, 'web'),
		'--lease-ms', String(opts.leaseMs || 600000),
		// seeding submits runs back to back, far over the default rate
		'--submit-rate', 'off'];
	// The tests' own copy of the scenarios: the fixtures were recorded for
	// exactly these cases (refresh both with make-fixtures).
	args.push('--scenarios', opts.scenarios || path.join(__dirname, '..', 'fixtures', 'scenarios'));
	// Git bisects build on the controller's host: only repositories made
	// in its temporary directory (lib/bisect.js).
	args.push('--bisect-repo-root', dir);
	if (opts.readTokenRequired)
		args.push('--read-token-required');
	const proc = spawn(bin, args, { stdio: ['ignore', log, log] });
	let exited = null;
	proc.on('exit', (code, sig) => { exited = sig || code; });
	for (let i = 0; i < 100 && !fs.existsSync(portFile); i++) {
		if (exited !== null)
			throw new Error(`controller exited (${exited}); see ${logPath}`);
		await sleep(50);
	}
	if (!fs.existsSync(portFile))
		throw new Error(`controller did not start; see ${logPath}`);
	const url = 'http://' + fs.readFileSync(portFile, 'utf8').trim();
	return {
		url, tokens, dir, logPath, proc,
		async stop() {
			if (exited === null) {
				proc.kill('SIGTERM');
				for (let i = 0; i < 50 && exited === null; i++)
					await sleep(50);
				if (exited === null)
					proc.kill('SIGKILL');
			}
			fs.rmSync(dir, { recursive: true, force: true });
		},
	};
}

// One API call; resolves to the parsed JSON (null for 204), throws on >= 400.
async function api(base, method, p, { token, body, raw } = {}) {
	const headers = {};
	if (token)
		headers.Authorization = 'Bearer ' + token;
	let data;
	if (body !== undefined) {
		data = typeof body === 'string' ? body : JSON.stringify(body);
		headers['Content-Type'] = raw ? 'text/plain' : 'application/json';
	}
	const res = await fetch(base + p, { method, headers, body: data });
	const text = await res.text();
	if (res.status >= 400)
		throw new Error(`${method} ${p}: ${res.status} ${text}`);
	if (res.status === 204 || text === '')
		return null;
	return raw ? text : JSON.parse(text);
}

// The key that names a fixture for a job's params (see make-fixtures).
function fixtureKey(p) {
	const s = `c${p.cpus}-v${p.mailbox_version}-${p.policy || '6.11'}-` +
		`${p.steps || 'boot'}-${p.quirks || 'none'}-k${p.kdump_cpus || 0}`;
	return s.replace(/[^A-Za-z0-9.=-]+/g, '_');
}

module.exports = { ROOT, sleep, startController, api, fixtureKey };
