// test.js: browser tests of the dashboard. A real controller (bin/), seeded
// through its API only (lib/story.js, lib/seed.js), read by the Debian
// Chromium through playwright-core. Screenshots go to tests/out/web/.
// Ends with "N passed, N failed".
//
// WF_WEB_BULK_JOBS (default 3200): jobs seeded for the render-time test.
// WF_WEB_RENDER_BUDGET_MS (default 500): the matrix page must render within,
// times WF_TIME_SCALE (default 1; make asan: its controller is slower).
'use strict';

const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');
const { ROOT, startController, api } = require('./lib/farm');
const { seedStory } = require('./lib/story');
const { Agent, seedBulk, drain } = require('./lib/seed');
const { makeRepo, startGitBisect, driveBisect } = require('./lib/bisect');

const OUT = path.join(ROOT, 'tests/out/web');
const BULK = Number(process.env.WF_WEB_BULK_JOBS || 3200);
const BUDGET = Number(process.env.WF_WEB_RENDER_BUDGET_MS || 500) * Number(process.env.WF_TIME_SCALE || 1);

const tests = [];
function test(name, fn) {
	tests.push({ name, fn });
}

function assert(cond, msg) {
	if (!cond)
		throw new Error(msg);
}

function eq(a, b, msg) {
	if (a !== b)
		throw new Error(`${msg}: expected ${JSON.stringify(b)}, got ${JSON.stringify(a)}`);
}

let ctl, info, ctx, page;
const consoleErrors = [];	// {url, text}

async function newPage() {
	const p = await ctx.newPage();
	p.on('console', (m) => {
		if (m.type() === 'error' || m.type() === 'warning')
			consoleErrors.push({ url: p.url(), text: `${m.type()}: ${m.text()}` });
	});
	p.on('pageerror', (e) => consoleErrors.push({ url: p.url(), text: `pageerror: ${e.message}` }));
	p.on('requestfailed', (r) => {
		if (!/ERR_ABORTED/.test(r.failure()?.errorText || ''))
			consoleErrors.push({ url: p.url(), text: `request failed: ${r.url()} ${r.failure()?.errorText}` });
	});
	return p;
}

async function go(route, waitFor) {
	await page.goto(`${ctl.url}/#${route}`);
	if (waitFor)
		await page.waitForSelector(waitFor, { timeout: 10000 });
}

async function shot(name) {
	await page.screenshot({ path: path.join(OUT, name + '.png'), fullPage: true });
}

function noConsoleErrors(since) {
	const errs = consoleErrors.slice(since);
	assert(!errs.length, `console errors: ${errs.map((e) => `${e.url}: ${e.text}`).join('; ')}`);
}

const cellSel = (job) => `td.cell[data-job="${job}"]`;
const attr = (sel, a) => page.getAttribute(sel, a);

// --- the nightly matrix ---

test('matrix: every case of the latest nightly has a cell, counts agree with the API', async () => {
	const mark = consoleErrors.length;
	await go('/', 'table.matrix td.cell[data-job]');
	const run = (await api(ctl.url, 'GET', `/api/v1/runs/${info.nights[2]}`)).run;
	eq(await page.locator('table.matrix td.cell[data-job]').count(), run.jobs_total, 'cells');
	eq(await page.locator('td.cell[data-as-expected="true"]').count(), run.jobs_as_expected, 'as-expected cells');
	eq(await page.locator('td.cell[data-as-expected="false"]').count(), run.jobs_unexpected, 'unexpected cells');
	await shot('matrix');
	noConsoleErrors(mark);
});

test('matrix: seeded verdicts are in the right cells (scenario row, kernel|version|CPUs column)', async () => {
	await go('/', 'table.matrix td.cell[data-job]');
	const want = [
		['newfail', 'fail', 'false', 'cold-boot', 'test-kernel 6.11|1|1'],
		['crash', 'crash', 'false', 'kdump-on-ap', 'test-kernel 6.11|1|2'],
		['hang', 'hang', 'false', 'offline-kexec-online', 'test-kernel 6.11|1|2'],
		['known', 'known', 'false', 'offline-online-cycle', 'test-kernel 6.11|1|4'],
		['expectedHang', 'hang', 'true', 'pre611-kexec-hang', 'test-kernel pre-6.11|1|2'],
		['flaky', 'flaky', 'true', 'kexec-chain', 'test-kernel 6.11|1|4'],
	];
	for (const [k, verdict, asExp, scenario, col] of want) {
		const sel = cellSel(info.special[k]);
		eq(await attr(sel, 'data-verdict'), verdict, `${k} verdict`);
		eq(await attr(sel, 'data-as-expected'), asExp, `${k} as expected`);
		eq(await attr(sel, 'data-col'), col, `${k} column`);
		const row = await page.locator(sel).locator('xpath=..').getAttribute('data-scenario');
		eq(row, scenario, `${k} row`);
		// Colour is never the only cue: the label is in the cell.
		assert((await page.textContent(sel)).includes(verdict), `${k}: label ${verdict} in the cell`);
	}
	// The column header above the known cell says 4 CPUs.
	const idx = await page.locator(cellSel(info.special.known)).evaluate((td) => td.cellIndex);
	const heads = await page.locator('table.matrix thead tr:nth-child(3) th').allTextContents();
	eq(heads[idx - 1], '4 CPUs', 'header over the known cell');
});

