/** Every command of the CLI, in the order `provenance --help` lists them. */
import type { Command } from "../command.js";
import { authToken } from "./auth.js";
import { assetsHistory, assetsList, assetsPublish, assetsRegister, assetsRollback } from "./assets.js";
import { c2paShow, c2paSign } from "./c2pa.js";
import { comfyuiReceipt } from "./comfyui.js";
import { receiptCompare } from "./compare.js";
import { coverage, legacyImport } from "./coverage.js";
import { receiptHistory, receiptShow } from "./receipt.js";
import { regenPlan, regenStatus, regenSubmit } from "./regen.js";
import { reproduce, reproductions, reproductionShow } from "./reproduce.js";
import { pin, pins, unpin } from "./pins.js";
import { staleList, staleReport } from "./stale.js";
import { usage } from "./usage.js";
import { logCheckpoint, verify } from "./verify.js";
import { watch } from "./watch.js";

/** The command table. */
export const COMMANDS: readonly Command[] = [
  receiptShow,
  receiptHistory,
  receiptCompare,
  usage,
  assetsRegister,
  assetsPublish,
  assetsRollback,
  assetsHistory,
  assetsList,
  staleReport,
  staleList,
  pin,
  unpin,
  pins,
  coverage,
  legacyImport,
  regenPlan,
  regenSubmit,
  regenStatus,
  reproduce,
  reproductionShow,
  reproductions,
  watch,
  c2paSign,
  c2paShow,
  comfyuiReceipt,
  verify,
  logCheckpoint,
  authToken,
];
