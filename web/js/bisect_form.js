// bisect_form.js: starting a bisect (#/bisects/new[?job=ID]). From a job
// ("bisect this" on a nightly regression) the form is prefilled with what
// the controller knows: the scenario, the case's fixed fields as `set`
// (the run's own `set` with the job's matrix values over it: every axis
// fixed, so the scenario comes down to this one case) and the regression
// link {run, case}. The user adds what to bisect (a git range and its
// build, or kernel artifacts in order) and either submits it with a
// submitter token or copies the equivalent `wakefarm bisect start` line.

import { api, scenarioBodies } from './api.js';
import { h, fill, badge, errorBox, copyButton } from './util.js';

// The `set` that makes a run's scenario this one case.
export function bisectSet(request, matrix) {
	const fixed = request && request.set && typeof request.set === 'object' && !Array.isArray(request.set) ? request.set : {};
	return { ...fixed, ...(matrix || {}) };
}

// How a bisect names the case it came from.
export function caseLabel(scenario, matrix) {
	return `${scenario} ${JSON.stringify(matrix || {})}`;
}

// Splits a command line into argv as a POSIX shell would for plain words,
// '…', "…" and backslashes (no expansions: the controller runs no shell).
export function splitCommand(s) {
	const out = [];
	let cur = null;
	for (let i = 0; i < s.length;) {
		const c = s[i];
		if (c === "'") {
			const j = s.indexOf("'", i + 1);
			if (j < 0)
				throw new Error('a single quote is not closed');
			cur = (cur ?? '') + s.slice(i + 1, j);
			i = j + 1;
		} else if (c === '"') {
			let j = i + 1;
			cur = cur ?? '';
			for (; j < s.length && s[j] !== '"'; j++) {
				if (s[j] === '\\' && j + 1 < s.length && '"\\$`'.includes(s[j + 1]))
					j++;
				cur += s[j];
			}
			if (j >= s.length)
				throw new Error('a double quote is not closed');
			i = j + 1;
		} else if (c === '\\') {
			cur = (cur ?? '') + (s[i + 1] ?? '');
			i += 2;
		} else if (/\s/.test(c)) {
			if (cur !== null)
				out.push(cur);
			cur = null;
			i++;
		} else {
			cur = (cur ?? '') + c;
			i++;
		}
	}
	if (cur !== null)
		out.push(cur);
	return out;
}

