// unit.mjs: the dashboard's pure logic, run in node (no browser): matrix
// columns, comparison with previous nightlies, mailbox bytes. Imported by
// test.js; each export is one test.
import { pathToFileURL } from 'node:url';
import path from 'node:path';

const web = (f) => import(pathToFileURL(path.join(import.meta.dirname ?? path.dirname(new URL(import.meta.url).pathname), '../../web/js', f)).href);

function eq(a, b, msg) {
	if (JSON.stringify(a) !== JSON.stringify(b))
		throw new Error(`${msg}: expected ${JSON.stringify(b)}, got ${JSON.stringify(a)}`);
}

const job = (id, scenario, matrix, verdict, asExp) => ({ id, scenario, matrix, state: 'done', verdict,
	as_expected: asExp, expected_verdict: 'pass', attempt: 1 });
const night = (cases) => ({ scenarios: [{ scenario: 'kexec-chain', cases }] });

export const tests = {
	'unit: matrix columns come from case axes, then the scenario body, sorted kernel/version/CPUs': async () => {
		const { matrixModel } = await web('matrix.js');
		const bodies = new Map([['x', { cpus: 4, mailbox_version: 1, policy: 'pre-6.11' }]]);
		const m = matrixModel({ scenarios: [
			{ scenario: 'kexec-chain', cases: [job(1, 'kexec-chain', { cpus: 4, mailbox_version: 1 }, 'pass', 1),
				job(2, 'kexec-chain', { cpus: 2, mailbox_version: 0 }, 'pass', 1)] },
			{ scenario: 'x', cases: [job(3, 'x', {}, 'hang', 1)] }] }, bodies);
		eq(m.cols.map((c) => `${c.kernel}|${c.mailbox_version}|${c.cpus}`), ['6.11|0|2', '6.11|1|4', 'pre-6.11|1|4'], 'columns');
	},
	'unit: compare finds regressions, fixes, still failing and flaky; infra is not a flip': async () => {
		const { matrixModel, compare } = await web('matrix.js');
		const b = new Map();
		const M = (v, e) => matrixModel(night([job(1, 'kexec-chain', { cpus: 2 }, v, e)]), b);
		const st = (now, ...prev) => compare(now, prev).status.get('kexec-chain\u00006.11|1|2') || null;
		eq(st(M('fail', 0), M('pass', 1)), 'regression', 'pass then fail');
		eq(st(M('pass', 1), M('fail', 0)), 'fixed', 'fail then pass');
		eq(st(M('fail', 0), M('fail', 0)), 'still', 'fail twice');
		eq(st(M('pass', 1), M('fail', 0), M('pass', 1)), 'flaky', 'pass fail pass (newest first)');
		eq(st(M('pass', 1), M('infra', 0), M('pass', 1)), null, 'an infra night is no data');
		eq(st(M('hang', 1), M('hang', 1)), null, 'an expected hang twice is nothing');
	},
	'unit: mailbox bytes are little-endian command, reserved, APIC ID, vector': async () => {
		const { mailboxBytes } = await web('job.js');
		eq(mailboxBytes({ command: 1, reserved: 0, apic_id: 0x0102, vector: '0x7000' }),
			[1, 0, 0, 0, 2, 1, 0, 0, 0, 0x70, 0, 0, 0, 0, 0, 0], 'bytes');
		eq(mailboxBytes({ command: 2, reserved: 0xffff, apic_id: 3, vector: '0xffffffff00001000' }).slice(8),
			[0, 0x10, 0, 0, 0xff, 0xff, 0xff, 0xff], '64-bit vector');
	},
};
