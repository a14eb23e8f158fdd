// The README's deployment steps ("Deploying in front of your shop"), followed on loopback with the
// demo's data: the bundle and the snippet into a deploy folder, the production configuration
// template, `wrangler deploy --dry-run`, then that configuration in local workerd in front of the
// shop's own server. Cookies signed by `vitrine cookie`, the Node and the Python references are the
// same and all accepted; with the demo's published secret the worker refuses to personalize; nothing
// demo-only is reachable.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { request } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEdge, root, dist, SECRET as DEV_SECRET } from '../lib/edge.mjs';

const vitrine = join(root, 'target', 'release', 'vitrine');
const wrangler = join(root, 'node_modules', '.bin', 'wrangler');
const env = { ...process.env, WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1' };
const personas = JSON.parse(readFileSync(join(dist, 'personas.json'), 'utf8'));
const LAPSED = (personas.find((p) => /lapsed/i.test(p.label)) || personas[0]).vid;
const SECRET = randomBytes(32).toString('hex');
let tmp, configFile;

before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'vitrine-deploy-'));
  const out = join(tmp, 'deploy', 'vitrine');
  // 1. Compile the bundle: the edge's (full model) and the browser's head and shards, one folder.
  execFileSync(vitrine, ['bundle', '--site', 'demo-shop/site.json', '--catalog', 'build/catalog.json', '--model', 'build/model.json',
    '--out', join(out, 'edge', 'bundle.json'), '--shards', '512', '--sharded-out', out], { cwd: root, stdio: 'pipe' });
  // 2. The snippet beside it.
  for (const f of ['vitrine.js', 'vitrine-worker.js', 'vitrine_bg.wasm']) copyFileSync(join(root, 'js-snippet', 'dist', f), join(out, f));
  // 3. The production template, as a shop fills it in (here: absolute paths, since it lives elsewhere).
  const template = readFileSync(join(root, 'edge-worker', 'wrangler.production.toml'), 'utf8');
  assert.doesNotMatch(template, /^\s*VITRINE_(DEMO|TEST_HOOKS|COOKIE_SECRET)\s*=/m, 'no demo switch and no secret in the template');
  configFile = join(tmp, 'wrangler.toml');
  writeFileSync(configFile, template
    .replace(/^main = .*$/m, `main = ${JSON.stringify(join(root, 'edge-worker', 'build', 'entry.mjs'))}`)
    .replace(/^directory = .*$/m, `directory = ${JSON.stringify(out)}`)
    .replace(/^"vitrine:edge-bundle" = .*$/m, `"vitrine:edge-bundle" = ${JSON.stringify(join(out, 'edge', 'bundle.json'))}`)
    .replace('FILL-IN-YOUR-KV-NAMESPACE-ID', '0123456789abcdef0123456789abcdef'));
});

after(() => tmp && rmSync(tmp, { recursive: true, force: true }));

const lapsedProfile = () => readFileSync(join(root, 'build', 'profiles.jsonl'), 'utf8').split('\n').find((l) => l.includes(`"id":"${LAPSED}"`));

test('the production configuration passes wrangler\'s own checks', () => {
  const log = execFileSync(wrangler, ['deploy', '--dry-run', '--config', configFile, '--outdir', join(tmp, 'dry-run')],
    { cwd: root, env, stdio: 'pipe' }).toString();
  assert.match(log, /env\.PROFILES/);
  assert.match(log, /env\.ASSETS/);
  assert.doesNotMatch(log, /VITRINE_DEMO|VITRINE_COOKIE_SECRET/);
});

