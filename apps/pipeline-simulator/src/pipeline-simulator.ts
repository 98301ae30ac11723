/**
 * The pipeline simulator — a stand-in for the real generation pipeline, for demos and tests only.
 * It takes generation.jobs.requested off the GENERATION work queue, "generates" (the output hash is
 * the SHA-256 of the inputs hash, or different per run when told to be non-deterministic), and records the result through ReceiptService exactly as the
 * pipeline would: CreateReceipt under the job's new segment id, then CompleteReceipt. It can be told
 * to fail some jobs, or to tamper with their inputs so the receipt does not match the plan.
 */
import { createHash, randomUUID } from "node:crypto";
import { clone, create } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { createOutboundAuthInterceptor, type TokenSource } from "@provenance/shared/auth";

import {
  EVENT_MESSAGES,
  GENERATION_STREAM,
  GenerationInputsSchema,
  JOB_REQUESTED,
  ReceiptService,
  ReceiptStatus,
  startConsumer,
  type GenerationJobRequested,
  type Logger,
  type RunningConsumer,
  type EventConnection,
} from "@provenance/shared";

/** Its durable consumer on GENERATION (the work queue allows one consumer per subject). */
export const SIMULATOR_DURABLE = "pipeline-simulator";

/** How the simulator runs and which jobs it spoils. */
export interface PipelineSimulatorOptions {
  /** NATS, or the in-process bus. */
  nc: EventConnection;
  /** Subject namespace ("" in production). */
  namespace: string;
  receiptsUrl: string;
  /**
   * The token it presents on every ReceiptService call: its SERVICE_TOKEN_FILE (`readServiceTokenFile`, re-read when
   * the file changes), or a token source of the launcher's local issuer. Its subject needs the pipeline role on the
   * projects it records for.
   */
  serviceToken: TokenSource;
  logger: Logger;
  /** Jobs replacing these (old) segment ids complete FAILED. */
  failSegmentIds?: Iterable<string>;
  /** This share of jobs (0..1, chosen by job id, so stable across redeliveries) complete FAILED. */
  failFraction?: number;
  /** Jobs replacing these segment ids are generated with a different seed than planned (an inputs mismatch). */
  tamperSegmentIds?: Iterable<string>;
  /** This share of jobs (0..1, by job id) are tampered with. */
  tamperFraction?: number;
  /** Simulated generation time per job, in ms (default 0). */
  generationMs?: number;
  /**
   * A non-deterministic pipeline: the output hash differs on every run, even for the same inputs (default false: the
   * output hash is a function of the inputs hash, so a reproduction gives back the same output).
   */
  nondeterministic?: boolean;
  /** Jobs generated at once (default 4). */
  concurrency?: number;
  /** Deadline of each ReceiptService call (default 5 s). */
  timeoutMs?: number;
}

/** What the simulator did with one job. */
export type SimulatedOutcome = "succeeded" | "failed" | "tampered";

/** A running pipeline simulator. */
export interface RunningPipelineSimulator {
  /** Outcomes by job id, for jobs fully recorded. */
  readonly outcomes: ReadonlyMap<string, SimulatedOutcome>;
  /** Jobs still on the queue or in flight. */
  lag(): Promise<number>;
  /** Stops taking jobs; waits for those in flight. */
  stop(): Promise<void>;
}

/** A stable number in [0, 1) for a job id, so fractions pick the same jobs on every delivery. */
export function jobFraction(jobId: string): number {
  return createHash("sha256").update(jobId).digest().readUInt32BE(0) / 2 ** 32;
}

/**
 * The simulated output: the SHA-256 (hex) of the receipt's inputs hash — the same for the same inputs, as a
 * deterministic pipeline gives; with `runSalt` (a non-deterministic pipeline: something of this run) it differs per run.
 */
export function simulatedOutputHash(inputsHash: string, runSalt = ""): string {
  return createHash("sha256").update(inputsHash).update(runSalt).digest("hex");
}

/** The CreateReceipt idempotency key of a job: the same on every redelivery, so a retry records nothing twice. */
export function receiptKeyOf(jobId: string): string {
  return `pipeline-simulator:${jobId}`;
}

const MAX_SEED = 18446744073709551615n;

