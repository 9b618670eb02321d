// What the screens compute from the records: gate codes read offline, my tasks and open
// hazards, the ops one visit becomes, provisional document numbers. Pure.

export const DOC_TYPES = {
  onsite_measures: '现场处理措施决定书',
  rectification_order: '责令限期整改指令书',
  reinspection_opinion: '整改复查意见书',
  inspection_record: '现场检查记录',
};

export const HAZARD_STATUS = {
  found: '待处理',
  ordered: '限期整改中',
  reported: '已报整改待复查',
  pending_sign_off: '待领导销号',
  closed: '已销号',
};

export const MEASURES = {
  immediate_fix: '立即排除',
  withdraw_workers: '从危险区域撤出作业人员',
  stop_production: '责令暂时停产停业',
  stop_use: '停止使用相关设施设备',
};

export const CHECKLIST = [
  '安全生产责任制落实情况',
  '安全生产教育培训及持证上岗',
  '安全出口、疏散通道畅通',
  '消防设施器材完好',
  '电气线路及配电箱防护',
  '特种设备定期检验',
  '危险作业审批管理',
];

function base64urlBytes(text) {
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/');
  const padded = b64 + '='.repeat((4 - (b64.length % 4)) % 4);
  const binary = atob(padded);
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

/**
 * The enterprise a gate code names, read without the network (the signature is the
 * server's to check: the scan op carries the raw text). Null when it is not our code.
 * Layout: format byte 0x01 | enterprise UUID (16 bytes) | version varint | tag.
 */
export function enterpriseIdFromCode(text) {
  const match = /\/e\/([A-Za-z0-9_-]{20,})\s*$/.exec((text || '').trim());
  if (!match) return null;
  let bytes;
  try {
    bytes = base64urlBytes(match[1]);
  } catch {
    return null;
  }
  if (bytes.length < 30 || bytes[0] !== 0x01) return null;
  const hex = [...bytes.slice(1, 17)].map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const OPEN_TASK = new Set(['open', 'assigned', 'pending', 'in_progress']);

/** My tasks not yet done, the soonest due first. */
export function myTasks(tasks, me) {
  return tasks
    .map((r) => ({ id: r.id, ...r.data }))
    .filter((t) => (t.inspector_ids || []).includes(me) && OPEN_TASK.has(t.status))
    .sort((a, b) => String(a.due_date).localeCompare(String(b.due_date)));
}

/** Open hazards of the inspections I took part in, the nearest deadline first. */
export function myOpenHazards(hazards, inspections, me) {
  const mine = new Set(inspections.filter((r) => (r.data.inspector_ids || []).includes(me)).map((r) => r.id));
  return hazards
    .map((r) => ({ id: r.id, version: r.version, local: r.local, ...r.data }))
    .filter((h) => mine.has(h.inspection_id) && (h.status || 'found') !== 'closed')
    .sort((a, b) => String(a.deadline || '9999').localeCompare(String(b.deadline || '9999')));
}

/** Days from ``today`` (YYYY-MM-DD) to ``deadline``; negative when past. */
export function daysLeft(deadline, today) {
  if (!deadline) return null;
  return Math.round((Date.parse(deadline) - Date.parse(today)) / 86400000);
}

/** 临-<device>-<n>: unique per phone until the server gives the real number. */
export function provisionalNumber(deviceId, serial) {
  const tag = deviceId.replace(/[^A-Za-z0-9]/g, '').slice(-6).toUpperCase();
  return `临-${tag}-${String(serial).padStart(4, '0')}`;
}

/** Directory search by name, USCC or address; all words must match. */
export function searchDirectory(enterprises, query, limit = 30) {
  const words = (query || '').trim().toLowerCase().split(/\s+/).filter(Boolean);
  if (!words.length) return [];
  const out = [];
  for (const r of enterprises) {
    const hay = `${r.data.name} ${r.data.uscc} ${r.data.address || ''}`.toLowerCase();
    if (words.every((w) => hay.includes(w))) out.push({ id: r.id, ...r.data });
    if (out.length >= limit) break;
  }
  return out;
}

/** A time with the phone's offset, as the server's LocalDateTime fields expect. */
export function localIso(date) {
  const pad = (n) => String(Math.abs(n)).padStart(2, '0');
  const offset = -date.getTimezoneOffset();
  const sign = offset >= 0 ? '+' : '-';
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}` +
    `${sign}${pad(Math.trunc(offset / 60))}:${pad(offset % 60)}`
  );
}

/**
 * The ops of one recorded visit, in the order the server needs them: the inspection, its
 * hazards, then its documents. Each entry is {entity, id, data, label}.
 */
export function visitOps(visit) {
  const out = [];
  out.push({ entity: 'inspection', id: visit.id, data: visit.inspection, label: `现场检查记录 ${visit.enterpriseName}` });
  for (const h of visit.hazards) {
    out.push({ entity: 'hazard', id: h.id, data: h.data, label: `隐患：${h.data.description.slice(0, 20)}` });
  }
  for (const d of visit.documents) {
    out.push({ entity: 'document', id: d.id, data: d.data, label: `${DOC_TYPES[d.data.type]} ${d.data.provisional_number}` });
  }
  return out;
}
