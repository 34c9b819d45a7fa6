/**
 * The dashboard's alerts and quality panels read state that belongs to optional plugins
 * (`@strata/alerts`, `@strata/quality`). The server does not depend on them: whoever starts it
 * (the CLI's `strata serve`, or an application) passes a reader for each plugin it configured, and
 * a panel without one answers 404 "not configured".
 */
export interface DashboardPanels {
  alerts?: () => Promise<AlertsPanelData>;
  quality?: () => Promise<QualityPanelData>;
}

/** What the alerts panel shows: each rule's state and the alerts pending or firing now. */
export interface AlertsPanelData {
  rules: Array<{
    name: string;
    metric: string;
    severity: string;
    /** `inactive`, `pending`, `firing`, `no data`, or `not evaluated` before the first evaluation. */
    state: string;
    /** Epoch ms the rule entered its state, when known. */
    since: number | null;
  }>;
  alerts: Array<{
    rule: string;
    status: 'pending' | 'firing';
    severity: string;
    summary: string;
    value: number | null;
    /** Epoch ms the condition started to hold. */
    activeSince: number;
    firingSince: number | null;
    /** A silence matches it: it is tracked but not notified. */
    silenced: boolean;
  }>;
  /** Silences in force or scheduled. */
  silences: number;
}

/** What the quality panel shows: the latest run of the checks, or null before the first run. */
export interface QualityPanelData {
  latest: {
    runId: number;
    /** Epoch ms the run finished. */
    finishedAt: number;
    status: 'pass' | 'warn' | 'fail';
    counts: Record<string, number>;
    checks: Array<{ check: string; status: string; observed: number | null; unit: string | null; threshold: string | null; message: string }>;
  } | null;
}
