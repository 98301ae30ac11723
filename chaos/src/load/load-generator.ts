/**
 * The steady load of a chaos run, sent as the platform's callers send it, against both replicas of each service:
 * - single receipts: CreateReceipt, a short "generation", CompleteReceipt (SUCCEEDED, FAILED, or left running), some
 *   of them retakes of a segment that already has a receipt;
 * - batches: CreateReceipts of 20–60 entries, then CompleteReceipts of those that finish;
 * - now and then a new version of a project's LoRA (PublishVersion), followed by a SubmitRegeneration of some of the
 *   segments it made stale (the pipeline simulator then records their new receipts).
 * Every request is resent identically until it is answered (see resend.ts); a few acknowledged ones are resent once
 * more on purpose, as after a lost reply, and must get the same answer.
 */
import { randomInt } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code, createClient, type Client, type ConnectError } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import {
  AssetService,
  CompleteReceiptRequestSchema,
  CreateReceiptRequestSchema,
  ReceiptService,
  ReceiptStatus,
  RegenerationService,
  RegisterAssetResponseSchema,
  type CompleteReceiptRequest,
  type CreateReceiptRequest,
} from "@provenance/shared";
import { createOutboundAuthInterceptor, staticTokenSource } from "@provenance/shared/auth";
import { sleep } from "../supervision/ports.js";
import { ASSET_ROLES, AssetCatalog, CHAOS_PROJECTS, assetIdOf, contentHash, versionHash } from "./chaos-assets.js";
import { Ledger, type PlannedCompletion, type SentReceipt, type SentSubmit } from "./ledger.js";
import { AnswerStats, sendUntilAnswered, type SendOptions } from "./resend.js";

/** Where the load goes: each service's replica URLs. */
export interface LoadTargets {
  readonly receipts: readonly string[];
  readonly staleness: readonly string[];
  readonly regeneration: readonly string[];
}

/** How much load, and how it is sent. */
export interface LoadOptions {
  readonly targets: LoadTargets;
  /** Bearer tokens: `setup` registers the assets (admin), `load` sends everything else. */
  readonly tokens: { readonly setup: string; readonly load: string };
  /** Concurrent single-receipt workers (default 4). */
  readonly singleWorkers?: number;
  /** Pause of each single worker between receipts, ms (default 150). */
  readonly singlePauseMs?: number;
  /** Pause between batches, ms (default 1000). */
  readonly batchPauseMs?: number;
  /** A new LoRA version and a regeneration submit this often, ms (default 30 s). */
  readonly assetEveryMs?: number;
  /** Deadline of one attempt, ms (default 4 s; a batch gets three times that). */
  readonly callTimeoutMs?: number;
  /** How long stop() lets requests in flight keep trying to be answered, ms (default 120 s). */
  readonly drainMs?: number;
}

/** Share of acknowledged requests resent once more on purpose. */
const DELIBERATE_RESEND = 0.05;
/** Share of single receipts that are retakes of an earlier segment. */
const RETAKE = 0.1;
/** Segments selected by one regeneration submit, at most. */
const SEGMENTS_PER_SUBMIT = 6;
/** Wait after a publish before submitting, so the projection has seen the segments' receipts. */
const SUBMIT_AFTER_PUBLISH_MS = 3_000;

const pick = <T>(items: readonly T[]): T => items[randomInt(items.length)]!;

function plannedCompletion(): PlannedCompletion {
  const n = Math.random();
  return n < 0.85 ? "SUCCEEDED" : n < 0.95 ? "FAILED" : "none";
}

function randomSeed(): bigint {
  return (BigInt(randomInt(2 ** 31)) << 32n) | BigInt(randomInt(2 ** 32 - 1));
}

/** The running load. */
export class LoadGenerator {
  readonly ledger = new Ledger();
  readonly stats = new AnswerStats();
  readonly catalog = new AssetCatalog();
  private readonly receipts: Client<typeof ReceiptService>[];
  private readonly assets: Client<typeof AssetService>[];
  private readonly adminAssets: Client<typeof AssetService>[];
  private readonly regeneration: Client<typeof RegenerationService>[];
  private readonly timeoutMs: number;
  private workers: Promise<void>[] = [];
  private stopping = false;
  private giveUpAtMs = Number.POSITIVE_INFINITY;
  private nextSegment = 0;
  private nextBatch = 0;
  private nextSubmit = 0;
  private readonly selected = new Set<string>();
  private readonly loraVersions = new Map<string, number>();
  private readonly sleepers = new Set<() => void>();

