/** The PostgreSQL schema this service owns. */
export const STALENESS_SCHEMA = "staleness";
