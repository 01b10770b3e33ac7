#!/usr/bin/env node
// A tiny static server for the built app (web/dist), with no dependencies:
//   node scripts/serve.mjs [--port 8000] [--host 127.0.0.1] [--rpc ws://127.0.0.1:9944]
//                          [--bridge http://127.0.0.1:9955] [--dir dist] [--parent PID]
// It serves /config.json with the default node and bridge URLs (the app's ?rpc= and
// settings override them) and forwards /bridge/* to the bridge, whose read endpoints
// send no CORS headers. With --parent it exits when that process does.
import { createServer, request as httpRequest } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
const root = resolve(args.dir ?? fileURLToPath(new URL('../dist', import.meta.url)));
const port = Number(args.port ?? process.env.PORT ?? 8000);
const host = args.host ?? '127.0.0.1';
const bridge = new URL(args.bridge ?? 'http://127.0.0.1:9955');
const config = JSON.stringify({ rpc: args.rpc ?? undefined, bridge: '/bridge' });

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.csv': 'text/csv; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.wasm': 'application/wasm',
  '.ico': 'image/x-icon',
};

function proxy(req, res) {
  const path = req.url.replace(/^\/bridge/, '') || '/';
  const out = httpRequest(
    { host: bridge.hostname, port: bridge.port || 80, path, method: 'GET', headers: { accept: 'application/json' }, timeout: 5000 },
    (r) => {
      const code = r.statusCode ?? 502;
      if (code >= 200 && code < 300) {
        res.writeHead(code, { 'content-type': r.headers['content-type'] ?? 'application/json', 'cache-control': 'no-store' });
        r.pipe(res);
        return;
      }
      // A refusal of the bridge (/health's 503 "unhealthy", an unknown asset's 404)
      // is carried in a 200, { status, error, body }, for the app to show.
      let text = '';
      r.setEncoding('utf8');
      r.on('data', (c) => (text += c));
      r.on('end', () => {
        let body = text;
        try {
          body = JSON.parse(text);
        } catch {
          /* not JSON */
        }
        res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
        res.end(JSON.stringify({ status: code, error: `bridge: HTTP ${code}`, body }));
      });
    },
  );
  out.on('timeout', () => out.destroy(new Error('timeout')));
  // A bridge that is down is a state the app shows, not a failed request: 200 with
  // { unreachable: true } keeps the browser's console free of network errors.
  out.on('error', (e) => {
    if (!res.headersSent) res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify({ unreachable: true, error: `bridge ${bridge.origin}: ${e.message}` }));
  });
  out.end();
}

const server = createServer(async (req, res) => {
  const url = new URL(req.url, 'http://x');
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405).end();
    return;
  }
  if (url.pathname === '/config.json') {
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(config);
    return;
  }
  if (url.pathname === '/bridge' || url.pathname.startsWith('/bridge/')) return proxy(req, res);
  let file = normalize(join(root, decodeURIComponent(url.pathname)));
  if (!file.startsWith(root)) {
    res.writeHead(403).end();
    return;
  }
  try {
    if ((await stat(file)).isDirectory()) file = join(file, 'index.html');
    const body = await readFile(file);
    const immutable = url.pathname.startsWith('/assets/');
    res.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  } catch {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  }
});

server.listen(port, host, () => {
  const addr = server.address();
  console.log(`[web] serving ${root} on http://${host}:${addr.port}/ (the bridge ${bridge.origin} at /bridge)`);
});

if (args.parent) {
  const parent = Number(args.parent);
  setInterval(() => {
    try {
      process.kill(parent, 0);
    } catch {
      process.exit(0);
    }
  }, 1000).unref();
}
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(0));
