import { useAppStore } from '../../store';

/** Error and notice stack. The role="alert" element holds only the message text. */
export function Alerts() {
  const alerts = useAppStore((state) => state.alerts);
  const dismiss = useAppStore((state) => state.dismissAlert);
  if (alerts.length === 0) return null;
  return (
    <div className="alerts">
      {alerts.map((alert) => (
        <div key={alert.id} className={`alert alert-${alert.level}`}>
          <div role="alert" className="alert-text">
            {alert.message}
          </div>
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
          <button type="button" className="icon-button" aria-label="Dismiss" title="Dismiss" onClick={() => dismiss(alert.id)}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
