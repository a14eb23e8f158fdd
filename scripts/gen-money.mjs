#!/usr/bin/env node
// Writes engine/src/data/money_cldr.rs, the price formats of the locales a European shop needs
// (CLDR, as ICU has them), from Node's Intl.NumberFormat: `node scripts/gen-money.mjs` rewrites
// the table, `--check` fails when the committed one differs from what this Node's ICU gives
// (tests/money/money.test.mjs runs it so). The table is the compile side's only: `vitrine bundle`
// resolves a site's `locale` into a small format (engine/src/data/money.rs) that the bundle
// carries, and no runtime links the table.
//
// Per locale: the decimal and group separators of currency amounts (which are not always the
// plain numbers' — fr-CH, de-AT), the minimum grouping digits (2 in es-ES and pl-PL: "1234,50 €"
// but "12.345,50 €"), and for each currency the exact text before and after the number, spacing
// characters (U+00A0, U+202F) included; a currency the table does not list shows its ISO code where
// ICU puts it (the fallback's text: the code goes first when it has text before the number, else
// last). Fraction digits are CLDR's per currency (JPY, HUF, ISK: 0).
// Before writing, every entry is checked by formatting amounts the way the engine will
// (`format` below mirrors `MoneyFormat::format`) and comparing with Intl: a locale this model
// cannot express fails here rather than in a shop.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'engine', 'src', 'data', 'money_cldr.rs');

// The EU/EEA, the UK and Switzerland: each country's main languages, plus en-US.
export const LOCALES = [
  'bg-BG', 'ca-ES', 'cs-CZ', 'da-DK', 'de-AT', 'de-BE', 'de-CH', 'de-DE', 'de-LI', 'de-LU', 'el-CY', 'el-GR',
  'en-GB', 'en-IE', 'en-MT', 'en-US', 'es-ES', 'et-EE', 'fi-FI', 'fr-BE', 'fr-CH', 'fr-FR', 'fr-LU', 'ga-IE',
  'hr-HR', 'hu-HU', 'is-IS', 'it-CH', 'it-IT', 'lb-LU', 'lt-LT', 'lv-LV', 'mt-MT', 'nb-NO', 'nl-BE', 'nl-NL',
  'nn-NO', 'pl-PL', 'pt-PT', 'ro-RO', 'sk-SK', 'sl-SI', 'sv-FI', 'sv-SE',
];
// The currencies European shops price in.
export const CURRENCIES = ['BGN', 'CHF', 'CZK', 'DKK', 'EUR', 'GBP', 'HUF', 'ISK', 'JPY', 'NOK', 'PLN', 'RON', 'SEK', 'USD'];
// A well-formed code no CLDR version knows: where ICU puts an unknown currency's ISO code.
const UNKNOWN = 'QQQ';

const fail = (msg) => {
  console.error(`gen-money: ${msg}`);
  process.exit(1);
};

// The text before and after the number, and the separators, of one locale and currency.
function parts(locale, currency) {
  const f = new Intl.NumberFormat(locale, { style: 'currency', currency });
  const p = f.formatToParts(1234567.5);
  const first = p.findIndex((x) => x.type === 'integer');
  const last = p.findLastIndex((x) => ['integer', 'group', 'decimal', 'fraction'].includes(x.type));
  const number = p.slice(first, last + 1);
  if (number.some((x) => !['integer', 'group', 'decimal', 'fraction'].includes(x.type))) fail(`${locale} ${currency}: unexpected parts ${JSON.stringify(p)}`);
  const ints = number.filter((x) => x.type === 'integer').map((x) => x.value.length);
  if (ints.join() !== '1,3,3') fail(`${locale} ${currency}: expected groups of three, found ${JSON.stringify(p)}`);
  const text = (xs) => xs.map((x) => x.value).join('');
  const { maximumFractionDigits: digits, minimumFractionDigits: min } = f.resolvedOptions();
  if (digits !== min || digits > 2) fail(`${locale} ${currency}: fraction digits ${min}..${digits}, expected one number up to 2`);
  const grouped = (n) => f.formatToParts(n).some((x) => x.type === 'group');
  const minGrouping = grouped(1234) ? 1 : grouped(12345) ? 2 : fail(`${locale} ${currency}: 12345 is not grouped`);
  return {
    before: text(p.slice(0, first)),
    after: text(p.slice(last + 1)),
    group: number.find((x) => x.type === 'group').value,
    decimal: number.find((x) => x.type === 'decimal')?.value ?? (digits ? fail(`${locale} ${currency}: no decimal separator`) : null),
    digits,
    minGrouping,
  };
}

export function table() {
  const digits = CURRENCIES.map((c) => [c, new Intl.NumberFormat('en', { style: 'currency', currency: c }).resolvedOptions().maximumFractionDigits]);
  const locales = LOCALES.map((tag) => {
    if (Intl.NumberFormat.supportedLocalesOf([tag]).length !== 1) fail(`${tag}: not in this Node's ICU`);
    const unknown = parts(tag, UNKNOWN);
    const symbols = CURRENCIES.map((c) => [c, parts(tag, c)]);
    for (const [c, p] of symbols) {
      for (const k of ['group', 'decimal', 'minGrouping']) {
        if (p[k] !== unknown[k] && p[k] !== null) fail(`${tag}: ${c}'s ${k} ${JSON.stringify(p[k])} differs from the locale's ${JSON.stringify(unknown[k])}`);
      }
    }
    // The unknown code is the first thing before the number or the last after it, always spaced.
    const fallback = unknown.before.startsWith(UNKNOWN) && unknown.before.length > UNKNOWN.length && !unknown.after
      ? [unknown.before.slice(UNKNOWN.length), '']
      : !unknown.before && unknown.after.endsWith(UNKNOWN) && unknown.after.length > UNKNOWN.length
        ? ['', unknown.after.slice(0, -UNKNOWN.length)]
        : fail(`${tag}: unexpected form of an unknown currency ${JSON.stringify(unknown)}`);
    return { tag, decimal: unknown.decimal, group: unknown.group, minGrouping: unknown.minGrouping, fallback, symbols: symbols.map(([c, p]) => [c, p.before, p.after]) };
  });
  return { digits, locales };
}

