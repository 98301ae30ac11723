/** Types of serve.mjs: the console's static server with SPA fallback, config.json and the service proxy. */

/** Base URLs of the services, as config.json names them. */
export interface ConsoleServices {
  receipts: string;
  staleness: string;
  regeneration: string;
}

/** The service names config.json uses. */
export declare const SERVICE_NAMES: readonly ["receipts", "staleness", "regeneration"];

/** Options of {@link serveConsole}. */
export interface ServeConsoleOptions {
  /** Port to listen on; 0 = any free port (default 7100). */
  port?: number;
  /** Interface to listen on (default 127.0.0.1). */
  host?: string;
  /** The Vite build output (default apps/console/dist). */
  distDir?: string;
  /** Where the services are; without it no config.json is served and the app uses its defaults. */
  servicesConfig?: ConsoleServices;
  /** Proxy /svc/<name>/… to the services so the browser stays same-origin (default true). */
  proxy?: boolean;
}

/** A running console server. */
export interface RunningConsole {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Starts the console's server and resolves once it listens. */
export declare function serveConsole(options?: ServeConsoleOptions): Promise<RunningConsole>;
