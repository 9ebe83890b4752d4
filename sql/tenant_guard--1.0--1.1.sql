/* tenant_guard--1.0--1.1.sql: ALTER EXTENSION tenant_guard UPDATE TO '1.1' */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION tenant_guard UPDATE TO '1.1'" to load this file. \quit

-- Every change here is also in tenant_guard--1.1.sql (a fresh install);
-- test/t/010_upgrade.pl proves that an updated 1.0 equals a fresh 1.1.

-- Rate limits: normalize_email() (the same C function) now folds look-alike
-- spellings of an address into one key.
COMMENT ON FUNCTION tenant_guard.normalize_email(text) IS
  'The key an e-mail address is counted under by the per-email rate limit: trimmed, case-folded, +tag cut, gmail dots removed, look-alike spellings folded (invisible characters dropped, NFKC, letters that look Latin read as Latin, the domain as IDNA maps it); NULL for an empty address';
