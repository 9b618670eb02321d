// The field app's screens: login, 今日, 扫码, 检查记录, 隐患, 同步. Plain DOM; every record lives
// in IndexedDB and every change becomes an op in the outbox, so nothing here needs the network.
import './app.css';
import { ApiError, createApi } from './api.js';
import {
  CHECKLIST,
  DOC_TYPES,
  HAZARD_STATUS,
  MEASURES,
  daysLeft,
  enterpriseIdFromCode,
  localIso,
  myOpenHazards,
  myTasks,
  provisionalNumber,
  searchDirectory,
  visitOps,
} from './domain.js';
import { openStore } from './idbstore.js';
import { conflictFields } from './merge.js';
import { scanWithCamera, sha256Hex, shrinkPhoto, signatureBlob, signaturePad } from './media.js';
import { InvalidOp, makeOp } from './queue.js';
import { SyncEngine } from './sync.js';

const uuid = () => crypto.randomUUID();
const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => [...root.querySelectorAll(sel)];

function esc(value) {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

const app = { store: null, api: null, engine: null, session: null, deviceId: null, team: [], stopCamera: null };

function today() {
  return localIso(new Date()).slice(0, 10);
}

function fmtTime(iso) {
  if (!iso) return '从未';
  const d = new Date(iso);
  return `${d.getMonth() + 1}月${d.getDate()}日 ${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

function me() {
  return app.session?.user?.id;
}

function nameOf(userId) {
  const person = app.team.find((p) => p.id === userId);
  return person ? person.full_name || person.username : userId === me() ? app.session.user.full_name : '其他执法人员';
}

async function enterpriseName(id) {
  const record = await app.store.getRecord('enterprise', id);
  return record?.data?.name || '（名录中未找到）';
}

function toast(text, kind = 'info') {
  const box = $('#toast');
  box.textContent = text;
  box.className = `toast ${kind}`;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => (box.className = 'toast hidden'), 4000);
}

// --- device and session -----------------------------------------------------------------

async function deviceId() {
  let id = (await app.store.getKV('deviceId')) || localStorage.getItem('field.deviceId');
  if (!id) id = `phone-${uuid()}`;
  localStorage.setItem('field.deviceId', id);
  await app.store.setKV('deviceId', id);
  return id;
}

// --- sync bar ---------------------------------------------------------------------------

async function renderBar() {
  const status = await app.engine.status();
  const bar = $('#sync-state');
  bar.dataset.waiting = String(status.waiting);
  bar.dataset.pending = String(status.pending);
  bar.dataset.held = String(status.held);
  bar.dataset.attention = String(status.attention);
  bar.dataset.syncing = String(Boolean(await app.store.getKV('syncing')) && status.syncing);
  $('#net').textContent = navigator.onLine ? '在线' : '离线';
  $('#net').className = navigator.onLine ? 'online' : 'offline';
  $('#waiting').textContent = `待同步 ${status.waiting}`;
  $('#last-sync').textContent = `上次同步 ${fmtTime(status.lastSync)}`;
  const problems = [];
  if (status.attention) problems.push(`${status.attention} 项待处理`);
  if (status.lastError) problems.push(`同步失败：${status.lastError.message}`);
  const expired = await app.store.getKV('authExpired');
  if (expired) problems.push('登录已过期，请重新登录（未同步的记录保留在本机）');
  $('#sync-errors').textContent = problems.join('；');
  $('#sync-errors').hidden = !problems.length;
  $('#relogin').hidden = !expired;
}

async function syncNow() {
  if (!app.session) return null;
  if (!navigator.onLine) {
    await renderBar();
    return null;
  }
  const report = await app.engine.sync();
  if (report.error?.status === 401) toast('登录已过期，请重新登录', 'error');
  await refreshTeam();
  await renderBar();
  // Screens that only show records are redrawn; forms being filled in are left alone.
  if (['today', 'sync', 'inspection'].includes(currentRoute().name)) await route();
  return report;
}

async function refreshTeam() {
  try {
    if (!navigator.onLine) return;
    const people = await app.api.get('/users');
    app.team = people;
    await app.store.setKV('team', people);
  } catch {
    // the cached list stays
  }
}

// --- routing ----------------------------------------------------------------------------

function currentRoute() {
  const [name = 'today', arg = null] = location.hash.replace(/^#\/?/, '').split('/');
  return { name: name || 'today', arg };
}

function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

async function route() {
  if (app.stopCamera) {
    app.stopCamera();
    app.stopCamera = null;
  }
  const view = $('#view');
  if (!app.session) {
    $('#tabs').hidden = true;
    return renderLogin(view);
  }
  $('#tabs').hidden = false;
  const { name, arg } = currentRoute();
  for (const tab of $$('#tabs a')) tab.classList.toggle('active', tab.dataset.tab === name);
  const screens = { today: renderToday, scan: renderScan, visit: renderVisit, inspection: renderInspection, hazard: renderHazard, sync: renderSync };
  await (screens[name] || renderToday)(view, arg);
}

// --- login ------------------------------------------------------------------------------

function renderLogin(view) {
  view.innerHTML = `
    <section class="card login">
      <h1>安全生产现场执法</h1>
      <p class="hint">每部手机登录一次；之后无网络也可使用。</p>
      <form id="login-form">
        <label>用户名<input name="username" autocomplete="username" required></label>
        <label>密码<input name="password" type="password" autocomplete="current-password" required></label>
        <button type="submit" class="primary">登录</button>
        <p id="login-error" class="error" hidden></p>
      </form>
      <p class="hint">设备编号：<code>${esc(app.deviceId)}</code></p>
    </section>`;
  $('#login-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const form = new FormData(e.target);
    const error = $('#login-error');
    error.hidden = true;
    try {
      const result = await app.api.post('/auth/login', {
        username: form.get('username'),
        password: form.get('password'),
        device_id: app.deviceId,
        device_name: `现场执法终端（${navigator.platform || '手机'}）`,
      });
      const previous = await app.store.getKV('session');
      if (previous && previous.user.id !== result.user.id) {
        // Another person on this phone: their outbox stays, the pulled records are theirs.
        await app.store.setKV('cursor', null);
      }
      app.session = result;
      await app.store.setKV('session', result);
      await app.store.setKV('authExpired', false);
      await refreshTeam();
      go('#/today');
      syncNow();
    } catch (err) {
      error.textContent = err instanceof ApiError && err.status === 401 ? '用户名或密码错误' : err.message;
      error.hidden = false;
    }
  });
}

// --- 今日 ---------------------------------------------------------------------------------

async function renderToday(view) {
  const [tasks, hazards, inspections, drafts] = await Promise.all([
    app.store.listRecords('task'),
    app.store.listRecords('hazard'),
    app.store.listRecords('inspection'),
    app.store.getKV('drafts'),
  ]);
  const mine = myTasks(tasks, me());
  const open = myOpenHazards(hazards, inspections, me());
  const names = {};
  for (const id of new Set([...mine.map((t) => t.enterprise_id), ...open.map((h) => h.enterprise_id)])) names[id] = await enterpriseName(id);
  const now = today();
  const recent = inspections
    .filter((r) => (r.data.inspector_ids || []).includes(me()))
    .sort((a, b) => String(b.data.started_at).localeCompare(String(a.data.started_at)))
    .slice(0, 10);
  for (const r of recent) names[r.data.enterprise_id] ||= await enterpriseName(r.data.enterprise_id);
  view.innerHTML = `
    <section class="card">
      <h2>${esc(app.session.user.full_name || app.session.user.username)}，今日</h2>
      <button class="primary big" id="go-scan">扫码入企</button>
    </section>
    ${
      Object.keys(drafts || {}).length
        ? `<section class="card"><h3>未完成的检查</h3><ul class="list">${Object.values(drafts)
            .map((d) => `<li><a href="#/visit/${esc(d.id)}">${esc(d.enterpriseName)} · ${esc(fmtTime(d.startedAtIso))}</a></li>`)
            .join('')}</ul></section>`
        : ''
    }
    <section class="card" id="tasks">
      <h3>我的任务（${mine.length}）</h3>
      ${mine.length ? `<ul class="list">${mine.map((t) => `<li data-task="${esc(t.id)}"><b>${esc(names[t.enterprise_id])}</b><br><span class="hint">${esc(t.title || '双随机检查')} · 截止 ${esc(t.due_date)}</span><br><button class="start-task" data-task="${esc(t.id)}">开始检查</button></li>`).join('')}</ul>` : '<p class="hint">暂无任务</p>'}
    </section>
    <section class="card" id="hazards">
      <h3>我的未销号隐患（${open.length}）</h3>
      ${
        open.length
          ? `<ul class="list">${open
              .map((h) => {
                const left = daysLeft(h.deadline, now);
                const due = h.deadline ? (left < 0 ? `<span class="overdue">已逾期 ${-left} 天</span>` : `期限 ${esc(h.deadline)}（剩 ${left} 天）`) : '未定期限';
                return `<li data-hazard="${esc(h.id)}"><a href="#/hazard/${esc(h.id)}">${esc(h.description)}</a><br><span class="hint">${esc(names[h.enterprise_id])} · ${h.level === 'major' ? '<b class="major">重大</b>' : '一般'} · ${esc(HAZARD_STATUS[h.status] || (h.local ? '待同步' : h.status))} · ${due}</span></li>`;
              })
              .join('')}</ul>`
          : '<p class="hint">暂无</p>'
      }
    </section>
    <section class="card" id="recent">
      <h3>最近的检查</h3>
      ${recent.length ? `<ul class="list">${recent.map((r) => `<li data-inspection="${esc(r.id)}"><a href="#/inspection/${esc(r.id)}">${esc(names[r.data.enterprise_id])}</a> <span class="hint">${esc(fmtTime(r.data.started_at))}${r.local ? ' · 待同步' : ''}</span></li>`).join('')}</ul>` : '<p class="hint">暂无</p>'}
    </section>`;
  $('#go-scan').addEventListener('click', () => go('#/scan'));
  for (const b of $$('.start-task')) {
    b.addEventListener('click', async () => {
      const task = mine.find((t) => t.id === b.dataset.task);
      const draft = await newDraft({ enterpriseId: task.enterprise_id, taskId: task.id, kind: task.kind });
      go(`#/visit/${draft.id}`);
    });
  }
}

