/**
 * Viewer keyboard shortcuts. OpenSeadragon already handles arrows/WASD (pan),
 * +/− (zoom), 0 (fit), R (rotate) and F (flip) while its canvas has focus; these
 * work from anywhere on the page except text fields. The drawing tools'
 * keys (Esc, Enter, Ctrl+Z, Backspace) are handled by draw-tools.ts while a
 * tool is active and are listed here for the help.
 */
export type ShortcutAction = 'fit' | 'actual-size' | 'zoom-in' | 'zoom-out' | 'help' | 'close-help';

export const SHORTCUT_HELP: { keys: string; action: string }[] = [
  { keys: '0', action: 'Fit the slide in the view' },
  { keys: '1', action: 'Zoom to 100 % (1 screen pixel = 1 slide pixel)' },
  { keys: '+ / −', action: 'Zoom in / out' },
  { keys: 'Arrows or W A S D', action: 'Pan (click the slide first)' },
  { keys: 'Shift + arrows', action: 'Pan faster' },
  { keys: 'R / Shift+R', action: 'Rotate (click the slide first)' },
  { keys: 'F', action: 'Flip horizontally (click the slide first)' },
  { keys: 'Mouse wheel, drag', action: 'Zoom, pan' },
  { keys: 'Esc', action: 'Stop the drawing tool (rectangle, polygon, brush); close this help' },
  { keys: 'Enter or double-click', action: 'Finish the polygon being drawn' },
  { keys: 'Ctrl+Z', action: 'While drawing: undo the last brush stroke, or drop the last polygon point' },
  { keys: 'Backspace', action: 'While drawing a polygon: drop the last point' },
  { keys: '?', action: 'Show or hide this help' },
];

const KEY_ACTIONS: Record<string, ShortcutAction> = {
  '0': 'fit',
  '1': 'actual-size',
  '+': 'zoom-in',
  '=': 'zoom-in',
  '-': 'zoom-out',
  _: 'zoom-out',
  '?': 'help',
  Escape: 'close-help',
};

/** Keys OpenSeadragon already handles itself when its canvas has the focus. */
const OSD_HANDLES = new Set(['0', '+', '=', '-', '_']);

export function isTextField(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  const tag = target.tagName;
  return tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT';
}

/** The action for a key press, or null when it is not ours to handle. */
export function shortcutFor(
  event: Pick<KeyboardEvent, 'key' | 'ctrlKey' | 'metaKey' | 'altKey' | 'target'>,
  osdCanvasFocused: boolean,
): ShortcutAction | null {
  if (event.ctrlKey || event.metaKey || event.altKey || isTextField(event.target)) return null;
  const action = KEY_ACTIONS[event.key];
  if (!action) return null;
  if (osdCanvasFocused && OSD_HANDLES.has(event.key)) return null;
  return action;
}
