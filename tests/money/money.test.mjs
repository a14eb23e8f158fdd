// Keeps the generated price formats honest: the committed CLDR table (engine/src/data/money_cldr.rs)
// must be what scripts/gen-money.mjs makes from this Node's ICU (it also checks every entry formats
// like Intl), and the shared cases (tests/cases/money.json) must still state Intl's texts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

test('the committed locale table is what Intl gives (gen-money --check)', () => {
  const out = execFileSync(process.execPath, [join(root, 'scripts', 'gen-money.mjs'), '--check'], { encoding: 'utf8' });
  assert.match(out, /match ICU/);
});

test('the shared price cases state what Intl shows', async () => {
  const committed = JSON.parse(readFileSync(join(root, 'tests', 'cases', 'money.json'), 'utf8'));
  const { doc } = await import(join(root, 'tests', 'cases', 'make_money.mjs'));
  assert.ok(committed.cases.length >= 40);
  assert.deepEqual(committed, JSON.parse(JSON.stringify(doc)));
});

test('the generator\'s formatter (the engine\'s, in JS) agrees with every shared case', async () => {
  const { table, format } = await import(join(root, 'scripts', 'gen-money.mjs'));
  const t = table();
  for (const c of JSON.parse(readFileSync(join(root, 'tests', 'cases', 'money.json'), 'utf8')).cases) {
    const [amount, currency] = c.price.split(' ');
    const [whole, frac = ''] = amount.split('.');
    const cents = Number(whole) * 100 + Number(frac.padEnd(2, '0'));
    assert.equal(format(t, c.locale ?? 'en-GB', cents, currency), c.display, `${c.locale} ${c.price}`);
  }
});