// --- 扫码 ---------------------------------------------------------------------------------

async function renderScan(view) {
  view.innerHTML = `
    <section class="card">
      <h2>扫码入企</h2>
      <video id="camera" playsinline muted></video>
      <p id="scan-status" class="hint">正在打开摄像头…</p>
    </section>
    <section class="card">
      <h3>二维码缺失或损坏：手动查找</h3>
      <input id="directory-search" type="search" placeholder="企业名称、统一社会信用代码或地址">
      <ul id="directory-results" class="list"></ul>
    </section>
    <section id="enterprise-card"></section>`;
  const enterprises = await app.store.listRecords('enterprise');
  const search = () => {
    const found = searchDirectory(enterprises, $('#directory-search').value);
    $('#directory-results').innerHTML = found
      .map((x) => `<li><button class="pick-enterprise" data-id="${esc(x.id)}">${esc(x.name)}</button><br><span class="hint">${esc(x.uscc)} · ${esc(x.address)}</span></li>`)
      .join('');
    for (const b of $$('.pick-enterprise')) {
      b.addEventListener('click', () => {
        if (app.stopCamera) app.stopCamera();
        app.stopCamera = null;
        showCard(b.dataset.id, null);
      });
    }
  };
  $('#directory-search').addEventListener('input', search);
  search();
  const status = $('#scan-status');
  try {
    const stop = await scanWithCamera($('#camera'), (text) => {
      app.stopCamera = null;
      status.textContent = '已识别';
      onScanned(text);
    });
    // The inspector may have left the screen while the camera was starting.
    if (currentRoute().name !== 'scan' || !$('#camera')) stop();
    else app.stopCamera = stop;
    status.textContent = '将企业门口的二维码对准取景框';
  } catch (err) {
    status.textContent = `无法使用摄像头（${err.message}），请手动查找`;
  }
}

