// The demo shop's own web server: what Shopify, Magento or a shop's Node server is in production,
// and what the edge worker stands in front of (scripts/serve.sh). It serves the generated pages in
// demo-shop/dist the way a shop's server would: content types, caching headers, ETag and
// Last-Modified with 304s, HEAD, byte ranges, gzip for text, a 404 page, `/insights` → `/insights/`.
// It knows nothing of Vitrine: personalization is the worker's job.
//
//   node demo-shop/server.mjs [--port 8788] [--root demo-shop/dist]
//
// Loopback only. Tests import startShop() and add routes of their own.
import { createServer } from 'node:http';
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml', '.json': 'application/json', '.wasm': 'application/wasm',
  '.vtm': 'application/octet-stream', '.gz': 'application/gzip', '.png': 'image/png', '.ico': 'image/x-icon',
};
const COMPRESSIBLE = /^(text\/|application\/json|image\/svg\+xml)/;

/** The file a URL path names: `/` → index.html, `/c/all` → c/all.html, `/insights/` → insights/index.html. */
async function resolveFile(root, path) {
  const candidates = path.endsWith('/') ? [path + 'index.html'] : extname(path) ? [path] : [path + '.html', path];
  for (const c of candidates) {
    const file = normalize(join(root, c));
    if (file !== root && !file.startsWith(root + sep)) return null;
    const info = await stat(file).catch(() => null);
    if (info?.isFile()) return { file, info };
    if (info?.isDirectory()) return { directory: true };
  }
  return null;
}

function cacheControl(type) {
  // Pages a minute, everything else an hour: a typical shop's defaults (names are not hashed).
  return type.startsWith('text/html') ? 'public, max-age=60' : 'public, max-age=3600';
}

/**
 * Starts the shop on 127.0.0.1. options.root: the site folder (default demo-shop/dist); options.port
 * (default: any free port); options.routes: { '/path': (req, res) => void } answered before files;
 * options.upgrade: (req, socket, head) => void for protocol upgrades (websockets), else refused.
 */
export async function startShop(options = {}) {
  const root = resolve(options.root ?? join(dirname(fileURLToPath(import.meta.url)), 'dist'));
  const routes = options.routes ?? {};
  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url, 'http://shop.invalid');
      if (routes[url.pathname]) return routes[url.pathname](req, res);
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('Method Not Allowed');
        return;
      }
      let path;
      try { path = decodeURIComponent(url.pathname); } catch { path = null; }
      const found = path && !path.includes('\0') ? await resolveFile(root, path) : null;
      if (found?.directory) {
        // One leading slash: `//host/dir` must not become a redirect to another host.
        res.writeHead(301, { location: `/${url.pathname.replace(/^\/+/, '')}/${url.search}`, 'cache-control': 'public, max-age=3600' }).end();
        return;
      }
      if (!found) {
        const body = '<!doctype html><html lang="en"><meta charset="utf-8"><title>Not found</title><h1>Not found</h1><p><a href="/">Back to the shop</a></p></html>';
        res.writeHead(404, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : body);
        return;
      }
      const { file, info } = found;
      const type = TYPES[extname(file)] || 'application/octet-stream';
      const etag = `"${createHash('sha1').update(`${info.size}-${info.mtimeMs}`).digest('base64url').slice(0, 16)}"`;
      const headers = { 'content-type': type, 'cache-control': cacheControl(type), etag,
        'last-modified': info.mtime.toUTCString(), 'accept-ranges': 'bytes', vary: 'Accept-Encoding' };
      if (req.headers['if-none-match'] === etag
        || (!req.headers['if-none-match'] && req.headers['if-modified-since'] && new Date(req.headers['if-modified-since']) >= new Date(info.mtime.toUTCString()))) {
        res.writeHead(304, headers).end();
        return;
      }
      let body = await readFile(file);
      const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range || '');
      if (range && (range[1] || range[2])) {
        const size = body.length;
        const start = range[1] ? Number(range[1]) : Math.max(0, size - Number(range[2]));
        const end = range[1] && range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
        if (start >= size || start > end) {
          res.writeHead(416, { 'content-range': `bytes */${size}` }).end();
          return;
        }
        res.writeHead(206, { ...headers, 'content-range': `bytes ${start}-${end}/${size}`, 'content-length': end - start + 1 });
        res.end(req.method === 'HEAD' ? undefined : body.subarray(start, end + 1));
        return;
      }
      if (COMPRESSIBLE.test(type) && /\bgzip\b/.test(req.headers['accept-encoding'] || '')) {
        body = gzipSync(body);
        headers['content-encoding'] = 'gzip';
      }
      res.writeHead(200, { ...headers, 'content-length': body.length });
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch (err) {
      console.error('shop server:', err);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('Internal Server Error');
    }
  });
  server.on('upgrade', (req, socket, head) => {
    if (options.upgrade) options.upgrade(req, socket, head);
    else socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
  });
  await new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(options.port ?? 0, '127.0.0.1', ok);
  });
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }) };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { port: { type: 'string', default: '8788' }, root: { type: 'string' } } });
  const shop = await startShop({ port: Number(values.port), root: values.root });
  console.error(`[shop] the demo shop's own server (the origin): ${shop.url}`);
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => shop.close().then(() => process.exit(0)));
}