  /** Prepares clients for every replica; nothing is sent until setUp(). */
  constructor(private readonly opts: LoadOptions) {
    const clients = <S extends Parameters<typeof createClient>[0]>(service: S, urls: readonly string[], token: string) =>
      urls.map((baseUrl) =>
        createClient(service, createGrpcTransport({ baseUrl, interceptors: [createOutboundAuthInterceptor({ serviceToken: staticTokenSource(token) })] })),
      );
    this.receipts = clients(ReceiptService, opts.targets.receipts, opts.tokens.load);
    this.assets = clients(AssetService, opts.targets.staleness, opts.tokens.load);
    this.adminAssets = clients(AssetService, opts.targets.staleness, opts.tokens.setup);
    this.regeneration = clients(RegenerationService, opts.targets.regeneration, opts.tokens.load);
    this.timeoutMs = opts.callTimeoutMs ?? 4_000;
  }

  private send<T>(opts: Omit<SendOptions<T>, "giveUpAtMs">, call: (replica: number) => Promise<T>): Promise<T | undefined> {
    return sendUntilAnswered(this.stats, { ...opts, giveUpAtMs: () => this.giveUpAtMs }, call);
  }

  /** Registers the run's assets and publishes version 1 of each (before any fault). */
  async setUp(): Promise<void> {
    for (const { project, role, assetId } of this.catalog.all()) {
      const registered = await this.send(
        {
          rpc: "RegisterAsset",
          what: `RegisterAsset ${assetId}`,
          replicas: this.adminAssets.length,
          firstReplica: 0,
          // A resend after a lost reply finds the asset there already.
          doneOnResend: (err: ConnectError) => (err.code === Code.AlreadyExists ? create(RegisterAssetResponseSchema) : undefined),
        },
        (r) => this.adminAssets[r]!.registerAsset({ assetId, kind: ASSET_ROLES[role], name: `${project} ${role}`, projectId: project }, { timeoutMs: this.timeoutMs }),
      );
      if (registered === undefined) throw new Error(`could not register ${assetId}: ${this.stats.refusals.at(-1) ?? this.stats.unanswered.at(-1)}`);
      if (!(await this.publish(assetId, 1))) throw new Error(`could not publish ${assetId} v1: ${this.stats.refusals.at(-1)}`);
    }
  }

  /** Starts the workers. */
  start(): void {
    const singles = this.opts.singleWorkers ?? 4;
    for (let w = 0; w < singles; w++) this.workers.push(this.loop(() => this.singleReceipt(w), this.opts.singlePauseMs ?? 150));
    this.workers.push(this.loop(() => this.receiptBatch(), this.opts.batchPauseMs ?? 1_000));
    this.workers.push(this.loop(() => this.newVersionAndSubmit(), this.opts.assetEveryMs ?? 30_000));
  }

  /** Stops starting new requests and waits for those in flight to be answered (or given up after `drainMs`). */
  async stop(): Promise<void> {
    this.stopping = true;
    this.giveUpAtMs = Date.now() + (this.opts.drainMs ?? 120_000);
    for (const wake of [...this.sleepers]) wake();
    await Promise.all(this.workers);
  }

  private async loop(step: () => Promise<void>, pauseMs: number): Promise<void> {
    while (!this.stopping) {
      await step();
      if (!this.stopping) await this.pause(pauseMs);
    }
  }

