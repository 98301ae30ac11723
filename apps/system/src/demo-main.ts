/** `npm run demo`: the demo story against the system `npm start` runs (or the URLs in RECEIPTS_URL, STALENESS_URL, REGENERATION_URL). */
import { Code, ConnectError } from "@connectrpc/connect";
import { runDemo } from "./demo.js";

const urls = {
  receipts: process.env.RECEIPTS_URL || "http://127.0.0.1:7101",
  staleness: process.env.STALENESS_URL || "http://127.0.0.1:7102",
  regeneration: process.env.REGENERATION_URL || "http://127.0.0.1:7103",
};

try {
  await runDemo(urls, (line) => console.log(line));
} catch (err) {
  const ce = err instanceof ConnectError ? err : undefined;
  if (ce?.code === Code.Unavailable) {
    console.error(`demo: the system is not reachable (${ce.rawMessage}); start it with \`npm start\` in another terminal`);
  } else {
    console.error(`demo: ${err instanceof Error ? err.message : String(err)}`);
  }
  process.exit(1);
}
