/**
 * The actions an orchestrator returns (OrchestratorState.actions), as the `durable-functions`
 * library serializes them, and the sequence ids each one takes. Pure functions only.
 */

export enum ActionType {
  CallActivity = 0,
  CallActivityWithRetry = 1,
  CallSubOrchestrator = 2,
  CallSubOrchestratorWithRetry = 3,
  ContinueAsNew = 4,
  CreateTimer = 5,
  WaitForExternalEvent = 6,
  CallEntity = 7,
  CallHttp = 8,
  SignalEntity = 9,
  ScheduledSignalEntity = 10,
  WhenAny = 11,
  WhenAll = 12,
  LockEntities = 13,
  ReleaseEntities = 14,
}

export interface RetryOptions {
  firstRetryIntervalInMilliseconds: number;
  maxNumberOfAttempts: number;
  backoffCoefficient?: number;
  maxRetryIntervalInMilliseconds?: number;
  retryTimeoutInMilliseconds?: number;
}

export interface HttpRequestAction {
  method: string;
  uri: string;
  content?: string;
  headers?: Record<string, string | string[]>;
  tokenSource?: { resource: string; kind?: string };
  asynchronousPatternEnabled?: boolean;
}

export interface Action {
  actionType: ActionType;
  functionName?: string;
  input?: unknown;
  retryOptions?: RetryOptions;
  instanceId?: string;
  version?: string;
  fireAt?: string | Date;
  isCanceled?: boolean;
  externalEventName?: string;
  operation?: string;
  httpRequest?: HttpRequestAction;
  compoundActions?: Action[];
  lockRequestId?: string;
  lockSet?: { name: string; key: string }[];
}

export interface OrchestratorState {
  isDone: boolean;
  actions: Action[][];
  output?: unknown;
  customStatus?: unknown;
  schemaVersion: number;
  error?: string;
  failureDetails?: { ErrorType: string; ErrorMessage: string; StackTrace?: string };
}

/** Leaf actions of a top-level action, depth-first, the order in which the library assigns ids. */
export function leafActions(action: Action): Action[] {
  if (action.actionType === ActionType.WhenAll || action.actionType === ActionType.WhenAny) {
    return (action.compoundActions ?? []).flatMap(leafActions);
  }
  return [action];
}

/** A short, comparable description used to detect replays that no longer match history. */
export function signature(action: Action): string {
  switch (action.actionType) {
    case ActionType.CallActivity:
    case ActionType.CallActivityWithRetry:
      return `activity '${action.functionName}'`;
    case ActionType.CallSubOrchestrator:
    case ActionType.CallSubOrchestratorWithRetry:
      return `sub-orchestration '${action.functionName}'`;
    case ActionType.ContinueAsNew:
      return 'continue-as-new';
    case ActionType.CreateTimer:
      return 'timer';
    case ActionType.WaitForExternalEvent:
      return `wait for event '${action.externalEventName}'`;
    case ActionType.CallEntity:
      return `call entity '${action.instanceId}' operation '${action.operation}'`;
    case ActionType.SignalEntity:
      return `signal entity '${action.instanceId}' operation '${action.operation}'`;
    case ActionType.CallHttp:
      return `HTTP ${action.httpRequest?.method} ${action.httpRequest?.uri}`;
    case ActionType.LockEntities:
      return `lock ${(action.lockSet ?? []).map((e) => `@${e.name}@${e.key}`).join(', ')}`;
    case ActionType.ReleaseEntities:
      return 'release locks';
    case ActionType.WhenAll:
    case ActionType.WhenAny:
      return `${action.actionType === ActionType.WhenAll ? 'all' : 'any'}(${(action.compoundActions ?? [])
        .map(signature)
        .join(', ')})`;
    default:
      return `action type ${String(action.actionType)}`;
  }
}

/** Pre-encoded inputs (activities, continue-as-new) arrive as JSON text; others as raw values. */
export function inputAsJsonText(action: Action): string | null {
  if (action.input === undefined) return null;
  const preEncoded =
    action.actionType === ActionType.CallActivity ||
    action.actionType === ActionType.CallActivityWithRetry ||
    action.actionType === ActionType.ContinueAsNew;
  if (preEncoded && typeof action.input === 'string') return action.input;
  return JSON.stringify(action.input);
}

export function retryDelayMs(options: RetryOptions, failedAttempt: number): number {
  const coefficient = options.backoffCoefficient ?? 1;
  const max = options.maxRetryIntervalInMilliseconds ?? 6 * 24 * 3600 * 1000;
  return Math.min(options.firstRetryIntervalInMilliseconds * coefficient ** (failedAttempt - 1), max);
}
