/**
 * User-facing alerts. File errors read `<file name>: <reason>`; the UI shows
 * each as role="alert" until dismissed.
 */
import type { StateCreator } from 'zustand';
import type { AppState } from './index';

export type AlertLevel = 'error' | 'warning' | 'info';

export interface AlertAction {
  label: string;
  run: () => void;
}

export interface Alert {
  id: string;
  message: string;
  level: AlertLevel;
  action?: AlertAction;
}

export interface AlertsSlice {
  alerts: Alert[];
  /** Adds an alert unless the same message is already shown; returns its id. */
  pushAlert(message: string, options?: { level?: AlertLevel; action?: AlertAction }): string;
  dismissAlert(id: string): void;
}

let alertCounter = 0;

export const createAlertsSlice: StateCreator<AppState, [], [], AlertsSlice> = (set, get) => ({
  alerts: [],

  pushAlert(message, options = {}) {
    const existing = get().alerts.find((alert) => alert.message === message);
    if (existing) return existing.id;
    const alert: Alert = { id: `alert-${++alertCounter}`, message, level: options.level ?? 'error', action: options.action };
    set((state) => ({ alerts: [...state.alerts, alert] }));
    return alert.id;
  },

  dismissAlert(id) {
    set((state) => ({ alerts: state.alerts.filter((alert) => alert.id !== id) }));
  },
});
