/**
 * The last line of defence: a span processor and a log record processor that redact every string
 * in what is about to be exported (names, attributes, bodies, status and event texts), whatever
 * recorded it. They run before the exporter's batch processors, while records can still change.
 */
import type { Context } from '@opentelemetry/api';
import type { LogRecordProcessor, SdkLogRecord } from '@opentelemetry/sdk-logs';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Redactor } from './redact';

type Attributes = Record<string, unknown>;

function redactAttributes(attributes: Attributes | undefined, redactor: Redactor): void {
  if (!attributes) return;
  for (const [key, value] of Object.entries(attributes)) {
    if (typeof value === 'string') attributes[key] = redactor.text(value);
    else if (Array.isArray(value))
      attributes[key] = value.map((v: unknown) => (typeof v === 'string' ? redactor.text(v) : v));
  }
}

export class RedactingSpanProcessor implements SpanProcessor {
  constructor(private readonly redactor: Redactor) {}

  onStart(_span: Span, _parentContext: Context): void {}

  onEnd(span: ReadableSpan): void {
    // An ended span is read-only through its API; its fields are plain data the exporter reads next.
    const open = span as unknown as {
      name: string;
      attributes: Attributes;
      status: { message?: string };
      events: { name: string; attributes?: Attributes }[];
    };
    open.name = this.redactor.text(open.name);
    redactAttributes(open.attributes, this.redactor);
    if (open.status?.message) open.status.message = this.redactor.text(open.status.message);
    for (const event of open.events ?? []) redactAttributes(event.attributes, this.redactor);
  }

  async forceFlush(): Promise<void> {}
  async shutdown(): Promise<void> {}
}

export class RedactingLogRecordProcessor implements LogRecordProcessor {
  constructor(private readonly redactor: Redactor) {}

  onEmit(record: SdkLogRecord): void {
    if (typeof record.body === 'string') record.setBody(this.redactor.text(record.body));
    for (const [key, value] of Object.entries(record.attributes)) {
      if (typeof value === 'string') record.setAttribute(key, this.redactor.text(value));
    }
  }

  async forceFlush(): Promise<void> {}
  async shutdown(): Promise<void> {}
}
