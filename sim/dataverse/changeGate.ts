/**
 * Holds back change notifications while a changeset is open. Dataverse starts asynchronous steps
 * (webhooks) only for changes that committed; a changeset that rolls back must leave no system job
 * and send no webhook. The gate sits between Records and the webhook dispatcher: outside a held
 * section events pass straight through; inside one they are kept and delivered only when the section
 * returns, and dropped when it throws. It never changes or reorders events.
 */
import type { ChangeEvent, ChangeListener } from './records';

export class ChangeGate {
  private held: ChangeEvent[] | undefined;

  constructor(private readonly deliver: ChangeListener) {}

  /** Register this with Records.onChange. */
  readonly listener: ChangeListener = (event) => {
    if (this.held) this.held.push(event);
    else this.deliver(event);
  };

  /** Runs `work` with events held: delivered in order if it returns, discarded if it throws. */
  hold<T>(work: () => T): T {
    if (this.held) return work(); // already held by an enclosing section, which decides
    this.held = [];
    let events: ChangeEvent[];
    let result: T;
    try {
      result = work();
      events = this.held;
    } finally {
      this.held = undefined;
    }
    for (const event of events) this.deliver(event);
    return result;
  }
}
