// app.js: the dashboard's entry point. Hash routing keeps the dashboard one
// static bundle: #/ (nightly matrix), #/runs, #/runs/ID, #/jobs/ID,
// #/trends, #/hosts, #/bisects, #/bisects/new, #/bisects/ID. Each page is
// an async function (view, route, ctx); ctx carries an AbortSignal and a
// poller that stop when the page changes. A controller that wants a reader
// token answers 401: the page then shows a sign-in form instead of the view.

import { h, clear, parseHash, errorBox } from './util.js';
import { readToken, setReadToken, checkToken } from './api.js';
import { pageMatrix } from './matrix.js';
import { pageRuns, pageRun } from './runs.js';
import { pageJob } from './job.js';
import { pageTrends } from './trends.js';
import { pageHosts } from './hosts.js';
import { pageBisects, pageBisect } from './bisects.js';
import { pageBisectNew } from './bisect_form.js';

const routes = [
	{ re: [], page: pageMatrix, nav: 'matrix', title: 'Nightly matrix' },
	{ re: ['matrix'], page: pageMatrix, nav: 'matrix', title: 'Nightly matrix' },
	{ re: ['runs'], page: pageRuns, nav: 'runs', title: 'Runs' },
	{ re: ['runs', ':id'], page: pageRun, nav: 'runs', title: 'Run' },
	{ re: ['jobs', ':id'], page: pageJob, nav: 'runs', title: 'Job' },
	{ re: ['trends'], page: pageTrends, nav: 'trends', title: 'Trends' },
	{ re: ['hosts'], page: pageHosts, nav: 'hosts', title: 'Hosts' },
	{ re: ['bisects'], page: pageBisects, nav: 'bisects', title: 'Bisects' },
	{ re: ['bisects', 'new'], page: pageBisectNew, nav: 'bisects', title: 'Start a bisect' },
	{ re: ['bisects', ':id'], page: pageBisect, nav: 'bisects', title: 'Bisect' },
];

function match(parts) {
	for (const r of routes) {
		if (r.re.length !== parts.length)
			continue;
		const params = {};
		let ok = true;
		r.re.forEach((seg, i) => {
			if (seg === ':id') {
				if (!/^[1-9][0-9]*$/.test(parts[i]))
					ok = false;
				params.id = parts[i];
			} else if (seg !== parts[i]) {
				ok = false;
			}
		});
		if (ok)
			return { ...r, params };
	}
	return null;
}

let current = null;	// {abort, timers, path}

// The controller's event stream (GET /api/v1/events/stream, server-sent
// events): a live page refreshes as soon as a job, run, bisect or host
// changes instead of at its next poll. Polling stays, as the fallback
// (a browser without EventSource, a controller that wants a reader token,
// which EventSource cannot send, or one without the stream).
const kicks = new Set();
const KICK_MS = 150;	// events come in bursts: one refresh per burst

async function openEvents() {
	if (typeof EventSource === 'undefined')
		return;
	try {
		if (readToken())
			return;
		const probe = await fetch('/api/v1/events?limit=1');
		if (!probe.ok)
			return;
	} catch (e) {
		return;
	}
	const es = new EventSource('/api/v1/events/stream');
	for (const kind of ['job', 'run', 'bisect', 'host', 'regression', 'fixed', 'new-failure'])
		es.addEventListener(kind, () => kicks.forEach((k) => k()));
}

function makeCtx() {
	const ac = new AbortController();
	const timers = [];
	const ctx = {
		signal: ac.signal,
		// Calls fn every ms until it returns false or the page changes;
		// an event from the controller's stream brings the next call
		// forward. Errors are shown in the live status, never thrown.
		every(ms, fn) {
			let stopped = false, timer = null, due = 0, running = false, again = false;
			const schedule = (delay) => {
				due = Date.now() + delay;
				timer = setTimeout(tick, delay);
				timers.push(timer);
			};
			const kick = () => {
				if (stopped || ac.signal.aborted)
					return;
				if (running) {
					again = true;
				} else if (timer !== null && due - Date.now() > KICK_MS) {
					clearTimeout(timer);
					schedule(KICK_MS);
				}
			};
			const tick = async () => {
				timer = null;
				if (stopped || ac.signal.aborted)
					return;
				let more = true;
				running = true;
				try {
					more = await fn();
					setLive('');
				} catch (e) {
					running = false;
					// (A refused read stopped the page: the sign-in says why.)
					if (e.name === 'AbortError' || ac.signal.aborted)
						return;
					setLive(`live update failed: ${e.message}; retrying`);
				}
				running = false;
				if (more === false || ac.signal.aborted) {
					stopped = true;
					kicks.delete(kick);
					return;
				}
				schedule(again ? KICK_MS : ms);
				again = false;
			};
			kicks.add(kick);
			ac.signal.addEventListener('abort', () => kicks.delete(kick));
			schedule(ms);
			return () => { stopped = true; kicks.delete(kick); };
		},
	};
	return { ctx, stop() { ac.abort(); timers.forEach(clearTimeout); } };
}

function setLive(msg) {
	const el = document.getElementById('live-status');
	if (el)
		el.textContent = msg;
}

// --- sign-in, for a controller with --read-token-required ---

let signin = null;	// the sign-in section while it is shown

