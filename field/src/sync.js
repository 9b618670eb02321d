// The sync engine: uploads, then the outbox pushed in order in batches, then held ops asked
// about, then the pull. Any failure of the network or the server stops the round with the
// ops untouched: the next round re-sends the same batch with the same op ids, which the
// server answers as duplicates.
import { applyResults, attachmentsOf, nextBatch, summary, wire } from './queue.js';
import { resolveConflict } from './merge.js';
import { uploadAttachment } from './uploads.js';
import { SCHEMA_VERSION } from './schemas.js';

export const PULL_LIMIT = 500;

export class SyncEngine {
  constructor({ api, store, deviceId, now = () => new Date(), uuid, onChange = () => {} }) {
    Object.assign(this, { api, store, deviceId, now, uuid, onChange });
    this.running = null;
  }

  /** One round; concurrent calls share it. Resolves with what happened. */
  sync() {
    if (!this.running) {
      this.running = this._round().finally(() => {
        this.running = null;
      });
    }
    return this.running;
  }

  async _round() {
    const report = { pushed: 0, uploaded: 0, pulled: 0, error: null };
    await this.store.setKV('syncing', true);
    this.onChange();
    try {
      await this.pushAll(report);
      await this.settleHeld();
      await this.pullAll(report);
      await this.store.setKV('lastSync', this.now().toISOString());
      await this.store.setKV('lastError', null);
    } catch (err) {
      report.error = err;
      if (err.status === 401) await this.store.setKV('authExpired', true);
      await this.store.setKV('lastError', { message: err.message, at: this.now().toISOString() });
    } finally {
      await this.store.setKV('syncing', false);
      this.onChange();
    }
    return report;
  }

  async ensureUploaded(sha, force = false) {
    const blob = await this.store.getBlob(sha);
    if (!blob || (blob.uploaded && !force)) return 0;
    const sent = await uploadAttachment(this.api, sha, blob.data, blob.type);
    await this.store.putBlob({ ...blob, uploaded: true });
    return sent;
  }

  async pushAll(report) {
    // Each round either settles ops or retries an attachment (at most three times an op).
    for (let rounds = 0; rounds < 1000; rounds++) {
      const batch = nextBatch(await this.store.listOps());
      if (!batch.length) return;
      for (const op of batch) {
        for (const sha of attachmentsOf(op)) report.uploaded += await this.ensureUploaded(sha, op.needs_upload);
      }
      const cursor = await this.store.getKV('cursor');
      const answer = await this.api.post('/sync/push', {
        device_id: this.deviceId,
        schema_version: SCHEMA_VERSION,
        cursor: cursor || null,
        ops: batch.map(wire),
      });
      const settled = applyResults(batch, answer.results, this.now());
      for (const op of settled) {
        await this.store.putOp(op);
        if (op.state === 'done') await this.recordApplied(op);
      }
      report.pushed += batch.length;
      this.onChange();
    }
  }

  /** Carry what the server answered (version, number) into the local copy at once. */
  async recordApplied(op) {
    const record = await this.store.getRecord(op.entity, op.id);
    if (!record) return;
    const data = { ...record.data };
    if (op.number) data.number = op.number;
    await this.store.putRecord({ ...record, data, version: op.version ?? record.version, local: false });
  }

  async settleHeld() {
    for (const op of await this.store.listOps()) {
      if (op.state !== 'held') continue;
      const result = await this.api.get(`/sync/ops/${op.op_id}`);
      if (result.status === 'held') continue;
      const [settled] = applyResults([op], [{ ...result, op_id: op.op_id }], this.now());
      await this.store.putOp(settled);
      if (settled.state === 'done') await this.recordApplied(settled);
    }
  }

  async pullAll(report) {
    for (let pages = 0; pages < 10000; pages++) {
      const cursor = await this.store.getKV('cursor');
      const query = new URLSearchParams({ limit: String(PULL_LIMIT) });
      if (cursor) query.set('cursor', cursor);
      const page = await this.api.get(`/sync/pull?${query}`);
      await this.store.applyChanges(page.changes, page.next_cursor);
      report.pulled += page.changes.length;
      if (!page.has_more) return;
    }
  }

  /**
   * The inspector's answer to a conflict: a new op (a new op id, the new base version) with
   * the merged fields, queued where the old one stood; or, when the server's version is
   * kept everywhere, the old op closed as resolved.
   */
  async resolve(opId, choice = {}) {
    const op = await this.store.getOp(opId);
    if (!op || op.state !== 'conflict') throw new Error('no such conflict');
    const merged = resolveConflict(op, op.current, choice);
    if (!merged) {
      await this.store.putOp({ ...op, state: 'done', resolution: 'theirs' });
      return null;
    }
    const next = {
      ...op,
      op_id: this.uuid(),
      base_version: merged.base_version,
      data: merged.data,
      client_time: this.now().toISOString(),
      state: 'pending',
      current: null,
      replaces: op.op_id,
    };
    await this.store.replaceOp(op.op_id, next);
    const record = await this.store.getRecord(op.entity, op.id);
    if (record) await this.store.putRecord({ ...record, data: { ...op.current, ...merged.data } });
    this.onChange();
    return next;
  }

  async status() {
    return {
      ...summary(await this.store.listOps()),
      lastSync: await this.store.getKV('lastSync'),
      lastError: await this.store.getKV('lastError'),
      syncing: Boolean(this.running),
    };
  }
}
