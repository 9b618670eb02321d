// The service's /api/v1 over fetch: bearer token, JSON, and errors a sync can tell apart
// (no network or a server fault: try the whole batch again later; 4xx: the answer).

export class NetworkError extends Error {
  constructor(cause) {
    super(`网络不可用：${cause?.message || cause}`);
    this.retryable = true;
  }
}

export class ApiError extends Error {
  constructor(status, body) {
    const error = body?.error || {};
    super(error.message || `HTTP ${status}`);
    this.status = status;
    this.code = error.code || `http_${status}`;
    this.fields = error.fields || null;
    this.body = body;
    // A fault on the server's side is retried whole, never taken as a refusal.
    this.retryable = status >= 500 || status === 408 || status === 429;
  }
}

export function createApi({ fetch: fetchImpl, base = '', token = () => null }) {
  async function send(method, path, { json, body, headers = {} } = {}) {
    const h = { ...headers };
    const t = await token();
    if (t) h.Authorization = `Bearer ${t}`;
    if (json !== undefined) {
      h['Content-Type'] = 'application/json';
      body = JSON.stringify(json);
    }
    let response;
    try {
      response = await fetchImpl(`${base}/api/v1${path}`, { method, headers: h, body, cache: 'no-store' });
    } catch (err) {
      throw new NetworkError(err);
    }
    return response;
  }

  async function jsonOf(response) {
    const text = await response.text();
    try {
      return text ? JSON.parse(text) : null;
    } catch {
      return null;
    }
  }

  async function call(method, path, options) {
    const response = await send(method, path, options);
    const body = await jsonOf(response);
    if (!response.ok) throw new ApiError(response.status, body);
    return body;
  }

  return {
    send,
    get: (path) => call('GET', path),
    post: (path, json) => call('POST', path, { json }),
    jsonOf,
  };
}
