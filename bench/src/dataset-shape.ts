/** The shape of the benchmark's data set: deterministic projects, scenes, assets and receipts. Pure, no I/O. */
import { createHash } from "node:crypto";

/** How big each part of the data set is, derived from the receipt count. */
export interface DatasetShape {
  receipts: number;
  projects: number;
  scenesPerProject: number;
  charactersPerProject: number;
  /** Receipts of the one big project (about 10% of all, 100,000 at a million). */
  bigProjectReceipts: number;
  loraPool: number;
  models: number;
  workflows: number;
}

/** One asset to register, with the content hashes of its versions in publish order (the last is current). */
export interface AssetPlan {
  assetId: string;
  kind: "MODEL" | "LORA" | "WORKFLOW" | "SOURCE_IMAGE" | "VARIANT_IMAGE";
  name: string;
  projectId: string;
  versions: string[];
}

/** An asset reference as CreateReceipt takes it. */
export interface PlannedRef {
  assetId: string;
  contentHash: string;
  version: number;
}

/** Everything CreateReceipt needs for one receipt, as plain data. */
export interface PlannedReceipt {
  segmentId: string;
  sceneId: string;
  projectId: string;
  characterName: string;
  sequenceIndex: number;
  sourceImage: PlannedRef;
  variantImage?: PlannedRef;
  workflow: PlannedRef;
  model: PlannedRef;
  loras: { asset: PlannedRef; weight: number }[];
  promptText: string;
  seed: bigint;
  cfgScale: number;
}

const CHARACTER_NAMES = ["anna", "ben", "chloe", "dev", "emi", "farid"];

/** Clamps `x` into [lo, hi]. */
function clamp(x: number, lo: number, hi: number): number {
  return Math.max(lo, Math.min(hi, x));
}

/** The shape for `receipts` receipts: 200 projects of 20 scenes at a million, scaled down for small runs. */
export function shapeFor(receipts: number): DatasetShape {
  return {
    receipts,
    projects: clamp(Math.round(receipts / 500), 20, 200),
    scenesPerProject: 20,
    charactersPerProject: 4,
    bigProjectReceipts: Math.round(receipts * 0.1),
    loraPool: clamp(Math.round(receipts / 3000), 30, 300),
    models: 8,
    workflows: 3,
  };
}

/** A small, fast, seedable PRNG (mulberry32) returning floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The SHA-256 content hash of a label, standing in for a file's bytes. */
export function contentHashOf(label: string): string {
  return createHash("sha256").update(label).digest("hex");
}

/** Cumulative Zipf weights over `n` ranks with exponent `s`, for heavy-tailed draws. */
function zipfCdf(n: number, s: number): number[] {
  const w = Array.from({ length: n }, (_, k) => 1 / (k + 1) ** s);
  const total = w.reduce((a, b) => a + b, 0);
  let acc = 0;
  return w.map((x) => (acc += x / total));
}

function drawRank(cdf: number[], u: number): number {
  let lo = 0;
  let hi = cdf.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cdf[mid]! < u) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function pad(n: number, width = 3): string {
  return String(n).padStart(width, "0");
}

/** Project id of project `p` (project 0 is the big one). */
export function projectIdOf(p: number): string {
  return `proj-${pad(p)}`;
}

/** LoRA asset id of pool rank `k` (rank 0 is in most segments). */
export function loraIdOf(k: number): string {
  return `lora-${pad(k)}`;
}

/** Model asset id of rank `k` (rank 0 is in most segments). */
export function modelIdOf(k: number): string {
  return `model-${pad(k, 2)}`;
}

/** How many versions a shared asset of popularity rank `k` has: the popular ones several. */
function versionsOfRank(k: number, popular: number, many: number): number {
  if (k < popular) return many;
  if (k < popular * 4) return 2;
  return 1;
}

/** The data set: its assets, and a generator of the i-th receipt. */
export class Dataset {
  readonly assets: AssetPlan[] = [];
  private readonly byId = new Map<string, AssetPlan>();
  private readonly loraCdf: number[];
  private readonly modelCdf: number[];
  private readonly workflowCdf: number[];
  private readonly perOtherProject: number;

