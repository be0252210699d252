import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { version } from '../package.json';
import { appStore, type AppStore } from './store';
import { App } from './ui/App';
import { openDemoSlide } from './ui/actions';
import { registerServiceWorker } from './ui/register-sw';
import './ui/styles.css';

declare global {
  interface Window {
    /** Test and debugging hook: in-page state only. */
    __tilescope?: { store: AppStore; version: string };
  }
}

window.__tilescope = { store: appStore, version };

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);

if (new URLSearchParams(window.location.search).get('demo') !== '0') void openDemoSlide();

void registerServiceWorker({
  onUpdateReady: (apply) =>
    appStore.getState().pushAlert('A new version of Tilescope is ready.', {
      level: 'info',
      action: { label: 'Reload', run: apply },
    }),
});
