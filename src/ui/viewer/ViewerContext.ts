import { createContext, useContext } from 'react';
import type { ViewerController } from './viewer-controller';

/** The mounted viewer's controller (null until OpenSeadragon is ready). */
export const ViewerContext = createContext<ViewerController | null>(null);

export function useViewerController(): ViewerController | null {
  return useContext(ViewerContext);
}
