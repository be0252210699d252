/// <reference lib="webworker" />
// Tilescope service worker: precaches the whole static build (HTML, JS chunks,
// worker chunks, .wasm codecs, the demo slide) so the app opens and reads slides
// with no network. Built by vite-plugin-pwa (injectManifest), which replaces
// self.__WB_MANIFEST with the list of built files at build time.
//
// Every precache URL is relative to this script, and the script sits next to
// index.html, so the worker and its scope follow whatever folder dist/ is served from.
import { cleanupOutdatedCaches, getCacheKeyForURL, matchPrecache, precache } from 'workbox-precaching';
import type { PrecacheEntry } from 'workbox-precaching';
import { parseByteRange } from './http-range.mjs';

declare const self: ServiceWorkerGlobalScope & {
  __WB_MANIFEST: Array<PrecacheEntry | string>;
};

// ---------------------------------------------------------------------------
// CROSS-ORIGIN ISOLATION.
// Threaded wasm needs SharedArrayBuffer, which needs the page (and the worker
// running TF.js) to be cross-origin isolated: COOP `same-origin` + COEP
// `require-corp` on the document and worker scripts. Static hosts often cannot
// send headers, so this worker adds them to everything it answers, and every
// navigation passes through it. Isolation is decided when a document is
// created, so the first visit to a host without the headers runs
// single-threaded; every later load (including offline ones) is isolated. We do
// not force a reload on first install: it would interrupt a user who has
// already dropped a slide.
const CROSS_ORIGIN_ISOLATION = true;

function withIsolationHeaders(response: Response): Response {
  if (!CROSS_ORIGIN_ISOLATION || response.type === 'opaque' || response.status === 0) return response;
  const headers = new Headers(response.headers);
  headers.set('Cross-Origin-Opener-Policy', 'same-origin');
  headers.set('Cross-Origin-Embedder-Policy', 'require-corp');
  headers.set('Cross-Origin-Resource-Policy', 'same-origin');
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}
// ---------------------------------------------------------------------------

precache(self.__WB_MANIFEST);
cleanupOutdatedCaches();

// Take control of the page that registered us on its first load, so it works
// offline without a second visit. Updates wait (no skipWaiting on install) until
// the page asks, so a running session never loses the chunks it was built with.
self.addEventListener('activate', (event) => {
  event.waitUntil(self.clients.claim());
});
self.addEventListener('message', (event) => {
  if ((event.data as { type?: string } | null)?.type === 'SKIP_WAITING') void self.skipWaiting();
});

/** The precached URL that should answer a request for `url`, if any. */
function precachedUrlFor(url: URL, isNavigation: boolean): string | undefined {
  const isPrecached = (candidate: URL) => getCacheKeyForURL(candidate.href) !== undefined;
  if (isPrecached(url)) return url.href;
  // Query strings (e.g. ?demo=0) and fragments do not select a different file.
  const bare = new URL(url.pathname, url.origin);
  if (isPrecached(bare)) return bare.href;
  // A folder URL means its index.html (the app is served from a folder).
  const index = new URL('index.html', bare);
  if (isNavigation && bare.pathname.endsWith('/') && isPrecached(index)) return index.href;
  return undefined;
}

/** Answers a `Range` request from a full cached response (one range; others get the whole body). */
async function partialResponse(full: Response, rangeHeader: string): Promise<Response> {
  const body = await full.blob();
  const range = parseByteRange(rangeHeader, body.size);
  if (range === null) return new Response(body, { status: full.status, statusText: full.statusText, headers: full.headers });
  if (range === 'unsatisfiable') {
    return new Response(null, { status: 416, headers: { 'Content-Range': `bytes */${body.size}` } });
  }
  const headers = new Headers(full.headers);
  headers.set('Content-Range', `bytes ${range.start}-${range.end}/${body.size}`);
  headers.set('Content-Length', String(range.end - range.start + 1));
  return new Response(body.slice(range.start, range.end + 1), { status: 206, statusText: 'Partial Content', headers });
}

async function respond(request: Request, precachedUrl: string | undefined): Promise<Response> {
  // matchPrecache takes the original URL and finds its revisioned cache entry.
  const cached = precachedUrl ? await matchPrecache(precachedUrl) : undefined;
  // A missing cache entry (storage evicted) falls back to the network.
  if (!cached) return withIsolationHeaders(await fetch(request));
  const range = request.headers.get('range');
  return withIsolationHeaders(range ? await partialResponse(cached, range) : cached);
}

self.addEventListener('fetch', (event) => {
  const { request } = event;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  // Cross-origin requests are left to the browser. (With isolation on they would
  // need CORP or `credentialless`; the app makes none today.)
  if (url.origin !== self.location.origin) return;
  const isNavigation = request.mode === 'navigate';
  const precachedUrl = precachedUrlFor(url, isNavigation);
  // Anything not precached goes to the network untouched, unless a navigation
  // must pass through here to receive isolation headers.
  if (!precachedUrl && !(CROSS_ORIGIN_ISOLATION && isNavigation)) return;
  event.respondWith(respond(request, precachedUrl));
});