function signinStatus(msg) {
	const el = signin.querySelector('.signin-status');
	clear(el).classList.toggle('error', !!msg);
	if (msg)
		el.append(msg);
}

// Shown when a read is answered 401: instead of the view (hidden, so that
// what a page still appends to it stays out of sight) until a token the
// controller accepts is entered.
function showSignIn(ev) {
	// An answer to a request sent before the token changed says nothing.
	if (ev.detail.sent !== readToken())
		return;
	const refused = ev.detail.sent !== null;
	if (refused)
		setReadToken(null);	// revoked, or refused: ask again
	updateAuth();
	if (current) {
		current.stop();
		current = null;
	}
	if (signin) {
		if (refused)
			signinStatus(`The controller refused the token of this session (${ev.detail.message}).`);
		return;
	}
	const view = document.getElementById('view');
	view.hidden = true;
	setLive('');
	document.title = 'Sign in — wakefarm';
	const input = h('input#signin-token', { type: 'password', name: 'token', autocomplete: 'off',
		spellcheck: 'false', required: true, 'aria-describedby': 'signin-why' });
	const form = h('form.signin-form', { novalidate: true },
		h('label', { for: 'signin-token' }, 'Reader token'), ' ', input, ' ',
		h('button', { type: 'submit' }, 'Sign in'),
		h('p.signin-status', { role: 'alert' }));
	signin = h('section.signin', { 'aria-labelledby': 'signin-h' },
		h('h1#signin-h', 'Sign in'),
		h('p.note#signin-why', 'This controller requires a read token (it runs with ',
			h('code', 'read-token-required'), '): the dashboard shows nothing without one. ',
			'Ask its operator for a token of the reader role (',
			h('code', 'wakefarm-controller token create --role reader --name NAME'), ').'),
		form,
		h('p.small', 'The token is kept for this browser session only (sessionStorage, ',
			'forgotten when the browser closes) and sent with every request to ', h('code', '/api/v1'), '.'));
	view.before(signin);
	if (refused)
		signinStatus(`The controller refused the token of this session (${ev.detail.message}).`);
	form.addEventListener('submit', async (e) => {
		e.preventDefault();
		const t = input.value.trim();
		if (!t) {
			signinStatus('Enter a reader token.');
			input.focus();
			return;
		}
		signinStatus('');
		form.setAttribute('aria-busy', 'true');
		const err = await checkToken(t);
		form.removeAttribute('aria-busy');
		if (err) {
			signinStatus(/^401/.test(err) ? `The controller refused this token (${err.replace(/^401: /, '')}).` :
				`Could not check the token: ${err}`);
			input.select();
			return;
		}
		setReadToken(t);
		hideSignIn();
		updateAuth();
		render();
	});
	input.focus();
}

function hideSignIn() {
	if (!signin)
		return;
	signin.remove();
	signin = null;
	document.getElementById('view').hidden = false;
}

// "Sign out" in the header while this session has a reader token.
function updateAuth() {
	let box = document.getElementById('auth');
	if (!box) {
		box = h('span#auth');
		document.querySelector('header.top').append(box);
	}
	clear(box);
	if (readToken()) {
		box.append(h('button.signout', { type: 'button', title: 'Forget the reader token of this browser session',
			onclick: () => {
				setReadToken(null);
				updateAuth();
				render();
			} }, 'Sign out'));
	}
}

async function render() {
	const { parts, query } = parseHash(location.hash);
	const path = parts.join('/');
	const r = match(parts);
	// Only the query changed on the same page with a handler: let it react.
	if (current && current.path === path && current.onQuery) {
		current.onQuery(query);
		return;
	}
	if (current)
		current.stop();
	// A page load shows the sign-in again if its reads are refused.
	hideSignIn();
	const view = clear(document.getElementById('view'));
	for (const a of document.querySelectorAll('nav.top a'))
		a.toggleAttribute('aria-current', a.dataset.nav === r?.nav);
	if (!r) {
		document.title = 'Not found — wakefarm';
		view.append(h('h1', 'Not found'), h('p', 'No page at ', h('code', location.hash), '. ',
			h('a', { href: '#/' }, 'Back to the nightly matrix'), '.'));
		current = null;
		return;
	}
	const c = makeCtx();
	current = { stop: c.stop, path, onQuery: null };
	c.ctx.route = { ...r.params, query };
	c.ctx.onQuery = (fn) => { current.onQuery = fn; };
	document.title = `${r.title}${r.params.id ? ' ' + r.params.id : ''} — wakefarm`;
	setLive('');
	try {
		await r.page(view, { ...r.params, query }, c.ctx);
	} catch (e) {
		if (e.name !== 'AbortError' && !signin)
			view.append(errorBox(e));
	}
	const h1 = view.querySelector('h1');
	if (h1 && document.activeElement === document.body) {
		h1.setAttribute('tabindex', '-1');
		h1.focus({ preventScroll: true });
	}
}

window.addEventListener('hashchange', render);
window.addEventListener('wf-signin', showSignIn);
window.addEventListener('unhandledrejection', (ev) => {
	// Aborted fetches after a page change are expected, not errors.
	if (ev.reason && ev.reason.name === 'AbortError')
		ev.preventDefault();
});
updateAuth();
render();
openEvents();