test('matrix: header compares with the previous nightly (new failures marked)', async () => {
	await go('/', 'section.compare');
	const text = await page.textContent('section.compare');
	assert(text.includes(`nightly #${info.nights[1]}`), `compares with #${info.nights[1]}: ${text}`);
	assert(/4 new failures/.test(text), `4 new failures: ${text}`);
	assert(await page.locator(`${cellSel(info.special.newfail)} .st-regression`).count() === 1, 'NEW badge on the new failure');
});

test('matrix: clicking a failing cell opens the job with expected vs observed', async () => {
	await go('/', cellSel(info.special.newfail));
	await page.click(`${cellSel(info.special.newfail)} a`);
	await page.waitForSelector('table.checks tr.bad-row');
	eq(new URL(page.url()).hash, `#/jobs/${info.special.newfail}`, 'hash');
	const rows = await page.locator('table.checks tr.bad-row').evaluateAll((trs) => trs.map((tr) =>
		[...tr.cells].map((td) => td.textContent)));
	assert(rows.length > 0, 'failing checks listed');
	for (const r of rows)
		assert(r[3] && r[4], `expected and observed shown for ${r[0]}`);
	// (reset-vector can fail with equal texts: expected "non-zero, as in gen 1".)
	assert(rows.some((r) => r[3] !== r[4]), 'a failing check whose observed value differs');
	const j = await api(ctl.url, 'GET', `/api/v1/jobs/${info.special.newfail}`);
	const failing = j.checks.filter((c) => !c.ok).map((c) => c.check).sort();
	eq(rows.map((r) => r[0]).sort().join(','), failing.join(','), 'failing checks as the API says');
	assert(await page.locator('table.gens tbody tr').count() === j.generations.length, 'one row per generation');
	eq(await page.textContent('#repro-line'), `wakefarm --server ${ctl.url} repro ${info.special.newfail}`, 'repro line names its server');
	const rq = await page.textContent('#repro-run-qemu');
	assert(rq.startsWith('guest/run-qemu --cpus ') && rq.includes(' --check'), `the run-qemu line: ${rq}`);
	await shot('job-fail');
	// A known issue is named on its job.
	await go(`/jobs/${info.special.known}`, 'p.verdict-line');
	assert((await page.textContent('main')).includes('WF-42'), 'the known issue is shown');
	assert(await page.locator('p.verdict-line .v-known').count() === 1, 'shown as known');
});

test('matrix: a cell is reachable and opened with the keyboard', async () => {
	await go('/', cellSel(info.special.crash));
	await page.focus(`${cellSel(info.special.crash)} a`);
	await page.keyboard.press('Enter');
	await page.waitForFunction((id) => location.hash === `#/jobs/${id}`, info.special.crash);
	// Tab from the top reaches the skip link, then the navigation.
	await go('/runs', 'table.runs-table');
	// After a route change focus is on the page's heading; Tab goes on
	// into the page.
	eq(await page.evaluate(() => document.activeElement.tagName), 'H1', 'focus on the heading');
	await page.keyboard.press('Tab');
	eq(await page.evaluate(() => document.activeElement.closest('main') !== null), true, 'Tab stays in the page');
	// From the top: the skip link shows when focused, then the navigation.
	await page.focus('a.skip');
	assert(await page.evaluate(() => document.querySelector('a.skip').getBoundingClientRect().left >= 0), 'skip link visible');
	await page.keyboard.press('Tab');
	await page.keyboard.press('Tab');
	eq(await page.evaluate(() => document.activeElement.textContent), 'Matrix', 'then the navigation');
	await page.keyboard.press('Enter');
	await page.waitForSelector('table.matrix');
});

// --- job detail ---

test('job: logs load, search highlights and counts, line links work', async () => {
	const id = info.special.newfail;
	await go(`/jobs/${id}`, 'ol.loglines li');
	const lines = await page.locator('ol.loglines li').count();
	const log = await api(ctl.url, 'GET', `/api/v1/jobs/${id}/logs/0`, { raw: true });
	eq(lines, log.trimEnd().split('\n').length, 'COM1 lines');
	await page.fill('input[name="logsearch"]', 'generation');
	const hits = log.split('\n').filter((l) => l.toLowerCase().includes('generation')).length;
	assert(hits > 0, 'the fixture log mentions a generation');
	eq(await page.locator('ol.loglines li.hit').count(), hits, 'matching lines');
	assert((await page.textContent('.search-status')).startsWith(`${hits} matching`), 'count shown');
	assert(await page.locator('ol.loglines mark').count() >= hits, 'matches highlighted');
	await page.press('input[name="logsearch"]', 'Enter');
	assert(await page.locator('ol.loglines li.current').count() === 1, 'Enter jumps to a match');
	await page.click('ol.loglines li:nth-child(3) a.ln');
	await page.waitForFunction(() => /line=3/.test(location.hash));
	assert(await page.locator('#L0-3.current').count() === 1, 'line link marks line 3');
	// A line link opened cold lands on the line.
	await go(`/jobs/${id}?log=0&line=2`, '#L0-2.current');
	await page.click('button[data-port="1"]');
	await page.waitForSelector('#L1-1');
	assert((await page.textContent('#L1-1')).includes('"ev"'), 'COM2 holds the records');
	await page.fill('input[name="logsearch"]', 'madt');
	assert(await page.locator('ol.loglines li.hit').count() > 0, 'search in COM2');
	await shot('job-logs');
});

