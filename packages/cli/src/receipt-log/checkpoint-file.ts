/**
 * The checkpoint file of `provenance log checkpoint -o FILE` and `provenance verify --checkpoint FILE`: the receipt
 * log's signed checkpoint note and its verifier key, as the proto JSON of `GetCheckpointResponse`
 * (`{"checkpoint": "<signed note>", "verifierKey": "<vkey>"}`), so the answer of GetCheckpoint saved as it is (Connect
 * JSON, `curl`) is a checkpoint file too. A file holding only the signed note is accepted with `--key VKEY`.
 */
import { readFile, writeFile } from "node:fs/promises";
import { create, fromJsonString, toJsonString } from "@bufbuild/protobuf";
import { GetCheckpointResponseSchema, type GetCheckpointResponse } from "@provenance/shared";
import { usageError } from "../exit-codes.js";

/** What a checkpoint file holds: the signed note, and the verifier key when the file carries one. */
export interface CheckpointFile {
  readonly note: string;
  /** Empty when the file is a bare note. */
  readonly verifierKey: string;
}

/** The file's text: the proto JSON of GetCheckpointResponse, pretty, with a final newline. */
export function formatCheckpointFile(response: GetCheckpointResponse): string {
  return `${toJsonString(GetCheckpointResponseSchema, response, { alwaysEmitImplicit: true, prettySpaces: 2 })}\n`;
}

/** Parses a checkpoint file's text; anything else is a usage error naming `option` and `path`. */
export function parseCheckpointFile(text: string, option: string, path: string): CheckpointFile {
  const bad = (why: string) => usageError(`${option} ${path} is not a checkpoint file: ${why}`);
  if (text.trimStart().startsWith("{")) {
    let response: GetCheckpointResponse;
    try {
      response = fromJsonString(GetCheckpointResponseSchema, text);
    } catch (err) {
      throw bad(`${(err as Error).message.split("\n")[0]} (expected {"checkpoint": "<signed note>", "verifierKey": "<key>"})`);
    }
    if (response.checkpoint === "") throw bad('its "checkpoint" is empty');
    return { note: response.checkpoint, verifierKey: response.verifierKey.trim() };
  }
  if (!text.includes("\n\n")) throw bad("expected the JSON of `provenance log checkpoint` or a signed checkpoint note");
  return { note: text, verifierKey: "" };
}

/** Reads a checkpoint file (see {@link parseCheckpointFile}). */
export async function readCheckpointFile(path: string, option = "--checkpoint"): Promise<CheckpointFile> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw usageError(`${option} ${path} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return parseCheckpointFile(text, option, path);
}

/** Writes a checkpoint file; a file that cannot be written is a usage error naming `option`. */
export async function writeCheckpointFile(path: string, checkpoint: string, verifierKey: string, option: string): Promise<void> {
  try {
    await writeFile(path, formatCheckpointFile(create(GetCheckpointResponseSchema, { checkpoint, verifierKey })));
  } catch (err) {
    throw usageError(`${option} ${path} cannot be written: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}
