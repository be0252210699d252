import { useAppStore } from '../../store';

/**
 * Error and notice stack. Errors and warnings are role="alert" elements whose
 * text is exactly the message: the dismiss button inside draws its × with CSS
 * and is named by aria-label, so it adds no text.
 */
export function Alerts() {
  const alerts = useAppStore((state) => state.alerts);
  const dismiss = useAppStore((state) => state.dismissAlert);
  if (alerts.length === 0) return null;
  return (
    <div className="alerts">
      {alerts.map((alert) => (
        <div key={alert.id} className={`alert alert-${alert.level}`} role={alert.level === 'info' ? 'status' : 'alert'}>
          <span className="alert-text">{alert.message}</span>
          {alert.action && (
            <button
              type="button"
              onClick={() => {
                alert.action!.run();
                dismiss(alert.id);
              }}
            >
              {alert.action.label}
            </button>
          )}
          <button type="button" className="icon-button dismiss" aria-label="Dismiss" title="Dismiss" onClick={() => dismiss(alert.id)} />
        </div>
      ))}
    </div>
  );
}
