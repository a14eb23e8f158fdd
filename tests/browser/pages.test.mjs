// The demo's generated pages as files (no browser needed): text escaped exactly once everywhere.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join, relative } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dist = join(root, 'demo-shop', 'dist');

function* htmlFiles(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* htmlFiles(path);
    else if (entry.name.endsWith('.html')) yield path;
  }
}

test('no page of the demo shows an entity escaped twice ("&amp;amp;")', () => {
  const twice = /&amp;(?:amp|lt|gt|quot|apos|nbsp|#\d+|#x[0-9a-f]+);/i;
  let pages = 0;
  const found = [];
  for (const file of htmlFiles(dist)) {
    pages++;
    const html = readFileSync(file, 'utf8');
    const m = twice.exec(html);
    if (m) found.push(`${relative(dist, file)}: …${html.slice(Math.max(0, m.index - 60), m.index + 30)}…`);
  }
  assert.ok(pages > 100, `${pages} pages`);
  assert.deepEqual(found.slice(0, 10), [], `${found.length} pages`);
});
