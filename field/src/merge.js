// A conflict answered by the server: the inspector's edit against the record as it is now.
// Pure: the screen shows what these return, and one tap re-sends the merge.

function same(a, b) {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Each field the edit changes, with the inspector's value and the server's. */
export function conflictFields(op, current) {
  const fields = [];
  for (const [name, mine] of Object.entries(op.data || {})) {
    const theirs = current ? current[name] : undefined;
    fields.push({ name, mine, theirs, differs: !same(mine, theirs) });
  }
  return fields;
}

/**
 * The value a one-tap merge keeps for a field: both sides' items for a list (photos taken by
 * both stay), the inspector's for anything else (they are the one on site).
 */
export function mergeValue(mine, theirs) {
  if (Array.isArray(mine) && Array.isArray(theirs)) {
    const out = [...theirs];
    for (const item of mine) if (!out.some((x) => same(x, item))) out.push(item);
    return out;
  }
  return mine;
}

/**
 * The data and base version of the edit to re-send after a conflict: the merged values of
 * the fields that still differ, made against the server's current version. ``choice`` may
 * name, per field, 'mine' or 'theirs'; a field kept as the server has it is not sent.
 * Returns null when nothing is left to send (the server's version won everywhere).
 */
export function resolveConflict(op, current, choice = {}) {
  if (!current || typeof current.version !== 'number') throw new Error('the conflict has no current record');
  const data = {};
  for (const { name, mine, theirs } of conflictFields(op, current)) {
    const pick = choice[name] || 'merge';
    const value = pick === 'theirs' ? theirs : pick === 'mine' ? mine : mergeValue(mine, theirs);
    if (!same(value, theirs)) data[name] = value;
  }
  if (!Object.keys(data).length) return null;
  return { data, base_version: current.version };
}