async function currentPosition() {
  if (!navigator.geolocation) return null;
  return new Promise((resolve) => {
    const done = (v) => resolve(v);
    setTimeout(() => done(null), 1500);
    navigator.geolocation.getCurrentPosition(
      (p) => done({ lat: p.coords.latitude, lng: p.coords.longitude, accuracy_m: p.coords.accuracy }),
      () => done(null),
      { timeout: 1500, maximumAge: 60000 },
    );
  });
}

async function onScanned(text) {
  const enterpriseId = enterpriseIdFromCode(text);
  if (!enterpriseId) {
    toast('这不是本系统的企业二维码', 'error');
    $('#scan-status').textContent = '无法识别的二维码，请重试或手动查找';
    return;
  }
  const scanId = uuid();
  const now = new Date();
  const data = { code: text, scanned_at: localIso(now), location: await currentPosition(), inspector_ids: [me()] };
  const op = makeOp({ entity: 'scan', id: scanId, data, uuid, now, label: `扫码 ${await enterpriseName(enterpriseId)}` });
  await app.store.addOps([op], [{ entity: 'scan', id: scanId, version: null, local: true, data: { ...data, enterprise_id: enterpriseId } }]);
  await renderBar();
  await showCard(enterpriseId, op.op_id, scanId);
  if (navigator.onLine) {
    await syncNow();
    await showCard(enterpriseId, op.op_id, scanId);
  }
}

function warningLine(w) {
  if (w.code === 'repeat_visit') {
    const days = w.last_visit_at ? Math.max(0, (Date.now() - Date.parse(w.last_visit_at)) / 86400000).toFixed(1) : '?';
    return `<li class="warning" data-code="repeat_visit">重复检查：该企业 ${days} 天前刚被${w.same_team ? '本组' : '其他检查组'}检查过</li>`;
  }
  if (w.code === 'yearly_cap_reached') {
    return `<li class="warning" data-code="yearly_cap_reached">超频：今年已检查 ${esc(w.inspections_this_year)} 次，年度上限 ${esc(w.cap)} 次</li>`;
  }
  return `<li class="warning" data-code="${esc(w.code)}">${esc(w.message || w.code)}</li>`;
}

async function showCard(enterpriseId, scanOpId, scanId = null) {
  const box = $('#enterprise-card');
  if (!box) return;
  const op = scanOpId ? await app.store.getOp(scanOpId) : null;
  const record = await app.store.getRecord('enterprise', enterpriseId);
  const card = op?.card || (record ? { ...record.data, open_hazards: null } : null);
  let warnings;
  if (op?.state === 'done') {
    const list = op.warnings || op.card?.warnings || [];
    warnings = list.length
      ? `<div class="warnings" id="visit-warnings"><b>注意</b><ul>${list.map(warningLine).join('')}</ul></div>`
      : '<p class="ok" id="visit-warnings">无重复检查或超频提醒</p>';
  } else if (op?.state === 'rejected') {
    warnings = `<div class="warnings" id="visit-warnings"><b>扫码未被接受</b><p>${esc(op.reason)}</p></div>`;
  } else if (op) {
    warnings = '<p class="pending" id="visit-warnings">离线：重复检查和年度上限提醒将在同步后显示</p>';
  } else {
    warnings = '<p class="hint" id="visit-warnings">手动选择的企业（未扫码）</p>';
  }
  if (!card) {
    box.innerHTML = `<div class="card">${warnings}<p>名录中没有这家企业，联网同步后再试。</p></div>`;
    return;
  }
  const hazards = await app.store.listRecords('hazard');
  const open = hazards.filter((h) => h.data.enterprise_id === enterpriseId && h.data.status !== 'closed');
  const tasks = myTasks(await app.store.listRecords('task'), me()).filter((t) => t.enterprise_id === enterpriseId);
  box.innerHTML = `
    <div class="card" data-enterprise="${esc(enterpriseId)}">
      ${warnings}
      <h2 id="card-name">${esc(card.name)}</h2>
      <p class="hint">${esc(card.uscc)} · ${esc(card.address || '')}</p>
      <p>风险等级 ${esc(card.risk_grade || '—')} · 信用 ${esc(card.credit_rating || '—')}${card.is_key ? ' · <b>重点企业</b>' : ''}${card.seriously_dishonest ? ' · <b class="major">严重失信</b>' : ''}</p>
      <p>未销号隐患 ${open.length} 处${tasks.length ? ` · 本人任务 ${tasks.length} 项` : ''}</p>
      <button class="primary big" id="start-visit">开始现场检查</button>
    </div>`;
  $('#start-visit').addEventListener('click', async () => {
    const draft = await newDraft({ enterpriseId, scanId, taskId: tasks[0]?.id || null, kind: tasks[0]?.kind });
    go(`#/visit/${draft.id}`);
  });
}

