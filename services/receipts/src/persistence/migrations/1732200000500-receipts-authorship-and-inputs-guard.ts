import type { MigrationInterface, QueryRunner } from "typeorm";
import { RECEIPTS_APP_ROLE } from "./1732200000000-receipts-schema.js";

/** The columns the service may give a new receipt: every one but `seq` (generated), defaults and `created_xid`. */
const INSERTABLE_RECEIPT_COLUMNS = `receipt_id, segment_id, workflow_version, prompt_text, negative_prompt, cfg_scale, seed, steps,
  sampler, resolution_width, resolution_height, additional_params, inputs_hash, generation_started_at, regeneration_job_id,
  supersedes_segment_id, idempotency_key, request_fingerprint, recorded_by`;

/**
 * Who recorded and who completed each receipt (the token's `sub`: `recorded_by`, immutable; `completed_by`, set with
 * the completion), and inputs that can only be written by the transaction that creates their receipt.
 *
 * `created_xid` is the creating transaction's id (xid8: 64-bit, never reused), set by its default and by nothing else:
 * the service role may insert every other column but not this one, and no role may change it (the immutability
 * trigger). A statement trigger on receipt_inputs refuses rows whose receipt was not created by the current
 * transaction, so the role cannot add an input to a receipt that exists — running or completed — and receipts written
 * before this migration (NULL) take no input ever again. One set-based check per INSERT: the batch paths stay a handful of
 * statements.
 */
export class ReceiptsAuthorshipAndInputsGuard1732200000500 implements MigrationInterface {
  name = "ReceiptsAuthorshipAndInputsGuard1732200000500";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE receipts.generation_receipts
        ADD COLUMN recorded_by  text,
        ADD COLUMN completed_by text,
        ADD COLUMN created_xid  xid8;
      -- Set apart from ADD COLUMN so existing rows keep NULL (no table rewrite) and new rows get their transaction.
      ALTER TABLE receipts.generation_receipts ALTER COLUMN created_xid SET DEFAULT pg_current_xact_id();

      CREATE OR REPLACE FUNCTION receipts.guard_receipt_update() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF (NEW.receipt_id, NEW.seq, NEW.segment_id, NEW.workflow_version, NEW.prompt_text, NEW.negative_prompt,
            NEW.cfg_scale, NEW.seed, NEW.steps, NEW.sampler, NEW.resolution_width, NEW.resolution_height,
            NEW.additional_params, NEW.inputs_hash, NEW.generation_started_at, NEW.regeneration_job_id,
            NEW.supersedes_segment_id, NEW.idempotency_key, NEW.request_fingerprint, NEW.created_at,
            NEW.recorded_by, NEW.created_xid)
           IS DISTINCT FROM
           (OLD.receipt_id, OLD.seq, OLD.segment_id, OLD.workflow_version, OLD.prompt_text, OLD.negative_prompt,
            OLD.cfg_scale, OLD.seed, OLD.steps, OLD.sampler, OLD.resolution_width, OLD.resolution_height,
            OLD.additional_params, OLD.inputs_hash, OLD.generation_started_at, OLD.regeneration_job_id,
            OLD.supersedes_segment_id, OLD.idempotency_key, OLD.request_fingerprint, OLD.created_at,
            OLD.recorded_by, OLD.created_xid) THEN
          RAISE EXCEPTION 'generation receipt % is immutable: only completion fields may be set', OLD.receipt_id
            USING ERRCODE = 'P0001', HINT = 'receipt_immutable';
        END IF;
        IF OLD.status <> 'RUNNING' OR OLD.generation_completed_at IS NOT NULL THEN
          RAISE EXCEPTION 'generation receipt % is already completed', OLD.receipt_id
            USING ERRCODE = 'P0001', HINT = 'receipt_already_completed';
        END IF;
        RETURN NEW;
      END $$;

      CREATE FUNCTION receipts.guard_inputs_insert() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        receipt_ids uuid[];
        created_now integer;
      BEGIN
        SELECT array_agg(DISTINCT receipt_id) INTO receipt_ids FROM new_inputs;
        SELECT count(*) INTO created_now FROM receipts.generation_receipts r
         WHERE r.receipt_id = ANY (receipt_ids) AND r.created_xid = pg_current_xact_id();
        IF created_now <> coalesce(cardinality(receipt_ids), 0) THEN
          RAISE EXCEPTION 'receipt inputs can only be written in the transaction that creates their receipt'
            USING ERRCODE = 'P0001', HINT = 'receipt_immutable';
        END IF;
        RETURN NULL;
      END $$;
      CREATE TRIGGER receipt_inputs_with_their_receipt AFTER INSERT ON receipts.receipt_inputs
        REFERENCING NEW TABLE AS new_inputs
        FOR EACH STATEMENT EXECUTE FUNCTION receipts.guard_inputs_insert();

      REVOKE INSERT ON receipts.generation_receipts FROM ${RECEIPTS_APP_ROLE};
      GRANT INSERT (${INSERTABLE_RECEIPT_COLUMNS}) ON receipts.generation_receipts TO ${RECEIPTS_APP_ROLE};
      GRANT UPDATE (completed_by) ON receipts.generation_receipts TO ${RECEIPTS_APP_ROLE};
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      REVOKE UPDATE (completed_by) ON receipts.generation_receipts FROM ${RECEIPTS_APP_ROLE};
      REVOKE INSERT (${INSERTABLE_RECEIPT_COLUMNS}) ON receipts.generation_receipts FROM ${RECEIPTS_APP_ROLE};
      GRANT INSERT ON receipts.generation_receipts TO ${RECEIPTS_APP_ROLE};
      DROP TRIGGER receipt_inputs_with_their_receipt ON receipts.receipt_inputs;
      DROP FUNCTION receipts.guard_inputs_insert();
      ALTER TABLE receipts.generation_receipts DROP COLUMN created_xid, DROP COLUMN completed_by, DROP COLUMN recorded_by;
    `);
  }
}
