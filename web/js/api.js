// api.js: the JSON API (/api/v1) as the dashboard reads it. A reader
// token (for --read-token-required), entered in the page's sign-in form,
// is kept in sessionStorage under "wakefarm.token": for the browser
// session only. A read the controller answers with 401 is announced as a
// "wf-signin" event on window (app.js shows the sign-in form). The one
// write, starting a bisect, carries the submitter token the user pasted
// into the form, and is never stored.

const BASE = '/api/v1';

export class ApiError extends Error {
	constructor(status, message) {
		super(message);
		this.status = status;
	}
}

const TOKEN_KEY = 'wakefarm.token';

// The reader token of this browser session, or null.
export function readToken() {
	try {
		return sessionStorage.getItem(TOKEN_KEY);
	} catch (e) {
		return null;
	}
}

// Keeps (or, with null, forgets) the reader token for this session.
export function setReadToken(t) {
	try {
		if (t)
			sessionStorage.setItem(TOKEN_KEY, t);
		else
			sessionStorage.removeItem(TOKEN_KEY);
	} catch (e) {
		/* storage refused (private mode): the token lasts this page */
	}
}

// Checks a reader token without keeping it: null when the controller
// accepts it, else its answer ("401: unknown or revoked token").
export async function checkToken(token) {
	try {
		await request('/runs' + qs({ limit: 1 }), { token });
		return null;
	} catch (e) {
		return e.message;
	}
}

async function request(path, { text = false, signal, method = 'GET', body, token } = {}) {
	let res;
	const stored = token ? null : readToken();
	const bearer = token || stored;
	const hdrs = bearer ? { Authorization: 'Bearer ' + bearer } : {};
	if (body !== undefined)
		hdrs['Content-Type'] = 'application/json';
	try {
		res = await fetch(BASE + path, { method, headers: hdrs, signal,
			body: body === undefined ? undefined : JSON.stringify(body) });
	} catch (e) {
		if (e.name === 'AbortError')
			throw e;
		throw new ApiError(0, `the controller did not answer (${e.message})`);
	}
	if (!res.ok) {
		let msg = res.statusText;
		try {
			msg = (await res.json()).error || msg;
		} catch (e) {
			/* not JSON: keep the status text */
		}
		// A read without a (good) reader token: the page asks for one.
		if (res.status === 401 && !token)
			window.dispatchEvent(new CustomEvent('wf-signin', { detail: { message: msg, sent: stored } }));
		throw new ApiError(res.status, `${res.status}: ${msg}`);
	}
	if (text)
		return { text: await res.text(), size: Number(res.headers.get('X-Log-Size') || 0) };
	return res.status === 204 ? null : res.json();
}

function qs(params) {
	const p = new URLSearchParams();
	for (const [k, v] of Object.entries(params || {})) {
		if (v !== undefined && v !== null && v !== '')
			p.set(k, v);
	}
	const s = p.toString();
	return s ? '?' + s : '';
}

export const api = {
	runs: (params, o) => request('/runs' + qs(params), o),
	run: (id, o) => request(`/runs/${id}`, o),
	matrix: (id, o) => request(`/runs/${id}/matrix`, o),
	jobs: (params, o) => request('/jobs' + qs(params), o),
	job: (id, o) => request(`/jobs/${id}`, o),
	log: (id, port, params, o) => request(`/jobs/${id}/logs/${port}` + qs(params), { ...o, text: true }),
	hosts: (o) => request('/hosts', o),
	scenarios: (o) => request('/scenarios', o),
	artifacts: (o) => request('/artifacts', o),
	kernels: (o) => request('/kernels', o),
	knownIssues: (o) => request('/known-issues', o),
	regressions: (run, o) => request(`/runs/${run}/regressions`, o),
	bisects: (params, o) => request('/bisects' + qs(params), o),
	bisect: (id, o) => request(`/bisects/${id}`, o),
	buildLog: (id, idx, o) => request(`/bisects/${id}/candidates/${idx}/build-log`, { ...o, text: true }),
	startBisect: (body, token, o) => request('/bisects', { ...o, method: 'POST', body, token }),
};

// Scenario bodies rarely change during a session: one fetch per page load.
let scenarioCache = null;
export function scenarioBodies() {
	if (!scenarioCache) {
		scenarioCache = api.scenarios().then((r) => {
			const m = new Map();
			for (const sc of r.scenarios || [])
				m.set(sc.name, sc.scenario || {});
			// The files the controller could not load (left out of runs).
			m.errors = r.errors || [];
			return m;
		}).catch(() => {
			scenarioCache = null;
			return new Map();
		});
	}
	return scenarioCache;
}

// Kernel name (package or path) -> the `uname -r` a job saw it boot.
let versionCache = null;
let versionAt = 0;
export function kernelVersions() {
	// Refetched now and then: a kernel gets its version when a job boots it.
	if (!versionCache || Date.now() - versionAt > 10000) {
		versionAt = Date.now();
		versionCache = Promise.all([api.artifacts(),
			api.kernels().catch(() => ({ kernels: [] }))]).then(([r, k]) => {
			const m = new Map();
			for (const a of r.artifacts || [])
				if (a.version)
					m.set(a.name, a.version);
			// Kernels of one's own: by name, and by their setup header's
			// version until a job has booted them.
			m.names = new Map();
			for (const x of k.kernels || []) {
				const ref = `sha256:${x.sha256}`;
				m.names.set(ref, x.name);
				if (!m.has(ref) && (x.version || x.header_version))
					m.set(ref, x.version || x.header_version);
			}
			return m;
		}).catch(() => {
			versionCache = null;
			return new Map();
		});
	}
	return versionCache;
}

// Known issues as a predicate over jobs: an unexpected job whose failing
// checks are all covered by issues for its scenario (or '*').
let knownCache = null;
let knownAt = 0;
export async function knownMatcher() {
	// One fetch serves the calls of one page draw.
	if (!knownCache || Date.now() - knownAt > 1000) {
		knownAt = Date.now();
		knownCache = api.knownIssues().then((r) => r.known_issues || []).catch(() => []);
	}
	const issues = await knownCache;
	const fn = (job) => {
		const failing = job.failing || [];
		if (!issues.length || !failing.length)
			return null;
		const hits = failing.map((c) => issues.find((k) =>
			(k.scenario === '*' || k.scenario === job.scenario) && k.check === c));
		return hits.every(Boolean) ? hits : null;
	};
	fn.issues = issues;
	return fn;
}