// --- 检查记录 (a visit being recorded) --------------------------------------------------------

async function saveDraft(draft) {
  const drafts = (await app.store.getKV('drafts')) || {};
  drafts[draft.id] = draft;
  await app.store.setKV('drafts', drafts);
}

async function dropDraft(id) {
  const drafts = (await app.store.getKV('drafts')) || {};
  delete drafts[id];
  await app.store.setKV('drafts', drafts);
}

async function newDraft({ enterpriseId, scanId = null, taskId = null, kind = null, reinspect = [] }) {
  const started = new Date();
  const draft = {
    id: uuid(),
    enterpriseId,
    enterpriseName: await enterpriseName(enterpriseId),
    scanId,
    taskId,
    kind: ['key', 'random', 'complaint', 'joint', 'other'].includes(kind) ? kind : taskId ? 'random' : 'other',
    startedAt: localIso(started),
    startedAtIso: started.toISOString(),
    place: '',
    partner: '',
    items: CHECKLIST.map((item) => ({ item, result: 'ok', note: '' })),
    findings: '',
    representative: { name: '', title: '' },
    hazards: [],
    reinspect,
    docs: { order: false, orderDeadline: '', measures: false, measureList: [], stopUntil: '', opinion: reinspect.length > 0, outcome: 'pass', opinionDeadline: '' },
  };
  await saveDraft(draft);
  return draft;
}

async function blobUrl(sha) {
  const blob = await app.store.getBlob(sha);
  return blob ? URL.createObjectURL(blob.data) : '';
}

async function keepBlob(blob) {
  const sha = await sha256Hex(blob);
  await app.store.putBlob({ sha, data: blob, type: blob.type, uploaded: false });
  return sha;
}

