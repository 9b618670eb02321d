// Valid op payloads and a fake service that answers like the real one, for the unit tests.
import { randomUUID, createHash } from 'node:crypto';

export const ME = randomUUID();
export const PARTNER = randomUUID();
export const ENTERPRISE = randomUUID();

export function inspectionData(overrides = {}) {
  return {
    enterprise_id: ENTERPRISE,
    scan_id: null,
    task_id: null,
    kind: 'random',
    started_at: '2024-05-06T09:00:00+08:00',
    ended_at: '2024-05-06T11:00:00+08:00',
    place: '生产车间',
    inspector_ids: [ME, PARTNER],
    items: [{ item: '安全出口畅通', result: 'ok', note: '' }],
    findings: '发现一般隐患1处',
    representative: { name: '张伟', title: '安全科长' },
    signature_attachments: [],
    ...overrides,
  };
}

export function hazardData(inspectionId, overrides = {}) {
  return {
    inspection_id: inspectionId,
    enterprise_id: ENTERPRISE,
    level: 'general',
    description: '配电箱未上锁',
    location: '二号车间',
    legal_basis: '《安全生产法》第三十五条',
    photo_attachments: [],
    fixed_on_spot: false,
    deadline: null,
    ...overrides,
  };
}

export const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

function response(status, body, headers = {}) {
  return new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', ...headers },
  });
}

/**
 * A service in memory with the sync contract's answers: a ledger keyed by op_id,
 * duplicates, versions and conflicts on edits, attachment_missing, resumable uploads.
 * ``faults`` lets a test drop an answer after the work is done, or refuse to connect.
 */
export class FakeService {
  constructor() {
    this.ledger = new Map();
    this.records = new Map();
    this.attachments = new Map(); // sha -> {bytes: Buffer, total}
    this.feed = [];
    this.requests = [];
    this.faults = [];
    this.serial = 0;
    this.fetch = this.fetch.bind(this);
  }

  serverEdit(id, fields) {
    const record = this.records.get(id);
    record.version += 1;
    Object.assign(record.data, fields);
    for (const k of Object.keys(fields)) record.changed[k] = record.version;
    this.feed.push({ entity: record.entity, id, version: record.version, deleted: false, data: { ...record.data } });
  }

  apply(op) {
    const key = JSON.stringify(op);
    if (this.ledger.has(op.op_id)) {
      const before = this.ledger.get(op.op_id);
      if (before.key !== key) return { op_id: op.op_id, status: 'rejected', errors: { code: 'op_id_reused', message: 'op_id reused' } };
      return { ...before.result, status: 'duplicate', original_status: before.result.status };
    }
    let result;
    for (const sha of [...(op.data.photo_attachments || []), ...(op.data.signature_attachments || [])]) {
      const stored = this.attachments.get(sha);
      if (!stored || stored.bytes.length !== stored.total) {
        return { op_id: op.op_id, status: 'rejected', errors: { code: 'attachment_missing', message: `attachment ${sha} missing` } };
      }
    }
    if (op.data.description === 'REFUSE') {
      result = { op_id: op.op_id, status: 'rejected', errors: { code: 'invalid_data', message: '数据不合规', fields: { description: ['不允许'] } } };
    } else if (op.base_version == null) {
      if (op.entity === 'hazard' && !this.records.has(op.data.inspection_id)) {
        result = { op_id: op.op_id, status: 'held', version: null };
      } else {
        const data = { ...op.data };
        if (op.entity === 'document') data.number = `（南开）应急责改〔2024〕${++this.serial}号`;
        this.records.set(op.id, { entity: op.entity, version: 1, data, changed: {} });
        this.feed.push({ entity: op.entity, id: op.id, version: 1, deleted: false, data });
        result = { op_id: op.op_id, status: 'applied', version: 1, ...(data.number ? { number: data.number } : {}) };
      }
    } else {
      const record = this.records.get(op.id);
      const clash = Object.keys(op.data).filter((k) => (record.changed[k] || 0) > op.base_version);
      if (clash.length) {
        result = { op_id: op.op_id, status: 'conflict', version: null, current: { ...record.data, version: record.version }, errors: { code: 'conflict', fields: clash } };
      } else {
        record.version += 1;
        Object.assign(record.data, op.data);
        for (const k of Object.keys(op.data)) record.changed[k] = record.version;
        this.feed.push({ entity: op.entity, id: op.id, version: record.version, deleted: false, data: { ...record.data } });
        result = { op_id: op.op_id, status: 'applied', version: record.version };
      }
    }
    this.ledger.set(op.op_id, { key, result });
    return result;
  }

  async fetch(url, init = {}) {
    const { pathname, searchParams } = new URL(url, 'http://phone');
    const method = init.method || 'GET';
    this.requests.push({ method, pathname, headers: init.headers || {} });
    const fault = this.faults.shift();
    if (fault === 'offline') throw new TypeError('Failed to fetch');
    let answer;
    if (pathname === '/api/v1/sync/push') {
      const body = JSON.parse(init.body);
      answer = response(200, { results: body.ops.map((op) => this.apply(op)), cursor: body.cursor || '0' });
    } else if (pathname === '/api/v1/sync/pull') {
      const after = Number(searchParams.get('cursor') || 0);
      const limit = Number(searchParams.get('limit'));
      const changes = this.feed.slice(after, after + limit);
      answer = response(200, { changes, next_cursor: String(after + changes.length), has_more: after + changes.length < this.feed.length });
    } else if (pathname.startsWith('/api/v1/sync/ops/')) {
      const opId = pathname.split('/').pop();
      const entry = this.ledger.get(opId);
      answer = response(200, entry.result);
    } else if (pathname.startsWith('/api/v1/attachments/')) {
      answer = this.attachment(method, pathname.split('/').pop(), init);
    } else {
      answer = response(404, { error: { code: 'not_found', message: 'no' } });
    }
    if (fault === 'drop-answer') throw new TypeError('connection reset');
    if (fault === 'server-error') return response(503, { error: { code: 'unavailable', message: 'busy' } });
    return answer;
  }

  attachment(method, sha, init) {
    const stored = this.attachments.get(sha);
    if (method === 'HEAD') {
      if (stored && stored.bytes.length === stored.total) return response(200);
      return response(404, undefined, { 'Upload-Offset': String(stored ? stored.bytes.length : 0) });
    }
    const body = Buffer.from(init.body);
    const range = init.headers['Content-Range'];
    if (!range) {
      if (sha256(body) !== sha) return response(422, { error: { code: 'hash_mismatch', message: 'hash' } });
      this.attachments.set(sha, { bytes: body, total: body.length });
      return response(201, {});
    }
    const [, start, end, total] = /bytes (\d+)-(\d+)\/(\d+)/.exec(range).map(Number);
    const have = stored || { bytes: Buffer.alloc(0), total };
    if (start !== have.bytes.length) return response(409, { error: { code: 'offset_mismatch', message: 'offset' } }, { 'Upload-Offset': String(have.bytes.length) });
    have.bytes = Buffer.concat([have.bytes, body.subarray(0, end - start + 1)]);
    this.attachments.set(sha, have);
    this.chunks = (this.chunks || 0) + 1;
    if (have.bytes.length < total) return response(202, {}, { 'Upload-Offset': String(have.bytes.length) });
    if (sha256(have.bytes) !== sha) {
      this.attachments.delete(sha);
      return response(422, { error: { code: 'hash_mismatch', message: 'hash' } });
    }
    return response(201, {}, { 'Upload-Offset': String(total) });
  }
}
