/**
 * The errors the Dataverse simulator answers with: an HTTP status plus Dataverse's own error body
 * (`{"error":{"code":"0x…","message":"…"}}`). Every failure a handler can meet is one of these, so
 * the server never has to guess a status. This module must never build a body that the real service
 * would not send (no stack traces, no simulator internals in `code`).
 *
 * Codes are the hexadecimal values Dataverse documents in its web service error code list; the
 * URI-parsing code 0x80060888 is the one the service returns for OData query and key errors.
 */

/** Error codes used by the simulator, by the name Dataverse gives them. */
export const ErrorCodes = {
  /** ObjectDoesNotExist: a record or lookup target is missing. */
  objectDoesNotExist: '0x80040217',
  /** DuplicateRecord: a primary key that already exists. */
  duplicateRecord: '0x80040237',
  /** DuplicateRecordEntityKey: an alternate key value that already exists. */
  duplicateRecordEntityKey: '0x80060892',
  /** ConcurrencyVersionMismatch: If-Match carried a stale etag. */
  concurrencyVersionMismatch: '0x80060882',
  /** EntityKeyNotDefined: a key segment names columns that are no alternate key. */
  entityKeyNotDefined: '0x80060890',
  /** ODataClientPayloadError: the request body could not be read as the table's entity. */
  payload: '0x80048d19',
  /** OData URI errors: bad $filter, unknown property in $select or $orderby, bad key segment. */
  uriSyntax: '0x80060888',
  /** Resource not found for the segment: unknown entity set, function or path. */
  resourceNotFound: '0x8006088a',
  /** NotImplemented: used for Web API features the simulator does not implement. */
  notImplemented: '0x80040219',
  /** InvalidArgument. */
  invalidArgument: '0x80040203',
  /** RequiredFieldMissing: a SystemRequired column left empty. */
  requiredFieldMissing: '0x80040200',
  /** StringLengthTooLong: a text longer than the column's MaxLength. */
  stringLengthTooLong: '0x80044331',
  /** PicklistValueOutOfRange: a choice value that is not one of the column's options. */
  picklistValueOutOfRange: '0x8004431a',
  /** IntegerValueOutOfRange: a whole number outside the column's MinValue..MaxValue. */
  integerValueOutOfRange: '0x8004432f',
  /** PrivilegeDenied. */
  privilegeDenied: '0x80040220',
  /** UnExpected: "An unexpected error occurred." */
  unexpected: '0x80040216',
  /** Service protection: number of requests over the 300 second window. */
  throttledRequests: '0x80072322',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export interface DataverseErrorBody {
  error: { code: string; message: string };
}

export class DataverseFault extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Extra response headers, e.g. Allow on 405. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'DataverseFault';
  }

  body(): DataverseErrorBody {
    return { error: { code: this.code, message: this.message } };
  }
}

export function recordNotFound(logicalName: string, id: string): DataverseFault {
  return new DataverseFault(
    404,
    ErrorCodes.objectDoesNotExist,
    `${logicalName} With Id = ${id} Does Not Exist`,
  );
}

export function recordNotFoundByKey(logicalName: string, key: string): DataverseFault {
  return new DataverseFault(
    404,
    ErrorCodes.objectDoesNotExist,
    `A record with the specified key values does not exist in ${logicalName} entity (${key})`,
  );
}

export function duplicateRecord(): DataverseFault {
  return new DataverseFault(
    412,
    ErrorCodes.duplicateRecord,
    'A record with matching key values already exists.',
  );
}

export function duplicateAlternateKey(keyName: string, attributes: string[]): DataverseFault {
  return new DataverseFault(
    412,
    ErrorCodes.duplicateRecordEntityKey,
    `Entity Key ${keyName} violated. A record with the same value for ${attributes.join(',')} already exists. ` +
      'A duplicate record cannot be created. Select one or more unique values and try again.',
  );
}

/** A SystemRequired column without a value after a create or update. */
export function requiredFieldMissing(logicalName: string, column: string): DataverseFault {
  return new DataverseFault(
    400,
    ErrorCodes.requiredFieldMissing,
    `Required field missing: the '${column}' column of the '${logicalName}' entity is required and has no value.`,
  );
}

export function concurrencyMismatch(): DataverseFault {
  return new DataverseFault(
    412,
    ErrorCodes.concurrencyVersionMismatch,
    "The version of the existing record doesn't match the RowVersion property provided.",
  );
}

export function segmentNotFound(segment: string): DataverseFault {
  return new DataverseFault(
    404,
    ErrorCodes.resourceNotFound,
    `Resource not found for the segment '${segment}'.`,
  );
}

export function propertyNotFound(property: string, logicalName: string): DataverseFault {
  return new DataverseFault(
    400,
    ErrorCodes.uriSyntax,
    `Could not find a property named '${property}' on type 'Microsoft.Dynamics.CRM.${logicalName}'.`,
  );
}

export function uriError(message: string): DataverseFault {
  return new DataverseFault(400, ErrorCodes.uriSyntax, message);
}

/** A body the service cannot read as the table's entity (bad JSON, unknown column, wrong type). */
export function payloadError(entitySetName: string, inner: string): DataverseFault {
  return new DataverseFault(
    400,
    ErrorCodes.payload,
    `Error identified in Payload provided by the user for Entity :'${entitySetName}'  ---->  InnerException : ${inner}`,
  );
}

export function invalidArgument(message: string): DataverseFault {
  return new DataverseFault(400, ErrorCodes.invalidArgument, message);
}

export function methodNotAllowed(method: string, allowed: string[]): DataverseFault {
  return new DataverseFault(
    405,
    ErrorCodes.uriSyntax,
    `The requested resource does not support http method '${method}'.`,
    { Allow: allowed.join(', ') },
  );
}

/** A Web API feature the simulator does not implement (501, as Dataverse answers unimplemented operations). */
export function notImplemented(feature: string): DataverseFault {
  return new DataverseFault(
    501,
    ErrorCodes.notImplemented,
    `The Dataverse simulator does not implement ${feature}.`,
  );
}

export function unexpected(): DataverseFault {
  return new DataverseFault(500, ErrorCodes.unexpected, 'An unexpected error occurred.');
}

/** The body Dataverse sends with an injected failure of the given status (429, 5xx, ...). */
export function faultBody(status: number): DataverseErrorBody {
  if (status === 429) {
    return {
      error: {
        code: ErrorCodes.throttledRequests,
        message: 'Number of requests exceeded the limit of 6000 over time window of 300 seconds.',
      },
    };
  }
  if (status === 412) return concurrencyMismatch().body();
  if (status === 404)
    return { error: { code: ErrorCodes.objectDoesNotExist, message: 'The specified object was not found.' } };
  if (status === 403)
    return {
      error: {
        code: ErrorCodes.privilegeDenied,
        message: 'Principal user is missing a privilege this request needs.',
      },
    };
  if (status >= 500) return unexpected().body();
  return { error: { code: ErrorCodes.invalidArgument, message: 'Invalid argument.' } };
}
