// The page's only way to data: the server's JSON API, with the user's token as a bearer token.

export class ApiError extends Error {
  constructor(status, body) {
    super(body && typeof body.message === 'string' ? body.message : `the server answered ${status}`);
    this.status = status;
    this.body = body;
  }
}

/** Most pages fetched when following cursors: a custom range of ten years is ~3,650 daily rows, four pages. */
const MAX_PAGES = 20;

export function createApi(token) {
  async function get(path, params = {}) {
    const url = new URL(path, window.location.origin);
    for (const [name, value] of Object.entries(params)) {
      if (value !== undefined && value !== null) url.searchParams.set(name, String(value));
    }
    const response = await fetch(url, { headers: { authorization: `Bearer ${token}`, accept: 'application/json' }, cache: 'no-store' });
    let body = null;
    try {
      body = await response.json();
    } catch {
      body = null;
    }
    if (!response.ok) throw new ApiError(response.status, body);
    return body;
  }

  /** Every item of a paged answer (following `nextCursor`), with the first page's other fields. */
  async function getAll(path, params = {}) {
    const first = await get(path, { ...params, limit: 1000 });
    const items = [...first.items];
    let cursor = first.nextCursor;
    for (let page = 1; cursor && page < MAX_PAGES; page += 1) {
      const next = await get(path, { ...params, limit: 1000, cursor });
      items.push(...next.items);
      cursor = next.nextCursor;
    }
    return { ...first, items, nextCursor: cursor ?? null };
  }

  return { get, getAll };
}