async function renderVisit(view, draftId) {
  const drafts = (await app.store.getKV('drafts')) || {};
  const draft = drafts[draftId];
  if (!draft) return go('#/today');
  const colleagues = app.team.filter((p) => p.id !== me() && p.cert_no && ['inspector', 'lead'].includes(p.role));
  const thumbs = {};
  for (const h of draft.hazards) for (const sha of h.photos) thumbs[sha] = await blobUrl(sha);
  const reinspected = [];
  for (const id of draft.reinspect) reinspected.push((await app.store.getRecord('hazard', id))?.data || { description: id });
  view.innerHTML = `
    <form id="visit-form" class="card">
      <h2>现场检查记录</h2>
      <p><b>${esc(draft.enterpriseName)}</b><br><span class="hint">开始于 ${esc(fmtTime(draft.startedAtIso))}${draft.scanId ? ' · 已扫码' : ''}${draft.taskId ? ' · 双随机任务' : ''}</span></p>
      ${reinspected.length ? `<p class="pending">复查隐患：${reinspected.map((h) => esc(h.description)).join('；')}</p>` : ''}
      <label>检查类别<select name="kind">${[['random', '双随机抽查'], ['key', '重点检查'], ['complaint', '举报投诉'], ['joint', '联合检查'], ['other', '其他']].map(([v, t]) => `<option value="${v}" ${draft.kind === v ? 'selected' : ''}>${t}</option>`).join('')}</select></label>
      <label>检查场所<input name="place" value="${esc(draft.place)}" placeholder="如：生产车间"></label>
      <label>第二名执法人员<select name="partner" id="partner"><option value="">请选择</option>${colleagues.map((p) => `<option value="${esc(p.id)}" ${draft.partner === p.id ? 'selected' : ''}>${esc(p.full_name || p.username)}（证号 ${esc(p.cert_no)}）</option>`).join('')}</select></label>
      <fieldset><legend>检查项目</legend>
        ${draft.items
          .map(
            (it, i) => `<div class="item"><span>${esc(it.item)}</span>
            <select name="item-${i}">${[['ok', '符合'], ['hazard', '存在隐患'], ['na', '不适用']].map(([v, t]) => `<option value="${v}" ${it.result === v ? 'selected' : ''}>${t}</option>`).join('')}</select>
            <input name="note-${i}" value="${esc(it.note)}" placeholder="说明"></div>`,
          )
          .join('')}
      </fieldset>
      <label>检查情况<textarea name="findings" rows="3">${esc(draft.findings)}</textarea></label>
      <fieldset><legend>企业现场负责人</legend>
        <label>姓名<input name="rep-name" value="${esc(draft.representative.name)}"></label>
        <label>职务<input name="rep-title" value="${esc(draft.representative.title)}"></label>
        <p class="hint">请负责人在下方签名</p>
        <canvas id="signature" width="600" height="220"></canvas>
        <button type="button" id="clear-signature">清除签名</button>
      </fieldset>
      <fieldset id="hazard-list"><legend>隐患（${draft.hazards.length}）</legend>
        <ul class="list">${draft.hazards
          .map(
            (h) => `<li class="hazard-draft"><b>${h.data.level === 'major' ? '【重大】' : ''}${esc(h.data.description)}</b><br>
            <span class="hint">${esc(h.data.location)} · ${esc(h.data.legal_basis)} · ${h.data.fixed_on_spot ? '现场整改' : `期限 ${esc(h.data.deadline || '随整改指令')}`}</span><br>
            ${h.photos.map((sha) => `<img class="thumb" src="${esc(thumbs[sha])}" alt="隐患照片">`).join('')}
            <button type="button" class="remove-hazard" data-id="${esc(h.id)}">删除</button></li>`,
          )
          .join('')}</ul>
        <button type="button" id="add-hazard">+ 添加隐患</button>
      </fieldset>
      <fieldset><legend>执法文书</legend>
        <label class="check"><input type="checkbox" name="doc-order" ${draft.docs.order ? 'checked' : ''}> ${DOC_TYPES.rectification_order}</label>
        <label>整改期限<input type="date" name="order-deadline" value="${esc(draft.docs.orderDeadline)}" min="${today()}"></label>
        <label class="check"><input type="checkbox" name="doc-measures" ${draft.docs.measures ? 'checked' : ''}> ${DOC_TYPES.onsite_measures}</label>
        <div class="measures">${Object.entries(MEASURES).map(([v, t]) => `<label class="check"><input type="checkbox" name="measure" value="${v}" ${draft.docs.measureList.includes(v) ? 'checked' : ''}> ${t}</label>`).join('')}</div>
        <label>停产停业至<input type="date" name="stop-until" value="${esc(draft.docs.stopUntil)}"></label>
        ${
          draft.reinspect.length
            ? `<label class="check"><input type="checkbox" name="doc-opinion" ${draft.docs.opinion ? 'checked' : ''}> ${DOC_TYPES.reinspection_opinion}</label>
               <label>复查结论<select name="outcome"><option value="pass" ${draft.docs.outcome === 'pass' ? 'selected' : ''}>整改合格</option><option value="fail" ${draft.docs.outcome === 'fail' ? 'selected' : ''}>未整改到位，重新限期</option></select></label>
               <label>重新整改期限<input type="date" name="opinion-deadline" value="${esc(draft.docs.opinionDeadline)}"></label>`
            : ''
        }
      </fieldset>
      <p id="visit-errors" class="error" hidden></p>
      <button type="submit" class="primary big" id="finish-visit">完成检查并保存</button>
      <button type="button" id="discard-visit" class="danger">放弃本次检查</button>
    </form>
    <dialog id="hazard-dialog">
      <form id="hazard-form" method="dialog">
        <h3>添加隐患</h3>
        <label>隐患描述<textarea name="description" rows="3" required></textarea></label>
        <label>位置<input name="location"></label>
        <label>隐患级别<select name="level"><option value="general">一般隐患</option><option value="major">重大隐患</option></select></label>
        <label>法律依据<input name="legal_basis" placeholder="如：《安全生产法》第三十六条"></label>
        <label class="check"><input type="checkbox" name="fixed_on_spot"> 已现场整改</label>
        <label>整改期限<input type="date" name="deadline" min="${today()}"></label>
        <label>现场照片<input type="file" name="photos" accept="image/*" capture="environment" multiple></label>
        <div id="photo-previews"></div>
        <p id="hazard-errors" class="error" hidden></p>
        <button type="submit" value="save" class="primary" id="save-hazard">保存隐患</button>
        <button type="button" id="cancel-hazard">取消</button>
      </form>
    </dialog>`;

  const form = $('#visit-form');
  const pad = signaturePad($('#signature'));
  $('#clear-signature').addEventListener('click', () => pad.clear());

  const readForm = () => {
    const f = new FormData(form);
    draft.kind = f.get('kind');
    draft.place = f.get('place');
    draft.partner = f.get('partner');
    draft.items = draft.items.map((it, i) => ({ ...it, result: f.get(`item-${i}`), note: f.get(`note-${i}`) }));
    draft.findings = f.get('findings');
    draft.representative = { name: f.get('rep-name').trim(), title: f.get('rep-title').trim() };
    draft.docs = {
      order: f.get('doc-order') === 'on',
      orderDeadline: f.get('order-deadline') || '',
      measures: f.get('doc-measures') === 'on',
      measureList: f.getAll('measure'),
      stopUntil: f.get('stop-until') || '',
      opinion: f.get('doc-opinion') === 'on',
      outcome: f.get('outcome') || 'pass',
      opinionDeadline: f.get('opinion-deadline') || '',
    };
  };
  form.addEventListener('change', async () => {
    readForm();
    await saveDraft(draft);
  });

  // Hazard dialog: photos are shrunk and kept as soon as they are taken.
  const dialog = $('#hazard-dialog');
  let photos = [];
  $('#add-hazard').addEventListener('click', () => {
    photos = [];
    $('#hazard-form').reset();
    $('#photo-previews').innerHTML = '';
    $('#hazard-errors').hidden = true;
    dialog.showModal();
  });
  $('#cancel-hazard').addEventListener('click', () => dialog.close());
  $('#hazard-form input[name=photos]').addEventListener('change', async (e) => {
    for (const file of e.target.files) {
      const small = await shrinkPhoto(file);
      const sha = await keepBlob(small);
      photos.push(sha);
      const img = document.createElement('img');
      img.className = 'thumb';
      img.alt = '隐患照片';
      img.src = URL.createObjectURL(small);
      $('#photo-previews').append(img);
    }
    $('#photo-previews').dataset.count = String(photos.length);
  });
  $('#hazard-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    const hazard = {
      id: uuid(),
      photos: [...photos],
      data: {
        inspection_id: draft.id,
        enterprise_id: draft.enterpriseId,
        level: f.get('level'),
        description: f.get('description').trim(),
        location: f.get('location').trim(),
        legal_basis: f.get('legal_basis').trim(),
        photo_attachments: [...photos],
        fixed_on_spot: f.get('fixed_on_spot') === 'on',
        deadline: f.get('deadline') || null,
      },
    };
    try {
      makeOp({ entity: 'hazard', id: hazard.id, data: hazard.data, uuid });
    } catch (err) {
      $('#hazard-errors').textContent = err.message;
      $('#hazard-errors').hidden = false;
      return;
    }
    readForm();
    draft.hazards.push(hazard);
    await saveDraft(draft);
    dialog.close();
    await renderVisit(view, draft.id);
  });
  for (const b of $$('.remove-hazard')) {
    b.addEventListener('click', async () => {
      readForm();
      draft.hazards = draft.hazards.filter((h) => h.id !== b.dataset.id);
      await saveDraft(draft);
      await renderVisit(view, draft.id);
    });
  }
  $('#discard-visit').addEventListener('click', async () => {
    if (!confirm('放弃本次检查？已填写的内容将被删除。')) return;
    await dropDraft(draft.id);
    go('#/today');
  });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    readForm();
    const errors = $('#visit-errors');
    errors.hidden = true;
    try {
      await finishVisit(draft, pad);
    } catch (err) {
      errors.textContent = err instanceof InvalidOp ? `请检查：${err.message}` : err.message;
      errors.hidden = false;
    }
  });
}

