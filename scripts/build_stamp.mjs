// Record which sources the shipped labextension was built from: a SHA-256
// over src/, style/, schema/, package.json, tsconfig.json and the protocol
// schema, written into the build output (npm run build runs this last).
// `node scripts/build_stamp.mjs --check` exits 1 when the build output is
// stale (tests/test_packaging.py and ./run.sh wheel run it). The build also
// copies install.json into the output, so the wheel maps one folder.
import { createHash } from 'crypto';
import { copyFileSync, readdirSync, readFileSync, statSync, writeFileSync } from 'fs';
import { dirname, join } from 'path';
import { fileURLToPath } from 'url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const INPUTS = [
  'src',
  'style',
  'schema',
  'package.json',
  'tsconfig.json',
  'install.json',
  'python/cnnlive/protocol/schema.json'
];

function files(rel) {
  const full = join(ROOT, rel);
  if (!statSync(full, { throwIfNoEntry: false })) {
    return [];
  }
  if (!statSync(full).isDirectory()) {
    return [rel];
  }
  return readdirSync(full)
    .filter(name => !name.startsWith('.'))
    .flatMap(name => files(`${rel}/${name}`));
}

export function sourcesHash() {
  const all = INPUTS.flatMap(files).sort();
  const hash = createHash('sha256');
  for (const rel of all) {
    hash.update(rel + '\0');
    hash.update(readFileSync(join(ROOT, rel)));
    hash.update('\0');
  }
  return { sha256: hash.digest('hex'), files: all.length };
}

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const out = join(ROOT, pkg.jupyterlab.outputDir, 'build-stamp.json');
const stamp = JSON.stringify({ inputs: INPUTS, ...sourcesHash() }, null, 2) + '\n';
if (process.argv.includes('--check')) {
  let recorded = '';
  try {
    recorded = readFileSync(out, 'utf8');
  } catch {
    // no build output yet
  }
  if (recorded !== stamp) {
    console.log(`${pkg.jupyterlab.outputDir} is stale or missing: run npm run build and commit it`);
    process.exit(1);
  }
} else {
  writeFileSync(out, stamp);
  copyFileSync(join(ROOT, 'install.json'), join(ROOT, pkg.jupyterlab.outputDir, 'install.json'));
}
