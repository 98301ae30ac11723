import type { MigrationInterface, QueryRunner } from "typeorm";
import { RECEIPTS_APP_ROLE } from "./1732200000000-receipts-schema.js";

/** The receipt log's tables that only ever grow: leaves, tree nodes and signed checkpoints. */
const LOG_TABLES = ["receipt_log_leaves", "receipt_log_nodes", "receipt_log_checkpoints"] as const;

/**
 * The receipt log (ARCHITECTURE.md, "The receipt log"): a queue of leaves to integrate and the log itself.
 *
 * - `receipt_log_queue` gets one row per receipt event from statement triggers on generation_receipts, in the very
 *   transaction that inserts (`receipt.created`, whatever path inserts the row) or completes (`receipt.completed`) the
 *   receipt. `xid` is that transaction's id (its default, as `created_xid`): the integrator takes the committed rows
 *   in xid order (docs/decisions/0007-receipt-log-order.md) and deletes them in the transaction that appends their
 *   leaves.
 * - `receipt_log_leaves` (the exact leaf bytes by index), `receipt_log_nodes` (every node of every complete subtree,
 *   level 0 the leaf hashes: the shared tree store's table) and `receipt_log_checkpoints` (each signed note by tree
 *   size; the largest is the log's head) are append-only: receipts_app may only SELECT and INSERT them, and row and
 *   TRUNCATE triggers refuse UPDATE, DELETE and TRUNCATE to every role, the owner included, unless triggers are
 *   switched off — which the auditor and any verifier holding a checkpoint then catch.
 */
export class ReceiptLog1732200000900 implements MigrationInterface {
  name = "ReceiptLog1732200000900";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE receipts.receipt_log_queue (
        id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        xid        xid8 NOT NULL DEFAULT pg_current_xact_id(),
        receipt_id uuid NOT NULL,
        event      text NOT NULL CHECK (event IN ('receipt.created', 'receipt.completed'))
      );
      CREATE INDEX receipt_log_queue_order_idx ON receipts.receipt_log_queue (xid, id);
      CREATE INDEX receipt_log_queue_receipt_idx ON receipts.receipt_log_queue (receipt_id);

      CREATE TABLE receipts.receipt_log_leaves (
        leaf_index    bigint PRIMARY KEY CHECK (leaf_index >= 0),
        receipt_id    uuid NOT NULL,
        event         text NOT NULL CHECK (event IN ('receipt.created', 'receipt.completed')),
        leaf          text NOT NULL,
        integrated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX receipt_log_leaves_receipt_idx ON receipts.receipt_log_leaves (receipt_id, leaf_index);

      CREATE TABLE receipts.receipt_log_nodes (
        level smallint NOT NULL CHECK (level >= 0),
        idx   bigint NOT NULL CHECK (idx >= 0),
        hash  bytea NOT NULL CHECK (octet_length(hash) = 32),
        PRIMARY KEY (level, idx)
      );

      CREATE TABLE receipts.receipt_log_checkpoints (
        tree_size bigint PRIMARY KEY CHECK (tree_size >= 0),
        root_hash bytea NOT NULL CHECK (octet_length(root_hash) = 32),
        note      text NOT NULL,
        signed_at timestamptz NOT NULL DEFAULT now()
      );

      CREATE FUNCTION receipts.receipt_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'the receipt log is append-only: % on % refused', TG_OP, TG_TABLE_NAME
          USING ERRCODE = 'P0001', HINT = 'receipt_log_append_only';
      END $$;
      ${LOG_TABLES.map(
        (t) => `
      CREATE TRIGGER ${t}_append_only BEFORE UPDATE OR DELETE ON receipts.${t}
        FOR EACH ROW EXECUTE FUNCTION receipts.receipt_log_append_only();
      CREATE TRIGGER ${t}_no_truncate BEFORE TRUNCATE ON receipts.${t}
        FOR EACH STATEMENT EXECUTE FUNCTION receipts.receipt_log_append_only();`,
      ).join("")}

      CREATE FUNCTION receipts.queue_receipts_created() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO receipts.receipt_log_queue (receipt_id, event)
        SELECT receipt_id, 'receipt.created' FROM new_receipts ORDER BY seq;
        RETURN NULL;
      END $$;
      CREATE TRIGGER generation_receipts_log_created AFTER INSERT ON receipts.generation_receipts
        REFERENCING NEW TABLE AS new_receipts
        FOR EACH STATEMENT EXECUTE FUNCTION receipts.queue_receipts_created();

      CREATE FUNCTION receipts.queue_receipts_completed() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO receipts.receipt_log_queue (receipt_id, event)
        SELECT n.receipt_id, 'receipt.completed'
          FROM new_receipts n JOIN old_receipts o ON o.receipt_id = n.receipt_id
         WHERE o.status = 'RUNNING' AND n.status <> 'RUNNING'
         ORDER BY n.seq;
        RETURN NULL;
      END $$;
      CREATE TRIGGER generation_receipts_log_completed AFTER UPDATE ON receipts.generation_receipts
        REFERENCING OLD TABLE AS old_receipts NEW TABLE AS new_receipts
        FOR EACH STATEMENT EXECUTE FUNCTION receipts.queue_receipts_completed();

      GRANT SELECT, INSERT, DELETE ON receipts.receipt_log_queue TO ${RECEIPTS_APP_ROLE};
      GRANT SELECT, INSERT ON ${LOG_TABLES.map((t) => `receipts.${t}`).join(", ")} TO ${RECEIPTS_APP_ROLE};
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TRIGGER generation_receipts_log_completed ON receipts.generation_receipts;
      DROP TRIGGER generation_receipts_log_created ON receipts.generation_receipts;
      DROP FUNCTION receipts.queue_receipts_completed();
      DROP FUNCTION receipts.queue_receipts_created();
      DROP TABLE ${LOG_TABLES.map((t) => `receipts.${t}`).join(", ")}, receipts.receipt_log_queue;
      DROP FUNCTION receipts.receipt_log_append_only();
    `);
  }
}
