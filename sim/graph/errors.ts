/**
 * Graph's error responses: the `{ error: { code, message, innerError } }` body, the status and
 * code of each failure the simulator reproduces, and the codes injected faults answer with.
 * Must never invent a shape of its own: a client written against Graph has to parse these
 * exactly as it parses the real service's errors.
 */
import type { RequestIds } from './requestContext';

export interface GraphErrorBody {
  error: {
    code: string;
    message: string;
    innerError: {
      date: string;
      'request-id': string;
      'client-request-id': string;
    };
  };
}

/** A failure the simulator answers with Graph's status, code and message (never a crash). */
export class GraphFault extends Error {
  override readonly name = 'GraphFault';

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

/** Graph writes innerError.date as UTC without fraction or zone: 2024-05-02T09:14:03. */
export function graphDate(at: Date = new Date()): string {
  return at.toISOString().slice(0, 19);
}

export function graphErrorBody(code: string, message: string, ids: RequestIds): GraphErrorBody {
  return {
    error: {
      code,
      message,
      innerError: {
        date: graphDate(),
        'request-id': ids.requestId,
        'client-request-id': ids.clientRequestId,
      },
    },
  };
}

// What Graph sends back in WWW-Authenticate on a 401: where to get a token, and for which resource.
const GRAPH_CHALLENGE =
  'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", ' +
  'client_id="00000003-0000-0000-c000-000000000000"';

/** The failures the simulator's routes produce, each with Graph's own status and code. */
export const graphErrors = {
  missingToken: (): GraphFault =>
    new GraphFault(401, 'InvalidAuthenticationToken', 'Access token is empty.', {
      'WWW-Authenticate': GRAPH_CHALLENGE,
    }),
  resourceNotFound: (key: string): GraphFault =>
    new GraphFault(
      404,
      'Request_ResourceNotFound',
      `Resource '${key}' does not exist or one of its queried reference-property objects are not present.`,
    ),
  mailboxNotFound: (key: string): GraphFault =>
    new GraphFault(404, 'ErrorInvalidUser', `The requested user '${key}' is invalid.`),
  invalidVersion: (version: string): GraphFault =>
    new GraphFault(400, 'BadRequest', `Invalid version: ${version}`),
  unknownSegment: (segment: string): GraphFault =>
    new GraphFault(400, 'BadRequest', `Resource not found for the segment '${segment}'.`),
  meNeedsDelegatedToken: (): GraphFault =>
    new GraphFault(400, 'BadRequest', '/me request is only valid with delegated authentication flow.'),
  methodNotAllowed: (): GraphFault =>
    new GraphFault(405, 'Request_BadRequest', 'Specified HTTP method is not allowed for the request target.'),
  malformedPath: (): GraphFault =>
    new GraphFault(
      400,
      'BadRequest',
      'The request URI is not valid: a path segment is not properly escaped.',
    ),
  unknownProperty: (property: string, type: string): GraphFault =>
    new GraphFault(
      400,
      'BadRequest',
      `Parsing OData Select and Expand failed: Could not find a property named '${property}' on type 'microsoft.graph.${type}'.`,
    ),
  pageSizeOutOfRange: (raw: string): GraphFault =>
    new GraphFault(
      400,
      'Request_UnsupportedQuery',
      `Invalid page size specified: '${raw}'. Must be between 1 and 999 inclusive.`,
    ),
  notAnInteger: (option: string, raw: string): GraphFault =>
    new GraphFault(400, 'BadRequest', `Invalid value '${raw}' for ${option} query option found.`),
  repeatedQueryOption: (option: string): GraphFault =>
    new GraphFault(
      400,
      'BadRequest',
      `Query option '${option}' was specified more than once, but it must be specified at most once.`,
    ),
  queryOptionNotAllowed: (option: string): GraphFault =>
    new GraphFault(400, 'BadRequest', `Query option '${option}' is not allowed on a single resource.`),
  queryOptionNotSimulated: (option: string): GraphFault =>
    new GraphFault(
      501,
      'NotImplemented',
      `The query option '${option}' is valid in Microsoft Graph but this simulator does not implement it.`,
    ),
  invalidPageToken: (): GraphFault =>
    new GraphFault(
      400,
      'Directory_ExpiredPageToken',
      'The page token is not valid or has expired; start the listing again without $skiptoken.',
    ),
  emptyPayload: (): GraphFault => new GraphFault(400, 'BadRequest', 'Empty Payload. JSON content expected.'),
  unreadableJson: (): GraphFault =>
    new GraphFault(
      400,
      'BadRequest',
      'Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.',
    ),
  payloadTooLarge: (limitBytes: number): GraphFault =>
    new GraphFault(413, 'RequestEntityTooLarge', `The request body exceeds the ${limitBytes}-byte limit.`),
  invalidRequestBody: (detail: string): GraphFault => new GraphFault(400, 'RequestBodyRead', detail),
  missingMessage: (): GraphFault =>
    new GraphFault(400, 'ErrorInvalidRequest', "The 'message' parameter is required for sendMail."),
  noRecipients: (): GraphFault =>
    new GraphFault(
      400,
      'ErrorInvalidRecipients',
      "At least one recipient isn't valid., A message can't be sent because it contains no recipients.",
    ),
  unresolvedRecipient: (address: string): GraphFault =>
    new GraphFault(
      400,
      'ErrorInvalidRecipients',
      `At least one recipient isn't valid., Recipient '${address}' isn't resolved. All recipients must be resolved before a message can be submitted.`,
    ),
  /** A message id the mailbox does not hold, e.g. a draft's id once the draft was sent (its sent copy has a new id). */
  itemNotFound: (): GraphFault =>
    new GraphFault(404, 'ErrorItemNotFound', 'The specified object was not found in the store.'),
  /** Sending a message that is no draft (the simulator's reading: only a draft can be sent). */
  notADraft: (): GraphFault =>
    new GraphFault(400, 'ErrorInvalidOperation', 'Only a draft message can be sent.'),
  internal: (): GraphFault => new GraphFault(500, 'generalException', 'An unspecified error has occurred.'),
};

/** The code and message an injected fault answers with, so it reads like Graph's own failure. */
export function injectedFailure(status: number): { code: string; message: string } {
  switch (status) {
    case 429:
      return {
        code: 'TooManyRequests',
        message: 'Too many requests. Wait for the Retry-After interval, then retry.',
      };
    case 500:
      return { code: 'generalException', message: 'An unspecified error has occurred.' };
    case 502:
      return {
        code: 'BadGateway',
        message: 'The gateway received an invalid response from the upstream service.',
      };
    case 503:
      return {
        code: 'serviceNotAvailable',
        message: 'The service is temporarily unavailable. Retry after a delay.',
      };
    case 504:
      return { code: 'GatewayTimeout', message: 'The upstream service did not answer in time.' };
    default:
      return status >= 500
        ? { code: 'generalException', message: 'An unspecified error has occurred.' }
        : { code: 'invalidRequest', message: 'The request is malformed or incorrect.' };
  }
}
