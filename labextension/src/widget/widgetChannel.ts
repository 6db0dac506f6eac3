/**
 * Protocol v1 over a widget's own comm: the anywidget model's custom messages.
 *
 * The kernel side is `syft_pm.kernel.widget.ProcessWidget`. It pushes deltas
 * from its watcher thread where that works (JupyterLab, VS Code); in Colab a
 * message a kernel thread sends while the kernel is idle never arrives, so this
 * channel also drives the kernel itself:
 *
 * - it sends `poll` whenever nothing arrived for `quietMs` (and at least every
 *   `keepaliveMs`, so the kernel does not expire a view that only listens),
 *   with at most one request in flight, and not at all while its element
 *   cannot be seen;
 * - when a reply shows that messages were lost (a delta or heartbeat whose
 *   `seq` is beyond the last one applied), it subscribes again with
 *   `"push": false`: from then on the kernel holds what its thread produces
 *   and sends it in the reply to the next poll;
 * - deltas it has already applied (`seq` not beyond the last) are dropped,
 *   and an action result that arrives twice (pushed, then repeated in a
 *   poll's reply) is passed on once.
 *
 * A request left unanswered for `stallMs` turns the channel `connecting` (the
 * owner shows the state as not live); the next message after that brings a
 * fresh subscription, hence a snapshot.
 */
import { BaseChannel } from '../live/channel';
import {
  ClientMessage,
  IActionResultMessage,
  isServerMessage,
  ServerMessage
} from '../live/protocol';
import { IWidgetModel } from './model';
import { IVisibility } from './visibility';

/**
 * Timings of the poll policy (exported so tests and docs can refer to them).
 */
export const WIDGET_TIMING = Object.freeze({
  /** Poll when nothing arrived for this long. */
  quietMs: 1000,
  /**
   * Send something at least this often while seen: the kernel drops a view
   * it has not heard from for 30 s, even one that receives pushes.
   */
  keepaliveMs: 10_000,
  /** A request unanswered this long: the state is no longer live. */
  stallMs: 5000,
  /** A request unanswered this long is taken as lost: ask again. */
  retryMs: 30_000
});

export type WidgetTiming = {
  -readonly [K in keyof typeof WIDGET_TIMING]: number;
};

/** How many answered action ids are remembered to drop repeats. */
const SEEN_RESULTS = 64;

type RequestKind = 'subscribe' | 'poll';

/**
 * The widget's transport: custom messages of one anywidget model.
 */
export class WidgetChannel extends BaseChannel {
  /** The widget's comm is a kernel comm (the view says "from the kernel"). */
  readonly kind = 'kernel' as const;

  constructor(
    readonly model: IWidgetModel,
    options: WidgetChannel.IOptions
  ) {
    super();
    this._logLines = options.logLines;
    this._visibility = options.visibility;
    this._timing = { ...WIDGET_TIMING, ...options.timing };
    this._now = options.now ?? Date.now;
    this._visibility.changed.connect(this._onVisibility, this);
  }

  /** Whether the kernel pushes from its thread (false once a gap was seen). */
  get push(): boolean {
    return this._push;
  }

  /** The request waiting for its answer, if any (for tests, diagnostics). */
  get inFlight(): RequestKind | null {
    return this._inFlight?.kind ?? null;
  }

  /** Whether a request went unanswered for `stallMs`. */
  get stalled(): boolean {
    return this._stalled;
  }

  /** Subscribe (once; later calls subscribe again). */
  open(): void {
    if (this.isDisposed) {
      return;
    }
    if (!this._listening) {
      this._listening = true;
      this.model.on('msg:custom', this._onCustom);
    }
    this.setStatus('connecting');
    this._subscribe();
  }

  /**
   * Send a client message. A `resync` becomes a subscription (same scope and
   * push mode), since the widget's kernel side opens one per `subscribe`.
   */
  send(msg: ClientMessage): boolean {
    if (this.isDisposed || !this._listening) {
      return false;
    }
    if (msg.type === 'resync' || msg.type === 'subscribe') {
      this._subscribe();
      return true;
    }
    this._send(msg, msg.type === 'poll' ? 'poll' : null);
    return true;
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._clearTimer();
    this._visibility.changed.disconnect(this._onVisibility, this);
    if (this._listening) {
      this.model.off('msg:custom', this._onCustom);
      this._listening = false;
    }
    super.dispose();
  }

  // -- sending ---------------------------------------------------------------

  private _subscribe(): void {
    this._awaitingSnapshot = true;
    this._send(
      { type: 'subscribe', log_lines: this._logLines, push: this._push },
      'subscribe'
    );
  }

  private _poll(): void {
    // `log_lines` lets a kernel that expired this view reopen it alike.
    this._send({ type: 'poll', log_lines: this._logLines }, 'poll');
  }

