// The review page's logic: login, incident list with filters and live updates, incident view with
// review actions, camera health grid, Vietnamese/English strings (i18n/*.json), times in the node's zone.
'use strict';

const state = {
  lang: localStorage.getItem('matthan.lang') || 'vi',
  strings: {},
  session: null,      // {user, role, csrf, node, time_zone}
  cameras: [],
  cursor: null,
  events: null,       // EventSource
  refreshTimer: null,
  camerasTimer: null,
  current: null,      // the incident shown
};

const $ = (id) => document.getElementById(id);

// ---- strings ----
function t(key, vars) {
  let s = state.strings[key] || key;
  for (const [k, v] of Object.entries(vars || {})) s = s.replace('{' + k + '}', v);
  return s;
}

async function loadStrings(lang) {
  const r = await fetch('/i18n/' + (lang === 'en' ? 'en' : 'vi') + '.json');
  state.strings = await r.json();
  state.lang = lang === 'en' ? 'en' : 'vi';
  document.documentElement.lang = state.lang;
  document.title = t('app.title');
  for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll('[data-i18n-placeholder]')) el.placeholder = t(el.dataset.i18nPlaceholder);
}

async function switchLanguage() {
  const next = state.lang === 'vi' ? 'en' : 'vi';
  localStorage.setItem('matthan.lang', next);
  await loadStrings(next);
  renderWho();
  await route();  // the open view is drawn again in the new language before the switch is done
}

// ---- time: dd/MM/yyyy HH:mm:ss in the node's zone ----
function zone() { return (state.session && state.session.time_zone) || 'Asia/Ho_Chi_Minh'; }

function zoneParts(ms) {
  const f = new Intl.DateTimeFormat('en-GB', {
    timeZone: zone(), year: 'numeric', month: '2-digit', day: '2-digit',
    hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
  });
  const p = {};
  for (const part of f.formatToParts(new Date(ms))) p[part.type] = part.value;
  return p;
}

function formatTime(ms) {
  if (ms === null || ms === undefined) return '';
  const p = zoneParts(ms);
  return `${p.day}/${p.month}/${p.year} ${p.hour}:${p.minute}:${p.second}`;
}

// Midnight of a yyyy-mm-dd date in the node's zone, as an ISO-8601 UTC string.
function zoneMidnightIso(dateText, addDays) {
  const [y, m, d] = dateText.split('-').map(Number);
  const guess = Date.UTC(y, m - 1, d + (addDays || 0));
  const p = zoneParts(guess);
  const asZone = Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute, +p.second);
  return new Date(guess - (asZone - guess)).toISOString();
}

function formatDuration(s) {
  if (s === null || s === undefined) return t('incident.ongoing');
  return t('seconds', { s: (Math.round(s * 10) / 10).toString() });
}

// ---- HTTP ----
class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

async function api(path, options) {
  const opts = Object.assign({ credentials: 'same-origin', headers: {} }, options || {});
  if (opts.body !== undefined) {
    opts.headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(opts.body);
  }
  if (opts.method === 'POST' && state.session) opts.headers['X-CSRF-Token'] = state.session.csrf;
  const r = await fetch(path, opts);
  let body = null;
  try { body = await r.json(); } catch (e) { body = null; }
  if (!r.ok) {
    if (r.status === 401 && path !== '/api/login' && path !== '/api/session') showLogin();
    const err = new ApiError(r.status, (body && body.error) || r.statusText);
    err.retryAfter = r.headers.get('Retry-After');
    throw err;
  }
  return body;
}

function showMessage(text, isError) {
  const m = $('message');
  m.textContent = text;
  m.classList.toggle('error', !!isError);
  m.classList.toggle('hidden', !text);
  if (text) setTimeout(() => { if (m.textContent === text) m.classList.add('hidden'); }, 5000);
}

function reportError(e) {
  if (e.status === 401) return;
  showMessage(e.status === 403 ? t('error.forbidden') : t('error.generic', { m: e.message }), true);
}