// One word for a POSIX shell.
export function shellQuote(s) {
	s = String(s);
	return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`;
}

// A `set` field as the CLI's --set KEY=VALUE, or null when the CLI would
// read it back differently (it splits lists at ',' (';' for steps), quirks
// at '+', and reads digits as a number except for policy and steps).
export function setFlag(k, v) {
	if (k === 'quirks') {
		if (!Array.isArray(v) || v.some((q) => typeof q !== 'string' || !q || /[+,]/.test(q)))
			return null;
		return `quirks=${v.length ? v.join('+') : 'none'}`;
	}
	if (typeof v === 'number' && Number.isInteger(v))
		return `${k}=${v}`;
	if (typeof v !== 'string' || v.includes(k === 'steps' ? ';' : ','))
		return null;
	if (k !== 'policy' && k !== 'steps' && /^[-+]?[0-9]+$/.test(v.trim()))
		return null;
	return `${k}=${v}`;
}

function intField(v, k, min, max, body, errors) {
	const s = String(v[k] ?? '').trim();
	if (!s)
		return;
	const n = Number(s);
	if (!Number.isInteger(n) || n < min || n > max)
		errors.push(`${k}: a whole number from ${min} to ${max}`);
	else
		body[k] = n;
}

// The POST /api/v1/bisects body from the form's values (strings, as
// FormData gives them): {body, errors}.
export function bisectBody(v) {
	const body = {}, errors = [];
	body.scenario = String(v.scenario || '').trim();
	if (!body.scenario)
		errors.push('scenario: required');
	const setText = String(v.set || '').trim();
	if (setText) {
		try {
			const set = JSON.parse(setText);
			if (!set || typeof set !== 'object' || Array.isArray(set))
				throw new Error('expected a JSON object');
			if (Object.keys(set).length)
				body.set = set;
		} catch (e) {
			errors.push(`set: ${e.message}`);
		}
	}
	if (v.mode === 'artifacts') {
		body.artifacts = String(v.artifacts || '').split('\n').map((s) => s.trim()).filter(Boolean);
		if (body.artifacts.length < 2)
			errors.push('artifacts: at least two, the good one first and the bad one last');
	} else {
		for (const k of ['repo', 'good', 'bad']) {
			body[k] = String(v[k] || '').trim();
			if (!body[k])
				errors.push(`${k}: required`);
		}
		try {
			body.build = splitCommand(String(v.build || ''));
			if (!body.build.length)
				errors.push('build: required (the command that builds a checkout)');
		} catch (e) {
			errors.push(`build: ${e.message}`);
		}
		body.artifact = String(v.artifact || '').trim();
		if (!body.artifact)
			errors.push('artifact: required');
		intField(v, 'build_timeout_s', 1, 86400, body, errors);
	}
	if (v.kind)
		body.kind = v.kind;
	intField(v, 'repeat', 1, 100, body, errors);
	intField(v, 'threshold', 1, 100, body, errors);
	intField(v, 'max_runs', 1, 1000, body, errors);
	const conf = String(v.confidence ?? '').trim();
	if (conf) {
		const c = Number(conf);
		if (!(c >= 0.5 && c <= 0.9999))
			errors.push('confidence: from 0.5 to 0.9999');
		else
			body.confidence = c;
	}
	intField(v, 'priority', -1000, 1000, body, errors);
	const run = String(v.regression_run ?? '').trim();
	if (run) {
		const n = Number(run);
		if (!Number.isInteger(n) || n < 1)
			errors.push('regression run: a run id');
		else
			body.regression = { run: n, ...(String(v.regression_case || '').trim() ? { case: String(v.regression_case).trim() } : {}) };
	}
	return { body, errors };
}

// The `wakefarm bisect start` line that sends the same body:
// {line, unsupported: [what the CLI cannot say]}.
export function cliLine(body, server) {
	const w = ['wakefarm'];
	const unsupported = [];
	if (server)
		w.push('--server', shellQuote(server));
	w.push('bisect', 'start');
	for (const [k, v] of Object.entries(body.set || {})) {
		const f = setFlag(k, v);
		if (f === null)
			unsupported.push(`set.${k}`);
		else
			w.push('--set', shellQuote(f));
	}
	if (body.artifacts) {
		if (body.artifacts.some((a) => a.includes(',')))
			unsupported.push('an artifact with a comma');
		w.push('--artifacts', shellQuote(body.artifacts.join(',')));
	} else {
		w.push('--repo', shellQuote(body.repo ?? ''), '--good', shellQuote(body.good ?? ''), '--bad', shellQuote(body.bad ?? ''),
			'--artifact', shellQuote(body.artifact ?? ''));
		if (body.build_timeout_s)
			w.push('--build-timeout', String(body.build_timeout_s));
	}
	const opt = { kind: '--kind', repeat: '--repeat', threshold: '--threshold', max_runs: '--max-runs', confidence: '--confidence' };
	for (const [k, flag] of Object.entries(opt)) {
		if (body[k] !== undefined)
			w.push(flag, shellQuote(body[k]));
	}
	if (body.priority !== undefined)
		unsupported.push('priority');
	if (body.regression) {
		w.push('--regression-run', String(body.regression.run));
		if (body.regression.case)
			w.push('--regression-case', shellQuote(body.regression.case));
	}
	w.push(shellQuote(body.scenario || ''));
	if (body.build && body.build.length)
		w.push('--', ...body.build.map(shellQuote));
	return { line: w.join(' '), unsupported };
}

// --- the page ---

let uid = 0;

function field(label, control, hint) {
	const id = control.id || (control.id = `bf-${control.name}-${++uid}`);
	if (hint)
		control.setAttribute('aria-describedby', `${id}-hint`);
	return h('div.field', h('label', { for: id }, label), control, hint ? h('small', { id: `${id}-hint` }, hint) : null);
}

const input = (name, attrs = {}) => h('input', { name, type: 'text', autocomplete: 'off', spellcheck: 'false', ...attrs });

// The job's case, its run and its class against the night before.
async function prefillFrom(jobId, ctx) {
	const j = await api.job(jobId, ctx);
	const r = (await api.run(j.run, ctx)).run;
	let c = null;
	try {
		c = ((await api.regressions(j.run, ctx)).cases || []).find((x) => x.job === j.id) || null;
	} catch (e) {
		if (e.name === 'AbortError')
			throw e;
	}
	const note = h('p.note.bisect-from', 'From job ', h('a', { href: `#/jobs/${j.id}` }, `#${j.id}`), ` of ${r.kind} run `,
		h('a', { href: `#/runs/${r.id}` }, `#${r.id}`), ': ', h('code', caseLabel(j.scenario, j.matrix)), ' ',
		j.verdict ? badge(j.verdict) : j.state, j.expected ? ` (expected ${j.expected.verdict})` : '',
		c ? ['; ', h('strong', { 'data-class': c.class }, c.class === 'regression' ? 'a regression' : c.class.replace('_', ' ')),
			c.previous_job ? [' — the night before, job ', h('a', { href: `#/jobs/${c.previous_job}` }, `#${c.previous_job}`),
				` was ${c.previous_verdict}${c.previous_as_expected ? ', as expected' : ''}`] : ''] : '', '.');
	return { note, pre: { scenario: j.scenario, set: bisectSet(r.request, j.matrix), run: String(r.id),
		case: caseLabel(j.scenario, j.matrix) } };
}

