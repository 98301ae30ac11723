/** The PostgreSQL schema this service owns (its tables, its outbox, its migrations table). */
export const RECEIPTS_SCHEMA = "receipts";
