// @vitest-environment jsdom
import { create } from "@bufbuild/protobuf";
import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ReceiptSchema, ReceiptStatus } from "@gen/common_pb.js";
import { ClientsContext } from "../api/clients.js";
import type { C2paSign, C2paSummary } from "../api/c2pa-sign.js";
import { fakeClients } from "../testing/fake-clients.js";
import { ContentCredentials } from "./content-credentials.js";

afterEach(cleanup);

const receipt = create(ReceiptSchema, { receiptId: "r-1", segmentId: "seg-7", status: ReceiptStatus.SUCCEEDED });

const summary = (local: boolean): C2paSummary => ({
  receiptId: "r-1",
  segmentId: "seg-7",
  format: "image/png",
  fileName: "shot.png",
  inputSha256: "a".repeat(64),
  outputSha256: "b".repeat(64),
  manifest: "urn:c2pa:1234",
  actions: [{ action: "c2pa.created", digitalSourceType: "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia" }],
  ingredients: [
    { title: "src-anna", relationship: "inputTo", contentHash: "c".repeat(64) },
    { title: "var-anna", relationship: "inputTo", contentHash: "d".repeat(64) },
  ],
  receipt: { receipt_id: "r-1", inputs_hash: "e".repeat(64), output_hash: "a".repeat(64), model: "model-wan v3", loras: ["anna-lora v2 × 0.8"], seed: "9007199254740993" },
  signedBy: { commonName: "provenance local C2PA signer", issuer: "provenance local C2PA CA", alg: "Es256" },
  validation: { state: "Trusted", failures: [] },
  certificate: { local, note: local ? "the local, untrusted certificate /data/c2pa/signer.pem" : "/etc/c2pa/cert.pem" },
});

function renderWith(sign: C2paSign | undefined, r = receipt) {
  render(
    <ClientsContext.Provider value={{ ...fakeClients({}), c2paSign: sign }}>
      <ContentCredentials receipt={r} />
    </ClientsContext.Provider>,
  );
}

function pick(name = "shot.png") {
  const file = new File([new Uint8Array([137, 80, 78, 71])], name, { type: "image/png" });
  fireEvent.change(screen.getByLabelText("Segment file"), { target: { files: [file] } });
  return file;
}

describe("Content Credentials on a receipt panel", () => {
  it("signs the picked file for the segment, offers the copy and shows the manifest read back, saying the certificate is local", async () => {
    URL.createObjectURL = vi.fn(() => "blob:signed");
    URL.revokeObjectURL = vi.fn();
    const sign = vi.fn<C2paSign>(async () => ({ ok: true, file: new Blob(["signed"]), fileName: "shot.c2pa.png", summary: summary(true) }));
    renderWith(sign);
    const file = pick();
    const manifest = await screen.findByTestId("c2pa-manifest");
    expect(sign).toHaveBeenCalledWith("seg-7", file);
    expect((await screen.findByRole("link", { name: "Download shot.c2pa.png" })).getAttribute("href")).toBe("blob:signed");
    expect(manifest.textContent).toContain("Trusted");
    expect(manifest.textContent).toContain("c2pa.created (trainedAlgorithmicMedia)");
    expect(manifest.textContent).toContain("src-anna [inputTo] sha256 cccccccccccc");
    expect(manifest.textContent).toContain("model model-wan v3, LoRAs anna-lora v2 × 0.8, seed 9007199254740993");
    expect(screen.getByRole("note").textContent).toMatch(/local, untrusted certificate/);
  });

  it("shows the refusal of a file that is not the receipt's output, with no download", async () => {
    renderWith(async () => ({ ok: false, message: "shot.png is not the output of receipt r-1 (segment seg-7): its SHA-256 is 11…: nothing was signed" }));
    pick();
    expect((await screen.findByRole("alert")).textContent).toContain("is not the output of receipt r-1");
    expect(screen.queryByRole("link")).toBeNull();
    expect(screen.queryByTestId("c2pa-manifest")).toBeNull();
  });

  it("a configured certificate is named, not warned about; nothing is offered for a receipt that did not succeed or without a signer", async () => {
    URL.createObjectURL = vi.fn(() => "blob:signed");
    URL.revokeObjectURL = vi.fn();
    renderWith(async () => ({ ok: true, file: new Blob(["signed"]), fileName: "shot.c2pa.png", summary: summary(false) }));
    pick();
    expect((await screen.findByTestId("c2pa-manifest")).textContent).toContain("Signed with /etc/c2pa/cert.pem");
    expect(screen.queryByRole("note")).toBeNull();
    cleanup();
    renderWith(async () => ({ ok: false, message: "x" }), create(ReceiptSchema, { ...receipt, status: ReceiptStatus.RUNNING }));
    expect(screen.queryByLabelText("Content Credentials")).toBeNull();
    cleanup();
    renderWith(undefined);
    expect(screen.queryByLabelText("Content Credentials")).toBeNull();
  });
});