test('job: a hang shows the host-side mailbox decoded and as hex', async () => {
	await go(`/jobs/${info.special.hang}`, 'section.mailbox');
	const j = await api(ctl.url, 'GET', `/api/v1/jobs/${info.special.hang}`);
	const mb = j.events.map((e) => e.record).find((r) => r.ev === 'host-mailbox');
	assert(mb, 'the API has a host-mailbox record');
	eq(await page.textContent('td[data-field="command"]'), String(mb.command), 'command');
	eq(await page.textContent('td[data-field="apic_id"]'), String(mb.apic_id), 'APIC ID');
	eq(await page.textContent('td[data-field="vector"]'), mb.vector, 'vector');
	eq(await page.textContent('td[data-field="reserved"]'), String(mb.reserved), 'reserved');
	assert((await page.textContent('section.mailbox')).includes('wakeup (not acknowledged)'), 'command decoded');
	const hex = await page.locator('.hex .hb').allTextContents();
	eq(hex.length, 16, 'hex bytes');
	eq(hex[0], (mb.command & 0xff).toString(16).padStart(2, '0'), 'hex command byte');
	eq(hex[4], (mb.apic_id & 0xff).toString(16).padStart(2, '0'), 'hex APIC ID byte');
	eq(hex.slice(8, 10).join(''), (() => {
		const v = BigInt(mb.vector);
		return [(v & 0xffn), ((v >> 8n) & 0xffn)].map((b) => b.toString(16).padStart(2, '0')).join('');
	})(), 'hex vector bytes (little-endian)');
	assert(await page.locator('table.timeline tr.ev-host-mailbox').count() === 1, 'in the timeline');
	eq(await page.locator('svg.lanes rect.tick').count(), j.events.length, 'a tick per record on the swimlanes');
	assert(await page.locator('svg.lanes rect.tick.bad').count() >= 1, 'the host-mailbox tick stands out');
	assert(await page.locator('table.gens tbody tr').count() >= 2, 'generations');
	await shot('job-hang');
});

test('job: an expected hang is marked as expected', async () => {
	await go(`/jobs/${info.special.expectedHang}`, 'section.mailbox');
	assert(await page.locator('.exp-yes').count() === 1, 'as expected');
	assert((await page.textContent('section.mailbox')).includes('expects this hang'), 'note');
});

// --- run list ---

test('runs: filters change the list (kind, state, verdict, scenario, dates) and the hash', async () => {
	const mark = consoleErrors.length;
	await go('/runs', 'table.runs-table');
	const all = await page.locator('table.runs-table tbody tr').count();
	eq(all, info.nights.length + 2, 'every run');
	await page.selectOption('select[name="kind"]', 'nightly');
	await page.waitForFunction(() => /kind=nightly/.test(location.hash));
	await page.waitForFunction((n) => document.querySelectorAll('table.runs-table tbody tr').length === n, info.nights.length);
	const kinds = await page.locator('table.runs-table tbody tr td:nth-child(2)').allTextContents();
	assert(kinds.every((k) => k === 'nightly'), `only nightly: ${kinds}`);
	await page.selectOption('select[name="state"]', 'running');
	await page.waitForSelector('p.empty');
	await page.selectOption('select[name="kind"]', '');
	await page.waitForFunction(() => document.querySelectorAll('table.runs-table tbody tr').length === 1);
	eq(await attr('table.runs-table tbody tr', 'data-run'), String(info.live), 'the running run');
	// Server-side filters: verdict (runs with such a job), scenario, dates.
	const rows = () => page.locator('table.runs-table tbody tr').evaluateAll((trs) => trs.map((tr) => tr.dataset.run));
	await go('/runs', 'table.runs-table');
	await page.focus('select[name="verdict"]');
	await page.selectOption('select[name="verdict"]', 'crash');
	await page.waitForFunction(() => /verdict=crash/.test(location.hash));
	await page.waitForFunction((id) => document.querySelectorAll('table.runs-table tbody tr').length === 1 &&
		document.querySelector('table.runs-table tbody tr').dataset.run === String(id), info.nights[2]);
	eq(await page.evaluate(() => document.activeElement.name), 'verdict', 'focus stays on the filter');
	// A new hash keeps the previous list on screen until its own arrives (the
	// crash filter's table matches 'table.runs-table' too): wait for the rows
	// wanted, at most 10 s, then compare (a mismatch shows what is there).
	const rowsBecome = (want) => page.waitForFunction((w) => [...document.querySelectorAll('table.runs-table tbody tr')]
		.map((tr) => tr.dataset.run).join(',') === w, want, { timeout: 10000 }).catch(() => {});
	const slowAck = [info.live, ...info.nights.slice().reverse()].join(',');
	await go('/runs?scenario=quirk-slow-ack', 'table.runs-table');
	await rowsBecome(slowAck);
	eq((await rows()).join(','), slowAck, 'runs with quirk-slow-ack');
	const today = new Date().toISOString().slice(0, 10);
	const yesterday = new Date(Date.now() - 86400000).toISOString().slice(0, 10);
	await go(`/runs?from=${today}`, 'table.runs-table');
	await page.waitForFunction((n) => document.querySelectorAll('table.runs-table tbody tr').length === n,
		info.nights.length + 2, { timeout: 10000 }).catch(() => {});
	eq((await rows()).length, info.nights.length + 2, 'every run is from today');
	await go(`/runs?to=${yesterday}`, 'p.empty');
	assert(await page.locator('.unavailable').count() === 0, 'no "not available" note: this controller filters');
	await go('/runs', 'table.runs-table');
	await shot('runs');
	noConsoleErrors(mark);
});

