import type { MigrationInterface, QueryRunner } from "typeorm";
import { STALENESS_APP_ROLE } from "./1732300000000-staleness-schema.js";

/**
 * Pins (StalenessService.PinSegments): a scene's segments, or listed ones, held on an older version of an asset on
 * purpose. The staleness rule (statements.ts) waives an active input when an open pin of its project names its asset,
 * its hash (`content_hash`, the pinned version's) and its scene or segment, the asset is on the pin's
 * `accepted_version` (its current version when pinned) and the pin has not expired. Pins are never deleted: an unpin
 * stamps `unpinned_at`, an expiry the expiry timer's `expiry_detected_at` (in the transaction that enqueues its event).
 */
export class Pins1732300000006 implements MigrationInterface {
  name = "Pins1732300000006";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE staleness.pins (
        pin_id             text PRIMARY KEY,
        project_id         text NOT NULL,
        -- NULL: a pin of the segments in staleness.pin_segments.
        scene_id           text,
        asset_id           text NOT NULL REFERENCES staleness.assets (asset_id),
        version            integer NOT NULL,
        -- The pinned version's hash, copied so the rule compares inputs with it directly.
        content_hash       char(64) NOT NULL,
        accepted_version   integer NOT NULL,
        reason             text NOT NULL,
        pinned_by          text NOT NULL,
        expires_at         timestamptz,
        created_at         timestamptz NOT NULL DEFAULT now(),
        unpinned_at        timestamptz,
        unpinned_by        text,
        -- The expiry timer has enqueued this pin's expiry (once).
        expiry_detected_at timestamptz,
        FOREIGN KEY (asset_id, version) REFERENCES staleness.asset_versions (asset_id, version),
        FOREIGN KEY (asset_id, accepted_version) REFERENCES staleness.asset_versions (asset_id, version),
        CONSTRAINT pinned_is_not_accepted CHECK (version <> accepted_version)
      );
      -- The rule's probe: the open pins of one (project, asset, hash).
      CREATE INDEX pins_open_idx ON staleness.pins (project_id, asset_id, content_hash) WHERE unpinned_at IS NULL;
      -- ListPins, newest first (pin ids start with their creation time).
      CREATE INDEX pins_project_idx ON staleness.pins (project_id, pin_id);
      -- The expiry timer's queue.
      CREATE INDEX pins_expiry_idx ON staleness.pins (expires_at)
        WHERE unpinned_at IS NULL AND expiry_detected_at IS NULL AND expires_at IS NOT NULL;

      CREATE TABLE staleness.pin_segments (
        pin_id     text NOT NULL REFERENCES staleness.pins (pin_id),
        segment_id text NOT NULL,
        PRIMARY KEY (pin_id, segment_id)
      );

      GRANT SELECT, INSERT ON staleness.pins, staleness.pin_segments TO ${STALENESS_APP_ROLE};
      GRANT UPDATE (unpinned_at, unpinned_by, expiry_detected_at) ON staleness.pins TO ${STALENESS_APP_ROLE};
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TABLE staleness.pin_segments;
      DROP TABLE staleness.pins;
    `);
  }
}
