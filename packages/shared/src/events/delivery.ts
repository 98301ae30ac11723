/** One delivered event as a consumer sees it, whichever transport delivered it. */

/** A message handed to a durable consumer, to be acknowledged exactly one way. */
export interface Delivery {
  /** The subject as published (namespaced). */
  readonly subject: string;
  readonly data: Uint8Array;
  /** First value of each header. */
  readonly headers: Record<string, string>;
  /** 1 on first delivery. */
  readonly deliveryCount: number;
  /** Position in its stream. */
  readonly seq: number;
  /** Done: never deliver again. */
  ack(): void;
  /** Failed: deliver again after `delayMs`. */
  nak(delayMs?: number): void;
  /** Give up on it: never deliver again. */
  term(): void;
}

/** A stream of deliveries that can be closed. */
export interface DeliverySource extends AsyncIterable<Delivery> {
  close(): Promise<void>;
}