test('run: job filters (verdict, expectation) on a run', async () => {
	await go(`/runs/${info.nights[2]}`, 'table.jobs-table');
	const r = await api(ctl.url, 'GET', `/api/v1/runs/${info.nights[2]}`);
	eq(await page.locator('table.jobs-table tbody tr').count(), r.jobs.length, 'all jobs');
	await page.selectOption('select[name="verdict"]', 'hang');
	const hangs = r.jobs.filter((j) => j.verdict === 'hang').length;
	await page.waitForFunction((n) => document.querySelectorAll('table.jobs-table tbody tr').length === n, hangs);
	await page.selectOption('select[name="verdict"]', '');
	await page.focus('select[name="expected"]');
	await page.selectOption('select[name="expected"]', '0');
	await page.waitForFunction((n) => document.querySelectorAll('table.jobs-table tbody tr').length === n, r.run.jobs_unexpected);
	eq(await page.evaluate(() => document.activeElement.name), 'expected', 'focus stays on the filter');
	// The filters are in the hash: the link opens the same view.
	const link = page.url();
	assert(/expected=0/.test(link), `filters in the hash: ${link}`);
	await page.goto('about:blank');
	await page.goto(link);
	await page.waitForFunction((n) => document.querySelectorAll('table.jobs-table tbody tr').length === n, r.run.jobs_unexpected);
	await shot('run');
});

// --- live progress ---

test('live: progress updates without a reload when a job finishes', async () => {
	await go(`/runs/${info.live}`, '.run-head .progress');
	await page.evaluate(() => { window.__noReload = 1; });
	assert((await page.textContent('.run-head .progress')).includes('0/1'), 'not done yet');
	eq(await page.locator('td.cell[data-verdict="running"]').count(), 1, 'a running cell');
	const other = await newPage();	// the run list, live section
	const pg = page;
	page = other;
	await go('/runs', `.live li[data-run="${info.live}"]`);
	page = pg;
	// The agent posts the rest and finishes.
	const h = info.held;
	const ag = info.heldAgent;
	await ag.report(h.job, h.records, h.fx, { from: 1 });
	await ag.finish(h.job, h.outcome);
	await page.waitForFunction(() => /1\/1/.test(document.querySelector('.run-head .progress').textContent), null, { timeout: 10000 });
	await page.waitForSelector('td.cell[data-verdict="pass"]', { timeout: 10000 });
	eq(await page.evaluate(() => window.__noReload), 1, 'same document (no reload)');
	await other.waitForFunction((id) => !document.querySelector(`.live li[data-run="${id}"]`), info.live, { timeout: 10000 });
	await other.close();
	await shot('live-run-finished');
});

// --- trends, hosts ---

test('trends: pass-rate and bring-up charts drawn as SVG, per-scenario table', async () => {
	const mark = consoleErrors.length;
	await go('/trends', 'table.per-scenario');
	await page.waitForFunction(() => document.querySelectorAll('svg.chart').length >= 3, null, { timeout: 10000 });
	const charts = await page.locator('svg.chart').count();
	assert(charts >= 3, `3 charts (nightly, runs, bring-up), got ${charts}`);
	eq(await page.locator('table.per-scenario tbody tr').count(), 16, 'one row per scenario');
	assert(await page.locator('.unavailable').count() === 1, 'says trends are computed here');
	const bring = await page.locator('svg.chart').nth(2).getAttribute('aria-label');
	assert(/kexec-chain/.test(bring), `bring-up chart of kexec-chain: ${bring}`);
	await shot('trends');
	noConsoleErrors(mark);
});

test('hosts: state, slots, heartbeat, recent infra errors', async () => {
	await api(ctl.url, 'POST', '/api/v1/admin/hosts/kvm-host-b', { token: ctl.tokens.admin, body: { state: 'maintenance' } });
	await go('/hosts', 'table.hosts');
	eq(await page.locator('table.hosts tbody tr').count(), 2, 'two hosts');
	assert((await page.textContent('tr[data-host="kvm-host-b"]')).includes('maintenance'), 'maintenance shown');
	assert((await page.textContent('tr[data-host="kvm-host-a"]')).includes('good'), 'good shown');
	await info.heldAgent.heartbeat();
	await go('/hosts', 'table.hosts');
	assert(!(await page.textContent('tr[data-host="kvm-host-a"]')).includes('no heartbeat'), 'a fresh heartbeat is not flagged');
	await page.waitForSelector('table.infra');
	assert(await page.locator(`table.infra a[href="#/jobs/${info.special.infra}"]`).count() === 1, 'the infra job listed');
	await shot('hosts');
});

// --- bisects ---

// As the page shows it (bisects.js: fmtConfidence).
const confidenceText = (c) => ((100 * c).toFixed(1) === '100.0' && c < 1 ? '> 99.9 %' : `${(100 * c).toFixed(1)} %`);