async function nextProvisional() {
  const serial = ((await app.store.getKV('provisionalSerial')) || 0) + 1;
  await app.store.setKV('provisionalSerial', serial);
  return provisionalNumber(app.deviceId, serial);
}

async function finishVisit(draft, pad) {
  if (!draft.partner) throw new Error('请选择第二名执法人员（检查须两人以上）');
  if (!draft.representative.name) throw new Error('请填写企业现场负责人');
  const signatures = [];
  if (pad.drawn()) signatures.push(await keepBlob(await signatureBlob($('#signature'))));
  const now = new Date();
  const issuedAt = localIso(now);
  const inspection = {
    enterprise_id: draft.enterpriseId,
    scan_id: draft.scanId,
    task_id: draft.taskId,
    kind: draft.kind,
    started_at: draft.startedAt,
    ended_at: issuedAt,
    place: draft.place,
    inspector_ids: [me(), draft.partner],
    items: draft.items,
    findings: draft.findings,
    representative: draft.representative,
    signature_attachments: signatures,
  };
  const open = draft.hazards.filter((h) => !h.data.fixed_on_spot).map((h) => h.id);
  const documents = [];
  const doc = async (type, fields, hazardIds) =>
    documents.push({
      id: uuid(),
      data: { type, inspection_id: draft.id, hazard_ids: hazardIds, issued_at: issuedAt, provisional_number: await nextProvisional(), ...fields },
    });
  if (draft.docs.measures) {
    if (!draft.docs.measureList.length) throw new Error('请选择现场处理措施');
    const stops = draft.docs.measureList.some((m) => m === 'stop_production' || m === 'stop_use');
    await doc('onsite_measures', { measures: draft.docs.measureList, stop_until: stops ? draft.docs.stopUntil || null : null }, draft.hazards.map((h) => h.id));
  }
  if (draft.docs.order) {
    if (!open.length) throw new Error('责令限期整改指令书须有未现场整改的隐患');
    if (!draft.docs.orderDeadline) throw new Error('请填写整改期限');
    await doc('rectification_order', { deadline: draft.docs.orderDeadline }, open);
  }
  if (draft.reinspect.length && draft.docs.opinion) {
    const fields = { outcome: draft.docs.outcome };
    if (draft.docs.outcome === 'fail') {
      if (!draft.docs.opinionDeadline) throw new Error('请填写重新整改期限');
      fields.deadline = draft.docs.opinionDeadline;
    }
    await doc('reinspection_opinion', fields, draft.reinspect);
  }
  const parts = visitOps({ id: draft.id, enterpriseName: draft.enterpriseName, inspection, hazards: draft.hazards, documents });
  // Every op is checked before any is queued: a visit enters the outbox whole.
  const ops = parts.map((p) => makeOp({ ...p, uuid, now }));
  const records = parts.map((p) => ({ entity: p.entity, id: p.id, version: null, local: true, data: { ...p.data } }));
  await app.store.addOps(ops, records);
  await dropDraft(draft.id);
  toast(`已保存，${ops.length} 项待同步`);
  go(`#/inspection/${draft.id}`);
  syncNow();
}

// --- a recorded inspection, with its hazards and documents -----------------------------------

async function renderInspection(view, id) {
  const record = await app.store.getRecord('inspection', id);
  if (!record) {
    view.innerHTML = '<section class="card"><p>没有这条检查记录</p></section>';
    return;
  }
  const v = record.data;
  const hazards = (await app.store.listRecords('hazard')).filter((h) => h.data.inspection_id === id);
  const docs = (await app.store.listRecords('document')).filter((d) => d.data.inspection_id === id);
  view.innerHTML = `
    <section class="card" id="inspection" data-local="${record.local ? 'true' : 'false'}">
      <h2>现场检查记录</h2>
      <p><b>${esc(await enterpriseName(v.enterprise_id))}</b></p>
      <p class="hint">${esc(fmtTime(v.started_at))} · ${esc(v.place)} · ${(v.inspector_ids || []).map((u) => esc(nameOf(u))).join('、')}</p>
      <p>${esc(v.findings)}</p>
      <p>企业负责人：${esc(v.representative?.name || '')} ${esc(v.representative?.title || '')} ${v.signature_attachments?.length ? '（已签名）' : ''}</p>
      <p class="${record.local ? 'pending' : 'ok'}" id="inspection-state">${record.local ? '待同步' : '已同步'}</p>
    </section>
    <section class="card"><h3>隐患（${hazards.length}）</h3>
      <ul class="list">${hazards.map((h) => `<li><a href="#/hazard/${esc(h.id)}">${h.data.level === 'major' ? '【重大】' : ''}${esc(h.data.description)}</a> <span class="hint">${esc(HAZARD_STATUS[h.data.status] || (h.local ? '待同步' : ''))}</span></li>`).join('')}</ul>
    </section>
    <section class="card" id="documents"><h3>执法文书</h3>
      <ul class="list">${docs
        .map(
          (d) => `<li class="document" data-document="${esc(d.id)}" data-type="${esc(d.data.type)}">
            <b>${esc(DOC_TYPES[d.data.type] || d.data.type)}</b><br>
            ${d.data.number ? `<span class="number">${esc(d.data.number)}</span> <button class="pdf" data-id="${esc(d.id)}">PDF</button> <a class="pdf-link" hidden target="_blank">打开 PDF</a>` : `<span class="provisional">临时编号 ${esc(d.data.provisional_number)}（同步后由系统编号）</span>`}
          </li>`,
        )
        .join('')}</ul>
    </section>`;
  for (const b of $$('button.pdf')) {
    b.addEventListener('click', async () => {
      const link = b.parentElement.querySelector('.pdf-link');
      try {
        const response = await app.api.send('GET', `/documents/${b.dataset.id}/pdf`);
        if (!response.ok) throw new ApiError(response.status, await app.api.jsonOf(response));
        link.href = URL.createObjectURL(await response.blob());
        link.hidden = false;
      } catch (err) {
        toast(`无法获取 PDF：${err.message}`, 'error');
      }
    });
  }
}

