import { describe, expect, it } from "vitest";
import { InProcessBus } from "./in-process-bus.js";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

async function take(source: AsyncIterable<import("./delivery.js").Delivery>, n: number) {
  const out = [];
  for await (const d of source) {
    out.push(d);
    if (out.length === n) break;
  }
  return out;
}

describe("in-process bus", () => {
  it("drops a repeated message id, like JetStream's duplicate window", () => {
    const bus = new InProcessBus();
    bus.ensureStreams("");
    expect(bus.publish("provenance.receipt.created", enc("a"), { msgID: "e1", headers: {} }).duplicate).toBe(false);
    expect(bus.publish("provenance.receipt.created", enc("a"), { msgID: "e1", headers: {} }).duplicate).toBe(true);
    expect(bus.lag("", "PROVENANCE", "nobody")).toBe(0);
    expect(() => bus.publish("elsewhere.x", enc("x"), { msgID: "e2", headers: {} })).toThrow(/no stream captures/);
  });

  it("delivers a durable's messages by filter, redelivers after nak, and resumes where it stopped", async () => {
    const bus = new InProcessBus();
    bus.ensureStreams("ns");
    for (let i = 1; i <= 3; i++) bus.publish(`ns.provenance.receipt.created`, enc(`c${i}`), { msgID: `c${i}`, headers: { "X-Request-Id": `r${i}` } });
    bus.publish(`ns.provenance.asset.version_published`, enc("v1"), { msgID: "v1", headers: {} });

    const first = bus.consume("ns", "PROVENANCE", "projection", ["ns.provenance.receipt.*"], 8);
    const [a, b] = await take(first, 2);
    expect([dec(a!.data), dec(b!.data)]).toEqual(["c1", "c2"]);
    expect(a!.headers["Nats-Msg-Id"]).toBe("c1");
    expect(a!.headers["X-Request-Id"]).toBe("r1");
    a!.ack();
    b!.nak(0);
    const [again] = await take(first, 1);
    expect(dec(again!.data)).toBe("c2");
    expect(again!.deliveryCount).toBe(2);
    again!.ack();
    await first.close();
    expect(bus.lag("ns", "PROVENANCE", "projection")).toBe(1);

    const second = bus.consume("ns", "PROVENANCE", "projection", ["ns.provenance.receipt.*"], 8);
    const [c] = await take(second, 1);
    expect(dec(c!.data)).toBe("c3");
    c!.ack();
    await second.close();
    expect(bus.lag("ns", "PROVENANCE", "projection")).toBe(0);
  });

  it("hands back what was in flight when a consumer closes, and bounds what is in flight", async () => {
    const bus = new InProcessBus();
    bus.ensureStreams("");
    for (let i = 1; i <= 5; i++) bus.publish("generation.jobs.requested", enc(`j${i}`), { msgID: `j${i}`, headers: {} });
    const first = bus.consume("", "GENERATION", "pipeline", ["generation.jobs.requested"], 2);
    const got = await take(first, 2);
    // Two in flight: a third is not handed out until one settles.
    const third = take(first, 1);
    const raced = await Promise.race([third.then(() => "delivered"), new Promise((r) => setTimeout(() => r("held"), 50))]);
    expect(raced).toBe("held");
    got[0]!.ack();
    expect(dec((await third)[0]!.data)).toBe("j3");
    await first.close();
    const second = bus.consume("", "GENERATION", "pipeline", ["generation.jobs.requested"], 8);
    const rest = await take(second, 3);
    expect(rest.map((d) => dec(d.data)).sort()).toEqual(["j2", "j3", "j4"]);
    await second.close();
  });

  it("tells core subscribers about every matching publish", () => {
    const bus = new InProcessBus();
    bus.ensureStreams("");
    const seen: string[] = [];
    const sub = bus.subscribe("provenance.staleness.detected.>", (subject) => seen.push(subject));
    bus.publish("provenance.staleness.detected.p1", enc("x"), { msgID: "d1", headers: {} });
    bus.publish("provenance.receipt.created", enc("x"), { msgID: "d2", headers: {} });
    sub.unsubscribe();
    bus.publish("provenance.staleness.detected.p2", enc("x"), { msgID: "d3", headers: {} });
    expect(seen).toEqual(["provenance.staleness.detected.p1"]);
  });
});

describe("in-process bus redelivery timing", () => {
  it("redelivers a nak'd message even when nothing else happens on the bus", async () => {
    const bus = new InProcessBus();
    bus.ensureStreams("");
    bus.publish("provenance.receipt.created", enc("only"), { msgID: "only", headers: {} });
    const source = bus.consume("", "PROVENANCE", "lonely", ["provenance.receipt.created"], 1);
    const [first] = await take(source, 1);
    first!.nak(15);
    // No publish and no other settle follow: only the consumer's own timer can bring the message back.
    const [again] = await take(source, 1);
    expect(again!.deliveryCount).toBe(2);
    again!.ack();
    await source.close();
  });
});
