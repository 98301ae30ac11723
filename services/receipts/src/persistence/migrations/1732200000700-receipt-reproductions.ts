import type { MigrationInterface, QueryRunner } from "typeorm";
import { RECEIPTS_APP_ROLE } from "./1732200000000-receipts-schema.js";

/**
 * Which receipt a receipt reproduces (`reproduction_of_receipt_id`, RegenerationService.ReproduceSegment): set when
 * the receipt is created, never changed. The column is immutable through a trigger of its own, so this migration
 * does not have to restate the column list of `guard_receipt_update` (which other migrations may replace). No foreign
 * key: the service checks the receipt exists in the same project when it records the reproduction, and a foreign key
 * would tie the deletion of the original's segment (its cascade) to its reproductions.
 */
export class ReceiptReproductions1732200000700 implements MigrationInterface {
  name = "ReceiptReproductions1732200000700";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE receipts.generation_receipts ADD COLUMN reproduction_of_receipt_id uuid;

      CREATE FUNCTION receipts.guard_reproduction_of_update() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'generation receipt % is immutable: only completion fields may be set', OLD.receipt_id
          USING ERRCODE = 'P0001', HINT = 'receipt_immutable';
      END $$;
      CREATE TRIGGER generation_receipts_reproduction_of_immutable BEFORE UPDATE ON receipts.generation_receipts
        FOR EACH ROW WHEN (OLD.reproduction_of_receipt_id IS DISTINCT FROM NEW.reproduction_of_receipt_id)
        EXECUTE FUNCTION receipts.guard_reproduction_of_update();

      GRANT INSERT (reproduction_of_receipt_id) ON receipts.generation_receipts TO ${RECEIPTS_APP_ROLE};
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      REVOKE INSERT (reproduction_of_receipt_id) ON receipts.generation_receipts FROM ${RECEIPTS_APP_ROLE};
      DROP TRIGGER generation_receipts_reproduction_of_immutable ON receipts.generation_receipts;
      DROP FUNCTION receipts.guard_reproduction_of_update();
      ALTER TABLE receipts.generation_receipts DROP COLUMN reproduction_of_receipt_id;
    `);
  }
}
