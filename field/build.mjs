// Build the field app into dist/: content-hashed bundles, the shell page, and a service
// worker that precaches exactly this build's files. Run by scripts/serve and scripts/test.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
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

for (const name of await readdir(join(root, 'public'))) {
  if (name !== 'index.html') await copyFile(join(root, 'public', name), join(dist, name));
}
const html = (await readFile(join(root, 'public/index.html'), 'utf8')).replace('{{JS}}', js).replace('{{CSS}}', css);
await writeFile(join(dist, 'index.html'), html);

const shellFiles = ['index.html', ...outputs, ...(await readdir(join(root, 'public'))).filter((n) => n !== 'index.html')];
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
