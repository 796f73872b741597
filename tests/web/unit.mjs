// unit.mjs: the dashboard's pure logic, run in node (no browser): matrix
// columns, comparison with previous nightlies, mailbox bytes, the bisect
// form (prefilled set, request body, command line). Imported by
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
		eq(m.cols.map((c) => `${c.kernel}|${c.mailbox_version}|${c.cpus}`),
			['test-kernel 6.11|0|2', 'test-kernel 6.11|1|4', 'test-kernel pre-6.11|1|4'], 'columns');
	},
	'unit: real kernels are columns of their own, named by the version they booted, after the test kernel': async () => {
		const { matrixModel } = await web('matrix.js');
		const { shortRelease } = await web('util.js');
		const p = (pkg) => ({ cpus: 2, mailbox_version: 1, policy: '6.11', kernel_package: pkg });
		const c = (id, pkg) => ({ ...job(id, 'linux-kexec', {}, 'pass', 1), params: p(pkg) });
		const versions = new Map([['linux-image-6.12-cloud-amd64', '6.12.117+deb12-cloud-amd64'],
			['linux-image-cloud-amd64', '6.1.0-57-cloud-amd64']]);
		const m = matrixModel({ scenarios: [
			{ scenario: 'linux-kexec', cases: [c(1, 'linux-image-6.12-cloud-amd64'), c(2, 'linux-image-cloud-amd64'),
				c(3, 'linux-image-unbooted')] },
			{ scenario: 'cold-boot', cases: [{ ...job(4, 'cold-boot', {}, 'pass', 1),
				params: { cpus: 2, mailbox_version: 1, policy: '6.11', kernel_package: '' } }] }] }, new Map(), versions);
		eq(m.cols.map((x) => x.kernel), ['test-kernel 6.11', 'linux 6.1.0-57', 'linux 6.12.117',
			'linux linux-image-unbooted'], 'kernel columns');
		eq(shortRelease('6.12.117+deb12-cloud-amd64'), '6.12.117', '6.12 release');
		eq(shortRelease('6.1.0-57-cloud-amd64'), '6.1.0-57', '6.1 release');
	},
	'unit: a kernel of one\'s own is labelled linux VERSION NAME': async () => {
		const { kernelLabel } = await web('util.js');
		const ref = 'sha256:' + 'ab'.repeat(32);
		const versions = new Map([[ref, '6.1.0-57-cloud-amd64']]);
		versions.names = new Map([[ref, 'deb61']]);
		eq(kernelLabel({ kernel: ref }, versions), 'linux 6.1.0-57 deb61', 'named and versioned');
		versions.delete(ref);
		eq(kernelLabel({ kernel: ref }, versions), 'linux deb61', 'named, not booted yet');
		eq(kernelLabel({ kernel_package: 'linux-image-cloud-amd64' }, versions), 'linux linux-image-cloud-amd64', 'a package as before');
	},
	'unit: compare finds regressions, fixes, still failing and flaky; infra is not a flip': async () => {
		const { matrixModel, compare } = await web('matrix.js');
		const b = new Map();
		const M = (v, e) => matrixModel(night([job(1, 'kexec-chain', { cpus: 2 }, v, e)]), b);
		const st = (now, ...prev) => compare(now, prev).status.get('kexec-chain\u0000test-kernel 6.11|1|2') || null;
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
	'unit: bisect this: the case\'s set is the run\'s set with the job\'s matrix values over it': async () => {
		const { bisectSet, caseLabel } = await web('bisect_form.js');
		eq(bisectSet({ matrix: 'nightly' }, { cpus: 4, mailbox_version: 1 }), { cpus: 4, mailbox_version: 1 }, 'no run set');
		eq(bisectSet({ matrix: 'nightly', set: { kernel: ['/k/a', '/k/b'], memory_mb: 64, quirks: ['slow-ack'] } },
			{ cpus: 2, kernel: '/k/b' }), { kernel: '/k/b', memory_mb: 64, quirks: ['slow-ack'], cpus: 2 }, 'axes fixed, values kept');
		eq(caseLabel('kexec-chain', { cpus: 4, mailbox_version: 1 }), 'kexec-chain {"cpus":4,"mailbox_version":1}', 'case label');
	},
	'unit: bisect form: a build command splits like a shell line and quotes back to the same argv': async () => {
		const { splitCommand, shellQuote } = await web('bisect_form.js');
		eq(splitCommand(' make  -C guest '), ['make', '-C', 'guest'], 'plain words');
		eq(splitCommand(`sh -c 'cp state kernel.elf; echo "$x"' a\\ b "q\\"t" ''`),
			['sh', '-c', 'cp state kernel.elf; echo "$x"', 'a b', 'q"t', ''], 'quotes and escapes');
		let threw = false;
		try {
			splitCommand("echo 'open");
		} catch (e) {
			threw = /not closed/.test(e.message);
		}
		eq(threw, true, 'an open quote is an error');
		const argv = ['sh', '-c', "it's a \"test\" $HOME", '', 'plain-1.0/x'];
		eq(splitCommand(argv.map(shellQuote).join(' ')), argv, 'round trip');
	},
	'unit: bisect form: request body and the equivalent wakefarm bisect start line': async () => {
		const { bisectBody, cliLine, setFlag } = await web('bisect_form.js');
		const git = bisectBody({ scenario: 'kexec-chain', set: '{"cpus": 4, "mailbox_version": 1}', mode: 'git', repo: '/srv/git/wf',
			good: 'v1.0', bad: 'main', build: 'make -C guest', artifact: 'build/guest/kernel.elf', repeat: '3',
			regression_run: '12', regression_case: 'kexec-chain {"cpus":4}', kind: '' });
		eq(git.errors, [], 'no errors');
		eq(git.body, { scenario: 'kexec-chain', set: { cpus: 4, mailbox_version: 1 }, repo: '/srv/git/wf', good: 'v1.0', bad: 'main',
			build: ['make', '-C', 'guest'], artifact: 'build/guest/kernel.elf', repeat: 3,
			regression: { run: 12, case: 'kexec-chain {"cpus":4}' } }, 'git body');
		eq(cliLine(git.body, 'http://ctl:8080').line, 'wakefarm --server http://ctl:8080 bisect start --set cpus=4' +
			' --set mailbox_version=1 --repo /srv/git/wf --good v1.0 --bad main --artifact build/guest/kernel.elf --repeat 3' +
			` --regression-run 12 --regression-case 'kexec-chain {"cpus":4}' kexec-chain -- make -C guest`, 'git line');
		const arts = bisectBody({ scenario: 'cold-boot', set: '{"quirks": ["a", "b"], "steps": "kexec,kexec"}', mode: 'artifacts',
			artifacts: '/k/a\n\n /k/b \n', kind: 'linux', priority: '5' });
		eq(arts.body.artifacts, ['/k/a', '/k/b'], 'artifacts, one a line');
		const l = cliLine(arts.body);
		eq(l.line, "wakefarm bisect start --set quirks=a+b --set steps=kexec,kexec --artifacts /k/a,/k/b --kind linux cold-boot", 'artifacts line');
		eq(l.unsupported, ['priority'], 'priority has no CLI flag');
		eq([setFlag('append', 'a,b'), setFlag('kernel', '42'), setFlag('policy', '6.11'), setFlag('quirks', [])],
			[null, null, 'policy=6.11', 'quirks=none'], 'what --set can say');
		const bad = bisectBody({ scenario: '', set: '[1]', mode: 'git', build: "x 'y", repeat: '0' });
		eq(bad.errors, ['scenario: required', 'set: expected a JSON object', 'repo: required', 'good: required', 'bad: required',
			'build: a single quote is not closed', 'artifact: required', 'repeat: a whole number from 1 to 100'], 'errors');
	},
	'unit: bisect confidence: a posterior that rounds to 100 % is shown as > 99.9 %': async () => {
		const { fmtConfidence, shortRev } = await web('bisects.js');
		eq([fmtConfidence(0.99999), fmtConfidence(1), fmtConfidence(0.9912), fmtConfidence(null)],
			['> 99.9 %', '100.0 %', '99.1 %', '—'], 'confidence');
		eq([shortRev('0123456789abcdef0123456789abcdef01234567'), shortRev('/tmp/a')], ['0123456789ab', '/tmp/a'], 'short revisions');
	},
};
