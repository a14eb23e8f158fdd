// A static server for demo-shop/dist on 127.0.0.1 standing in for a shop without the edge worker:
// it serves pages as a plain origin would, and (for tests) can embed a profile snapshot the way a
// server-rendered shop or the edge hands it to the snippet, or break the Wasm file.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml',
  '.json': 'application/json', '.wasm': 'application/wasm' };

/** Escapes JSON for a <script> element: no string inside can close it. */
export function scriptJson(text) {
  return text.replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
}

/**
 * root: the dist folder. options.profileFor(cookieHeader) -> snapshot text or null;
 * options.breakWasm(cookieHeader) -> true to answer 404 for the .wasm.
 */
export async function startStatic(root, options = {}) {
  const server = createServer(async (req, res) => {
    const url = new URL(req.url, 'http://x');
    let path = decodeURIComponent(url.pathname);
    if (path.endsWith('/')) path += 'index.html';
    else if (!extname(path)) path += '.html';
    const file = normalize(join(root, path));
    if (!file.startsWith(normalize(root))) { res.writeHead(403).end(); return; }
    const cookie = req.headers.cookie || '';
    if (file.endsWith('.wasm') && options.breakWasm?.(cookie)) { res.writeHead(404).end('gone'); return; }
    let body;
    try { body = await readFile(file); } catch { res.writeHead(404).end('not found'); return; }
    const type = TYPES[extname(file)] || 'application/octet-stream';
    if (type.startsWith('text/html')) {
      const profile = options.profileFor?.(cookie);
      if (profile != null) {
        body = body.toString('utf8').replace('</head>',
          `<script type="application/json" id="vitrine-profile">${scriptJson(profile)}</script></head>`);
      }
    }
    res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' }).end(body);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => server.close(r)) };
}
