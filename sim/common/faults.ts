/**
 * Fault injection shared by the simulators: queue, per method and path pattern, the failures the real
 * services produce (429 with Retry-After, 500/503, added latency, a dropped connection) for the next
 * N matching calls. Admin routes live outside the service's own paths (`/_sim/faults`), so no client
 * of the real API can reach them by accident.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export type FaultKind = 'throttle' | 'status' | 'latency' | 'drop';

export interface FaultRule {
  /** HTTP method to match, case-insensitive; omitted = any. */
  method?: string;
  /** Regular expression matched against the request path (without the query string). */
  path: string;
  kind: FaultKind;
  /** For 'status': 500, 502, 503, 504... For 'throttle' the status is 429. */
  status?: number;
  /** For 'throttle' (and optionally 'status'): seconds to put in Retry-After. */
  retryAfterSeconds?: number;
  /** For 'latency': delay before the request is served normally. */
  latencyMs?: number;
  /** How many matching calls this rule affects; default 1. */
  count?: number;
}

interface ActiveRule extends FaultRule {
  id: number;
  remaining: number;
  regex: RegExp;
}

export interface FaultOutcome {
  /** True when the fault answered (or dropped) the request; the simulator must not serve it. */
  handled: boolean;
}

/** Builds the service's own error body for an injected status (Dataverse and Graph differ). */
export type ErrorBodyFor = (status: number) => unknown;

export class FaultInjector {
  private rules: ActiveRule[] = [];
  private nextId = 1;

  constructor(private readonly errorBody: ErrorBodyFor) {}

  add(rule: FaultRule): ActiveRule {
    const kinds: FaultKind[] = ['throttle', 'status', 'latency', 'drop'];
    if (!kinds.includes(rule.kind)) throw new FaultRuleError(`kind must be one of ${kinds.join(', ')}`);
    if (typeof rule.path !== 'string' || rule.path === '')
      throw new FaultRuleError('path (a regular expression) is required');
    let regex: RegExp;
    try {
      regex = new RegExp(rule.path);
    } catch {
      throw new FaultRuleError(`path '${rule.path}' is not a valid regular expression`);
    }
    const count = rule.count ?? 1;
    if (!Number.isInteger(count) || count < 1) throw new FaultRuleError('count must be a positive integer');
    if (
      rule.kind === 'status' &&
      !(Number.isInteger(rule.status) && (rule.status as number) >= 400 && (rule.status as number) <= 599)
    ) {
      throw new FaultRuleError('status faults need a status between 400 and 599');
    }
    if (rule.kind === 'latency' && !(typeof rule.latencyMs === 'number' && rule.latencyMs >= 0)) {
      throw new FaultRuleError('latency faults need latencyMs >= 0');
    }
    const active: ActiveRule = { ...rule, id: this.nextId++, remaining: count, regex };
    this.rules.push(active);
    return active;
  }

  list(): Omit<ActiveRule, 'regex'>[] {
    return this.rules.map(({ regex: _regex, ...r }) => r);
  }

  clear(): void {
    this.rules = [];
  }

  /** Applies the first matching rule, if any. Latency delays and then lets the request through. */
  async apply(req: IncomingMessage, res: ServerResponse): Promise<FaultOutcome> {
    const method = (req.method ?? 'GET').toUpperCase();
    const path = (req.url ?? '/').split('?')[0];
    const rule = this.rules.find(
      (r) => (!r.method || r.method.toUpperCase() === method) && r.regex.test(path),
    );
    if (!rule) return { handled: false };
    rule.remaining--;
    if (rule.remaining <= 0) this.rules = this.rules.filter((r) => r !== rule);
    switch (rule.kind) {
      case 'latency':
        await new Promise((r) => setTimeout(r, rule.latencyMs));
        return { handled: false };
      case 'drop':
        req.socket.destroy();
        return { handled: true };
      case 'throttle':
      case 'status': {
        const status = rule.kind === 'throttle' ? 429 : (rule.status as number);
        const headers: Record<string, string> = { 'Content-Type': 'application/json; charset=utf-8' };
        const retryAfter = rule.retryAfterSeconds ?? (rule.kind === 'throttle' ? 1 : undefined);
        if (retryAfter !== undefined) headers['Retry-After'] = String(retryAfter);
        res.writeHead(status, headers);
        res.end(JSON.stringify(this.errorBody(status)));
        return { handled: true };
      }
    }
  }
}

export class FaultRuleError extends Error {
  readonly code = 'INVALID_FAULT_RULE';
}

/**
 * Serves the admin routes: POST /_sim/faults (a rule or an array of rules), GET /_sim/faults,
 * DELETE /_sim/faults. Returns false when the request is not for them.
 */
export async function handleFaultAdmin(
  injector: FaultInjector,
  req: IncomingMessage,
  res: ServerResponse,
  body: Buffer,
): Promise<boolean> {
  const path = (req.url ?? '/').split('?')[0];
  if (path !== '/_sim/faults') return false;
  const send = (status: number, payload?: unknown): void => {
    res.writeHead(status, payload === undefined ? {} : { 'Content-Type': 'application/json' });
    res.end(payload === undefined ? undefined : JSON.stringify(payload));
  };
  switch (req.method) {
    case 'GET':
      send(200, { value: injector.list() });
      return true;
    case 'DELETE':
      injector.clear();
      send(204);
      return true;
    case 'POST': {
      let parsed: unknown;
      try {
        parsed = JSON.parse(body.toString('utf8'));
      } catch {
        send(400, {
          code: 'INVALID_JSON',
          message: 'The body must be a JSON fault rule or an array of them.',
        });
        return true;
      }
      try {
        const rules = (Array.isArray(parsed) ? parsed : [parsed]) as FaultRule[];
        const added = rules.map((r) => injector.add(r)).map(({ regex: _regex, ...r }) => r);
        send(201, { value: added });
      } catch (err) {
        send(400, { code: 'INVALID_FAULT_RULE', message: err instanceof Error ? err.message : String(err) });
      }
      return true;
    }
    default:
      send(405, { code: 'METHOD_NOT_ALLOWED', message: 'Use GET, POST or DELETE on /_sim/faults.' });
      return true;
  }
}
