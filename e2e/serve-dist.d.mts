import type { Server } from 'node:http';

export interface ServeOptions {
  /** Folder to serve (absolute or relative to the working directory). */
  root: string;
  /** URL path prefix, with leading and trailing slash, e.g. `/tilescope/sub/`. */
  base: string;
  /** 0 picks a free port. */
  port: number;
  host: string;
  /** Adds COOP/COEP headers (cross-origin isolation). */
  isolate: boolean;
}
export function startServer(options: ServeOptions): Promise<Server>;
