/**
 * Fault injection shared by the simulators: queue, per method and path pattern, the failures the real
 * services produce (429 with Retry-After, 500/503, added latency, a dropped connection) for the next
 * N matching calls, or for a stretch of time (an outage: `forMs`, optionally for the whole service
 * once a matching call starts it). Time is the injector's clock: the wall clock, or the clock a test
 * hands it with useClock (the local host's virtual clock), so an outage lasts as long as the host
 * under test thinks it does. Admin routes live outside the service's own paths (`/_sim/faults`), so
 * no client of the real API can reach them by accident.
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
  /** How many matching calls this rule affects; default 1. Not with forMs. */
  count?: number;
  /** Matching calls let through before the rule starts (an outage that begins at the third write). */
  skip?: number;
  /** Instead of a count: from the first call it faults, the rule faults every matching call for this long. */
  forMs?: number;
  /** With forMs: once started, fault every call to the service, not only matching ones (an outage). */
  wholeService?: boolean;
}

interface ActiveRule extends FaultRule {
  id: number;
  remaining: number;
  regex: RegExp;
  skipped: number;
  /** When a forMs rule faulted its first call, on the injector's clock. */
  startedAt?: number;
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
  private now: () => number = Date.now;

  constructor(private readonly errorBody: ErrorBodyFor) {}

  /** Measures forMs windows on this clock (epoch ms) instead of the wall clock. */
  useClock(now: () => number): void {
    this.now = now;
  }

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
    const skip = rule.skip ?? 0;
    if (!Number.isInteger(skip) || skip < 0) throw new FaultRuleError('skip must be a whole number');
    if (rule.forMs !== undefined) {
      if (!(typeof rule.forMs === 'number' && rule.forMs > 0))
        throw new FaultRuleError('forMs must be a positive number of milliseconds');
      if (rule.count !== undefined) throw new FaultRuleError('give either count or forMs, not both');
    }
    if (rule.wholeService && rule.forMs === undefined)
      throw new FaultRuleError('wholeService needs forMs (how long the outage lasts)');
    if (
      rule.kind === 'status' &&
      !(Number.isInteger(rule.status) && (rule.status as number) >= 400 && (rule.status as number) <= 599)
    ) {
      throw new FaultRuleError('status faults need a status between 400 and 599');
    }
    if (rule.kind === 'latency' && !(typeof rule.latencyMs === 'number' && rule.latencyMs >= 0)) {
      throw new FaultRuleError('latency faults need latencyMs >= 0');
    }
    const active: ActiveRule = { ...rule, id: this.nextId++, remaining: count, regex, skipped: 0 };
    this.rules.push(active);
    return active;
  }

  list(): Omit<ActiveRule, 'regex'>[] {
    return this.rules.map(({ regex: _regex, ...r }) => r);
  }

  clear(): void {
    this.rules = [];
  }

  /** The rule that faults this call, counting it (or starting its window); ended windows are dropped. */
  private take(method: string, path: string): ActiveRule | undefined {
    const now = this.now();
    this.rules = this.rules.filter(
      (r) => r.startedAt === undefined || now < r.startedAt + (r.forMs as number),
    );
    for (const rule of this.rules) {
      const started = rule.startedAt !== undefined;
      const matches =
        (started && rule.wholeService) ||
        ((!rule.method || rule.method.toUpperCase() === method) && rule.regex.test(path));
      if (!matches) continue;
      if (!started && rule.skipped < (rule.skip ?? 0)) {
        rule.skipped++;
        continue;
      }
      if (rule.forMs !== undefined) {
        rule.startedAt ??= now;
      } else {
        rule.remaining--;
        if (rule.remaining <= 0) this.rules = this.rules.filter((r) => r !== rule);
      }
      return rule;
    }
    return undefined;
  }

  /** The status, headers and body an answering rule (throttle or status) sends. */
  private answer(rule: ActiveRule): { status: number; headers: Record<string, string>; body: unknown } {
    const status = rule.kind === 'throttle' ? 429 : (rule.status as number);
    const headers: Record<string, string> = {};
    const retryAfter = rule.retryAfterSeconds ?? (rule.kind === 'throttle' ? 1 : undefined);
    if (retryAfter !== undefined) headers['Retry-After'] = String(retryAfter);
    return { status, headers, body: this.errorBody(status) };
  }

  /** Applies the first rule that takes the call, if any. Latency delays and then lets the request through. */
  async apply(req: IncomingMessage, res: ServerResponse): Promise<FaultOutcome> {
    const rule = this.take((req.method ?? 'GET').toUpperCase(), (req.url ?? '/').split('?')[0]);
    if (!rule) return { handled: false };
    switch (rule.kind) {
      case 'latency':
        await new Promise((r) => setTimeout(r, rule.latencyMs));
        return { handled: false };
      case 'drop':
        req.socket.destroy();
        return { handled: true };
      case 'throttle':
      case 'status': {
        const { status, headers, body } = this.answer(rule);
        res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', ...headers });
        res.end(JSON.stringify(body));
        return { handled: true };
      }
    }
  }

  /**
   * The fault for one operation carried inside a batch request, matched by its own method and path
   * (without the query) exactly as if it had been sent on its own, and counted like such a call. The
   * simulator answers that operation with it; the batch call itself is matched by apply().
   */
  forOperation(method: string, path: string): OperationFault | undefined {
    const rule = this.take(method.toUpperCase(), path);
    if (!rule) return undefined;
    switch (rule.kind) {
      case 'latency':
        return { kind: 'latency', latencyMs: rule.latencyMs as number };
      case 'drop':
        return { kind: 'drop' };
      case 'throttle':
      case 'status':
        return { kind: 'answer', ...this.answer(rule) };
    }
  }
}

/** What a rule does to one operation inside a batch. */
export type OperationFault =
  | { kind: 'latency'; latencyMs: number }
  | { kind: 'drop' }
  | { kind: 'answer'; status: number; headers: Record<string, string>; body: unknown };

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
