#!/usr/bin/env node
// Dependency-free static server for the production build, used by the e2e tests
// and the benchmark. It serves a folder under a base path (default /), so the
// tests can prove the build works from a nested folder of a plain static host.
//
//   node e2e/serve-dist.mjs [--root dist] [--base /tilescope/sub/] [--port 4180] [--host 127.0.0.1] [--isolate]
//
// Supports GET/HEAD, single byte ranges (Range: bytes=a-b, a-, -n), correct MIME
// types (application/wasm matters for streaming wasm compilation), and folder
// URLs -> index.html. --isolate adds COOP/COEP headers (cross-origin isolation).
import { createServer } from 'node:http';
import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { parseByteRange } from '../src/http-range.mjs';

const MIME_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.tif': 'image/tiff',
  '.tiff': 'image/tiff',
};

function parseArgs(argv) {
  const options = { root: 'dist', base: '/', port: 4180, host: '127.0.0.1', isolate: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === '--isolate') options.isolate = true;
    else if (['--root', '--base', '--port', '--host'].includes(flag) && i + 1 < argv.length) options[flag.slice(2)] = argv[++i];
    else throw new Error(`unknown argument ${flag}`);
  }
  options.port = Number(options.port);
  options.base = `/${options.base}/`.replace(/\/+/g, '/');
  options.root = path.resolve(options.root);
  return options;
}

export function startServer({ root, base, port, host, isolate }) {
  const server = createServer(async (request, response) => {
    const headers = { 'Cache-Control': 'no-cache', 'Accept-Ranges': 'bytes' };
    if (isolate) {
      headers['Cross-Origin-Opener-Policy'] = 'same-origin';
      headers['Cross-Origin-Embedder-Policy'] = 'require-corp';
    }
    const finish = (status, body = '') => {
      response.writeHead(status, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' });
      response.end(request.method === 'HEAD' ? undefined : body);
    };
    try {
      if (request.method !== 'GET' && request.method !== 'HEAD') return finish(405, 'method not allowed');
      const url = new URL(request.url ?? '/', 'http://localhost');
      // The base folder without its trailing slash redirects, as static hosts do.
      if (`${url.pathname}/` === base) {
        response.writeHead(301, { ...headers, Location: base + url.search });
        return response.end();
      }
      if (!url.pathname.startsWith(base)) return finish(404, 'outside the base path');
      let relative = decodeURIComponent(url.pathname.slice(base.length));
      if (relative === '' || relative.endsWith('/')) relative += 'index.html';
      const filePath = path.resolve(root, relative);
      if (filePath !== root && !filePath.startsWith(root + path.sep)) return finish(403, 'forbidden');
      let stat;
      try {
        stat = await fs.stat(filePath);
      } catch {
        return finish(404, 'not found');
      }
      if (!stat.isFile()) return finish(404, 'not found');
      headers['Content-Type'] = MIME_TYPES[path.extname(filePath).toLowerCase()] ?? 'application/octet-stream';
      headers['Last-Modified'] = stat.mtime.toUTCString();
      const range = parseByteRange(request.headers.range, stat.size);
      if (range === 'unsatisfiable') {
        response.writeHead(416, { ...headers, 'Content-Range': `bytes */${stat.size}` });
        return response.end();
      }
      const { start, end } = range ?? { start: 0, end: stat.size - 1 };
      if (range) headers['Content-Range'] = `bytes ${start}-${end}/${stat.size}`;
      headers['Content-Length'] = String(stat.size === 0 ? 0 : end - start + 1);
      response.writeHead(range ? 206 : 200, headers);
      if (request.method === 'HEAD' || stat.size === 0) return response.end();
      const stream = createReadStream(filePath, { start, end });
      stream.on('error', () => response.destroy());
      stream.pipe(response);
    } catch (error) {
      if (!response.headersSent) finish(500, String(error));
      else response.destroy();
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname);
if (isMain) {
  const options = parseArgs(process.argv.slice(2));
  await fs.access(path.join(options.root, 'index.html')).catch(() => {
    console.error(`serve-dist: ${options.root}/index.html is missing; run \`npm run build\` first.`);
    process.exit(1);
  });
  const server = await startServer(options);
  const { port } = server.address();
  console.log(`serve-dist: ${options.root} at http://${options.host}:${port}${options.base}${options.isolate ? ' (cross-origin isolated)' : ''}`);
  const stop = () => server.close(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
