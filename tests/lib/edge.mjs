// Starts the edge worker in real workerd (`wrangler dev --local`) in front of a shop's own server
// (demo-shop/server.mjs), with Workers KV seeded: what the edge tests and benchmarks run against.
// Needs scripts/build.sh to have run (demo-shop/dist/ and edge-worker/build/).
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startShop } from '../../demo-shop/server.mjs';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const wrangler = join(root, 'node_modules', '.bin', 'wrangler');
export const config = join(root, 'edge-worker', 'wrangler.toml');
const toml = readFileSync(config, 'utf8');
const tomlString = (key) => (toml.match(new RegExp(`^\\s*${key}\\s*=\\s*"([^"]*)"`, 'm')) || [])[1];
/** The worker's own files (served at /vitrine/). */
export const vitrineDir = resolve(dirname(config), tomlString('directory'));
/** The shop the origin serves. */
export const dist = join(root, 'demo-shop', 'dist');
const entry = resolve(dirname(config), tomlString('main'));
/** The demo configuration's published development secret. */
export const SECRET = tomlString('VITRINE_COOKIE_SECRET');
assert.ok(SECRET, 'VITRINE_COOKIE_SECRET not found in edge-worker/wrangler.toml');

/** The same signature the worker computes: first 16 bytes of HMAC-SHA256(secret, vid), lowercase hex. */
export const sign = (vid, secret = SECRET) => `${vid}.${createHmac('sha256', secret).update(vid).digest('hex').slice(0, 32)}`;

/** What a configuration aliases to build no edge bundle into the worker. */
export const NO_BUNDLE = join(root, 'edge-worker', 'js', 'no-bundle.txt');

/**
 * The demo configuration over a copy of Vitrine's files in `dir`, changed by `edit(vitrineCopy)`,
 * its text by `tomlEdit`: for faults (a corrupt bundle, no KV binding). The edge bundle built into
 * the worker is `builtIn`'s file; by default the copy's, if it is JSON at all (wrangler refuses to
 * build in one that is not), else none. Returns the config's path.
 */
export function configVariant(dir, edit = () => {}, tomlEdit = (t) => t, { builtIn } = {}) {
  cpSync(vitrineDir, join(dir, 'vitrine'), { recursive: true });
  edit(join(dir, 'vitrine'));
  const file = join(dir, 'wrangler.toml');
  if (builtIn === undefined) {
    const copy = join(dir, 'vitrine', 'edge', 'bundle.json');
    builtIn = NO_BUNDLE;
    try {
      JSON.parse(readFileSync(copy, 'utf8'));
      builtIn = copy;
    } catch { /* missing or not JSON: none built in */ }
  }
  writeFileSync(file, tomlEdit(readFileSync(config, 'utf8'))
    .replace(/^main = .*$/m, `main = ${JSON.stringify(join(root, 'edge-worker', 'build', 'entry.mjs'))}`)
    .replace(/^directory = .*$/m, `directory = ${JSON.stringify(join(dir, 'vitrine'))}`)
    .replace(/^"vitrine:edge-bundle" = .*$/m, `"vitrine:edge-bundle" = ${JSON.stringify(builtIn ?? NO_BUNDLE)}`));
  return file;
}

function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
    s.on('error', fail);
  });
}

/**
 * profiles: { vid: snapshot object or raw text } seeded as `profile:<vid>`; routes: the origin's
 * extra routes and upgrade handler (startShop); vars: extra `--var` NAME:VALUE strings; configFile: another wrangler
 * configuration than the demo's. Returns { base, origin, log(), close() }.
 */
