// Build the field app into dist/: content-hashed bundles, the shell page, and a service
// worker that precaches exactly this build's files. Run by scripts/serve and scripts/test.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { deflateSync, gzipSync } from 'node:zlib';
import { copyFile, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(fileURLToPath(import.meta.url));
const dist = join(root, 'dist');

await rm(dist, { recursive: true, force: true });
await mkdir(dist, { recursive: true });

const result = await build({
  entryPoints: { app: join(root, 'src/main.js') },
  bundle: true,
  splitting: true,
  format: 'esm',
  minify: true,
  sourcemap: false,
  target: ['chrome90', 'safari14', 'firefox90'],
  outdir: dist,
  entryNames: '[name]-[hash]',
  chunkNames: 'chunk-[hash]',
  assetNames: '[name]-[hash]',
  metafile: true,
  legalComments: 'none',
  logLevel: 'warning',
});

const outputs = Object.keys(result.metafile.outputs).map((p) => p.slice(p.indexOf('dist/') + 5));
const js = outputs.find((p) => /^app-.*\.js$/.test(p));
const css = outputs.find((p) => /^app-.*\.css$/.test(p));

// Home-screen icons (PNG, as installers want them): a white shield mark on the brand red.
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'ascii');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}
function iconPng(size) {
  const rows = [];
  for (let y = 0; y < size; y++) {
    const row = Buffer.alloc(1 + size * 3);
    for (let x = 0; x < size; x++) {
      const u = x / size - 0.5;
      const v = y / size - 0.42;
      // A shield: a box narrowing to a point below.
      const inside = Math.abs(u) < 0.26 - Math.max(0, v) * 0.5 && v > -0.22 && v < 0.42;
      const rgb = inside ? [255, 255, 255] : [192, 57, 43];
      row.set(rgb, 1 + x * 3);
    }
    rows.push(row);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header.set([8, 2, 0, 0, 0], 8);
  const signature = Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]);
  return Buffer.concat([signature, chunk('IHDR', header), chunk('IDAT', deflateSync(Buffer.concat(rows))), chunk('IEND', Buffer.alloc(0))]);
}
for (const size of [192, 512]) await writeFile(join(dist, `icon-${size}.png`), iconPng(size));

for (const name of await readdir(join(root, 'public'))) {
  if (name !== 'index.html') await copyFile(join(root, 'public', name), join(dist, name));
}
const html = (await readFile(join(root, 'public/index.html'), 'utf8')).replace('{{JS}}', js).replace('{{CSS}}', css);
await writeFile(join(dist, 'index.html'), html);

const shellFiles = ['index.html', ...outputs, 'icon-192.png', 'icon-512.png', ...(await readdir(join(root, 'public'))).filter((n) => n !== 'index.html')];
const hash = createHash('sha256');
for (const name of shellFiles.sort()) hash.update(name).update(await readFile(join(dist, name)));
const version = hash.digest('hex').slice(0, 12);
const shell = ['/field/', ...shellFiles.filter((n) => n !== 'index.html').map((n) => `/field/${n}`)];

await build({
  entryPoints: [join(root, 'src/sw.js')],
  bundle: true,
  minify: true,
  format: 'iife',
  outfile: join(dist, 'sw.js'),
  define: { __SHELL__: JSON.stringify(shell), __VERSION__: JSON.stringify(version) },
  logLevel: 'warning',
});

// Compressed twins, sent to browsers that accept gzip (the service is not behind a proxy
// that compresses on every intranet).
for (const name of [...shellFiles, 'sw.js']) {
  if (/\.(js|css|html|svg|webmanifest)$/.test(name)) {
    await writeFile(join(dist, `${name}.gz`), gzipSync(await readFile(join(dist, name)), { level: 9 }));
  }
}

const sizes = await Promise.all(shellFiles.map(async (n) => [n, (await readFile(join(dist, n))).length]));
console.log(`field app ${version}: ${sizes.map(([n, s]) => `${n} ${(s / 1024).toFixed(1)} KiB`).join(', ')}`);
