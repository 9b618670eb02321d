// The phone's store in IndexedDB: the outbox, photos and signatures, the pulled records,
// settings. The same interface as MemoryStore.
import { openDB } from 'idb';

const NAME = 'field-app';

export async function openStore() {
  const db = await openDB(NAME, 1, {
    upgrade(db) {
      db.createObjectStore('kv');
      const ops = db.createObjectStore('ops', { keyPath: 'op_id' });
      ops.createIndex('seq', 'seq', { unique: true });
      db.createObjectStore('blobs', { keyPath: 'sha' });
      const records = db.createObjectStore('records', { keyPath: ['entity', 'id'] });
      records.createIndex('entity', 'entity');
      db.createObjectStore('meta');
    },
  });
  return new IdbStore(db);
}

export class IdbStore {
  constructor(db) {
    this.db = db;
  }
  async getKV(key) { return (await this.db.get('kv', key)) ?? null; }
  async setKV(key, value) { await this.db.put('kv', value, key); }
  async listOps() { return this.db.getAllFromIndex('ops', 'seq'); }
  async getOp(opId) { return (await this.db.get('ops', opId)) ?? null; }
  /** Queue ops (and the local copies of their records) in one transaction. */
  async addOps(ops, records = []) {
    const tx = this.db.transaction(['ops', 'meta', 'records'], 'readwrite');
    let seq = (await tx.objectStore('meta').get('seq')) || 0;
    for (const op of ops) await tx.objectStore('ops').put({ ...op, seq: ++seq });
    await tx.objectStore('meta').put(seq, 'seq');
    for (const record of records) await tx.objectStore('records').put(record);
    await tx.done;
  }
  async putOp(op) { await this.db.put('ops', op); }
  async replaceOp(oldId, op) {
    const tx = this.db.transaction('ops', 'readwrite');
    const old = await tx.store.get(oldId);
    await tx.store.delete(oldId);
    await tx.store.put({ ...op, seq: old.seq });
    await tx.done;
  }
  async deleteOp(opId) { await this.db.delete('ops', opId); }
  async putBlob(blob) { await this.db.put('blobs', blob); }
  async getBlob(sha) { return (await this.db.get('blobs', sha)) ?? null; }
  async getRecord(entity, id) { return (await this.db.get('records', [entity, id])) ?? null; }
  async putRecord(record) { await this.db.put('records', record); }
  async listRecords(entity) { return this.db.getAllFromIndex('records', 'entity', entity); }
  /** A pulled page and its cursor, together: a phone closed midway pulls the page again. */
  async applyChanges(changes, cursor) {
    const tx = this.db.transaction(['records', 'kv'], 'readwrite');
    const records = tx.objectStore('records');
    for (const c of changes) {
      if (c.deleted) records.delete([c.entity, c.id]);
      else records.put({ entity: c.entity, id: c.id, version: c.version, data: c.data, local: false });
    }
    tx.objectStore('kv').put(cursor, 'cursor');
    await tx.done;
  }
  /** Forget everything but the device id (logging out of a phone handed over). */
  async clearAll() {
    for (const name of ['kv', 'ops', 'blobs', 'records', 'meta']) await this.db.clear(name);
  }
}