  /** Sleeps `ms`, or less when stop() is called meanwhile. */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.sleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.sleepers.add(done);
    });
  }

  private newReceipt(via: "single" | "batch", retakeOf?: SentReceipt): { sent: SentReceipt; request: CreateReceiptRequest } {
    const n = this.nextSegment++;
    const projectId = retakeOf?.projectId ?? CHAOS_PROJECTS[n % CHAOS_PROJECTS.length]!;
    const segmentId = retakeOf?.segmentId ?? `${via === "single" ? "s" : "b"}${n}`;
    const sceneId = retakeOf?.sceneId ?? `${projectId}-scene-${n % 16}`;
    const sequenceIndex = retakeOf?.sequenceIndex ?? n;
    const lora = this.catalog.versionOf(assetIdOf(projectId, "lora"));
    const key = `chaos:${via}:${n}`;
    const sent = this.ledger.send({ key, segmentId, projectId, sceneId, sequenceIndex, via, retake: retakeOf !== undefined, loraHash: lora.contentHash, planned: plannedCompletion() });
    const request = create(CreateReceiptRequestSchema, {
      segmentId,
      sceneId,
      projectId,
      characterName: "Mira",
      sequenceIndex,
      sourceImage: this.catalog.versionOf(assetIdOf(projectId, "source")),
      workflow: this.catalog.versionOf(assetIdOf(projectId, "workflow")),
      model: this.catalog.versionOf(assetIdOf(projectId, "model")),
      loras: [{ asset: lora, weight: 0.8 }],
      workflowVersion: "chaos-1",
      promptText: `shot ${n} of ${projectId}: Mira walks through the rain`,
      negativePrompt: "blurry",
      cfgScale: 7,
      seed: randomSeed(),
      steps: 20,
      sampler: "euler",
      resolutionWidth: 832,
      resolutionHeight: 480,
      generationStartedAt: timestampFromMs(sent.sentAtMs),
      idempotencyKey: key,
    });
    return { sent, request };
  }

  private completionOf(sent: SentReceipt): CompleteReceiptRequest | undefined {
    if (sent.planned === "none" || sent.receiptId === undefined) return undefined;
    const completedAtMs = Date.now();
    const outputHash = sent.planned === "SUCCEEDED" ? contentHash(`output of ${sent.receiptId}`) : "";
    sent.completion = { status: sent.planned, completedAtMs, outputHash };
    return create(CompleteReceiptRequestSchema, {
      receiptId: sent.receiptId,
      status: sent.planned === "SUCCEEDED" ? ReceiptStatus.SUCCEEDED : ReceiptStatus.FAILED,
      generationCompletedAt: timestampFromMs(completedAtMs),
      outputHash,
    });
  }

  private firstReplica(): number {
    return randomInt(this.receipts.length);
  }

  private async createOne(sent: SentReceipt, request: CreateReceiptRequest): Promise<boolean> {
    const call = (r: number) => this.receipts[r]!.createReceipt(request, { timeoutMs: this.timeoutMs });
    const opts = { rpc: "CreateReceipt", what: `CreateReceipt ${sent.key}`, replicas: this.receipts.length, firstReplica: this.firstReplica() };
    const answer = await this.send(opts, call);
    if (!answer?.receipt) return false;
    this.ledger.created(sent.key, answer.receipt.receiptId);
    if (Math.random() < DELIBERATE_RESEND) {
      this.ledger.deliberateResends += 1;
      const again = await this.send({ ...opts, what: `${opts.what} (resent after its answer)` }, call);
      if (again?.receipt) this.ledger.created(sent.key, again.receipt.receiptId);
    }
    return true;
  }

  private async completeOne(sent: SentReceipt, request: CompleteReceiptRequest): Promise<void> {
    const call = (r: number) => this.receipts[r]!.completeReceipt(request, { timeoutMs: this.timeoutMs });
    const opts = { rpc: "CompleteReceipt", what: `CompleteReceipt ${sent.receiptId} (${sent.key})`, replicas: this.receipts.length, firstReplica: this.firstReplica() };
    const times = Math.random() < DELIBERATE_RESEND ? 2 : 1;
    if (times === 2) this.ledger.deliberateResends += 1;
    for (let i = 0; i < times; i++) {
      const answer = await this.send(i === 0 ? opts : { ...opts, what: `${opts.what} (resent after its answer)` }, call);
      if (!answer?.receipt) return;
      this.ledger.completed(sent.key, ReceiptStatus[answer.receipt.status]);
    }
  }

  private async singleReceipt(worker: number): Promise<void> {
    const retakable = worker === 0 && Math.random() < RETAKE ? this.retakeCandidate() : undefined;
    const { sent, request } = this.newReceipt("single", retakable);
    if (!(await this.createOne(sent, request))) return;
    await sleep(20 + randomInt(180));
    const completion = this.completionOf(sent);
    if (completion) await this.completeOne(sent, completion);
  }

  /** A single-receipt segment whose receipts are all acknowledged and finished (only worker 0 retakes, so none is in flight). */
  private retakeCandidate(): SentReceipt | undefined {
    const done = [...this.ledger.receipts.values()].filter((r) => r.via === "single" && r.receiptId !== undefined && (r.planned === "none" || r.completion?.ackedAtMs !== undefined));
    return done.length === 0 ? undefined : pick(done.slice(-200));
  }

  private async receiptBatch(): Promise<void> {
    const size = 20 + randomInt(41);
    const batch = Array.from({ length: size }, () => this.newReceipt("batch"));
    const b = this.nextBatch++;
    const request = { receipts: batch.map((e) => e.request) };
    const answer = await this.send(
      { rpc: "CreateReceipts", what: `CreateReceipts #${b} (${size} entries)`, replicas: this.receipts.length, firstReplica: this.firstReplica() },
      (r) => this.receipts[r]!.createReceipts(request, { timeoutMs: this.timeoutMs * 3 }),
    );
    if (!answer) return;
    answer.results.forEach((result, i) => {
      if (result.receipt) this.ledger.created(batch[i]!.sent.key, result.receipt.receiptId);
    });
    if (answer.results.length !== size) this.ledger.conflicts.push(`CreateReceipts #${b}: ${size} entries sent, ${answer.results.length} results`);
    await sleep(200);
    const finishing = batch.map((e) => ({ sent: e.sent, request: this.completionOf(e.sent) })).filter((e) => e.request !== undefined);
    if (finishing.length === 0) return;
    const completeRequest = { receipts: finishing.map((e) => e.request!) };
    const times = Math.random() < DELIBERATE_RESEND ? 2 : 1;
    if (times === 2) this.ledger.deliberateResends += 1;
    for (let i = 0; i < times; i++) {
      const done = await this.send(
        { rpc: "CompleteReceipts", what: `CompleteReceipts #${b} (${finishing.length} entries)${i ? " (resent after its answer)" : ""}`, replicas: this.receipts.length, firstReplica: this.firstReplica() },
        (r) => this.receipts[r]!.completeReceipts(completeRequest, { timeoutMs: this.timeoutMs * 3 }),
      );
      if (!done) return;
      done.receipts.forEach((receipt, k) => {
        const entry = finishing[k];
        if (entry) this.ledger.completed(entry.sent.key, ReceiptStatus[receipt.status]);
      });
    }
  }

  private async publish(assetId: string, version: number): Promise<boolean> {
    const hash = versionHash(assetId, version);
    const publish = { assetId, contentHash: hash, version };
    this.ledger.publishes.push(publish);
    const clients = version === 1 ? this.adminAssets : this.assets;
    const answer = await this.send(
      { rpc: "PublishVersion", what: `PublishVersion ${assetId} v${version}`, replicas: clients.length, firstReplica: randomInt(clients.length) },
      (r) => clients[r]!.publishVersion({ assetId, contentHash: hash, uploadedBy: "chaos-load", note: "", makeCurrent: true }, { timeoutMs: this.timeoutMs }),
    );
    if (!answer?.version) return false;
    Object.assign(publish, { ackedAtMs: Date.now() });
    this.catalog.setCurrent(assetId, version);
    return true;
  }

  private async newVersionAndSubmit(): Promise<void> {
    const s = this.nextSubmit++;
    const projectId = CHAOS_PROJECTS[s % CHAOS_PROJECTS.length]!;
    const loraId = assetIdOf(projectId, "lora");
    const version = (this.loraVersions.get(loraId) ?? 1) + 1;
    this.loraVersions.set(loraId, version);
    if (!(await this.publish(loraId, version))) return;
    await this.pause(SUBMIT_AFTER_PUBLISH_MS);
    if (this.stopping) return;
    const current = this.catalog.versionOf(loraId).contentHash;
    // Batch segments only (singles are the retake pool), finished and acknowledged a while ago, stale now.
    const candidates = [...this.ledger.receipts.values()]
      .filter((r) => r.via === "batch" && r.projectId === projectId && r.loraHash !== current && !this.selected.has(r.segmentId))
      .filter((r) => r.completion?.status === "SUCCEEDED" && r.completion.ackedAtMs !== undefined && Date.now() - r.completion.ackedAtMs > SUBMIT_AFTER_PUBLISH_MS)
      .slice(0, SEGMENTS_PER_SUBMIT);
    if (candidates.length === 0) return;
    const segmentIds = candidates.map((r) => r.segmentId);
    for (const id of segmentIds) this.selected.add(id);
    const key = `chaos:regenerate:${s}`;
    const submit: SentSubmit = { key, projectId, segmentIds };
    this.ledger.submits.push(submit);
    const answer = await this.send(
      { rpc: "SubmitRegeneration", what: `SubmitRegeneration ${key}`, replicas: this.regeneration.length, firstReplica: randomInt(this.regeneration.length) },
      (r) => this.regeneration[r]!.submitRegeneration({ projectId, segmentIds, idempotencyKey: key, requestedBy: "chaos-load" }, { timeoutMs: this.timeoutMs * 3 }),
    );
    if (!answer?.batch) return;
    Object.assign(submit, { batchId: answer.batch.batchId, jobIds: answer.jobs.map((j) => j.jobId), ackedAtMs: Date.now() });
  }
}
