import type { Operation } from '@strata/core';
import type { FastifyInstance } from 'fastify';
import type { DashboardPanels } from './dashboardPanels.js';
import { NotFoundError } from './httpErrors.js';
import type { RequestScopes } from './requestScopes.js';

const NOT_CONFIGURED = {
  alerts: 'the alerts plugin is not configured for this server; add "alerts" to plugins in strata.config to evaluate alert rules (the dashboard shows this panel as not configured)',
  quality: 'the quality plugin is not configured for this server; add "quality" to plugins in strata.config to run data-quality checks (the dashboard shows this panel as not configured)',
} as const;

/** What reading each panel is, for the access check: alert state has its own operation; quality results are status. */
const PANEL_OPERATIONS = { alerts: 'alerts.read', quality: 'status.read' } as const satisfies Record<keyof DashboardPanels, Operation>;

/**
 * `GET /v1/alerts` and `GET /v1/quality`: the state of optional plugins, read through the readers
 * the server was given. Both are summaries (no raw interactions): every role may read them.
 */
export async function registerPanelRoutes(app: FastifyInstance, options: { scopes: RequestScopes; panels: DashboardPanels }): Promise<void> {
  for (const panel of ['alerts', 'quality'] as const) {
    app.get(`/v1/${panel}`, async (request) => {
      const scoped = options.scopes.of(request);
      scoped.authorize(PANEL_OPERATIONS[panel], { panel });
      const read = options.panels[panel];
      if (!read) throw new NotFoundError(NOT_CONFIGURED[panel]);
      return read();
    });
  }
}