test('bisects: a git bisect followed live to its first bad revision, confidence, steps, candidates, build log', async () => {
	const mark = consoleErrors.length;
	const repo = makeRepo(ctl.dir, 6);
	const { bisect: id } = await startGitBisect(ctl, repo, { broken: 2, repeat: 2 });
	info.bisects.git = id;
	await go(`/bisects/${id}`, 'section.bisect-result');
	await page.evaluate(() => { window.__noReload = 1; });
	await page.waitForSelector('table.steps tr[data-step="1"]', { timeout: 10000 });
	assert((await page.textContent('section.bisect-result')).includes('Running: step 1'), 'running, step 1 shown');
	// Candidates 4 and 5 fail: the first bad is revision 4.
	const b = await driveBisect(ctl, info.agents[0], id, 4);
	eq(b.state, 'done', 'the bisect ended');
	eq(b.first_bad, 4, 'first bad');
	await page.waitForSelector('section.bisect-result.r-found', { timeout: 10000 });
	eq(await page.evaluate(() => window.__noReload), 1, 'updated live, same document');
	const result = await page.textContent('section.bisect-result .first-bad');
	assert(result.includes(repo.revs[4].slice(0, 12)) && result.includes('change 4: step the state to 4'),
		`first bad revision and subject: ${result}`);
	assert(result.includes(repo.revs[3].slice(0, 12)), `last good: ${result}`);
	eq(await page.textContent('[data-field="confidence"]'), confidenceText(b.confidence), 'confidence');
	eq(await page.textContent('[data-field="flake_rate"]'), `${Math.round(100 * b.flake_rate)} %`, 'flake rate');
	eq(await attr('section.bisect-result [data-state]', 'data-state'), 'done', 'state');
	// Steps: one row each, with the run and every job linked.
	eq(await page.locator('table.steps tbody tr').count(), b.steps.length, 'a row per step');
	for (const st of b.steps) {
		const row = `table.steps tr[data-step="${st.step}"]`;
		eq(await attr(row, 'data-index'), String(st.index), `step ${st.step} candidate`);
		const text = await page.textContent(row);
		assert(text.includes(st.rev.slice(0, 12)), `step ${st.step}: short revision`);
		if (st.run === null) {
			assert(text.includes('build failed'), `step ${st.step}: build failed`);
			continue;
		}
		eq(await page.locator(`${row} a[href="#/runs/${st.run}"]`).count(), 1, `step ${st.step}: run link`);
		const jobs = String(st.jobs).split(',');
		eq(await page.locator(`${row} td.jobs a`).evaluateAll((as) => as.map((a) => a.getAttribute('href')).join(' ')),
			jobs.map((j) => `#/jobs/${j}`).join(' '), `step ${st.step}: job links`);
		eq(await page.textContent(`${row} td:nth-child(7)`), String(st.passes), `step ${st.step}: passes`);
		eq(await page.textContent(`${row} td:nth-child(8)`), String(st.fails), `step ${st.step}: fails`);
		assert((await page.textContent(`${row} td:nth-child(10)`)).includes(st.verdict), `step ${st.step}: verdict after`);
	}
	// Candidates in order with their verdicts; the first bad and the build
	// that failed stand out.
	eq((await page.locator('ol.cand-strip li').evaluateAll((lis) => lis.map((li) => `${li.dataset.index}:${li.dataset.verdict}`))).join(' '),
		b.candidates.map((c) => `${c.index}:${c.verdict}`).join(' '), 'strip in order');
	eq(await attr('ol.cand-strip li.first-bad', 'data-index'), '4', 'first bad in the strip');
	eq(await attr('ol.cand-strip li.build-failed', 'data-index'), '2', 'build failure in the strip');
	eq(await attr('table.candidates tr[data-index="2"]', 'data-build'), 'failed', 'build failure in the table');
	assert((await page.textContent('table.candidates tr[data-index="2"]')).includes('failed'), 'build failure marked');
	await page.click('table.candidates tr[data-index="2"] details.build-log summary');
	await page.waitForFunction(() => /does not build/.test(document.querySelector('table.candidates tr[data-index="2"] pre').textContent));
	// Candidate 0 (the good end) has a build log too.
	await page.click('table.candidates tr[data-index="0"] details.build-log summary');
	await page.waitForFunction(() => /building state 0/.test(document.querySelector('table.candidates tr[data-index="0"] pre').textContent));
	await shot('bisect-done');
	// A step's run says whose step it is, with a link back.
	const stepRun = b.steps.find((st) => st.run !== null).run;
	await go(`/runs/${stepRun}`, `a[href="#/bisects/${id}"]`);
	assert((await page.textContent('main')).includes(`a step of bisect #${id}`), 'run page names its bisect');
	// The list.
	await go('/bisects', `table.bisects-table tr[data-bisect="${id}"]`);
	const row = `table.bisects-table tr[data-bisect="${id}"]`;
	eq(await attr(row, 'data-state'), 'done', 'done in the list');
	const text = await page.textContent(row);
	assert(text.includes(repo.revs[4].slice(0, 12)) && text.includes(confidenceText(b.confidence)), `list row: ${text}`);
	eq(await page.getAttribute('nav.top a[aria-current]', 'data-nav'), 'bisects', 'navigation entry');
	await shot('bisects');
	noConsoleErrors(mark);
});