  constructor(readonly shape: DatasetShape) {
    for (let k = 0; k < shape.models; k++) this.add(modelIdOf(k), "MODEL", `wan-2.${k}`, "", versionsOfRank(k, 2, 3));
    for (let k = 0; k < shape.workflows; k++) this.add(`workflow-${k}`, "WORKFLOW", `i2v-${k}.json`, "", 2);
    for (let k = 0; k < shape.loraPool; k++) this.add(loraIdOf(k), "LORA", `lora_${pad(k)}.safetensors`, "", versionsOfRank(k, 5, 4));
    for (let p = 0; p < shape.projects; p++) {
      const projectId = projectIdOf(p);
      for (let c = 0; c < shape.charactersPerProject; c++) {
        const who = CHARACTER_NAMES[c % CHARACTER_NAMES.length]!;
        this.add(`${projectId}-src-${who}`, "SOURCE_IMAGE", `${who}.png`, projectId, c === 0 ? 2 : 1);
        this.add(`${projectId}-clothed-${who}`, "VARIANT_IMAGE", `${who}_clothed.png`, projectId, c < 2 ? 3 : 1);
        this.add(`${projectId}-topless-${who}`, "VARIANT_IMAGE", `${who}_topless.png`, projectId, 1);
      }
    }
    this.loraCdf = zipfCdf(shape.loraPool, 1.3);
    this.modelCdf = zipfCdf(shape.models, 2);
    this.workflowCdf = zipfCdf(shape.workflows, 1.5);
    this.perOtherProject = Math.max(1, Math.ceil((shape.receipts - shape.bigProjectReceipts) / Math.max(1, shape.projects - 1)));
  }

  private add(assetId: string, kind: AssetPlan["kind"], name: string, projectId: string, versions: number): void {
    const plan: AssetPlan = {
      assetId,
      kind,
      name,
      projectId,
      versions: Array.from({ length: versions }, (_, v) => contentHashOf(`${assetId}@v${v + 1}`)),
    };
    this.assets.push(plan);
    this.byId.set(assetId, plan);
  }

  /** The asset plan of `assetId`. */
  asset(assetId: string): AssetPlan {
    const a = this.byId.get(assetId);
    if (!a) throw new Error(`no asset ${assetId} in the data set`);
    return a;
  }

  /** A reference to a version of `assetId`: the current one 70% of the time, else an older one. */
  private refOf(assetId: string, u: number): PlannedRef {
    const a = this.asset(assetId);
    const n = a.versions.length;
    const v = n === 1 || u < 0.7 ? n : 1 + Math.floor(((u - 0.7) / 0.3) * (n - 1));
    return { assetId, contentHash: a.versions[v - 1]!, version: v };
  }

  /** Project index and the receipt's index within it for receipt `i`. */
  placementOf(i: number): { project: number; local: number } {
    const big = this.shape.bigProjectReceipts;
    if (i < big || this.shape.projects === 1) return { project: 0, local: i };
    const j = i - big;
    return { project: 1 + (j % (this.shape.projects - 1)), local: Math.floor(j / (this.shape.projects - 1)) };
  }

  /** Segment id of receipt `i` (one segment per receipt). */
  segmentIdOf(i: number): string {
    const { project, local } = this.placementOf(i);
    const scene = local % this.shape.scenesPerProject;
    return `${projectIdOf(project)}-sc${pad(scene, 2)}-${Math.floor(local / this.shape.scenesPerProject)}`;
  }

  /** The expected number of segments of the big project and of a typical one. */
  projectSizes(): { big: number; typical: number } {
    return { big: this.shape.bigProjectReceipts, typical: this.perOtherProject };
  }

  /** The i-th receipt, the same on every run. */
  receipt(i: number): PlannedReceipt {
    const rnd = seededRandom(i * 2654435761 + 17);
    const { project, local } = this.placementOf(i);
    const projectId = projectIdOf(project);
    const scene = local % this.shape.scenesPerProject;
    const who = CHARACTER_NAMES[(scene * 7 + project) % this.shape.charactersPerProject % CHARACTER_NAMES.length]!;
    const loraCount = [0, 1, 1, 1, 2, 2, 2, 3, 3, 3][Math.floor(rnd() * 10)]!;
    const loraRanks = new Set<number>();
    while (loraRanks.size < loraCount) loraRanks.add(drawRank(this.loraCdf, rnd()));
    const variant = rnd() < 0.85 ? `${projectId}-${rnd() < 0.6 ? "clothed" : "topless"}-${who}` : undefined;
    return {
      segmentId: this.segmentIdOf(i),
      sceneId: `${projectId}-sc${pad(scene, 2)}`,
      projectId,
      characterName: who,
      sequenceIndex: Math.floor(local / this.shape.scenesPerProject),
      sourceImage: this.refOf(`${projectId}-src-${who}`, rnd()),
      variantImage: variant ? this.refOf(variant, rnd()) : undefined,
      workflow: this.refOf(`workflow-${drawRank(this.workflowCdf, rnd())}`, rnd()),
      model: this.refOf(modelIdOf(drawRank(this.modelCdf, rnd())), rnd()),
      loras: [...loraRanks].map((k) => ({ asset: this.refOf(loraIdOf(k), rnd()), weight: Math.round((0.4 + rnd() * 0.6) * 100) / 100 })),
      promptText: `${who} in scene ${scene} of ${projectId}, shot ${local}, slow dolly-in, golden hour`,
      seed: BigInt(Math.floor(rnd() * 2 ** 48)),
      cfgScale: 5 + Math.floor(rnd() * 5),
    };
  }
}
