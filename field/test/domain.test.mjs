import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { daysLeft, enterpriseIdFromCode, myOpenHazards, myTasks, provisionalNumber, searchDirectory, visitOps } from '../src/domain.js';

function token(uuid, version = 1) {
  const bytes = [1, ...Buffer.from(uuid.replace(/-/g, ''), 'hex'), version, ...Array(12).fill(7)];
  return Buffer.from(bytes).toString('base64url');
}

test('a gate code names its enterprise without the network', () => {
  const id = randomUUID();
  assert.equal(enterpriseIdFromCode(`https://enforce.example.cn/e/${token(id)}`), id);
  assert.equal(enterpriseIdFromCode(` http://127.0.0.1:5000/e/${token(id, 3)}\n`), id);
});

test('text that is not a gate code names nobody', () => {
  assert.equal(enterpriseIdFromCode('https://example.com/'), null);
  assert.equal(enterpriseIdFromCode('https://x/e/abc'), null);
  const bad = Buffer.from([2, ...Array(30).fill(1)]).toString('base64url');
  assert.equal(enterpriseIdFromCode(`https://x/e/${bad}`), null);
  assert.equal(enterpriseIdFromCode(null), null);
});

test('my tasks are the open ones I am assigned, the soonest first', () => {
  const me = randomUUID();
  const tasks = [
    { id: '1', data: { inspector_ids: [me], status: 'open', due_date: '2024-06-10' } },
    { id: '2', data: { inspector_ids: [me], status: 'completed', due_date: '2024-06-01' } },
    { id: '3', data: { inspector_ids: ['x'], status: 'open', due_date: '2024-06-01' } },
    { id: '4', data: { inspector_ids: [me], status: 'open', due_date: '2024-06-02' } },
  ];
  assert.deepEqual(myTasks(tasks, me).map((t) => t.id), ['4', '1']);
});

test('my open hazards come from inspections I took part in, nearest deadline first', () => {
  const me = randomUUID();
  const inspections = [{ id: 'a', data: { inspector_ids: [me, 'x'] } }, { id: 'b', data: { inspector_ids: ['x', 'y'] } }];
  const hazards = [
    { id: 'h1', data: { inspection_id: 'a', status: 'ordered', deadline: '2024-07-01' } },
    { id: 'h2', data: { inspection_id: 'a', status: 'closed', deadline: '2024-05-01' } },
    { id: 'h3', data: { inspection_id: 'b', status: 'ordered', deadline: '2024-05-01' } },
    { id: 'h4', data: { inspection_id: 'a', deadline: '2024-06-01' } },
  ];
  assert.deepEqual(myOpenHazards(hazards, inspections, me).map((h) => h.id), ['h4', 'h1']);
  assert.equal(daysLeft('2024-06-01', '2024-06-03'), -2);
});

test('provisional numbers differ per phone and per document', () => {
  assert.notEqual(provisionalNumber('phone-abc123', 1), provisionalNumber('phone-abc123', 2));
  assert.notEqual(provisionalNumber('phone-abc123', 1), provisionalNumber('phone-xyz789', 1));
  assert.ok(provisionalNumber('web-ÄÖ-a1b2c3d4', 12).length <= 60);
});

test('the directory is searched by every word', () => {
  const list = [
    { id: '1', data: { name: '天津宏达机械制造有限公司', uscc: '91120104MA05K', address: '南开区红旗路' } },
    { id: '2', data: { name: '天津渤海化工有限公司', uscc: '91120104MA06L', address: '南开区' } },
  ];
  assert.deepEqual(searchDirectory(list, '天津 机械').map((e) => e.id), ['1']);
  assert.deepEqual(searchDirectory(list, 'ma06l').map((e) => e.id), ['2']);
  assert.deepEqual(searchDirectory(list, '  '), []);
});

test('a visit becomes its inspection, then its hazards, then its documents', () => {
  const visit = {
    id: 'v',
    enterpriseName: '某公司',
    inspection: {},
    hazards: [{ id: 'h', data: { description: '配电箱未上锁' } }],
    documents: [{ id: 'd', data: { type: 'rectification_order', provisional_number: '临-1' } }],
  };
  assert.deepEqual(visitOps(visit).map((o) => o.entity), ['inspection', 'hazard', 'document']);
});
