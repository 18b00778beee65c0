/**
 * How binding values cross between the worker's typed data and storage: the bytes a blob output
 * writes, the text of each queue message an output sends (an array is one message per element, as
 * the Node worker's queue output does), and the queue message encoding the host uses (base64 on
 * write; on read base64 when the text is canonical base64 of UTF-8 text, else the text as it is).
 * Pure conversions, no I/O.
 */
import type { RpcTypedData } from '../worker/coreApi';

/** The bytes a blob output binding writes for a value. */
export function blobBytes(data: RpcTypedData): Buffer | undefined {
  if (data.bytes !== undefined && data.bytes !== null) return Buffer.from(data.bytes);
  if (data.string !== undefined && data.string !== null) return Buffer.from(data.string, 'utf8');
  if (data.json !== undefined && data.json !== null) return Buffer.from(data.json, 'utf8');
  if (data.int !== undefined && data.int !== null) return Buffer.from(String(data.int), 'utf8');
  if (data.double !== undefined && data.double !== null) return Buffer.from(String(data.double), 'utf8');
  return undefined;
}

/** The text of each message a queue output binding sends for a value. */
export function queueMessageTexts(data: RpcTypedData): string[] {
  if (data.json !== undefined && data.json !== null) {
    const parsed: unknown = JSON.parse(data.json);
    if (Array.isArray(parsed)) return parsed.map((m) => (typeof m === 'string' ? m : JSON.stringify(m)));
    return [data.json];
  }
  const bytes = blobBytes(data);
  return bytes === undefined ? [] : [bytes.toString('utf8')];
}

export function encodeQueueMessage(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A message's text. Written by the host (or an SDK set to base64) it is base64; written as plain
 * text by a tool it is not, and is taken as it is rather than failing the message.
 */
export function decodeQueueMessage(raw: string): string {
  if (raw.length === 0 || !BASE64.test(raw)) return raw;
  const bytes = Buffer.from(raw, 'base64');
  if (bytes.toString('base64') !== raw) return raw;
  try {
    return utf8.decode(bytes);
  } catch {
    return raw;
  }
}

/** A JS value as typed data for trigger metadata (what the worker's library turns back into values). */
export function toTypedData(value: unknown): RpcTypedData {
  if (typeof value === 'string') return { string: value };
  if (typeof value === 'number') return Number.isInteger(value) ? { int: value } : { double: value };
  if (Buffer.isBuffer(value)) return { bytes: value };
  return { json: JSON.stringify(value ?? null) };
}

/** The properties of a JSON object text (a payload's binding data); empty for anything else. */
export function jsonProperties(text: string | undefined): Record<string, unknown> {
  if (!text) return {};
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : {};
  } catch {
    return {};
  }
}
