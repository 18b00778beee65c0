/**
 * What `blc sim graph` prints once the simulator is up: where Graph is, how to make an app trust
 * it, and where the admin routes are. Must never print anything secret (the key stays in its file).
 */
import type { GraphSim } from './index';

export function describeGraphSim(sim: GraphSim): string {
  const trust = sim.caCertFile
    ? `Trust its certificate in the app's process: NODE_EXTRA_CA_CERTS=${sim.caCertFile}`
    : 'Its certificate lives only in memory; give a data directory to get a CA file for NODE_EXTRA_CA_CERTS.';
  return [
    `Microsoft Graph simulator on ${sim.url} (API at ${sim.url}/v1.0, any bearer token accepted)`,
    trust,
    `Sent mail:  GET/DELETE ${sim.url}/_sim/outbox`,
    `Faults:     POST/GET/DELETE ${sim.url}/_sim/faults`,
  ].join('\n');
}
