// The dashboard page: sign in with a token, pick a range, load every panel the token's role may see.
// The token lives in sessionStorage (this tab only) and travels only as an Authorization header.

import { ApiError, createApi } from './api.js';
import { formatDay } from './format.js';
import { PANELS } from './panels.js';
import { DAY_MS, PRESET_DAYS, customRange, presetRange } from './ranges.js';

const TOKEN_KEY = 'strata.token';
const $ = (selector) => document.querySelector(selector);

const state = {
  api: null,
  who: null,
  range: presetRange('30d'),
  /** Bumped on every load; answers of an older load are dropped. */
  generation: 0,
};

function showLogin(message = '') {
  $('#dashboard').hidden = true;
  $('#who').hidden = true;
  $('#login').hidden = false;
  $('#login-error').textContent = message;
  $('#token-input').value = '';
  $('#token-input').focus();
}

async function signIn(token) {
  const api = createApi(token);
  let who;
  try {
    who = await api.get('/v1/whoami');
  } catch (error) {
    sessionStorage.removeItem(TOKEN_KEY);
    showLogin(error instanceof ApiError && error.status === 401 ? `That token was not accepted: ${error.message}` : `Could not reach the server: ${error.message}`);
    return;
  }
  state.api = api;
  state.who = who;
  $('#login').hidden = true;
  $('#who').hidden = false;
  $('[data-who-name]').textContent = who.name;
  $('[data-who-role]').textContent = who.role;
  const dashboard = $('#dashboard');
  dashboard.hidden = false;
  dashboard.dataset.role = who.role;
  for (const panel of PANELS) {
    const section = document.querySelector(`[data-panel="${panel.name}"]`);
    const allowed = who.operations.includes(panel.operation);
    // A panel the role may not read is not shown at all (the server would refuse its data anyway).
    section.hidden = !allowed;
    section.dataset.state = allowed ? 'idle' : 'denied';
  }
  await load();
}

function describeRange(range) {
  const last = formatDay(range.to - DAY_MS);
  return `${formatDay(range.from)} to ${last} (${range.days} day${range.days === 1 ? '' : 's'}, UTC)`;
}

async function load() {
  const generation = ++state.generation;
  const { range, api, who } = state;
  const dashboard = $('#dashboard');
  dashboard.dataset.state = 'loading';
  dashboard.dataset.range = range.preset;
  dashboard.dataset.from = String(range.from);
  dashboard.dataset.to = String(range.to);
  $('#range-label').textContent = describeRange(range);
  for (const button of document.querySelectorAll('[data-range]')) button.setAttribute('aria-pressed', String(button.dataset.range === range.preset));

  const shared = new Map();
  const context = {
    api,
    range,
    once(key, fetch) {
      if (!shared.has(key)) shared.set(key, fetch());
      return shared.get(key);
    },
  };
  await Promise.all(
    PANELS.filter((panel) => who.operations.includes(panel.operation)).map(async (panel) => {
      const section = document.querySelector(`[data-panel="${panel.name}"]`);
      const status = section.querySelector('[data-status]');
      section.dataset.state = 'loading';
      try {
        const answer = await panel.load(context);
        if (generation !== state.generation) return;
        status.textContent = panel.render(section, answer, context) ?? '';
        section.dataset.state = 'ready';
      } catch (error) {
        if (generation !== state.generation) return;
        if (error instanceof ApiError && error.status === 401) {
          sessionStorage.removeItem(TOKEN_KEY);
          showLogin('Your token is no longer accepted; sign in again.');
          return;
        }
        const notConfigured = panel.optionalPlugin && error instanceof ApiError && error.status === 404;
        section.dataset.state = notConfigured ? 'not-configured' : error instanceof ApiError && error.status === 403 ? 'denied' : 'error';
        section.querySelector('[data-table]')?.replaceChildren();
        status.textContent = notConfigured ? `Not configured: ${error.message}` : error.message;
      }
    }),
  );
  if (generation === state.generation) dashboard.dataset.state = 'ready';
}

function chooseRange(preset) {
  const custom = $('#custom-range');
  if (preset === 'custom') {
    custom.hidden = false;
    $('#custom-from').value = formatDay(state.range.from);
    $('#custom-to').value = formatDay(state.range.to - DAY_MS);
    $('#custom-from').focus();
    return;
  }
  custom.hidden = true;
  state.range = presetRange(preset);
  void load();
}

function start() {
  const params = new URLSearchParams(window.location.search);
  const fromUrl = params.get('token');
  if (fromUrl) {
    // Take the token out of the address bar and history at once: URLs end up in logs and bookmarks.
    sessionStorage.setItem(TOKEN_KEY, fromUrl);
    params.delete('token');
  }
  const preset = params.get('range');
  if (preset && PRESET_DAYS[preset]) state.range = presetRange(preset);
  if (fromUrl) window.history.replaceState(null, '', `${window.location.pathname}${params.size > 0 ? `?${params}` : ''}`);

  $('#login-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const token = $('#token-input').value.trim();
    if (!token) return;
    sessionStorage.setItem(TOKEN_KEY, token);
    void signIn(token);
  });
  $('#sign-out').addEventListener('click', () => {
    sessionStorage.removeItem(TOKEN_KEY);
    state.api = null;
    state.generation += 1;
    showLogin();
  });
  for (const button of document.querySelectorAll('[data-range]')) button.addEventListener('click', () => chooseRange(button.dataset.range));
  $('#custom-range').addEventListener('submit', (event) => {
    event.preventDefault();
    const range = customRange($('#custom-from').value, $('#custom-to').value);
    $('#custom-error').textContent = range.error ?? '';
    if (range.error) return;
    state.range = range;
    void load();
  });
  $('#refresh').addEventListener('click', () => void load());

  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) void signIn(token);
  else showLogin();
}

start();