export async function pageBisectNew(view, route, ctx) {
	view.append(h('h1', 'Start a bisect'));
	const from = h('div');
	view.append(from);
	let pre = { scenario: '', set: {}, run: '', case: '' };
	if (route.query.job) {
		try {
			const p = await prefillFrom(route.query.job, ctx);
			pre = p.pre;
			from.append(p.note);
		} catch (e) {
			if (e.name === 'AbortError')
				return;
			from.append(errorBox(e));
		}
	}
	const names = [...(await scenarioBodies()).keys()].sort();

	const status = h('div.bisect-status', { role: 'status', 'aria-live': 'polite' });
	const cli = h('code#bisect-cli');
	const cliNote = h('p.small');
	const bodyPre = h('pre#bisect-body');
	const git = h('fieldset.mode-git', h('legend', 'A git range, built on the controller\'s host'),
		field('Repository', input('repo', { placeholder: '/srv/git/wakefarm' }), 'a git repository on the controller\'s host, below its --bisect-repo-root'),
		field('Good revision', input('good'), 'a revision where the case passes'),
		field('Bad revision', input('bad'), 'a later revision where it fails'),
		field('Build command', input('build', { placeholder: 'make -C guest' }), 'run in each checkout as an argument list, no shell: quote as in a shell'),
		field('Artifact', input('artifact', { placeholder: 'build/guest/kernel.elf' }), 'the image the build makes, a path inside the checkout'),
		field('Build time limit (s)', input('build_timeout_s', { type: 'number', min: 1, max: 86400, placeholder: '1800' })));
	const arts = h('fieldset.mode-artifacts', h('legend', 'Kernel artifacts in order'),
		field('Artifacts', h('textarea', { name: 'artifacts', rows: 4, spellcheck: 'false', placeholder: '/srv/k/vmlinuz-6.10\n/srv/k/vmlinuz-6.11' }),
			'one per line, the good one first and the bad one last: absolute paths on the agents\' hosts (or Debian packages, kind linux)'));
	const radio = (value, label, checked) => h('label', h('input', { type: 'radio', name: 'mode', value, checked: checked || undefined }), ' ', label);
	const form = h('form.bisect-form', { 'aria-label': 'start a bisect', novalidate: true },
		h('fieldset', h('legend', 'The case'),
			field('Scenario', input('scenario', { value: pre.scenario, list: 'bf-scenarios', required: true })),
			h('datalist#bf-scenarios', names.map((n) => h('option', { value: n }))),
			field('Set', h('textarea', { name: 'set', rows: 2, spellcheck: 'false' }, JSON.stringify(pre.set)),
				'the scenario\'s fields that make it one case (every matrix axis fixed), as JSON'),
			field('Regression run', input('regression_run', { type: 'number', min: 1, value: pre.run || undefined }),
				'the nightly run whose regression this bisects (a link; optional)'),
			field('Regression case', input('regression_case', { value: pre.case || undefined }))),
		h('fieldset.modes', h('legend', 'What to bisect'),
			h('div.radios', radio('git', 'a git range', true), ' ', radio('artifacts', 'kernel artifacts')),
			git, arts,
			field('Kind', h('select', { name: 'kind' }, [['', 'default (test-kernel for git, linux for artifacts)'],
				['test-kernel', 'test-kernel (our guest kernel)'], ['linux', 'linux']].map(([v, t]) => h('option', { value: v }, t))))),
		h('details.options', h('summary', 'Options (defaults: 5 runs per step, bad at 1 failure, at most 20 runs a candidate, confidence 0.99, priority 100)'),
			field('Runs per step', input('repeat', { type: 'number', min: 1, max: 100, placeholder: '5' })),
			field('Failures that make it bad', input('threshold', { type: 'number', min: 1, max: 100, placeholder: '1' })),
			field('Most runs of a candidate', input('max_runs', { type: 'number', min: 1, max: 1000, placeholder: '4 × runs per step' })),
			field('Confidence aimed at', input('confidence', { type: 'number', min: 0.5, max: 0.9999, step: 'any', placeholder: '0.99' })),
			field('Priority', input('priority', { type: 'number', min: -1000, max: 1000, placeholder: '100' }))),
		h('fieldset', h('legend', 'Start it'),
			field('Submitter token', input('token', { type: 'password' }), 'sent with this request only, never stored'),
			h('p', h('button', { type: 'submit' }, 'Start bisect')),
			status),
		h('section.cli', { 'aria-label': 'the same from a shell' }, h('h2', 'Or from a shell'),
			h('p', cli, ' ', copyButton(cli)), cliNote,
			h('details', h('summary', 'Request body (POST /api/v1/bisects)'), bodyPre)));

	const values = () => Object.fromEntries(new FormData(form).entries());
	const update = () => {
		const v = values();
		const artMode = v.mode === 'artifacts';
		// A disabled fieldset is neither sent nor checked.
		git.disabled = artMode;
		arts.disabled = !artMode;
		git.hidden = artMode;
		arts.hidden = !artMode;
		const { body } = bisectBody(v);
		const { line, unsupported } = cliLine(body, location.origin);
		cli.textContent = line;
		fill(cliNote, 'With a submitter token in $WAKEFARM_TOKEN.',
			unsupported.length ? h('strong', ` The command line cannot say: ${unsupported.join(', ')} (use the form).`) : null);
		bodyPre.textContent = JSON.stringify(body, null, 1);
	};
	form.addEventListener('input', update);
	form.addEventListener('change', update);
	form.addEventListener('submit', async (e) => {
		e.preventDefault();
		const v = values();
		const { body, errors } = bisectBody(v);
		if (!String(v.token || '').trim())
			errors.push('submitter token: required to start it here (or use the command line)');
		if (errors.length) {
			fill(status, h('div.error', { role: 'alert' }, h('strong', 'Not sent: '), h('ul', errors.map((x) => h('li', x)))));
			return;
		}
		fill(status, h('p', 'Sending…'));
		try {
			const r = await api.startBisect(body, v.token.trim(), ctx);
			fill(status, h('p', `Bisect #${r.bisect} started over ${r.candidates} candidates.`));
			location.hash = `#/bisects/${r.bisect}`;
		} catch (err) {
			if (err.name !== 'AbortError')
				fill(status, h('div.error', { role: 'alert' }, h('strong', 'The controller refused it: '), err.message));
		}
	});
	view.append(form);
	update();
}
