import { downloadBlob, fileStem } from '../download';
import { useEffect, useState } from 'react';
import { appStore, errorMessage } from '../../store';
import type { ViewerController } from './viewer-controller';
import { SHORTCUT_HELP, shortcutFor } from './shortcuts';

const ZOOM_STEP = 1.5;


function viewFileName(slideName: string | undefined): string {
  return `${fileStem(slideName, 'view')}-view.png`;
}

/** Zoom buttons, PNG export and the shortcut help, plus the page-wide shortcuts. */
export function ViewerToolbar({ controller }: { controller: ViewerController }) {
  const [helpOpen, setHelpOpen] = useState(false);

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      const osdFocused = controller.viewer.canvas.contains(document.activeElement);
      const action = shortcutFor(event, osdFocused);
      if (!action) return;
      switch (action) {
        case 'fit':
          controller.zoomToFit();
          break;
        case 'actual-size':
          controller.zoomTo100();
          break;
        case 'zoom-in':
          controller.zoomBy(ZOOM_STEP);
          break;
        case 'zoom-out':
          controller.zoomBy(1 / ZOOM_STEP);
          break;
        case 'help':
          setHelpOpen((open) => !open);
          break;
        case 'close-help':
          setHelpOpen(false);
          return;
      }
      event.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [controller]);

  const exportView = async () => {
    try {
      const blob = await controller.exportPng();
      downloadBlob(blob, viewFileName(controller.activeSlide?.name));
    } catch (error) {
      appStore.getState().pushAlert(`Export view: ${errorMessage(error)}`);
    }
  };

  return (
    <div className="viewer-toolbar" role="toolbar" aria-label="Viewer">
      <button type="button" onClick={() => controller.zoomToFit()} title="Fit slide (0)">
        Fit
      </button>
      <button type="button" onClick={() => controller.zoomTo100()} title="Zoom to 100 % (1)">
        100%
      </button>
      <button type="button" onClick={() => controller.zoomBy(ZOOM_STEP)} title="Zoom in (+)" aria-label="Zoom in">
        +
      </button>
      <button type="button" onClick={() => controller.zoomBy(1 / ZOOM_STEP)} title="Zoom out (−)" aria-label="Zoom out">
        −
      </button>
      <button type="button" data-testid="export-view" onClick={() => void exportView()} title="Download the current view as PNG">
        Export PNG
      </button>
      <button
        type="button"
        className="help-button"
        aria-expanded={helpOpen}
        aria-controls="viewer-help"
        onClick={() => setHelpOpen((open) => !open)}
        title="Keyboard shortcuts (?)"
        aria-label="Keyboard shortcuts"
      >
        ?
      </button>
      {helpOpen && (
        <div className="help-popover" id="viewer-help" role="dialog" aria-label="Keyboard shortcuts">
          <table>
            <tbody>
              {SHORTCUT_HELP.map((row) => (
                <tr key={row.keys}>
                  <th scope="row">
                    <kbd>{row.keys}</kbd>
                  </th>
                  <td>{row.action}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <button type="button" onClick={() => setHelpOpen(false)}>
            Close
          </button>
        </div>
      )}
    </div>
  );
}
