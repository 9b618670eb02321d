import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { createApi } from '../src/api.js';
import { makeOp } from '../src/queue.js';
import { MemoryStore } from '../src/memstore.js';
import { SyncEngine } from '../src/sync.js';
import { CHUNK_BYTES, uploadAttachment } from '../src/uploads.js';
import { FakeService, hazardData, inspectionData, sha256 } from './fixtures.mjs';

const uuid = randomUUID;

function phone(service = new FakeService()) {
  const store = new MemoryStore();
  const api = createApi({ fetch: service.fetch, base: 'http://server', token: () => 'token' });
  const engine = new SyncEngine({ api, store, deviceId: 'phone-1', uuid });
  return { service, store, api, engine };
}

async function queue(store, ...ops) {
  await store.addOps(ops);
  return ops;
}

function inspectionOp(overrides = {}) {
  return makeOp({ entity: 'inspection', id: uuid(), data: inspectionData(overrides), uuid });
}

test('a round pushes the outbox in order and pulls the records back', async () => {
  const { service, store, engine } = phone();
  const visit = inspectionOp();
  const hazard = makeOp({ entity: 'hazard', id: uuid(), data: hazardData(visit.id), uuid });
  await queue(store, visit, hazard);
  const report = await engine.sync();
  assert.equal(report.error, null);
  assert.deepEqual((await store.listOps()).map((o) => o.state), ['done', 'done']);
  assert.equal((await store.getRecord('hazard', hazard.id)).version, 1);
  assert.ok(await store.getKV('lastSync'));
  assert.equal(service.ledger.size, 2);
});

test('a batch whose answer was lost is sent again with the same op ids and lands once', async () => {
  const { service, store, engine } = phone();
  const ops = await queue(store, inspectionOp(), inspectionOp(), inspectionOp());
  service.faults.push('drop-answer');
  const first = await engine.sync();
  assert.ok(first.error, 'the lost answer is reported');
  assert.equal(service.ledger.size, 3, 'the server took the batch');
  assert.deepEqual((await store.listOps()).map((o) => o.state), ['pending', 'pending', 'pending']);

  const second = await engine.sync();
  assert.equal(second.error, null);
  const pushes = service.requests.filter((r) => r.pathname === '/api/v1/sync/push');
  assert.equal(pushes.length, 2);
  const stored = await store.listOps();
  assert.deepEqual(stored.map((o) => o.op_id), ops.map((o) => o.op_id));
  assert.deepEqual(stored.map((o) => o.server_status), ['duplicate', 'duplicate', 'duplicate']);
  assert.equal(service.records.size, 3);
  assert.equal(await store.getKV('lastError'), null);
});

test('a server fault leaves the outbox as it was for the next round', async () => {
  const { service, store, engine } = phone();
  await queue(store, inspectionOp());
  service.faults.push('server-error');
  const report = await engine.sync();
  assert.equal(report.error.status, 503);
  assert.equal((await store.listOps())[0].state, 'pending');
  assert.match((await store.getKV('lastError')).message, /busy/);
});

test('offline, nothing is lost and the error is kept for the sync bar', async () => {
  const { service, store, engine } = phone();
  await queue(store, inspectionOp());
  service.faults.push('offline');
  const report = await engine.sync();
  assert.ok(report.error.retryable);
  assert.equal((await store.listOps())[0].state, 'pending');
  assert.ok(await store.getKV('lastError'));
});

test('photos are uploaded before the op that names them', async () => {
  const { service, store, engine } = phone();
  const photo = randomBytes(1000);
  const sha = sha256(photo);
  await store.putBlob({ sha, data: photo, type: 'image/jpeg', uploaded: false });
  const visit = inspectionOp({ signature_attachments: [sha] });
  await queue(store, visit);
  await engine.sync();
  assert.equal((await store.listOps())[0].state, 'done');
  assert.equal((await store.getBlob(sha)).uploaded, true);
  const order = service.requests.map((r) => `${r.method} ${r.pathname.split('/').slice(3, 4)}`);
  assert.ok(order.indexOf('PUT attachments') < order.indexOf('POST sync'));
});

