import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { applyResult, applyResults, attachmentsOf, InvalidOp, makeOp, nextBatch, rejectionReason, summary } from '../src/queue.js';
import { validateData } from '../src/schemas.js';
import { hazardData, inspectionData } from './fixtures.mjs';

const uuid = randomUUID;

function queued(ops) {
  return ops.map((op, i) => ({ ...op, seq: i + 1 }));
}

test('an op whose data breaks the checked-in schema never enters the queue', () => {
  assert.throws(
    () => makeOp({ entity: 'inspection', id: uuid(), data: inspectionData({ inspector_ids: [uuid()] }), uuid }),
    (err) => err instanceof InvalidOp && 'inspector_ids' in err.fields,
  );
  assert.throws(
    () => makeOp({ entity: 'hazard', id: uuid(), data: { ...hazardData(uuid()), level: 'serious' }, uuid }),
    (err) => err instanceof InvalidOp && 'level' in err.fields,
  );
});

test('a missing required field is named in the errors', () => {
  const data = hazardData(uuid());
  delete data.legal_basis;
  assert.ok('legal_basis' in validateData('hazard', data));
});

test('an edit is checked against the edit schema: only changeable fields', () => {
  const edit = makeOp({ entity: 'hazard', id: uuid(), baseVersion: 2, data: { description: '新描述' }, uuid });
  assert.equal(edit.base_version, 2);
  assert.throws(() => makeOp({ entity: 'hazard', id: uuid(), baseVersion: 2, data: { level: 'major' }, uuid }), InvalidOp);
});

test('batches keep queue order and skip ops waiting for the inspector or the server', () => {
  const ops = queued(
    Array.from({ length: 5 }, () => makeOp({ entity: 'inspection', id: uuid(), data: inspectionData(), uuid })),
  );
  ops[1].state = 'rejected';
  ops[2].state = 'held';
  const shuffled = [ops[4], ops[0], ops[3], ops[2], ops[1]];
  assert.deepEqual(nextBatch(shuffled).map((o) => o.seq), [1, 4, 5]);
  assert.deepEqual(nextBatch(shuffled, { maxOps: 2 }).map((o) => o.seq), [1, 4]);
});

test('a batch never exceeds its byte budget but always carries at least one op', () => {
  const ops = queued(
    Array.from({ length: 3 }, () => makeOp({ entity: 'inspection', id: uuid(), data: inspectionData({ findings: 'x'.repeat(3000) }), uuid })),
  );
  assert.equal(nextBatch(ops, { maxBytes: 100 }).length, 1);
  assert.equal(nextBatch(ops, { maxBytes: 8000 }).length, 2);
});

test('results move each op on: applied and duplicates are done, the others wait', () => {
  const batch = queued(Array.from({ length: 5 }, () => ({ op_id: uuid(), entity: 'hazard', id: uuid(), data: {}, state: 'pending' })));
  const settled = applyResults(batch, [
    { op_id: batch[0].op_id, status: 'applied', version: 1, number: '（南开）应急责改〔2024〕3号' },
    { op_id: batch[1].op_id, status: 'duplicate', original_status: 'applied', version: 1 },
    { op_id: batch[2].op_id, status: 'held' },
    { op_id: batch[3].op_id, status: 'conflict', current: { version: 4, description: 'x' }, errors: { code: 'conflict', fields: ['description'] } },
    { op_id: batch[4].op_id, status: 'rejected', errors: { code: 'not_in_team', message: 'an inspector records only inspections they take part in', fields: { inspector_ids: ['must include you'] } } },
  ]);
  assert.deepEqual(settled.map((o) => o.state), ['done', 'done', 'held', 'conflict', 'rejected']);
  assert.equal(settled[0].number, '（南开）应急责改〔2024〕3号');
  assert.equal(settled[3].current.version, 4);
  assert.match(settled[4].reason, /take part in/);
  assert.match(settled[4].reason, /must include you/);
});

test('a duplicate of a held op stays held', () => {
  const op = { op_id: uuid(), state: 'pending', data: {} };
  assert.equal(applyResult(op, { op_id: op.op_id, status: 'duplicate', original_status: 'held' }).state, 'held');
});

test('a missing attachment sends the op back to upload, three times at most, then shows it', () => {
  let op = { op_id: uuid(), state: 'pending', data: { photo_attachments: ['a'.repeat(64)] } };
  const missing = { op_id: op.op_id, status: 'rejected', errors: { code: 'attachment_missing', message: 'upload it first' } };
  for (let i = 0; i < 3; i++) {
    op = applyResult(op, missing);
    assert.equal(op.state, 'pending');
    assert.equal(op.needs_upload, true);
  }
  op = applyResult(op, missing);
  assert.equal(op.state, 'rejected');
  assert.equal(op.reason, '照片或签名未上传成功：upload it first');
});

test('results must match the batch one for one', () => {
  const batch = [{ op_id: uuid(), state: 'pending' }];
  assert.throws(() => applyResults(batch, []));
  assert.throws(() => applyResults(batch, [{ op_id: uuid(), status: 'applied' }]));
});

test('attachments of every kind are found once each', () => {
  const a = 'a'.repeat(64);
  const b = 'b'.repeat(64);
  assert.deepEqual(attachmentsOf({ data: { signature_attachments: [a], photo_attachments: [b, a] } }), [a, b]);
  assert.deepEqual(attachmentsOf({ data: { evidence_attachments: [b] } }), [b]);
});

test('the summary counts what waits and what needs the inspector', () => {
  const s = summary([{ state: 'pending' }, { state: 'held' }, { state: 'rejected' }, { state: 'conflict' }, { state: 'done' }]);
  assert.equal(s.waiting, 2);
  assert.equal(s.attention, 2);
  assert.equal(s.done, 1);
});

test('a rejection without a message still says something', () => {
  assert.match(rejectionReason(null), /拒绝/);
  assert.equal(rejectionReason({ code: 'x', fields: { deadline: ['too far'] } }), 'deadline: too far');
});

test('a known refusal is explained in Chinese before the server text', () => {
  const reason = rejectionReason({ code: 'entry_code_revoked', message: 'this code was replaced' });
  assert.ok(reason.startsWith('二维码已作废'));
  assert.ok(reason.endsWith('this code was replaced'));
});