/** Starts consuming jobs. */
export async function startPipelineSimulator(opts: PipelineSimulatorOptions): Promise<RunningPipelineSimulator> {
  const log = opts.logger.child({ component: "pipeline-simulator" });
  const receipts: Client<typeof ReceiptService> = createClient(
    ReceiptService,
    createGrpcTransport({ baseUrl: opts.receiptsUrl, interceptors: [createOutboundAuthInterceptor({ serviceToken: opts.serviceToken })] }),
  );
  const failSegments = new Set(opts.failSegmentIds ?? []);
  const tamperSegments = new Set(opts.tamperSegmentIds ?? []);
  const timeoutMs = opts.timeoutMs ?? 5_000;
  const outcomes = new Map<string, SimulatedOutcome>();

  const outcomeFor = (job: GenerationJobRequested): SimulatedOutcome => {
    if (failSegments.has(job.oldSegmentId) || jobFraction(`fail:${job.jobId}`) < (opts.failFraction ?? 0)) return "failed";
    if (tamperSegments.has(job.oldSegmentId) || jobFraction(`tamper:${job.jobId}`) < (opts.tamperFraction ?? 0)) return "tampered";
    return "succeeded";
  };

  const generate = async (job: GenerationJobRequested): Promise<void> => {
    const outcome = outcomeFor(job);
    const inputs = job.inputs ? clone(GenerationInputsSchema, job.inputs) : create(GenerationInputsSchema);
    if (outcome === "tampered") inputs.seed = inputs.seed === MAX_SEED ? 0n : inputs.seed + 1n;
    const { receipt } = await receipts.createReceipt(
      {
        segmentId: job.newSegmentId,
        sceneId: job.sceneId,
        projectId: job.projectId,
        characterName: job.characterName,
        sequenceIndex: job.sequenceIndex,
        sourceImage: inputs.sourceImage,
        variantImage: inputs.variantImage,
        workflow: inputs.workflow,
        model: inputs.model,
        loras: inputs.loras,
        workflowVersion: inputs.workflowVersion,
        promptText: inputs.promptText,
        negativePrompt: inputs.negativePrompt,
        cfgScale: inputs.cfgScale,
        seed: inputs.seed,
        steps: inputs.steps,
        sampler: inputs.sampler,
        resolutionWidth: inputs.resolutionWidth,
        resolutionHeight: inputs.resolutionHeight,
        additionalParams: inputs.additionalParams,
        // The request's time, not now: a redelivery must send the very same receipt.
        generationStartedAt: job.occurredAt ?? timestampNow(),
        regenerationJobId: job.jobId,
        // A reproduction names the receipt it re-runs and supersedes nothing (its job has no old segment).
        supersedesSegmentId: job.reproductionOfReceiptId === "" ? job.oldSegmentId : "",
        reproductionOfReceiptId: job.reproductionOfReceiptId,
        idempotencyKey: receiptKeyOf(job.jobId),
      },
      { timeoutMs },
    );
    if (!receipt) throw new Error(`CreateReceipt for job ${job.jobId} returned no receipt`);
    if (receipt.status === ReceiptStatus.RUNNING) {
      if (opts.generationMs) await new Promise((r) => setTimeout(r, opts.generationMs));
      const failed = outcome === "failed";
      try {
        await receipts.completeReceipt(
          {
            receiptId: receipt.receiptId,
            status: failed ? ReceiptStatus.FAILED : ReceiptStatus.SUCCEEDED,
            generationCompletedAt: timestampNow(),
            outputHash: failed ? "" : simulatedOutputHash(receipt.inputsHash, opts.nondeterministic ? randomUUID() : ""),
          },
          { timeoutMs },
        );
      } catch (err) {
        // Completed by an earlier delivery whose ack was lost: nothing left to do.
        if (ConnectError.from(err).code !== Code.FailedPrecondition) throw err;
      }
    }
    outcomes.set(job.jobId, outcome);
    log.info({ jobId: job.jobId, newSegmentId: job.newSegmentId, receiptId: receipt.receiptId, outcome }, "simulated generation recorded");
  };

  const consumer: RunningConsumer = await startConsumer({
    nc: opts.nc,
    namespace: opts.namespace,
    stream: GENERATION_STREAM,
    durable: SIMULATOR_DURABLE,
    filterSubjects: [JOB_REQUESTED],
    eventSchema: { [JOB_REQUESTED]: EVENT_MESSAGES[JOB_REQUESTED] },
    concurrency: opts.concurrency ?? 4,
    // A pipeline keeps a job until it is recorded: while the receipts service is away (a restart, an outage of
    // minutes) the job is retried every 30 s, for about 1.5 hours, rather than given up after a few seconds.
    backoffMs: [200, 1_000, 5_000, 15_000, 30_000],
    maxDeliver: 200,
    logger: opts.logger,
    handle: async (msg) => generate(msg.event as GenerationJobRequested),
  });

  return {
    outcomes,
    lag: () => consumer.lag(),
    stop: () => consumer.stop(),
  };
}