test('bisect this: a nightly regression opens a prefilled form; started there, and from its command line', async () => {
	const mark = consoleErrors.length;
	const job = await api(ctl.url, 'GET', `/api/v1/jobs/${info.special.newfail}`);
	await go('/', 'section.compare details.regressions');
	await page.click('details.regressions summary');
	eq(await page.locator('details.regressions a.bisect-this').count(), 4, '“bisect this” on each new failure');
	const link = `details.regressions li[data-job="${job.id}"] a.bisect-this`;
	await page.focus(link);
	await page.keyboard.press('Enter');
	await page.waitForFunction((id) => location.hash === `#/bisects/new?job=${id}`, job.id);
	await page.waitForSelector('form.bisect-form');
	// Prefilled with what is known.
	eq(await page.inputValue('input[name="scenario"]'), 'cold-boot', 'scenario');
	eq(JSON.stringify(JSON.parse(await page.inputValue('textarea[name="set"]'))), JSON.stringify(job.matrix), 'set: the case\'s axes');
	eq(await page.inputValue('input[name="regression_run"]'), String(info.nights[2]), 'regression run');
	const caseText = `cold-boot ${JSON.stringify(job.matrix)}`;
	eq(await page.inputValue('input[name="regression_case"]'), caseText, 'regression case');
	eq(await attr('.bisect-from [data-class]', 'data-class'), 'regression', 'the controller calls it a regression');
	// Every control has a label.
	const unlabelled = await page.$$eval('form.bisect-form input, form.bisect-form textarea, form.bisect-form select',
		(els) => els.filter((e) => e.type !== 'radio' && !(e.labels && e.labels.length)).map((e) => e.name));
	eq(unlabelled.join(','), '', 'unlabelled controls');
	// The user says what to bisect.
	await page.check('input[name="mode"][value="artifacts"]');
	assert(await page.isHidden('fieldset.mode-git'), 'the git fields are hidden');
	await page.fill('textarea[name="artifacts"]', '/tmp/wf-web-a\n/tmp/wf-web-b\n/tmp/wf-web-c');
	await page.selectOption('select[name="kind"]', 'test-kernel');
	await page.click('details.options summary');
	await page.fill('input[name="repeat"]', '2');
	const line = await page.textContent('#bisect-cli');
	eq(line, `wakefarm --server ${ctl.url} bisect start --set cpus=1 --set mailbox_version=1` +
		' --artifacts /tmp/wf-web-a,/tmp/wf-web-b,/tmp/wf-web-c --kind test-kernel --repeat 2' +
		` --regression-run ${info.nights[2]} --regression-case '${caseText}' cold-boot`, 'command line');
	await shot('bisect-form');
	// No token: not sent. A wrong one: the controller's answer is shown.
	await page.click('form.bisect-form button[type="submit"]');
	await page.waitForSelector('.bisect-status [role="alert"]');
	assert((await page.textContent('.bisect-status')).includes('submitter token'), 'asks for a token');
	const before = consoleErrors.length;
	await page.fill('input[name="token"]', 'not-a-token');
	await page.click('form.bisect-form button[type="submit"]');
	await page.waitForFunction(() => /401/.test(document.querySelector('.bisect-status').textContent));
	// (Chromium logs the refused request itself: expected here.)
	consoleErrors.splice(before, consoleErrors.length - before, ...consoleErrors.slice(before).filter((e) => !/\b401\b/.test(e.text)));
	await page.fill('input[name="token"]', ctl.tokens.submitter);
	await page.click('form.bisect-form button[type="submit"]');
	await page.waitForFunction(() => /^#\/bisects\/[0-9]+$/.test(location.hash));
	const id = Number(new URL(page.url()).hash.split('/').pop());
	info.bisects.form = id;
	await page.waitForSelector('table.steps tr[data-step="1"]', { timeout: 10000 });
	const b = await api(ctl.url, 'GET', `/api/v1/bisects/${id}`);
	eq(JSON.stringify([b.regression_run, b.regression_case, b.request.set, b.request.artifacts, b.request.repeat]),
		JSON.stringify([info.nights[2], caseText, job.matrix, ['/tmp/wf-web-a', '/tmp/wf-web-b', '/tmp/wf-web-c'], 2]), 'what was stored');
	eq(await page.locator(`section.bisect-result a[href="#/runs/${info.nights[2]}"]`).count(), 1, 'links the regression\'s run');
	eq(await page.locator('ol.cand-strip li[data-verdict="untested"]').count(), 3, 'three untested candidates');
	eq(await page.locator('table.steps tr[data-step="1"] td.jobs a').count(), 2, 'step 1 runs 2 jobs');
	eq(await attr('table.steps tr[data-step="1"]', 'data-index'), '2', 'the bad end first');
	await shot('bisect-running');
	// The command line starts the same bisect.
	const out = execFileSync('bash', ['-c', line], { env: { ...process.env, PATH: `${path.join(ROOT, 'bin')}:${process.env.PATH}`,
		WAKEFARM_TOKEN: ctl.tokens.submitter } }).toString();
	const m = /^bisect ([0-9]+): 3 candidates/.exec(out);
	assert(m, `wakefarm bisect start: ${out}`);
	info.bisects.cli = Number(m[1]);
	const c = await api(ctl.url, 'GET', `/api/v1/bisects/${m[1]}`);
	eq(JSON.stringify(c.request), JSON.stringify(b.request), 'same request from the command line');
	eq(c.regression_case, caseText, 'same regression case');
	// Listed; the page follows a cancel without a reload.
	await go('/bisects', `table.bisects-table tr[data-bisect="${id}"]`);
	eq(await attr(`table.bisects-table tr[data-bisect="${id}"]`, 'data-state'), 'running', 'running in the list');
	await go(`/bisects/${id}`, 'table.steps');
	await page.evaluate(() => { window.__noReload = 1; });
	for (const x of [id, info.bisects.cli])
		await api(ctl.url, 'POST', `/api/v1/bisects/${x}/cancel`, { token: ctl.tokens.submitter });
	await page.waitForSelector('section.bisect-result [data-state="cancelled"]', { timeout: 10000 });
	eq(await page.evaluate(() => window.__noReload), 1, 'same document');
	// The job page offers it too.
	await go(`/jobs/${job.id}`, 'p.verdict-line');
	eq(await page.locator(`p.bisect-this a[href="#/bisects/new?job=${job.id}"]`).count(), 1, '“bisect this case” on the job');
	noConsoleErrors(mark);
});

test('layout: readable on a narrow window (no page-wide horizontal scroll)', async () => {
	for (const route of ['/', '/runs', `/jobs/${info.special.hang}`, '/trends', '/hosts', '/bisects', `/bisects/${info.bisects.git}`,
		`/bisects/new?job=${info.special.newfail}`]) {
		await page.setViewportSize({ width: 420, height: 900 });
		await go(route, 'main h1');
		await page.waitForTimeout(300);
		const over = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
		assert(over <= 0, `${route}: ${over} px wider than the window`);
	}
	await go('/', 'table.matrix');
	await shot('matrix-narrow');
	await page.setViewportSize({ width: 1280, height: 900 });
});

test('no console errors on any page', async () => {
	await go('/nowhere', 'main h1');
	noConsoleErrors(0);
});

// --- a large history ---

test(`render: matrix page with a large history (${BULK} more jobs seeded through the API)`, async () => {
	const agent = new Agent(ctl, ctl.tokens.agents[2], 'bulk-host', 64);
	await agent.register();
	const r = await seedBulk(ctl, agent, BULK);
	const total = (await api(ctl.url, 'GET', '/api/v1/runs?limit=1')).total;
	let jobs = 0;
	for (let off = 0; ; off += 500) {
		const p = await api(ctl.url, 'GET', `/api/v1/runs?limit=500&offset=${off}`);
		jobs += p.runs.reduce((a, x) => a + x.jobs_total, 0);
		if (p.runs.length < 500)
			break;
	}
	const times = [];
	// Load 0 warms the browser's cache (as for anyone who opened it before).
	for (let i = -1; i < 5; i++) {
		const p = await newPage();
		const pg = page;
		page = p;
		await go('/', '.matrix-box[data-render-ms]');
		const t = await page.evaluate(() => performance.getEntriesByName('wf-matrix-rendered')[0].startTime);
		if (i >= 0)
			times.push(t);
		if (i === 4)
			await shot('matrix-large-history');
		page = pg;
		await p.close();
	}
	times.sort((a, b) => a - b);
	const median = Math.round(times[2]);
	const line = `matrix render with ${jobs} jobs in ${total} runs (seeded ${r.jobs} in ${(r.ms / 1000).toFixed(1)} s,` +
		` ${Math.round(r.jobs / r.ms * 1000)} jobs/s): median ${median} ms from navigation, runs ${times.map(Math.round).join(', ')} ms`;
	fs.writeFileSync(path.join(OUT, 'render-time.txt'), line + '\n');
	console.log('# ' + line);
	assert(median < BUDGET, `median ${median} ms >= ${BUDGET} ms`);
});

test('runs: server-side pagination over the large history', async () => {
	await go('/runs', 'table.runs-table');
	const total = (await api(ctl.url, 'GET', '/api/v1/runs?limit=1')).total;
	assert((await page.textContent('.pager .count')).includes(`of ${total}`), 'total shown');
	eq(await page.locator('table.runs-table tbody tr').count(), Math.min(25, total), 'a page of 25');
	if (total <= 25) {
		assert(await page.locator('.pager a[rel="next"]').count() === 0, 'no next page');
		return;
	}
	const first = await attr('table.runs-table tbody tr', 'data-run');
	await page.click('.pager a[rel="next"]');
	await page.waitForFunction(() => /offset=25/.test(location.hash));
	await page.waitForFunction((f) => document.querySelector('table.runs-table tbody tr').dataset.run !== f, first);
	eq(await attr('table.runs-table tbody tr', 'data-run'), String(Number(first) - 25), 'the next 25');
	noConsoleErrors(0);
});

test('matrix: a bad scenario file is a banner, the empty page says `wakefarm submit nightly`', async () => {
	const mark = consoleErrors.length;
	await go('/', 'table.matrix td.cell[data-job]');
	assert(!(await page.locator('.scenario-errors').count()), 'no banner with good scenarios');
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wf-web-scen-'));
	fs.copyFileSync(path.join(ROOT, 'scenarios/cold-boot.json'), path.join(dir, 'cold-boot.json'));
	fs.writeFileSync(path.join(dir, 'typo.json'), '{"name": "typo", "nigthly": true}\n');
	const other = await startController({ scenarios: dir });
	try {
		await page.goto(`${other.url}/#/`);
		await page.waitForSelector('.scenario-errors', { timeout: 10000 });
		const text = await page.textContent('.scenario-errors');
		assert(text.includes('typo.json') && text.includes("did you mean 'nightly'?"), `banner: ${text}`);
		assert((await page.textContent('p.note')).includes('wakefarm submit nightly'), 'the hint the CLI accepts');
		await shot('matrix-scenario-errors');
	} finally {
		// Away first: the page's event stream ends as an abort, not as a
		// controller that went away under it.
		await page.goto(`${ctl.url}/#/runs`);
		await page.waitForSelector('table.runs-table', { timeout: 10000 });
		await other.stop();
		fs.rmSync(dir, { recursive: true, force: true });
	}
	noConsoleErrors(mark);
});

test('sign-in: a controller that requires a read token asks for one, keeps it for the session, signs out', async () => {
	const mark = consoleErrors.length;
	const other = await startController({ readTokenRequired: true });
	try {
		const run = (await api(other.url, 'POST', '/api/v1/runs', { token: other.tokens.submitter, body: { matrix: 'nightly' } })).run;
		await page.goto(`${other.url}/#/`);
		await page.waitForSelector('section.signin form.signin-form', { timeout: 10000 });
		const why = await page.textContent('section.signin');
		assert(why.includes('requires a read token'), `says why: ${why}`);
		assert(await page.isHidden('#view'), 'the view is hidden');
		eq(await page.evaluate(() => document.activeElement.name), 'token', 'focus on the token field');
		eq(await page.locator('#auth button.signout').count(), 0, 'no sign-out before signing in');
		// A wrong token is refused, and not kept.
		await page.fill('input[name="token"]', 'not-a-token');
		await page.click('form.signin-form button[type="submit"]');
		await page.waitForFunction(() => /refused/.test(document.querySelector('.signin-status').textContent));
		assert((await page.textContent('.signin-status')).includes('unknown or revoked token'), 'the controller\'s reason');
		eq(await page.evaluate(() => sessionStorage.getItem('wakefarm.token')), null, 'a refused token is not kept');
		// A reader token from `wakefarm-controller token create`: the matrix.
		await page.fill('input[name="token"]', other.tokens.reader);
		await page.press('input[name="token"]', 'Enter');
		await page.waitForSelector('table.matrix td.cell', { timeout: 10000 });
		assert((await page.textContent('h1')).includes(`#${run}`), 'the nightly is shown');
		eq(await page.locator('section.signin').count(), 0, 'the sign-in is gone');
		eq(await page.evaluate(() => sessionStorage.getItem('wakefarm.token')), other.tokens.reader, 'kept in sessionStorage');
		eq(await page.evaluate(() => localStorage.getItem('wakefarm.token')), null, 'not in localStorage');
		await shot('signed-in');
		// Within the session a reload (and another page) needs no sign-in.
		await page.reload();
		await page.waitForSelector('table.matrix td.cell', { timeout: 10000 });
		await page.goto(`${other.url}/#/runs`);
		await page.waitForSelector(`table.runs-table tr[data-run="${run}"]`, { timeout: 10000 });
		eq(await page.locator('section.signin').count(), 0, 'no sign-in after a reload');
		// Sign out: the token is forgotten, the sign-in is back.
		await page.click('#auth button.signout');
		await page.waitForSelector('section.signin form.signin-form', { timeout: 10000 });
		eq(await page.evaluate(() => sessionStorage.getItem('wakefarm.token')), null, 'forgotten');
		eq(await page.locator('#auth button.signout').count(), 0, 'no sign-out once signed out');
		await shot('sign-in');
	} finally {
		await page.goto(`${ctl.url}/#/runs`);
		await page.waitForSelector('table.runs-table', { timeout: 10000 });
		await other.stop();
	}
	// (Chromium logs each refused request itself: expected here.)
	consoleErrors.splice(mark, consoleErrors.length - mark, ...consoleErrors.slice(mark).filter((e) => !/\b401\b/.test(e.text)));
	noConsoleErrors(mark);
});

test('live: the matrix of a running nightly fills in without a reload', async () => {
	const run = (await api(ctl.url, 'POST', '/api/v1/runs', { token: ctl.tokens.submitter, body: { matrix: 'nightly' } })).run;
	await go('/', `table.matrix td.cell[data-verdict="queued"]`);
	assert((await page.textContent('h1')).includes(`#${run}`), 'the new nightly is shown');
	await page.evaluate(() => { window.__noReload = 1; });
	eq(await page.locator('td.cell[data-verdict="queued"]').count(), 32, 'every cell queued');
	await drain([info.agents[0]]);
	await page.waitForFunction(() => document.querySelectorAll('td.cell[data-as-expected]').length === 32, null, { timeout: 15000 });
	eq(await page.locator('td.cell[data-verdict="queued"]').count(), 0, 'no cell queued');
	eq(await page.evaluate(() => window.__noReload), 1, 'same document');
	assert((await page.textContent('p.summary')).includes('32/32 done'), 'summary updated');
	noConsoleErrors(0);
});

(async () => {
	let passed = 0, failed = 0;
	// Pure logic first (node, no browser).
	const unit = await import('./unit.mjs');
	tests.unshift(...Object.entries(unit.tests).map(([name, fn]) => ({ name, fn })));
	fs.mkdirSync(OUT, { recursive: true });
	for (const f of fs.readdirSync(OUT).filter((n) => /^FAILED-.*\.png$/.test(n)))
		fs.rmSync(path.join(OUT, f));
	const udd = fs.mkdtempSync(path.join(os.tmpdir(), 'wf-chromium-'));
	try {
		ctl = await startController({ agents: 3, log: path.join(OUT, 'controller.log') });
		info = await seedStory(ctl);
		info.bisects = {};
		ctx = await chromium.launchPersistentContext(udd, {
			executablePath: '/usr/bin/chromium', headless: true, viewport: { width: 1280, height: 900 },
			args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
				'--disable-background-networking', '--disable-component-update', '--disable-sync'],
		});
		page = await newPage();
	} catch (e) {
		console.log(`setup failed: ${e.stack || e.message}`);
		if (ctl)
			await ctl.stop();
		console.log('0 passed, 1 failed');
		process.exit(1);
	}
	for (const t of tests) {
		const t0 = Date.now();
		try {
			await t.fn();
			passed++;
			console.log(`ok   ${t.name} (${Date.now() - t0} ms)`);
		} catch (e) {
			failed++;
			console.log(`FAIL ${t.name}: ${e.message.split('\n')[0]}`);
			try {
				await page.screenshot({ path: path.join(OUT, `FAILED-${tests.indexOf(t)}.png`), fullPage: true });
			} catch (e2) {
				/* the page may be gone */
			}
		}
	}
	await ctx.close();
	await ctl.stop();
	fs.rmSync(udd, { recursive: true, force: true });
	console.log(`${passed} passed, ${failed} failed`);
	process.exit(failed ? 1 : 0);
})();
