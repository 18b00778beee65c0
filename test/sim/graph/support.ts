/**
 * Test plumbing for the Graph simulator: a real @microsoft/microsoft-graph-client pointed at it, and
 * plain fetch for what the Graph client hides (raw headers, admin routes). Must never shape what
 * the client sends: the only thing added is trust in the simulator's certificate.
 *
 * Why the trust takes this route: the Graph client calls the global fetch, which in Node 20 is the
 * undici bundled inside Node. A per-request `dispatcher` is the only way to hand that fetch a CA;
 * Node 20 does not export undici's Agent, but installs one as the global dispatcher (under
 * undici's cross-version symbol) on first use, and its constructor is the Agent we need.
 * An app does the same with NODE_EXTRA_CA_CERTS instead (see trust.test.ts).
 */
import { Client } from '@microsoft/microsoft-graph-client';
import type { Dispatcher } from 'undici-types';
import type { FaultRule } from '../../../sim/common/faults';
import type { GraphSim } from '../../../sim/graph';

type AgentClass = new (options: { connect: { ca: string } }) => Dispatcher;

const GLOBAL_DISPATCHER = Symbol.for('undici.globalDispatcher.1');

async function undiciAgent(): Promise<AgentClass> {
  const slot = globalThis as unknown as Record<symbol, object | undefined>;
  // The global dispatcher appears on the first network fetch; a refused local connection is enough.
  if (!slot[GLOBAL_DISPATCHER]) await fetch('http://127.0.0.1:9/').catch(() => undefined);
  const dispatcher = slot[GLOBAL_DISPATCHER];
  if (!dispatcher)
    throw new Error(
      "Node's fetch installed no global dispatcher; this Node version needs another way to pass a CA.",
    );
  return dispatcher.constructor as AgentClass;
}

export interface TrustedSim {
  sim: GraphSim;
  /** The dispatcher that trusts the simulator's CA; pass as `dispatcher` to fetch. */
  dispatcher: Dispatcher;
  /**
   * A Graph client with the simulator as base URL. customHosts: false leaves the simulator off the
   * client's list of hosts it may send its token to, as a misconfigured app would.
   */
  client(options?: { token?: string; customHosts?: boolean }): Client;
  /** fetch against the simulator, trusting its CA. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  queueFault(rule: FaultRule): Promise<void>;
  remainingFaults(): Promise<Array<FaultRule & { remaining: number }>>;
  close(): Promise<void>;
}

export async function trust(sim: GraphSim): Promise<TrustedSim> {
  const Agent = await undiciAgent();
  const dispatcher = new Agent({ connect: { ca: sim.caCertPem } });
  const simFetch = (path: string, init: RequestInit = {}): Promise<Response> =>
    fetch(`${sim.url}${path}`, { ...init, dispatcher } as RequestInit);
  return {
    sim,
    dispatcher,
    client: ({ token = 'sim-token', customHosts = true } = {}) =>
      Client.init({
        authProvider: (done) => done(null, token),
        baseUrl: sim.url,
        // The client attaches its token only to Graph's hosts and to the ones listed here.
        customHosts: customHosts ? new Set([new URL(sim.url).hostname]) : undefined,
        fetchOptions: { dispatcher } as RequestInit,
      }),
    fetch: simFetch,
    queueFault: async (rule) => {
      const res = await simFetch('/_sim/faults', { method: 'POST', body: JSON.stringify(rule) });
      if (res.status !== 201) throw new Error(`queueing a fault failed: ${res.status} ${await res.text()}`);
    },
    remainingFaults: async () =>
      ((await (await simFetch('/_sim/faults')).json()) as { value: Array<FaultRule & { remaining: number }> })
        .value,
    close: async () => {
      await sim.close();
      await dispatcher.close();
    },
  };
}