test('a large photo cut off midway resumes from the offset the server reports', async () => {
  const { service, api } = phone();
  const photo = randomBytes(CHUNK_BYTES * 3 + 17);
  const sha = sha256(photo);
  // The first two chunks arrived before the link dropped.
  service.attachments.set(sha, { bytes: photo.subarray(0, CHUNK_BYTES * 2), total: photo.length });
  const sent = await uploadAttachment(api, sha, photo, 'image/jpeg');
  assert.equal(sent, CHUNK_BYTES + 17);
  assert.ok(service.attachments.get(sha).bytes.equals(photo));
  const ranges = service.requests.filter((r) => r.method === 'PUT').map((r) => r.headers['Content-Range']);
  assert.deepEqual(ranges, [`bytes ${CHUNK_BYTES * 2}-${CHUNK_BYTES * 3 - 1}/${photo.length}`, `bytes ${CHUNK_BYTES * 3}-${photo.length - 1}/${photo.length}`]);
});

test('an upload told it is at the wrong offset goes on from the server offset', async () => {
  const { service } = phone();
  const photo = randomBytes(CHUNK_BYTES * 2 + 5);
  const sha = sha256(photo);
  // HEAD says nothing arrived, then a chunk lands meanwhile (a retry that did get through).
  const realFetch = service.fetch;
  let sneaked = false;
  const api2 = createApi({
    base: 'http://server',
    token: () => 't',
    fetch: async (url, init) => {
      if (!sneaked && init.method === 'PUT') {
        sneaked = true;
        service.attachments.set(sha, { bytes: photo.subarray(0, CHUNK_BYTES), total: photo.length });
        init = { ...init, headers: { ...init.headers, 'Content-Range': `bytes 0-${CHUNK_BYTES - 1}/${photo.length}` } };
      }
      return realFetch(url, init);
    },
  });
  await uploadAttachment(api2, sha, photo, 'image/jpeg');
  assert.ok(service.attachments.get(sha).bytes.equals(photo));
});

test('an attachment the server lost is uploaded again and the op re-sent unchanged', async () => {
  const { service, store, engine } = phone();
  const photo = randomBytes(300);
  const sha = sha256(photo);
  await store.putBlob({ sha, data: photo, type: 'image/png', uploaded: true });
  const visit = await queue(store, inspectionOp({ signature_attachments: [sha] }));
  await engine.sync();
  const [op] = await store.listOps();
  assert.equal(op.state, 'done');
  assert.equal(op.op_id, visit[0].op_id);
  assert.ok(service.attachments.has(sha));
});

test('a held op is asked about later and settles when its parent arrives', async () => {
  const { service, store, engine } = phone();
  const parentId = uuid();
  const hazard = makeOp({ entity: 'hazard', id: uuid(), data: hazardData(parentId), uuid });
  await queue(store, hazard);
  await engine.sync();
  assert.equal((await store.getOp(hazard.op_id)).state, 'held');
  assert.equal((await engine.status()).waiting, 1);
  // Another device's inspection arrives; the server applies the held op by itself.
  service.records.set(parentId, { entity: 'inspection', version: 1, data: {}, changed: {} });
  service.ledger.set(hazard.op_id, { ...service.ledger.get(hazard.op_id), result: { op_id: hazard.op_id, status: 'applied', version: 1 } });
  await engine.sync();
  assert.equal((await store.getOp(hazard.op_id)).state, 'done');
});

test('a rejected op stays in the outbox with the server reason and does not block the others', async () => {
  const { store, engine } = phone();
  const visit = inspectionOp();
  const bad = makeOp({ entity: 'hazard', id: uuid(), data: hazardData(visit.id, { description: 'REFUSE' }), uuid });
  const good = makeOp({ entity: 'hazard', id: uuid(), data: hazardData(visit.id), uuid });
  await queue(store, visit, bad, good);
  await engine.sync();
  const ops = await store.listOps();
  assert.deepEqual(ops.map((o) => o.state), ['done', 'rejected', 'done']);
  assert.match(ops[1].reason, /数据不合规/);
  assert.match(ops[1].reason, /不允许/);
  // It is not sent again by itself.
  await engine.sync();
  assert.equal((await store.getOp(bad.op_id)).attempts, 1);
  assert.equal((await engine.status()).attention, 1);
});

