/**
 * What a Graph simulator route receives and returns: the request reduced to what Graph routing
 * looks at, and a status with an optional JSON body. Must never carry Node's request or response
 * objects, so routes stay plain functions that cannot half-write a response.
 */
import type { GraphStore } from '../store';

export interface GraphCall {
  method: string;
  /** Decoded path segments after the version, e.g. ['users', 'sam@contoso.example', 'sendMail']. */
  segments: string[];
  query: URLSearchParams;
  body: Buffer;
  /** The service root as the caller addressed it, e.g. https://localhost:4443/v1.0 — links start here. */
  serviceRoot: string;
  store: GraphStore;
}

export interface GraphReply {
  status: number;
  /** Serialized as JSON when present; absent means an empty body (202, 204). */
  body?: unknown;
}
