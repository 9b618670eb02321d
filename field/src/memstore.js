// The store's interface, kept in memory: what the unit tests and the benchmark's driver use.
// The phone's store (idbstore.js) keeps the same things in IndexedDB.
export class MemoryStore {
  constructor() {
    this.kv = new Map();
    this.ops = new Map();
    this.blobs = new Map();
    this.records = new Map();
    this.seq = 0;
  }
  async getKV(key) { return this.kv.has(key) ? structuredClone(this.kv.get(key)) : null; }
  async setKV(key, value) { this.kv.set(key, structuredClone(value)); }
  async listOps() { return [...this.ops.values()].sort((a, b) => a.seq - b.seq).map((o) => structuredClone(o)); }
  async getOp(opId) { return this.ops.has(opId) ? structuredClone(this.ops.get(opId)) : null; }
  async addOps(ops, records = []) {
    for (const op of ops) this.ops.set(op.op_id, structuredClone({ ...op, seq: ++this.seq }));
    for (const record of records) await this.putRecord(record);
  }
  async putOp(op) { this.ops.set(op.op_id, structuredClone(op)); }
  async replaceOp(oldId, op) {
    const seq = this.ops.get(oldId).seq;
    this.ops.delete(oldId);
    this.ops.set(op.op_id, structuredClone({ ...op, seq }));
  }
  async deleteOp(opId) { this.ops.delete(opId); }
  async putBlob(blob) { this.blobs.set(blob.sha, blob); }
  async getBlob(sha) { return this.blobs.get(sha) || null; }
  async getRecord(entity, id) {
    const r = this.records.get(`${entity}/${id}`);
    return r ? structuredClone(r) : null;
  }
  async putRecord(record) { this.records.set(`${record.entity}/${record.id}`, structuredClone(record)); }
  async listRecords(entity) {
    return [...this.records.values()].filter((r) => r.entity === entity).map((r) => structuredClone(r));
  }
  async applyChanges(changes, cursor) {
    for (const c of changes) {
      const key = `${c.entity}/${c.id}`;
      if (c.deleted) this.records.delete(key);
      else this.records.set(key, { entity: c.entity, id: c.id, version: c.version, data: c.data, local: false });
    }
    this.kv.set('cursor', cursor);
  }
}
