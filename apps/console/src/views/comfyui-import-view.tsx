/**
 * Import from ComfyUI: paste or pick the API-format prompt, the optional /history entry and the optional asset map;
 * the console shows the CreateReceipt request @provenance/comfyui builds (as `provenance comfyui receipt --dry-run`
 * prints it) or the library's refusal naming the node, and "Record receipt" sends it as the signed-in user
 * (CreateReceipt, then CompleteReceipt when the history says the run ended — as the CLI's --complete does).
 */
import { useState, type ChangeEvent } from "react";
import { fromJson, type JsonValue } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { ReceiptStatus } from "@gen/common_pb.js";
import { CreateReceiptRequestSchema } from "@gen/receipts_pb.js";
import { Link } from "react-router";
import { useClients } from "../api/clients.js";
import { buildComfyRequest, type BuildComfyRequest, type ComfyImportAnswer } from "../api/comfyui-import.js";
import { describeError } from "../lib/describe-error.js";

type Texts = { prompt: string; history: string; assets: string };
type Place = { segmentId: string; sceneId: string; projectId: string; characterName: string; sourceFile: string; idempotencyKey: string };
type Recorded = { receiptId: string; status: string } | { what: string; todo: string };

const HEX64 = /^[0-9a-f]{64}$/;

function TextInput({ label, name, value, onChange, rows }: { label: string; name: keyof Texts; value: string; onChange: (name: keyof Texts, v: string) => void; rows: number }) {
  const pick = (e: ChangeEvent<HTMLInputElement>) => {
    const file = e.target.files?.[0];
    if (file) void file.text().then((t) => onChange(name, t));
  };
  return (
    <div className="comfy-input">
      <label>
        {label}
        <textarea aria-label={label} value={value} rows={rows} spellCheck={false} onChange={(e) => onChange(name, e.target.value)} />
      </label>
      <label className="comfy-file">
        or pick a file <input type="file" accept=".json,application/json" aria-label={`${label} file`} onChange={pick} />
      </label>
    </div>
  );
}

