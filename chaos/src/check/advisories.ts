/**
 * JetStream's own word on messages a durable consumer gave up on during the run: the MSG_TERMINATED advisory (the
 * consumer's handler called term(), e.g. after its maximum deliveries) and MAX_DELIVERIES (the server stopped
 * redelivering). Either means an event or a job request was dropped by its consumer, which the checker reports by
 * stream, consumer and sequence. The subscription moves with its connection when a node dies; an advisory published
 * while it reconnects can be missed.
 */
import type { NatsConnection, Subscription } from "@nats-io/transport-node";

/** One message a consumer gave up on. */
export interface GivenUp {
  readonly kind: "terminated" | "max deliveries";
  readonly stream: string;
  readonly consumer: string;
  readonly streamSeq: number;
}

const SUBJECTS = {
  terminated: "$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED.>",
  "max deliveries": "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.>",
} as const;

/** Collects the advisories until stop(). */
export class GiveUpWatch {
  readonly givenUp: GivenUp[] = [];
  private readonly subs: Subscription[] = [];

  /** Subscribes on `nc` (which the caller keeps open for the whole run). */
  constructor(nc: NatsConnection) {
    for (const [kind, subject] of Object.entries(SUBJECTS) as [GivenUp["kind"], string][]) {
      this.subs.push(
        nc.subscribe(subject, {
          callback: (_err, msg) => {
            try {
              const a = msg.json<{ stream?: string; consumer?: string; stream_seq?: number }>();
              this.givenUp.push({ kind, stream: a.stream ?? "?", consumer: a.consumer ?? "?", streamSeq: a.stream_seq ?? 0 });
            } catch {
              this.givenUp.push({ kind, stream: "?", consumer: "?", streamSeq: 0 });
            }
          },
        }),
      );
    }
  }

  /** Stops listening. */
  stop(): void {
    for (const sub of this.subs) sub.unsubscribe();
  }
}
