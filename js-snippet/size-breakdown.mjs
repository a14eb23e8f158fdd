// Where the production Wasm's bytes go, by crate and module: reads `twiggy top -f csv` of a build
// with names (js-snippet/build.sh makes one) and sums each function into the first
// `crate::module` its name mentions, so generic code lands where it is instantiated from when it
// can. Usage: twiggy top -n 100000 -f csv named.wasm | node size-breakdown.mjs [rows]
import { readFileSync } from 'node:fs';

const rows = Number(process.argv[2] || 15);
const lines = readFileSync(0, 'utf8').trim().split('\n').slice(1);
const sums = new Map();
let total = 0;
for (const line of lines) {
  // Name,ShallowSize,ShallowSizePercent,RetainedSize,RetainedSizePercent; the name may be quoted.
  const m = /^(?:"((?:[^"]|"")*)"|([^,]*)),(\d+),/.exec(line);
  if (!m) continue;
  const name = (m[1] ?? m[2]).replace(/""/g, '"');
  const size = Number(m[3]);
  if (name.includes('function names') || name.startsWith('custom section')) continue;
  total += size;
  const own = /(vitrine_[a-z]+)::([a-z_]+)/.exec(name);
  const any = /([a-z_][a-z0-9_]*)(?:\[[0-9a-f]+\])?::([a-z_][a-z0-9_]*)/.exec(name);
  const key = own ? `${own[1]}::${own[2]}` : name.startsWith('data segment') ? 'data segments' : any ? `${any[1]}::${any[2]}` : 'other';
  sums.set(key, (sums.get(key) || 0) + size);
}
const top = [...sums].sort((a, b) => b[1] - a[1]).slice(0, rows);
for (const [key, size] of top) {
  console.log(`${String(size).padStart(8)}  ${(100 * size / total).toFixed(1).padStart(5)} %  ${key}`);
}
console.log(`${String(total).padStart(8)}  100.0 %  total (code and data, before gzip)`);
