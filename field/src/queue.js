// The outbox of ops: how they are made, batched in order, and moved on by the server's
// answers. Pure functions over plain objects, so they are tested without a browser.
import { validateData } from './schemas.js';

export const MAX_OPS_PER_BATCH = 100;
// Well under the server's 4 MiB body cap, however long the texts.
export const MAX_BATCH_BYTES = 1024 * 1024;

// pending: to send; held: the server keeps it until its parent arrives; conflict and
// rejected: waiting for the inspector; done: applied (or a duplicate of an applied one).
export const WAITING_FOR_INSPECTOR = new Set(['conflict', 'rejected']);

export class InvalidOp extends Error {
  constructor(entity, fields) {
    super(`${entity}: ${Object.entries(fields).map(([k, v]) => `${k}: ${v.join('; ')}`).join(', ')}`);
    this.fields = fields;
  }
}

const ATTACHMENT_FIELDS = ['signature_attachments', 'photo_attachments', 'evidence_attachments'];

/** The sha256 of every attachment an op names. */
export function attachmentsOf(op) {
  const out = [];
  for (const field of ATTACHMENT_FIELDS) {
    for (const sha of op.data?.[field] || []) if (!out.includes(sha)) out.push(sha);
  }
  return out;
}

/**
 * A new op, checked against client_schema/ first: an op the server would refuse for its
 * shape never enters the queue.
 */
export function makeOp({ entity, id, data, baseVersion = null, now = new Date(), uuid, label = '' }) {
  const fields = validateData(entity, data, { edit: baseVersion !== null });
  if (Object.keys(fields).length) throw new InvalidOp(entity, fields);
  return {
    op_id: uuid(),
    entity,
    id,
    base_version: baseVersion,
    client_time: now.toISOString(),
    data,
    state: 'pending',
    label,
    queued_at: now.toISOString(),
  };
}

/** The op as it goes over the wire. */
export function wire(op) {
  const { op_id, entity, id, base_version, client_time, data } = op;
  return { op_id, entity, id, base_version, client_time, data };
}

/** The next batch: pending ops in queue order, as many as fit. */
export function nextBatch(ops, { maxOps = MAX_OPS_PER_BATCH, maxBytes = MAX_BATCH_BYTES } = {}) {
  const batch = [];
  let bytes = 0;
  for (const op of [...ops].sort((a, b) => a.seq - b.seq)) {
    if (op.state !== 'pending') continue;
    const size = JSON.stringify(wire(op)).length;
    if (batch.length && (batch.length >= maxOps || bytes + size > maxBytes)) break;
    batch.push(op);
    bytes += size;
  }
  return batch;
}

function flatten(messages) {
  if (Array.isArray(messages)) return messages.map(flatten).join('；');
  if (messages && typeof messages === 'object') {
    return Object.entries(messages).map(([k, v]) => `${k}: ${flatten(v)}`).join('；');
  }
  return String(messages);
}

// What the usual refusals mean, in the inspector's words; the server's own text follows.
const REASONS = {
  entry_code_revoked: '二维码已作废（企业已换发新码，请扫描门口的新码或手动查找）',
  entry_code_forged: '二维码校验不通过，可能被篡改',
  entry_code_malformed: '不是本系统的企业二维码',
  entry_code_invalid: '二维码无效',
  attachment_missing: '照片或签名未上传成功',
  not_in_team: '提交人不在检查组内',
  invalid_data: '数据不合规',
  depends_on_rejected: '所依赖的记录被拒绝',
  immutable_record: '已提交的记录不能修改',
  immutable_field: '该字段不能修改',
  unknown_enterprise: '名录中没有该企业',
  enterprise_mismatch: '企业与检查记录不一致',
  deadline_too_far: '整改期限超出允许范围',
  deadline_required: '须填写整改期限',
  stop_too_long: '停产停业期限超出允许范围',
  op_id_reused: '操作编号重复',
  illegal_transition: '隐患当前状态不允许此操作',
};

/** The server's reason for refusing an op, as the inspector reads it. */
export function rejectionReason(errors) {
  if (!errors) return '服务器拒绝了此操作';
  const parts = [];
  if (REASONS[errors.code]) parts.push(REASONS[errors.code]);
  if (errors.message) parts.push(errors.message);
  if (errors.fields && Object.keys(errors.fields).length) parts.push(flatten(errors.fields));
  if (!parts.length) parts.push(flatten(errors));
  return parts.join('：');
}

/**
 * The op after the server's result for it. A result for another op is a bug of the
 * caller's; results come one per op, in order.
 */
export function applyResult(op, result, now = new Date()) {
  if (result.op_id !== op.op_id) throw new Error(`result for ${result.op_id}, not ${op.op_id}`);
  const next = { ...op, attempts: (op.attempts || 0) + 1, answered_at: now.toISOString() };
  const status = result.status === 'duplicate' ? result.original_status || 'applied' : result.status;
  next.server_status = result.status;
  if (status === 'applied') {
    next.state = 'done';
    next.version = result.version ?? null;
    if (result.number) next.number = result.number;
    if (result.card) next.card = result.card;
    if (result.warnings) next.warnings = result.warnings;
  } else if (status === 'held') {
    next.state = 'held';
  } else if (status === 'conflict') {
    next.state = 'conflict';
    next.current = result.current || null;
  } else {
    // rejected (or a duplicate of an op whose original was rejected)
    const code = result.errors?.code || result.code || '';
    if (code === 'attachment_missing' && (op.attachment_retries || 0) < 3) {
      // The upload did not land (or was cleaned up): upload again, then re-send unchanged.
      next.state = 'pending';
      next.attachment_retries = (op.attachment_retries || 0) + 1;
      next.needs_upload = true;
    } else {
      next.state = 'rejected';
      next.errors = result.errors || {};
      next.reason = rejectionReason(result.errors);
    }
  }
  return next;
}

/** Apply a push answer to its batch: one result per op, in order. */
export function applyResults(batch, results, now = new Date()) {
  if (!Array.isArray(results) || results.length !== batch.length) {
    throw new Error(`expected ${batch.length} results, got ${results?.length}`);
  }
  return batch.map((op, i) => applyResult(op, results[i], now));
}

/** What the sync bar says: ops waiting to be sent, held by the server, and to look at. */
export function summary(ops) {
  const counts = { pending: 0, held: 0, conflict: 0, rejected: 0, done: 0 };
  for (const op of ops) counts[op.state] = (counts[op.state] || 0) + 1;
  return { ...counts, waiting: counts.pending + counts.held, attention: counts.conflict + counts.rejected };
}
