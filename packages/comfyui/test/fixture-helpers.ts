/** Reading the fixtures, and the options every fixture test uses. */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { parseComfyJson, type ComfyJson, type ComfyJsonObject, type ComfyReceiptOptions } from "../src/index.js";

/** The names of the three workflows under test/fixtures. */
export const FIXTURES = ["text-to-image", "wan-image-to-video", "lora-stack"] as const;

/** One fixture file, parsed losslessly. */
export function fixture(name: string): ComfyJson {
  return parseComfyJson(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8"));
}

/** A fresh deep copy of a fixture's prompt object (the `prompt` of a /prompt body). */
export function promptOf(name: string): ComfyJsonObject {
  const json = fixture(`${name}.prompt.json`) as ComfyJsonObject;
  return ("class_type" in json || !("prompt" in json) ? json : json.prompt) as ComfyJsonObject;
}

/** Where the fixtures' segment belongs. */
export const SEGMENT: ComfyReceiptOptions = { segmentId: "seg-7", sceneId: "scene-2", projectId: "p1", characterName: "anna", sequenceIndex: 7 };

/** The options each fixture needs besides the segment (text-to-image prompts load no image). */
export const FIXTURE_OPTIONS: Readonly<Record<(typeof FIXTURES)[number], ComfyReceiptOptions>> = {
  "text-to-image": { ...SEGMENT, sourceFile: "anna_reference.png" },
  "wan-image-to-video": SEGMENT,
  "lora-stack": { ...SEGMENT, sourceFile: "anna_reference.png" },
};

/** SHA-256 hex of `text` (the fixtures' asset map hashes labels, not real model files). */
export function sha(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}