test('a conflict is merged with one tap and re-sent against the server version', async () => {
  const { service, store, engine } = phone();
  const visit = inspectionOp();
  const hazard = makeOp({ entity: 'hazard', id: uuid(), data: hazardData(visit.id), uuid });
  await queue(store, visit, hazard);
  await engine.sync();
  // The office changes the description meanwhile; the phone edits it too, from version 1.
  service.serverEdit(hazard.id, { description: '办公室修改' });
  const edit = makeOp({ entity: 'hazard', id: hazard.id, baseVersion: 1, data: { description: '现场补充' }, uuid });
  await queue(store, edit);
  await engine.sync();
  const conflict = await store.getOp(edit.op_id);
  assert.equal(conflict.state, 'conflict');
  assert.equal(conflict.current.description, '办公室修改');

  const resent = await engine.resolve(edit.op_id);
  assert.notEqual(resent.op_id, edit.op_id);
  assert.equal(resent.base_version, 2);
  await engine.sync();
  assert.equal((await store.getOp(resent.op_id)).state, 'done');
  assert.equal(await store.getOp(edit.op_id), null);
  assert.equal(service.records.get(hazard.id).data.description, '现场补充');
  assert.equal((await store.getRecord('hazard', hazard.id)).data.description, '现场补充');
});

test('keeping the server version closes the conflict without sending anything', async () => {
  const { service, store, engine } = phone();
  const visit = inspectionOp();
  const hazard = makeOp({ entity: 'hazard', id: uuid(), data: hazardData(visit.id), uuid });
  await queue(store, visit, hazard);
  await engine.sync();
  service.serverEdit(hazard.id, { description: '办公室修改' });
  const edit = makeOp({ entity: 'hazard', id: hazard.id, baseVersion: 1, data: { description: '现场补充' }, uuid });
  await queue(store, edit);
  await engine.sync();
  const before = service.ledger.size;
  assert.equal(await engine.resolve(edit.op_id, { description: 'theirs' }), null);
  await engine.sync();
  assert.equal(service.ledger.size, before);
  assert.equal((await store.getOp(edit.op_id)).resolution, 'theirs');
});

test('document numbers the server gives reach the local copy', async () => {
  const { store, engine } = phone();
  const visit = inspectionOp();
  const doc = makeOp({
    entity: 'document',
    id: uuid(),
    uuid,
    data: {
      type: 'rectification_order',
      inspection_id: visit.id,
      hazard_ids: [],
      issued_at: '2024-05-06T10:00:00+08:00',
      provisional_number: '临-0001',
      deadline: '2024-06-01',
    },
  });
  await queue(store, visit, doc);
  await store.putRecord({ entity: 'document', id: doc.id, version: null, data: doc.data, local: true });
  await engine.sync();
  assert.equal((await store.getOp(doc.op_id)).number, '（南开）应急责改〔2024〕1号');
  assert.equal((await store.getRecord('document', doc.id)).data.number, '（南开）应急责改〔2024〕1号');
});

test('concurrent sync calls share one round', async () => {
  const { service, store, engine } = phone();
  await queue(store, inspectionOp());
  await Promise.all([engine.sync(), engine.sync(), engine.sync()]);
  assert.equal(service.requests.filter((r) => r.pathname === '/api/v1/sync/push').length, 1);
});

test('a pull pages until the server has no more and keeps the cursor', async () => {
  const { service, store, engine } = phone();
  for (let i = 0; i < 1203; i++) service.feed.push({ entity: 'enterprise', id: uuid(), version: 1, deleted: false, data: { name: `企业${i}` } });
  const report = await engine.sync();
  assert.equal(report.pulled, 1203);
  assert.equal((await store.listRecords('enterprise')).length, 1203);
  assert.equal(await store.getKV('cursor'), '1203');
});

test('an expired token is remembered so the phone asks to log in again, outbox kept', async () => {
  const store = new MemoryStore();
  const api = createApi({
    base: 'http://server',
    token: () => 't',
    fetch: async () => new Response(JSON.stringify({ error: { code: 'unauthorized', message: 'token expired' } }), { status: 401 }),
  });
  const engine = new SyncEngine({ api, store, deviceId: 'p', uuid });
  await queue(store, inspectionOp());
  await engine.sync();
  assert.equal(await store.getKV('authExpired'), true);
  assert.equal((await store.listOps()).length, 1);
  assert.equal((await store.listOps())[0].state, 'pending');
});
