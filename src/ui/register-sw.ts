// Registers the offline service worker (built from src/sw.ts to sw.js next to
// index.html). The script URL and scope are resolved against the page, so the
// worker covers exactly the folder the app is served from, whatever its path.

/** Must match `filename` of the PWA plugin in vite.config.ts. */
const SERVICE_WORKER_FILE = 'sw.js';

export interface RegisterServiceWorkerOptions {
  /**
   * Called when a newer build has been installed and waits. Calling `apply`
   * activates it and reloads the page. Without this option the new build simply
   * takes over once every tab of the app is closed.
   */
  onUpdateReady?: (apply: () => void) => void;
}

/**
 * Registers the service worker in production builds. Resolves to the
 * registration, or undefined when skipped (dev server, no support, insecure
 * context such as file://) or when registration failed. Never throws: the app
 * works without it, only offline use is lost.
 */
export async function registerServiceWorker(
  options: RegisterServiceWorkerOptions = {},
): Promise<ServiceWorkerRegistration | undefined> {
  try {
    if (import.meta.env.DEV) return undefined;
    if (typeof navigator === 'undefined' || !('serviceWorker' in navigator) || !window.isSecureContext) return undefined;
    const scriptUrl = new URL(SERVICE_WORKER_FILE, document.baseURI);
    const scope = new URL('./', document.baseURI);
    const registration = await navigator.serviceWorker.register(scriptUrl.href, { scope: scope.href });
    if (options.onUpdateReady) watchForUpdate(registration, options.onUpdateReady);
    return registration;
  } catch (error) {
    console.warn('Tilescope: service worker not registered; offline use is unavailable.', error);
    return undefined;
  }
}

function watchForUpdate(registration: ServiceWorkerRegistration, onUpdateReady: (apply: () => void) => void): void {
  const announce = (waiting: ServiceWorker) => {
    // Only an update: the first install has no previous controller to replace.
    if (!navigator.serviceWorker.controller) return;
    onUpdateReady(() => {
      navigator.serviceWorker.addEventListener('controllerchange', () => window.location.reload(), { once: true });
      waiting.postMessage({ type: 'SKIP_WAITING' });
    });
  };
  if (registration.waiting) announce(registration.waiting);
  registration.addEventListener('updatefound', () => {
    const installing = registration.installing;
    installing?.addEventListener('statechange', () => {
      if (installing.state === 'installed') announce(installing);
    });
  });
}
