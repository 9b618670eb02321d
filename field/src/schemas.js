// The op payload schemas checked in under client_schema/: the contract with the server.
// They are bundled at build time, so an op is checked offline before it is queued.
import { Validator } from '@cfworker/json-schema';
import scan from '../../client_schema/v1/scan.json' with { type: 'json' };
import inspection from '../../client_schema/v1/inspection.json' with { type: 'json' };
import inspectionEdit from '../../client_schema/v1/inspection.edit.json' with { type: 'json' };
import hazard from '../../client_schema/v1/hazard.json' with { type: 'json' };
import hazardEdit from '../../client_schema/v1/hazard.edit.json' with { type: 'json' };
import rectification from '../../client_schema/v1/rectification.json' with { type: 'json' };
import documentSchema from '../../client_schema/v1/document.json' with { type: 'json' };

export const SCHEMA_VERSION = 1;

const SCHEMAS = {
  scan: { create: scan },
  inspection: { create: inspection, edit: inspectionEdit },
  hazard: { create: hazard, edit: hazardEdit },
  rectification: { create: rectification },
  document: { create: documentSchema },
};

const validators = new Map();

function validatorFor(entity, kind) {
  const key = `${entity}.${kind}`;
  if (!validators.has(key)) {
    const schema = SCHEMAS[entity]?.[kind];
    if (!schema) throw new Error(`no schema for ${key}`);
    validators.set(key, new Validator(schema, '2020-12', false));
  }
  return validators.get(key);
}

// The field each error is about, from the instance location ("#/hazards/0" → "hazards").
function fieldOf(error) {
  const missing = error.keyword === 'required' && /"([^"]+)"/.exec(error.error);
  if (missing) return missing[1];
  const path = (error.instanceLocation || '#').replace(/^#\/?/, '');
  return path.split('/')[0] || '_schema';
}

/** Errors of an op's data against its schema, as {field: [messages]}; {} when valid. */
export function validateData(entity, data, { edit = false } = {}) {
  const result = validatorFor(entity, edit ? 'edit' : 'create').validate(data);
  if (result.valid) return {};
  const fields = {};
  for (const error of result.errors) {
    // The validator reports each failing keyword and the "properties" wrappers above it;
    // the innermost messages say what is wrong.
    if (['properties', 'items', 'allOf', '$ref'].includes(error.keyword)) continue;
    const field = fieldOf(error);
    (fields[field] ||= []).push(error.error);
  }
  if (!Object.keys(fields).length) fields._schema = ['invalid'];
  return fields;
}
