// The panel's user settings (schema/plugin.json, Settings Editor).
export const PLUGIN_ID = 'cnnlive:plugin';

export interface PanelSettings {
  /** Most panel redraws per second. */
  updateRate: number;
  /** Ask before Cancel (which ends a job at once). */
  confirmCancel: boolean;
  /** Open the panel when a notebook runs %load_ext cnnlive. */
  openOnLoad: boolean;
  /** Log lines shown per card (0 hides the log). */
  logLines: number;
}

/** Used only when the settings registry cannot load schema/plugin.json
 *  (tests/js checks these equal the schema's defaults). */
export const FALLBACK_SETTINGS: PanelSettings = {
  updateRate: 10,
  confirmCancel: false,
  openOnLoad: true,
  logLines: 5
};

/** Settings from the registry's composite values, clamped to sane ranges. */
export function readSettings(composite: Record<string, unknown>): PanelSettings {
  const num = (key: keyof PanelSettings, lo: number, hi: number) => {
    const v = composite[key];
    return typeof v === 'number' && Number.isFinite(v)
      ? Math.min(hi, Math.max(lo, v))
      : (FALLBACK_SETTINGS[key] as number);
  };
  const bool = (key: keyof PanelSettings) => {
    const v = composite[key];
    return typeof v === 'boolean' ? v : (FALLBACK_SETTINGS[key] as boolean);
  };
  return {
    updateRate: num('updateRate', 0.5, 60),
    confirmCancel: bool('confirmCancel'),
    openOnLoad: bool('openOnLoad'),
    logLines: Math.round(num('logLines', 0, 50))
  };
}
