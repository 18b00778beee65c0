/**
 * GET /api/health: liveness for load balancers, container HEALTHCHECKs and `blc`. Anonymous by
 * design, so it must never reveal configuration or secrets.
 */
import { app, HttpResponseInit } from '@azure/functions';

const startedAt = new Date().toISOString();

export function health(): HttpResponseInit {
  return { jsonBody: { status: 'ok', startedAt } };
}

app.http('health', { route: 'health', methods: ['GET'], authLevel: 'anonymous', handler: health });
