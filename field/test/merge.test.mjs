import { test } from 'node:test';
import assert from 'node:assert/strict';
import { conflictFields, mergeValue, resolveConflict } from '../src/merge.js';

const op = { data: { description: '配电箱未上锁（已补充）', photo_attachments: ['a', 'b'] } };
const current = { version: 5, description: '配电箱未上锁，无警示标识', photo_attachments: ['a', 'c'], location: '二号车间' };

test('both versions of every field the edit changes are shown', () => {
  const fields = conflictFields(op, current);
  assert.deepEqual(fields.map((f) => f.name), ['description', 'photo_attachments']);
  assert.equal(fields[0].mine, '配电箱未上锁（已补充）');
  assert.equal(fields[0].theirs, '配电箱未上锁，无警示标识');
  assert.ok(fields.every((f) => f.differs));
});

test('a one-tap merge keeps both sides photos and the inspector text, against the new version', () => {
  const merged = resolveConflict(op, current);
  assert.equal(merged.base_version, 5);
  assert.equal(merged.data.description, '配电箱未上锁（已补充）');
  assert.deepEqual(merged.data.photo_attachments, ['a', 'c', 'b']);
});

test('a field kept as the server has it is not sent again', () => {
  const merged = resolveConflict(op, current, { description: 'theirs' });
  assert.deepEqual(Object.keys(merged.data), ['photo_attachments']);
});

test('keeping the server version everywhere leaves nothing to send', () => {
  assert.equal(resolveConflict(op, current, { description: 'theirs', photo_attachments: 'theirs' }), null);
});

test('merging lists never repeats an item', () => {
  assert.deepEqual(mergeValue(['a', 'b'], ['b', 'c']), ['b', 'c', 'a']);
  assert.equal(mergeValue('mine', 'theirs'), 'mine');
});

test('a conflict without the server record cannot be merged', () => {
  assert.throws(() => resolveConflict(op, null));
});
