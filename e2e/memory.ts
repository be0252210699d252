// JavaScript memory of a page and of every worker in its browser, read through
// the Chrome DevTools Protocol. `Runtime.getHeapUsage` reports the V8 heap
// (`usedSize`) and, separately, ArrayBuffer backing stores (`backingStorageSize`),
// which is where decoded pixels and file bytes would sit. Dedicated workers have
// their own isolates, so each is asked too, through the browser-level session
// (Target.attachToTarget + sendMessageToTarget; Playwright exposes no CDP session
// for workers).
import type { Page } from '@playwright/test';

export interface IsolateMemory {
  target: string;
  usedSize: number;
  backingStorageSize: number;
}

interface HeapUsage {
  usedSize: number;
  backingStorageSize: number;
}

export interface JsMemory {
  isolates: IsolateMemory[];
  /** Workers that did not answer within the timeout (busy in one long task): not measured. */
  unresponsive: string[];
  /** Sum of heap and array buffers over every measured isolate, in bytes. */
  total: number;
}

export async function jsMemory(page: Page, workerTimeoutMs = 15_000): Promise<JsMemory> {
  const pageSession = await page.context().newCDPSession(page);
  // Collect garbage first, so the numbers are what is kept, not what is pending collection.
  await pageSession.send('HeapProfiler.collectGarbage');
  const pageHeap = (await pageSession.send('Runtime.getHeapUsage')) as HeapUsage;
  await pageSession.detach();
  const isolates: IsolateMemory[] = [{ target: 'page', ...pick(pageHeap) }];
  const unresponsive: string[] = [];

  const browser = page.context().browser();
  if (browser) {
    const session = await browser.newBrowserCDPSession();
    const pending = new Map<string, (message: { result?: unknown; error?: unknown }) => void>();
    session.on('Target.receivedMessageFromTarget', (event: { sessionId: string; message: string }) => {
      const message = JSON.parse(event.message) as { id?: number; result?: unknown; error?: unknown };
      if (message.id !== undefined) pending.get(`${event.sessionId}:${message.id}`)?.(message);
    });
    const send = (sessionId: string, id: number, method: string) =>
      new Promise<{ result?: unknown; error?: unknown }>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${method} timed out`)), workerTimeoutMs);
        pending.set(`${sessionId}:${id}`, (message) => {
          clearTimeout(timer);
          resolve(message);
        });
        void session.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id, method }) });
      });
    const { targetInfos } = await session.send('Target.getTargets');
    for (const info of targetInfos.filter((t) => t.type === 'worker')) {
      const target = `worker ${info.url}`;
      const { sessionId } = await session.send('Target.attachToTarget', { targetId: info.targetId, flatten: false });
      try {
        await send(sessionId, 1, 'HeapProfiler.collectGarbage');
        const reply = await send(sessionId, 2, 'Runtime.getHeapUsage');
        if (reply.result) isolates.push({ target, ...pick(reply.result as HeapUsage) });
        else unresponsive.push(`${target}: ${JSON.stringify(reply.error)}`);
      } catch (error) {
        // A worker inside one long task only answers when it ends.
        unresponsive.push(`${target}: ${(error as Error).message}`);
      }
      await session.send('Target.detachFromTarget', { sessionId }).catch(() => undefined);
    }
    await session.detach();
  }
  const total = isolates.reduce((sum, m) => sum + m.usedSize + m.backingStorageSize, 0);
  return { isolates, unresponsive, total };
}

function pick(heap: HeapUsage): Omit<IsolateMemory, 'target'> {
  return { usedSize: heap.usedSize, backingStorageSize: heap.backingStorageSize };
}