  private _send(content: object, request: RequestKind | null): void {
    const now = this._now();
    this._lastSent = now;
    if (request !== null) {
      this._inFlight = { kind: request, since: now };
    }
    try {
      this.model.send(content);
    } catch {
      // A closed comm (kernel gone): the request stays "in flight" and the
      // stall shows the state as not live.
    }
    this._schedule();
  }

  // -- receiving -------------------------------------------------------------

  private _onCustom = (content: unknown): void => {
    if (this.isDisposed || !isServerMessage(content)) {
      return;
    }
    this._lastReceived = this._now();
    const answered =
      this._inFlight?.kind !== 'subscribe' ||
      content.type === 'snapshot' ||
      content.type === 'error';
    if (answered) {
      this._inFlight = null;
    }
    this._receive(content);
    this._schedule();
  };

  private _receive(msg: ServerMessage): void {
    switch (msg.type) {
      case 'snapshot':
        this._lastSeq = msg.seq;
        this._awaitingSnapshot = false;
        this._stalled = false;
        this.setStatus('open');
        this.deliver(msg);
        return;
      case 'delta':
      case 'heartbeat': {
        if (this._awaitingSnapshot) {
          return;
        }
        if (this._stalled) {
          // The owner marked the state not live: start over with a snapshot.
          this._stalled = false;
          this._subscribe();
          return;
        }
        const next = msg.type === 'delta' ? this._lastSeq + 1 : this._lastSeq;
        if (msg.seq < next) {
          return; // already applied (a repeat, or from before a snapshot)
        }
        if (msg.seq > next) {
          // Messages were lost (sent from a kernel thread that cannot send):
          // from now on the kernel holds them for the replies to polls.
          this._push = false;
          this._subscribe();
          return;
        }
        this._lastSeq = msg.seq;
        this.deliver(msg);
        return;
      }
      case 'action_result':
        if (this._seenResult(msg)) {
          return;
        }
        this.deliver(msg);
        return;
      default:
        this.deliver(msg);
    }
  }

  private _seenResult(msg: IActionResultMessage): boolean {
    const id = String(msg.id);
    if (this._results.includes(id)) {
      return true;
    }
    this._results.push(id);
    if (this._results.length > SEEN_RESULTS) {
      this._results.shift();
    }
    return false;
  }

  // -- the poll policy -------------------------------------------------------

  private _onVisibility(_: IVisibility, visible: boolean): void {
    if (visible) {
      this._tick();
    } else {
      this._clearTimer();
    }
  }

  private _tick(): void {
    this._clearTimer();
    if (this.isDisposed || !this._listening || !this._visibility.visible) {
      return;
    }
    const now = this._now();
    const t = this._timing;
    const flight = this._inFlight;
    if (flight !== null) {
      const waited = now - flight.since;
      if (waited >= t.retryMs) {
        this._inFlight = null; // lost: ask again below
      } else {
        if (waited >= t.stallMs && !this._stalled && this.status === 'open') {
          this._stalled = true;
          this.setStatus('connecting');
        }
        this._schedule();
        return;
      }
    }
    if (this._awaitingSnapshot) {
      this._subscribe();
    } else if (
      now - this._lastReceived >= t.quietMs ||
      now - this._lastSent >= t.keepaliveMs
    ) {
      this._poll();
    } else {
      this._schedule();
    }
  }

  /** Wake up when the next thing may be due (one timer, only while seen). */
  private _schedule(): void {
    this._clearTimer();
    if (this.isDisposed || !this._listening || !this._visibility.visible) {
      return;
    }
    const t = this._timing;
    let due: number;
    const flight = this._inFlight;
    if (flight !== null) {
      due =
        flight.since +
        (this._stalled || this.status !== 'open' ? t.retryMs : t.stallMs);
    } else if (this._awaitingSnapshot) {
      due = this._now();
    } else {
      due = Math.min(
        this._lastReceived + t.quietMs,
        this._lastSent + t.keepaliveMs
      );
    }
    const delay = Math.max(0, due - this._now());
    this._timer = setTimeout(() => {
      this._timer = null;
      this._tick();
    }, delay);
  }

  private _clearTimer(): void {
    if (this._timer !== null) {
      clearTimeout(this._timer);
      this._timer = null;
    }
  }

  private _logLines: number;
  private _visibility: IVisibility;
  private _timing: WidgetTiming;
  private _now: () => number;
  private _listening = false;
  private _push = true;
  private _stalled = false;
  private _awaitingSnapshot = false;
  private _lastSeq = 0;
  private _lastSent = 0;
  private _lastReceived = 0;
  private _inFlight: { kind: RequestKind; since: number } | null = null;
  private _results: string[] = [];
  private _timer: ReturnType<typeof setTimeout> | null = null;
}

export namespace WidgetChannel {
  export interface IOptions {
    /** Log lines per stream in snapshots. */
    logLines: number;
    /** Whether the widget can be seen (no polls while it cannot). */
    visibility: IVisibility;
    /** For tests: shorter or longer timings. */
    timing?: Partial<WidgetTiming>;
    /** For tests: the clock (ms). */
    now?: () => number;
  }
}
