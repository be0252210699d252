import { useEffect } from 'react';
import { appStore } from '../../store';
import type { ViewerController } from './viewer-controller';
import { attachDrawTools, stopTool, useActiveTool } from './draw-tools';

/** Connects the drawing tools to the viewer and says, over the slide, what the active tool expects. */
export function DrawToolLayer({ controller }: { controller: ViewerController }) {
  const tool = useActiveTool();

  useEffect(() => attachDrawTools(controller, appStore), [controller]);

  if (!tool) return null;
  return (
    <div className="draw-tool-hint" role="status" data-testid="draw-tool-hint" data-tool={tool.kind}>
      <span>{tool.hint}</span>
      <button type="button" onClick={() => stopTool()}>
        {tool.kind === 'brush' ? 'Done' : 'Cancel'}
      </button>
    </div>
  );
}
