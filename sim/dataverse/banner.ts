/**
 * What `blc sim dataverse` prints once the simulator is up: where the Web API is, that any bearer
 * token works, where the admin routes are and what a demo seed loaded. Never prints data or secrets.
 */
import type { DataverseSim } from './index';

export function describeDataverseSim(sim: DataverseSim): string {
  const lines = [
    `Dataverse simulator on ${sim.url} (Web API at ${sim.apiUrl}/, any bearer token accepted)`,
    `Faults:     POST/GET/DELETE ${sim.url}/_sim/faults`,
    `Requests:   GET ${sim.url}/_sim/requests counts Web API requests (a $batch is one)`,
    `Webhooks:   GET ${sim.url}/_sim/webhooks/idle waits for queued deliveries; failed ones are asyncoperations with statuscode 31`,
  ];
  const s = sim.seeded;
  if (s && s.contacts > 0) {
    lines.push(
      `Demo seed:  ${s.contacts} clients, ${s.accounts} accounts, ${s.sessions} sessions (today and this week), ${s.tasks} tasks, ${s.users} users`,
    );
  }
  return lines.join('\n');
}
