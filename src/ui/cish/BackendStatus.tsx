import { useAppStore } from '../../store';

/** The analysis worker's compute backend and why it was chosen (for the status bar). */
export function BackendStatus() {
  const status = useAppStore((state) => state.computeBackend);
  const text =
    status === null
      ? 'Compute backend: not started'
      : status.state === 'starting'
        ? 'Compute backend: starting…'
        : status.state === 'failed'
          ? 'Compute backend: failed'
          : `Compute backend: ${status.backend}`;
  return (
    <span data-testid="backend-status" data-backend={status?.backend ?? ''} title={status?.reason ?? ''}>
      {text}
    </span>
  );
}
