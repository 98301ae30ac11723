/** Entry point: resolves the service URLs, then renders the app under a browser router. */
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { BrowserRouter } from "react-router";
import { createClients } from "./api/clients.js";
import { loadServiceUrls } from "./api/service-urls.js";
import { App } from "./app.js";
import "./styles.css";

const urls = await loadServiceUrls(window.location);
createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <BrowserRouter>
      <App clients={createClients(urls)} />
    </BrowserRouter>
  </StrictMode>,
);
