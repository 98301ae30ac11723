/** The open WatchStaleness streams of one server, indexed by project and counted per caller against the bounds. */
import { admitStream, type WatchLimits } from "../domain/watch-bounds.js";
import type { Watcher } from "./watcher.js";

/**
 * Who gets a change of a project: a direct lookup of the project's watchers plus the watchers of every project, never
 * a scan of all of them. A watcher holds its slot (in the total and its caller's count) from {@link add} to
 * {@link remove}; {@link unroute} only stops changes reaching it.
 */
export class WatcherRegistry {
  private readonly byProject = new Map<string, Set<Watcher>>();
  private readonly everyProject = new Set<Watcher>();
  private readonly byCaller = new Map<string, number>();
  private readonly slots = new Set<Watcher>();

  constructor(private readonly limits: WatchLimits) {}

  /** Streams holding a slot. */
  get size(): number {
    return this.slots.size;
  }

  /** Takes a slot for `watcher` and routes its projects' changes to it; throws WatchLimitReached past a bound. */
  add(watcher: Watcher): void {
    const refused = admitStream({ total: this.slots.size, ofCaller: this.byCaller.get(watcher.caller) ?? 0 }, this.limits);
    if (refused) throw refused;
    this.slots.add(watcher);
    this.byCaller.set(watcher.caller, (this.byCaller.get(watcher.caller) ?? 0) + 1);
    if (watcher.projects === undefined) {
      this.everyProject.add(watcher);
      return;
    }
    for (const project of watcher.projects) {
      let set = this.byProject.get(project);
      if (!set) this.byProject.set(project, (set = new Set()));
      set.add(watcher);
    }
  }

  /** Stops routing changes to `watcher`; it keeps its slot. */
  unroute(watcher: Watcher): void {
    if (watcher.projects === undefined) {
      this.everyProject.delete(watcher);
      return;
    }
    for (const project of watcher.projects) {
      const set = this.byProject.get(project);
      if (!set) continue;
      set.delete(watcher);
      if (set.size === 0) this.byProject.delete(project);
    }
  }

  /** Frees the slot of `watcher` and stops routing to it; a second call does nothing. */
  remove(watcher: Watcher): void {
    if (!this.slots.delete(watcher)) return;
    this.unroute(watcher);
    const left = (this.byCaller.get(watcher.caller) ?? 1) - 1;
    if (left === 0) this.byCaller.delete(watcher.caller);
    else this.byCaller.set(watcher.caller, left);
  }

  /** The watchers a change of `projectId` goes to: that project's, then every project's. */
  *routesOf(projectId: string): Generator<Watcher> {
    const own = this.byProject.get(projectId);
    if (own) yield* own;
    yield* this.everyProject;
  }

  /** Every watcher holding a slot. */
  all(): IterableIterator<Watcher> {
    return this.slots.values();
  }
}