/** The view at /import/comfyui; `build` defaults to the console server's builder. */
export function ComfyImportView({ build = buildComfyRequest }: { build?: BuildComfyRequest }) {
  const clients = useClients();
  const [texts, setTexts] = useState<Texts>({ prompt: "", history: "", assets: "" });
  const [place, setPlace] = useState<Place>({ segmentId: "", sceneId: "", projectId: "", characterName: "", sourceFile: "", idempotencyKey: "" });
  const [allowUntracked, setAllowUntracked] = useState(false);
  const [outputHash, setOutputHash] = useState("");
  const [answer, setAnswer] = useState<ComfyImportAnswer | undefined>();
  const [busy, setBusy] = useState(false);
  const [recorded, setRecorded] = useState<Recorded | undefined>();

  const setText = (name: keyof Texts, v: string) => {
    setTexts((t) => ({ ...t, [name]: v }));
    setAnswer(undefined);
    setRecorded(undefined);
  };
  const setField = (name: keyof Place) => (e: ChangeEvent<HTMLInputElement>) => {
    setPlace((p) => ({ ...p, [name]: e.target.value }));
    setAnswer(undefined);
    setRecorded(undefined);
  };
  const ready = texts.prompt.trim() !== "" && place.segmentId.trim() !== "" && place.sceneId.trim() !== "" && place.projectId.trim() !== "";

  const preview = async () => {
    setBusy(true);
    setRecorded(undefined);
    try {
      setAnswer(
        await build({
          prompt: texts.prompt,
          history: texts.history.trim() || undefined,
          assets: texts.assets.trim() || undefined,
          segmentId: place.segmentId.trim(),
          sceneId: place.sceneId.trim(),
          projectId: place.projectId.trim(),
          characterName: place.characterName.trim() || undefined,
          sourceFile: place.sourceFile.trim() || undefined,
          idempotencyKey: place.idempotencyKey.trim() || undefined,
          allowUntracked,
        }),
      );
    } catch (err) {
      setAnswer({ ok: false, source: "console", message: err instanceof Error ? err.message : String(err) });
    } finally {
      setBusy(false);
    }
  };

  const run = answer?.ok ? answer.run : undefined;
  const ended = run !== undefined && run.outcome !== "running" && run.completedAt !== undefined;
  const hash = outputHash.trim().toLowerCase();
  const hashProblem = hash !== "" && !HEX64.test(hash) ? "The output hash must be 64 hex digits (SHA-256)." : undefined;

  const record = async () => {
    if (!answer?.ok) return;
    setBusy(true);
    try {
      const request = fromJson(CreateReceiptRequestSchema, answer.request as JsonValue);
      const created = await clients.receipts.createReceipt(request);
      let receipt = created.receipt!;
      // A retry of a receipt already completed has nothing left to complete.
      if (ended && receipt.status === ReceiptStatus.RUNNING) {
        const done = await clients.receipts.completeReceipt({
          receiptId: receipt.receiptId,
          status: run.outcome === "succeeded" ? ReceiptStatus.SUCCEEDED : ReceiptStatus.FAILED,
          generationCompletedAt: timestampFromDate(new Date(run.completedAt!)),
          outputHash: hash,
        });
        receipt = done.receipt!;
      }
      setRecorded({ receiptId: receipt.receiptId, status: ReceiptStatus[receipt.status] });
    } catch (err) {
      setRecorded(describeError(err, "receipts", clients.urls.receipts));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="comfy-import" aria-label="Import from ComfyUI">
      <h1>Import from ComfyUI</h1>
      <p className="muted">
        The API-format prompt (the <code>/prompt</code> body), optionally its <code>/history/&lt;prompt_id&gt;</code> entry and an asset map{" "}
        <code>{'{"<file name>": {"asset_id": …, "content_hash": …}}'}</code>.
      </p>
      <TextInput label="Prompt JSON" name="prompt" value={texts.prompt} onChange={setText} rows={8} />
      <TextInput label="History JSON (optional)" name="history" value={texts.history} onChange={setText} rows={4} />
      <TextInput label="Asset map JSON (optional)" name="assets" value={texts.assets} onChange={setText} rows={4} />
      <div className="comfy-place">
        <label>
          Segment <input value={place.segmentId} onChange={setField("segmentId")} />
        </label>
        <label>
          Scene <input value={place.sceneId} onChange={setField("sceneId")} />
        </label>
        <label>
          Project <input value={place.projectId} onChange={setField("projectId")} />
        </label>
        <label>
          Character <input value={place.characterName} onChange={setField("characterName")} />
        </label>
        <label>
          Source file (for a prompt that loads no image) <input value={place.sourceFile} onChange={setField("sourceFile")} />
        </label>
        <label>
          Idempotency key (default comfyui:&lt;prompt_id&gt; from the history) <input value={place.idempotencyKey} onChange={setField("idempotencyKey")} />
        </label>
        <label>
          <input type="checkbox" checked={allowUntracked} onChange={(e) => setAllowUntracked(e.target.checked)} /> record files missing from the map as untracked
        </label>
      </div>
      <button type="button" disabled={!ready || busy} onClick={() => void preview()}>
        Build receipt request
      </button>
      {answer && !answer.ok ? (
        <p role="alert" className="state-error">
          {answer.source === "console" ? "" : `${answer.source}: `}
          {answer.message}
        </p>
      ) : null}
      {answer?.ok ? (
        <div className="comfy-preview">
          {answer.untracked.length > 0 ? <p className="warning">Recorded as untracked (not in the asset map): {answer.untracked.join(", ")}</p> : null}
          <p className="muted">
            Sampler node {answer.nodes.sampler}, model node {answer.nodes.model}
            {answer.nodes.loras.length > 0 ? `, LoRA nodes ${answer.nodes.loras.join(" → ")}` : ""}
            {run ? `; the history says: ${run.outcome}` : "; no history: the receipt stays running"}
          </p>
          <pre aria-label="CreateReceipt request">{JSON.stringify(answer.request, null, 2)}</pre>
          {ended ? (
            <label>
              Output SHA-256 (optional) <input value={outputHash} onChange={(e) => setOutputHash(e.target.value)} />
            </label>
          ) : null}
          {hashProblem ? <p className="state-error">{hashProblem}</p> : null}
          <button type="button" disabled={busy || hashProblem !== undefined} onClick={() => void record()}>
            Record receipt
          </button>
        </div>
      ) : null}
      {recorded && "receiptId" in recorded ? (
        <p role="status">
          Recorded receipt <code>{recorded.receiptId}</code> ({recorded.status}) — see <Link to={`/segments/${encodeURIComponent(place.segmentId.trim())}`}>the segment</Link>.
        </p>
      ) : null}
      {recorded && "what" in recorded ? (
        <p role="alert" className="state-error">
          {recorded.what} {recorded.todo}
        </p>
      ) : null}
    </section>
  );
}
