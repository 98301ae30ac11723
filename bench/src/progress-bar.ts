/** A one-line progress bar on stderr with the current rate and ETA; plain periodic lines when stderr is not a TTY. */
import { performance } from "node:perf_hooks";

let enabled = true;

/** Turns every progress bar on or off (the test runs quietly). */
export function setProgressEnabled(on: boolean): void {
  enabled = on;
}

/** Counts completed units of a phase and draws them. */
export class ProgressBar {
  private done_ = 0;
  private lastDraw = 0;
  private readonly t0 = performance.now();

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {}

  /** Records `n` more completed units and redraws at most 5 times a second (every 5 s without a TTY). */
  tick(n = 1): void {
    this.done_ += n;
    const now = performance.now();
    const every = this.stream.isTTY ? 200 : 5000;
    if (now - this.lastDraw >= every || this.done_ === this.total) {
      this.lastDraw = now;
      this.draw(now);
    }
  }

  private draw(now: number): void {
    if (!enabled) return;
    const elapsed = (now - this.t0) / 1000;
    const rate = this.done_ / Math.max(elapsed, 1e-3);
    const eta = rate > 0 ? (this.total - this.done_) / rate : 0;
    const width = 30;
    // The work can grow while it is done (a backlog that new events join): the bar stays within its width.
    const filled = Math.min(width, Math.max(0, Math.round((this.done_ / Math.max(1, this.total)) * width)));
    const line = `${this.label} [${"#".repeat(filled)}${".".repeat(width - filled)}] ${this.done_}/${this.total} ${Math.round(rate)}/s ETA ${Math.round(eta)}s`;
    if (this.stream.isTTY) this.stream.write(`\r${line}`);
    else this.stream.write(`${line}\n`);
  }

  /** Draws the final state and ends the line. */
  done(): void {
    this.draw(performance.now());
    if (enabled && this.stream.isTTY) this.stream.write("\n");
  }
}
