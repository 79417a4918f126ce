/**
 * Limits shared by the DTOs, the entity's CHECK constraints and the migrations. Lengths are
 * counted in Unicode code points, as PostgreSQL's char_length() counts them in a UTF-8 database.
 */
export const TITLE_MAX_LENGTH = 200;
export const DESCRIPTION_MAX_LENGTH = 2000;

export const LIST_LIMIT_DEFAULT = 20;
export const LIST_LIMIT_MAX = 100;