export async function startEdge({ profiles = {}, routes = {}, upgrade, vars = [], configFile } = {}) {
  for (const [what, path] of [['demo shop', join(dist, 'index.html')], ['bundle', join(vitrineDir, 'edge', 'bundle.json')], ['edge worker', entry]]) {
    assert.ok(existsSync(path), `${what} not built (${relative(root, path)} is missing): run scripts/build.sh first`);
  }
  const cfg = configFile ?? config;
  const env = { ...process.env, WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1' };
  const state = mkdtempSync(join(tmpdir(), 'vitrine-edge-'));
  const seed = join(state, 'kv.json');
  writeFileSync(seed, JSON.stringify(Object.entries(profiles).map(([vid, p]) =>
    ({ key: `profile:${vid}`, value: typeof p === 'string' ? p : JSON.stringify(p) }))));
  if (Object.keys(profiles).length) {
    execFileSync(wrangler, ['kv', 'bulk', 'put', seed, '--binding', 'PROFILES', '--local', '--persist-to', state, '--config', cfg],
      { env, cwd: root, stdio: 'pipe' });
  }

  const shop = await startShop({ root: dist, routes, upgrade });
  // A free port can be taken again before wrangler binds it (its own helper servers bind port 0
  // first), so a start refused with "Address already in use" tries another port.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const started = await startWrangler(cfg, port, shop, vars, state, env);
    if (started.ok) {
      const { dev, log } = started;
      const close = async () => {
        await stop(dev);
        rmSync(state, { recursive: true, force: true });
        await shop.close();
      };
      /** Resident memory of the runtime (workerd processes of this wrangler), in KB. */
      const memory = () => execFileSync('ps', ['-eo', 'pgid=,rss=,comm='], { encoding: 'utf8' }).split('\n')
        .map((l) => l.trim().split(/\s+/)).filter(([g, , c]) => Number(g) === dev.pid && /workerd/.test(c ?? ''))
        .reduce((sum, [, rss]) => sum + Number(rss), 0);
      return { base: `http://127.0.0.1:${port}`, origin: shop.url, log, memory, close };
    }
    if (started.portTaken && attempt < 3) continue;
    rmSync(state, { recursive: true, force: true });
    await shop.close();
    assert.fail(started.why);
  }
}

/**
 * Stops wrangler together with its workerd (its own process group) and waits until wrangler has
 * exited. The group is signalled even when wrangler has already exited: a workerd it started may
 * outlive it.
 */
async function stop(dev) {
  const running = dev.exitCode === null && dev.signalCode === null;
  const exited = running ? new Promise((ok) => dev.once('exit', ok)) : Promise.resolve();
  try { process.kill(-dev.pid, 'SIGTERM'); } catch { return; /* the whole group is gone */ }
  const timer = new Promise((ok) => setTimeout(ok, 10_000).unref());
  await Promise.race([exited, timer]);
}

/** `wrangler dev` on `port` in front of `shop`: { ok, dev, log } once it answers, else { ok: false, why, portTaken }. */
async function startWrangler(cfg, port, shop, vars, state, env) {
  const base = `http://127.0.0.1:${port}`;
  // Its own process group, so that stop() can stop wrangler together with its workerd.
  const dev = spawn(wrangler, ['dev', '--local', '--config', cfg, '--ip', '127.0.0.1', '--port', String(port),
    '--var', `VITRINE_ORIGIN:${shop.url}`, ...vars.flatMap((v) => ['--var', v]),
    '--persist-to', state, '--show-interactive-dev-session=false'],
  { env, cwd: root, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let devLog = '';
  const keep = (b) => { devLog = (devLog + b).slice(-20000); };
  dev.stdout.on('data', keep);
  dev.stderr.on('data', keep);
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (dev.exitCode !== null) {
      await stop(dev);
      return { ok: false, portTaken: /Address already in use/.test(devLog), why: `wrangler dev exited (${dev.exitCode}):\n${devLog}` };
    }
    try {
      await fetch(base + '/vitrine/vitrine.js');
      return { ok: true, dev, log: () => devLog };
    } catch {
      if (Date.now() > deadline) {
        await stop(dev);
        return { ok: false, portTaken: false, why: `wrangler dev did not answer within 90 s:\n${devLog}` };
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