// --- 隐患: details, edit, rectification report, re-inspection ---------------------------------

async function renderHazard(view, id) {
  const record = await app.store.getRecord('hazard', id);
  if (!record) {
    view.innerHTML = '<section class="card"><p>没有这处隐患</p></section>';
    return;
  }
  const h = record.data;
  const photos = [];
  for (const sha of h.photo_attachments || []) photos.push(await blobUrl(sha));
  view.innerHTML = `
    <section class="card" id="hazard" data-version="${esc(record.version ?? '')}">
      <h2>${h.level === 'major' ? '【重大隐患】' : '一般隐患'}</h2>
      <p id="hazard-description">${esc(h.description)}</p>
      <p class="hint">${esc(await enterpriseName(h.enterprise_id))} · ${esc(h.location)} · ${esc(h.legal_basis)}</p>
      <p>状态：${esc(HAZARD_STATUS[h.status] || (record.local ? '待同步' : h.status))} · 期限 ${esc(h.deadline || '—')}</p>
      ${photos.filter(Boolean).map((src) => `<img class="thumb" src="${esc(src)}" alt="隐患照片">`).join('')}
    </section>
    <form class="card" id="edit-hazard">
      <h3>修改隐患记录</h3>
      <label>隐患描述<textarea name="description" rows="3">${esc(h.description)}</textarea></label>
      <label>位置<input name="location" value="${esc(h.location)}"></label>
      <label>法律依据<input name="legal_basis" value="${esc(h.legal_basis)}"></label>
      <button type="submit" ${record.version ? '' : 'disabled'}>保存修改</button>
      ${record.version ? '' : '<p class="hint">同步后才能修改</p>'}
    </form>
    <form class="card" id="rectification-form">
      <h3>企业报告整改完成</h3>
      <label>整改情况<textarea name="description" rows="2"></textarea></label>
      <label>整改照片<input type="file" name="evidence" accept="image/*" capture="environment" multiple></label>
      <button type="submit">提交整改报告</button>
    </form>
    <section class="card">
      <h3>复查</h3>
      <button id="start-reinspection" class="primary">开始复查（出具整改复查意见书）</button>
    </section>`;
  $('#edit-hazard').addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    const changed = {};
    for (const key of ['description', 'location', 'legal_basis']) {
      const value = f.get(key).trim();
      if (value !== h[key]) changed[key] = value;
    }
    if (!Object.keys(changed).length) return toast('没有修改');
    try {
      const op = makeOp({ entity: 'hazard', id, baseVersion: record.version, data: changed, uuid, label: `修改隐患：${(changed.description || h.description).slice(0, 20)}` });
      await app.store.addOps([op], [{ ...record, data: { ...h, ...changed } }]);
      toast('修改已保存，待同步');
      await renderBar();
      await renderHazard(view, id);
      syncThenRedraw();
    } catch (err) {
      toast(err.message, 'error');
    }
  });
  $('#rectification-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    const evidence = [];
    for (const file of e.target.evidence.files) evidence.push(await keepBlob(await shrinkPhoto(file)));
    try {
      const rid = uuid();
      const data = { hazard_id: id, reported_at: localIso(new Date()), description: f.get('description').trim(), evidence_attachments: evidence };
      const op = makeOp({ entity: 'rectification', id: rid, data, uuid, label: `整改报告：${h.description.slice(0, 20)}` });
      await app.store.addOps([op], [{ entity: 'rectification', id: rid, version: null, local: true, data }]);
      toast('整改报告已保存，待同步');
      await renderBar();
      await renderHazard(view, id);
      syncThenRedraw();
    } catch (err) {
      toast(err instanceof InvalidOp ? '请附上整改照片' : err.message, 'error');
    }
  });
  // The hazard's status after the sync (reported, ordered...) comes with the pull.
  const syncThenRedraw = () =>
    syncNow().then(() => {
      const here = currentRoute();
      if (here.name === 'hazard' && here.arg === id) renderHazard(view, id);
    });
  $('#start-reinspection').addEventListener('click', async () => {
    const draft = await newDraft({ enterpriseId: h.enterprise_id, kind: 'other', reinspect: [id] });
    go(`#/visit/${draft.id}`);
  });
}

// --- 同步 ---------------------------------------------------------------------------------

