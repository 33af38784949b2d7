/**
 * Latest-wins request tracking (pure). Starting a request aborts the one still running; a superseded request's
 * result is dropped even if it happened to finish, so the views only ever show the newest analysis.
 */
export interface RequestTicket {
  readonly signal: AbortSignal;
  readonly id: number;
  /** Still the newest request and not aborted. */
  isCurrent(): boolean;
}

export class LatestWins {
  private seq = 0;
  private controller: AbortController | null = null;
  private currentId = 0;

  begin(): RequestTicket {
    this.controller?.abort();
    const controller = new AbortController();
    this.controller = controller;
    const id = ++this.seq;
    this.currentId = id;
    return { signal: controller.signal, id, isCurrent: () => this.currentId === id && !controller.signal.aborted };
  }

  /** True when `ticket` was the newest (its end may hide the progress indicator). */
  finish(ticket: RequestTicket): boolean {
    if (this.currentId !== ticket.id) return false;
    this.controller = null;
    return true;
  }

  get running(): boolean {
    return this.controller !== null;
  }

  cancel(): void {
    this.controller?.abort();
    this.controller = null;
  }
}
