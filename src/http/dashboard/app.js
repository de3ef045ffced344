/*
 * pxed's dashboard: reads the JSON API (docs/api.md) and never writes.
 * /api/v1/status every second, /api/v1/events/stream for the live feed,
 * /api/v1/machines/MAC for the machine that is open. No framework, no
 * build step; every value from the network enters the page as text.
 */
'use strict';
(() => {
  const API = '/api/v1';
  const POLL_MS = 1000;
  const FEED_MAX = 200;
  const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

  const $ = (id) => document.getElementById(id);
  let status = null;         // the last /status answer
  let skewMs = 0;            // our clock minus pxed's
  let selected = null;       // MAC of the open machine
  let detail = null;         // its /machines/MAC answer
  let detailAt = 0, detailSeen = null, detailBusy = false, explainOf = null;
  let lastSeq = 0, stream = null, streamRetry = 1000;

  /* --- small helpers ---------------------------------------------------- */

  function h(tag, attrs, ...kids) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v == null || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : String(v));
    }
    for (const kid of kids.flat(Infinity)) {
      if (kid != null && kid !== false) el.append(kid instanceof Node ? kid : String(kid));
    }
    return el;
  }

  function bytes(n) {
    if (!(n >= 0)) return '?';
    const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let i = 0;
    while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
    return (i === 0 || n >= 100 ? Math.round(n) : n.toFixed(1).replace(/\.0$/, '')) + ' ' + u[i];
  }

  function ms(n) {
    if (!(n >= 0)) return '?';
    if (n < 1000) return Math.round(n) + ' ms';
    if (n < 60000) return (n / 1000).toFixed(n < 10000 ? 2 : 1) + ' s';
    return Math.floor(n / 60000) + ' min ' + Math.round((n % 60000) / 1000) + ' s';
  }

  const serverNow = () => Date.now() - skewMs;

  function ago(iso) {
    const t = Date.parse(iso);
    if (isNaN(t)) return '–';
    const s = Math.max(0, Math.round((serverNow() - t) / 1000));
    if (s < 60) return s + ' s ago';
    if (s < 3600) return Math.floor(s / 60) + ' min ago';
    return new Date(t).toLocaleString();
  }

  const clock = (iso) => {
    const t = Date.parse(iso);
    return isNaN(t) ? '' : new Date(t).toLocaleTimeString([], { hour12: false }) +
      '.' + String(t % 1000).padStart(3, '0');
  };

  async function getJSON(path) {
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), 5000);
    try {
      const r = await fetch(API + path, { signal: ctl.signal, cache: 'no-store' });
      if (!r.ok) throw new Error(path + ': HTTP ' + r.status);
      return await r.json();
    } finally {
      clearTimeout(timer);
    }
  }

  function setConn(state, text) {
    const c = $('conn');
    c.dataset.state = state;
    c.textContent = text;
  }

  /* --- status: machines, transfers, pools, rogues ------------------------- */

  const pct = (x) => (x.size > 0 ? Math.min(100, Math.floor((100 * x.bytes) / x.size)) : null);
  const transfersOf = (mac) => (status ? status.transfers || [] : []).filter((x) => x.mac === mac);

  function progressBar(x, cls) {
    const p = pct(x);
    const label = p == null ? `${x.file} ${bytes(x.bytes)} so far`
      : `${x.file} ${p}% ${bytes(x.bytes)} of ${bytes(x.size)}`;
    const fill = h('span', { class: 'fill' });
    fill.style.width = (p == null ? 100 : p) + '%';
    return h('span', {
      class: 'bar ' + cls + (p == null ? ' indeterminate' : ''), role: 'progressbar',
      'aria-label': label, 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': p,
      'data-testid': cls === 'mini' ? 'machine-progress' : 'transfer-progress', title: label,
    }, fill);
  }

  function renderMachines() {
    const list = status.machines || [];
    const body = $('machines').tBodies[0];
    body.replaceChildren(...list.map((m) => {
      const live = transfersOf(m.mac)[0];
      const open = () => select(m.mac);
      return h('tr', {
        'data-testid': 'machine-row', 'data-mac': m.mac, 'data-state': m.state,
        'aria-current': m.mac === selected ? 'true' : null, onclick: open,
      },
      h('th', { scope: 'row' }, h('button', {
        type: 'button', class: 'link', 'aria-label': `Open ${m.mac}'s last boot`,
        onclick: (ev) => { ev.stopPropagation(); open(); },
      }, m.mac)),
      h('td', {}, m.ip || '–'),
      h('td', {}, h('span', { class: 'state ' + m.state }, m.state)),
      h('td', {}, m.step || '', live ? progressBar(live, 'mini') : null),
      h('td', {}, m.profile || '–'),
      h('td', {}, m.arch || '–'),
      h('td', { title: m.last_seen }, ago(m.last_seen)));
    }));
    $('machines-empty').hidden = list.length > 0;
  }

  function renderTransfers() {
    const list = status.transfers || [];
    $('transfers').replaceChildren(...list.map((x) => {
      const took = Math.max(1, serverNow() - Date.parse(x.started));
      const rate = isNaN(took) ? '' : ' · ' + bytes((x.bytes * 1000) / took) + '/s';
      const who = x.mac ? `${x.mac} (${x.ip})` : x.ip;
      return h('li', {
        'data-testid': 'transfer', 'data-mac': x.mac || '', 'data-file': x.file,
        'data-what': x.what, 'data-proto': x.proto,
      },
      h('div', { class: 'xhead' }, h('strong', {}, x.what), ' ', h('code', {}, x.file),
        h('span', { class: 'who' }, ` to ${who} over ${x.proto}`)),
      progressBar(x, 'big'),
      h('div', { class: 'nums' },
        (x.size > 0 ? `${bytes(x.bytes)} of ${bytes(x.size)}` : `${bytes(x.bytes)}`) + rate +
        (x.proto === 'tftp' && x.blksize ? ` · blksize ${x.blksize} window ${x.windowsize}` : '')));
    }));
    $('transfers-empty').hidden = list.length > 0;
  }

  const POOL_PARTS = ['leased', 'offered', 'declined', 'reserved', 'free'];

  function renderPools() {
    const list = status.pools || [];
    $('pools').tBodies[0].replaceChildren(...list.map((p) => {
      const total = Math.max(1, p.size || POOL_PARTS.reduce((s, k) => s + (p[k] || 0), 0));
      const label = `${p.subnet}: ` + POOL_PARTS.map((k) => `${p[k] || 0} ${k}`).join(', ') +
        ` of ${p.size}`;
      const bar = h('span', { class: 'bar stack', role: 'img', 'aria-label': label, title: label },
        POOL_PARTS.map((k) => {
          const seg = h('span', { class: 'seg ' + k });
          seg.style.width = ((100 * (p[k] || 0)) / total) + '%';
          return seg;
        }));
      return h('tr', { 'data-testid': 'pool', 'data-subnet': p.subnet },
        h('th', { scope: 'row' }, p.subnet, h('span', { class: 'range' }, `${p.first} – ${p.last}`)),
        h('td', { class: 'wide' }, bar), h('td', {}, `${p.leased} / ${p.size}`),
        h('td', {}, String(p.free)));
    }));
    $('pools-empty').hidden = list.length > 0;
  }

  function renderRogues() {
    const list = status.rogues || [];
    const b = $('rogues');
    b.hidden = list.length === 0;
    if (!list.length) return b.replaceChildren();
    b.replaceChildren(
      h('h2', {}, list.length === 1 ? 'Another DHCP server answers on this network'
        : `${list.length} other DHCP servers answer on this network`),
      h('ul', {}, list.map((r) => h('li', { 'data-testid': 'rogue', 'data-ip': r.server_ip },
        h('strong', {}, r.server_ip), ` (${r.server_mac}) on ${r.interface}: ${r.replies} ` +
        `replies, last offered ${r.last_offered || '–'} to ${r.last_client || '–'}, ` +
        `last seen ${ago(r.last_seen)}`))));
  }

  function renderStatus() {
    $('server').textContent = `version ${status.version} · up since ` +
      new Date(Date.parse(status.started)).toLocaleString();
    renderRogues();
    renderMachines();
    renderTransfers();
    renderPools();
    if (selected) renderDetail();
  }

  async function poll() {
    try {
      const s = await getJSON('/status');
      skewMs = Date.now() - Date.parse(s.now) || 0;
      if (status && s.started !== status.started) connect(true);
      status = s;
      renderStatus();
      if (!stream || stream.readyState !== 1) setConn('polling', 'connected (no live events)');
      refreshDetail(false);
    } catch (e) {
      setConn('down', 'pxed unreachable, retrying…');
    }
    setTimeout(poll, document.hidden ? 5 * POLL_MS : POLL_MS);
  }

  /* --- one machine: its last boot as a timeline, and explain -------------- */

  const isDhcp = (e) => e.proto === 'dhcp' || e.proto === 'proxy' || e.proto === 'pxe4011';

  // A failure the firmware causes on purpose (EDK2's tsize probe) is "expected".
  const outcomeOf = (e) => (e.ok !== false ? 'ok' : e.expected ? 'expected' : 'failed');

  // Steps as `pxed timeline` shows them: consecutive DHCP events fold into one
  // step, and so do files refused in a row; a transfer's event is logged when
  // it ends, so it starts duration_ms earlier.
  function steps(timeline) {
    const out = [];
    for (const e of timeline) {
      const end = Math.max(0, e.offset_ms || 0);
      const words = (e.detail || '').split(' ');
      const file = e.file || (e.kind === 'refused' ? (e.detail || '').split(': ')[0] : words[1] || '');
      const group = isDhcp(e) ? 'DHCP' : e.kind === 'refused' ? 'refused' : null;
      const last = out[out.length - 1];
      if (group && last && last.group === group) {
        Object.assign(last, { end, outcome: outcomeOf(e) });
        last.items.push(group === 'DHCP' ? e.kind : file);
      } else if (group) {
        out.push({ name: group, group, start: end, end, outcome: outcomeOf(e), ip: e.ip,
          items: [group === 'DHCP' ? e.kind : file] });
      } else {
        const why = (e.detail || '').split(': ').slice(1).join(': ');
        out.push({ name: e.kind === 'transfer' ? (words[0] === 'nbp' ? 'NBP' : words[0]) : e.kind,
          transfer: e.kind === 'transfer', start: Math.max(0, end - (e.duration_ms || 0)), end,
          outcome: outcomeOf(e), file,
          text: `${file} over ${e.proto}, ${bytes(e.bytes)}${why ? ': ' + why : ''}` });
      }
    }
    out.forEach((s, i) => {
      if (s.group === 'DHCP') s.text = `${s.items.join(', ')} ${s.ip || ''}`;
      if (s.group !== 'refused') return;
      s.text = `${s.items.length} not found: ${s.items.join(', ')}`;
      // Names probed before a file that did come (pxelinux's config search) are no failure.
      if (out.slice(i + 1).some((x) => x.transfer && x.outcome === 'ok')) s.outcome = 'expected';
    });
    return out;
  }

  // Transfers of this machine still under way, placed on the same time axis.
  // The status may be older than the timeline: one the timeline has finished is left out.
  function liveSteps(timeline, done) {
    if (!timeline.length) return [];
    const t0 = Date.parse(timeline[0].time) - (timeline[0].offset_ms || 0);
    const bare = (f) => (f || '').replace(/^\/+/, '');
    return transfersOf(selected).map((x) => {
      const p = pct(x);
      return { name: x.what === 'nbp' ? 'NBP' : x.what, outcome: 'running', file: x.file,
        start: Math.max(0, Date.parse(x.started) - t0), end: serverNow() - t0,
        text: `${x.file} over ${x.proto}, ${bytes(x.bytes)}` +
          (p == null ? '' : ` of ${bytes(x.size)} (${p}%)`) };
    }).filter((s) => s.start >= 0 && s.end >= s.start && !done.some((d) =>
      d.transfer && bare(d.file) === bare(s.file) && d.end >= s.start));
  }

  function niceStep(span) {
    for (const s of [100, 200, 500, 1000, 2000, 5000, 10000, 15000, 30000, 60000, 120000]) {
      if (span / s <= 8) return s;
    }
    return 300000;
  }

  function renderTimeline(all) {
    const span = Math.max(1000, ...all.map((s) => s.end));
    const at = (v) => (100 * v) / span + '%';
    $('timeline').replaceChildren(...all.map((s) => {
      const outcome = s.outcome;
      const took = ms(s.end - s.start);
      const label = `${s.name}: ${s.text}, from +${ms(s.start)}, ` +
        (outcome === 'running' ? `running for ${took}` : `took ${took}`) +
        (outcome === 'failed' ? ', failed' : outcome === 'expected' ? ', failed as expected' : '');
      const bar = h('span', { class: 'tl-bar ' + outcome, role: 'img', 'aria-label': label,
        title: label, 'data-testid': 'timeline-bar' });
      bar.style.left = at(s.start);
      bar.style.width = at(s.end - s.start);
      return h('li', { class: 'tl-row', 'data-testid': 'timeline-step', 'data-step': s.name,
        'data-outcome': outcome, 'data-file': s.file || null },
      h('span', { class: 'tl-name' }, s.name),
      h('span', { class: 'tl-track' }, bar),
      h('span', { class: 'tl-text' }, `${s.file || s.text} · ${took}`));
    }));
    const step = niceStep(span);
    const ticks = [];
    for (let v = 0; v <= span; v += step) {
      const t = h('span', { class: 'tick' }, v < 1000 ? v + ' ms' : v / 1000 + ' s');
      t.style.left = at(v);
      ticks.push(t);
    }
    $('timeline-axis').replaceChildren(h('span', { class: 'tl-track' }, ticks));
  }

  function explainNode(v) {
    if (v == null) return h('p', { class: 'empty' }, 'No diagnosis.');
    if (typeof v !== 'object') return h('p', {}, String(v));
    if (Array.isArray(v)) {
      return h('ul', {}, v.map((x) => h('li', {}, typeof x === 'object' ? explainNode(x) : String(x))));
    }
    return h('dl', {}, Object.entries(v).map(([k, x]) => [h('dt', {}, k.replace(/_/g, ' ')),
      h('dd', {}, x !== null && typeof x === 'object' ? explainNode(x) : String(x))]));
  }

  // `pxed explain --json`: the diagnosis first, then what pxed decided and the
  // facts it decided on; everything else behind a disclosure.
  function explainView(x) {
    if (!x || typeof x !== 'object' || Array.isArray(x)) return [explainNode(x)];
    const out = [];
    const d = x.diagnosis;
    if (d && d.text) {
      out.push(h('p', { class: 'diag ' + (d.code || ''), 'data-testid': 'diagnosis',
        'data-code': d.code }, d.text));
    }
    if (x.stopped) out.push(h('p', {}, h('strong', {}, 'Stopped: '), x.stopped));
    if (Array.isArray(x.plan) && x.plan.length) {
      out.push(h('h4', {}, 'What pxed decided'), h('ul', {}, x.plan.map((p) => h('li', {},
        h('strong', {}, p.client), ` via ${p.via}: `, h('code', {}, p.decision), ` (${p.reason})`,
        p.current && p.current.same === false ? h('span', { class: 'bad' },
          ` — the config now says ${p.current.decision}: ${p.current.reason}`) : null))));
    }
    if (x.facts) out.push(h('h4', {}, 'Facts'), explainNode(x.facts));
    out.push(h('details', {}, h('summary', {}, 'Everything explain says'), explainNode(x)));
    return out;
  }

  function renderDetail() {
    const sec = $('machine');
    sec.hidden = false;
    $('machine-mac').textContent = selected;
    if (!detail || detail.mac !== selected) {
      $('machine-note').textContent = detail === false ? 'No boot recorded for this machine.'
        : 'Loading…';
      $('timeline').replaceChildren();
      $('timeline-axis').replaceChildren();
      $('explain').replaceChildren();
      explainOf = null;
      return;
    }
    const tl = detail.timeline || [];
    const first = tl[0];
    $('machine-note').textContent = first ? `Session started ${clock(first.time)} ` +
      `(${ago(first.time)}), ${tl.length} events.` : 'No events in its last session.';
    const done = steps(tl);
    renderTimeline(done.concat(liveSteps(tl, done)));
    // Rebuilt only when a new answer came (an opened <details> stays open).
    if (explainOf !== detail) $('explain').replaceChildren(...explainView(detail.explain));
    explainOf = detail;
  }

  // Fetches the open machine again when something new happened to it.
  async function refreshDetail(force) {
    if (!selected || detailBusy) return;
    const m = status && (status.machines || []).find((x) => x.mac === selected);
    const seen = m ? m.last_seen + transfersOf(selected).length : null;
    const stale = force || seen !== detailSeen || (m && m.state === 'booting');
    if (!stale || (!force && Date.now() - detailAt < 900)) return;
    detailBusy = true;
    const mac = selected;
    try {
      const d = await getJSON('/machines/' + mac);
      if (mac === selected) { detail = d; detailSeen = seen; }
    } catch (e) {
      if (mac === selected && /HTTP 404/.test(e.message)) detail = false;
    } finally {
      detailAt = Date.now();
      detailBusy = false;
    }
    if (mac === selected) renderDetail();
  }

  function select(mac) {
    if (mac && !MAC_RE.test(mac)) return;
    if (location.hash !== (mac ? '#machine=' + mac : '')) {
      history.replaceState(null, '', mac ? '#machine=' + mac : location.pathname);
    }
    selected = mac;
    detail = null;
    detailSeen = null;
    $('machine').hidden = !mac;
    if (status) renderMachines();
    if (mac) {
      renderDetail();
      refreshDetail(true);
      $('machine').scrollIntoView({ block: 'nearest' });
    }
  }

  /* --- the live event feed (Server-Sent Events) --------------------------- */

  function addEvent(e) {
    const ok = outcomeOf(e) !== 'failed';
    const li = h('li', { 'data-testid': 'event', 'data-mac': e.mac || '', class: ok ? '' : 'bad' },
      h('time', { datetime: e.time }, clock(e.time)), ' ',
      h('span', { class: 'ev-mac' }, e.mac || e.ip || '–'), ' ',
      h('span', { class: 'ev-kind' }, `${e.proto} ${e.kind}`), ' ',
      h('span', {}, e.detail || ''));
    const feed = $('events');
    feed.prepend(li);
    while (feed.childElementCount > FEED_MAX) feed.lastElementChild.remove();
  }

  // EventSource reconnects by itself and sends Last-Event-ID; after an answer
  // it gives up on (a 503: too many streams) we start over from lastSeq. A
  // restarted pxed numbers its events from 1 again: poll() then calls this with
  // fresh = true.
  function connect(fresh) {
    if (stream) stream.close();
    if (fresh) lastSeq = 0;
    const es = new EventSource(`${API}/events/stream${lastSeq ? '?since=' + lastSeq : ''}`);
    stream = es;
    es.onopen = () => { streamRetry = 1000; setConn('live', 'live'); };
    es.addEventListener('event', (m) => {
      let e;
      try { e = JSON.parse(m.data); } catch (err) { return; }
      lastSeq = Math.max(lastSeq, Number(m.lastEventId) || e.seq || 0);
      addEvent(e);
      if (e.mac && e.mac === selected) setTimeout(() => refreshDetail(true), 200);
    });
    es.onerror = () => {
      if (es !== stream) return;
      if (es.readyState === EventSource.CLOSED) {
        setConn('polling', 'live events lost, reconnecting…');
        setTimeout(() => es === stream && connect(false), streamRetry);
        streamRetry = Math.min(30000, streamRetry * 2);
      } else {
        setConn('polling', 'live events: reconnecting…');
      }
    };
  }

  function fromHash() {
    const m = /^#machine=([0-9a-f:]{17})$/.exec(location.hash);
    select(m ? m[1] : null);
  }

  $('machine-close').addEventListener('click', () => select(null));
  window.addEventListener('hashchange', fromHash);
  fromHash();
  poll();
  connect(false);
})();
