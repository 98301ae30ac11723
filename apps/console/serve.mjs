// The console's server on its own: `node apps/console/serve.mjs`. The server is TypeScript in server/src, built to
// server/dist by `npm run build`; its settings are read by server/src/main.ts.
import "./server/dist/main.js";