// The engine's formatter (engine/src/data/money.rs, `MoneyFormat::format`), for the self-check and
// the case file's test: `cents` in minor units of two digits, as catalog prices are kept.
export function format(t, tag, cents, currency) {
  const l = t.locales.find((x) => x.tag === tag);
  const sym = l.symbols.find(([c]) => c === currency);
  const digits = t.digits.find(([c]) => c === currency)?.[1] ?? 2;
  const [before, after] = sym ? [sym[1], sym[2]] : l.fallback[0] ? [currency + l.fallback[0], ''] : ['', l.fallback[1] + currency];
  const scale = 10 ** (2 - digits);
  const v = Math.floor((cents + Math.floor(scale / 2)) / scale);
  const whole = String(Math.floor(v / 10 ** digits));
  let int = whole;
  if (whole.length >= 3 + l.minGrouping) {
    int = '';
    for (let i = 0; i < whole.length; i++) {
      if (i > 0 && (whole.length - i) % 3 === 0) int += l.group;
      int += whole[i];
    }
  }
  const frac = digits ? l.decimal + String(v % 10 ** digits).padStart(digits, '0') : '';
  return before + int + frac + after;
}

function selfCheck(t) {
  const amounts = [0, 1, 5, 49, 50, 99, 100, 1275, 99999, 123450, 123456, 1234550, 9999999, 12345678901];
  for (const l of t.locales) {
    for (const c of [...CURRENCIES, UNKNOWN, 'XYZ']) {
      const f = new Intl.NumberFormat(l.tag, { style: 'currency', currency: c });
      for (const cents of amounts) {
        const want = f.format(cents / 100);
        const got = format(t, l.tag, cents, c);
        if (got !== want) fail(`${l.tag} ${c} ${cents}: the table gives ${JSON.stringify(got)}, Intl ${JSON.stringify(want)}`);
      }
    }
  }
}

// Rust string literals: printable characters as they are, spacing characters other than the ASCII
// space (U+00A0, U+202F) and quotes escaped, so a reviewer sees which space a locale uses.
const rs = (s) => '"' + [...s].map((ch) => (ch === '"' || ch === '\\' ? '\\' + ch : (/\s/.test(ch) && ch !== ' ') || ch < ' ' || ch === '\u2019' ? `\\u{${ch.codePointAt(0).toString(16)}}` : ch)).join('') + '"';

function render(t) {
  const lines = [
    `//! Generated by scripts/gen-money.mjs from Node's Intl.NumberFormat (ICU ${process.versions.icu}, CLDR ${process.versions.cldr}): do not edit;`,
    '//! `node scripts/gen-money.mjs` rewrites it and tests/money checks it. The compile side only:',
    '//! `MoneyFormat::for_locale` reads it, and bundles carry the one locale a site chose.',
    '',
    'use super::money::LocaleRow;',
    '',
    '/// CLDR fraction digits of each currency (an unlisted one has 2).',
    `pub(crate) const DIGITS: &[(&str, u8)] = &[${t.digits.map(([c, d]) => `(${rs(c)}, ${d})`).join(', ')}];`,
    '',
    '/// By tag; each currency\'s text before and after the number, in `DIGITS`\' order.',
    'pub(crate) const LOCALES: &[LocaleRow] = &[',
  ];
  for (const l of t.locales) {
    lines.push('    LocaleRow {');
    lines.push(`        tag: ${rs(l.tag)},`);
    lines.push(`        decimal: ${rs(l.decimal)},`);
    lines.push(`        group: ${rs(l.group)},`);
    lines.push(`        min_grouping: ${l.minGrouping},`);
    lines.push(`        fallback: (${rs(l.fallback[0])}, ${rs(l.fallback[1])}),`);
    lines.push(`        symbols: &[${l.symbols.map(([, b, a]) => `(${rs(b)}, ${rs(a)})`).join(', ')}],`);
    lines.push('    },');
  }
  lines.push('];', '');
  return lines.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const t = table();
  selfCheck(t);
  const text = render(t);
  if (process.argv.includes('--check')) {
    let committed = '';
    try {
      committed = readFileSync(out, 'utf8');
    } catch {}
    // The first line names the ICU version; a newer Node with the same data still passes.
    const body = (s) => s.slice(s.indexOf('\n'));
    if (body(committed) !== body(text)) fail(`${out} differs from what this Node's ICU gives: run \`node scripts/gen-money.mjs\` and review the diff`);
    console.log(`gen-money: ${t.locales.length} locales x ${CURRENCIES.length} currencies match ICU ${process.versions.icu}`);
  } else {
    writeFileSync(out, text);
    console.log(`gen-money: ${t.locales.length} locales x ${CURRENCIES.length} currencies -> ${out}`);
  }
}
