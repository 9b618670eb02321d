// Photos and signatures go up before the ops that name them, resumably: HEAD says how many
// bytes of an interrupted upload the server kept, and the rest follows in Content-Range
// chunks, so one bar of signal never sends the same bytes twice.
import { ApiError } from './api.js';

export const CHUNK_BYTES = 128 * 1024;

function sizeOf(data) {
  return data.size ?? data.byteLength;
}

function offsetOf(response) {
  const value = Number(response.headers.get('Upload-Offset'));
  return Number.isFinite(value) && value >= 0 ? value : 0;
}

/**
 * Make sure the server holds attachment ``sha`` (content ``data``: a Blob or bytes).
 * Returns the number of bytes sent. Throws NetworkError / ApiError (retryable ones leave the
 * upload to be resumed at the next sync).
 */
export async function uploadAttachment(api, sha, data, type = 'application/octet-stream', { chunk = CHUNK_BYTES } = {}) {
  const path = `/attachments/${sha}`;
  const head = await api.send('HEAD', path);
  if (head.status === 200) return 0;
  if (head.status !== 404) throw new ApiError(head.status, null);
  const total = sizeOf(data);
  let offset = offsetOf(head);
  let sent = 0;
  if (offset === 0 && total <= chunk) {
    const response = await api.send('PUT', path, { body: data, headers: { 'Content-Type': type } });
    if (response.status === 200 || response.status === 201) return total;
    throw new ApiError(response.status, await api.jsonOf(response));
  }
  for (let rounds = 0; rounds < 4 * Math.ceil(total / chunk) + 8; rounds++) {
    const end = Math.min(offset + chunk, total);
    const response = await api.send('PUT', path, {
      body: data.slice(offset, end),
      headers: { 'Content-Type': type, 'Content-Range': `bytes ${offset}-${end - 1}/${total}` },
    });
    if (response.status === 200 || response.status === 201) return sent + (end - offset);
    if (response.status === 202) {
      sent += end - offset;
      offset = offsetOf(response);
      continue;
    }
    if (response.status === 409) {
      // offset_mismatch: the server kept more (or less) than we thought; go on from there.
      offset = offsetOf(response);
      continue;
    }
    throw new ApiError(response.status, await api.jsonOf(response));
  }
  throw new Error(`upload of ${sha} does not progress`);
}