// ---- views ----
function showView(name) {
  for (const v of document.querySelectorAll('.view')) v.classList.add('hidden');
  $('view-' + name).classList.remove('hidden');
  $('nav-incidents').classList.toggle('active', name === 'incidents' || name === 'incident');
  $('nav-cameras').classList.toggle('active', name === 'cameras');
}

function showLogin() {
  state.session = null;
  stopLive();
  $('nav').classList.add('hidden');
  $('logout-btn').classList.add('hidden');
  $('whoami').textContent = '';
  showView('login');
  $('login-user').focus();
}

function renderWho() {
  if (!state.session) return;
  $('whoami').textContent = `${state.session.user} (${t('user.role.' + state.session.role)})`;
}

async function onLoggedIn(session) {
  state.session = session;
  $('nav').classList.remove('hidden');
  $('logout-btn').classList.remove('hidden');
  renderWho();
  await loadCameras();
  startLive();
  route();
}

async function login(ev) {
  ev.preventDefault();
  const err = $('login-error');
  err.classList.add('hidden');
  try {
    const s = await api('/api/login', { method: 'POST', body: { user: $('login-user').value, password: $('login-password').value } });
    $('login-password').value = '';
    if (!location.hash || location.hash === '#/login') location.hash = '#/incidents';
    await onLoggedIn(s);
  } catch (e) {
    err.textContent = e.status === 429 ? t('login.limited', { s: e.retryAfter || '?' }) : t('login.failed');
    err.classList.remove('hidden');
  }
}

async function logout() {
  try { await api('/api/logout', { method: 'POST', body: {} }); } catch (e) { /* already out */ }
  showLogin();
}