const STATE_TEXT = { pending: '等待发送', held: '服务器等待关联记录', conflict: '与服务器版本冲突', rejected: '被服务器拒绝', done: '已同步' };

function fieldLabel(name) {
  return { description: '隐患描述', location: '位置', legal_basis: '法律依据', photo_attachments: '照片', findings: '检查情况', place: '检查场所' }[name] || name;
}

function show(value) {
  return Array.isArray(value) ? `${value.length} 项` : esc(value ?? '');
}

async function renderSync(view) {
  const ops = await app.store.listOps();
  const open = ops.filter((o) => o.state !== 'done');
  const done = ops.filter((o) => o.state === 'done').slice(-15).reverse();
  const status = await app.engine.status();
  view.innerHTML = `
    <section class="card">
      <h2>同步</h2>
      <p>待发送 ${status.pending} · 服务器等待 ${status.held} · 需处理 ${status.attention}</p>
      <p class="hint">上次同步 ${esc(fmtTime(status.lastSync))}${status.lastError ? `<br><span class="error">上次失败：${esc(status.lastError.message)}</span>` : ''}</p>
      <button class="primary big" id="sync-button">立即同步</button>
    </section>
    <section class="card" id="outbox"><h3>未完成（${open.length}）</h3>
      <ul class="list">${open
        .map((o) => {
          let extra = '';
          if (o.state === 'rejected') {
            extra = `<p class="error reason">${esc(o.reason)}</p><button class="discard" data-op="${esc(o.op_id)}">放弃此操作</button>`;
          } else if (o.state === 'conflict') {
            const rows = conflictFields(o, o.current)
              .map((f) => `<tr data-field="${esc(f.name)}"><th>${esc(fieldLabel(f.name))}</th><td class="mine">${show(f.mine)}</td><td class="theirs">${show(f.theirs)}</td></tr>`)
              .join('');
            extra = `<table class="conflict"><tr><th></th><th>我的修改</th><th>服务器版本</th></tr>${rows}</table>
              <button class="merge primary" data-op="${esc(o.op_id)}">一键合并（保留我的修改）并重新发送</button>
              <button class="theirs-wins" data-op="${esc(o.op_id)}">采用服务器版本</button>`;
          }
          return `<li class="op ${esc(o.state)}" data-op="${esc(o.op_id)}" data-state="${esc(o.state)}" data-entity="${esc(o.entity)}"><b>${esc(o.label || o.entity)}</b> <span class="state">${esc(STATE_TEXT[o.state])}</span>${extra}</li>`;
        })
        .join('')}</ul>
    </section>
    <section class="card"><h3>最近已同步</h3>
      <ul class="list">${done.map((o) => `<li class="op done" data-op="${esc(o.op_id)}">${esc(o.label || o.entity)}${o.number ? ` · <span class="number">${esc(o.number)}</span>` : ''} <span class="hint">${esc(fmtTime(o.answered_at))}</span></li>`).join('')}</ul>
    </section>`;
  $('#sync-button').addEventListener('click', async () => {
    if (!navigator.onLine) return toast('当前离线，联网后会自动同步', 'error');
    await syncNow();
    await renderSync(view);
  });
  for (const b of $$('button.merge')) {
    b.addEventListener('click', async () => {
      await app.engine.resolve(b.dataset.op);
      await syncNow();
      await renderSync(view);
    });
  }
  for (const b of $$('button.theirs-wins')) {
    b.addEventListener('click', async () => {
      const op = await app.store.getOp(b.dataset.op);
      await app.engine.resolve(b.dataset.op, Object.fromEntries(Object.keys(op.data).map((k) => [k, 'theirs'])));
      await syncNow();
      await renderSync(view);
    });
  }
  for (const b of $$('button.discard')) {
    b.addEventListener('click', async () => {
      if (!confirm('放弃后此操作不会再发送，确定？')) return;
      const op = await app.store.getOp(b.dataset.op);
      await app.store.putOp({ ...op, state: 'done', resolution: 'discarded' });
      await renderBar();
      await renderSync(view);
    });
  }
}

// --- start ------------------------------------------------------------------------------

async function start() {
  app.store = await openStore();
  app.deviceId = await deviceId();
  app.session = await app.store.getKV('session');
  app.team = (await app.store.getKV('team')) || [];
  app.api = createApi({ fetch: (...a) => fetch(...a), token: () => app.session?.access_token });
  app.engine = new SyncEngine({ api: app.api, store: app.store, deviceId: app.deviceId, uuid, onChange: () => renderBar() });
  window.fieldApp = app;
  $('#sync-now').addEventListener('click', () => (app.session ? go('#/sync') : null));
  $('#relogin').addEventListener('click', async () => {
    app.session = null;
    await app.store.setKV('session', null);
    route();
  });
  $('#logout').addEventListener('click', async () => {
    const { waiting, attention } = await app.engine.status();
    if (waiting + attention && !confirm(`还有 ${waiting + attention} 项未同步，退出后仍保留在本机，重新登录后继续同步。确定退出？`)) return;
    app.session = null;
    await app.store.setKV('session', null);
    route();
  });
  window.addEventListener('hashchange', route);
  window.addEventListener('online', () => {
    renderBar();
    syncNow();
  });
  window.addEventListener('offline', () => renderBar());
  // While there is something to send, try again now and then (a dropped link mid-batch).
  setInterval(async () => {
    const status = await app.engine.status();
    if (navigator.onLine && app.session && status.waiting) syncNow();
  }, 30000);
  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register('./sw.js', { scope: './' }).catch((err) => console.warn('service worker', err));
  }
  await renderBar();
  await route();
  document.body.dataset.ready = 'true';
  if (app.session && navigator.onLine) syncNow();
}

start();
