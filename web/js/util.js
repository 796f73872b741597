// util.js: DOM building, formatting and the verdict vocabulary shared by
// every page. No framework: h() builds elements, text is always set as
// text (never innerHTML), so record fields cannot inject markup.

// h('a.cls#id', {href: ...}, child, ...): an element. Children may be
// strings, numbers, nodes, arrays or null/false (skipped).
export function h(tag, attrs, ...children) {
	const m = /^([a-z0-9]+)((?:[.#][\w-]+)*)$/i.exec(tag);
	const el = document.createElementNS(
		m[1] === 'svg' || attrs?.svg ? 'http://www.w3.org/2000/svg' :
			'http://www.w3.org/1999/xhtml', m[1]);
	for (const part of m[2].match(/[.#][\w-]+/g) || []) {
		if (part[0] === '.')
			el.classList.add(part.slice(1));
		else
			el.id = part.slice(1);
	}
	if (attrs && !(attrs instanceof Node) && !Array.isArray(attrs) &&
	    typeof attrs === 'object') {
		for (const [k, v] of Object.entries(attrs)) {
			if (v === undefined || v === null || v === false || k === 'svg')
				continue;
			if (k.startsWith('on'))
				el.addEventListener(k.slice(2), v);
			else if (k === 'class')
				el.setAttribute('class', [el.getAttribute('class'), v].filter(Boolean).join(' '));
			else
				el.setAttribute(k, v === true ? '' : String(v));
		}
	} else if (attrs !== undefined) {
		children.unshift(attrs);
	}
	append(el, children);
	return el;
}

function append(el, children) {
	for (const c of children) {
		if (c === null || c === undefined || c === false)
			continue;
		if (Array.isArray(c))
			append(el, c);
		else
			el.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
	}
}

export function clear(el) {
	while (el.firstChild)
		el.removeChild(el.firstChild);
	return el;
}

// SVG element (charts).
export function s(tag, attrs, ...children) {
	return h(tag, { ...attrs, svg: true }, ...children);
}

export function fmtTime(ms) {
	if (ms === null || ms === undefined)
		return '—';
	const d = new Date(ms);
	return d.toISOString().replace('T', ' ').slice(0, 19) + 'Z';
}

export function fmtAgo(ms, now = Date.now()) {
	if (!ms)
		return 'never';
	const s = Math.round((now - ms) / 1000);
	if (s < 0)
		return 'just now';
	if (s < 60)
		return `${s} s ago`;
	if (s < 3600)
		return `${Math.floor(s / 60)} min ago`;
	if (s < 86400)
		return `${Math.floor(s / 3600)} h ago`;
	return `${Math.floor(s / 86400)} d ago`;
}

export function fmtDuration(ms) {
	if (ms === null || ms === undefined || ms < 0)
		return '—';
	if (ms < 1000)
		return `${ms} ms`;
	if (ms < 60000)
		return `${(ms / 1000).toFixed(1)} s`;
	return `${Math.floor(ms / 60000)} min ${Math.round(ms % 60000 / 1000)} s`;
}

export function fmtUs(us) {
	if (us === null || us === undefined)
		return '—';
	return us >= 10000 ? `${(us / 1000).toFixed(1)} ms` : `${us} µs`;
}

export function pct(n, d) {
	return d ? `${Math.round(100 * n / d)} %` : '—';
}

export function json(v) {
	return v === undefined ? '—' : JSON.stringify(v);
}

// The verdict classes of architecture.md, plus the states of a job that has
// none yet. Each has a colour (CSS class v-NAME), a symbol and a label so
// nothing depends on colour alone.
export const VERDICTS = {
	pass: { sym: '✓', label: 'pass' },
	fail: { sym: '✗', label: 'fail' },
	hang: { sym: '◷', label: 'hang' },
	crash: { sym: '☠', label: 'crash' },
	infra: { sym: '⚙', label: 'infra' },
	known: { sym: 'ℹ', label: 'known' },
	flaky: { sym: '≈', label: 'flaky' },
	skip: { sym: '–', label: 'skip' },
	queued: { sym: '·', label: 'queued' },
	leased: { sym: '▸', label: 'leased' },
	running: { sym: '▶', label: 'running' },
	cancelled: { sym: '⊘', label: 'cancelled' },
};

// The class a job is shown as: its verdict, or its state while it has none;
// "known" when a known issue covers an unexpected failure.
export function jobClass(job, known) {
	if (job.state !== 'done')
		return job.state;
	if (job.as_expected === 0 && known && known(job))
		return 'known';
	return job.verdict || 'skip';
}

export function badge(cls, extra) {
	const v = VERDICTS[cls] || { sym: '?', label: cls };
	return h('span', { class: `badge v-${cls}` }, h('span.sym', { 'aria-hidden': 'true' }, v.sym),
		' ', v.label, extra ? [' ', extra] : null);
}

// "as expected" marker: the job met its scenario's expectation (which may
// itself be a hang or a fail).
export function expectMark(job) {
	if (job.state !== 'done' || job.as_expected === null || job.as_expected === undefined)
		return null;
	return job.as_expected ?
		h('span.exp.exp-yes', { title: `as expected (${job.expected_verdict})` }, '= expected') :
		h('span.exp.exp-no', { title: `expected ${job.expected_verdict}` }, '≠ expected ' + job.expected_verdict);
}

// Parses "#/a/b?x=1" into {parts: ['a','b'], query: {x: '1'}}.
export function parseHash(hash) {
	const raw = (hash || '').replace(/^#\/?/, '');
	const [p, q] = raw.split('?');
	const parts = p.split('/').filter(Boolean).map(decodeURIComponent);
	const query = Object.fromEntries(new URLSearchParams(q || ''));
	return { parts, query };
}

export function hashWith(path, query) {
	const qs = new URLSearchParams(Object.entries(query).filter(([, v]) =>
		v !== '' && v !== undefined && v !== null)).toString();
	return '#' + path + (qs ? '?' + qs : '');
}

// A "not available from this controller yet" note (see web/README.md,
// API wishes).
export function unavailable(what) {
	return h('p.note.unavailable', { role: 'note' }, h('strong', 'Not available from this controller yet: '),
		what, ' (see web/README.md, “API wishes”).');
}

export function errorBox(err) {
	return h('div.error', { role: 'alert' }, h('strong', 'Could not load: '), String(err.message || err));
}

// "6.12.117+deb12-cloud-amd64" -> "6.12.117", "6.1.0-57-cloud-amd64" -> "6.1.0-57".
export function shortRelease(r) {
	const m = /^(\d+\.\d+(?:\.\d+)?(?:-\d+)?)/.exec(String(r || ''));
	return m ? m[1] : String(r || '');
}

// The OS of a case, for people: a real kernel by the version it booted
// ("linux 6.12.117"; its package or path until a job has booted it), our
// test kernel by the Linux behaviour it follows ("test-kernel 6.11").
// `versions` maps a kernel's name (package or path) to its `uname -r`;
// `versions.names` a kernel of one's own ("sha256:HEX") to its name
// ("linux 6.1.0-57 deb61").
export function kernelLabel(fields, versions) {
	const k = fields.kernel || fields.kernel_package || '';
	if (!k)
		return `test-kernel ${fields.policy || '6.11'}`;
	const v = versions && versions.get(k);
	const name = versions && versions.names && versions.names.get(k);
	if (name)
		return `linux ${v ? shortRelease(v) + ' ' : ''}${name}`;
	return `linux ${v ? shortRelease(v) : k}`;
}

// The mailbox as axes place it in a column: cpus, mailbox version, kernel.
export function caseAxes(matrix, body, versions) {
	const get = (k, def) => matrix && matrix[k] !== undefined ? matrix[k] :
		body && body[k] !== undefined ? body[k] : def;
	return {
		cpus: get('cpus', 1),
		mailbox_version: get('mailbox_version', 1),
		kernel: kernelLabel({ kernel: get('kernel', ''), kernel_package: get('kernel_package', ''),
			policy: get('policy', '6.11') }, versions),
	};
}

// Test-kernel columns first, then real kernels oldest first.
export function cmpKernelLabels(a, b) {
	const real = (s) => String(s).startsWith('linux ');
	return real(a) - real(b) || String(a).localeCompare(String(b), undefined, { numeric: true });
}

export function table(cls, head, rows) {
	return h('div.table-wrap', h('table' + (cls ? '.' + cls : ''),
		h('thead', h('tr', head.map((c) => h('th', { scope: 'col' }, c)))),
		h('tbody', rows)));
}

// Replaces el's children (arrays flattened, null/false skipped).
export function fill(el, ...children) {
	clear(el);
	append(el, children);
	return el;
}

// Appends children the same way.
export function add(el, ...children) {
	append(el, children);
	return el;
}

// A "Copy" button for the text of a <code> element, with a status that says
// what happened; without clipboard access the text is selected instead.
export function copyButton(code) {
	const msg = h('span.small', { 'aria-live': 'polite' });
	const btn = h('button', { type: 'button', onclick: async () => {
		try {
			await navigator.clipboard.writeText(code.textContent);
			msg.textContent = 'copied';
		} catch (e) {
			const r = document.createRange();
			r.selectNodeContents(code);
			getSelection().removeAllRanges();
			getSelection().addRange(r);
			msg.textContent = 'selected: press Ctrl+C';
		}
	} }, 'Copy');
	return [btn, ' ', msg];
}