test('with the demo\'s published secret, a deployed worker personalizes nothing', async () => {
  writeFileSync(join(tmp, '.dev.vars'), `VITRINE_COOKIE_SECRET=${DEV_SECRET}\n`);
  const edge = await startEdge({ configFile, profiles: { [LAPSED]: lapsedProfile() } });
  try {
    const signed = execFileSync(vitrine, ['cookie', '--id', LAPSED], { env: { ...env, VITRINE_COOKIE_SECRET: DEV_SECRET }, stdio: 'pipe' }).toString().trim();
    const res = await fetch(edge.base + '/', { headers: { cookie: `vitrine_vid=${signed}` } });
    assert.equal(res.headers.get('x-vitrine'), 'bypass; reason=dev-secret');
    assert.equal(await res.text(), readFileSync(join(dist, 'index.html'), 'utf8'), 'the shop\'s page, untouched');
    // The loud log line (wrangler prints the worker's console a moment later).
    for (let i = 0; i < 50 && !/published secret/.test(edge.log()); i++) await new Promise((r) => setTimeout(r, 100));
    assert.match(edge.log(), /VITRINE_COOKIE_SECRET is the demo's published secret/);
  } finally {
    await edge.close();
  }
});

test('a shop\'s backend signs the visitor cookie (CLI, Node, Python alike) and the worker personalizes', async () => {
  writeFileSync(join(tmp, '.dev.vars'), `VITRINE_COOKIE_SECRET=${SECRET}\n`);
  const withSecret = { ...env, VITRINE_COOKIE_SECRET: SECRET };
  const cli = execFileSync(vitrine, ['cookie', '--id', LAPSED], { env: withSecret, stdio: 'pipe' }).toString().trim();
  const node = execFileSync(process.execPath, [join(root, 'docs', 'backend', 'vitrine-cookie.mjs'), LAPSED], { env: withSecret, stdio: 'pipe' }).toString().trim();
  const python = execFileSync('python3', [join(root, 'docs', 'backend', 'vitrine_cookie.py'), LAPSED], { env: withSecret, stdio: 'pipe' }).toString().trim();
  assert.equal(node, cli);
  assert.equal(python, cli);
  const header = execFileSync(vitrine, ['cookie', '--id', LAPSED, '--set-cookie'], { env: withSecret, stdio: 'pipe' }).toString().trim();
  assert.equal(header, `vitrine_vid=${cli}; Path=/; HttpOnly; SameSite=Lax; Max-Age=31536000; Secure`);

  const edge = await startEdge({ configFile, profiles: { [LAPSED]: lapsedProfile() } });
  try {
    const res = await fetch(edge.base + '/', { headers: { cookie: `vitrine_vid=${cli}` } });
    assert.equal(res.headers.get('x-vitrine'), 'personalized');
    assert.match(await res.text(), /data-vitrine-variant="winback"/);
    const forged = await fetch(edge.base + '/', { headers: { cookie: `vitrine_vid=${LAPSED}.${'0'.repeat(32)}` } });
    assert.equal(forged.headers.get('x-vitrine'), 'default; reason=bad-cookie');
    await forged.arrayBuffer();
    // Nothing of the demo's: no switcher, no test hooks, no public edge bundle; the snippet is there.
    assert.equal((await fetch(edge.base + '/__vitrine/demo/become?vid=x&next=/', { redirect: 'manual' })).status, 404);
    assert.equal((await fetch(edge.base + '/__vitrine/decide', { method: 'POST', body: '{}' })).status, 404);
    assert.equal((await fetch(edge.base + '/vitrine/edge/bundle.json')).status, 404);
    assert.equal((await fetch(edge.base + '/vitrine/vitrine.js')).status, 200);
  } finally {
    await edge.close();
  }
});

test('`vitrine cookie` refuses a missing secret and a bad id with exit code 2', () => {
  const run = (args, secret) => {
    try {
      execFileSync(vitrine, ['cookie', ...args], { env: { ...env, VITRINE_COOKIE_SECRET: secret }, stdio: 'pipe' });
      return { status: 0, stderr: '' };
    } catch (e) {
      return { status: e.status, stderr: e.stderr.toString() };
    }
  };
  const none = run(['--id', 'c-1'], '');
  assert.equal(none.status, 2);
  assert.match(none.stderr, /VITRINE_COOKIE_SECRET: expected the worker's cookie secret/);
  const bad = run(['--id', 'c 1<'], SECRET);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--id: expected letters, digits and -_\.: \(1 to 128 characters\), found "c 1<"/);
});

test('the demo\'s own configuration, deployed as it is, serves nothing of the demo to a real host', async () => {
  const edge = await startEdge({ profiles: { [LAPSED]: lapsedProfile() } });
  // As a deployment sees it: the shop's hostname, not loopback (wrangler dev takes the URL's host
  // from the Host header).
  const get = (path, headers = {}) => new Promise((ok, fail) => {
    const r = request(edge.base + path, { headers: { host: 'shop.example', ...headers } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        const text = (res.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body).toString();
        ok({ status: res.statusCode, vitrine: res.headers['x-vitrine'], text });
      });
    });
    r.on('error', fail);
    r.end();
  });
  try {
    assert.equal((await get('/__vitrine/demo/become?vid=c-1&next=/')).status, 404, 'no visitor switcher');
    assert.equal((await get('/vitrine/edge/bundle.json')).status, 404, 'no public model');
    const page = await get('/', { cookie: `vitrine_vid=${execFileSync(vitrine, ['cookie', '--id', LAPSED], { env: { ...env, VITRINE_COOKIE_SECRET: DEV_SECRET }, stdio: 'pipe' }).toString().trim()}` });
    assert.equal(page.vitrine, 'bypass; reason=dev-secret', 'the published secret unlocks nothing');
    assert.equal(page.text, readFileSync(join(dist, 'index.html'), 'utf8'));
    for (let i = 0; i < 30 && !/only serves loopback hosts/.test(edge.log()); i++) await new Promise((r) => setTimeout(r, 100));
    assert.match(edge.log(), /VITRINE_DEMO is on, but only serves loopback hosts/);
  } finally {
    await edge.close();
  }
});
