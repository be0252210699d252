import { useEffect, useState } from 'react';
import { version } from '../../../package.json';
import { getDecoderPool } from '../services';
import type { PoolStats } from '../../workers/decoder-pool';
import { BackendStatus } from '../cish/BackendStatus';

/** Decoder pool state, version, and the privacy promise. */
export function StatusBar() {
  const [stats, setStats] = useState<PoolStats>(() => getDecoderPool().stats());

  useEffect(() => {
    const timer = setInterval(() => {
      const next = getDecoderPool().stats();
      setStats((current) =>
        current.workers === next.workers && current.inFlight === next.inFlight && current.queued === next.queued && current.restarts === next.restarts
          ? current
          : next,
      );
    }, 1000);
    return () => clearInterval(timer);
  }, []);

  return (
    <footer className="status-bar" data-testid="status">
      <span>
        Decoders: {stats.workers} worker{stats.workers === 1 ? '' : 's'}
        {stats.inFlight + stats.queued > 0 && ` · ${stats.inFlight} busy, ${stats.queued} queued`}
        {stats.restarts > 0 && ` · ${stats.restarts} restarted`}
      </span>
      <BackendStatus />
      <span className="muted">Everything stays in this browser · Tilescope {version}</span>
    </footer>
  );
}