function route() {
  if (!state.session) return showLogin();
  clearInterval(state.camerasTimer);
  const h = location.hash || '#/incidents';
  const m = h.match(/^#\/incident\/([A-Za-z0-9_-]+)$/);
  if (m) return openIncident(m[1]);
  if (h === '#/cameras') {
    showView('cameras');
    renderCameras();
    state.camerasTimer = setInterval(loadCameras, 2000);
    return;
  }
  showView('incidents');
  loadIncidents(false);
}

// ---- incident list ----
function filterQuery() {
  const q = new URLSearchParams();
  const put = (k, v) => { if (v) q.set(k, v); };
  put('camera', $('f-camera').value);
  if ($('f-from').value) q.set('from', zoneMidnightIso($('f-from').value, 0));
  if ($('f-to').value) q.set('to', zoneMidnightIso($('f-to').value, 1));
  put('kind', $('f-kind').value);
  put('label', $('f-label').value.trim());
  put('state', $('f-state').value);
  put('evidence', $('f-evidence').value);
  q.set('limit', '24');
  return q;
}

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function stateBadge(review) {
  const b = el('span', 'badge state-' + review.state, t('state.' + review.state));
  b.dataset.state = review.state;
  return b;
}

function incidentCard(inc) {
  const a = el('a', 'incident-card');
  a.href = '#/incident/' + inc.id;
  a.dataset.id = inc.id;
  const thumb = el('div', 'thumb');
  if (inc.snapshot_url) {
    const img = el('img');
    img.loading = 'lazy';
    img.alt = '';
    img.src = inc.snapshot_url;
    thumb.appendChild(img);
  }
  a.appendChild(thumb);
  const body = el('div', 'card-body');
  body.appendChild(el('div', 'cam', inc.camera_name));
  body.appendChild(el('div', 'time', formatTime(inc.started_at_ms)));
  const meta = el('div', 'meta');
  meta.appendChild(el('span', 'kind', t('kind.' + inc.kind) + (inc.label ? ' · ' + inc.label : '')));
  meta.appendChild(el('span', 'dur', formatDuration(inc.duration_s)));
  body.appendChild(meta);
  const badges = el('div', 'badges');
  badges.appendChild(stateBadge(inc.review));
  if (inc.review.evidence) badges.appendChild(el('span', 'badge evidence', t('evidence')));
  body.appendChild(badges);
  a.appendChild(body);
  return a;
}

async function loadIncidents(more) {
  const q = filterQuery();
  if (more && state.cursor) q.set('cursor', state.cursor);
  try {
    const page = await api('/api/incidents?' + q.toString());
    const list = $('incident-list');
    if (!more) list.replaceChildren();
    for (const inc of page.items) list.appendChild(incidentCard(inc));
    state.cursor = page.next_cursor;
    $('list-more').classList.toggle('hidden', !page.next_cursor);
    $('list-empty').classList.toggle('hidden', list.children.length > 0);
    $('list-count').textContent = t('list.count', { n: list.children.length + (page.next_cursor ? '+' : '') });
  } catch (e) { reportError(e); }
}

function fillCameraFilter() {
  const sel = $('f-camera');
  const chosen = sel.value;
  while (sel.options.length > 1) sel.remove(1);
  for (const c of state.cameras) sel.add(new Option(c.name, c.id));
  sel.value = chosen;
}

// ---- live events (SSE) ----
function startLive() {
  stopLive();
  const es = new EventSource('/api/events/stream');
  es.addEventListener('open', () => $('live-dot').classList.remove('hidden'));
  es.addEventListener('error', () => $('live-dot').classList.add('hidden'));
  es.addEventListener('incident', () => {
    // Coalesce bursts of start/update/end into one refresh of the first page.
    clearTimeout(state.refreshTimer);
    state.refreshTimer = setTimeout(() => {
      if (!$('view-incidents').classList.contains('hidden')) loadIncidents(false);
    }, 500);
  });
  state.events = es;
}

function stopLive() {
  if (state.events) state.events.close();
  state.events = null;
  $('live-dot').classList.add('hidden');
}

// ---- one incident ----
function detailRow(dl, key, value) {
  dl.appendChild(el('dt', '', t(key)));
  const dd = el('dd', '');
  if (value instanceof Node) dd.appendChild(value); else dd.textContent = value;
  dl.appendChild(dd);
}

function renderIncident(inc) {
  state.current = inc;
  $('incident-title').textContent = `${inc.camera_name} — ${formatTime(inc.started_at_ms)}`;
  const dl = $('incident-details');
  dl.replaceChildren();
  detailRow(dl, 'incident.camera', inc.camera_name);
  detailRow(dl, 'incident.started', formatTime(inc.started_at_ms));
  detailRow(dl, 'incident.ended', inc.ended_at_ms ? formatTime(inc.ended_at_ms) : t('incident.ongoing'));
  detailRow(dl, 'incident.duration', formatDuration(inc.duration_s));
  detailRow(dl, 'incident.kind', t('kind.' + inc.kind));
  if (inc.label) detailRow(dl, 'incident.label', inc.label);
  detailRow(dl, 'incident.score', inc.score.toFixed(2));
  const badges = el('span', 'badges');
  badges.id = 'incident-state';
  badges.appendChild(stateBadge(inc.review));
  if (inc.review.evidence) badges.appendChild(el('span', 'badge evidence', t('evidence')));
  detailRow(dl, 'incident.state', badges);
  if (inc.review.by) detailRow(dl, 'incident.reviewed_by', `${inc.review.by}, ${formatTime(inc.review.at_ms)}`);
  $('note').value = inc.review.note || '';
  $('btn-evidence').textContent = t(inc.review.evidence ? 'incident.release' : 'incident.hold');
  $('btn-evidence').classList.toggle('active', inc.review.evidence);
  const officer = state.session.role !== 'viewer';
  $('actions').classList.toggle('hidden', !officer);
  $('note').disabled = !officer;
  $('btn-export').href = '/api/incidents/' + inc.id + '/export';
}

function renderMedia(inc) {
  const video = $('clip');
  const missing = $('clip-missing');
  const playable = inc.clip && inc.clip.state !== 'writing' && inc.clip.state !== 'deleted';
  video.classList.toggle('hidden', !playable);
  missing.classList.toggle('hidden', !!playable);
  if (playable) {
    const src = inc.clip.url;
    if (video.getAttribute('src') !== src) video.src = src;
  } else {
    video.removeAttribute('src');
    missing.textContent = t(inc.clip && inc.clip.state === 'writing' || !inc.ended_at_ms ? 'incident.clip_pending' : 'incident.no_clip');
  }
  const snap = $('snapshot');
  snap.classList.toggle('hidden', !inc.snapshot_url);
  if (inc.snapshot_url) snap.src = inc.snapshot_url;
}

async function openIncident(id) {
  showView('incident');
  $('incident-status').textContent = '';
  try {
    const inc = await api('/api/incidents/' + id);
    renderIncident(inc);
    renderMedia(inc);
  } catch (e) { reportError(e); }
}

async function postReview(stateName) {
  const inc = state.current;
  try {
    const updated = await api('/api/incidents/' + inc.id + '/review', { method: 'POST', body: { state: stateName, note: $('note').value } });
    renderIncident(updated);
    $('incident-status').textContent = t('incident.saved');
  } catch (e) { reportError(e); }
}

async function toggleEvidence() {
  const inc = state.current;
  try {
    const updated = await api('/api/incidents/' + inc.id + '/evidence', { method: 'POST', body: { hold: !inc.review.evidence, note: $('note').value } });
    renderIncident(updated);
    $('incident-status').textContent = t('incident.saved');
  } catch (e) { reportError(e); }
}

// ---- cameras ----
async function loadCameras() {
  try {
    const r = await api('/api/cameras');
    state.cameras = r.cameras;
    fillCameraFilter();
    if (!$('view-cameras').classList.contains('hidden')) renderCameras();
  } catch (e) { reportError(e); }
}

function renderCameras() {
  const grid = $('camera-grid');
  grid.replaceChildren();
  for (const c of state.cameras) {
    const bad = !c.online || c.tampered;
    const card = el('div', 'camera-card' + (bad ? ' bad' : ''));
    card.dataset.id = c.id;
    card.dataset.state = c.tampered ? 'tampered' : c.state;
    const img = el('div', 'thumb');
    if (c.snapshot_url) {
      const i = el('img');
      i.alt = '';
      i.src = c.snapshot_url;
      img.appendChild(i);
    }
    card.appendChild(img);
    const body = el('div', 'card-body');
    body.appendChild(el('div', 'cam', c.name));
    const st = el('span', 'badge cam-state ' + (bad ? 'offline' : 'online'), t(c.tampered ? 'camstate.tampered' : 'camstate.' + c.state));
    body.appendChild(st);
    const dl = el('dl', 'details-list small');
    detailRow(dl, 'cameras.fps', c.fps.toFixed(1));
    detailRow(dl, 'cameras.last_frame', c.last_frame_age_s === null ? t('cameras.never') : t('cameras.seconds_ago', { s: c.last_frame_age_s.toFixed(1) }));
    detailRow(dl, 'cameras.reconnects', String(c.reconnects));
    detailRow(dl, 'cameras.global_changes', String(c.global_changes ?? 0));
    if (c.detect_stream) {
      // A detect_url substream: analysed on its own; when it is down the camera records but raises no incident.
      const ds = el('span', 'badge detect-state ' + (c.detect_stream.online ? 'online' : 'offline'), t('camstate.' + c.detect_stream.state));
      detailRow(dl, 'cameras.detect_stream', ds);
    }
    body.appendChild(dl);
    card.appendChild(body);
    grid.appendChild(card);
  }
  $('cameras-empty').classList.toggle('hidden', state.cameras.length > 0);
}

// ---- start ----
async function init() {
  await loadStrings(state.lang);
  $('login-form').addEventListener('submit', login);
  $('logout-btn').addEventListener('click', logout);
  $('lang-btn').addEventListener('click', switchLanguage);
  $('filters').addEventListener('submit', (ev) => { ev.preventDefault(); loadIncidents(false); });
  $('f-reset').addEventListener('click', () => setTimeout(() => loadIncidents(false), 0));
  $('list-more').addEventListener('click', () => loadIncidents(true));
  $('btn-reviewed').addEventListener('click', () => postReview('reviewed'));
  $('btn-false').addEventListener('click', () => postReview('false_alarm'));
  $('btn-new').addEventListener('click', () => postReview('new'));
  $('btn-evidence').addEventListener('click', toggleEvidence);
  window.addEventListener('hashchange', route);
  try {
    await onLoggedIn(await api('/api/session'));
  } catch (e) {
    showLogin();
  }
}

document.addEventListener('DOMContentLoaded', init);
