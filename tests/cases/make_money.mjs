#!/usr/bin/env node
// Writes money.json: a catalog price in a site's locale to the text every runtime shows (a
// recommendation's `price`). The expected texts are Node's Intl.NumberFormat's (ICU's CLDR), not
// the engine's: `node tests/cases/make_money.mjs` rewrites the file, tests/money checks it still
// matches Intl. `locale: null` is a site without `locale` (en-GB).
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const CASES = [
  [null, '12.75 GBP'], [null, '7.00 EUR'], [null, '1234.5 GBP'],
  ['en-GB', '12.75 GBP'], ['en-GB', '0.05 GBP'], ['en-GB', '1234.5 GBP'], ['en-GB', '1234567.89 EUR'], ['en-GB', '12.75 USD'],
  ['en-GB', '1234.5 JPY'], ['en-GB', '1234.49 JPY'], ['en-GB', '12.75 CHF'], ['en-GB', '12.75 ZAR'],
  ['en-US', '12.75 USD'], ['en-IE', '12.75 EUR'],
  ['de-DE', '2.95 EUR'], ['de-DE', '1234.5 EUR'], ['de-DE', '12345.5 EUR'], ['de-DE', '12.75 CHF'], ['de-DE', '12.75 ZAR'],
  ['de-AT', '1234.5 EUR'], ['de-CH', '1234.5 CHF'], ['de-CH', '1234567.5 EUR'], ['fr-CH', '1234.5 CHF'],
  ['fr-FR', '1234.5 EUR'], ['fr-FR', '12.75 GBP'], ['fr-FR', '12.75 ZAR'], ['fr-BE', '12.75 EUR'],
  ['nl-NL', '1234.5 EUR'], ['nl-BE', '12.75 EUR'], ['it-IT', '1234.5 EUR'], ['it-IT', '12345.5 EUR'],
  ['es-ES', '1234.5 EUR'], ['es-ES', '12345.5 EUR'], ['pl-PL', '1234.5 PLN'], ['pl-PL', '12345.5 PLN'], ['pl-PL', '12.75 EUR'],
  ['pt-PT', '1234.5 EUR'], ['pt-PT', '12345.5 EUR'], ['sv-SE', '1234.5 SEK'], ['sv-SE', '1234 ISK'], ['da-DK', '1234.5 DKK'],
  ['nb-NO', '1234.5 NOK'], ['fi-FI', '1234.5 EUR'], ['is-IS', '1234 ISK'], ['cs-CZ', '1234.5 CZK'], ['hu-HU', '1234.5 HUF'],
  ['hu-HU', '12345 HUF'], ['ro-RO', '1234.5 RON'], ['bg-BG', '12.75 BGN'], ['el-GR', '1234.5 EUR'], ['hr-HR', '1234.5 EUR'],
];

const cases = CASES.map(([locale, price]) => {
  const [amount, currency] = price.split(' ');
  const display = new Intl.NumberFormat(locale ?? 'en-GB', { style: 'currency', currency }).format(Number(amount));
  return { locale, price, display };
});
const doc = {
  v: 1,
  about: 'Written by make_money.mjs: a catalog price (Merchant Center\'s "<amount> <currency>") in a site\'s `locale` (null: none, en-GB) to the text a recommendation\'s `price` shows, as Node\'s Intl.NumberFormat (ICU\'s CLDR) writes it, spacing characters (U+00A0, U+202F) included. Run natively (engine/tests/money.rs), in the Wasm build in Chromium and by the edge worker in workerd (tests/edge/cases.test.mjs, on the bundles scripts/build.sh compiles per locale); tests/money checks the file still matches Intl.',
  cases,
};
const out = join(dirname(fileURLToPath(import.meta.url)), 'money.json');
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(out, JSON.stringify(doc, null, 1) + '\n');
  console.log(`make_money: ${cases.length} cases -> ${out}`);
}
export { doc };
